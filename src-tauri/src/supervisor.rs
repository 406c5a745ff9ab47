//! Worker processes. Each run executes in its own `muppet worker --run ID`, so a crash,
//! an out-of-memory or a kill takes down the worker, never the app.
//!
//! The worker's stdout (one JSON line per event) goes to `runs/<id>/events.jsonl` and its
//! stderr to `runs/<id>/worker.log`, not to pipes: a worker the user keeps running after
//! closing the window then loses nothing and never writes to a closed pipe. The app reads
//! the new lines of every events file ten times a second and forwards them, batched, to
//! the subscribed UI channels: that tick is the throttle (at most 10 messages a second).
//!
//! Cancel is SIGTERM: the worker finishes its update, writes a checkpoint, ends the run
//! `cancelled` and exits. One that has not exited after [`CANCEL_GRACE`] is killed and its
//! run marked failed. At most `parallel` workers run at once; later launches wait their turn.

use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use muppet_core::{MuppetHome, RunEvent, RunId, RunStatus};
use muppet_store::Store;
use serde::Serialize;
use tauri::ipc::Channel;

use crate::error::CommandError;

/// The forwarding tick: events reach the UI at most this often.
pub const FORWARD_EVERY: Duration = Duration::from_millis(100);
/// How long a cancelled worker may take to finish its update and write its checkpoint.
pub const CANCEL_GRACE: Duration = Duration::from_secs(90);
/// Characters of a dead worker's log kept in its run's failure.
const LOG_TAIL: usize = 2_000;

/// What the UI receives, in batches, over its channel.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Update {
    /// An event the worker printed (started, metrics, step, checkpoint, finished ...).
    Event(RunEvent),
    /// The worker's last line: what the run did, as `muppet worker` summarises it.
    Summary {
        run: RunId,
        summary: serde_json::Value,
    },
    /// The run waits for a free slot (see the parallel runs setting).
    Waiting { run: RunId },
    /// A worker process started.
    Spawned { run: RunId, pid: u32 },
    /// Cancel was requested: the worker stops after its current update.
    Cancelling { run: RunId },
    /// The worker process ended; `status` is the run's status in the store afterwards.
    Exited {
        run: RunId,
        code: Option<i32>,
        status: Option<RunStatus>,
    },
    /// The window was asked to close while these runs are in progress.
    CloseRequested { running: Vec<RunId> },
}

/// Where a run stands with the supervisor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkerState {
    Waiting,
    Running,
    Cancelling,
}

/// New complete lines of a file that another process appends to.
struct LineTail {
    path: PathBuf,
    offset: u64,
    partial: Vec<u8>,
}

impl LineTail {
    /// Start at the current end of `path` (earlier lines belong to earlier workers).
    fn at_end(path: PathBuf) -> Self {
        let offset = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        Self {
            path,
            offset,
            partial: Vec::new(),
        }
    }

    fn read_lines(&mut self) -> Vec<String> {
        let mut bytes = Vec::new();
        let read = File::open(&self.path).and_then(|mut f| {
            f.seek(SeekFrom::Start(self.offset))?;
            f.read_to_end(&mut bytes)
        });
        let Ok(n) = read else { return Vec::new() };
        self.offset += n as u64;
        self.partial.extend_from_slice(&bytes);
        let Some(end) = self.partial.iter().rposition(|&b| b == b'\n') else {
            return Vec::new();
        };
        let complete: Vec<u8> = self.partial.drain(..=end).collect();
        String::from_utf8_lossy(&complete)
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_string)
            .collect()
    }
}

/// One line of the worker's stdout as an update; `None` for anything else it prints.
fn parse_line(run: RunId, line: &str) -> Option<Update> {
    let value: serde_json::Value = serde_json::from_str(line).ok()?;
    if value.get("event").and_then(|e| e.as_str()) == Some("summary") {
        return Some(Update::Summary {
            run,
            summary: value,
        });
    }
    serde_json::from_value(value).ok().map(Update::Event)
}

struct Worker {
    pid: u32,
    events: LineTail,
    cancelling: bool,
}

struct Inner {
    running: HashMap<RunId, Worker>,
    waiting: VecDeque<RunId>,
    parallel: usize,
    subscribers: Vec<Channel<Vec<Update>>>,
    pending: Vec<Update>,
}

/// Supervises the worker processes of the app. Cheap to clone.
#[derive(Clone)]
pub struct Supervisor {
    muppet: Result<PathBuf, String>,
    home: MuppetHome,
    store: Option<Store>,
    inner: Arc<Mutex<Inner>>,
}

impl Supervisor {
    pub fn new(
        muppet: Result<PathBuf, String>,
        home: MuppetHome,
        store: Option<Store>,
        parallel: usize,
    ) -> Self {
        let inner = Inner {
            running: HashMap::new(),
            waiting: VecDeque::new(),
            parallel: parallel.max(1),
            subscribers: Vec::new(),
            pending: Vec::new(),
        };
        Self {
            muppet,
            home,
            store,
            inner: Arc::new(Mutex::new(inner)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain data behind; keep going with it.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The `muppet` binary the workers run.
    pub fn muppet_binary(&self) -> Result<&Path, CommandError> {
        self.muppet
            .as_deref()
            .map_err(|reason| CommandError::Worker(reason.clone()))
    }

    pub fn subscribe(&self, channel: Channel<Vec<Update>>) {
        self.lock().subscribers.push(channel);
    }

    pub fn set_parallel(&self, parallel: usize) {
        self.lock().parallel = parallel.max(1);
        self.start_waiting();
    }

    /// Runs with a worker or waiting for one.
    pub fn states(&self) -> HashMap<RunId, WorkerState> {
        let inner = self.lock();
        let mut out: HashMap<RunId, WorkerState> = inner
            .running
            .iter()
            .map(|(run, w)| {
                let state = if w.cancelling {
                    WorkerState::Cancelling
                } else {
                    WorkerState::Running
                };
                (*run, state)
            })
            .collect();
        out.extend(inner.waiting.iter().map(|run| (*run, WorkerState::Waiting)));
        out
    }

    pub fn busy(&self) -> Vec<RunId> {
        let mut runs: Vec<RunId> = self.states().into_keys().collect();
        runs.sort();
        runs
    }

    /// Start a worker for `run` now, or queue it when every slot is taken.
    pub fn start(&self, run: RunId) -> Result<(), CommandError> {
        self.muppet_binary()?;
        let mut inner = self.lock();
        if inner.running.contains_key(&run) || inner.waiting.contains(&run) {
            return Err(CommandError::Invalid(format!(
                "run {run} already has a worker"
            )));
        }
        if inner.running.len() >= inner.parallel {
            inner.waiting.push_back(run);
            inner.pending.push(Update::Waiting { run });
            return Ok(());
        }
        self.spawn(&mut inner, run)
    }

    fn spawn(&self, inner: &mut Inner, run: RunId) -> Result<(), CommandError> {
        let muppet = self.muppet_binary()?.to_path_buf();
        let dir = self.home.run_dir(run);
        std::fs::create_dir_all(&dir).map_err(CommandError::io("creating", &dir))?;
        let events_path = dir.join("events.jsonl");
        let log_path = dir.join("worker.log");
        let append = |path: &Path| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(CommandError::io("opening", path))
        };
        let events_file = append(&events_path)?;
        let log_file = append(&log_path)?;
        let events = LineTail::at_end(events_path);
        let mut command = tokio::process::Command::new(&muppet);
        command
            .args(["worker", "--run", &run.to_string()])
            .env(muppet_core::home::HOME_ENV, self.home.root())
            .env(muppet_core::home::ASSETS_ENV, self.home.assets())
            .stdin(std::process::Stdio::null())
            .stdout(events_file)
            .stderr(log_file)
            // Its own process group: a Ctrl-C meant for the app's terminal does not
            // reach it, and it outlives the app when the user keeps it running.
            .process_group(0);
        let mut child = command.spawn().map_err(|e| {
            CommandError::Worker(format!("cannot start {}: {e}", muppet.display()))
        })?;
        let pid = child.id().unwrap_or_default();
        inner.running.insert(
            run,
            Worker {
                pid,
                events,
                cancelling: false,
            },
        );
        inner.pending.push(Update::Spawned { run, pid });
        let this = self.clone();
        tauri::async_runtime::spawn(async move {
            let code = child.wait().await.ok().and_then(|s| s.code());
            this.exited(run, code, &log_path).await;
        });
        Ok(())
    }

    async fn exited(&self, run: RunId, code: Option<i32>, log: &Path) {
        let last_lines = self.lock().running.get_mut(&run).map(|w| w.events.read_lines());
        let mut status = None;
        if let Some(store) = &self.store {
            status = store.run(run).await.ok().map(|row| row.status);
            // A worker that died without ending its run (killed, crashed) leaves it
            // `running`; say so in the run, with the end of its log.
            if matches!(status, Some(RunStatus::Running | RunStatus::Queued)) {
                let reason = format!(
                    "the worker exited ({}) without ending the run. End of {}:\n{}",
                    code.map_or("killed by a signal".to_string(), |c| format!("code {c}")),
                    log.display(),
                    log_tail(log)
                );
                if store
                    .end_run(run, RunStatus::Failed, Some(&reason))
                    .await
                    .is_ok()
                {
                    status = Some(RunStatus::Failed);
                }
            }
        }
        {
            let mut inner = self.lock();
            for line in last_lines.unwrap_or_default() {
                inner.pending.extend(parse_line(run, &line));
            }
            inner.running.remove(&run);
            inner.pending.push(Update::Exited { run, code, status });
        }
        self.start_waiting();
    }

    /// Fill free slots from the queue.
    fn start_waiting(&self) {
        let mut inner = self.lock();
        while inner.running.len() < inner.parallel {
            let Some(run) = inner.waiting.pop_front() else {
                break;
            };
            if let Err(error) = self.spawn(&mut inner, run) {
                eprintln!("muppet-studio: run {run}: {}", error.message());
                inner.pending.push(Update::Exited {
                    run,
                    code: None,
                    status: None,
                });
            }
        }
    }

    /// Ask the worker of `run` to stop after its current update (SIGTERM), killing it if
    /// it has not stopped after [`CANCEL_GRACE`]. A run still waiting for a slot is
    /// taken out of the queue and ended `cancelled` (it has nothing to save).
    pub async fn cancel(&self, run: RunId) -> Result<(), CommandError> {
        let waiting = {
            let mut inner = self.lock();
            if let Some(at) = inner.waiting.iter().position(|r| *r == run) {
                inner.waiting.remove(at);
                inner.pending.push(Update::Exited {
                    run,
                    code: None,
                    status: Some(RunStatus::Cancelled),
                });
                true
            } else {
                let Some(worker) = inner.running.get_mut(&run) else {
                    return Err(CommandError::Invalid(format!(
                        "run {run} has no worker in this app to cancel"
                    )));
                };
                let pid = worker.pid;
                worker.cancelling = true;
                inner.pending.push(Update::Cancelling { run });
                signal(pid, nix::sys::signal::Signal::SIGTERM)?;
                false
            }
        };
        if waiting {
            if let Some(store) = &self.store {
                store.end_run(run, RunStatus::Cancelled, None).await?;
            }
            return Ok(());
        }
        let this = self.clone();
        tauri::async_runtime::spawn(async move {
            tokio::time::sleep(CANCEL_GRACE).await;
            let still = this.lock().running.get(&run).map(|w| w.pid);
            if let Some(pid) = still {
                eprintln!(
                    "muppet-studio: run {run} did not stop within {CANCEL_GRACE:?} of SIGTERM; killing it"
                );
                let _ = signal(pid, nix::sys::signal::Signal::SIGKILL);
            }
        });
        Ok(())
    }

    /// Cancel every run in progress and wait until their workers have exited (each has
    /// [`CANCEL_GRACE`] before it is killed).
    pub async fn cancel_all(&self) {
        for run in self.busy() {
            if let Err(error) = self.cancel(run).await {
                eprintln!("muppet-studio: cancelling run {run}: {}", error.message());
            }
        }
        let deadline = tokio::time::Instant::now() + CANCEL_GRACE + Duration::from_secs(5);
        while !self.lock().running.is_empty() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(FORWARD_EVERY).await;
        }
    }

    /// Tell the UI that the window wants to close while runs are in progress.
    pub fn close_requested(&self, running: Vec<RunId>) {
        self.lock().pending.push(Update::CloseRequested { running });
        self.forward();
    }

    /// Read what the workers printed since the last tick and send it, as one batch, to
    /// every subscriber. Channels whose page is gone are dropped.
    pub fn forward(&self) {
        let mut inner = self.lock();
        let mut batch = std::mem::take(&mut inner.pending);
        let mut runs: Vec<RunId> = inner.running.keys().copied().collect();
        runs.sort();
        for run in runs {
            if let Some(worker) = inner.running.get_mut(&run) {
                for line in worker.events.read_lines() {
                    batch.extend(parse_line(run, &line));
                }
            }
        }
        if batch.is_empty() {
            return;
        }
        inner
            .subscribers
            .retain(|channel| channel.send(batch.clone()).is_ok());
    }

    /// Forward forever, every [`FORWARD_EVERY`].
    pub async fn forward_loop(self) {
        let mut tick = tokio::time::interval(FORWARD_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            self.forward();
        }
    }
}

fn signal(pid: u32, signal: nix::sys::signal::Signal) -> Result<(), CommandError> {
    let pid = i32::try_from(pid)
        .map_err(|_| CommandError::Worker(format!("worker pid {pid} is out of range")))?;
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), signal)
        .map_err(|e| CommandError::Worker(format!("cannot signal worker {pid}: {e}")))
}

/// The last [`LOG_TAIL`] characters of a worker's log.
fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let skip = text.chars().count().saturating_sub(LOG_TAIL);
    text.chars().skip(skip).collect::<String>().trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_tail_returns_only_complete_new_lines() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("events.jsonl");
        std::fs::write(&path, "old line\n").expect("write");
        let mut tail = LineTail::at_end(path.clone());
        assert!(tail.read_lines().is_empty());
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("open");
        write!(file, "first\nsecond\nthi").expect("write");
        assert_eq!(tail.read_lines(), vec!["first", "second"]);
        assert!(tail.read_lines().is_empty());
        writeln!(file, "rd").expect("write");
        assert_eq!(tail.read_lines(), vec!["third"]);
    }

    #[test]
    fn worker_lines_become_updates() {
        let run = RunId(3);
        assert_eq!(
            parse_line(
                run,
                r#"{"event":"step","run":3,"step":2,"total_steps":30}"#
            ),
            Some(Update::Event(RunEvent::Step {
                run,
                step: 2,
                total_steps: 30
            }))
        );
        let summary = parse_line(
            run,
            r#"{"event":"summary","run_id":3,"status":"completed"}"#,
        );
        assert!(matches!(summary, Some(Update::Summary { run: RunId(3), .. })));
        assert_eq!(parse_line(run, "run 3: training on cpu"), None);
        assert_eq!(parse_line(run, r#"{"event":"unknown"}"#), None);
    }

    #[test]
    fn updates_serialise_with_a_type_tag() {
        let json = serde_json::to_value(vec![
            Update::Event(RunEvent::Finished { run: RunId(1) }),
            Update::Exited {
                run: RunId(1),
                code: Some(0),
                status: Some(RunStatus::Completed),
            },
        ])
        .expect("serialise");
        assert_eq!(
            json,
            serde_json::json!([
                {"type": "event", "event": "finished", "run": 1},
                {"type": "exited", "run": 1, "code": 0, "status": "completed"}
            ])
        );
    }
}
