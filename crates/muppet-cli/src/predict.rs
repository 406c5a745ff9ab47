//! `muppet predict RUN --task NAME (--text T [--text-b T2] [--choice C]... | --input FILE) [--step N|best]`:
//! what a checkpoint's head of one of the run's tasks says about new inputs, as Hugging Face
//! `pipeline` does: each class with its probability, a value, the choice picked, or the
//! answer read from a passage.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use muppet_core::RunId;
use muppet_train::backend::OnBackend;
use muppet_train::export::{find_checkpoint, ExportError};
use muppet_train::infer::{infer, HeadOutput, InferJob, Inferred, Input};
use muppet_train::TrainError;
use serde::Serialize;

#[derive(Args)]
pub struct PredictArgs {
    /// The run id (see `muppet runs list`).
    run: i64,
    /// The run's task whose head answers (its labels name the classes).
    #[arg(long)]
    task: String,
    /// The text: a sentence to classify, the first of a pair, the context or question of a
    /// multiple-choice task, the question of a span task.
    #[arg(long, required_unless_present = "input", conflicts_with = "input")]
    text: Option<String>,
    /// The second text of a pair; a span task's passage.
    #[arg(long, requires = "text")]
    text_b: Option<String>,
    /// A choice of a multiple-choice task (give each one: --choice A --choice B ...).
    #[arg(long = "choice", requires = "text")]
    choices: Vec<String>,
    /// A file of inputs, one JSON object per line: {"text": ..., "text_b": ..., "choices":
    /// [...]} (the fields the task reads). Prints one JSON line per input.
    #[arg(long)]
    input: Option<PathBuf>,
    /// The checkpoint of this step, or `best`: the one with the best dev score (default:
    /// the latest).
    #[arg(long)]
    step: Option<crate::best::StepArg>,
    /// Backend to predict on (cpu, cuda, ...).
    #[arg(long, default_value = "cpu")]
    backend: String,
    /// Print JSON: the run, step, task, head and one answer per input.
    #[arg(long)]
    json: bool,
}

/// What `muppet predict --json` prints.
#[derive(Serialize)]
pub struct Predicted {
    run: i64,
    step: u64,
    checkpoint: PathBuf,
    #[serde(flatten)]
    inferred: Inferred,
    inputs: Vec<Input>,
}

struct Inferring<'a> {
    job: InferJob<'a>,
    inputs: &'a [Input],
}

impl OnBackend for Inferring<'_> {
    type Output = Result<Inferred, TrainError>;
    fn run<B: burn::tensor::backend::AutodiffBackend>(self, device: B::Device) -> Self::Output {
        // The inner backend: no autodiff graph, no dropout.
        infer::<B::InnerBackend>(&self.job, self.inputs, &device)
    }
}

pub fn run(args: PredictArgs) -> anyhow::Result<()> {
    let inputs = match (&args.input, &args.text) {
        (Some(path), _) => read_inputs(path)?,
        (None, Some(text)) => vec![Input { text: text.clone(), text_b: args.text_b.clone(), choices: args.choices.clone() }],
        (None, None) => anyhow::bail!("give --text, or --input with a file of inputs"),
    };
    let home = crate::home();
    let run = RunId(args.run);
    let run_dir = home.run_dir(run);
    let step = crate::best::resolve(&home, run, args.step)?;
    let (step, checkpoint) = find_checkpoint(&run_dir, step).map_err(|e| match e {
        ExportError::NoRunFolder(_) => anyhow::anyhow!("no run {run} in {}: {e}", home.root().display()),
        e => e.into(),
    })?;
    let (max_len, doc_stride) = crate::eval::tokenization(&home, run, &run_dir)?;
    let backend: muppet_train::backend::BackendKind = args.backend.parse()?;
    let job = InferJob { run_dir: &run_dir, checkpoint: &checkpoint, task: &args.task, max_len, doc_stride };
    let inferred = crate::on_backend(&home, backend, Inferring { job, inputs: &inputs })??;
    let predicted = Predicted { run: run.0, step, checkpoint, inferred, inputs };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&predicted)?);
    } else if args.input.is_some() {
        for (input, answer) in predicted.inputs.iter().zip(&predicted.inferred.answers) {
            println!("{}", serde_json::to_string(&serde_json::json!({ "input": input, "answer": answer }))?);
        }
    } else {
        print(&predicted);
    }
    Ok(())
}

/// The inputs of a JSON-lines file; an error names the line and what it should hold.
fn read_inputs(path: &Path) -> anyhow::Result<Vec<Input>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read the input file {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str::<Input>(l).map_err(|e| {
                anyhow::anyhow!("{} line {}: {e}; each line is a JSON object such as {{\"text\": \"...\", \"text_b\": \"...\"}} or {{\"text\": \"...\", \"choices\": [\"...\", \"...\"]}}", path.display(), i + 1)
            })
        })
        .collect()
}

/// Bars of this many characters for a probability of 1.
const BAR: usize = 30;

fn bar(p: f32) -> String {
    "█".repeat((p.clamp(0.0, 1.0) * BAR as f32).round() as usize)
}

fn print(p: &Predicted) {
    let i = &p.inferred;
    println!("run {} step {}: the head of `{}` ({}, {})", p.run, p.step, i.task, i.family.as_str(), i.head);
    for (input, answer) in p.inputs.iter().zip(&i.answers) {
        match answer {
            HeadOutput::Class { predicted, labels, probabilities } => {
                println!("  {}", labels[*predicted]);
                let mut order: Vec<usize> = (0..labels.len()).collect();
                order.sort_by(|&a, &b| probabilities[b].total_cmp(&probabilities[a]));
                let width = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
                for c in order {
                    println!("    {:<width$}  {:.4}  {}", labels[c], probabilities[c], bar(probabilities[c]));
                }
            }
            HeadOutput::Value { value } => println!("  {value:.4}"),
            HeadOutput::Choice { predicted, probabilities } => {
                println!("  choice {}: {}", predicted + 1, input.choices[*predicted]);
                for (n, (choice, p)) in input.choices.iter().zip(probabilities).enumerate() {
                    println!("    {}. {:.4}  {:<BAR$}  {choice}", n + 1, p, bar(*p));
                }
            }
            HeadOutput::Span { answer, score } => match score {
                Some(score) => println!("  {answer:?} (score {score:.3}: start + end logit)"),
                None => println!("  no answer: no window held a token of the passage"),
            },
        }
    }
    println!("  predicted in {:.2} s", i.seconds);
}
