//! `muppet experiment run|resume|status|list`: an experiment spec (TOML) expanded into
//! runs, checked against the data before anything starts, stored as an experiment with
//! its runs, and executed by `muppet worker --run ID` child processes, N at a time.
//! Running the same spec again (or `resume ID`) skips completed runs; a failed run is
//! retried once, then reported, and the runs that start from it are reported blocked.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Instant;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use muppet_core::{ExperimentSpec, MuppetHome, RunId, RunStatus};
use muppet_data::assets::{self, Group};
use muppet_store::{ExperimentId, NewExperiment, RunRow, Store};
use muppet_core::experiment::ConfigOverrides;
use muppet_train::experiment::{self as plan_mod, Arm, Facts, Plan, PlannedRun, PlannedStart, Role};

use crate::launch::{self, InitSpec, RunSpec};
use crate::pruner::Pruner;

#[derive(Subcommand)]
pub enum ExperimentCommand {
    /// Create (or continue) the experiment of a spec file and run it.
    Run(RunArgs),
    /// Continue a stored experiment: completed runs are skipped.
    Resume(ResumeArgs),
    /// Where each run of an experiment stands.
    Status {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Every experiment, newest first.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Write an experiment with every run of it as one file, for `muppet runs import` on
    /// another machine or data folder (e.g. from a GPU server to the desktop app). Refused
    /// while it runs.
    Bundle {
        id: i64,
        /// The bundle to write (a new file; `.tar` by convention).
        #[arg(long)]
        out: PathBuf,
    },
    /// Score a task with every completed pre-finetuning run of an experiment, with no
    /// fine-tuning (`muppet eval` over them): each run's last checkpoint, or its best where it
    /// kept one (where the experiment's fine-tunes start). `muppet report` then compares them.
    Score(ScoreArgs),
    /// Delete an experiment for good, with every run of it, its log, its report and its
    /// comparisons with other experiments.
    /// Refused while it runs.
    Delete {
        id: i64,
        /// Print what was deleted as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
pub struct Launch {
    /// Runs at a time (each a `muppet worker` process; CPU threads are shared among them).
    #[arg(long, default_value_t = 1)]
    parallel: usize,
    /// Run even when a downstream task is in the mixture it starts from (a warning then).
    #[arg(long)]
    allow_overlap: bool,
    /// Print `{experiment_id, status, runs}` as the last line of stdout.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct RunArgs {
    /// The experiment spec (TOML); see experiments/demo.toml.
    #[arg(long)]
    spec: PathBuf,
    #[command(flatten)]
    launch: Launch,
}

#[derive(Args)]
pub struct ScoreArgs {
    /// The experiment id (see `muppet experiment list`).
    id: i64,
    // A held-out task (through a head every model has), or one they trained on.
    #[command(flatten)]
    what: crate::eval::ScoringFlags,
    /// Print what each model scored as one JSON array.
    #[arg(long)]
    json: bool,
    /// Print the progress and each model's result as JSON lines, for the app.
    #[arg(long)]
    json_lines: bool,
}

#[derive(Args)]
pub struct ResumeArgs {
    /// The experiment id (see `muppet experiment list`).
    id: i64,
    /// Draw N more settings of a random search (`sweep.random`) and train them too: the
    /// settings drawn so far stay the same.
    #[arg(long, value_name = "N")]
    more: Option<usize>,
    /// With --more: propose the N settings from the scores of those trained so far instead
    /// of drawing them at random (a tree-structured Parzen estimator, W&B's `bayes` method):
    /// near the best settings, each a setting not tried yet. The score of a setting is the
    /// mean of its fine-tunes' final dev figures over tasks, seeds and starts; it needs 4
    /// settings scored. The proposals are stored in the spec (`sweep.proposed`).
    #[arg(long, requires = "more")]
    guided: bool,
    #[command(flatten)]
    launch: Launch,
}

pub fn run(command: ExperimentCommand) -> anyhow::Result<()> {
    match command {
        ExperimentCommand::Run(args) => run_spec(args),
        ExperimentCommand::Resume(args) => resume(args),
        ExperimentCommand::Status { id, json } => status(ExperimentId(id), json),
        ExperimentCommand::Score(args) => score(args),
        ExperimentCommand::List { json } => list(json),
        ExperimentCommand::Delete { id, json } => delete(ExperimentId(id), json),
        ExperimentCommand::Bundle { id, out } => crate::runs::bundle(&[], Some(ExperimentId(id)), &out),
    }
}

fn delete(id: ExperimentId, json: bool) -> anyhow::Result<()> {
    let deleted = crate::with_store(async |store, home| Ok(muppet_store::delete::delete_experiment(store, home, id).await?))?;
    crate::print_deleted(&deleted, json)
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?)
}

/// Read a spec file; a relative model folder is taken from the file's folder.
pub fn read_spec(path: &Path) -> anyhow::Result<ExperimentSpec> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading the experiment spec {}", path.display()))?;
    let mut spec: ExperimentSpec = toml::from_str(&text).with_context(|| format!("{} is not a valid experiment spec", path.display()))?;
    if let Some(model) = &spec.model
        && model.is_relative()
    {
        let base = path.parent().unwrap_or(Path::new("."));
        spec.model = Some(std::fs::canonicalize(base.join(model)).with_context(|| format!("{}: model folder {} not found", path.display(), model.display()))?);
    }
    Ok(spec)
}

/// Expand a spec, naming where it came from in the errors.
pub fn expand(spec: &ExperimentSpec, source: &str) -> anyhow::Result<Plan> {
    plan_mod::expand(spec).map_err(|e| anyhow::anyhow!("{source} is not a valid experiment:\n{e}"))
}

fn run_spec(args: RunArgs) -> anyhow::Result<()> {
    let home = crate::home();
    home.ensure()?;
    let source = args.spec.display().to_string();
    let mut spec = read_spec(&args.spec)?;
    let rt = runtime()?;
    let store = rt.block_on(Store::open(&home.db()))?;
    let existing = rt.block_on(store.experiment_named(&spec.name))?;
    // The settings a guided draw proposed live in the stored spec, not in the file: the file
    // run again goes on with them.
    if let Some(stored) = existing.as_ref().and_then(|e| serde_json::from_value::<ExperimentSpec>(e.spec.clone()).ok())
        && let (Some(file), Some(kept)) = (spec.sweep.as_mut(), stored.sweep)
        && file.proposed.is_empty()
    {
        file.proposed = kept.proposed;
    }
    let plan = expand(&spec, &source)?;
    let model = model_dir(&home, &spec)?;
    preflight(&home, &spec, &plan, args.launch.allow_overlap, &source)?;
    let value = serde_json::to_value(&spec)?;
    let more = existing.as_ref().and_then(|e| draws_more(&e.spec, &spec));
    let id = match existing {
        Some(existing) if existing.spec == value => {
            eprintln!("experiment {} `{}` exists: continuing it (completed runs are skipped)", existing.id.0, spec.name);
            existing.id
        }
        Some(existing) if let Some((from, to)) = more => {
            let _idle = muppet_core::ProcessLock::experiment(&home, existing.id.0)?;
            rt.block_on(store.set_experiment_spec(existing.id, &value))?;
            eprintln!("experiment {} `{}` exists: drawing {} ({from} to {to}); completed runs are skipped", existing.id.0, spec.name, more_settings(to - from));
            existing.id
        }
        Some(existing) => bail!(
            "an experiment named `{}` already exists (id {}) with a different spec: rename this one (name = ...) or continue the stored one with `muppet experiment resume {}`",
            spec.name,
            existing.id.0,
            existing.id.0
        ),
        None => rt.block_on(store.create_experiment(&NewExperiment { name: spec.name.clone(), kind: plan.kind.as_str().into(), spec: value }))?,
    };
    rt.block_on(store.close());
    orchestrate_and_guide(&home, id, (spec, plan), &model, &args.launch)
}

/// Train the plan; then, for a random search with `guided = N`, propose settings from the
/// scores and train them, round after round (as many per round as train at a time), until
/// N are proposed.
fn orchestrate_and_guide(home: &MuppetHome, id: ExperimentId, (mut spec, mut plan): (ExperimentSpec, Plan), model: &Path, opts: &Launch) -> anyhow::Result<()> {
    loop {
        orchestrate(home, id, &spec, &plan, model, opts)?;
        let Some(sw) = spec.sweep.as_ref() else { return Ok(()) };
        let (wanted, proposed) = (sw.guided.unwrap_or(0), sw.proposed.len());
        if proposed >= wanted {
            return Ok(());
        }
        let stopped = || anyhow::anyhow!("experiment {} stopped before all {wanted} guided settings were trained; `muppet experiment resume {}` continues it", id.0, id.0);
        // Asked to stop as a round ended: no more rounds.
        if INTERRUPTED.load(Ordering::SeqCst) {
            return Err(stopped());
        }
        (spec, plan) = draw_more(home, id, (wanted - proposed).min(opts.parallel.max(1)), true)?;
        if INTERRUPTED.load(Ordering::SeqCst) {
            return Err(stopped());
        }
    }
}

fn resume(args: ResumeArgs) -> anyhow::Result<()> {
    let home = crate::home();
    let id = ExperimentId(args.id);
    let (spec, plan) = match args.more {
        Some(n) => draw_more(&home, id, n, args.guided)?,
        None => stored(&home, id)?,
    };
    let model = model_dir(&home, &spec)?;
    preflight(&home, &spec, &plan, args.launch.allow_overlap, &format!("experiment {}", id.0))?;
    orchestrate_and_guide(&home, id, (spec, plan), &model, &args.launch)
}

/// Whether `new` is the stored spec of a random search with a larger `count`, and the counts:
/// the draws follow the seed, so its first settings are the stored ones and the experiment
/// goes on with the others.
fn draws_more(stored: &serde_json::Value, new: &ExperimentSpec) -> Option<(usize, usize)> {
    let stored: ExperimentSpec = serde_json::from_value(stored.clone()).ok()?;
    let (from, to) = (stored.sweep.as_ref().filter(|s| !s.random.is_empty())?.count?, new.sweep.as_ref()?.count?);
    let mut same = new.clone();
    same.sweep.as_mut()?.count = Some(from);
    (to > from && same == stored).then_some((from, to))
}

/// `muppet experiment resume ID --more N [--guided]`: the stored random search draws N more
/// settings, or with `guided` has them proposed from the scores so far; its spec and plan as
/// stored now.
fn draw_more(home: &MuppetHome, id: ExperimentId, n: usize, guided: bool) -> anyhow::Result<(ExperimentSpec, Plan)> {
    let (mut spec, plan) = stored(home, id)?;
    if spec.sweep.as_ref().is_none_or(|s| s.random.is_empty()) {
        bail!("--more draws more settings of a random search (a sweep with sweep.random); experiment {} draws none: resume it without --more", id.0);
    }
    if n == 0 {
        bail!("--more 0 draws nothing: give the number of settings to draw, at least 1");
    }
    let proposed = if guided {
        let tried = setting_scores(home, id, &spec, &plan)?;
        let proposed = plan_mod::propose(&spec, &tried, n).map_err(|e| anyhow::anyhow!("experiment {}: {e}", id.0))?;
        Some((proposed, tried.len()))
    } else {
        None
    };
    let Some(sweep) = spec.sweep.as_mut() else { unreachable!("checked above") };
    let said = match proposed {
        Some((proposed, scored)) => {
            let labels: Vec<String> = proposed.iter().map(plan_mod::setting_label).collect();
            sweep.proposed.extend(proposed);
            format!("proposing {} from the scores of {scored} (TPE): {}", more_settings(n), labels.join("; "))
        }
        None => {
            let from = sweep.count.unwrap_or(0);
            sweep.count = Some(from + n);
            format!("drawing {} ({from} to {})", more_settings(n), from + n)
        }
    };
    let plan = expand(&spec, &format!("experiment {} with {n} more settings", id.0))?;
    let _idle = muppet_core::ProcessLock::experiment(home, id.0)?;
    crate::with_store(async |store, _| Ok(store.set_experiment_spec(id, &serde_json::to_value(&spec)?).await?))?;
    // Said in the experiment's own log too, for the app.
    let journal = std::fs::OpenOptions::new().create(true).append(true).open(home.experiment_dir(id.0).join(muppet_core::home::EXPERIMENT_LOG)).ok();
    say(&ProgressBar::hidden(), journal.as_ref(), format!("experiment {}: {said}", id.0));
    Ok((spec, plan))
}

/// Each setting of a random search with a score so far: its values of the fields drawn, and
/// the mean of its completed fine-tunes' final dev figures (as the report takes them) over
/// tasks, seeds and starts.
fn setting_scores(home: &MuppetHome, id: ExperimentId, spec: &ExperimentSpec, plan: &Plan) -> anyhow::Result<Vec<(ConfigOverrides, f64)>> {
    let keys: Vec<&String> = spec.sweep.as_ref().map(|s| s.random.keys().collect()).unwrap_or_default();
    let rt = runtime()?;
    let store = rt.block_on(Store::open(&home.db()))?;
    let rows = stored_runs(&store, &rt, id)?;
    let mut scores: BTreeMap<String, (ConfigOverrides, Vec<f64>)> = BTreeMap::new();
    for run in &plan.runs {
        let Role::Finetune { task, arm: Arm::Setting { values, .. }, .. } = &run.role else { continue };
        let Some(row) = rows.get(&run.name).filter(|r| r.status == RunStatus::Completed) else { continue };
        let Some((_, value, _)) = final_metric_and_series(home, &store, &rt, row.id, task) else { continue };
        let config = serde_json::to_value(&run.config)?;
        let setting: ConfigOverrides = keys.iter().filter_map(|k| Some(((*k).clone(), config.get(k.as_str())?.clone()))).collect();
        scores.entry(values.clone()).or_insert_with(|| (setting, Vec::new())).1.push(value);
    }
    rt.block_on(store.close());
    Ok(scores.into_values().map(|(setting, values)| (setting, values.iter().sum::<f64>() / values.len() as f64)).collect())
}

/// "1 more setting", "3 more settings".
fn more_settings(n: usize) -> String {
    format!("{n} more setting{}", if n == 1 { "" } else { "s" })
}

/// The stored spec of an experiment and its plan.
pub fn stored(home: &MuppetHome, id: ExperimentId) -> anyhow::Result<(ExperimentSpec, Plan)> {
    let rt = runtime()?;
    let store = rt.block_on(Store::open(&home.db()))?;
    let exp = rt.block_on(store.experiment(id));
    rt.block_on(store.close());
    let exp = exp.with_context(|| format!("experiment {} (see `muppet experiment list`)", id.0))?;
    let spec: ExperimentSpec = serde_json::from_value(exp.spec).with_context(|| format!("experiment {} was not made by `muppet experiment run`", id.0))?;
    let plan = expand(&spec, &format!("experiment {}", id.0))?;
    Ok((spec, plan))
}

/// The base model folder: the spec's, else the embedded default (fetched if missing).
fn model_dir(home: &MuppetHome, spec: &ExperimentSpec) -> anyhow::Result<PathBuf> {
    match &spec.model {
        Some(dir) if dir.join(muppet_model::CONFIG_FILE).is_file() => Ok(dir.clone()),
        Some(dir) => bail!("model: {} is not a model folder (no config.json): give a folder in Hugging Face layout", dir.display()),
        None => {
            let dir = assets::model_dir(home.assets());
            if !dir.join(muppet_model::CONFIG_FILE).is_file() {
                crate::assets::fetch(&[Group::Model])?;
            }
            Ok(dir)
        }
    }
}

/// Check the plan against the data before any run starts: every task loads, every size
/// fits, existing runs can be started from, overlaps are refused (or warned about).
fn preflight(home: &MuppetHome, spec: &ExperimentSpec, plan: &Plan, allow_overlap: bool, source: &str) -> anyhow::Result<()> {
    if let Some(backend) = &spec.backend {
        backend.parse::<muppet_train::backend::BackendKind>().with_context(|| format!("{source}: backend"))?;
    }
    let mut facts = Facts::default();
    let names: BTreeSet<&String> = plan.runs.iter().flat_map(|r| r.tasks.iter()).collect();
    for name in names {
        match launch::load_tasks(home, std::slice::from_ref(name)) {
            Ok(tasks) => {
                facts.add_task(&tasks[0].spec, tasks[0].examples.len());
            }
            Err(e) if matches!(e.downcast_ref::<muppet_data::DataError>(), Some(muppet_data::DataError::UnknownTask { .. })) => {}
            Err(e) => return Err(e.context(format!("{source}: loading task `{name}`"))),
        }
    }
    // Every catalog name counts as known, for the message about an unknown one (the
    // check only reads the sizes of the plan's own tasks, loaded above).
    for name in muppet_data::catalog::demo_names() {
        facts.task_examples.entry(name.to_string()).or_insert(usize::MAX);
    }
    let starts: BTreeSet<i64> = plan.runs.iter().filter_map(|r| if let PlannedStart::Run { id } = r.start { Some(id) } else { None }).collect();
    if !starts.is_empty() {
        let rt = runtime()?;
        let store = rt.block_on(Store::open(&home.db()))?;
        for id in starts {
            let fact = match rt.block_on(store.run(RunId(id))) {
                Err(muppet_store::StoreError::NoSuchRun(_)) => continue,
                Err(e) => return Err(e.into()),
                Ok(row) if row.status != RunStatus::Completed => Err(format!("it is {}, not completed", row.status.as_str())),
                Ok(_) => match rt.block_on(store.checkpoints(RunId(id)))?.is_empty() {
                    true => Err("it has no checkpoint".to_string()),
                    false => Ok(rt.block_on(store.run_tasks(RunId(id)))?),
                },
            };
            facts.runs.insert(id, fact);
        }
        rt.block_on(store.close());
    }
    match plan_mod::check(spec, plan, &facts, allow_overlap) {
        Ok(warnings) => {
            for w in warnings {
                eprintln!("warning: {w}");
            }
            Ok(())
        }
        Err(e) => bail!("{source} cannot run:\n{e}"),
    }
}

/// Where a planned run stands during orchestration.
#[derive(Debug, Clone, PartialEq)]
enum State {
    /// Not started in this invocation; the stored run if there is one.
    Waiting(Option<RunId>),
    Running(RunId),
    Done(RunId),
    Failed(Option<RunId>, String),
    /// Its dependency failed.
    Blocked(String),
    Cancelled(RunId),
}

enum Msg {
    Line(usize, serde_json::Value),
    Exit(usize, Option<i32>),
}

/// The `RunSpec` of a planned run whose start is known: from the start run's best checkpoint
/// when that run kept its best (`keep_best`, early stopping), otherwise from its last.
fn run_spec_for(home: &MuppetHome, store: &Store, rt: &tokio::runtime::Runtime, run: &PlannedRun, model: &Path, backend: &str, source: Option<RunId>) -> anyhow::Result<RunSpec> {
    let init = match source {
        None => InitSpec::Base,
        Some(src) => {
            // A run that kept its best but never scored one (every score NaN) starts from its last.
            let best = rt.block_on(keeps_best(store, src)).then(|| rt.block_on(crate::best::best_checkpoint(home, store, src)).ok()).flatten();
            let chosen = rt
                .block_on(store.checkpoint_at(src, best.map(|b| b.step)))
                .with_context(|| format!("run {src} has no checkpoint to start `{}` from", run.name))?;
            InitSpec::Run { run: src.0, step: chosen.step, checkpoint: chosen.path, reuse_heads: run.reuse_heads }
        }
    };
    Ok(RunSpec { model: model.to_path_buf(), tasks: run.tasks.clone(), backend: backend.to_string(), init, config: run.config.clone() })
}

/// `muppet experiment score`: the completed pre-finetuning runs, those scored at their last
/// checkpoint first, then those that kept their best (`--step best`).
fn score(args: ScoreArgs) -> anyhow::Result<()> {
    let id = ExperimentId(args.id);
    let models: Vec<(RunId, bool)> = crate::with_store(async |store, _| {
        store.experiment(id).await.with_context(|| format!("experiment {} (see `muppet experiment list`)", args.id))?;
        let mut models = Vec::new();
        for r in store.experiment_runs(id).await? {
            if r.kind == muppet_core::RunKind::PreFinetune && r.status == RunStatus::Completed {
                models.push((r.id, keeps_best(store, r.id).await));
            }
        }
        Ok(models)
    })?;
    if models.is_empty() {
        anyhow::bail!("experiment {} has no completed pre-finetuning run to score: run or resume it first (`muppet experiment resume {}`)", args.id, args.id);
    }
    let mut all = Vec::new();
    for best in [false, true] {
        let runs: Vec<i64> = models.iter().filter(|(_, b)| *b == best).map(|(r, _)| r.0).collect();
        if runs.is_empty() {
            continue;
        }
        let step = best.then_some(crate::best::StepArg::Best);
        let eval = crate::eval::EvalArgs::of_runs(runs, args.what.clone(), step, args.json, args.json_lines);
        all.extend(crate::eval::evaluate(&eval)?);
    }
    if args.json && !args.json_lines {
        println!("{}", serde_json::to_string_pretty(&all)?);
    } else if !args.json_lines {
        eprintln!("scored {} pre-finetuned model(s) of experiment {}; `muppet report {} --out DIR` compares them", all.len(), args.id, args.id);
    }
    Ok(())
}

/// Whether stored run `run` kept its best checkpoint (`keep_best`, early stopping).
async fn keeps_best(store: &Store, run: RunId) -> bool {
    store.run_spec(run).await.ok().and_then(|v| serde_json::from_value::<RunSpec>(v).ok()).is_some_and(|s| s.config.keeps_best())
}

/// Runs of the experiment by name (the latest of a name wins).
fn stored_runs(store: &Store, rt: &tokio::runtime::Runtime, id: ExperimentId) -> anyhow::Result<BTreeMap<String, RunRow>> {
    Ok(rt.block_on(store.experiment_runs(id))?.into_iter().map(|r| (r.name.clone(), r)).collect())
}

fn orchestrate(home: &MuppetHome, id: ExperimentId, spec: &ExperimentSpec, plan: &Plan, model: &Path, opts: &Launch) -> anyhow::Result<()> {
    // One orchestrator per experiment, held to the end: the app finds this process by it.
    let _lock = muppet_core::ProcessLock::experiment(home, id.0)?;
    // What it says goes to the experiment's own log too, for whoever follows it from
    // elsewhere (the app, when this runs in a terminal).
    let journal = std::fs::OpenOptions::new().create(true).append(true).open(home.experiment_dir(id.0).join(muppet_core::home::EXPERIMENT_LOG)).ok();
    let started = Instant::now();
    let parallel = opts.parallel.max(1);
    let backend = spec.backend.clone().unwrap_or_else(|| "cpu".into());
    let rt = runtime()?;
    let store = rt.block_on(Store::open(&home.db()))?;
    let existing = stored_runs(&store, &rt, id)?;
    let mut states: Vec<State> = plan
        .runs
        .iter()
        .map(|r| match existing.get(&r.name) {
            Some(row) if row.status == RunStatus::Completed => State::Done(row.id),
            Some(row) => State::Waiting(Some(row.id)),
            None => State::Waiting(None),
        })
        .collect();
    let skipped = states.iter().filter(|s| matches!(s, State::Done(_))).count();
    // A sweep that stops its runs that fall behind compares them with the finished ones.
    let mut pruner = spec.sweep.as_ref().and_then(|s| s.early_terminate.clone()).map(|rule| Pruner::new(rule, plan));
    if let Some(pruner) = &mut pruner {
        for (i, state) in states.iter().enumerate() {
            if let State::Done(run) = state {
                rt.block_on(pruner.finished_before(home, &store, i, *run));
            }
        }
    }
    // Register every run that can be specified now (no dependency, or a completed one).
    for i in 0..plan.runs.len() {
        ensure_queued(home, &store, &rt, id, plan, &mut states, i, model, &backend)?;
    }
    rt.block_on(store.close());
    let hidden = ProgressBar::hidden();
    say(
        &hidden,
        journal.as_ref(),
        format!("experiment {} `{}`: {} runs ({} already completed), {} at a time", id.0, spec.name, plan.runs.len(), skipped, parallel),
    );

    let interrupted = &INTERRUPTED;
    let children: Arc<std::sync::Mutex<BTreeMap<usize, u32>>> = Arc::default();
    watch_signals(children.clone())?;
    let threads = std::env::var_os("RAYON_NUM_THREADS").is_none().then(|| {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        (cores / parallel).max(1)
    });

    let bar = ProgressBar::new(plan.runs.len() as u64)
        .with_style(ProgressStyle::with_template("{spinner} runs {pos}/{len} [{bar:30}] {elapsed_precise} eta {eta} {msg}")?.progress_chars("=> "));
    bar.set_position(skipped as u64);
    let (tx, rx) = mpsc::channel::<Msg>();
    let mut attempts = vec![0u32; plan.runs.len()];
    let mut steps: BTreeMap<usize, (u64, u64)> = BTreeMap::new();
    let mut summaries: BTreeMap<usize, serde_json::Value> = BTreeMap::new();
    let mut reasons: BTreeMap<usize, String> = BTreeMap::new();
    let mut run_started: BTreeMap<usize, Instant> = BTreeMap::new();
    loop {
        let running = states.iter().filter(|s| matches!(s, State::Running(_))).count();
        // Launch what is ready.
        if !interrupted.load(Ordering::SeqCst) {
            let mut free = parallel.saturating_sub(running);
            for i in 0..plan.runs.len() {
                if free == 0 {
                    break;
                }
                if let State::Waiting(Some(run)) = states[i] {
                    attempts[i] += 1;
                    if let Some(pruner) = &mut pruner {
                        let store = rt.block_on(Store::open(&home.db()))?;
                        rt.block_on(pruner.starting(home, &store, i, run));
                        rt.block_on(store.close());
                    }
                    let log = home.run_dir(run).join("worker.log");
                    // The table is held across the spawn: a SIGTERM arriving meanwhile is
                    // passed on once the new worker is in it.
                    let mut table = children.lock().map_err(|_| anyhow::anyhow!("worker table poisoned"))?;
                    match spawn_worker(home, run, &log, threads, i, tx.clone()) {
                        Ok(pid) => {
                            table.insert(i, pid);
                            drop(table);
                            states[i] = State::Running(run);
                            run_started.insert(i, Instant::now());
                            free -= 1;
                        }
                        Err(e) => states[i] = State::Failed(Some(run), format!("{e:#}")),
                    }
                }
            }
        }
        let running = states.iter().filter(|s| matches!(s, State::Running(_))).count();
        if running == 0 {
            break;
        }
        bar.set_message(progress_message(&states, &steps));
        let Ok(msg) = rx.recv() else { break };
        match msg {
            Msg::Line(i, line) => match line["event"].as_str() {
                Some("step") => {
                    steps.insert(i, (line["step"].as_u64().unwrap_or(0), line["total_steps"].as_u64().unwrap_or(0)));
                }
                Some("summary") => {
                    summaries.insert(i, line);
                }
                Some("dev_score") => {
                    if let Some(pruner) = &mut pruner
                        && let State::Running(run) = states[i]
                        && let Some(verdict) = pruner.scored(i, line["step"].as_u64().unwrap_or(0), line["score"].as_f64())
                    {
                        say(&bar, journal.as_ref(), format!("stopping run {run} {}: {}", plan.runs[i].name, verdict.reason()));
                        let pid = children.lock().map_err(|_| anyhow::anyhow!("worker table poisoned"))?.get(&i).copied();
                        if let Some(pid) = pid {
                            let _ = Command::new("kill").args(["-USR1", &pid.to_string()]).status();
                        }
                    }
                }
                Some("failed") => {
                    reasons.insert(i, line["reason"].as_str().unwrap_or("failed").to_string());
                }
                _ => {}
            },
            Msg::Exit(i, code) => {
                children.lock().map_err(|_| anyhow::anyhow!("worker table poisoned"))?.remove(&i);
                steps.remove(&i);
                let State::Running(run) = states[i] else { continue };
                let took = run_started.get(&i).map(|t| t.elapsed().as_secs_f64()).unwrap_or(0.0);
                let summary = summaries.remove(&i);
                let status = summary.as_ref().and_then(|s| s["status"].as_str().map(str::to_string));
                let completed = matches!((code, status.as_deref()), (Some(0), Some("completed")));
                let stopped_early = summary.as_ref().is_some_and(|s| s["stopped_early"] == true);
                let verdict = pruner.as_mut().and_then(|p| p.ended(i, completed, stopped_early));
                match (code, status.as_deref()) {
                    (Some(0), Some("completed")) => {
                        states[i] = State::Done(run);
                        bar.inc(1);
                        let metric = summary
                            .as_ref()
                            .and_then(|s| s["tasks"].get(0).cloned())
                            .map(|t| format!(", dev {} {:.3}", t["metric"].as_str().unwrap_or("metric"), t["dev_metric"].as_f64().unwrap_or(f64::NAN)))
                            .unwrap_or_default();
                        let done = if verdict.is_some() { "pruned" } else { "done  " };
                        say(&bar, journal.as_ref(), format!("{done} run {run} {}{metric} ({took:.0}s)", plan.runs[i].name));
                        if !plan.runs.iter().any(|r| r.depends_on() == Some(i)) {
                            prune_optimizer_state(&home.run_dir(run));
                        }
                        let rt = runtime()?;
                        let store = rt.block_on(Store::open(&home.db()))?;
                        if let Some(verdict) = verdict
                            && let Err(e) = rt.block_on(crate::pruner::keep_verdict(&store, run, &verdict))
                        {
                            say(&bar, journal.as_ref(), format!("warning: run {run} was stopped by the sweep's rule but that could not be stored with it: {e:#}"));
                        }
                        for j in 0..plan.runs.len() {
                            if plan.runs[j].depends_on() == Some(i)
                                && let Err(e) = ensure_queued(home, &store, &rt, id, plan, &mut states, j, model, &backend)
                            {
                                states[j] = State::Failed(None, format!("{e:#}"));
                            }
                        }
                        rt.block_on(store.close());
                    }
                    (_, Some("cancelled")) => {
                        states[i] = State::Cancelled(run);
                        say(&bar, journal.as_ref(), format!("stopped run {run} {} (resume continues it from its checkpoint)", plan.runs[i].name));
                    }
                    _ => {
                        let reason = reasons.remove(&i).unwrap_or_else(|| crash_reason(code, &home.run_dir(run).join("worker.log")));
                        if interrupted.load(Ordering::SeqCst) {
                            states[i] = State::Cancelled(run);
                        } else if attempts[i] < 2 {
                            say(&bar, journal.as_ref(), format!("failed run {run} {}: {reason}; retrying once", plan.runs[i].name));
                            states[i] = State::Waiting(Some(run));
                        } else {
                            say(&bar, journal.as_ref(), format!("failed run {run} {}: {reason}", plan.runs[i].name));
                            states[i] = State::Failed(Some(run), reason);
                        }
                    }
                }
            }
        }
        // Runs whose dependency failed cannot start.
        for j in 0..plan.runs.len() {
            if let (Some(d), State::Waiting(None)) = (plan.runs[j].depends_on(), &states[j])
                && let State::Failed(..) | State::Blocked(_) = &states[d]
            {
                states[j] = State::Blocked(format!("`{}` failed", plan.runs[d].name));
            }
        }
    }
    bar.finish_and_clear();
    let rt = runtime()?;
    let store = rt.block_on(Store::open(&home.db()))?;
    let rows = stored_runs(&store, &rt, id)?;
    let report = report_json(home, &store, &rt, id, plan, &states, &rows)?;
    rt.block_on(store.close());
    let status = report["status"].as_str().unwrap_or("failed").to_string();
    say(&hidden, journal.as_ref(), format!("experiment {} {status} in {:.0}s: {}", id.0, started.elapsed().as_secs_f64(), count_line(&report)));
    if opts.json {
        println!("{report}");
    } else {
        println!("experiment {} {status}; `muppet experiment status {}` lists its runs, `muppet report {} --out DIR` draws them", id.0, id.0, id.0);
    }
    match status.as_str() {
        "completed" => Ok(()),
        "cancelled" => bail!("experiment {} stopped; `muppet experiment resume {}` continues it", id.0, id.0),
        _ => bail!("experiment {} has failed runs (see above); `muppet experiment resume {}` retries them", id.0, id.0),
    }
}

/// Register run `i` as queued if it is not stored yet and its start is known.
#[allow(clippy::too_many_arguments)]
fn ensure_queued(
    home: &MuppetHome,
    store: &Store,
    rt: &tokio::runtime::Runtime,
    id: ExperimentId,
    plan: &Plan,
    states: &mut [State],
    i: usize,
    model: &Path,
    backend: &str,
) -> anyhow::Result<()> {
    if states[i] != State::Waiting(None) {
        return Ok(());
    }
    let run = &plan.runs[i];
    let source = match run.start {
        PlannedStart::Base => None,
        PlannedStart::Run { id } => Some(RunId(id)),
        PlannedStart::Planned { index } => match states[index] {
            State::Done(r) => Some(r),
            _ => return Ok(()),
        },
    };
    let spec = run_spec_for(home, store, rt, run, model, backend, source)?;
    let new = launch::create_queued(home, &run.name, run.kind, source, Some(id), &spec, &launch::Labels::default())?;
    states[i] = State::Waiting(Some(new));
    Ok(())
}

/// Start `muppet worker --run ID`, its stdout read line by line on a thread; returns its pid.
fn spawn_worker(home: &MuppetHome, run: RunId, log: &Path, threads: Option<usize>, index: usize, tx: mpsc::Sender<Msg>) -> anyhow::Result<u32> {
    std::fs::create_dir_all(log.parent().unwrap_or(Path::new("."))).with_context(|| format!("creating {}", log.display()))?;
    let log_file = std::fs::OpenOptions::new().create(true).append(true).open(log).with_context(|| format!("opening {}", log.display()))?;
    let exe = std::env::current_exe().context("finding the muppet binary")?;
    let mut cmd = Command::new(exe);
    cmd.args(["worker", "--run", &run.0.to_string()])
        .env(muppet_core::home::HOME_ENV, home.root())
        .env(muppet_core::home::ASSETS_ENV, home.assets())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log_file));
    if let Some(n) = threads {
        cmd.env("RAYON_NUM_THREADS", n.to_string());
    }
    let mut child = cmd.spawn().context("starting a worker")?;
    let pid = child.id();
    let stdout = child.stdout.take().context("worker stdout")?;
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Ok(value) = serde_json::from_str::<serde_json::Value>(&line) {
                let _ = tx.send(Msg::Line(index, value));
            }
        }
        let code = child.wait().ok().and_then(|s| s.code());
        let _ = tx.send(Msg::Exit(index, code));
    });
    Ok(pid)
}

/// Ctrl-C reaches the workers too (same process group): they finish their step, write a
/// checkpoint and stop; nothing new is started. SIGTERM is passed on to the workers.
/// Returns once the handlers are installed, so that no worker starts before a SIGTERM
/// would be passed on to it.
/// Set for good once the process is asked to stop (SIGTERM, Ctrl-C): nothing new starts,
/// in this round of a guided search or any later one.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

fn watch_signals(children: Arc<std::sync::Mutex<BTreeMap<usize, u32>>>) -> anyhow::Result<()> {
    let (ready_tx, ready_rx) = mpsc::channel::<std::io::Result<()>>();
    std::thread::spawn(move || {
        use tokio::signal::unix::{signal, SignalKind};
        let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(rt) => rt,
            Err(e) => return drop(ready_tx.send(Err(e))),
        };
        let _context = rt.enter();
        let (mut term, mut int) = match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
            (Ok(term), Ok(int)) => (term, int),
            (Err(e), _) | (_, Err(e)) => return drop(ready_tx.send(Err(e))),
        };
        let _ = ready_tx.send(Ok(()));
        rt.block_on(async move {
            loop {
                let forward = tokio::select! {
                    _ = term.recv() => true,
                    _ = int.recv() => false,
                };
                if !INTERRUPTED.swap(true, Ordering::SeqCst) {
                    eprintln!("stopping: running workers finish their step and write a checkpoint; nothing new starts");
                }
                if forward && let Ok(pids) = children.lock() {
                    for pid in pids.values() {
                        let _ = Command::new("kill").args(["-TERM", &pid.to_string()]).status();
                    }
                }
            }
        });
    });
    ready_rx.recv().context("the signal watcher stopped")?.context("installing the SIGTERM/Ctrl-C handlers")
}

/// A completed run that nothing starts from keeps its model checkpoint (registered in the
/// store) but not the optimizer state beside it, twice the model's size and only needed to
/// resume training (a 60-run sweep of MiniLM would otherwise leave 11 GB of it).
fn prune_optimizer_state(run_dir: &Path) {
    let Ok(entries) = std::fs::read_dir(run_dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with("optim-step") && name.ends_with(".mpk") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// A line for people on stderr, above the progress bar when there is one, and in the
/// experiment's log.
fn say(bar: &ProgressBar, journal: Option<&std::fs::File>, line: String) {
    if let Some(mut file) = journal {
        use std::io::Write;
        let _ = writeln!(file, "{line}");
    }
    if bar.is_hidden() {
        eprintln!("{line}");
    } else {
        bar.println(line);
    }
}

fn progress_message(states: &[State], steps: &BTreeMap<usize, (u64, u64)>) -> String {
    let failed = states.iter().filter(|s| matches!(s, State::Failed(..))).count();
    let mut parts: Vec<String> = states
        .iter()
        .enumerate()
        .filter_map(|(i, s)| match s {
            State::Running(run) => Some(match steps.get(&i) {
                Some((step, total)) => format!("#{run} {step}/{total}"),
                None => format!("#{run} starting"),
            }),
            _ => None,
        })
        .collect();
    if failed > 0 {
        parts.push(format!("{failed} failed"));
    }
    parts.join(", ")
}

/// The end of a worker's log, for a worker that died without saying why.
fn crash_reason(code: Option<i32>, log: &Path) -> String {
    let tail: String = std::fs::read_to_string(log)
        .map(|t| t.lines().rev().filter(|l| !l.trim().is_empty()).take(3).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join(" | "))
        .unwrap_or_default();
    let code = code.map_or("a signal".to_string(), |c| format!("exit code {c}"));
    format!("the worker ended with {code}: {tail} (log: {})", log.display())
}

/// The primary dev metric of a completed fine-tune: its name and final value, read
/// from the run folder's manifest and the stored series; for a fine-tune that kept its best
/// checkpoint (`keep_best`, early stopping), the value there.
pub fn final_metric(home: &MuppetHome, store: &Store, rt: &tokio::runtime::Runtime, run: RunId, task: &str) -> Option<(String, f64)> {
    final_metric_and_series(home, store, rt, run, task).map(|(metric, value, _)| (metric, value))
}

/// [`final_metric`], with the metric's dev series it was read from, as (step, value).
pub fn final_metric_and_series(home: &MuppetHome, store: &Store, rt: &tokio::runtime::Runtime, run: RunId, task: &str) -> Option<(String, f64, Vec<(u64, f64)>)> {
    let manifest = muppet_train::manifest::RunManifest::read(&home.run_dir(run)).ok()?;
    let metric = manifest.tasks.iter().find(|t| t.name == task)?.metric.as_str().to_string();
    let points = rt.block_on(store.series(run, Some(task), "dev", &metric)).ok()?;
    let best = if rt.block_on(keeps_best(store, run)) { rt.block_on(crate::best::dev_scores(store, &manifest, run)).ok().and_then(muppet_train::best::best_of) } else { None };
    let &(_, value) = match best {
        Some(best) => points.iter().find(|(step, _)| *step == best.step)?,
        None => points.iter().max_by_key(|(step, _)| *step)?,
    };
    Some((metric, value, points))
}

fn state_json(state: &State, rows: &BTreeMap<String, RunRow>, name: &str) -> (Option<i64>, &'static str, Option<String>) {
    let stored = rows.get(name);
    match state {
        State::Done(r) => (Some(r.0), "completed", None),
        State::Running(r) => (Some(r.0), "running", None),
        State::Cancelled(r) => (Some(r.0), "cancelled", None),
        State::Failed(r, why) => (r.map(|r| r.0), "failed", Some(why.clone())),
        State::Blocked(why) => (None, "blocked", Some(why.clone())),
        State::Waiting(_) => match stored {
            Some(row) => (Some(row.id.0), row.status.as_str(), row.failure.clone()),
            None => (None, "waiting", None),
        },
    }
}

/// `{experiment_id, name, kind, status, runs: [...]}`.
fn report_json(
    home: &MuppetHome,
    store: &Store,
    rt: &tokio::runtime::Runtime,
    id: ExperimentId,
    plan: &Plan,
    states: &[State],
    rows: &BTreeMap<String, RunRow>,
) -> anyhow::Result<serde_json::Value> {
    let mut runs = Vec::new();
    let mut statuses = BTreeSet::new();
    for (run, state) in plan.runs.iter().zip(states) {
        let (run_id, status, reason) = state_json(state, rows, &run.name);
        statuses.insert(status);
        let mut v = serde_json::json!({
            "name": run.name,
            "run_id": run_id,
            "status": status,
            "kind": run.kind.as_str(),
            "tasks": run.tasks,
            "depends_on": run.depends_on().map(|d| plan.runs[d].name.clone()),
        });
        if let Some(reason) = reason {
            v["reason"] = reason.into();
        }
        match &run.role {
            Role::Finetune { task, seed, size, arm } => {
                v["task"] = task.clone().into();
                v["seed"] = (*seed).into();
                v["train_size"] = serde_json::to_value(size)?;
                v["start"] = arm.model_arm().label().into();
                // A sweep's setting, as its report names it.
                let swept = matches!(arm, muppet_train::experiment::Arm::Setting { .. } | muppet_train::experiment::Arm::StageSetting { .. });
                if swept {
                    v["setting"] = arm.label().into();
                }
                if status == "completed"
                    && let Some(r) = run_id
                {
                    if let Some((metric, value)) = final_metric(home, store, rt, RunId(r), task) {
                        v["metric"] = metric.into();
                        v["dev_metric"] = value.into();
                    }
                    if swept && rt.block_on(store.run_tags(RunId(r))).is_ok_and(|tags| tags.iter().any(|t| t == crate::pruner::PRUNED_TAG)) {
                        v["pruned"] = true.into();
                    }
                }
            }
            Role::PreFinetune { arm } => v["arm"] = arm.label().into(),
        }
        runs.push(v);
    }
    let status = if statuses.iter().all(|s| *s == "completed") {
        "completed"
    } else if statuses.contains("failed") || statuses.contains("blocked") {
        "failed"
    } else if statuses.contains("cancelled") || statuses.contains("running") {
        "cancelled"
    } else {
        "incomplete"
    };
    Ok(serde_json::json!({"experiment_id": id.0, "kind": plan.kind.as_str(), "status": status, "runs": runs}))
}

fn count_line(report: &serde_json::Value) -> String {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for r in report["runs"].as_array().into_iter().flatten() {
        *counts.entry(r["status"].as_str().unwrap_or("?").to_string()).or_default() += 1;
    }
    let mut line = counts.iter().map(|(k, v)| format!("{v} {k}")).collect::<Vec<_>>().join(", ");
    let pruned = report["runs"].as_array().into_iter().flatten().filter(|r| r["pruned"] == true).count();
    if pruned > 0 {
        line.push_str(&format!(" ({pruned} stopped early by the sweep's rule)"));
    }
    line
}

fn status(id: ExperimentId, json: bool) -> anyhow::Result<()> {
    let home = crate::home();
    let (spec, plan) = stored(&home, id)?;
    let rt = runtime()?;
    let store = rt.block_on(Store::open(&home.db()))?;
    let rows = stored_runs(&store, &rt, id)?;
    let states: Vec<State> = plan.runs.iter().map(|r| State::Waiting(rows.get(&r.name).map(|row| row.id))).collect();
    let report = report_json(&home, &store, &rt, id, &plan, &states, &rows)?;
    rt.block_on(store.close());
    if json {
        println!("{report}");
        return Ok(());
    }
    println!("experiment {} `{}` ({}): {}", id.0, spec.name, plan.kind, count_line(&report));
    if let Some(sw) = spec.sweep.as_ref().filter(|s| s.guided.is_some() || !s.proposed.is_empty()) {
        let wanted = sw.guided.map(|n| format!(" of {n}")).unwrap_or_default();
        println!("settings: {} drawn at random, {}{wanted} proposed from the scores", sw.count.unwrap_or(0), sw.proposed.len());
    }
    for r in report["runs"].as_array().into_iter().flatten() {
        let id = r["run_id"].as_i64().map(|i| i.to_string()).unwrap_or_else(|| "-".into());
        let metric = r["dev_metric"].as_f64().map(|v| format!("  {} {v:.3}", r["metric"].as_str().unwrap_or(""))).unwrap_or_default();
        let reason = r["reason"].as_str().map(|v| format!("  ({v})")).unwrap_or_default();
        let reason = if r["pruned"] == true { format!("{reason}  (stopped early by the sweep's rule: see its notes)") } else { reason };
        println!("{id:>5}  {:<10} {}{metric}{reason}", r["status"].as_str().unwrap_or("?"), r["name"].as_str().unwrap_or(""));
    }
    Ok(())
}

fn list(json: bool) -> anyhow::Result<()> {
    let home = crate::home();
    let rt = runtime()?;
    let store = rt.block_on(Store::open(&home.db()))?;
    let experiments = rt.block_on(store.list_experiments())?;
    rt.block_on(store.close());
    if json {
        println!("{}", serde_json::to_string(&experiments)?);
        return Ok(());
    }
    for e in experiments {
        println!("{:>4}  {:<18} {}  {}", e.id.0, e.kind, e.created_at, e.name);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every spec under experiments/ parses and expands (the data checks need the assets).
    #[test]
    fn shipped_specs_expand() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).expect("experiments/") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "toml") {
                let spec = read_spec(&path).expect("parses");
                let plan = expand(&spec, &path.display().to_string()).expect("expands");
                assert!(plan.runs.iter().enumerate().all(|(i, r)| r.depends_on().is_none_or(|d| d < i)));
                seen += 1;
            }
        }
        assert!(seen >= 7, "expected the demo, task-count, ablation and four sweep specs in {}", dir.display());
        let demo = expand(&read_spec(&dir.join("demo.toml")).expect("demo"), "demo").expect("plan");
        // One stage, then 2 tasks x 5 sizes x 3 seeds x 2 starts.
        assert_eq!(demo.runs.len(), 61);
        let sweep = expand(&read_spec(&dir.join("lr_sweep.toml")).expect("sweep"), "sweep").expect("plan");
        // 2 learning rates x 2 batch sizes x 2 tasks x 3 seeds, from the base model.
        assert_eq!(sweep.runs.len(), 24);
        let k = expand(&read_spec(&dir.join("prefinetune_sweep.toml")).expect("stage sweep"), "stage sweep").expect("plan");
        // 3 pre-finetuning runs (K = 1, 2, 4), then 2 tasks x 3 seeds from each.
        assert_eq!(k.runs.len(), 3 + 18);
        assert_eq!(k.runs.iter().filter(|r| r.kind == muppet_core::RunKind::PreFinetune).map(|r| r.config.tasks_per_update).collect::<Vec<_>>(), [1, 2, 4]);
        let random = expand(&read_spec(&dir.join("random_sweep.toml")).expect("random search"), "random search").expect("plan");
        // 8 drawn settings x 2 tasks x 2 seeds, each within its range.
        assert_eq!(random.runs.len(), 32);
        assert!(random.runs.iter().all(|r| (1e-5..=1e-3).contains(&r.config.lr) && (8..=32).contains(&r.config.steps) && [8, 16].contains(&r.config.batch_size)));
        assert!(read_spec(&dir.join("random_sweep.toml")).expect("random search").sweep.is_some_and(|s| s.early_terminate.is_some() && s.guided == Some(4)), "the example stops runs that fall behind, then proposes 4 settings");
        let tuned = expand(&read_spec(&dir.join("tuned_vs_base.toml")).expect("compared with the base model"), "tuned").expect("plan");
        // The stage, then 3 learning rates x 2 tasks x 3 seeds from the base model and from it.
        assert_eq!(tuned.runs.len(), 1 + 36);
        assert_eq!(tuned.runs.iter().filter(|r| r.kind == muppet_core::RunKind::Finetune && r.start == muppet_train::experiment::PlannedStart::Base).count(), 18);
    }

    #[test]
    fn toml_errors_name_the_file() {
        let dir = tempfile_dir();
        let path = dir.join("bad.toml");
        std::fs::write(&path, "name = \"x\"\n[sample_efficiency]\ntasks = [\"winowhy\"]\nsizes = [16]\nseeds = 1\nstarts = [\"run:abc\"]\n").expect("write");
        let err = format!("{:#}", read_spec(&path).expect_err("bad start"));
        assert!(err.contains("bad.toml is not a valid experiment spec") && err.contains("run:ID"), "{err}");
        std::fs::write(&path, "name = \"x\"\n[sample_efficiency]\ntasks = [\"winowhy\"]\nsizes = [16]\nseeds = 1\nstart = [\"base\"]\n").expect("write");
        let err = format!("{:#}", read_spec(&path).expect_err("misspelt field"));
        assert!(err.contains("start"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("muppet-experiment-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }
}
