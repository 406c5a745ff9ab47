//! `muppet`: Muppet Studio without the desktop. Each subcommand is a thin
//! wrapper over the library crates.

mod assets;
mod bench;
mod chart;
mod best;
mod demo;
mod encode;
mod eval;
mod experiment;
mod export;
mod launch;
mod mixture;
mod model_card;
mod overlaps;
mod predict;
mod pruner;
mod report;
mod runs;
mod system;
mod tasks;
mod train_cmd;
mod watch;

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
    /// Score a run's checkpoint on a task (its dev or training examples, or any task), store
    /// the scores with the run's metrics and write each example's prediction.
    Eval(eval::EvalArgs),
    /// What a checkpoint's head of one of the run's tasks predicts for new inputs: each
    /// class with its probability, a value, the choice picked, or the answer in a passage.
    Predict(predict::PredictArgs),
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
    /// Coordinate a multi-node run (`--nodes N` on each machine): listen on --port until stopped.
    Coordinator(train_cmd::CoordinatorArgs),
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

/// Run `work` on the data folder's store (created if missing) on a one-thread runtime, and
/// close the store after it, whatever `work` returns.
pub fn with_store<T>(work: impl AsyncFnOnce(&muppet_store::Store, &MuppetHome) -> anyhow::Result<T>) -> anyhow::Result<T> {
    let home = home();
    home.ensure()?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let store = muppet_store::Store::open(&home.db()).await?;
        let result = work(&store, &home).await;
        store.close().await;
        result
    })
}

/// Say what a deletion removed: one line, or its JSON.
pub fn print_deleted(deleted: &muppet_store::Deleted, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(deleted)?);
    } else {
        println!("{deleted}");
    }
    Ok(())
}

/// Run `work` on `backend`; CUDA runs keep the kernels they compile and their autotune
/// results in the home's `cache/kernels`, across runs.
pub fn on_backend<W: muppet_train::backend::OnBackend>(
    home: &MuppetHome,
    backend: muppet_train::backend::BackendKind,
    work: W,
) -> Result<W::Output, muppet_train::TrainError> {
    muppet_train::backend::use_kernel_cache(&home.cache().join("kernels"));
    muppet_train::backend::on_backend(backend, work)
}

/// On the CPU every tensor op allocates its output and Burn frees it soon after. glibc's
/// malloc serves such blocks (above its mmap threshold) with fresh `mmap`s and returns them
/// with `munmap`, so every step's activations arrive as new pages that the kernel faults
/// in and zeroes: about a fifth of a training step on the real-data mixture, in the
/// kernel. mimalloc reuses freed blocks (BENCHMARKS.md, "Pre-finetuning throughput on real
/// data").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay`: the 16th entry of `mi_option_e` in mimalloc 3's `mimalloc.h`
/// (libmimalloc-sys 0.1.49 names its neighbours, 14 and 16, but not this one).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// mimalloc still hands memory unused for a second back to the system, and the next
/// batch shape then faults it in again; -1 keeps it. The process stays at its peak
/// resident size, which every training step reaches anyway.
fn keep_freed_pages() {
    // SAFETY: sets one integer option of the allocator, no pointers involved; mimalloc
    // reads its options atomically, so setting one while it runs is allowed.
    #[allow(unsafe_code)]
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1);
    }
}

fn main() -> std::process::ExitCode {
    keep_freed_pages();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Assets { command } => assets::run(command),
        Command::Demo(args) => demo::run(args),
        Command::Export(args) => export::run(args),
        Command::Encode(args) => encode::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Predict(args) => predict::run(args),
        Command::Bench { command } => bench::run(command),
        Command::Mixture { command } => mixture::run(command),
        Command::Experiment { command } => experiment::run(command),
        Command::Report(args) => report::run(args),
        Command::Runs { command } => runs::run(command),
        Command::Tasks { command } => tasks::run(command),
        Command::Prefinetune(args) => train_cmd::prefinetune(args),
        Command::Finetune(args) => train_cmd::finetune(args),
        Command::Resume(args) => train_cmd::resume(args),
        Command::Coordinator(args) => train_cmd::coordinator(args),
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

#[cfg(test)]
mod tests {
    /// The option number names the purge delay: before it is set it holds the purge
    /// delay's default of mimalloc 3 (1000 ms; its neighbours default to 1 and 0), and
    /// afterwards -1.
    #[test]
    #[allow(unsafe_code)]
    fn the_purge_delay_option_is_the_one_set() {
        // SAFETY: reads and sets one integer option of the allocator.
        let before = unsafe { libmimalloc_sys::mi_option_get(super::MI_OPTION_PURGE_DELAY) };
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            assert_eq!(before, 1000);
        }
        super::keep_freed_pages();
        // SAFETY: as above.
        assert_eq!(unsafe { libmimalloc_sys::mi_option_get(super::MI_OPTION_PURGE_DELAY) }, -1);
    }
}
