//! One process at a time per run and per experiment. Whoever trains a run holds an
//! exclusive lock on `runs/<id>/run.lock`, and whoever orchestrates an experiment (`muppet
//! experiment run`/`resume`) holds `experiments/<id>/run.lock`, until it ends. A second
//! writer is refused with the holder's pid instead of writing the same checkpoints,
//! metrics and status at once, and the app finds a running experiment's process through
//! its lock, whoever started it. The operating system releases a lock when its process
//! ends, however it ends, so a killed process never leaves a stale lock behind.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::{MuppetHome, RunId};

/// File name of the lock inside a run's (or an experiment's) folder.
pub const LOCK_FILE: &str = "run.lock";

/// Why a lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process holds the lock.
    #[error(
        "{what} by another process{} (it holds {}); {advice}",
        .holder.map(|p| format!(" (pid {p})")).unwrap_or_default(),
        .path.display()
    )]
    Busy { what: String, advice: &'static str, path: PathBuf, holder: Option<u32> },
    /// The lock file could not be created or locked.
    #[error("locking {path}: {source}", path = .path.display())]
    Io { path: PathBuf, source: std::io::Error },
}

/// Waits between tries of a lock that is taken (about a quarter of a second in all).
const RETRY_MS: [u64; 4] = [10, 30, 70, 140];

/// A held lock; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct ProcessLock {
    _file: File,
    path: PathBuf,
}

/// The lock file of a run.
pub fn run_lock_path(home: &MuppetHome, run: RunId) -> PathBuf {
    home.run_dir(run).join(LOCK_FILE)
}

/// The lock file of an experiment.
pub fn experiment_lock_path(home: &MuppetHome, experiment: i64) -> PathBuf {
    home.experiment_dir(experiment).join(LOCK_FILE)
}

impl ProcessLock {
    /// Lock run `run` (its folder created if missing).
    pub fn run(home: &MuppetHome, run: RunId) -> Result<Self, LockError> {
        Self::acquire(
            &run_lock_path(home, run),
            || format!("run {run} is being trained"),
            "wait for it to end, or stop it first (Cancel in the app, or `kill -TERM <pid>`: it writes a checkpoint) and then resume",
        )
    }

    /// Lock experiment `experiment` for its orchestrator.
    pub fn experiment(home: &MuppetHome, experiment: i64) -> Result<Self, LockError> {
        Self::acquire(
            &experiment_lock_path(home, experiment),
            || format!("experiment {experiment} is being run"),
            "wait for it to end, or stop it first (Cancel on the app's Experiments page, or `kill -TERM <pid>`: its runs stop with a checkpoint) and then resume it",
        )
    }

    /// Take the lock at `path` (its folder created if missing) and write this process's
    /// pid into it, for the message another process gets.
    fn acquire(path: &Path, what: impl FnOnce() -> String, advice: &'static str) -> Result<Self, LockError> {
        let io = |source| LockError::Io { path: path.to_path_buf(), source };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        // Not truncated on open: the holder's pid must stay readable until we hold the lock.
        let mut file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path).map_err(io)?;
        // A short hold ([`holder`]'s probe, the app ending a dead worker's run) is waited
        // out; a process that keeps the lock is not.
        for wait_ms in RETRY_MS.iter().copied().chain([0]) {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) if wait_ms > 0 => std::thread::sleep(std::time::Duration::from_millis(wait_ms)),
                Err(TryLockError::WouldBlock) => {
                    return Err(LockError::Busy { what: what(), advice, path: path.to_path_buf(), holder: read_pid(&mut file) });
                }
                Err(TryLockError::Error(e)) => return Err(io(e)),
            }
        }
        file.set_len(0).and_then(|()| file.seek(SeekFrom::Start(0))).and_then(|_| writeln!(file, "{}", std::process::id())).map_err(io)?;
        Ok(Self { _file: file, path: path.to_path_buf() })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn read_pid(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

/// Who holds a lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    /// No process holds it (or there is no lock file).
    Free,
    /// A live process holds it; its pid, once it has written it (a non-zero pid).
    Held { pid: Option<u32> },
}

/// Who holds the lock at `path`. The lock is released with its process, so a pid returned
/// here belongs to a live holder, not to a process that ended and left a file behind.
pub fn holder(path: &Path) -> Holder {
    let Ok(mut file) = OpenOptions::new().read(true).open(path) else { return Holder::Free };
    match file.try_lock_shared() {
        // Free: released again as `file` is dropped.
        Ok(()) | Err(TryLockError::Error(_)) => Holder::Free,
        Err(TryLockError::WouldBlock) => Holder::Held { pid: read_pid(&mut file).filter(|&p| p > 0) },
    }
}

/// Whether the lock file at `path` was left by a process that ended: it exists and no
/// process holds it. Where the store says its run or experiment is still going, that
/// process was killed or crashed. (No file says nothing: a folder from before locks.)
pub fn abandoned(path: &Path) -> bool {
    path.is_file() && holder(path) == Holder::Free
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_is_refused_with_the_holders_pid_until_the_first_ends() {
        let dir = tempfile_dir("run");
        let home = MuppetHome::at(&dir);
        let lock_path = run_lock_path(&home, RunId(7));
        assert_eq!(lock_path, dir.join("runs/7/run.lock"));
        assert_eq!(holder(&lock_path), Holder::Free, "no file, no holder");
        assert!(!abandoned(&lock_path), "no file says nothing");
        let first = ProcessLock::run(&home, RunId(7)).expect("the first writer locks the run");
        assert_eq!(std::fs::read_to_string(first.path()).expect("lock file").trim(), std::process::id().to_string());
        assert_eq!(holder(&lock_path), Holder::Held { pid: Some(std::process::id()) });
        // A second open file description conflicts with the first, as another process would.
        let err = ProcessLock::run(&home, RunId(7)).expect_err("a second writer is refused");
        let LockError::Busy { holder: pid, .. } = &err else { panic!("expected Busy, got {err:?}") };
        assert_eq!(*pid, Some(std::process::id()));
        let message = err.to_string();
        assert!(message.starts_with(&format!("run 7 is being trained by another process (pid {})", std::process::id())) && message.contains("run.lock"), "{message}");
        // Another run is independent.
        assert!(!abandoned(&lock_path), "held");
        let other = ProcessLock::run(&home, RunId(8)).expect("another run locks");
        drop(first);
        assert_eq!(holder(&lock_path), Holder::Free, "released with its holder; the file stays");
        assert!(abandoned(&lock_path));
        let again = ProcessLock::run(&home, RunId(7)).expect("free again once the first writer is gone");
        drop((again, other));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_experiment_is_locked_in_its_own_folder() {
        let dir = tempfile_dir("experiment");
        let home = MuppetHome::at(&dir);
        let lock = ProcessLock::experiment(&home, 3).expect("lock");
        assert_eq!(lock.path(), dir.join("experiments/3/run.lock"));
        assert_eq!(holder(&experiment_lock_path(&home, 3)), Holder::Held { pid: Some(std::process::id()) });
        let message = ProcessLock::experiment(&home, 3).expect_err("busy").to_string();
        assert!(message.starts_with("experiment 3 is being run by another process (pid"), "{message}");
        drop(lock);
        assert_eq!(holder(&experiment_lock_path(&home, 3)), Holder::Free);
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn tempfile_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("muppet-lock-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }
}
