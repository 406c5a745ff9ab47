//! One writer per run: whoever trains a run holds an exclusive lock on `runs/<id>/run.lock`
//! until it ends. A second `muppet resume`, worker or app launch of the same run is
//! refused with the holder's pid instead of writing the same checkpoints, metrics and
//! status at once. The operating system releases the lock when its process ends, however
//! it ends, so a killed run never leaves a stale lock behind.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::RunId;

/// File name of the lock inside a run folder.
pub const LOCK_FILE: &str = "run.lock";

/// Why a run could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum RunLockError {
    /// Another process holds the lock: it is training this run now.
    #[error(
        "run {run} is being trained by another process{} (it holds {}); wait for it to end, or stop it first (Cancel in the app, or `kill -TERM <pid>`: it writes a checkpoint) and then resume",
        .holder.map(|p| format!(" (pid {p})")).unwrap_or_default(),
        .path.display()
    )]
    Busy { run: RunId, path: PathBuf, holder: Option<u32> },
    /// The lock file could not be created or locked.
    #[error("locking run {run} through {}: {source}", .path.display())]
    Io { run: RunId, path: PathBuf, source: std::io::Error },
}

/// The held lock of one run; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct RunLock {
    _file: File,
    path: PathBuf,
}

impl RunLock {
    /// Lock run `run` whose folder is `run_dir` (created if missing), writing this
    /// process's pid into the lock file for the message another writer gets.
    pub fn acquire(run: RunId, run_dir: &Path) -> Result<Self, RunLockError> {
        let path = run_dir.join(LOCK_FILE);
        let io = |source| RunLockError::Io { run, path: path.clone(), source };
        std::fs::create_dir_all(run_dir).map_err(io)?;
        // Not truncated on open: the holder's pid must stay readable until we hold the lock.
        let mut file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                let holder = file.read_to_string(&mut text).ok().and_then(|_| text.trim().parse().ok());
                return Err(RunLockError::Busy { run, path, holder });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        file.set_len(0).and_then(|()| file.seek(SeekFrom::Start(0))).and_then(|_| writeln!(file, "{}", std::process::id())).map_err(io)?;
        Ok(Self { _file: file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_is_refused_with_the_holders_pid_until_the_first_ends() {
        let dir = std::env::temp_dir().join(format!("muppet-run-lock-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let run_dir = dir.join("runs/7");
        let first = RunLock::acquire(RunId(7), &run_dir).expect("the first writer locks the run");
        assert_eq!(std::fs::read_to_string(first.path()).expect("lock file").trim(), std::process::id().to_string());
        // A second open file description conflicts with the first, as another process would.
        let err = RunLock::acquire(RunId(7), &run_dir).expect_err("a second writer is refused");
        match &err {
            RunLockError::Busy { run, holder, .. } => {
                assert_eq!(*run, RunId(7));
                assert_eq!(*holder, Some(std::process::id()));
            }
            other => panic!("expected Busy, got {other:?}"),
        }
        let message = err.to_string();
        assert!(message.contains("run 7 is being trained by another process") && message.contains("run.lock"), "{message}");
        // Another run is independent.
        let other = RunLock::acquire(RunId(8), &dir.join("runs/8")).expect("another run locks");
        drop(first);
        let again = RunLock::acquire(RunId(7), &run_dir).expect("free again once the first writer is gone");
        drop((again, other));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
