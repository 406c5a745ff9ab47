//! Where the app keeps its data, and its settings.

use serde::Serialize;
use tauri::State;

use crate::error::CommandError;
use crate::settings::Settings;
use crate::state::StudioState;

/// Where the app keeps its data, for the status line and the Settings page.
#[derive(Debug, Serialize)]
pub struct StudioInfo {
    pub version: &'static str,
    pub home: String,
    pub database: String,
    pub assets: String,
    /// The `muppet` binary workers run; `None` with `muppet_error` saying why.
    pub muppet: Option<String>,
    pub muppet_error: Option<String>,
}

#[tauri::command]
pub fn studio_info(state: State<'_, StudioState>) -> StudioInfo {
    let muppet = state.supervisor.muppet_binary();
    StudioInfo {
        version: env!("CARGO_PKG_VERSION"),
        home: state.home().root().display().to_string(),
        database: state.home().db().display().to_string(),
        assets: state.home().assets().display().to_string(),
        muppet: muppet.as_ref().ok().map(|p| p.display().to_string()),
        muppet_error: muppet.as_ref().err().map(CommandError::message),
    }
}

#[tauri::command]
pub fn get_settings(state: State<'_, StudioState>) -> Settings {
    state.settings()
}

/// Check and save the settings; the parallel-runs limit applies at once.
#[tauri::command]
pub fn save_settings(
    state: State<'_, StudioState>,
    settings: Settings,
) -> Result<Settings, CommandError> {
    let settings = settings.checked()?;
    settings.save(state.home().root())?;
    state.supervisor.set_parallel(settings.parallel_runs);
    *state
        .settings
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = settings.clone();
    Ok(settings)
}
