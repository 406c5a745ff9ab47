//! Runs: the table, one run's detail and curves, comparisons and exports.

use std::collections::HashMap;

use muppet_core::{RunId, RunStatus};
use muppet_store::{
    AxisPoint, Bucket, Checkpoint, Comparison, Note, NoteTarget, RunRow, SeriesInfo, SeriesKey,
};
use serde::Serialize;
use tauri::State;

use super::store;
use crate::error::CommandError;
use crate::paths;
use crate::state::StudioState;
use crate::supervisor::WorkerState;

/// Buckets per curve when a chart loads a run's history: about one per pixel column of
/// the widest chart.
const CURVE_BUCKETS: usize = 2_000;

/// A row of the runs table: the run, how far it got, and its worker if it has one.
#[derive(Debug, Serialize)]
pub struct RunListRow {
    #[serde(flatten)]
    pub run: RunRow,
    pub total_steps: Option<u64>,
    pub last_step: Option<u64>,
    pub worker: Option<WorkerState>,
    pub tags: Vec<String>,
}

/// Every run in the database, newest first.
#[tauri::command]
pub async fn list_runs(state: State<'_, StudioState>) -> Result<Vec<RunListRow>, CommandError> {
    let store = store(&state)?;
    let runs = store.list_runs().await?;
    let progress: HashMap<RunId, _> = store
        .run_progress()
        .await?
        .into_iter()
        .map(|p| (p.run, p))
        .collect();
    let workers = state
        .supervisor
        .states_with(runs.iter().filter(|r| r.status == RunStatus::Running).map(|r| r.id));
    let mut tags = store.all_run_tags().await?;
    Ok(runs
        .into_iter()
        .map(|run| {
            let progress = progress.get(&run.id);
            RunListRow {
                total_steps: progress.and_then(|p| p.total_steps),
                last_step: progress.and_then(|p| p.last_step),
                worker: workers.get(&run.id).copied(),
                tags: tags.remove(&run.id).unwrap_or_default(),
                run,
            }
        })
        .collect())
}

/// Every run's dev figures and settings, by run id, for the runs table's optional columns:
/// asked for only when the table shows such columns or its Columns menu opens, so that
/// the table of thousands of runs loads as fast without them.
#[tauri::command]
pub async fn run_columns(state: State<'_, StudioState>) -> Result<HashMap<i64, muppet_store::RunColumns>, CommandError> {
    // The reading the filter, groups, plots and importance share (read again once runs change).
    let read = store(&state)?.cached_run_columns_and_specs().await?;
    Ok(read.0.iter().map(|(run, columns)| (run.0, columns.clone())).collect())
}

/// The ids of the runs whose settings and figures match `expression` (`muppet runs list
/// --where`, [`muppet_store::RunFilter`]), or why it cannot be read or applied.
#[tauri::command]
pub async fn filter_runs(state: State<'_, StudioState>, expression: String) -> Result<Vec<i64>, CommandError> {
    let filter = muppet_store::RunFilter::parse(&expression)?;
    let store = store(&state)?;
    let mut ids: Vec<i64> = store.filter_runs(&filter).await?.into_iter().map(|r| r.0).collect();
    ids.sort_unstable();
    Ok(ids)
}

/// `runs` (in the table's order) grouped by the values of `keys` (`muppet runs list
/// --group-by`, [`muppet_store::group_runs`]): each group's runs and each figure's mean,
/// standard deviation, minimum and maximum over them.
#[tauri::command]
pub async fn group_runs(state: State<'_, StudioState>, runs: Vec<i64>, keys: Vec<String>) -> Result<Vec<muppet_store::RunGroup>, CommandError> {
    let keys = keys.iter().map(|k| muppet_store::RunKey::parse(k)).collect::<Result<Vec<_>, _>>()?;
    let runs: Vec<RunId> = runs.into_iter().map(RunId).collect();
    Ok(store(&state)?.group_runs(&keys, &runs).await?)
}

/// What each setting says of `figure` over `runs` (`muppet runs importance`,
/// [`muppet_store::importance`]): every setting of the runs table whose values differ among
/// them, or the `settings` named.
#[tauri::command]
pub async fn run_importance(state: State<'_, StudioState>, runs: Vec<i64>, figure: String, settings: Vec<String>) -> Result<muppet_store::RunImportance, CommandError> {
    let key = muppet_store::RunKey::parse(&figure)?;
    let settings = settings.iter().map(|k| Ok((k.trim().to_string(), muppet_store::RunKey::parse(k)?))).collect::<Result<Vec<_>, muppet_store::StoreError>>()?;
    let runs: Vec<RunId> = runs.into_iter().map(RunId).collect();
    Ok(store(&state)?.run_importance((figure.trim(), &key), &settings, &runs).await?)
}

/// One run: its row, spec, checkpoints and the series it has.
#[derive(Debug, Serialize)]
pub struct RunDetail {
    pub run: RunRow,
    pub spec: serde_json::Value,
    pub tasks: Vec<String>,
    pub checkpoints: Vec<Checkpoint>,
    pub series: Vec<SeriesInfo>,
    pub worker: Option<WorkerState>,
    pub tags: Vec<String>,
    /// Oldest first.
    pub notes: Vec<Note>,
    /// The worker's peak resident memory in MB, over its sessions, when it recorded it.
    pub peak_rss_mb: Option<f64>,
    /// The run's folder and its files (checkpoints, splits, logs, predictions), as MLflow
    /// lists a run's artifacts.
    pub folder: String,
    pub files: Vec<RunFile>,
    /// The checkpoint with the best dev score (the mean of the tasks' main dev metrics), as
    /// `--step best` takes it.
    pub best_checkpoint: Option<muppet_train::best::BestDev>,
    /// Whether the run trained the assets' default model (a new run from its settings then
    /// takes the default, wherever the assets are).
    pub default_model: bool,
}

/// A file of a run's folder.
#[derive(Debug, Serialize, PartialEq)]
pub struct RunFile {
    /// Relative to the run's folder, `/`-separated.
    pub path: String,
    pub bytes: u64,
}

/// Files listed per run, at most: a run folder holds a few dozen.
const FILES_SHOWN: usize = 500;

/// The files under `dir` (not hidden ones: partial writes, moved-aside deletions), sorted by
/// path, at most [`FILES_SHOWN`]; none when the folder does not exist.
fn run_files(dir: &std::path::Path) -> Vec<RunFile> {
    fn walk(root: &std::path::Path, dir: &std::path::Path, out: &mut Vec<RunFile>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            if out.len() >= FILES_SHOWN || entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let path = entry.path();
            match entry.metadata() {
                Ok(m) if m.is_dir() => walk(root, &path, out),
                Ok(m) => {
                    let relative = path.strip_prefix(root).unwrap_or(&path);
                    let parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
                    out.push(RunFile { path: parts.join("/"), bytes: m.len() });
                }
                Err(_) => {}
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

#[tauri::command]
pub async fn run_detail(state: State<'_, StudioState>, run: i64) -> Result<RunDetail, CommandError> {
    let store = store(&state)?;
    let id = RunId(run);
    let row = store.run(id).await?;
    let running = (row.status == RunStatus::Running).then_some(id);
    let checkpoints = store.checkpoints(id).await?;
    let best_checkpoint = best_checkpoint(store, &state.home().run_dir(id), id, &checkpoints).await?;
    let spec = store.run_spec(id).await?;
    let default_model = spec["model"].as_str().is_some_and(|m| std::path::Path::new(m) == muppet_data::assets::model_dir(state.home().assets()));
    Ok(RunDetail {
        worker: state.supervisor.states_with(running).get(&id).copied(),
        run: row,
        spec,
        default_model,
        tasks: store.run_tasks(id).await?,
        checkpoints,
        series: store.list_series(id).await?,
        tags: store.run_tags(id).await?,
        notes: store.notes(NoteTarget::Run(id)).await?,
        peak_rss_mb: crate::annotations::peak_rss_mb(store, id).await?,
        folder: state.home().run_dir(id).display().to_string(),
        files: run_files(&state.home().run_dir(id)),
        best_checkpoint,
    })
}

/// The checkpoint of `run` (among `checkpoints`) with the best dev score, by the rule of
/// `muppet_train::best`; none for a run without a manifest or a dev score after step 0.
async fn best_checkpoint(store: &muppet_store::Store, dir: &std::path::Path, run: RunId, checkpoints: &[muppet_store::Checkpoint]) -> Result<Option<muppet_train::best::BestDev>, CommandError> {
    let Ok(manifest) = muppet_train::manifest::RunManifest::read(dir) else { return Ok(None) };
    let mut series = Vec::with_capacity(manifest.tasks.len());
    for task in &manifest.tasks {
        series.push(store.series(run, Some(&task.name), "dev", task.metric.as_str()).await?);
    }
    let kept: Vec<u64> = checkpoints.iter().map(|c| c.step).collect();
    Ok(muppet_train::best::best_kept(&muppet_train::best::scores_by_step(&series), &kept))
}

/// One downsampled series.
#[derive(Debug, Serialize)]
pub struct Curve {
    pub run: RunId,
    pub key: SeriesKey,
    pub buckets: Vec<Bucket>,
}

/// A run's curves with its step axis (examples and seconds at each step).
#[derive(Debug, Serialize)]
pub struct RunCurves {
    pub axis: Vec<AxisPoint>,
    pub curves: Vec<Curve>,
}

/// Every series of a run, downsampled, for the charts of the run page.
#[tauri::command]
pub async fn run_curves(state: State<'_, StudioState>, run: i64) -> Result<RunCurves, CommandError> {
    let store = store(&state)?;
    let id = RunId(run);
    let mut curves = Vec::new();
    for series in store.list_series(id).await? {
        let buckets = store
            .fetch_series(series.id, 0..=u64::MAX, CURVE_BUCKETS)
            .await?;
        curves.push(Curve {
            run: id,
            key: series.key,
            buckets,
        });
    }
    Ok(RunCurves {
        axis: store.step_axis(id, CURVE_BUCKETS).await?,
        curves,
    })
}

/// Runs side by side: differing parameters, final metrics, and each run's curve of one
/// series (the training loss unless another is asked for).
#[derive(Debug, Serialize)]
pub struct RunComparison {
    pub comparison: Comparison,
    pub runs: Vec<RunRow>,
    /// The series charted.
    pub series: SeriesKey,
    pub losses: Vec<Curve>,
}

#[tauri::command]
pub async fn compare_runs(
    state: State<'_, StudioState>,
    runs: Vec<i64>,
    series: Option<SeriesKey>,
) -> Result<RunComparison, CommandError> {
    let store = store(&state)?;
    let ids: Vec<RunId> = runs.into_iter().map(RunId).collect();
    let comparison = store.compare_runs(&ids, None).await?;
    let loss = series.unwrap_or_else(|| SeriesKey::new(None, "train", "loss"));
    let mut rows = Vec::with_capacity(ids.len());
    let mut losses = Vec::new();
    for &id in &ids {
        rows.push(store.run(id).await?);
        if let Some(series) = store.find_series(id, &loss).await? {
            let buckets = store.fetch_series(series, 0..=u64::MAX, CURVE_BUCKETS).await?;
            losses.push(Curve {
                run: id,
                key: loss.clone(),
                buckets,
            });
        }
    }
    Ok(RunComparison {
        comparison,
        runs: rows,
        series: loss,
        losses,
    })
}

/// Write every point of every series of a run to a CSV file; returns the points written.
#[tauri::command]
pub async fn export_run_csv(
    state: State<'_, StudioState>,
    run: i64,
    path: String,
) -> Result<u64, CommandError> {
    let store = store(&state)?;
    let path = paths::csv_file(&path)?;
    let series: Vec<_> = store
        .list_series(RunId(run))
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect();
    Ok(store.export_csv(&series, &path).await?)
}

/// Write `runs` as a CSV table, one row each in the order given (`muppet runs list --csv`);
/// returns the rows written.
#[tauri::command]
pub async fn export_runs_table(state: State<'_, StudioState>, runs: Vec<i64>, path: String) -> Result<usize, CommandError> {
    let path = paths::csv_file(&path)?;
    if runs.is_empty() {
        return Err(CommandError::Invalid("no run is shown: clear the filters first".into()));
    }
    let store = store(&state)?;
    let runs: Vec<RunId> = runs.into_iter().map(RunId).collect();
    Ok(store.export_runs_table(&runs, &path).await?)
}

/// Import a bundle (`muppet runs bundle` or `muppet experiment bundle` on another machine):
/// its runs as new runs, and its experiment.
#[tauri::command]
pub async fn import_run_bundle(
    state: State<'_, StudioState>,
    path: String,
) -> Result<muppet_store::bundle::Imported, CommandError> {
    let store = store(&state)?;
    let path = paths::existing_file(&path, "run bundle")?;
    let (assets, hub) = (state.home().assets().to_path_buf(), muppet_data::hub::cache_root());
    let models_here = move |elsewhere: &std::path::Path| muppet_data::assets::model_here(&assets, &hub, elsewhere);
    Ok(muppet_store::bundle::import_bundle(store, state.home(), &path, &models_here).await?)
}

/// Delete runs for good: their rows and folders, together or not at all. A run the app
/// trains or has queued is refused (cancel it first); the store refuses a run another
/// process trains and a run a fine-tune started from, unless that goes too.
#[tauri::command]
pub async fn delete_runs(
    state: State<'_, StudioState>,
    runs: Vec<i64>,
) -> Result<muppet_store::Deleted, CommandError> {
    let store = store(&state)?;
    let runs: Vec<RunId> = runs.into_iter().map(RunId).collect();
    let busy = state.supervisor.states();
    if let Some(run) = runs.iter().find(|r| busy.contains_key(r)) {
        return Err(CommandError::Invalid(format!(
            "run {run} is training or waiting for a slot in this app: cancel it first, then delete it"
        )));
    }
    Ok(muppet_store::delete::delete_runs(store, state.home(), &runs).await?)
}

/// Export a checkpoint of a run as a Hugging Face folder, by running `muppet export` (the
/// conversion loads the whole model; in a child process it cannot take the app down).
/// Returns what `muppet export --json` reports.
#[tauri::command]
pub async fn export_checkpoint(
    state: State<'_, StudioState>,
    run: i64,
    step: Option<u64>,
    out: String,
    task: Option<String>,
) -> Result<serde_json::Value, CommandError> {
    let out = paths::export_folder(&out)?;
    let mut args: Vec<std::ffi::OsString> = ["export", &run.to_string(), "--format", "hf", "--json", "--out"].map(Into::into).to_vec();
    args.push(out.into_os_string());
    if let Some(step) = step {
        args.extend(["--step".into(), step.to_string().into()]);
    }
    // One task's model (`AutoModelForSequenceClassification`, ...) instead of encoder + heads.
    if let Some(task) = task.filter(|t| !t.is_empty()) {
        args.extend(["--task".into(), task.into()]);
    }
    muppet_json(&state, &args, "export").await
}

/// Run `muppet ARGS` (with `--json` among them) in a child process, on the app's data
/// folder, and return what it printed; a failure says what `muppet WHAT` said.
pub async fn muppet_json(state: &StudioState, args: &[std::ffi::OsString], what: &str) -> Result<serde_json::Value, CommandError> {
    let muppet = state.supervisor.muppet_binary()?.to_path_buf();
    let output = tokio::process::Command::new(&muppet)
        .args(args)
        .env(muppet_core::home::HOME_ENV, state.home().root())
        .env(muppet_core::home::ASSETS_ENV, state.home().assets())
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| CommandError::Worker(format!("cannot start {}: {e}", muppet.display())))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(CommandError::Worker(format!("the {what} failed: {}", stderr.trim().trim_start_matches("error: "))));
    }
    serde_json::from_slice(&output.stdout)
        .map_err(|e| CommandError::Worker(format!("`muppet {what} --json` printed something else: {e}")))
}

/// What the run page's *Try it* asks: the prediction of a run task's head for one input.
#[derive(Debug, serde::Deserialize)]
pub struct PredictRequest {
    pub run: i64,
    /// The checkpoint's step; `None`: the latest.
    pub step: Option<u64>,
    /// The run task whose head answers.
    pub task: String,
    pub text: String,
    pub text_b: Option<String>,
    #[serde(default)]
    pub choices: Vec<String>,
}

/// The prediction of a run task's head for one input, by running `muppet predict --json`
/// (it loads the model; in a child process it cannot take the app down): what it prints.
#[tauri::command]
pub async fn predict_input(state: State<'_, StudioState>, request: PredictRequest) -> Result<serde_json::Value, CommandError> {
    muppet_json(&state, &predict_args(&request), "prediction").await
}

/// The arguments of `muppet predict` for `request`.
fn predict_args(request: &PredictRequest) -> Vec<std::ffi::OsString> {
    let mut args: Vec<std::ffi::OsString> = vec!["predict".into(), request.run.to_string().into(), "--json".into(), "--task".into(), request.task.clone().into()];
    if let Some(step) = request.step {
        args.extend(["--step".into(), step.to_string().into()]);
    }
    // `--text=...`: a text that starts with a dash is a value, not a flag.
    args.push(format!("--text={}", request.text).into());
    if let Some(b) = request.text_b.as_deref().filter(|b| !b.trim().is_empty()) {
        args.push(format!("--text-b={b}").into());
    }
    for choice in &request.choices {
        args.push(format!("--choice={choice}").into());
    }
    args
}

/// The predictions of a scoring with gold label `gold` and predicted label `predicted` (a
/// cell of its confusion matrix): the first `limit` of them in the file's order, and how
/// many there are. `path` is a predictions file of a run of this data folder.
#[tauri::command]
pub async fn prediction_rows(
    state: State<'_, StudioState>,
    path: String,
    gold: String,
    predicted: String,
    limit: usize,
) -> Result<serde_json::Value, CommandError> {
    let path = std::path::PathBuf::from(path);
    let runs = state.home().runs();
    let inside = path.canonicalize().ok().zip(runs.canonicalize().ok()).is_some_and(|(p, r)| p.starts_with(r));
    if !inside || path.extension().is_none_or(|e| e != "jsonl") {
        return Err(CommandError::Invalid(format!("{} is not a predictions file of a run in {}", path.display(), runs.display())));
    }
    let file = std::fs::File::open(&path).map_err(CommandError::io("reading", &path))?;
    let read = tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        let text = |v: &serde_json::Value| match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let (mut rows, mut total) = (Vec::new(), 0usize);
        for line in std::io::BufReader::new(file).lines().map_while(Result::ok) {
            let Ok(row) = serde_json::from_str::<serde_json::Value>(&line) else { continue };
            if text(&row["label"]) == gold && text(&row["predicted"]) == predicted {
                total += 1;
                if rows.len() < limit {
                    rows.push(row);
                }
            }
        }
        serde_json::json!({ "rows": rows, "total": total })
    });
    read.await.map_err(|e| CommandError::Worker(format!("reading the predictions: {e}")))
}

/// What the run page asks to score (`muppet eval`).
#[derive(Debug, serde::Deserialize)]
pub struct EvalRequest {
    pub run: i64,
    /// The checkpoint's step; `None`: the latest.
    pub step: Option<u64>,
    pub task: String,
    /// `dev`, `train` or `all`; `None`: dev for a task of the run, all for another.
    pub examples: Option<String>,
    /// The run task whose head scores; `None`: the task's own, or its family's shared one.
    pub head: Option<String>,
}

/// A scoring's result (what `muppet eval --json` prints) and a first look at its errors.
#[derive(Debug, Serialize)]
pub struct Evaluated {
    pub result: serde_json::Value,
    /// Up to [`MISSES_SHOWN`] predictions of the file: the wrong ones (classification,
    /// multiple choice), the ones furthest from every answer (spans, by F1) or from the
    /// target (regression, by absolute error), in that order.
    pub misses: Vec<serde_json::Value>,
    /// How many predictions were wrong (spans: not an exact match); `None` for regression.
    pub wrong: Option<usize>,
}

/// Predictions the run page lists after a scoring.
pub const MISSES_SHOWN: usize = 20;

/// Score a checkpoint of a run on a task by running `muppet eval --json-lines` (it loads
/// the model; in a child process it cannot take the app down). `on_progress` hears
/// `{"done", "total"}` after each batch. The scores are stored with the run's metrics.
#[tauri::command]
pub async fn evaluate_checkpoint(
    state: State<'_, StudioState>,
    request: EvalRequest,
    on_progress: tauri::ipc::Channel<serde_json::Value>,
) -> Result<Evaluated, CommandError> {
    let mut args = vec!["eval".to_string(), request.run.to_string(), "--task".to_string(), request.task.clone()];
    if let Some(step) = request.step {
        args.extend(["--step".to_string(), step.to_string()]);
    }
    args.extend(eval_options(request.examples.as_deref(), request.head.as_deref()));
    let result = match muppet_scoring(&state, &args, &on_progress).await?.pop() {
        Some(result) => result,
        None => return Err(CommandError::Worker("`muppet eval` printed no result".into())),
    };
    let path = std::path::PathBuf::from(result["predictions"].as_str().unwrap_or_default());
    // Read line by line: the file holds a line per example scored, however many.
    let file = std::fs::File::open(&path).map_err(CommandError::io("reading", &path))?;
    let read = tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        misses(std::io::BufReader::new(file).lines().map_while(Result::ok), MISSES_SHOWN)
    });
    let (misses, wrong) = read
        .await
        .map_err(|e| CommandError::Worker(format!("reading the predictions: {e}")))?;
    Ok(Evaluated { result, misses, wrong })
}

/// What the Runs page's comparison asks: two runs' predictions on a task compared example
/// by example (`muppet eval A B --task T --paired`).
#[derive(Debug, serde::Deserialize)]
pub struct PairedRequest {
    pub runs: [i64; 2],
    pub task: String,
    /// `dev`, `train` or `all`; `None`: dev for a task of the runs, all for another.
    pub examples: Option<String>,
    /// Each run's best checkpoint instead of its latest.
    #[serde(default)]
    pub best: bool,
}

/// Score the task with both runs (progress as `evaluate_checkpoint`'s, `model` 1 then 2) and
/// compare their predictions: `{runs: [what eval printed of each], paired}`.
#[tauri::command]
pub async fn paired_scores(
    state: State<'_, StudioState>,
    request: PairedRequest,
    on_progress: tauri::ipc::Channel<serde_json::Value>,
) -> Result<serde_json::Value, CommandError> {
    let [a, b] = request.runs;
    let mut args = vec!["eval".to_string(), a.to_string(), b.to_string(), "--task".to_string(), request.task.clone(), "--paired".to_string()];
    if request.best {
        args.extend(["--step".to_string(), "best".to_string()]);
    }
    args.extend(eval_options(request.examples.as_deref(), None));
    let mut printed = muppet_scoring(&state, &args, &on_progress).await?;
    let paired = match printed.pop() {
        Some(mut last) if last.get("paired").is_some() => last["paired"].take(),
        _ => return Err(CommandError::Worker("`muppet eval --paired` printed no comparison".into())),
    };
    Ok(serde_json::json!({ "runs": printed, "paired": paired }))
}

/// `--examples` and `--head` of `muppet eval`, where given.
pub fn eval_options(examples: Option<&str>, head: Option<&str>) -> Vec<String> {
    let mut args = Vec::new();
    for (flag, value) in [("--examples", examples), ("--head", head)] {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            args.extend([flag.to_string(), value.to_string()]);
        }
    }
    args
}

/// Run a scoring command of `muppet` (`eval ...`, `experiment score ...`) with
/// `--json-lines` (it loads the models; in a child process it cannot take the app down) and
/// return what it printed of each run scored, in order. `on_progress` hears `{"done",
/// "total", "model"}` after each batch, `model` counting the runs from 1.
pub async fn muppet_scoring(
    state: &StudioState,
    args: &[String],
    on_progress: &tauri::ipc::Channel<serde_json::Value>,
) -> Result<Vec<serde_json::Value>, CommandError> {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt};
    let muppet = state.supervisor.muppet_binary()?.to_path_buf();
    let mut command = tokio::process::Command::new(&muppet);
    command
        .args(args)
        .arg("--json-lines")
        .env(muppet_core::home::HOME_ENV, state.home().root())
        .env(muppet_core::home::ASSETS_ENV, state.home().assets())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let mut child = command
        .spawn()
        .map_err(|e| CommandError::Worker(format!("cannot start {}: {e}", muppet.display())))?;
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let errors = tokio::spawn(async move {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text).await;
        text
    });
    let mut lines = tokio::io::BufReader::new(child.stdout.take().expect("stdout is piped")).lines();
    let mut results = Vec::new();
    while let Ok(Some(line)) = lines.next_line().await {
        let Ok(mut value) = serde_json::from_str::<serde_json::Value>(&line) else { continue };
        if value.get("done").is_some() {
            value["model"] = (results.len() + 1).into();
            let _ = on_progress.send(value);
        } else {
            results.push(value);
        }
    }
    let status = child
        .wait()
        .await
        .map_err(|e| CommandError::Worker(format!("waiting for {}: {e}", muppet.display())))?;
    let stderr = errors.await.unwrap_or_default();
    if !status.success() {
        return Err(CommandError::Worker(format!(
            "the scoring failed: {}",
            stderr.trim().trim_start_matches("error: ")
        )));
    }
    Ok(results)
}

/// The predictions (JSON lines of `muppet eval`) to look at first, at most `limit`, and
/// how many were wrong (see [`Evaluated`]): the wrong ones in the file's order (spans: the
/// furthest from every answer first), or for regression the largest errors. Keeps at most
/// twice `limit` rows at a time.
fn misses(lines: impl Iterator<Item = String>, limit: usize) -> (Vec<serde_json::Value>, Option<usize>) {
    let verdict = |r: &serde_json::Value| r.get("correct").or_else(|| r.get("exact_match")).and_then(|v| v.as_bool());
    let f1 = |r: &serde_json::Value| r.get("f1").and_then(|v| v.as_f64()).unwrap_or(0.0);
    let error = |r: &serde_json::Value| r.get("error").and_then(|v| v.as_f64()).map_or(0.0, f64::abs);
    // Whether the rows say right or wrong (classification, spans), read from the first.
    let mut graded: Option<bool> = None;
    let order = |graded: bool, a: &serde_json::Value, b: &serde_json::Value| {
        if graded { f1(a).total_cmp(&f1(b)) } else { error(b).total_cmp(&error(a)) }
    };
    let mut kept: Vec<serde_json::Value> = Vec::new();
    let mut wrong = 0;
    for line in lines {
        let Ok(row) = serde_json::from_str::<serde_json::Value>(&line) else { continue };
        let graded = *graded.get_or_insert_with(|| verdict(&row).is_some());
        if graded {
            if verdict(&row) != Some(false) {
                continue;
            }
            wrong += 1;
        }
        kept.push(row);
        // A stable sort keeps the earlier of equal rows, as one sort of the whole file would.
        if kept.len() >= 2 * limit.max(1) {
            kept.sort_by(|a, b| order(graded, a, b));
            kept.truncate(limit);
        }
    }
    let graded = graded.unwrap_or(false);
    kept.sort_by(|a, b| order(graded, a, b));
    kept.truncate(limit);
    (kept, graded.then_some(wrong))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_files_lists_the_folder_without_hidden_entries() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("predictions")).expect("dir");
        std::fs::create_dir_all(dir.path().join(".deleted-1-x")).expect("hidden dir");
        for (file, text) in [("run.json", "{}"), ("predictions/sst2-eval-dev-step4.jsonl", "{}\n{}\n"), (".partial-run.json", "{"), (".deleted-1-x/model-step1.mpk", "x")] {
            std::fs::write(dir.path().join(file), text).expect("write");
        }
        assert_eq!(
            run_files(dir.path()),
            vec![RunFile { path: "predictions/sst2-eval-dev-step4.jsonl".into(), bytes: 6 }, RunFile { path: "run.json".into(), bytes: 2 }]
        );
        assert!(run_files(&dir.path().join("missing")).is_empty());
    }

    #[test]
    fn a_prediction_request_becomes_muppet_predict_arguments() {
        let request = PredictRequest {
            run: 7,
            step: Some(40),
            task: "wikihow".into(),
            text: "-5 degrees: what to wear?".into(),
            text_b: Some("  ".into()),
            choices: vec!["a coat".into(), "--json".into()],
        };
        let args: Vec<String> = predict_args(&request).into_iter().map(|a| a.into_string().expect("text")).collect();
        // Texts that look like flags stay values; a blank second text is none.
        assert_eq!(args, ["predict", "7", "--json", "--task", "wikihow", "--step", "40", "--text=-5 degrees: what to wear?", "--choice=a coat", "--choice=--json"]);
    }

    #[test]
    fn misses_lists_the_wrong_predictions_first() {
        let class = [
            r#"{"example":0,"correct":true}"#,
            r#"{"example":1,"correct":false}"#,
            r#"{"example":2,"correct":false}"#,
            r#"{"example":3,"correct":true}"#,
        ]
        .join("\n");
        let lines = |text: &str| text.lines().map(str::to_string).collect::<Vec<_>>().into_iter();
        let (rows, wrong) = misses(lines(&class), 1);
        assert_eq!(wrong, Some(2));
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0]["example"], 1);

        let spans = [
            r#"{"example":0,"exact_match":false,"f1":0.5}"#,
            r#"{"example":1,"exact_match":true,"f1":1.0}"#,
            r#"{"example":2,"exact_match":false,"f1":0.0}"#,
        ]
        .join("\n");
        let (rows, wrong) = misses(lines(&spans), 5);
        assert_eq!(wrong, Some(2));
        assert_eq!(rows.iter().map(|r| r["example"].as_i64().expect("an example")).collect::<Vec<_>>(), vec![2, 0]);

        let values = [r#"{"example":0,"error":0.1}"#, r#"{"example":1,"error":-2.0}"#, r#"{"example":2,"error":1.0}"#].join("\n");
        let (rows, wrong) = misses(lines(&values), 2);
        assert_eq!(wrong, None);
        assert_eq!(rows.iter().map(|r| r["example"].as_i64().expect("an example")).collect::<Vec<_>>(), vec![1, 2]);

        // Many rows, kept a few at a time: the same as sorting them all.
        let many: Vec<String> = (0..1000).map(|i| format!(r#"{{"example":{i},"exact_match":{},"f1":{}}}"#, i % 3 == 0, (i * 37 % 10) as f64 / 10.0)).collect();
        let (rows, wrong) = misses(many.clone().into_iter(), 20);
        let mut all: Vec<serde_json::Value> = many.iter().map(|l| serde_json::from_str(l).expect("json")).filter(|r: &serde_json::Value| r["exact_match"] == false).collect();
        assert_eq!(wrong, Some(all.len()));
        all.sort_by(|a, b| a["f1"].as_f64().expect("f1").total_cmp(&b["f1"].as_f64().expect("f1")));
        all.truncate(20);
        assert_eq!(rows, all);
        assert_eq!(misses(std::iter::empty(), 5), (Vec::new(), None));
    }
}
