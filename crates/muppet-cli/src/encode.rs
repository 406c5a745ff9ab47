//! `muppet encode --model DIR (--text T [--text-b T2] | --input FILE) [--max-len L] [--json]`:
//! the last hidden states of a Hugging Face folder (a base model or an export) for some text,
//! computed by Muppet's own encoder, so they can be compared with `transformers`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use burn::backend::Flex;
use burn::tensor::{Int, Tensor, TensorData};
use clap::Args;
use muppet_model::{load_pretrained, Encoder, EncoderInput};
use serde_json::json;
use tokenizers::Tokenizer;

type B = Flex;

#[derive(Args)]
pub struct EncodeArgs {
    /// A Hugging Face model folder: config.json, model.safetensors and tokenizer.json.
    #[arg(long)]
    model: PathBuf,
    /// The text to encode.
    #[arg(long, required_unless_present = "input", conflicts_with = "input")]
    text: Option<String>,
    /// Second text of a pair (sentence B).
    #[arg(long, requires = "text")]
    text_b: Option<String>,
    /// A file with one text per line; a tab separates the two texts of a pair. Prints one
    /// JSON object per line.
    #[arg(long)]
    input: Option<PathBuf>,
    /// Longest input in tokens, special tokens included (default: what the model allows).
    #[arg(long)]
    max_len: Option<usize>,
    /// Print JSON: {"shape": [1, seq, hidden], "hidden": [...], "input_ids": [...]}.
    #[arg(long)]
    json: bool,
}

pub fn run(args: EncodeArgs) -> anyhow::Result<()> {
    let inputs = match (&args.input, &args.text) {
        (Some(path), _) => read_inputs(path)?,
        (None, Some(text)) => vec![(text.clone(), args.text_b.clone())],
        (None, None) => anyhow::bail!("give --text or --input"),
    };
    let device = Default::default();
    let (encoder, config) = load_pretrained::<B>(&args.model, &device)?;
    let max_len = args.max_len.unwrap_or_else(|| config.max_sequence_length());
    anyhow::ensure!(max_len >= 2, "--max-len must leave room for the special tokens (at least 2)");
    let tokenizer = load_tokenizer(&args.model, max_len)?;
    let json_lines = args.json || args.input.is_some();
    for (a, b) in &inputs {
        let encoding = match b {
            Some(b) => tokenizer.encode((a.as_str(), b.as_str()), true),
            None => tokenizer.encode(a.as_str(), true),
        }
        .map_err(|e| anyhow::anyhow!("tokenizing {a:?}: {e}"))?;
        let ids: Vec<i64> = encoding.get_ids().iter().map(|&i| i as i64).collect();
        let types: Vec<i64> = encoding.get_type_ids().iter().map(|&i| i as i64).collect();
        let (shape, hidden) = encode(&encoder, &ids, &types, &device)?;
        if json_lines {
            println!("{}", json!({ "shape": shape, "hidden": hidden, "input_ids": ids }));
        } else {
            print_summary(a, b.as_deref(), &ids, shape, &hidden);
        }
    }
    Ok(())
}

/// `(text, text_b)` per non-empty line of `path`.
fn read_inputs(path: &Path) -> anyhow::Result<Vec<(String, Option<String>)>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read the input file {}", path.display()))?;
    let inputs: Vec<_> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| match l.split_once('\t') {
            Some((a, b)) => (a.to_string(), Some(b.to_string())),
            None => (l.to_string(), None),
        })
        .collect();
    anyhow::ensure!(!inputs.is_empty(), "{} has no text: write one text per line (a tab separates a pair)", path.display());
    Ok(inputs)
}

/// The folder's `tokenizer.json`, without the padding some ship with, truncating to `max_len`.
fn load_tokenizer(dir: &Path, max_len: usize) -> anyhow::Result<Tokenizer> {
    let path = dir.join("tokenizer.json");
    anyhow::ensure!(
        path.is_file(),
        "{} not found: `muppet encode` needs the model's tokenizer.json beside its config.json (base models from `muppet assets fetch --model` and exports from `muppet export` have it)",
        path.display()
    );
    let mut tokenizer = Tokenizer::from_file(&path).map_err(|e| anyhow::anyhow!("cannot read the tokenizer {}: {e}", path.display()))?;
    tokenizer.with_padding(None);
    tokenizer
        .with_truncation(Some(tokenizers::TruncationParams {
            max_length: max_len,
            strategy: tokenizers::TruncationStrategy::LongestFirst,
            ..Default::default()
        }))
        .map_err(|e| anyhow::anyhow!("cannot set truncation on {}: {e}", path.display()))?;
    Ok(tokenizer)
}

/// Last hidden states of one unpadded sequence: `[1, seq, hidden]` and the values, row-major.
fn encode(encoder: &Encoder<B>, ids: &[i64], types: &[i64], device: &burn::tensor::Device<B>) -> anyhow::Result<([usize; 3], Vec<f32>)> {
    let seq = ids.len();
    let ints = |v: Vec<i64>| Tensor::<B, 2, Int>::from_data(TensorData::new(v, [1, seq]), device);
    let input = EncoderInput { input_ids: ints(ids.to_vec()), token_type_ids: ints(types.to_vec()), attention_mask: ints(vec![1; seq]) };
    let hidden = encoder.forward(input);
    let shape = hidden.dims();
    let values = hidden.into_data().convert::<f32>().to_vec::<f32>().map_err(|e| anyhow::anyhow!("reading the hidden states: {e:?}"))?;
    Ok((shape, values))
}

fn print_summary(a: &str, b: Option<&str>, ids: &[i64], shape: [usize; 3], hidden: &[f32]) {
    match b {
        Some(b) => println!("{a:?} / {b:?}"),
        None => println!("{a:?}"),
    }
    println!("  shape {shape:?}, input ids {ids:?}");
    let width = shape[2];
    for (t, row) in hidden.chunks(width).enumerate() {
        let head: Vec<String> = row.iter().take(4).map(|v| format!("{v:+.4}")).collect();
        println!("  token {t:>3}: [{}, ...]", head.join(", "));
    }
}
