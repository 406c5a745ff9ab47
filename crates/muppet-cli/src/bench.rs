//! `muppet bench train-step`: the train-step benchmark on fixed shapes, with
//! the same flags and JSON as `bench/torch_train_step.py`.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use muppet_model::{load_pretrained, EncoderConfig, MixedPrecision};
use muppet_train::backend::{BackendKind, OnBackend};
use muppet_train::bench::{train_step, TrainStepBench, TrainStepResult};

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Time forward + backward + AdamW update of an encoder with a classification head.
    TrainStep(TrainStepArgs),
    /// Time real pre-finetuning updates on a real task mixture (tokenized cache, length
    /// buckets); `--dump` writes the tokenized examples for `bench/torch_mixture.py`.
    Mixture(MixtureArgs),
    /// Time the data pipeline alone: import, tokenize (no cache), and pad every example
    /// into length-bucketed batches.
    Data(DataArgs),
}

#[derive(Args)]
pub struct DataArgs {
    /// A task (repeat).
    #[arg(long = "task", required = true)]
    tasks: Vec<String>,
    #[arg(long, default_value_t = 16)]
    batch_size: usize,
    #[arg(long, default_value_t = 128)]
    max_len: usize,
    #[arg(long)]
    json: bool,
}

fn data(args: DataArgs) -> anyhow::Result<()> {
    use std::time::Instant;
    let home = crate::home();
    let model = muppet_data::assets::model_dir(home.assets());
    let t0 = Instant::now();
    let tasks = crate::launch::load_tasks(&home, &args.tasks)?;
    let import_s = t0.elapsed().as_secs_f64();
    let text = muppet_data::tokenize::TextEncoder::from_file(&model.join("tokenizer.json"), args.max_len)?;
    let t1 = Instant::now();
    let items: Vec<Vec<muppet_data::tokenize::Item>> = tasks.iter().map(|t| text.encode_task(t)).collect::<Result<_, _>>()?;
    let tokenize_s = t1.elapsed().as_secs_f64();
    let t2 = Instant::now();
    let lengths: Vec<Vec<usize>> = items.iter().map(|it| it.iter().map(|i| i.max_len()).collect()).collect();
    let sizes: Vec<usize> = items.iter().map(Vec::len).collect();
    let mut sampler = muppet_train::mixture::TaskSampler::new(&sizes, muppet_data::mixture::Sampling::Natural, None, 0).with_length_buckets(lengths);
    let (mut padded_tokens, mut real_tokens) = (0usize, 0usize);
    for (t, task_items) in items.iter().enumerate() {
        for _ in 0..task_items.len().div_ceil(args.batch_size) {
            let picks = sampler.examples(t, args.batch_size);
            let seqs: Vec<&muppet_data::tokenize::TokenSeq> = picks.iter().flat_map(|&i| task_items[i].seqs.iter()).collect();
            let batch = muppet_data::tokenize::pad(&seqs, text.pad_id());
            padded_tokens += batch.batch * batch.seq;
            real_tokens += seqs.iter().map(|s| s.len()).sum::<usize>();
        }
    }
    let batch_s = t2.elapsed().as_secs_f64();
    let examples: usize = tasks.iter().map(|t| t.examples.len()).sum();
    let total = import_s + tokenize_s + batch_s;
    let out = serde_json::json!({
        "tasks": args.tasks, "examples": examples, "items": sizes.iter().sum::<usize>(),
        "import_s": import_s, "tokenize_s": tokenize_s, "batch_s": batch_s,
        "examples_per_sec": examples as f64 / total, "padding_share": 1.0 - real_tokens as f64 / padded_tokens.max(1) as f64,
        "threads": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
    });
    if args.json {
        println!("{out}");
    } else {
        println!(
            "{examples} examples: import {import_s:.2} s, tokenize {tokenize_s:.2} s, batch {batch_s:.2} s = {:.0} examples/s; padding {:.1}% of batch tokens",
            examples as f64 / total,
            100.0 * (1.0 - real_tokens as f64 / padded_tokens.max(1) as f64)
        );
    }
    Ok(())
}

#[derive(Args)]
pub struct MixtureArgs {
    /// Model folder (default: the embedded all-MiniLM-L6-v2).
    #[arg(long)]
    model: Option<PathBuf>,
    /// A classification task of the mixture (repeat).
    #[arg(long = "task", required = true)]
    tasks: Vec<String>,
    #[arg(long, default_value_t = 16)]
    batch_size: usize,
    #[arg(long, default_value_t = 1)]
    tasks_per_update: usize,
    #[arg(long, default_value_t = 128)]
    max_len: usize,
    /// Timed updates.
    #[arg(long, default_value_t = 30)]
    steps: u64,
    /// Untimed updates first.
    #[arg(long, default_value_t = 5)]
    warmup: u64,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Draw batches without length buckets (dynamic padding only).
    #[arg(long)]
    no_buckets: bool,
    /// Write the tokenized examples (JSON lines) for the PyTorch reference, then exit.
    #[arg(long)]
    dump: Option<PathBuf>,
    #[arg(long, default_value = "cpu")]
    backend: String,
    /// no, or bf16: matrix products in bf16 over f32 weights (with --backend cuda or cpu).
    #[arg(long, default_value = "no")]
    mixed_precision: MixedPrecision,
    #[arg(long)]
    json: bool,
}

/// The real-data benchmark on whichever backend `on_backend` picks.
struct TimedMixture<'a> {
    job: muppet_train::TrainJob<'a>,
    warmup: u64,
}

impl OnBackend for TimedMixture<'_> {
    type Output = anyhow::Result<muppet_train::bench::MixtureResult>;
    fn run<B: burn::tensor::backend::AutodiffBackend>(self, device: B::Device) -> Self::Output {
        let mut clock = muppet_train::bench::MixtureClock::new(self.warmup);
        muppet_train::train::<B>(&self.job, &device, &mut clock)?;
        clock.result().context("the run ended before the timed updates")
    }
}

/// Write each task's tokenized examples as JSON lines: `{"task", "n_classes", "ids",
/// "type_ids", "label"}`.
fn dump(model: &std::path::Path, tasks: &[muppet_data::LabeledTask], max_len: usize, path: &std::path::Path) -> anyhow::Result<()> {
    use std::io::Write;
    let text = muppet_data::tokenize::TextEncoder::from_file(&model.join("tokenizer.json"), max_len)?;
    let partial = path.with_extension("partial");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&partial).with_context(|| format!("creating {}", partial.display()))?);
    for (t, task) in tasks.iter().enumerate() {
        for item in text.encode_task(task)? {
            let muppet_data::tokenize::ItemTarget::Class(label) = item.target else { continue };
            let line = serde_json::json!({"task": t, "n_classes": task.spec.labels.len(), "ids": item.seqs[0].ids, "type_ids": item.seqs[0].type_ids, "label": label});
            writeln!(out, "{line}")?;
        }
    }
    out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    std::fs::rename(&partial, path)?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

fn mixture(args: MixtureArgs) -> anyhow::Result<()> {
    let backend: BackendKind = args.backend.parse()?;
    backend.check_mixed_precision(args.mixed_precision)?;
    let home = crate::home();
    home.ensure()?;
    let model = match &args.model {
        Some(dir) => dir.clone(),
        None => muppet_data::assets::model_dir(home.assets()),
    };
    let tasks = crate::launch::load_tasks(&home, &args.tasks)?;
    if let Some(t) = tasks.iter().find(|t| !t.spec.family.is_classification()) {
        anyhow::bail!("task `{}` is a {} task: the mixture benchmark compares classification mixtures", t.spec.name, t.spec.family.as_str());
    }
    if let Some(path) = &args.dump {
        return dump(&model, &tasks, args.max_len, path);
    }
    let cfg = muppet_train::TrainConfig {
        steps: args.warmup + args.steps,
        batch_size: args.batch_size,
        tasks_per_update: args.tasks_per_update,
        max_len: args.max_len,
        seed: args.seed,
        length_buckets: !args.no_buckets,
        // Dev is scored before and after only, on 2 examples per task: not in the timing.
        dev_size: 2,
        eval_every: 0,
        mixed_precision: args.mixed_precision,
        ..muppet_train::TrainConfig::default()
    };
    let cache = home.token_cache();
    let dev_tasks = crate::launch::load_dev_tasks(&home, &tasks)?;
    let job = muppet_train::TrainJob {
        model_dir: &model,
        tasks: &tasks,
        dev_tasks: &dev_tasks,
        cfg: &cfg,
        run: muppet_core::RunId(0),
        run_dir: None,
        init: muppet_train::Init::Base,
        resume: false,
        cancel: None,
        stop: None,
        cache_dir: Some(&cache),
        nodes: None,
    };
    let threads = std::env::var("RAYON_NUM_THREADS").ok().and_then(|v| v.parse().ok()).unwrap_or_else(|| {
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    });
    let result = crate::on_backend(&home, backend, TimedMixture { job, warmup: args.warmup })??;
    let out = serde_json::json!({
        "impl": "muppet", "backend": backend.name(), "mixed_precision": args.mixed_precision, "threads": threads, "tasks": args.tasks,
        "batch_size": args.batch_size, "tasks_per_update": args.tasks_per_update, "max_len": args.max_len,
        "length_buckets": !args.no_buckets, "steps": args.steps, "examples": result.examples,
        "seconds": result.seconds, "examples_per_sec": result.examples_per_sec,
    });
    if args.json {
        println!("{out}");
    } else {
        println!("{:.1} examples/s ({} examples in {:.1} s)", result.examples_per_sec, result.examples, result.seconds);
    }
    Ok(())
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
    /// cpu, cuda, or cuda-f16 / cuda-bf16 (every float in half precision).
    #[arg(long, default_value = "cpu")]
    backend: String,
    /// Wait for the device between forward, backward and update, and report each one's time.
    #[arg(long)]
    phases: bool,
    /// no, or bf16: matrix products in bf16 over f32 weights and optimizer state (with
    /// --backend cuda or cpu), as PyTorch's bf16 autocast.
    #[arg(long, default_value = "no")]
    mixed_precision: MixedPrecision,
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
    let args = match command {
        BenchCommand::TrainStep(args) => args,
        BenchCommand::Mixture(args) => return mixture(args),
        BenchCommand::Data(args) => return data(args),
    };
    let backend: BackendKind = args.backend.parse()?;
    let config = match (&args.model, &args.preset) {
        (Some(dir), _) => EncoderConfig::from_hf_json(&dir.join("config.json"))?,
        (None, Some(name)) => preset(name)?,
        (None, None) => anyhow::bail!("give --model DIR or --preset minilm-l6|roberta-base"),
    };
    anyhow::ensure!(args.steps > 0 && args.batch_size > 0 && args.max_len > 1, "steps, batch size and max length must be positive");
    backend.check_mixed_precision(args.mixed_precision)?;
    let bench = TrainStepBench {
        batch_size: args.batch_size,
        max_len: args.max_len,
        steps: args.steps,
        warmup: args.warmup,
        seed: 0,
        phases: args.phases,
        mixed_precision: args.mixed_precision,
    };
    let threads = std::env::var("RAYON_NUM_THREADS").ok().and_then(|v| v.parse().ok()).unwrap_or_else(|| {
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    });
    if !args.json {
        eprintln!("timing {} steps (after {} warmup) of batch {} x {} tokens on {}", args.steps, args.warmup, args.batch_size, args.max_len, backend.device_name());
    }
    let result = crate::on_backend(&crate::home(), backend, Bench { model: args.model.as_ref(), config, bench: bench.clone() })?
        .context("train-step benchmark")?;
    // After the steps: the CUDA pool keeps the pages the busiest step needed, and the
    // CPU's VmHWM is the process's peak, so `reserved` is the peak either way.
    let memory = muppet_train::backend::device_memory(backend);
    let mib = |b: u64| b as f64 / (1u64 << 20) as f64;
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
        "float_dtype": result.float_dtype,
        "mixed_precision": args.mixed_precision,
        "compute_dtype": result.compute_dtype,
        "peak_memory_mib": memory.map(|m| mib(m.reserved)),
        "memory_in_use_mib": memory.map(|m| mib(m.in_use)),
        "phases_ms": result.phases_ms,
    });
    if args.json {
        println!("{out}");
    } else {
        println!(
            "{:.1} examples/s, {:.0} tokens/s, {:.1} ms/step (min {:.1}), {:.2} TFLOP/s, {} parameters, peak memory {}",
            result.examples_per_sec,
            result.tokens_per_sec,
            result.step_ms_mean,
            result.step_ms_min,
            result.achieved_tflops,
            result.parameters,
            memory.map_or("unknown".to_string(), |m| format!("{:.0} MiB", mib(m.reserved)))
        );
        if let Some(p) = result.phases_ms {
            println!("forward {:.1} ms, backward {:.1} ms, update {:.1} ms", p.forward, p.backward, p.update);
        }
    }
    Ok(())
}
