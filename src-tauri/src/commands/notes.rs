//! Tags and notes on runs, from the runs table and the run page.

use muppet_core::RunId;
use muppet_store::{Note, NoteTarget};
use tauri::State;

use super::store;
use crate::annotations::{clean_note, clean_tag};
use crate::error::CommandError;
use crate::state::StudioState;

/// Rename a run; returns its new name (trimmed). A run of an experiment keeps its name.
#[tauri::command]
pub async fn rename_run(state: State<'_, StudioState>, run: i64, name: String) -> Result<String, CommandError> {
    let store = store(&state)?;
    store.rename_run(RunId(run), &name).await?;
    Ok(name.trim().to_string())
}

/// Put a tag on a run; returns the run's tags.
#[tauri::command]
pub async fn tag_run(
    state: State<'_, StudioState>,
    run: i64,
    tag: String,
) -> Result<Vec<String>, CommandError> {
    let store = store(&state)?;
    store.tag_run(RunId(run), &clean_tag(&tag)?).await?;
    Ok(store.run_tags(RunId(run)).await?)
}

/// Take a tag off a run; returns the run's tags.
#[tauri::command]
pub async fn untag_run(
    state: State<'_, StudioState>,
    run: i64,
    tag: String,
) -> Result<Vec<String>, CommandError> {
    let store = store(&state)?;
    store.untag_run(RunId(run), &tag).await?;
    Ok(store.run_tags(RunId(run)).await?)
}

/// Add a note to a run; returns the run's notes, oldest first.
#[tauri::command]
pub async fn add_run_note(
    state: State<'_, StudioState>,
    run: i64,
    body: String,
) -> Result<Vec<Note>, CommandError> {
    let store = store(&state)?;
    let target = NoteTarget::Run(RunId(run));
    store.add_note(target, &clean_note(&body)?).await?;
    Ok(store.notes(target).await?)
}
