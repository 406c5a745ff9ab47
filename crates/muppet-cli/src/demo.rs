//! `muppet demo`: the first real run. Fetches what is missing, loads the real
//! MiniLM and two real tasks, pre-finetunes a few steps and stores the run.

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use muppet_core::{Fanout, RunEvent, RunKind, RunObserver, RunStatus};
use muppet_data::assets::{self, Group};
use muppet_data::demo_tasks;
use muppet_data::mixture::Sampling;
use muppet_store::{Checkpoint, NewRun, Store, StoreObserver};
use muppet_train::backend::{on_backend, BackendKind, OnBackend};
use muppet_train::{prefinetune, PreFinetuneConfig, SavedCheckpoint, TrainError, TrainSummary};
use std::path::Path;

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

/// One pre-finetuning run, on whichever backend `on_backend` picks.
struct Training<'a> {
    model_dir: &'a Path,
    tasks: &'a [muppet_data::LabeledTask],
    cfg: &'a PreFinetuneConfig,
    run: muppet_core::RunId,
    run_dir: &'a Path,
    observer: &'a mut dyn RunObserver,
}

impl OnBackend for Training<'_> {
    type Output = Result<TrainSummary, TrainError>;
    fn run<B: burn::tensor::backend::AutodiffBackend>(self, device: B::Device) -> Self::Output {
        prefinetune::<B>(self.model_dir, self.tasks, self.cfg, self.run, Some(self.run_dir), &device, self.observer)
    }
}

/// Shows training progress as a bar with the latest loss.
struct ProgressObserver(ProgressBar);

impl RunObserver for ProgressObserver {
    fn on_event(&mut self, event: &RunEvent) {
        match event {
            RunEvent::Started { total_steps, .. } => self.0.set_length(*total_steps),
            RunEvent::Step { step, .. } => self.0.set_position(*step),
            RunEvent::Metrics { points, .. } => {
                if let Some(p) = points.iter().find(|p| p.task.is_none() && p.name == "loss") {
                    self.0.set_message(format!("loss {:.4}", p.value));
                }
            }
            RunEvent::Finished { .. } | RunEvent::Failed { .. } => self.0.finish_and_clear(),
        }
    }
}

pub fn run(args: DemoArgs) -> anyhow::Result<()> {
    let backend: BackendKind = args.backend.parse()?;
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
    let cfg = PreFinetuneConfig {
        steps: args.steps,
        batch_size: args.batch_size,
        tasks_per_update: args.tasks_per_update,
        seed: args.seed,
        lr: args.lr,
        sampling,
        cap: args.cap,
        ..PreFinetuneConfig::default()
    };

    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
    let store = runtime.block_on(Store::open(&home.db()))?;
    let spec = serde_json::json!({
        "model": model_dir.display().to_string(),
        "tasks": demo_tasks::DEMO_TASKS,
        "batching": "heterogeneous",
        "config": cfg,
    });
    let new_run = NewRun {
        name: format!("demo: {}", demo_tasks::DEMO_TASKS.join(" + ")),
        kind: RunKind::PreFinetune,
        spec,
        seed: Some(cfg.seed),
        backend: backend.name().into(),
        device: backend.device_name().into(),
    };
    let run = runtime.block_on(store.create_run(&new_run))?;
    for t in &tasks {
        runtime.block_on(store.add_run_task(run, &t.spec.name))?;
    }
    let run_dir = home.run_dir(run);
    std::fs::create_dir_all(&run_dir)?;
    println!("run {run}: pre-finetuning {} for {} steps on {}", model_dir.display(), cfg.steps, backend.device_name());

    let bar = ProgressBar::new(cfg.steps).with_style(
        ProgressStyle::with_template("{spinner} step {pos}/{len} [{bar:30}] {elapsed_precise} {msg}")?.progress_chars("=> "),
    );
    let mut store_observer = StoreObserver::new(store.clone(), runtime.handle().clone());
    let mut progress = ProgressObserver(bar);
    let mut observers = Fanout(vec![&mut store_observer as &mut dyn RunObserver, &mut progress]);
    let work = Training { model_dir: &model_dir, tasks: &tasks, cfg: &cfg, run, run_dir: &run_dir, observer: &mut observers };
    let result = on_backend(backend, work).and_then(|r| r);
    // The metrics and the checkpoint record must be stored for the run to count as completed.
    let stored = store_observer.flush().map_err(anyhow::Error::from).and_then(|()| match &result {
        Ok(TrainSummary { checkpoint: Some(saved), .. }) => register_checkpoint(&runtime, &store, run, saved),
        _ => Ok(()),
    });
    let outcome = match (&result, &stored) {
        (Ok(_), Ok(())) => runtime.block_on(store.end_run(run, RunStatus::Completed, None)),
        (Err(e), _) => runtime.block_on(store.end_run(run, RunStatus::Failed, Some(&e.to_string()))),
        (Ok(_), Err(e)) => runtime.block_on(store.end_run(run, RunStatus::Failed, Some(&format!("storing the run: {e}")))),
    };
    let summary = result?;
    stored?;
    outcome?;
    let points = runtime.block_on(store.list_runs())?.into_iter().find(|r| r.id == run).map_or(0, |r| r.points);
    runtime.block_on(store.close());
    println!(
        "run {run} completed: {} steps, {} examples, loss {:.4} -> {:.4}, {points} metric points",
        summary.steps, summary.examples, summary.first_loss, summary.final_loss
    );
    if let Some(saved) = &summary.checkpoint {
        println!("checkpoint {}", saved.path.display());
    }
    for t in &summary.tasks {
        println!(
            "  {:<18} train {:>6}  dev {:>4}  loss {:.4} -> {:.4}  dev accuracy {:.3} -> {:.3}",
            t.name, t.train_examples, t.dev_examples, t.loss_first, t.loss_last, t.dev_before, t.dev_after
        );
    }
    println!("stored in {} (see `muppet runs list`)", home.db().display());
    Ok(())
}

/// Record a checkpoint file in the store with its size and SHA-256.
fn register_checkpoint(runtime: &tokio::runtime::Runtime, store: &Store, run: muppet_core::RunId, saved: &SavedCheckpoint) -> anyhow::Result<()> {
    let bytes = std::fs::metadata(&saved.path)?.len();
    let sha256 = assets::sha256_file(&saved.path)?;
    let checkpoint = Checkpoint { run, path: saved.path.clone(), step: saved.step, bytes, sha256 };
    runtime.block_on(store.add_checkpoint(&checkpoint))?;
    Ok(())
}
