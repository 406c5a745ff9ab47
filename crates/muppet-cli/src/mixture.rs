//! `muppet mixture summary`: per task (from the demo catalog or imported),
//! its size, its sampling probability and the examples it supplies in
//! expectation over a step budget.

use clap::{Args, Subcommand};
use muppet_data::mixture::{summary, Sampling};

#[derive(Subcommand)]
pub enum MixtureCommand {
    /// Probabilities and expected examples of a mixture.
    Summary(SummaryArgs),
}

#[derive(Args)]
pub struct SummaryArgs {
    /// A task of the mixture (repeat for each task).
    #[arg(long = "task", required = true)]
    tasks: Vec<String>,
    /// natural, uniform or temperature:T.
    #[arg(long, default_value = "natural")]
    sampling: String,
    /// Cap each task's size at N before weighting.
    #[arg(long)]
    cap: Option<usize>,
    /// Optimizer updates in the budget.
    #[arg(long)]
    steps: u64,
    /// Examples per micro-batch.
    #[arg(long, default_value_t = 16)]
    batch_size: usize,
    /// Single-task micro-batches per update.
    #[arg(long, default_value_t = 2)]
    tasks_per_update: usize,
    /// Print `{"tasks": [...]}` as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(command: MixtureCommand) -> anyhow::Result<()> {
    let MixtureCommand::Summary(args) = command;
    let sampling: Sampling = args.sampling.parse()?;
    let home = crate::home();
    let mut sized = Vec::with_capacity(args.tasks.len());
    for name in &args.tasks {
        let task = crate::tasks::load(&home, name)?;
        sized.push((name.clone(), task.examples.len()));
    }
    let rows = summary(&sized, sampling, args.cap, args.steps, args.batch_size * args.tasks_per_update);
    if args.json {
        println!("{}", serde_json::json!({ "tasks": rows }));
        return Ok(());
    }
    println!("{sampling} sampling, {} updates of {} x {} examples", args.steps, args.tasks_per_update, args.batch_size);
    println!("{:<24} {:>9} {:>12} {:>18}", "task", "examples", "probability", "expected examples");
    for r in rows {
        println!("{:<24} {:>9} {:>12.4} {:>18.1}", r.name, r.examples, r.probability, r.expected_examples);
    }
    Ok(())
}
