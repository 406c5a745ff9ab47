//! The commands the web UI calls through `invoke`. Each one reads the request, calls
//! the library and maps the answer; nothing else lives here.

use muppet_store::RunRow;
use serde::Serialize;
use tauri::State;

use crate::error::CommandError;
use crate::state::StudioState;

/// Every run in the database, newest first.
#[tauri::command]
pub async fn list_runs(state: State<'_, StudioState>) -> Result<Vec<RunRow>, CommandError> {
    let store = state.store().map_err(Clone::clone)?;
    Ok(store.list_runs().await?)
}

/// Where the app keeps its data, for the status line of the UI.
#[derive(Debug, Serialize)]
pub struct StudioInfo {
    pub version: &'static str,
    pub home: String,
    pub database: String,
}

#[tauri::command]
pub fn studio_info(state: State<'_, StudioState>) -> StudioInfo {
    StudioInfo {
        version: env!("CARGO_PKG_VERSION"),
        home: state.home().root().display().to_string(),
        database: state.home().db().display().to_string(),
    }
}
