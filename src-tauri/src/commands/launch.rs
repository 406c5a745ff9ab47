//! Launching, cancelling and resuming runs, and the event channel that carries their
//! progress to the UI.

use muppet_core::{RunId, RunKind, RunStatus};
use muppet_store::{NewRun, RunOrigin};
use muppet_train::backend::BackendKind;
use muppet_train::spec::RunSpec;
use tauri::ipc::Channel;
use tauri::{AppHandle, State};

use super::store;
use crate::error::CommandError;
use crate::mixture::{self, LaunchRequest, SavedSpec};
use crate::state::StudioState;
use crate::supervisor::Update;

/// Receive every worker's events, batched, at most ten times a second.
#[tauri::command]
pub fn subscribe_events(state: State<'_, StudioState>, channel: Channel<Vec<Update>>) {
    state.supervisor.subscribe(channel);
}

/// The spec of the run the mixture builder describes: the tasks of the catalog, the model
/// folder checked (or the default model of the assets).
async fn mixture_spec(state: &StudioState, request: &LaunchRequest) -> Result<(RunSpec, BackendKind), CommandError> {
    let known: Vec<String> = state.catalog.list(state.home().assets(), store(state)?).await?.into_iter().map(|t| t.spec.name).collect();
    mixture::run_spec(request, &known, &muppet_data::assets::model_dir(state.home().assets()))
}

/// Register the run (queued, with its full spec) and start its worker, or queue it when
/// the parallel-runs limit is reached. Returns the run id.
#[tauri::command]
pub async fn launch_run(
    state: State<'_, StudioState>,
    request: LaunchRequest,
) -> Result<i64, CommandError> {
    let (spec, backend) = mixture_spec(&state, &request).await?;
    let (tags, note) = crate::annotations::launch_labels(&request.tags, request.note.as_deref())?;
    let tasks = spec.tasks.clone();
    let name = request
        .name
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| format!("pre-finetune: {}", tasks.join(" + ")));
    let new_run = NewRun {
        name,
        kind: RunKind::PreFinetune,
        spec: serde_json::to_value(&spec)
            .map_err(|e| CommandError::Invalid(format!("the run spec: {e}")))?,
        seed: Some(spec.config.seed),
        backend: backend.name().into(),
        device: backend.devices_label(spec.config.devices),
    };
    let origin = RunOrigin {
        tasks,
        tags,
        note,
        queued: true,
        ..RunOrigin::default()
    };
    Ok(register_and_start(&state, &new_run, &origin).await?.0)
}

/// Register a queued run and start its worker (or queue it); a run whose worker cannot
/// start is marked failed with the reason.
async fn register_and_start(
    state: &StudioState,
    new_run: &NewRun,
    origin: &RunOrigin,
) -> Result<RunId, CommandError> {
    let store = store(state)?;
    let run = store.create_run_in(new_run, origin).await?;
    if let Err(error) = state.supervisor.start(run) {
        store
            .end_run(run, RunStatus::Failed, Some(&error.message()))
            .await?;
        return Err(error);
    }
    Ok(run)
}

/// A fine-tune launched from a run's page, and what it warns about.
#[derive(Debug, serde::Serialize)]
pub struct FinetuneLaunched {
    pub run: i64,
    /// Downstream tasks sharing inputs with a task the source run trained on (from the
    /// stored overlap check): their dev scores measure memorisation, not transfer. Also
    /// kept as notes on the new run.
    pub warnings: Vec<String>,
}

/// Fine-tune a checkpoint of a stored run on downstream tasks (`muppet finetune
/// --from-run`), registered with the source run as its parent, or the pretrained model
/// (`muppet finetune`, a baseline); started like a launch.
#[tauri::command]
pub async fn launch_finetune(
    state: State<'_, StudioState>,
    request: mixture::FinetuneRequest,
) -> Result<FinetuneLaunched, CommandError> {
    let store = store(&state)?;
    let known: Vec<String> = state.catalog.list(state.home().assets(), store).await?.into_iter().filter(|t| t.not_trained.is_none()).map(|t| t.spec.name).collect();
    let (spec, backend, parent, warnings) = match request.from_run.map(RunId) {
        Some(source_id) => {
            let source: RunSpec = serde_json::from_value(store.run_spec(source_id).await?).map_err(|e| {
                CommandError::Invalid(format!("run {source_id} has a spec this version cannot read ({e}); it cannot be fine-tuned from"))
            })?;
            let checkpoint = store.checkpoint_at(source_id, request.step).await?;
            let (spec, backend) = mixture::finetune_spec(&request, mixture::FinetuneStart::Run { source: &source, checkpoint: &checkpoint }, &known)?;
            let check = store.overlap_check().await?;
            let warnings = mixture::leak_warnings(&check, &spec.tasks, &source.tasks, source_id);
            (spec, backend, Some(source_id), warnings)
        }
        None => {
            let default_model = muppet_data::assets::model_dir(state.home().assets());
            let (spec, backend) = mixture::finetune_spec(&request, mixture::FinetuneStart::Pretrained { default_model: &default_model }, &known)?;
            (spec, backend, None, Vec::new())
        }
    };
    let (tags, note) = crate::annotations::launch_labels(&request.tags, request.note.as_deref())?;
    let new_run = NewRun {
        name: spec.finetune_name(),
        kind: RunKind::Finetune,
        spec: serde_json::to_value(&spec).map_err(|e| CommandError::Invalid(format!("the run spec: {e}")))?,
        seed: Some(spec.config.seed),
        backend: backend.name().into(),
        device: backend.devices_label(spec.config.devices),
    };
    let notes = warnings.iter().map(|w| format!("Warning when the run was launched: {w}")).collect();
    let origin = RunOrigin { tasks: spec.tasks.clone(), parent, tags, note, notes, queued: true, ..RunOrigin::default() };
    let run = register_and_start(&state, &new_run, &origin).await?;
    Ok(FinetuneLaunched { run: run.0, warnings })
}

/// Save the mixture as a TOML run spec file that `muppet prefinetune --spec FILE` runs
/// (checked like a launch, written atomically); returns the file and its size.
#[tauri::command]
pub async fn save_mixture_spec(
    state: State<'_, StudioState>,
    request: LaunchRequest,
    path: String,
) -> Result<SavedSpec, CommandError> {
    let (spec, _) = mixture_spec(&state, &request).await?;
    mixture::save_spec(&spec, &muppet_data::assets::model_dir(state.home().assets()), request.name.as_deref(), &path)
}

/// Stop a run after its current update; it writes a checkpoint and ends `cancelled`.
#[tauri::command]
pub async fn cancel_run(state: State<'_, StudioState>, run: i64) -> Result<(), CommandError> {
    state.supervisor.cancel(RunId(run)).await
}

/// Continue a cancelled, failed or queued run from its last checkpoint.
#[tauri::command]
pub async fn resume_run(state: State<'_, StudioState>, run: i64) -> Result<(), CommandError> {
    let store = store(&state)?;
    let id = RunId(run);
    let row = store.run(id).await?;
    match row.status {
        RunStatus::Completed => Err(CommandError::Invalid(format!(
            "run {id} is completed; there is nothing to resume"
        ))),
        // A worker may still be at it (one kept running after the app was closed).
        RunStatus::Running => Err(CommandError::Invalid(format!(
            "run {id} is running; cancel it before resuming it"
        ))),
        RunStatus::Queued | RunStatus::Cancelled | RunStatus::Failed => {
            state.supervisor.start(id)
        }
    }
}

/// Close the app after the user chose what happens to the runs in progress: keep them
/// running in the background (workers outlive the app) or cancel them first.
#[tauri::command]
pub async fn quit_app(
    app: AppHandle,
    state: State<'_, StudioState>,
    cancel_runs: bool,
) -> Result<(), CommandError> {
    if cancel_runs {
        state.supervisor.cancel_all().await;
    }
    app.exit(0);
    Ok(())
}
