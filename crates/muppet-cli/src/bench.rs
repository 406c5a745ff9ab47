//! `muppet bench train-step`: the train-step benchmark on fixed shapes, with
//! the same flags and JSON as `bench/torch_train_step.py`.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use muppet_model::{load_pretrained, EncoderConfig};
use muppet_train::backend::{on_backend, BackendKind, OnBackend};
use muppet_train::bench::{train_step, TrainStepBench, TrainStepResult};

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Time forward + backward + AdamW update of an encoder with a classification head.
    TrainStep(TrainStepArgs),
}

#[derive(Args)]
pub struct TrainStepArgs {
    /// A Hugging Face model folder (config.json + model.safetensors).
    #[arg(long, conflicts_with = "preset")]
    model: Option<PathBuf>,
    /// Randomly initialised shapes instead of a model folder: minilm-l6 or roberta-base.
    #[arg(long)]
    preset: Option<String>,
    #[arg(long, default_value_t = 16)]
    batch_size: usize,
    #[arg(long, default_value_t = 128)]
    max_len: usize,
    /// Timed steps.
    #[arg(long, default_value_t = 10)]
    steps: usize,
    /// Untimed steps before timing.
    #[arg(long, default_value_t = 2)]
    warmup: usize,
    /// cpu or cuda.
    #[arg(long, default_value = "cpu")]
    backend: String,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// Hugging Face configs of the shapes the benchmarks use.
fn preset(name: &str) -> anyhow::Result<EncoderConfig> {
    let (vocab, hidden, layers, heads, ffn, types, model_type, pad, positions) = match name {
        "minilm-l6" => (30522, 384, 6, 12, 1536, 2, "bert", 0, 512),
        "roberta-base" => (50265, 768, 12, 12, 3072, 1, "roberta", 1, 514),
        other => anyhow::bail!("unknown preset `{other}`: expected minilm-l6 or roberta-base"),
    };
    let json = serde_json::json!({
        "vocab_size": vocab, "hidden_size": hidden, "num_hidden_layers": layers,
        "num_attention_heads": heads, "intermediate_size": ffn, "hidden_act": "gelu",
        "max_position_embeddings": positions, "type_vocab_size": types, "layer_norm_eps": 1e-5,
        "pad_token_id": pad, "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
        "model_type": model_type, "initializer_range": 0.02,
    });
    Ok(serde_json::from_value(json)?)
}

struct Bench<'a> {
    model: Option<&'a PathBuf>,
    config: EncoderConfig,
    bench: TrainStepBench,
}

impl OnBackend for Bench<'_> {
    type Output = anyhow::Result<TrainStepResult>;
    fn run<B: burn::tensor::backend::AutodiffBackend>(self, device: B::Device) -> Self::Output {
        let encoder = match self.model {
            Some(dir) => load_pretrained::<B>(dir, &device)?.0,
            None => self.config.init::<B>(&device),
        };
        Ok(train_step::<B>(encoder, &self.config, &self.bench, &device))
    }
}

pub fn run(command: BenchCommand) -> anyhow::Result<()> {
    let BenchCommand::TrainStep(args) = command;
    let backend: BackendKind = args.backend.parse()?;
    let config = match (&args.model, &args.preset) {
        (Some(dir), _) => EncoderConfig::from_hf_json(&dir.join("config.json"))?,
        (None, Some(name)) => preset(name)?,
        (None, None) => anyhow::bail!("give --model DIR or --preset minilm-l6|roberta-base"),
    };
    anyhow::ensure!(args.steps > 0 && args.batch_size > 0 && args.max_len > 1, "steps, batch size and max length must be positive");
    let bench = TrainStepBench { batch_size: args.batch_size, max_len: args.max_len, steps: args.steps, warmup: args.warmup, seed: 0 };
    let threads = std::env::var("RAYON_NUM_THREADS").ok().and_then(|v| v.parse().ok()).unwrap_or_else(|| {
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    });
    if !args.json {
        eprintln!("timing {} steps (after {} warmup) of batch {} x {} tokens on {}", args.steps, args.warmup, args.batch_size, args.max_len, backend.device_name());
    }
    let result = on_backend(backend, Bench { model: args.model.as_ref(), config, bench: bench.clone() })?
        .context("train-step benchmark")?;
    let out = serde_json::json!({
        "impl": "muppet",
        "backend": backend.name(),
        "device": backend.device_name(),
        "threads": threads,
        "model": args.model.as_ref().map(|p| p.display().to_string()).or(args.preset.clone()),
        "batch_size": bench.batch_size,
        "max_len": bench.max_len,
        "steps": bench.steps,
        "examples_per_sec": result.examples_per_sec,
        "tokens_per_sec": result.tokens_per_sec,
        "step_ms_mean": result.step_ms_mean,
        "step_ms_min": result.step_ms_min,
        "achieved_tflops": result.achieved_tflops,
        "parameters": result.parameters,
    });
    if args.json {
        println!("{out}");
    } else {
        println!(
            "{:.1} examples/s, {:.0} tokens/s, {:.1} ms/step (min {:.1}), {:.2} TFLOP/s, {} parameters",
            result.examples_per_sec, result.tokens_per_sec, result.step_ms_mean, result.step_ms_min, result.achieved_tflops, result.parameters
        );
    }
    Ok(())
}
