//! Run bundles: one file that carries a run from one data folder to another, e.g. from the
//! GPU server that trained it to the desktop app (`muppet runs bundle`, `muppet runs
//! import`, the app's *Import run*). A bundle is a tar archive holding
//! - `muppet-run.json`: the format, where the run came from, and its [`RunRecord`];
//! - `files/...`: the files of its run folder (checkpoints, `splits.json`, the manifest,
//!   events and log), its lock and pid files left out.
//!
//! Both ends are atomic: a bundle is written under a temporary name and renamed, and an
//! import unpacks into a hidden folder under `runs/`, checks every checkpoint against its
//! recorded size and SHA-256, then stores the rows and moves the folder into place in one
//! step, so a damaged bundle or a failure leaves no run behind.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use muppet_core::{MuppetHome, RunId};
use serde::{Deserialize, Serialize};

use crate::{RunRecord, Store, StoreError};

/// The bundle format this build writes and reads.
pub const BUNDLE_FORMAT: u32 = 1;
const RECORD: &str = "muppet-run.json";
const FILES: &str = "files";
/// Files of a run folder that belong to the process training it, not to the run.
const LEFT_OUT: [&str; 2] = ["run.lock", "worker.pid"];

#[derive(Debug, Serialize, Deserialize)]
struct BundleHeader {
    format: u32,
    /// The run's id where it was bundled.
    run: i64,
    /// The data folder it was bundled from, and the machine.
    home: String,
    host: String,
    record: RunRecord,
}

/// What a bundle held, once imported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Imported {
    pub run: RunId,
    pub name: String,
    /// The run's id, data folder and machine where it was bundled.
    pub source_run: i64,
    pub source_home: String,
    pub source_host: String,
    pub points: usize,
    pub checkpoints: usize,
    pub files: usize,
}

fn failed(path: &Path, what: impl std::fmt::Display) -> StoreError {
    StoreError::Import(format!("{}: {what}", path.display()))
}

fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_string()).unwrap_or_else(|_| "unknown".into())
}

/// Write run `run` of `home` as a bundle at `out` (a new file); returns the number of files
/// of its run folder it holds. The caller keeps the run from training meanwhile (its lock).
pub async fn write_bundle(store: &Store, home: &MuppetHome, run: RunId, out: &Path) -> Result<usize, StoreError> {
    if out.exists() {
        return Err(failed(out, "already exists; give a new file name or remove it"));
    }
    let record = store.run_record(run).await?;
    let dir = home.run_dir(run);
    let header = BundleHeader { format: BUNDLE_FORMAT, run: run.0, home: home.root().display().to_string(), host: host(), record };
    let partial = out.with_file_name(format!(".{}.partial", out.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()));
    let (tar_path, final_path) = (partial.clone(), out.to_path_buf());
    // Gigabytes of checkpoints are copied: off the async runtime's threads.
    let written = tokio::task::spawn_blocking(move || write_tar(&tar_path, &header, &dir).and_then(|n| std::fs::rename(&tar_path, &final_path).map(|()| n)));
    match written.await.map_err(std::io::Error::other).and_then(|r| r) {
        Ok(n) => Ok(n),
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(failed(out, e))
        }
    }
}

fn write_tar(path: &Path, header: &BundleHeader, dir: &Path) -> std::io::Result<usize> {
    let file = std::fs::File::create(path)?;
    let mut tar = tar::Builder::new(std::io::BufWriter::new(file));
    tar.mode(tar::HeaderMode::Deterministic);
    let json = serde_json::to_vec_pretty(header).map_err(std::io::Error::other)?;
    let mut entry = tar::Header::new_gnu();
    entry.set_size(json.len() as u64);
    entry.set_mode(0o644);
    entry.set_cksum();
    tar.append_data(&mut entry, RECORD, json.as_slice())?;
    let mut files = Vec::new();
    if dir.is_dir() {
        collect_files(dir, dir, &mut files)?;
    }
    files.sort();
    for relative in &files {
        tar.append_path_with_name(dir.join(relative), Path::new(FILES).join(relative))?;
    }
    let mut inner = tar.into_inner()?;
    inner.flush()?;
    inner.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    Ok(files.len())
}

/// The regular files under `dir`, relative to `root`, but the training process's own and
/// half-written ones.
fn collect_files(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            collect_files(root, &entry.path(), out)?;
        } else if kind.is_file() && !LEFT_OUT.contains(&name.as_str()) && !name.starts_with(".partial") {
            out.push(entry.path().strip_prefix(root).map_err(std::io::Error::other)?.to_path_buf());
        }
    }
    Ok(())
}

/// Import the bundle at `bundle` into `home` as a new run.
pub async fn import_bundle(store: &Store, home: &MuppetHome, bundle: &Path) -> Result<Imported, StoreError> {
    let runs = home.runs();
    std::fs::create_dir_all(&runs).map_err(|e| failed(&runs, e))?;
    crate::delete::sweep_leftovers(&runs);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let staging = runs.join(format!(".import-{}-{nanos}", std::process::id()));
    let result = stage_and_store(store, home, bundle, &staging).await;
    if staging.exists() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    result
}

async fn stage_and_store(store: &Store, home: &MuppetHome, bundle: &Path, staging: &Path) -> Result<Imported, StoreError> {
    let (from, to) = (bundle.to_path_buf(), staging.to_path_buf());
    // Unpacking and checking gigabytes of checkpoints: off the async runtime's threads.
    let staged = tokio::task::spawn_blocking(move || stage(&from, &to)).await;
    let (header, count) = staged.map_err(|e| failed(bundle, format!("could not be unpacked ({e})")))??;
    let files = staging.join(FILES);
    let note = format!("Imported from run {} of {} on {}, bundle {}", header.run, header.home, header.host, bundle.display());
    let run = store
        .import_run(
            &header.record,
            &note,
            |id| home.run_dir(id),
            |id| {
                let dir = home.run_dir(id);
                if dir.exists() {
                    return Err(format!("{} already exists, left by a run deleted from the database: move it away and import again", dir.display()));
                }
                std::fs::rename(&files, &dir).map_err(|e| format!("moving the run's files to {}: {e}", dir.display()))
            },
            |id| {
                let _ = std::fs::remove_dir_all(home.run_dir(id));
            },
        )
        .await?;
    Ok(Imported {
        run,
        name: header.record.name.clone(),
        source_run: header.run,
        source_home: header.home,
        source_host: header.host,
        points: header.record.points.len(),
        checkpoints: header.record.checkpoints.len(),
        files: count,
    })
}

/// Unpack `bundle` into `staging` and check its format and every checkpoint against its
/// recorded size and SHA-256; returns its header with the number of run-folder files.
fn stage(bundle: &Path, staging: &Path) -> Result<(BundleHeader, usize), StoreError> {
    let (header, count) = unpack(bundle, staging)?;
    if header.format != BUNDLE_FORMAT {
        return Err(failed(bundle, format!("is a run bundle of format {}, and this build reads format {BUNDLE_FORMAT}: bundle it again with this version", header.format)));
    }
    let files = staging.join(FILES);
    for c in &header.record.checkpoints {
        let path = files.join(&c.file);
        let read = std::fs::metadata(&path).and_then(|m| Ok((m.len(), muppet_core::digest::sha256_file(&path)?)));
        let (bytes, sha256) = read.map_err(|e| failed(bundle, format!("checkpoint `{}` (step {}) is missing or unreadable ({e}); bundle the run again", c.file, c.step)))?;
        if bytes != c.bytes || sha256 != c.sha256.to_ascii_lowercase() {
            return Err(failed(bundle, format!("checkpoint `{}` (step {}) is damaged: {bytes} bytes with SHA-256 {sha256}, recorded as {} bytes with {}; bundle the run again", c.file, c.step, c.bytes, c.sha256)));
        }
    }
    // A run folder without files still arrives as a folder.
    std::fs::create_dir_all(&files).map_err(|e| failed(bundle, e))?;
    Ok((header, count))
}

/// Unpack `bundle` into `staging` (entries outside it are refused by the tar reader) and
/// read its header; returns it with the number of run-folder files unpacked.
fn unpack(bundle: &Path, staging: &Path) -> Result<(BundleHeader, usize), StoreError> {
    let file = std::fs::File::open(bundle).map_err(|e| failed(bundle, format!("cannot be read ({e})")))?;
    std::fs::create_dir_all(staging).map_err(|e| failed(staging, e))?;
    let mut archive = tar::Archive::new(std::io::BufReader::new(file));
    let not_a_bundle = |e: std::io::Error| failed(bundle, format!("is not a run bundle ({e}); make one with `muppet runs bundle ID --out FILE`"));
    let mut header = None;
    let mut files = 0;
    for entry in archive.entries().map_err(not_a_bundle)? {
        let mut entry = entry.map_err(not_a_bundle)?;
        let path = entry.path().map_err(not_a_bundle)?.into_owned();
        if path == Path::new(RECORD) {
            let mut text = String::new();
            entry.read_to_string(&mut text).map_err(not_a_bundle)?;
            header = Some(serde_json::from_str::<BundleHeader>(&text).map_err(|e| failed(bundle, format!("has a {RECORD} this build cannot read ({e}); bundle the run again with this version")))?);
        } else if path.starts_with(FILES) && entry.header().entry_type().is_file() {
            if !entry.unpack_in(staging).map_err(not_a_bundle)? {
                return Err(failed(bundle, format!("holds `{}`, outside the run's folder: refused", path.display())));
            }
            files += 1;
        }
    }
    let header = header.ok_or_else(|| failed(bundle, format!("holds no {RECORD}: it is not a run bundle; make one with `muppet runs bundle ID --out FILE`")))?;
    Ok((header, files))
}
