//! Running the `muppet` binary against a temporary data folder and the shared assets.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::workspace::{target_dir, workspace_root};

/// The `muppet` binary: `MUPPET_BIN`, else the workspace's debug build.
pub fn muppet_bin() -> PathBuf {
    let bin = std::env::var_os("MUPPET_BIN").map(PathBuf::from).unwrap_or_else(|| target_dir().join("debug/muppet"));
    assert!(bin.is_file(), "{} is missing: build it with `cargo build -p muppet-cli` (make test does)", bin.display());
    bin
}

/// The shared asset folder the test run fetched (`make test-assets`).
pub fn shared_assets() -> PathBuf {
    let dir = std::env::var_os("MUPPET_ASSETS").map(PathBuf::from).unwrap_or_else(|| workspace_root().join(".muppet/assets"));
    assert!(
        dir.join("models/all-MiniLM-L6-v2/model.safetensors").is_file(),
        "no demo assets in {}: run `muppet assets fetch` with MUPPET_ASSETS pointing there (make test does)",
        dir.display()
    );
    dir
}

/// A `muppet` command on data folder `home` and the shared assets.
pub fn command(home: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(muppet_bin());
    cmd.args(args).env("MUPPET_HOME", home).env("MUPPET_ASSETS", shared_assets());
    cmd
}

/// Run `muppet` to completion.
pub fn muppet(home: &Path, args: &[&str]) -> Output {
    command(home, args).output().expect("start muppet")
}

/// Stdout and stderr, for assertion messages.
pub fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// The JSON object on the last line of stdout (`--json`).
pub fn last_json(out: &Output) -> serde_json::Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().unwrap_or_else(|| panic!("no output:\n{}", text(out)));
    serde_json::from_str(line).unwrap_or_else(|e| panic!("the last line is not JSON ({e}):\n{}", text(out)))
}
