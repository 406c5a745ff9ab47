//! Muppet Studio, the desktop app. A thin Tauri 2 shell: it opens the store at
//! `MUPPET_HOME` and answers the web UI's commands by calling the library crates.

// No console window next to the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod error;
mod state;

use state::StudioState;

fn main() {
    let state = tauri::async_runtime::block_on(StudioState::open_from_env());
    if let Err(reason) = state.store() {
        // The window still opens: the UI shows the same message in its error banner.
        eprintln!("muppet-studio: {}", reason.message());
    }
    let result = tauri::Builder::default()
        .manage(state)
        .invoke_handler(tauri::generate_handler![
            commands::list_runs,
            commands::studio_info
        ])
        .run(tauri::generate_context!("../tauri.conf.json"));
    if let Err(error) = result {
        eprintln!("muppet-studio: the window system failed: {error}");
        std::process::exit(1);
    }
}
