//! Reads the top-level `tauri.conf.json` and declares the app's own commands, so each
//! needs an explicit permission in `capabilities/` (nothing is callable by default).

/// Every command of `src/commands/`; `capabilities/default.json` allows each by name.
const COMMANDS: &[&str] = &[
    "studio_info",
    "get_settings",
    "save_settings",
    "list_tasks",
    "task_preview",
    "mixture_summary",
    "list_runs",
    "run_detail",
    "run_curves",
    "compare_runs",
    "export_run_csv",
    "export_checkpoint",
    "subscribe_events",
    "launch_run",
    "cancel_run",
    "resume_run",
    "quit_app",
    "list_experiments",
    "report_chart",
    "build_report",
    "run_experiment",
];

fn main() {
    let manifest = tauri_build::AppManifest::new().commands(COMMANDS);
    let attributes = tauri_build::Attributes::new()
        .config_path("../tauri.conf.json")
        .app_manifest(manifest);
    if let Err(error) = tauri_build::try_build(attributes) {
        panic!("tauri-build failed: {error:#}");
    }
}
