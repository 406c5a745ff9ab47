//! Running one training run from the CLI: the run is created in the store with its full
//! spec, trained on the chosen backend with a progress bar, its metrics and checkpoints
//! stored as they come, and ended `completed`, `cancelled` (SIGTERM or Ctrl-C: the current
//! update finishes and a checkpoint is written) or `failed` with the reason. The same
//! spec, read back from the store, resumes it.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use crate::system::{peak_memory_point, peak_rss_mb, SystemSampler};
use muppet_core::{Fanout, MuppetHome, RunEvent, RunId, RunKind, ProcessLock, RunObserver, RunStatus};
use muppet_data::LabeledTask;
use muppet_store::{Checkpoint, NewRun, RunOrigin, Store, StoreObserver};
use muppet_train::backend::OnBackend;
use muppet_train::parallel::Nodes;
use muppet_train::{train, Init, Outcome, TrainError, TrainJob, TrainSummary};
pub use muppet_train::spec::{InitSpec, RunSpec};

/// Load the tasks to train by name: the demo catalog, then the imported tasks. A task the
/// engine cannot train (generation) is refused with the reason.
pub fn load_tasks(home: &MuppetHome, names: &[String]) -> anyhow::Result<Vec<LabeledTask>> {
    names
        .iter()
        .map(|n| {
            let task = crate::tasks::load(home, n)?;
            match task.spec.family.why_not_trained() {
                Some(why) => anyhow::bail!("task `{n}`: {why}"),
                None => Ok(task),
            }
        })
        .collect()
}

/// The tasks that `tasks` are scored on (their split policy's `dev_task`, e.g. an official
/// validation split imported as its own task), each once.
pub fn load_dev_tasks(home: &MuppetHome, tasks: &[LabeledTask]) -> anyhow::Result<Vec<LabeledTask>> {
    let mut wanted: Vec<(&str, &str)> = tasks.iter().filter_map(|t| t.spec.split.dev_task.as_deref().map(|d| (d, t.spec.name.as_str()))).collect();
    wanted.sort_unstable();
    wanted.dedup_by_key(|(dev, _)| *dev);
    wanted
        .into_iter()
        .map(|(dev, task)| {
            crate::tasks::load(home, dev).with_context(|| {
                format!("task `{task}` is scored on task `{dev}` (its dev task), which could not be loaded: import it (`muppet tasks add DATASET --split validation`, or `muppet tasks import`)")
            })
        })
        .collect()
}

/// A warning for each dev task sharing inputs with a task the run trains on (the paper
/// catalog's Rotten Tomatoes and the demo's rt_fresh_rotten are the same sentences): the
/// task's dev scores would then measure memorisation.
fn dev_overlap_warnings(tasks: &[LabeledTask], dev_tasks: &[LabeledTask]) -> Vec<String> {
    let mut out = Vec::new();
    for dev in dev_tasks {
        let scored: Vec<&str> = tasks.iter().filter(|t| t.spec.split.dev_task.as_deref() == Some(dev.spec.name.as_str())).map(|t| t.spec.name.as_str()).collect();
        for o in muppet_data::overlap::overlaps(dev, tasks) {
            out.push(format!(
                "{} of the {} inputs of `{}` ({:.1}%), on which `{}` is scored, are also in `{}`, a task this run trains on: those dev scores measure memorisation",
                o.shared,
                o.of,
                dev.spec.name,
                o.percent(),
                scored.join("`, `"),
                o.other
            ));
        }
    }
    out
}

/// Shows training progress as a bar with the latest loss and dev score (hidden when stderr is
/// not a terminal).
struct ProgressObserver(ProgressBar, Option<f64>);

impl RunObserver for ProgressObserver {
    fn on_event(&mut self, event: &RunEvent) {
        match event {
            RunEvent::Started { total_steps, .. } => self.0.set_length(*total_steps),
            RunEvent::Step { step, .. } => self.0.set_position(*step),
            RunEvent::Metrics { points, .. } => {
                if let Some(p) = points.iter().find(|p| p.task.is_none() && p.name == "loss") {
                    let dev = self.1.map(|d| format!(", dev score {d:.4}")).unwrap_or_default();
                    self.0.set_message(format!("loss {:.4}{dev}", p.value));
                }
            }
            RunEvent::DevScore { score, .. } => self.1 = Some(*score),
            RunEvent::Finished { .. } | RunEvent::Failed { .. } | RunEvent::Cancelled { .. } => self.0.finish_and_clear(),
            RunEvent::Checkpoint { .. } => {}
        }
    }
}

/// Registers every checkpoint file in the store, with its size and SHA-256.
struct CheckpointRegistrar<'a> {
    store: &'a Store,
    runtime: &'a tokio::runtime::Runtime,
    error: Option<anyhow::Error>,
}

impl RunObserver for CheckpointRegistrar<'_> {
    fn on_event(&mut self, event: &RunEvent) {
        if let RunEvent::Checkpoint { run, step, path } = event {
            let path = PathBuf::from(path);
            let result = (|| -> anyhow::Result<()> {
                let bytes = std::fs::metadata(&path)?.len();
                let sha256 = muppet_data::assets::sha256_file(&path)?;
                self.runtime.block_on(self.store.add_checkpoint(&Checkpoint { run: *run, path: path.clone(), step: *step, bytes, sha256 }))?;
                // Older checkpoints a `keep_checkpoints` limit deleted.
                self.runtime.block_on(self.store.forget_missing_checkpoints(*run))?;
                Ok(())
            })();
            if let Err(e) = result {
                self.error.get_or_insert(e.context(format!("registering checkpoint {}", path.display())));
            }
        }
    }
}

struct Training<'a> {
    job: TrainJob<'a>,
    observer: &'a mut dyn RunObserver,
}

impl OnBackend for Training<'_> {
    type Output = Result<TrainSummary, TrainError>;
    fn run<B: burn::tensor::backend::AutodiffBackend>(self, device: B::Device) -> Self::Output {
        train::<B>(&self.job, &device, self.observer)
    }
}

/// A new run to create, or a stored run (queued, cancelled or interrupted) to start or
/// continue from its last checkpoint.
pub enum Start {
    New { name: String, kind: RunKind, parent: Option<RunId>, labels: Labels },
    Existing(RunId),
}

/// What a researcher puts on a new run when starting it: tags and a note (checked by
/// [`Labels::new`]).
#[derive(Debug, Clone, Default)]
pub struct Labels {
    pub tags: Vec<String>,
    pub note: Option<String>,
}

impl Labels {
    /// The tags and the note as stored, or what is wrong with one.
    pub fn new(tags: &[String], note: Option<&str>) -> anyhow::Result<Self> {
        use muppet_core::annotation::{clean_note, clean_tags};
        let tags = clean_tags(tags).map_err(|e| anyhow::anyhow!("--tag: {e}"))?;
        let note = note.map(|n| clean_note(n).map_err(|e| anyhow::anyhow!("--note: {e}"))).transpose()?;
        Ok(Labels { tags, note })
    }
}

/// Prints every event as one JSON line on stdout, for the app and the experiment runner.
struct JsonLines;

impl RunObserver for JsonLines {
    fn on_event(&mut self, event: &RunEvent) {
        use std::io::Write;
        if let Ok(line) = serde_json::to_string(event) {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        }
    }
}

/// Register a run as `queued` with its spec, for a worker to start; returns its id.
pub fn create_queued(
    home: &MuppetHome,
    name: &str,
    kind: RunKind,
    parent: Option<RunId>,
    experiment: Option<muppet_store::ExperimentId>,
    spec: &RunSpec,
    labels: &Labels,
) -> anyhow::Result<RunId> {
    let backend = spec.backend_kind()?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let store = runtime.block_on(Store::open(&home.db()))?;
    let new_run = NewRun {
        name: name.to_string(),
        kind,
        spec: serde_json::to_value(spec)?,
        seed: Some(spec.config.seed),
        backend: backend.name().into(),
        device: backend.devices_label(spec.config.devices),
    };
    let origin = RunOrigin { parent, experiment, tasks: spec.tasks.clone(), tags: labels.tags.clone(), note: labels.note.clone(), queued: true, ..RunOrigin::default() };
    let run = runtime.block_on(store.create_run_in(&new_run, &origin))?;
    runtime.block_on(store.close());
    Ok(run)
}

/// Create (or reopen) the run, train it and end it; returns the run id and the summary.
/// With `events`, every event is also printed as a JSON line on stdout.
/// `nodes`: node 0 of a multi-node run (the node that keeps the run).
pub fn execute(home: &MuppetHome, start: Start, spec: &RunSpec, tasks: &[LabeledTask], events: bool, nodes: Option<&Nodes>) -> anyhow::Result<(RunId, TrainSummary)> {
    let backend = spec.backend_kind()?;
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
    let store = runtime.block_on(Store::open(&home.db()))?;
    let (run, lock, resume) = match start {
        Start::New { name, kind, parent, labels } => {
            let new_run = NewRun {
                name,
                kind,
                spec: serde_json::to_value(spec)?,
                seed: Some(spec.config.seed),
                backend: backend.name().into(),
                device: backend.devices_label(spec.config.devices),
            };
            let origin = RunOrigin { parent, tasks: spec.tasks.clone(), tags: labels.tags.clone(), note: labels.note.clone(), ..RunOrigin::default() };
            (runtime.block_on(store.create_run_in(&new_run, &origin))?, None, false)
        }
        Start::Existing(run) => {
            // The run must exist before its folder gets a lock file.
            runtime.block_on(store.run(run))?;
            // Locked before the status is touched: a run another process trains stays as
            // it is. Read again under the lock, which that process may just have released.
            let lock = ProcessLock::run(home, run)?;
            let row = runtime.block_on(store.run(run))?;
            if row.status == RunStatus::Completed {
                anyhow::bail!("run {run} is already completed; there is nothing to resume");
            }
            runtime.block_on(store.reopen_run(run))?;
            (run, Some(lock), !muppet_train::checkpoint::resumable_steps(&home.run_dir(run)).is_empty())
        }
    };
    let run_dir = home.run_dir(run);
    // A new run is locked as soon as it exists: a `resume` of it from elsewhere waits its turn.
    let _lock = match lock {
        Some(lock) => lock,
        None => ProcessLock::run(home, run)?,
    };
    eprintln!(
        "run {run}: {} {} on {} for {} steps{}",
        if resume { "resuming" } else { "training" },
        spec.model.display(),
        backend.devices_label(spec.config.devices),
        spec.config.steps,
        if resume { " (from its last checkpoint)" } else { "" }
    );

    if let Some(nodes) = nodes {
        say_joining(nodes);
    }
    let dev_tasks = load_dev_tasks(home, tasks)?;
    let mut warnings = dev_overlap_warnings(tasks, &dev_tasks);
    if backend == muppet_train::backend::BackendKind::Cpu && spec.config.mixed_precision.compute_dtype().is_some() {
        warnings.push(
            "mixed precision on the CPU: Burn's CPU backend multiplies bf16 matrices through f32, so this run is about half as fast as in f32 (BENCHMARKS.md); it is meant for CUDA".into(),
        );
    }
    for warning in &warnings {
        eprintln!("warning: {warning}");
        // Kept with the run (the app's run page shows its notes), once: not again on resume.
        if !resume {
            runtime.block_on(store.add_note(muppet_store::NoteTarget::Run(run), &format!("Warning when the run started: {warning}")))?;
        }
    }
    let cancel = cancel_on_signals(&runtime)?;
    let stop = stop_on_request(&runtime)?;

    let init = match &spec.init {
        InitSpec::Base => Init::Base,
        InitSpec::Run { run: source, checkpoint, reuse_heads, .. } => Init::Checkpoint {
            run_dir: home.run_dir(RunId(*source)),
            checkpoint: checkpoint.clone(),
            reuse_heads: *reuse_heads,
        },
    };
    let bar = progress_bar(spec.config.steps)?;
    let cache_dir = home.token_cache();
    let started = std::time::Instant::now();
    let mut store_observer = StoreObserver::new(store.clone(), runtime.handle().clone());
    let mut registrar = CheckpointRegistrar { store: &store, runtime: &runtime, error: None };
    let mut progress = ProgressObserver(bar, None);
    let mut json = JsonLines;
    let result = {
        let mut observers = Fanout(vec![&mut store_observer as &mut dyn RunObserver, &mut registrar, &mut progress]);
        if events {
            observers.0.push(&mut json);
        }
        let job = TrainJob {
            model_dir: &spec.model,
            tasks,
            dev_tasks: &dev_tasks,
            cfg: &spec.config,
            run,
            run_dir: Some(&run_dir),
            init,
            resume,
            cancel: Some(&cancel),
            stop: Some(&stop),
            cache_dir: Some(&cache_dir),
            nodes,
        };
        let mut sampled = SystemSampler::new(&mut observers, backend);
        crate::on_backend(home, backend, Training { job, observer: &mut sampled }).and_then(|r| r)
    };
    if let (Ok(s), Some(mb)) = (&result, peak_rss_mb()) {
        let event = RunEvent::Metrics { run, points: vec![peak_memory_point(s, mb, started.elapsed().as_secs_f64())] };
        store_observer.on_event(&event);
        if events {
            json.on_event(&event);
        }
    }
    if let Ok(s) = &result
        && s.stopped_early
    {
        // Asked to (SIGUSR1): who asked, a sweep's orchestrator, adds why.
        let note = if stop.load(Ordering::SeqCst) {
            format!("Stopped early on request (SIGUSR1) at step {} of {}.", s.steps, spec.config.steps)
        } else {
            early_stop_note(s, &spec.config)
        };
        eprintln!("{note}");
        if let Err(e) = runtime.block_on(store.add_note(muppet_store::NoteTarget::Run(run), &note)) {
            registrar.error.get_or_insert(e.into());
        }
    }
    // The metrics and the checkpoint records must be stored for the run to count as done.
    let stored = store_observer.flush().map_err(anyhow::Error::from).and_then(|()| registrar.error.take().map_or(Ok(()), Err));
    let ended = match (&result, &stored) {
        (Ok(s), Ok(())) if s.outcome == Outcome::Cancelled => runtime.block_on(store.end_run(run, RunStatus::Cancelled, None)),
        (Ok(_), Ok(())) => runtime.block_on(store.end_run(run, RunStatus::Completed, None)),
        (Err(e), _) => runtime.block_on(store.end_run(run, RunStatus::Failed, Some(&e.to_string()))),
        (Ok(_), Err(e)) => runtime.block_on(store.end_run(run, RunStatus::Failed, Some(&format!("storing the run: {e}")))),
    };
    let summary = result.with_context(|| format!("run {run} failed"))?;
    stored?;
    ended?;
    runtime.block_on(store.close());
    runtime.shutdown_background();
    Ok((run, summary))
}

/// A flag set by the first SIGTERM or Ctrl-C (the run then stops after its current update,
/// with a checkpoint); the second kills the process. Registered before training starts, so
/// a SIGTERM from then on never leaves a run `running`.
fn cancel_on_signals(runtime: &tokio::runtime::Runtime) -> anyhow::Result<Arc<AtomicBool>> {
    use tokio::signal::unix::{signal, SignalKind};
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = cancel.clone();
    let _context = runtime.enter();
    let (mut term, mut int) = (signal(SignalKind::terminate())?, signal(SignalKind::interrupt())?);
    runtime.spawn(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        eprintln!("stopping after this update; a checkpoint will be written (send the signal again to kill)");
        flag.store(true, Ordering::SeqCst);
        tokio::select! { _ = term.recv() => (), _ = int.recv() => () }
        std::process::exit(130);
    });
    Ok(cancel)
}

/// Training starts once every node has joined: say what this one waits for.
fn say_joining(nodes: &Nodes) {
    eprintln!(
        "node {} of {}: joining the run through the coordinator at {} (training starts once all {} nodes have joined; this node serves its sums at {})",
        nodes.rank, nodes.count, nodes.coordinator, nodes.count, nodes.address
    );
}

fn progress_bar(steps: u64) -> anyhow::Result<ProgressBar> {
    Ok(ProgressBar::new(steps).with_style(ProgressStyle::with_template("{spinner} step {pos}/{len} [{bar:30}] {elapsed_precise} eta {eta} {msg}")?.progress_chars("=> ")))
}

/// A flag set by SIGUSR1: the run ends after its current update as early stopping does (a
/// sweep's rule stopping a run that fell behind). Registered before training starts, so the
/// signal never kills a run that has reported a dev score.
fn stop_on_request(runtime: &tokio::runtime::Runtime) -> anyhow::Result<Arc<AtomicBool>> {
    use tokio::signal::unix::{signal, SignalKind};
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let _context = runtime.enter();
    let mut asked = signal(SignalKind::user_defined1())?;
    runtime.spawn(async move {
        while asked.recv().await.is_some() {
            flag.store(true, Ordering::SeqCst);
        }
    });
    Ok(stop)
}

/// Train as node `nodes.rank` (not 0) of a multi-node run: this node's devices compute their
/// share of every update; node 0 keeps the run (store, checkpoints, dev scores), so nothing
/// is stored here. A SIGTERM or Ctrl-C here stops every node after the current update.
pub fn execute_node(spec: &RunSpec, tasks: &[LabeledTask], nodes: &Nodes, home: &MuppetHome) -> anyhow::Result<TrainSummary> {
    let backend = spec.backend_kind()?;
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
    let cancel = cancel_on_signals(&runtime)?;
    eprintln!(
        "node {} of {}: training {} on {} for {} steps; node 0 keeps the run",
        nodes.rank,
        nodes.count,
        spec.model.display(),
        backend.devices_label(spec.config.devices),
        spec.config.steps
    );
    say_joining(nodes);
    let cache_dir = home.token_cache();
    let mut progress = ProgressObserver(progress_bar(spec.config.steps)?, None);
    let dev_tasks = load_dev_tasks(home, tasks)?;
    let job = TrainJob {
        model_dir: &spec.model,
        tasks,
        dev_tasks: &dev_tasks,
        cfg: &spec.config,
        run: RunId(0),
        run_dir: None,
        // `--nodes` is refused with any other start (train_cmd).
        init: Init::Base,
        resume: false,
        cancel: Some(&cancel),
        stop: None,
        cache_dir: Some(&cache_dir),
        nodes: Some(nodes),
    };
    let summary = crate::on_backend(home, backend, Training { job, observer: &mut progress }).and_then(|r| r)?;
    runtime.shutdown_background();
    Ok(summary)
}

/// Why a run ended before its last step, kept as its note.
fn early_stop_note(summary: &TrainSummary, cfg: &muppet_train::TrainConfig) -> String {
    let patience = cfg.early_stopping.unwrap_or_default();
    let best = match summary.best {
        Some(b) => format!("the best, {:.4} after step {}, is kept (`--step best`)", b.score, b.step),
        None => "none of them gave a score".into(),
    };
    let by = match cfg.early_stopping_threshold {
        t if t > 0.0 => format!(" by more than {t}"),
        _ => String::new(),
    };
    format!(
        "Stopped early at step {} of {}: {patience} dev evaluation{} in a row did not beat the best score{by} (the mean of the tasks' main dev metrics); {best}.",
        summary.steps,
        cfg.steps,
        if patience == 1 { "" } else { "s" }
    )
}

/// The JSON object a training command prints last with `--json`.
pub fn summary_json(run: RunId, summary: &TrainSummary) -> serde_json::Value {
    let status = match summary.outcome {
        Outcome::Completed => RunStatus::Completed,
        Outcome::Cancelled => RunStatus::Cancelled,
    };
    serde_json::json!({
        "run_id": run.0,
        "status": status.as_str(),
        "steps": summary.steps,
        "examples": summary.examples,
        "loss_first": summary.first_loss,
        "loss_last": summary.final_loss,
        "resumed_from": summary.resumed_from,
        "stopped_early": summary.stopped_early,
        "best_step": summary.best.map(|b| b.step),
        "best_score": summary.best.map(|b| b.score),
        "checkpoint": summary.checkpoint.as_ref().map(|c| c.path.display().to_string()),
        "tasks": summary.tasks.iter().map(|t| serde_json::json!({
            "name": t.name,
            "metric": t.metric,
            "train_examples": t.train_examples,
            "dev_examples": t.dev_examples,
            "loss_first": t.loss_first,
            "loss_last": t.loss_last,
            "dev_metric_before": t.dev_before,
            "dev_metric": t.dev_after,
        })).collect::<Vec<_>>(),
    })
}

/// Print the summary for people.
pub fn print_summary(run: RunId, summary: &TrainSummary) {
    let status = if summary.outcome == Outcome::Cancelled { "cancelled" } else { "completed" };
    println!(
        "run {run} {status}: {} steps, {} examples, loss {:.4} -> {:.4}",
        summary.steps, summary.examples, summary.first_loss, summary.final_loss
    );
    if let Some(saved) = &summary.checkpoint {
        println!("checkpoint {}", saved.path.display());
    }
    // Said when it is not simply the last evaluation.
    if let Some(best) = summary.best.filter(|b| b.step != summary.steps || summary.stopped_early) {
        println!("best dev score {:.4} after step {}{}", best.score, best.step, if summary.stopped_early { " (stopped early)" } else { "" });
    }
    for t in &summary.tasks {
        println!(
            "  {:<26} train {:>6}  dev {:>4}  loss {:.4} -> {:.4}  dev {} {:.3} -> {:.3}",
            t.name, t.train_examples, t.dev_examples, t.loss_first, t.loss_last, t.metric, t.dev_before, t.dev_after
        );
    }
}
