//! `muppet export RUN --format hf --out DIR [--step N|best] [--force] [--json]`: a run's
//! checkpoint as a Hugging Face folder (encoder, task heads, tokenizer, model card).

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use muppet_core::RunId;
use muppet_train::export::{export_hf, find_checkpoint, ExportSummary, HEADS_FILE, HEADS_MANIFEST};

use crate::model_card::RunFacts;

#[derive(Args)]
pub struct ExportArgs {
    /// The run id (see `muppet runs list`).
    run: i64,
    /// What to write: `hf`, a Hugging Face folder (config.json, model.safetensors, tokenizer,
    /// heads.safetensors + heads.json) that `AutoModel.from_pretrained` loads.
    #[arg(long, value_enum, default_value_t = Format::Hf)]
    format: Format,
    /// The folder to create.
    #[arg(long)]
    out: PathBuf,
    /// Export one task's model instead: the encoder with that task's head as the transformers
    /// task class (`AutoModelForSequenceClassification` with its labels, `...ForMultipleChoice`,
    /// `...ForQuestionAnswering`), which `pipeline()` runs.
    #[arg(long)]
    task: Option<String>,
    /// Export the checkpoint of this step, or `best`: the one with the best dev score
    /// (default: the latest).
    #[arg(long)]
    step: Option<crate::best::StepArg>,
    /// Replace the output folder if it exists and is not empty.
    #[arg(long)]
    force: bool,
    /// Print what was written as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// Hugging Face transformers folder.
    Hf,
}

/// The `AutoModel...` class that loads `architecture`.
pub(crate) fn auto_class(architecture: &str) -> &'static str {
    if architecture.ends_with("ForSequenceClassification") {
        "AutoModelForSequenceClassification"
    } else if architecture.ends_with("ForMultipleChoice") {
        "AutoModelForMultipleChoice"
    } else if architecture.ends_with("ForQuestionAnswering") {
        "AutoModelForQuestionAnswering"
    } else {
        "AutoModel"
    }
}

pub fn run(args: ExportArgs) -> anyhow::Result<()> {
    let Format::Hf = args.format;
    let home = crate::home();
    let run_dir = home.run_dir(RunId(args.run));
    let step = crate::best::resolve(&home, RunId(args.run), args.step)?;
    let (step, checkpoint) = find_checkpoint(&run_dir, step).map_err(|e| match e {
        muppet_train::export::ExportError::NoRunFolder(_) => {
            anyhow::anyhow!("no run {} in {}: {e}", args.run, home.root().display())
        }
        e => e.into(),
    })?;
    // The model card says what the store knows of the run; a run folder the store does not
    // know (copied in by hand) is exported without one.
    let facts = (|| -> anyhow::Result<RunFacts> {
        // Opening a database that is not there would make an empty one.
        anyhow::ensure!(home.db().is_file(), "no database at {} knows run {}", home.db().display(), args.run);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let store = runtime.block_on(muppet_store::Store::open(&home.db()))?;
        let facts = runtime.block_on(RunFacts::read(&home, &store, RunId(args.run)));
        runtime.block_on(store.close());
        facts
    })();
    let facts = facts.map_err(|e| eprintln!("warning: no model card (README.md): {e:#}")).ok();
    let card = facts.as_ref().map(|facts| move |summary: &ExportSummary| crate::model_card::render(facts, summary));
    let card = card.as_ref().map(|c| c as &dyn Fn(&ExportSummary) -> String);
    let device = Default::default();
    let summary = export_hf::<burn::backend::Flex>(&run_dir, &checkpoint, step, &args.out, args.force, args.task.as_deref(), card, &device)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
        return Ok(());
    }
    println!("run {} step {} exported to {}", args.run, summary.step, summary.out.display());
    if let Some(task) = &summary.task {
        println!("  model.safetensors  {} tensors: the encoder and the head of `{task}`", summary.encoder_tensors);
        println!("  config and tokenizer: {}", summary.files.join(" "));
        println!("load it with transformers: {}.from_pretrained({:?}), or pipeline()", auto_class(&summary.architecture), summary.out.display().to_string());
        return Ok(());
    }
    println!(
        "  model.safetensors  {} tensors{}",
        summary.encoder_tensors,
        if summary.pooler { " (pooler carried over from the base model)" } else { "" }
    );
    println!("  {HEADS_FILE}  {} tensors, tasks: {}", summary.head_tensors, summary.tasks.join(", "));
    println!("  {HEADS_MANIFEST}, tokenizer and config: {}", summary.files.join(" "));
    println!("load it with transformers: AutoModel.from_pretrained({:?})", summary.out.display().to_string());
    Ok(())
}
