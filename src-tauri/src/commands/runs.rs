//! Runs: the table, one run's detail and curves, comparisons and exports.

use std::collections::HashMap;

use muppet_core::RunId;
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
    let workers = state.supervisor.states();
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
}

#[tauri::command]
pub async fn run_detail(state: State<'_, StudioState>, run: i64) -> Result<RunDetail, CommandError> {
    let store = store(&state)?;
    let id = RunId(run);
    Ok(RunDetail {
        run: store.run(id).await?,
        spec: store.run_spec(id).await?,
        tasks: store.run_tasks(id).await?,
        checkpoints: store.checkpoints(id).await?,
        series: store.list_series(id).await?,
        worker: state.supervisor.states().get(&id).copied(),
        tags: store.run_tags(id).await?,
        notes: store.notes(NoteTarget::Run(id)).await?,
        peak_rss_mb: crate::annotations::peak_rss_mb(store, id).await?,
    })
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

/// Runs side by side: differing parameters, final metrics, and their training losses.
#[derive(Debug, Serialize)]
pub struct RunComparison {
    pub comparison: Comparison,
    pub runs: Vec<RunRow>,
    pub losses: Vec<Curve>,
}

#[tauri::command]
pub async fn compare_runs(
    state: State<'_, StudioState>,
    runs: Vec<i64>,
) -> Result<RunComparison, CommandError> {
    let store = store(&state)?;
    let ids: Vec<RunId> = runs.into_iter().map(RunId).collect();
    let comparison = store.compare_runs(&ids, None).await?;
    let loss = SeriesKey::new(None, "train", "loss");
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

/// Export a checkpoint of a run as a Hugging Face folder, by running `muppet export` (the
/// conversion loads the whole model; in a child process it cannot take the app down).
/// Returns what `muppet export --json` reports.
#[tauri::command]
pub async fn export_checkpoint(
    state: State<'_, StudioState>,
    run: i64,
    step: Option<u64>,
    out: String,
) -> Result<serde_json::Value, CommandError> {
    let out = paths::export_folder(&out)?;
    let muppet = state.supervisor.muppet_binary()?.to_path_buf();
    let mut command = tokio::process::Command::new(&muppet);
    command
        .args(["export", &run.to_string(), "--format", "hf", "--json", "--out"])
        .arg(&out)
        .env(muppet_core::home::HOME_ENV, state.home().root())
        .env(muppet_core::home::ASSETS_ENV, state.home().assets())
        .stdin(std::process::Stdio::null());
    if let Some(step) = step {
        command.args(["--step", &step.to_string()]);
    }
    let output = command
        .output()
        .await
        .map_err(|e| CommandError::Worker(format!("cannot start {}: {e}", muppet.display())))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(CommandError::Worker(format!(
            "the export failed: {}",
            stderr.trim().trim_start_matches("error: ")
        )));
    }
    serde_json::from_slice(&output.stdout).map_err(|e| {
        CommandError::Worker(format!("`muppet export --json` printed something else: {e}"))
    })
}
