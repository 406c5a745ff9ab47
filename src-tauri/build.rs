//! Reads the top-level `tauri.conf.json` and declares the app's own commands, so each
//! needs an explicit permission in `capabilities/` (nothing is callable by default).

fn main() {
    let manifest = tauri_build::AppManifest::new().commands(&["list_runs", "studio_info"]);
    let attributes = tauri_build::Attributes::new()
        .config_path("../tauri.conf.json")
        .app_manifest(manifest);
    if let Err(error) = tauri_build::try_build(attributes) {
        panic!("tauri-build failed: {error:#}");
    }
}
