//! Reads the top-level `tauri.conf.json` and declares the app's own commands, so each
//! needs an explicit permission in `capabilities/` (nothing is callable by default).
//!
//! The `muppet` sidecar (`bundle.externalBin`) is left out of what tauri-build sees here.
//! tauri-build would copy `binaries/muppet-<triple>` over `<target>/<profile>/muppet`, the
//! very file Cargo builds from `muppet-cli`: a stale staged copy would replace a fresh
//! binary, and a missing one would fail every build of a fresh clone. The bundler (`make
//! bundle`) reads `externalBin` from the configuration itself and packs the staged binary.

use std::path::{Path, PathBuf};

/// Every command of `src/commands/`; `capabilities/default.json` allows each by name.
const COMMANDS: &[&str] = &[
    "studio_info",
    "get_settings",
    "save_settings",
    "list_tasks",
    "task_preview",
    "mixture_summary",
    "task_token_lengths",
    "estimate_run_time",
    "import_task",
    "delete_tasks",
    "paper_catalog",
    "add_paper_task",
    "list_runs",
    "run_columns",
    "filter_runs",
    "group_runs",
    "run_importance",
    "run_detail",
    "run_curves",
    "compare_runs",
    "export_run_csv",
    "export_runs_table",
    "import_run_bundle",
    "delete_runs",
    "save_chart",
    "plot_runs",
    "parallel_runs",
    "export_checkpoint",
    "evaluate_checkpoint",
    "predict_input",
    "paired_scores",
    "prediction_rows",
    "rename_run",
    "tag_run",
    "untag_run",
    "add_run_note",
    "subscribe_events",
    "launch_run",
    "launch_finetune",
    "save_mixture_spec",
    "cancel_run",
    "resume_run",
    "quit_app",
    "list_experiments",
    "report_chart",
    "build_report",
    "compare_experiments",
    "score_prefinetuned",
    "run_experiment",
    "run_demo_experiment",
    "cancel_experiment",
    "resume_experiment",
    "delete_experiment",
    "check_experiment",
    "save_experiment",
];

const CONFIG: &str = "../tauri.conf.json";

/// `tauri.conf.json` without `bundle.externalBin`, written under `OUT_DIR` (rewritten only
/// when it changes, so Cargo does not rerun this script on every build). Paths inside the
/// configuration that tauri-build reads on Linux do not depend on where the file is.
fn config_without_sidecar() -> Result<PathBuf, String> {
    println!("cargo:rerun-if-changed={CONFIG}");
    let text = std::fs::read_to_string(CONFIG).map_err(|e| format!("reading {CONFIG}: {e}"))?;
    let mut config: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{CONFIG} is not valid JSON: {e}"))?;
    if let Some(bundle) = config.get_mut("bundle").and_then(|b| b.as_object_mut()) {
        bundle.remove("externalBin");
    }
    let out = std::env::var_os("OUT_DIR").ok_or("OUT_DIR is not set")?;
    let dir = Path::new(&out).join("tauri-config");
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let path = dir.join("tauri.conf.json");
    let patched = serde_json::to_string_pretty(&config).map_err(|e| e.to_string())?;
    if std::fs::read_to_string(&path).ok().as_deref() != Some(patched.as_str()) {
        std::fs::write(&path, patched).map_err(|e| format!("writing {}: {e}", path.display()))?;
    }
    Ok(path)
}

fn main() {
    // `generate_context!` embeds the built UI (`frontendDist`) without telling Cargo, so a
    // UI rebuilt since the last build would otherwise be left out of the shell.
    println!("cargo:rerun-if-changed=../ui/dist");
    let config = match config_without_sidecar() {
        Ok(path) => path,
        Err(reason) => panic!("muppet-studio build script: {reason}"),
    };
    let manifest = tauri_build::AppManifest::new().commands(COMMANDS);
    let attributes = tauri_build::Attributes::new()
        .config_path(config)
        .app_manifest(manifest);
    if let Err(error) = tauri_build::try_build(attributes) {
        panic!("tauri-build failed: {error:#}");
    }
}
