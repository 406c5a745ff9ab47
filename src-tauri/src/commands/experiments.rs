//! Experiments: the stored ones with their runs and report charts, building a report
//! (`muppet report`) and running a spec file (`muppet experiment run`), both as child
//! processes of the `muppet` binary; cancelling one; and checking and saving a spec made
//! in the builder.

use std::path::{Path, PathBuf};

use muppet_core::{ExperimentSpec, RunId, RunStatus, StartRef};
use muppet_store::{Experiment, ExperimentId, RunRow};
use muppet_train::experiment::Facts;
use serde::Serialize;
use tauri::State;

use super::store;
use crate::demo::{self, DemoOffer};
use crate::error::CommandError;
use crate::experiment_builder::{self, SpecCheck};
use crate::paths;
use crate::state::StudioState;

/// An experiment, its runs, and the charts of its report when one was built.
#[derive(Debug, Serialize)]
pub struct ExperimentView {
    #[serde(flatten)]
    pub experiment: Experiment,
    pub runs: Vec<RunRow>,
    /// The report folder, when it exists.
    pub report: Option<String>,
    /// File names of the report's SVG charts.
    pub charts: Vec<String>,
    /// Every file of the report folder (charts, CSVs, summary.md).
    pub files: Vec<String>,
    /// Runs of its plan (some are registered only when their start is ready); `None`
    /// when the stored spec does not expand.
    pub planned_runs: Option<usize>,
    /// Whether an orchestrator runs it now (a process holds its lock, whoever started it).
    pub orchestrated: bool,
    /// The report's `summary.md` (its figures in words and tables), when built.
    pub summary: Option<String>,
    /// Its completed pre-finetuning runs with their tasks: the models the card scores.
    pub prefinetuned: Vec<PrefinetunedModel>,
    /// Its runs a sweep's rule stopped early (tagged `pruned`).
    pub stopped_early: usize,
}

/// A completed pre-finetuning run of an experiment.
#[derive(Debug, Clone, Serialize)]
pub struct PrefinetunedModel {
    pub run: RunId,
    pub name: String,
    pub tasks: Vec<String>,
}

/// The completed pre-finetuning runs among `runs`, with their tasks.
async fn prefinetuned(store: &muppet_store::Store, runs: &[RunRow]) -> Result<Vec<PrefinetunedModel>, CommandError> {
    let mut out = Vec::new();
    for r in runs.iter().filter(|r| r.kind == muppet_core::RunKind::PreFinetune && r.status == RunStatus::Completed) {
        out.push(PrefinetunedModel { run: r.id, name: r.name.clone(), tasks: store.run_tasks(r.id).await? });
    }
    Ok(out)
}

/// What the Experiments page shows.
#[derive(Debug, Serialize)]
pub struct ExperimentsPage {
    pub experiments: Vec<ExperimentView>,
    /// `experiments/demo.toml` of the folder the app was started from (or a folder
    /// above it), when there is one.
    pub demo_spec: Option<String>,
    pub launches: Vec<crate::launches::ExperimentLaunch>,
    /// The demo experiment the app offers to try first.
    pub demo: DemoOffer,
}

fn report_dir(state: &StudioState, id: ExperimentId) -> PathBuf {
    state.home().report_dir(id.0)
}

/// The names of the files in a report folder, sorted.
fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    names
}

fn svg_names(dir: &Path) -> Vec<String> {
    file_names(dir)
        .into_iter()
        .filter(|n| n.ends_with(".svg"))
        .collect()
}

#[tauri::command]
pub async fn list_experiments(
    state: State<'_, StudioState>,
) -> Result<ExperimentsPage, CommandError> {
    let store = store(&state)?;
    let mut experiments = Vec::new();
    let stored = store.list_experiments().await?;
    // Experiments running outside this session (an earlier one, a terminal) are listed
    // with this session's launches, to follow and cancel.
    let named: Vec<(i64, String)> = stored.iter().map(|e| (e.id.0, e.name.clone())).collect();
    state.experiments.adopt_running(state.home(), &named);
    let tags = store.all_run_tags().await?;
    let pruned = |run: &RunRow| tags.get(&run.id).is_some_and(|t| t.iter().any(|t| t == muppet_train::experiment::prune::PRUNED_TAG));
    for experiment in stored {
        let runs = store.experiment_runs(experiment.id).await?;
        let dir = report_dir(&state, experiment.id);
        let charts = svg_names(&dir);
        let planned_runs = serde_json::from_value::<ExperimentSpec>(experiment.spec.clone())
            .ok()
            .and_then(|spec| muppet_train::experiment::expand(&spec).ok())
            .map(|plan| plan.runs.len());
        let lock = muppet_core::lock::experiment_lock_path(state.home(), experiment.id.0);
        let orchestrated = matches!(muppet_core::lock::holder(&lock), muppet_core::lock::Holder::Held { .. });
        let summary = std::fs::read_to_string(dir.join("summary.md")).ok();
        let prefinetuned = prefinetuned(&store, &runs).await?;
        experiments.push(ExperimentView {
            stopped_early: runs.iter().filter(|r| pruned(r)).count(),
            prefinetuned,
            planned_runs,
            orchestrated,
            summary,
            files: file_names(&dir),
            report: dir.is_dir().then(|| dir.display().to_string()),
            charts,
            runs,
            experiment,
        });
    }
    let demo_spec = std::env::current_dir().ok().and_then(|dir| {
        dir.ancestors()
            .map(|d| d.join("experiments/demo.toml"))
            .find(|p| p.is_file())
            .map(|p| p.display().to_string())
    });
    Ok(ExperimentsPage {
        experiments,
        demo_spec,
        launches: state.experiments.list(),
        demo: demo::offer()?,
    })
}

/// What the Experiments page asks to score: a task, with every pre-finetuned model of an
/// experiment (`muppet eval` with its completed pre-finetuning runs).
#[derive(Debug, serde::Deserialize)]
pub struct ScoreModelsRequest {
    pub experiment: i64,
    pub task: String,
    /// `dev`, `train` or `all`; `None`: dev for a task the models trained on, all for another.
    pub examples: Option<String>,
    /// The task whose head scores (one every model has); `None`: the task's own, or its
    /// family's shared one.
    pub head: Option<String>,
}

/// The `muppet experiment score` arguments of `request`; refused when the experiment has no
/// model to score (`models`) or no task is picked.
fn score_models_args(request: &ScoreModelsRequest, models: &[PrefinetunedModel]) -> Result<Vec<String>, CommandError> {
    if models.is_empty() {
        return Err(CommandError::Invalid(format!("experiment {} has no completed pre-finetuning run to score", request.experiment)));
    }
    if request.task.trim().is_empty() {
        return Err(CommandError::Invalid("pick a task to score the pre-finetuned models on".into()));
    }
    let mut args: Vec<String> = ["experiment", "score", &request.experiment.to_string(), "--task", &request.task].map(str::to_string).to_vec();
    args.extend(super::runs::eval_options(request.examples.as_deref(), request.head.as_deref()));
    Ok(args)
}

/// Score a task with every completed pre-finetuning run of an experiment, one after the
/// other (`muppet experiment score`: each run's last checkpoint, or its best where it kept
/// one); the scores are stored with each run's metrics, where the experiment's report finds
/// them. Returns what was printed of each run; `on_progress` hears `{"done", "total", "model"}`.
#[tauri::command]
pub async fn score_prefinetuned(
    state: State<'_, StudioState>,
    request: ScoreModelsRequest,
    on_progress: tauri::ipc::Channel<serde_json::Value>,
) -> Result<Vec<serde_json::Value>, CommandError> {
    let models = {
        let store = store(&state)?;
        let runs = store.experiment_runs(ExperimentId(request.experiment)).await?;
        prefinetuned(&store, &runs).await?
    };
    let args = score_models_args(&request, &models)?;
    super::runs::muppet_scoring(&state, &args, &on_progress).await
}

/// One SVG chart of an experiment's report, as text (the UI shows it as an image).
#[tauri::command]
pub fn report_chart(
    state: State<'_, StudioState>,
    experiment: i64,
    name: String,
) -> Result<String, CommandError> {
    let dir = report_dir(&state, ExperimentId(experiment));
    // Only a chart the folder lists: the name cannot lead anywhere else.
    if !svg_names(&dir).contains(&name) {
        return Err(CommandError::Invalid(format!(
            "the report of experiment {experiment} has no chart `{name}`"
        )));
    }
    let path = dir.join(&name);
    std::fs::read_to_string(&path).map_err(CommandError::io("reading", &path))
}

/// Build (or rebuild) an experiment's report into `<MUPPET_HOME>/reports/<id>`.
#[tauri::command]
pub async fn build_report(
    state: State<'_, StudioState>,
    experiment: i64,
) -> Result<String, CommandError> {
    let dir = report_dir(&state, ExperimentId(experiment));
    report_into(&state, &[experiment.to_string()], &dir).await?;
    Ok(dir.display().to_string())
}

/// A comparison of experiments as `muppet report A B ...` writes it: its folder, its charts
/// (name and SVG text) and its summary.
#[derive(Debug, Serialize)]
pub struct ExperimentComparison {
    pub folder: String,
    pub charts: Vec<(String, String)>,
    pub summary: String,
    pub files: Vec<String>,
}

/// Compare experiments of one design (`muppet report A B ...`) into
/// `<MUPPET_HOME>/reports/compare-A-B`, rebuilt each time.
#[tauri::command]
pub async fn compare_experiments(state: State<'_, StudioState>, experiments: Vec<i64>) -> Result<ExperimentComparison, CommandError> {
    if experiments.len() < 2 {
        return Err(CommandError::Invalid("tick two or more experiments of one design to compare them".into()));
    }
    let ids: Vec<String> = experiments.iter().map(|e| e.to_string()).collect();
    let dir = state.home().comparison_dir(&experiments);
    report_into(&state, &ids, &dir).await?;
    let charts = svg_names(&dir)
        .into_iter()
        .map(|name| {
            let path = dir.join(&name);
            std::fs::read_to_string(&path).map(|svg| (name, svg)).map_err(CommandError::io("reading", &path))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let path = dir.join("summary.md");
    let summary = std::fs::read_to_string(&path).map_err(CommandError::io("reading", &path))?;
    Ok(ExperimentComparison { folder: dir.display().to_string(), charts, summary, files: file_names(&dir) })
}

/// Run `muppet report IDS --out DIR` (the report loads every fine-tune's figures; in a
/// child process it cannot take the app down).
async fn report_into(state: &StudioState, ids: &[String], dir: &Path) -> Result<(), CommandError> {
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent).map_err(CommandError::io("creating", parent))?;
    }
    let muppet = state.supervisor.muppet_binary()?.to_path_buf();
    let output = tokio::process::Command::new(&muppet)
        .arg("report")
        .args(ids)
        .arg("--out")
        .arg(dir)
        .env(muppet_core::home::HOME_ENV, state.home().root())
        .env(muppet_core::home::ASSETS_ENV, state.home().assets())
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .map_err(|e| CommandError::Worker(format!("cannot start {}: {e}", muppet.display())))?;
    if !output.status.success() {
        return Err(CommandError::Worker(format!(
            "the report failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(())
}

/// Run an experiment spec file with `muppet experiment run --spec FILE` in the
/// background; its output goes to a log under `<MUPPET_HOME>/experiment-logs/`.
#[tauri::command]
pub async fn run_experiment(
    state: State<'_, StudioState>,
    spec: String,
) -> Result<(), CommandError> {
    let spec = paths::existing_file(&spec, "experiment spec")?;
    if spec.extension().and_then(|e| e.to_str()) != Some("toml") {
        return Err(CommandError::Invalid(format!(
            "{} is not a TOML spec file",
            spec.display()
        )));
    }
    let muppet = state.supervisor.muppet_binary()?;
    state
        .experiments
        .start(muppet, state.home(), &spec, state.settings().parallel_runs)
}

/// Continue a stored experiment in the background (`muppet experiment resume ID`): its
/// completed runs are skipped, the others trained, as many at a time as the settings say.
/// `more`: a random search draws that many more settings first, and trains them too; with
/// `guided`, they are proposed from the scores so far (`--more N --guided`).
#[tauri::command]
pub async fn resume_experiment(state: State<'_, StudioState>, experiment: i64, more: Option<usize>, guided: Option<bool>) -> Result<(), CommandError> {
    let store = store(&state)?;
    let stored = store.experiment(ExperimentId(experiment)).await?;
    if more == Some(0) {
        return Err(CommandError::Invalid("draw at least 1 more setting".into()));
    }
    let muppet = state.supervisor.muppet_binary()?;
    state
        .experiments
        .resume(muppet, state.home(), (experiment, &stored.name), state.settings().parallel_runs, more.map(|n| (n, guided.unwrap_or(false))))
}

/// Run the demo experiment (`experiments/demo.toml`, embedded in the app): its spec is
/// written into the data folder, then run like any spec file. Returns the spec's path.
#[tauri::command]
pub async fn run_demo_experiment(state: State<'_, StudioState>) -> Result<String, CommandError> {
    let muppet = state.supervisor.muppet_binary()?;
    let spec = demo::write_spec(state.home())?;
    state
        .experiments
        .start(muppet, state.home(), &spec, demo::DEMO_PARALLEL)?;
    Ok(spec.display().to_string())
}

/// Stop an experiment started from the app: SIGTERM to its `muppet experiment run`, which
/// stops its workers after their update with a checkpoint; running it again resumes it.
#[tauri::command]
pub fn cancel_experiment(state: State<'_, StudioState>, launch: usize) -> Result<(), CommandError> {
    state.experiments.cancel(launch, state.home())
}

/// Delete an experiment for good, with every run of it, its log, its report and its comparisons; refused
/// while it runs (its orchestrator holds its lock).
#[tauri::command]
pub async fn delete_experiment(
    state: State<'_, StudioState>,
    experiment: i64,
) -> Result<muppet_store::Deleted, CommandError> {
    let store = store(&state)?;
    Ok(muppet_store::delete::delete_experiment(store, state.home(), ExperimentId(experiment)).await?)
}

/// What the data folder knows for the builder's checks: every task with its examples
/// (the catalog's whose assets are present and the imported ones), and the existing runs
/// the spec starts from (completed, with a checkpoint, and their tasks).
async fn facts(state: &StudioState, spec: &ExperimentSpec) -> Result<Facts, CommandError> {
    let store = store(state)?;
    let mut facts = Facts::default();
    for task in state.catalog.list(state.home().assets(), store).await? {
        facts.add_task(&task.spec, task.examples);
    }
    for start in spec.starts() {
        let StartRef::Run(id) = *start else { continue };
        let fact = match store.run(RunId(id)).await {
            Err(muppet_store::StoreError::NoSuchRun(_)) => continue,
            Err(e) => return Err(e.into()),
            Ok(row) if row.status != RunStatus::Completed => Err(format!("it is {}, not completed", row.status.as_str())),
            Ok(_) if store.checkpoints(RunId(id)).await?.is_empty() => Err("it has no checkpoint".to_string()),
            Ok(_) => Ok(store.run_tasks(RunId(id)).await?),
        };
        facts.runs.insert(id, fact);
    }
    Ok(facts)
}

/// Check a spec made in the builder with the library's own checks (expansion, then the
/// data): the plan's size, every problem with its field, and the TOML it would be saved as.
#[tauri::command]
pub async fn check_experiment(
    state: State<'_, StudioState>,
    spec: serde_json::Value,
) -> Result<SpecCheck, CommandError> {
    let spec = experiment_builder::parse(spec)?;
    let facts = facts(&state, &spec).await?;
    experiment_builder::check(&spec, &facts)
}

/// Save a spec made in the builder as a TOML file (atomically); returns its path. A spec
/// that does not pass the checks is not saved: the error lists its problems.
#[tauri::command]
pub async fn save_experiment(
    state: State<'_, StudioState>,
    spec: serde_json::Value,
    path: String,
) -> Result<String, CommandError> {
    let spec = experiment_builder::parse(spec)?;
    let path = experiment_builder::spec_file(&path)?;
    let facts = facts(&state, &spec).await?;
    let check = experiment_builder::check(&spec, &facts)?;
    if !check.errors.is_empty() {
        return Err(CommandError::Invalid(format!(
            "the experiment `{}` was not saved to {}:\n{}",
            spec.name,
            path.display(),
            check.errors.iter().map(|e| format!("  - {e}")).collect::<Vec<_>>().join("\n")
        )));
    }
    experiment_builder::save(&spec, &path)?;
    Ok(path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pre_finetuned_model_is_scored_by_one_command() {
        let model = |id: i64| PrefinetunedModel { run: RunId(id), name: format!("x: pre-finetune {id}"), tasks: vec!["rte".into()] };
        let ask = |examples: Option<&str>, head: Option<&str>| ScoreModelsRequest { experiment: 2, task: "winowhy".into(), examples: examples.map(str::to_string), head: head.map(str::to_string) };
        let args = score_models_args(&ask(Some("all"), Some("rte")), &[model(4), model(9)]).expect("args");
        assert_eq!(args, ["experiment", "score", "2", "--task", "winowhy", "--examples", "all", "--head", "rte"]);
        assert_eq!(score_models_args(&ask(None, Some("")), &[model(4)]).expect("args"), ["experiment", "score", "2", "--task", "winowhy"]);
        let none = score_models_args(&ask(None, None), &[]).expect_err("no model").message();
        assert_eq!(none, "experiment 2 has no completed pre-finetuning run to score");
        let no_task = ScoreModelsRequest { task: " ".into(), ..ask(None, None) };
        assert_eq!(score_models_args(&no_task, &[model(4)]).expect_err("no task").message(), "pick a task to score the pre-finetuned models on");
    }
}
