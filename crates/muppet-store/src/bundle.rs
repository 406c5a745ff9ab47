//! Run bundles: one file that carries runs from one data folder to another, e.g. from the
//! GPU server that trained them to the desktop app (`muppet runs bundle`, `muppet experiment
//! bundle`, `muppet runs import`, the app's *Import run*). A bundle is a tar archive holding
//! - `muppet-run.json`: the format, where the runs came from, each run's [`RunRecord`] with
//!   its id and its parent's there, and, for an experiment's bundle, its [`ExperimentRecord`];
//! - `files/<run>/...`: the files of each run folder (checkpoints, `splits.json`, the
//!   manifest, events and log), its lock and pid files left out. (Format 1, one run, kept
//!   its files under `files/`; it is still read.)
//!
//! Both ends are atomic: a bundle is written under a temporary name and renamed, and an
//! import unpacks into a hidden folder under `runs/`, checks every checkpoint against its
//! recorded size and SHA-256, then stores the rows and moves the folders into place in one
//! step, so a damaged bundle or a failure leaves no run behind.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use muppet_core::{MuppetHome, ProcessLock, RunId};
use serde::{Deserialize, Serialize};

use crate::{ExperimentId, ExperimentRecord, RunRecord, RunToImport, Store, StoreError};

/// The bundle format this build writes; it reads this one and format 1.
pub const BUNDLE_FORMAT: u32 = 2;
const RECORD: &str = "muppet-run.json";
const FILES: &str = "files";
/// Files of a run folder that belong to the process training it, not to the run.
const LEFT_OUT: [&str; 2] = ["run.lock", "worker.pid"];

#[derive(Debug, Serialize, Deserialize)]
struct BundleHeader {
    format: u32,
    /// The data folder it was bundled from, and the machine.
    home: String,
    host: String,
    /// Format 1: the one run's id and record, its files under `files/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    run: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    record: Option<RunRecord>,
    /// Format 2: the runs, each with its files under `files/<run>/`.
    #[serde(default)]
    runs: Vec<BundledRun>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    experiment: Option<BundledExperiment>,
}

#[derive(Debug, Serialize, Deserialize)]
struct BundledRun {
    /// Its id where it was bundled, and its parent's (the run a fine-tune started from).
    run: i64,
    parent: Option<i64>,
    record: RunRecord,
    /// Whether it belongs to the bundle's experiment (not a run its fine-tunes start from).
    #[serde(default)]
    in_experiment: bool,
}

#[derive(Debug, Serialize, Deserialize)]
struct BundledExperiment {
    /// Its id where it was bundled.
    id: i64,
    record: ExperimentRecord,
}

impl BundleHeader {
    /// A format 1 header read as format 2 (its one run, without a parent).
    fn upgraded(mut self) -> Self {
        if let (Some(run), Some(record)) = (self.run.take(), self.record.take()) {
            self.runs.push(BundledRun { run, parent: None, record, in_experiment: false });
        }
        self
    }

    /// Where run `run`'s files were unpacked under `staging`.
    fn files_of(&self, staging: &Path, run: i64) -> PathBuf {
        if self.format == 1 { staging.join(FILES) } else { staging.join(FILES).join(run.to_string()) }
    }
}

/// One run a bundle held, once imported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportedRun {
    pub run: RunId,
    pub name: String,
    /// Its id where it was bundled.
    pub source_run: i64,
    pub points: usize,
    pub checkpoints: usize,
}

/// The experiment a bundle held, once imported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportedExperiment {
    pub id: ExperimentId,
    pub name: String,
    /// Its id where it was bundled.
    pub source_id: i64,
}

/// What a bundle held, once imported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Imported {
    pub runs: Vec<ImportedRun>,
    pub experiment: Option<ImportedExperiment>,
    /// The data folder and machine where it was bundled.
    pub source_home: String,
    pub source_host: String,
    /// Metric points and checkpoints of all its runs, and the run-folder files.
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

/// Write `runs` of `home` as a bundle at `out` (a new file), with `experiment` when the runs
/// are an experiment's, and then also the runs its spec starts from (`run:ID`), so that it
/// resumes where it is imported; returns the number of run-folder files it holds. Each run's
/// lock (and the experiment's) is held meanwhile, so a run being trained is refused.
pub async fn write_bundle(store: &Store, home: &MuppetHome, runs: &[RunId], experiment: Option<ExperimentId>, out: &Path) -> Result<usize, StoreError> {
    if out.exists() {
        return Err(failed(out, "already exists; give a new file name or remove it"));
    }
    let busy = |e: muppet_core::LockError| failed(out, format!("not written: {e}"));
    let _experiment_lock = experiment.map(|e| ProcessLock::experiment(home, e.0)).transpose().map_err(busy)?;
    let record = match experiment {
        Some(id) => Some(BundledExperiment { id: id.0, record: store.experiment_record(id).await? }),
        None => None,
    };
    let mut runs = runs.to_vec();
    runs.extend(record.iter().flat_map(|e| crate::transfer::spec_start_runs(&e.record.spec)).map(RunId));
    runs.sort();
    runs.dedup();
    let runs = runs.as_slice();
    let mut bundled = Vec::with_capacity(runs.len());
    let mut locks = Vec::with_capacity(runs.len());
    for &run in runs {
        let row = store.run(run).await?;
        locks.push(ProcessLock::run(home, run).map_err(busy)?);
        let in_experiment = experiment.is_some() && row.experiment == experiment;
        bundled.push(BundledRun { run: run.0, parent: row.parent.map(|p| p.0), record: store.run_record(run).await?, in_experiment });
    }
    let experiment = record;
    let header = BundleHeader {
        format: BUNDLE_FORMAT,
        home: home.root().display().to_string(),
        host: host(),
        run: None,
        record: None,
        runs: bundled,
        experiment,
    };
    let dirs: Vec<(i64, PathBuf)> = runs.iter().map(|&r| (r.0, home.run_dir(r))).collect();
    let partial = out.with_file_name(format!(".{}.partial", out.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()));
    let (tar_path, final_path) = (partial.clone(), out.to_path_buf());
    // Gigabytes of checkpoints are copied: off the async runtime's threads.
    let written = tokio::task::spawn_blocking(move || write_tar(&tar_path, &header, &dirs).and_then(|n| std::fs::rename(&tar_path, &final_path).map(|()| n)));
    let result = match written.await.map_err(std::io::Error::other).and_then(|r| r) {
        Ok(n) => Ok(n),
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(failed(out, e))
        }
    };
    drop(locks);
    result
}

fn write_tar(path: &Path, header: &BundleHeader, dirs: &[(i64, PathBuf)]) -> std::io::Result<usize> {
    let file = std::fs::File::create(path)?;
    let mut tar = tar::Builder::new(std::io::BufWriter::new(file));
    tar.mode(tar::HeaderMode::Deterministic);
    let json = serde_json::to_vec_pretty(header).map_err(std::io::Error::other)?;
    let mut entry = tar::Header::new_gnu();
    entry.set_size(json.len() as u64);
    entry.set_mode(0o644);
    entry.set_cksum();
    tar.append_data(&mut entry, RECORD, json.as_slice())?;
    let mut count = 0;
    for (run, dir) in dirs {
        let mut files = Vec::new();
        if dir.is_dir() {
            collect_files(dir, dir, &mut files)?;
        }
        files.sort();
        for relative in &files {
            tar.append_path_with_name(dir.join(relative), Path::new(FILES).join(run.to_string()).join(relative))?;
        }
        count += files.len();
    }
    let mut inner = tar.into_inner()?;
    inner.flush()?;
    inner.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    Ok(count)
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

/// Finds on this machine the base model folder another machine named by its own path
/// (`muppet_data::assets::model_here`); `None`: not here.
pub type ModelsHere<'a> = &'a (dyn Fn(&Path) -> Option<PathBuf> + Sync);

/// Import the bundle at `bundle` into `home`: its runs as new runs (and its experiment).
/// Each run's base model, named by the other machine's path, is pointed at the same model
/// on this machine when `models_here` finds it.
pub async fn import_bundle(store: &Store, home: &MuppetHome, bundle: &Path, models_here: ModelsHere<'_>) -> Result<Imported, StoreError> {
    let runs = home.runs();
    std::fs::create_dir_all(&runs).map_err(|e| failed(&runs, e))?;
    crate::delete::sweep_leftovers(store, home, &runs).await;
    let staging = runs.join(crate::delete::import_staging_name());
    let result = stage_and_store(store, home, bundle, &staging, models_here).await;
    if staging.exists() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    result
}

async fn stage_and_store(store: &Store, home: &MuppetHome, bundle: &Path, staging: &Path, models_here: ModelsHere<'_>) -> Result<Imported, StoreError> {
    let (from, to) = (bundle.to_path_buf(), staging.to_path_buf());
    // Unpacking and checking gigabytes of checkpoints: off the async runtime's threads.
    let staged = tokio::task::spawn_blocking(move || stage(&from, &to)).await;
    let (mut header, count) = staged.map_err(|e| failed(bundle, format!("could not be unpacked ({e})")))??;
    let mut models = Vec::with_capacity(header.runs.len());
    for i in 0..header.runs.len() {
        let files = header.files_of(staging, header.runs[i].run);
        models.push(relocate_model(&files, &mut header.runs[i].record, models_here).map_err(|e| failed(bundle, e))?);
    }
    // An experiment that names its model: its runs still to train take it here.
    if let Some(spec) = header.experiment.as_mut().map(|e| &mut e.record.spec)
        && let Some(here) = spec.get("model").and_then(|m| m.as_str()).and_then(|there| models_here(Path::new(there)))
    {
        spec["model"] = here.display().to_string().into();
    }
    let to_import: Vec<RunToImport> = header
        .runs
        .iter()
        .zip(&models)
        .map(|(r, model)| {
            let mut note = format!("Imported from run {} of {} on {}, bundle {}", r.run, header.home, header.host, bundle.display());
            if let Some(parent) = r.parent.filter(|p| !header.runs.iter().any(|o| o.run == *p)) {
                note.push_str(&format!("; there it started from run {parent}, which the bundle does not hold"));
            }
            if let Some(model) = model {
                note.push_str(&format!("; {model}"));
            }
            RunToImport { source: r.run, parent: r.parent, record: &r.record, note, in_experiment: r.in_experiment }
        })
        .collect();
    let sources: Vec<PathBuf> = header.runs.iter().map(|r| header.files_of(staging, r.run)).collect();
    let (experiment, ids) = store
        .import_runs(
            header.experiment.as_ref().map(|e| &e.record),
            &to_import,
            |id| home.run_dir(id),
            |ids| place(home, &sources, ids),
            |ids| {
                for &id in ids {
                    let _ = std::fs::remove_dir_all(home.run_dir(id));
                }
            },
        )
        .await?;
    let runs: Vec<ImportedRun> = header
        .runs
        .iter()
        .zip(&ids)
        .map(|(r, &run)| ImportedRun { run, name: r.record.name.clone(), source_run: r.run, points: r.record.points.len(), checkpoints: r.record.checkpoints.len() })
        .collect();
    Ok(Imported {
        points: runs.iter().map(|r| r.points).sum(),
        checkpoints: runs.iter().map(|r| r.checkpoints).sum(),
        runs,
        experiment: header.experiment.as_ref().zip(experiment).map(|(e, id)| ImportedExperiment { id, name: e.record.name.clone(), source_id: e.id }),
        source_home: header.home,
        source_host: header.host,
        files: count,
    })
}

/// The engine's manifest in a run folder (`muppet_train::manifest::MANIFEST_FILE`), whose
/// `model_dir` names the base model folder.
const MANIFEST: &str = "run.json";

/// Point a bundled run at its base model on this machine: the other machine's path in its
/// staged `run.json` (`model_dir`) and in its spec (`model`) becomes the folder
/// `models_here` finds. Returns what the run's note says of it: where the model is here,
/// or that it is not here; nothing when the path is the same here.
fn relocate_model(files: &Path, record: &mut RunRecord, models_here: ModelsHere<'_>) -> Result<Option<String>, String> {
    let manifest = files.join(MANIFEST);
    let mut json: Option<serde_json::Value> = std::fs::read_to_string(&manifest).ok().and_then(|t| serde_json::from_str(&t).ok());
    let named = |v: &serde_json::Value, key: &str| v.get(key).and_then(|m| m.as_str()).map(str::to_string);
    let Some(there) = json.as_ref().and_then(|j| named(j, "model_dir")).or_else(|| named(&record.spec, "model")) else {
        return Ok(None);
    };
    let Some(here) = models_here(Path::new(&there)) else {
        return Ok(Some(format!(
            "its base model {there} is not on this machine: put the model there (or its folder, of the same name, in this machine's assets/models) to score, export or fine-tune from the run"
        )));
    };
    let here = here.display().to_string();
    if here == there {
        return Ok(None);
    }
    if let Some(json) = json.as_mut().filter(|j| named(j, "model_dir").as_deref() == Some(there.as_str())) {
        json["model_dir"] = here.clone().into();
        let partial = files.join(format!(".partial-{MANIFEST}"));
        let text = serde_json::to_vec_pretty(json).map_err(|e| e.to_string())?;
        std::fs::write(&partial, text).and_then(|()| std::fs::rename(&partial, &manifest)).map_err(|e| format!("rewriting {}: {e}", manifest.display()))?;
    }
    if named(&record.spec, "model").as_deref() == Some(there.as_str()) {
        record.spec["model"] = here.clone().into();
    }
    Ok(Some(format!("its base model {there} is {here} on this machine")))
}

/// Move each staged run folder to its new run's folder; on a failure, those moved go back.
fn place(home: &MuppetHome, sources: &[PathBuf], ids: &[RunId]) -> Result<(), String> {
    for (i, (from, &id)) in sources.iter().zip(ids).enumerate() {
        let dir = home.run_dir(id);
        let moved = if dir.exists() {
            Err(format!("{} already exists, though no run {id} is stored (left by a run removed from the database, or by an import that was stopped): move it away and import again", dir.display()))
        } else {
            std::fs::rename(from, &dir).map_err(|e| format!("moving the run's files to {}: {e}", dir.display()))
        };
        if let Err(e) = moved {
            for (back, &done) in sources.iter().zip(ids).take(i) {
                let _ = std::fs::rename(home.run_dir(done), back);
            }
            return Err(e);
        }
    }
    Ok(())
}

/// Unpack `bundle` into `staging` and check its format and every checkpoint against its
/// recorded size and SHA-256; returns its header (as format 2) with the number of
/// run-folder files.
fn stage(bundle: &Path, staging: &Path) -> Result<(BundleHeader, usize), StoreError> {
    let (header, count) = unpack(bundle, staging)?;
    if header.format > BUNDLE_FORMAT || header.format == 0 {
        return Err(failed(bundle, format!("is a run bundle of format {}, and this build reads formats 1 to {BUNDLE_FORMAT}: use a newer Muppet Studio, or bundle the runs again with this version", header.format)));
    }
    let header = header.upgraded();
    if header.runs.is_empty() && header.experiment.is_none() {
        return Err(failed(bundle, "holds no run; bundle the runs again"));
    }
    for r in &header.runs {
        let files = header.files_of(staging, r.run);
        for c in &r.record.checkpoints {
            let path = files.join(&c.file);
            let read = std::fs::metadata(&path).and_then(|m| Ok((m.len(), muppet_core::digest::sha256_file(&path)?)));
            let (bytes, sha256) =
                read.map_err(|e| failed(bundle, format!("checkpoint `{}` (step {}) of run {} is missing or unreadable ({e}); bundle the run again", c.file, c.step, r.run)))?;
            if bytes != c.bytes || sha256 != c.sha256.to_ascii_lowercase() {
                return Err(failed(
                    bundle,
                    format!("checkpoint `{}` (step {}) of run {} is damaged: {bytes} bytes with SHA-256 {sha256}, recorded as {} bytes with {}; bundle the run again", c.file, c.step, r.run, c.bytes, c.sha256),
                ));
            }
        }
        // A run folder without files still arrives as a folder.
        std::fs::create_dir_all(&files).map_err(|e| failed(bundle, e))?;
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A bundle of format 1 (one run, its files under `files/`), as the previous version
    /// wrote it, still imports.
    #[tokio::test]
    async fn a_format_1_bundle_still_imports() {
        let dir = tempfile::tempdir().expect("tempdir");
        let source = Store::open(&dir.path().join("source.db")).await.expect("source");
        let new = crate::NewRun { name: "old".into(), kind: muppet_core::RunKind::PreFinetune, spec: serde_json::json!({}), seed: None, backend: "flex".into(), device: "cpu".into() };
        let run = source.create_run(&new).await.expect("run");
        let weights = b"weights".to_vec();
        let file = dir.path().join("weights");
        std::fs::write(&file, &weights).expect("weights");
        let sha256 = muppet_core::digest::sha256_file(&file).expect("sha256");
        let checkpoint = crate::Checkpoint { run, path: dir.path().join("model-step1.mpk"), step: 1, bytes: weights.len() as u64, sha256 };
        source.add_checkpoint(&checkpoint).await.expect("checkpoint");
        source.end_run(run, muppet_core::RunStatus::Completed, None).await.expect("end");
        let record = source.run_record(run).await.expect("record");
        let header = serde_json::json!({"format": 1, "run": run.0, "home": "/srv/muppet", "host": "gpu-a", "record": record});
        let bundle = dir.path().join("old.tar");
        let mut tar = tar::Builder::new(std::fs::File::create(&bundle).expect("create"));
        for (name, data) in [(RECORD, serde_json::to_vec(&header).expect("json")), ("files/model-step1.mpk", weights)] {
            let mut entry = tar::Header::new_gnu();
            entry.set_size(data.len() as u64);
            entry.set_mode(0o644);
            entry.set_cksum();
            tar.append_data(&mut entry, name, data.as_slice()).expect("append");
        }
        tar.finish().expect("finish");
        drop(tar);

        let home = MuppetHome::at(dir.path().join("desktop"));
        home.ensure().expect("data folder");
        let store = Store::open(&home.db()).await.expect("open");
        let imported = import_bundle(&store, &home, &bundle, &|_| None).await.expect("import");
        assert_eq!((imported.runs.len(), imported.experiment.is_none(), imported.files, imported.checkpoints), (1, true, 1, 1));
        let new_run = imported.runs[0].run;
        assert_eq!(imported.runs[0].source_run, run.0);
        let stored = store.checkpoints(new_run).await.expect("checkpoints");
        assert_eq!(stored[0].path, home.run_dir(new_run).join("model-step1.mpk"));
        assert_eq!(std::fs::read(&stored[0].path).expect("file"), b"weights");
    }
}
