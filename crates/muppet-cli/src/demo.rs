//! `muppet demo`: the first real run. Fetches what is missing, loads the real
//! MiniLM and two real tasks, pre-finetunes a few steps and stores the run.

use clap::Args;
use muppet_core::RunKind;
use muppet_data::assets::{self, Group};
use muppet_data::demo_tasks;
use muppet_data::mixture::Sampling;
use muppet_train::backend::BackendKind;
use muppet_train::TrainConfig;

use crate::launch::{self, InitSpec, RunSpec, Start};

#[derive(Args)]
pub struct DemoArgs {
    /// Optimizer updates.
    #[arg(long, default_value_t = 30)]
    steps: u64,
    /// Examples per micro-batch.
    #[arg(long, default_value_t = 16)]
    batch_size: usize,
    /// Single-task micro-batches accumulated into each update.
    #[arg(long, default_value_t = 2)]
    tasks_per_update: usize,
    /// Task weighting: natural, uniform or temperature:T.
    #[arg(long, default_value = "natural")]
    sampling: String,
    /// Cap each task's size at N before weighting.
    #[arg(long)]
    cap: Option<usize>,
    /// Peak learning rate.
    #[arg(long, default_value_t = 3e-4)]
    lr: f64,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Where to compute: cpu, or cuda (needs a build with `--features cuda`).
    #[arg(long, default_value = "cpu")]
    backend: String,
}

pub fn run(args: DemoArgs) -> anyhow::Result<()> {
    // Refuse an unknown backend before fetching anything.
    args.backend.parse::<BackendKind>()?;
    let sampling: Sampling = args.sampling.parse()?;
    let home = crate::home();
    home.ensure()?;
    crate::assets::fetch(&[Group::Model, Group::Tasks])?;
    let model_dir = assets::model_dir(home.assets());
    let tasks = demo_tasks::DEMO_TASKS
        .iter()
        .map(|name| demo_tasks::load(home.assets(), name))
        .collect::<Result<Vec<_>, _>>()?;
    for t in &tasks {
        println!("task {:<18} {:>6} examples, labels {:?}", t.spec.name, t.examples.len(), t.spec.labels);
    }
    let cfg = TrainConfig {
        steps: args.steps,
        batch_size: args.batch_size,
        tasks_per_update: args.tasks_per_update,
        seed: args.seed,
        lr: args.lr,
        sampling,
        cap: args.cap,
        max_len: 64,
        ..TrainConfig::default()
    };
    let spec = RunSpec {
        model: model_dir,
        tasks: demo_tasks::DEMO_TASKS.iter().map(|s| s.to_string()).collect(),
        backend: args.backend.clone(),
        init: InitSpec::Base,
        config: cfg,
    };
    let name = format!("demo: {}", demo_tasks::DEMO_TASKS.join(" + "));
    let (run, summary) = launch::execute(&home, Start::New { name, kind: RunKind::PreFinetune, parent: None, labels: launch::Labels::default() }, &spec, &tasks, false, None)?;
    launch::print_summary(run, &summary);
    println!("stored in {} (see `muppet runs list`)", home.db().display());
    Ok(())
}
