//! `muppet`: Muppet Studio without the desktop. Each subcommand is a thin
//! wrapper over the library crates.

mod assets;
mod bench;
mod demo;
mod encode;
mod experiment;
mod export;
mod launch;
mod mixture;
mod overlaps;
mod report;
mod runs;
mod tasks;
mod train_cmd;

use clap::{Parser, Subcommand};
use muppet_core::MuppetHome;

#[derive(Parser)]
#[command(name = "muppet", version, about = "Multi-task pre-finetuning (Muppet) research: assets, runs and experiments")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Demo assets: the pretrained model and the labeled datasets.
    Assets {
        #[command(subcommand)]
        command: assets::AssetsCommand,
    },
    /// Fetch what is missing, then pre-finetune the real MiniLM for a few steps on two real tasks.
    Demo(demo::DemoArgs),
    /// Write a run's checkpoint as a Hugging Face folder (encoder, task heads, tokenizer).
    Export(export::ExportArgs),
    /// Last hidden states of a Hugging Face model folder (a base model or an export) for some text.
    Encode(encode::EncodeArgs),
    /// Benchmarks (speed on fixed shapes).
    Bench {
        #[command(subcommand)]
        command: bench::BenchCommand,
    },
    /// Task mixtures: sampling probabilities and expected examples.
    Mixture {
        #[command(subcommand)]
        command: mixture::MixtureCommand,
    },
    /// Pre-finetune a model on a task mixture (Muppet).
    Prefinetune(train_cmd::PrefinetuneArgs),
    /// Fine-tune the base model or a pre-finetuned run on downstream tasks.
    Finetune(train_cmd::FinetuneArgs),
    /// Continue a cancelled or interrupted run from its last checkpoint.
    Resume(train_cmd::ResumeArgs),
    /// Execute a stored run, printing its events as JSON lines (what the app launches).
    Worker(train_cmd::WorkerArgs),
    /// Experiments: sample-efficiency sweeps, task-count and batching ablations from a spec file.
    Experiment {
        #[command(subcommand)]
        command: experiment::ExperimentCommand,
    },
    /// An experiment's charts (PNG, SVG), CSV of the aggregated points and a Markdown summary.
    Report(report::ReportArgs),
    /// Runs stored in the database.
    Runs {
        #[command(subcommand)]
        command: runs::RunsCommand,
    },
    /// Tasks: the demo catalog and tasks imported from local files.
    Tasks {
        #[command(subcommand)]
        command: tasks::TasksCommand,
    },
}

/// The data folder: `MUPPET_HOME`, else the platform data dir.
pub fn home() -> MuppetHome {
    MuppetHome::from_env(|| muppet_core::home::default_root(dirs::data_dir()))
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Assets { command } => assets::run(command),
        Command::Demo(args) => demo::run(args),
        Command::Export(args) => export::run(args),
        Command::Encode(args) => encode::run(args),
        Command::Bench { command } => bench::run(command),
        Command::Mixture { command } => mixture::run(command),
        Command::Experiment { command } => experiment::run(command),
        Command::Report(args) => report::run(args),
        Command::Runs { command } => runs::run(command),
        Command::Tasks { command } => tasks::run(command),
        Command::Prefinetune(args) => train_cmd::prefinetune(args),
        Command::Finetune(args) => train_cmd::finetune(args),
        Command::Resume(args) => train_cmd::resume(args),
        Command::Worker(args) => train_cmd::worker(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
