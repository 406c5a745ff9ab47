//! Where the workspace and its build outputs are, as seen from a test binary.

use std::path::PathBuf;

/// The repository root (the folder of the workspace `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    let tests_crate = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    tests_crate
        .parent()
        .map(PathBuf::from)
        .unwrap_or(tests_crate)
}

/// Cargo's target folder: `CARGO_TARGET_DIR` (relative to the root) or `<root>/target`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR").filter(|v| !v.is_empty()) {
        Some(dir) => workspace_root().join(dir),
        None => workspace_root().join("target"),
    }
}

/// A folder under the target dir for a test's artifacts (screenshots, logs), created.
pub fn artifact_dir(name: &str) -> std::io::Result<PathBuf> {
    let dir = target_dir().join(name);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
