//! Deleting runs and experiments (`muppet runs delete`, `muppet experiment delete`, the
//! app's *Delete*): their rows (metric series and points, checkpoints, tags, notes) and their
//! folders (checkpoints, logs, an experiment's log and report) go together or not at all.
//!
//! A run being trained is refused: its lock is taken first, and held until the end, so no
//! worker can start it meanwhile (the lock file stays in place while the folder's other
//! files are moved). A run that another run started from (a fine-tune of a pre-finetuned
//! run) is refused unless that run goes too: the fine-tune's lineage would point nowhere.
//! The folders' files are first moved aside into hidden folders, the rows deleted in one
//! transaction, and only then are the files removed; a failure before the commit moves the
//! files back, and so does the next deletion or import when a process was killed half-way
//! and its rows are still there.

use std::path::{Path, PathBuf};

use muppet_core::lock::{experiment_lock_path, holder, Holder, LOCK_FILE};
use muppet_core::{MuppetHome, ProcessLock, RunId};
use serde::Serialize;

use crate::{ExperimentId, Store, StoreError};

/// Hidden names of folders on their way out (`.deleted-<pid>-<n>-<name>`) and of an import's
/// staging folder (`.import-<pid>-<n>`, see [`crate::bundle`]).
const DELETED: &str = ".deleted-";
const IMPORTING: &str = ".import-";

/// What a deletion removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deleted {
    pub runs: Vec<RunId>,
    pub experiment: Option<ExperimentId>,
    pub points: u64,
    pub checkpoints: u64,
    /// Files removed from the run folders (and the experiment's folders), and their size.
    pub files: u64,
    pub bytes: u64,
}

impl std::fmt::Display for Deleted {
    /// "deleted experiment 2 and its runs 3, 4: 22 metric points, 2 checkpoints, 6 files (2.0 kB)"
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids = self.runs.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
        let runs = if self.runs.len() == 1 { format!("run {ids}") } else { format!("runs {ids}") };
        match self.experiment {
            Some(e) if self.runs.is_empty() => write!(f, "deleted experiment {} (it had no runs)", e.0)?,
            Some(e) => write!(f, "deleted experiment {} and its {runs}", e.0)?,
            None => write!(f, "deleted {runs}")?,
        }
        write!(
            f,
            ": {}, {}, {} ({})",
            counted(self.points, "metric point"),
            counted(self.checkpoints, "checkpoint"),
            counted(self.files, "file"),
            bytes_text(self.bytes)
        )
    }
}

fn counted(n: u64, what: &str) -> String {
    if n == 1 { format!("1 {what}") } else { format!("{n} {what}s") }
}

/// A size in bytes as people read it (decimal units).
pub fn bytes_text(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["kB", "MB", "GB", "TB", "PB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 999.95 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

fn refused(message: impl std::fmt::Display) -> StoreError {
    StoreError::Refused(message.to_string())
}

/// Delete `runs` of `home`: their rows and their folders.
pub async fn delete_runs(store: &Store, home: &MuppetHome, runs: &[RunId]) -> Result<Deleted, StoreError> {
    if runs.is_empty() {
        return Err(refused("no run to delete: name at least one run id"));
    }
    delete(store, home, runs, None).await
}

/// Delete experiment `id` of `home` with every run of it, its orchestrator's folder (lock,
/// log), its report and its comparisons with others. Refused while its orchestrator runs.
pub async fn delete_experiment(store: &Store, home: &MuppetHome, id: ExperimentId) -> Result<Deleted, StoreError> {
    store.experiment(id).await?;
    let _orchestrator = ProcessLock::experiment(home, id.0).map_err(refused)?;
    let runs: Vec<RunId> = store.experiment_runs(id).await?.iter().map(|r| r.id).collect();
    delete(store, home, &runs, Some(id)).await
}

async fn delete(store: &Store, home: &MuppetHome, runs: &[RunId], experiment: Option<ExperimentId>) -> Result<Deleted, StoreError> {
    let mut runs = runs.to_vec();
    runs.sort();
    runs.dedup();
    for &run in &runs {
        let row = store.run(run).await?;
        // Its orchestrator would start it, or count it done, while it goes.
        if let Some(e) = row.experiment.filter(|&e| Some(e) != experiment)
            && let Holder::Held { pid } = holder(&experiment_lock_path(home, e.0))
        {
            let by = pid.map(|p| format!(" (pid {p})")).unwrap_or_default();
            return Err(refused(format!(
                "run {run} belongs to experiment {}, which is being run by another process{by}: wait for it to end, or cancel it first; nothing was deleted",
                e.0
            )));
        }
    }
    let mut folders: Vec<PathBuf> = runs.iter().map(|&r| home.run_dir(r)).collect();
    if let Some(e) = experiment {
        folders.extend([home.experiment_dir(e.0), home.report_dir(e.0)]);
        // Its comparisons with other experiments compare what is gone.
        folders.extend(home.comparisons_of(e.0));
    }
    // What an earlier deletion or import left when its process was killed half-way.
    for parent in folders.iter().filter_map(|f| f.parent()).collect::<std::collections::BTreeSet<_>>() {
        sweep_leftovers(store, home, parent).await;
    }
    // Held to the end: a worker starting one of the runs now is refused.
    let mut locks = Vec::with_capacity(runs.len());
    for &run in &runs {
        locks.push(ProcessLock::run(home, run).map_err(refused)?);
    }
    let (points, checkpoints) = store.counts(&runs).await?;
    let mut trash = Trash::default();
    for folder in folders.iter().filter(|f| f.exists()) {
        if let Err(e) = trash.take(folder) {
            trash.restore();
            return Err(refused(format!("cannot move the files of {} aside to delete them ({e}); nothing was deleted", folder.display())));
        }
    }
    if let Err(e) = store.delete_rows(&runs, experiment).await {
        trash.restore();
        return Err(e);
    }
    // The emptied folders (their lock files) go while the locks are held.
    trash.remove_folders();
    drop(locks);
    // Gigabytes of checkpoints: off the async runtime's threads.
    let (files, bytes) = tokio::task::spawn_blocking(move || trash.empty()).await.unwrap_or_default();
    Ok(Deleted { runs, experiment, points, checkpoints, files, bytes })
}

impl Store {
    /// Metric points and checkpoints of `runs`.
    async fn counts(&self, runs: &[RunId]) -> Result<(u64, u64), StoreError> {
        let ids = id_list(runs);
        let points: i64 = sqlx::query_scalar(
            "SELECT coalesce(sum(m.count), 0) FROM metric_summaries m JOIN metric_series s ON s.id = m.series_id
             WHERE s.run_id IN (SELECT value FROM json_each(?))",
        )
        .bind(&ids)
        .fetch_one(&self.pool)
        .await?;
        let checkpoints: i64 =
            sqlx::query_scalar("SELECT count(*) FROM checkpoints WHERE run_id IN (SELECT value FROM json_each(?))").bind(&ids).fetch_one(&self.pool).await?;
        Ok((points as u64, checkpoints as u64))
    }

    /// Delete the rows of `runs` (everything of theirs cascades) and of `experiment`, in one
    /// transaction. Refused when a run outside `runs` started from one of them, or, for an
    /// experiment, when it has a run outside `runs`.
    async fn delete_rows(&self, runs: &[RunId], experiment: Option<ExperimentId>) -> Result<(), StoreError> {
        let ids = id_list(runs);
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let children: Vec<(i64, i64, String)> = sqlx::query_as(
            "SELECT parent_run_id, id, name FROM runs
             WHERE parent_run_id IN (SELECT value FROM json_each(?1)) AND id NOT IN (SELECT value FROM json_each(?1))
             ORDER BY parent_run_id, id",
        )
        .bind(&ids)
        .fetch_all(&mut *tx)
        .await?;
        if !children.is_empty() {
            let list = children.iter().map(|(parent, id, name)| format!("run {id} \"{name}\" started from run {parent}")).collect::<Vec<_>>().join("; ");
            if let Some(e) = experiment {
                let ids = children.iter().map(|c| c.1.to_string()).collect::<Vec<_>>().join(" ");
                return Err(refused(format!("{list}, a run outside experiment {}: delete it first (`muppet runs delete {ids}`), then the experiment; nothing was deleted", e.0)));
            }
            let mut with: Vec<i64> = runs.iter().map(|r| r.0).chain(children.iter().map(|c| c.1)).collect();
            with.sort_unstable();
            with.dedup();
            let with = with.iter().map(i64::to_string).collect::<Vec<_>>().join(" ");
            return Err(refused(format!("{list}: delete them together (`muppet runs delete {with}`), or keep it; nothing was deleted")));
        }
        if let Some(e) = experiment {
            let added: Option<i64> = sqlx::query_scalar("SELECT id FROM runs WHERE experiment_id = ? AND id NOT IN (SELECT value FROM json_each(?)) LIMIT 1")
                .bind(e.0)
                .bind(&ids)
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(run) = added {
                return Err(refused(format!("run {run} joined experiment {} meanwhile; delete it again; nothing was deleted", e.0)));
            }
        }
        sqlx::query("DELETE FROM runs WHERE id IN (SELECT value FROM json_each(?))").bind(&ids).execute(&mut *tx).await?;
        if let Some(e) = experiment {
            sqlx::query("DELETE FROM experiments WHERE id = ?").bind(e.0).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

fn id_list(runs: &[RunId]) -> String {
    serde_json::to_string(&runs.iter().map(|r| r.0).collect::<Vec<_>>()).unwrap_or_else(|_| "[]".into())
}

/// Folders whose files were moved aside (all but a lock file), with where they went.
#[derive(Default)]
struct Trash {
    moved: Vec<(PathBuf, PathBuf)>,
}

/// Move every entry of `from` but its lock file into `to` (created); on a failure, those
/// moved go back.
fn move_entries(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    let mut done: Vec<std::ffi::OsString> = Vec::new();
    for entry in std::fs::read_dir(from)? {
        let name = entry?.file_name();
        if name == LOCK_FILE {
            continue;
        }
        if let Err(e) = std::fs::rename(from.join(&name), to.join(&name)) {
            for name in done {
                let _ = std::fs::rename(to.join(&name), from.join(&name));
            }
            return Err(e);
        }
        done.push(name);
    }
    Ok(())
}

impl Trash {
    fn take(&mut self, folder: &Path) -> std::io::Result<()> {
        let name = folder.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let aside = folder.with_file_name(format!("{DELETED}{}-{}-{name}", std::process::id(), unique()));
        if let Err(e) = move_entries(folder, &aside) {
            let _ = std::fs::remove_dir(&aside);
            return Err(e);
        }
        self.moved.push((folder.to_path_buf(), aside));
        Ok(())
    }

    /// Put every file back where it was.
    fn restore(&mut self) {
        for (folder, aside) in self.moved.drain(..).rev() {
            match move_entries(&aside, &folder) {
                Ok(()) => {
                    let _ = std::fs::remove_dir(&aside);
                }
                Err(e) => eprintln!("muppet: could not move {} back to {}: {e}", aside.display(), folder.display()),
            }
        }
    }

    /// Remove the emptied folders (a lock file at most is left in them).
    fn remove_folders(&self) {
        for (folder, _) in &self.moved {
            let _ = std::fs::remove_dir_all(folder);
        }
    }

    /// Remove the files moved aside; returns the files and bytes removed.
    fn empty(self) -> (u64, u64) {
        let mut total = (0, 0);
        for (_, aside) in &self.moved {
            let (files, bytes) = measure(aside);
            total = (total.0 + files, total.1 + bytes);
            if let Err(e) = std::fs::remove_dir_all(aside) {
                eprintln!("muppet: could not remove {}: {e}; remove it by hand", aside.display());
            }
        }
        total
    }
}

/// The hidden name of an import's staging folder under `runs/` (see [`crate::bundle`]).
pub(crate) fn import_staging_name() -> String {
    format!("{IMPORTING}{}-{}", std::process::id(), unique())
}

fn unique() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
}

/// The regular files under `dir` and their bytes.
fn measure(dir: &Path) -> (u64, u64) {
    let mut total = (0, 0);
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        match entry.file_type() {
            Ok(t) if t.is_dir() => {
                let (f, b) = measure(&entry.path());
                total = (total.0 + f, total.1 + b);
            }
            Ok(t) if t.is_file() => total = (total.0 + 1, total.1 + entry.metadata().map(|m| m.len()).unwrap_or(0)),
            _ => {}
        }
    }
    total
}

/// The folder name of a deletion or an import in progress: its process, and for a
/// deletion the name of the folder its files came from.
pub(crate) fn leftover(name: &str) -> Option<(u32, Option<&str>)> {
    if let Some(rest) = name.strip_prefix(DELETED) {
        let mut parts = rest.splitn(3, '-');
        let pid = parts.next()?.parse().ok()?;
        let _n = parts.next()?;
        return Some((pid, Some(parts.next()?)));
    }
    let rest = name.strip_prefix(IMPORTING)?;
    Some((rest.split('-').next()?.parse().ok()?, None))
}

/// Whether the process `pid` is alive (Linux: its `/proc` entry).
fn alive(pid: u32) -> bool {
    pid == std::process::id() || Path::new("/proc").join(pid.to_string()).exists()
}

/// Clear the hidden folders under `dir` (`runs/`, `experiments/` or `reports/` of `home`)
/// that a deletion or an import left when its process ended half-way. The files of a
/// deletion whose rows are still stored go back to their folder (it was killed before its
/// commit); the others, and an import's staging folder, are removed.
pub(crate) async fn sweep_leftovers(store: &Store, home: &MuppetHome, dir: &Path) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some((pid, from)) = leftover(&name) else { continue };
        if alive(pid) {
            continue;
        }
        let still_stored = match from.and_then(|f| f.parse::<i64>().ok()) {
            Some(id) if dir == home.runs() => store.run(RunId(id)).await.is_ok(),
            Some(id) => store.experiment(ExperimentId(id)).await.is_ok(),
            None => false,
        };
        if still_stored && let Some(from) = from {
            if move_entries(&entry.path(), &dir.join(from)).is_ok() {
                let _ = std::fs::remove_dir(entry.path());
            }
            continue;
        }
        let _ = std::fs::remove_dir_all(entry.path());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_in_decimal_units() {
        assert_eq!(bytes_text(0), "0 B");
        assert_eq!(bytes_text(999), "999 B");
        assert_eq!(bytes_text(1000), "1.0 kB");
        assert_eq!(bytes_text(2_006), "2.0 kB");
        assert_eq!(bytes_text(999_949), "999.9 kB");
        assert_eq!(bytes_text(999_950), "1.0 MB");
        assert_eq!(bytes_text(1_340_000_000), "1.3 GB");
    }

    #[test]
    fn a_deletion_says_what_it_removed() {
        let deleted = Deleted { runs: vec![RunId(3), RunId(4)], experiment: None, points: 22, checkpoints: 2, files: 6, bytes: 2_030 };
        assert_eq!(deleted.to_string(), "deleted runs 3, 4: 22 metric points, 2 checkpoints, 6 files (2.0 kB)");
        let one = Deleted { runs: vec![RunId(3)], experiment: Some(ExperimentId(2)), ..deleted.clone() };
        assert_eq!(one.to_string(), "deleted experiment 2 and its run 3: 22 metric points, 2 checkpoints, 6 files (2.0 kB)");
        let empty = Deleted { runs: vec![], experiment: Some(ExperimentId(2)), points: 0, checkpoints: 0, files: 1, bytes: 6 };
        assert_eq!(empty.to_string(), "deleted experiment 2 (it had no runs): 0 metric points, 0 checkpoints, 1 file (6 B)");
    }

    #[test]
    fn leftovers_are_named_by_their_process_and_folder() {
        assert_eq!(leftover(".deleted-123-456-7"), Some((123, Some("7"))));
        assert_eq!(leftover(".deleted-123-456-my-report"), Some((123, Some("my-report"))));
        assert_eq!(leftover(".import-99-1"), Some((99, None)));
        assert_eq!(leftover("7"), None);
        assert_eq!(leftover(".deleted-x-1-7"), None);
    }
}
