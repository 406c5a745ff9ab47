//! Tasks for the Tasks page and the mixture builder, importing a file as a task, the
//! Muppet paper's catalog, and the mixture summary.

use muppet_data::mixture::{MixtureRow, Sampling, summary};
use serde::Deserialize;
use tauri::State;

use super::store;
use crate::catalog::{TaskEntry, TaskPreview};
use crate::error::CommandError;
use crate::mixture::{self, EstimateRequest, RunEstimate};
use crate::paper_catalog::{self, PaperEntry};
use crate::state::StudioState;
use crate::task_import::{self, ImportReport, ImportRequest};

/// The catalog tasks whose assets are present, then the imported tasks.
#[tauri::command]
pub async fn list_tasks(state: State<'_, StudioState>) -> Result<Vec<TaskEntry>, CommandError> {
    let store = store(&state)?;
    state.catalog.list(state.home().assets(), store).await
}

#[tauri::command]
pub async fn task_preview(
    state: State<'_, StudioState>,
    name: String,
    count: usize,
) -> Result<TaskPreview, CommandError> {
    let store = store(&state)?;
    state
        .catalog
        .preview(state.home().assets(), store, &name, count.min(50))
        .await
}

/// Import a file as a task (stored all or nothing), then check every task for overlaps
/// again. The importer's error names the file, the record and the field.
#[tauri::command]
pub async fn import_task(
    state: State<'_, StudioState>,
    request: ImportRequest,
) -> Result<ImportReport, CommandError> {
    let store = store(&state)?;
    let (path, options) = request.options()?;
    let prepared = tauri::async_runtime::spawn_blocking(move || task_import::read(&path, &options))
        .await
        .map_err(|e| CommandError::Worker(format!("importing the task: {e}")))??;
    let report = prepared.report();
    state
        .catalog
        .import(state.home().assets(), store, vec![prepared], request.replace)
        .await?;
    Ok(report)
}

/// Delete imported tasks, all or none: a task another is scored on goes only with it.
/// Runs that trained on them keep their records, and are named in the result.
#[tauri::command]
pub async fn delete_tasks(
    state: State<'_, StudioState>,
    names: Vec<String>,
) -> Result<muppet_store::DeletedTasks, CommandError> {
    let store = store(&state)?;
    state.catalog.delete(store, &names).await
}

/// The Muppet paper's datasets, and which are imported.
#[tauri::command]
pub async fn paper_catalog(state: State<'_, StudioState>) -> Result<Vec<PaperEntry>, CommandError> {
    let store = store(&state)?;
    let imported: Vec<String> = store
        .imported_tasks()
        .await?
        .into_iter()
        .map(|t| t.spec.name)
        .collect();
    Ok(paper_catalog::entries(&imported))
}

/// Add a dataset of the paper's catalog as a task (`muppet tasks add NAME`): its training
/// split, and its validation split as the task it is scored on, from the Hugging Face hub,
/// or from the local hub cache when the hub cannot be reached; stored all or nothing, then
/// every task is checked for overlaps again.
#[tauri::command]
pub async fn add_paper_task(
    state: State<'_, StudioState>,
    dataset: String,
    on_progress: tauri::ipc::Channel<serde_json::Value>,
) -> Result<paper_catalog::PaperAdded, CommandError> {
    let store = store(&state)?;
    let access = muppet_data::hub::HubAccess::from_env();
    let progress = on_progress.clone();
    let (prepared, added) = tauri::async_runtime::spawn_blocking(move || {
        let mut send = |step: muppet_data::hub::HubStep| {
            if let Ok(value) = serde_json::to_value(step) {
                let _ = progress.send(value);
            }
        };
        paper_catalog::prepare_add(&access, &dataset, &mut muppet_data::hub::Shown::To(&mut send))
    })
    .await
    .map_err(|e| CommandError::Worker(format!("adding the dataset: {e}")))??;
    let _ = on_progress.send(serde_json::json!({"step": "overlaps"}));
    state
        .catalog
        .import(state.home().assets(), store, prepared, false)
        .await?;
    Ok(added)
}

/// What the mixture builder shows live: the policy and the budget.
#[derive(Debug, Deserialize)]
pub struct MixtureRequest {
    pub tasks: Vec<String>,
    pub sampling: Sampling,
    pub cap: Option<usize>,
    pub steps: u64,
    pub batch_size: usize,
    pub tasks_per_update: usize,
}

/// Per task: its size, its sampling probability and the examples it supplies in
/// expectation over the run (`muppet_data::mixture::summary`).
#[tauri::command]
pub async fn mixture_summary(
    state: State<'_, StudioState>,
    request: MixtureRequest,
) -> Result<Vec<MixtureRow>, CommandError> {
    let store = store(&state)?;
    let known = state.catalog.list(state.home().assets(), store).await?;
    let mut sized = Vec::with_capacity(request.tasks.len());
    for name in &request.tasks {
        let task = known
            .iter()
            .find(|t| &t.spec.name == name)
            .ok_or_else(|| CommandError::Invalid(format!("there is no task named `{name}`")))?;
        sized.push((name.clone(), task.examples));
    }
    Ok(summary(
        &sized,
        request.sampling,
        request.cap,
        request.steps,
        request.batch_size * request.tasks_per_update,
    ))
}

/// A task's sequence lengths in tokens (`muppet tasks show TASK --json --max-len N...`, in a
/// child process: it loads the task's examples and the tokenizer): the `tokens` object it
/// prints, with the share of examples longer than each of `max_lens` (none: 64, 128, 256
/// and 512); null when the model is not fetched.
#[tauri::command]
pub async fn task_token_lengths(
    state: State<'_, StudioState>,
    task: String,
    max_lens: Vec<usize>,
    model: Option<String>,
) -> Result<serde_json::Value, CommandError> {
    let mut args: Vec<std::ffi::OsString> = vec!["tasks".into(), "show".into(), task.into(), "--json".into()];
    for m in max_lens {
        args.extend(["--max-len".into(), m.to_string().into()]);
    }
    if let Some(model) = model.filter(|m| !m.trim().is_empty()) {
        args.extend(["--model".into(), model.into()]);
    }
    let mut shown = crate::commands::runs::muppet_json(&state, &args, "token count").await?;
    Ok(shown["tokens"].take())
}

/// The run's estimated wall time, from the throughput of the completed runs on its backend
/// (those of its max length when there are some); none measured: no figure.
#[tauri::command]
pub async fn estimate_run_time(
    state: State<'_, StudioState>,
    request: EstimateRequest,
) -> Result<RunEstimate, CommandError> {
    mixture::estimate_run(store(&state)?, &request).await
}
