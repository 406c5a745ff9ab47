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
//!
//! Each worker's pid is recorded in `runs/<id>/worker.pid` while it runs. A worker kept
//! running after the app closed is found again when the app starts ([`Supervisor::recover`]):
//! if the recorded pid is still `muppet worker --run <id>` (read from `/proc/<pid>/cmdline`),
//! its events are tailed from their current end and it can be cancelled like any other;
//! if it is gone without having ended its run, the run is marked failed with the reason.
//!
//! Whoever trains a run holds its lock (`runs/<id>/run.lock`, muppet-core's `lock`). Through
//! it the app also sees runs trained outside it (a terminal, an experiment's workers): they
//! show as [`WorkerState::Elsewhere`], Cancel signals the lock's holder, and a run whose lock
//! file is free while the store says it runs lost its process and is marked failed.

use std::collections::{HashMap, VecDeque};
use std::ffi::OsStr;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use muppet_core::{MuppetHome, RunEvent, RunId, LockError, ProcessLock, RunStatus};
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
    /// A worker started by an earlier session of the app is followed again.
    Attached { run: RunId, pid: u32 },
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
    /// Trained by a process outside the app (a terminal, an experiment): it holds the
    /// run's lock. Cancel signals it.
    Elsewhere,
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
    /// Not a child of this app (found by [`Supervisor::recover`]): its end is noticed by
    /// polling its pid, and its exit code is unknown.
    adopted: bool,
    /// Its end is being handled (an adopted worker is polled every tick).
    ending: bool,
}

/// The file in a run folder that records the pid of the run's worker while it runs.
pub const PID_FILE: &str = "worker.pid";

/// Whether `cmdline` (the NUL-separated `/proc/<pid>/cmdline`) is `muppet worker --run
/// <run>`: the program is a file named `muppet` (or `binary_name`, the file the app runs).
fn is_worker_cmdline(cmdline: &[u8], run: RunId, binary_name: Option<&OsStr>) -> bool {
    let args: Vec<&str> = cmdline
        .split(|&b| b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| std::str::from_utf8(a).unwrap_or(""))
        .collect();
    let [program, "worker", "--run", id, ..] = args[..] else {
        return false;
    };
    let name = Path::new(program).file_name();
    let named = name == Some(OsStr::new("muppet")) || (name.is_some() && name == binary_name);
    named && id == run.to_string()
}

/// Whether process `pid` is alive and is the worker of `run` (a zombie has no cmdline).
fn is_worker_process(pid: u32, run: RunId, binary_name: Option<&OsStr>) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .is_ok_and(|cmdline| is_worker_cmdline(&cmdline, run, binary_name))
}

/// Whether the worker's events (`events.jsonl`) end its run: it finished, was cancelled,
/// failed, or printed its summary.
fn events_end_the_run(path: &Path) -> bool {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .rev()
        .filter(|l| !l.trim().is_empty())
        .take(20)
        .any(|line| {
            serde_json::from_str::<serde_json::Value>(line)
                .ok()
                .and_then(|v| v.get("event").and_then(|e| e.as_str()).map(str::to_string))
                .is_some_and(|e| {
                    matches!(e.as_str(), "finished" | "cancelled" | "failed" | "summary")
                })
        })
}

struct Inner {
    running: HashMap<RunId, Worker>,
    waiting: VecDeque<RunId>,
    parallel: usize,
    subscribers: Vec<Channel<Vec<Update>>>,
    pending: Vec<Update>,
    /// Runs trained outside the app that Cancel has signalled, with the pid signalled:
    /// shown as cancelling while that process holds their lock (a second SIGTERM would
    /// kill it without a checkpoint).
    signalled_elsewhere: HashMap<RunId, u32>,
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
            signalled_elsewhere: HashMap::new(),
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

    /// The file name of the `muppet` binary the app runs (a worker's program name).
    fn binary_name(&self) -> Option<&OsStr> {
        self.muppet.as_ref().ok().and_then(|p| p.file_name())
    }

    /// Find the workers of an earlier session of the app. For every run the store says is
    /// running and whose folder records a worker pid: follow that worker if the pid is
    /// still `muppet worker --run <id>`; otherwise, unless its events show it ended the
    /// run, mark the run failed with the reason. A run without a recorded pid (started
    /// from a terminal, or by `muppet experiment run`) is marked failed when its lock file
    /// exists and no process holds it: its process ended without ending it (killed,
    /// crashed). Returns the runs followed.
    pub async fn recover(&self) -> Result<Vec<RunId>, CommandError> {
        let Some(store) = &self.store else {
            return Ok(Vec::new());
        };
        let mut attached = Vec::new();
        for row in store.list_runs().await? {
            if row.status != RunStatus::Running {
                continue;
            }
            let run = row.id;
            let dir = self.home.run_dir(run);
            let pid_file = dir.join(PID_FILE);
            let Ok(text) = std::fs::read_to_string(&pid_file) else {
                self.fail_if_abandoned(store, run, &dir).await?;
                continue;
            };
            let pid = text.trim().parse::<u32>().ok();
            if let Some(pid) = pid.filter(|&pid| is_worker_process(pid, run, self.binary_name())) {
                let mut inner = self.lock();
                if let std::collections::hash_map::Entry::Vacant(slot) = inner.running.entry(run) {
                    slot.insert(Worker {
                        pid,
                        events: LineTail::at_end(dir.join("events.jsonl")),
                        cancelling: false,
                        adopted: true,
                        ending: false,
                    });
                    inner.pending.push(Update::Attached { run, pid });
                    attached.push(run);
                }
                continue;
            }
            let _ = std::fs::remove_file(&pid_file);
            if events_end_the_run(&dir.join("events.jsonl")) {
                continue;
            }
            // Another process holds the run's lock: it trains the run (a `muppet resume`
            // from a terminal, say) and ends it itself.
            let Some(_lock) = lock_unless_trained_elsewhere(&self.home, run) else {
                continue;
            };
            // Read again: the worker may have ended the run since the list was read.
            if store.run(run).await?.status != RunStatus::Running {
                continue;
            }
            let log = dir.join("worker.log");
            let reason = format!(
                "the worker of this run ({}, recorded in {}) is no longer running and never ended the run: it was stopped while the app was closed. Resume the run to continue from its last checkpoint. End of {}:\n{}",
                pid.map_or_else(
                    || format!("unreadable pid {:?}", text.trim()),
                    |p| format!("pid {p}")
                ),
                pid_file.display(),
                log.display(),
                log_tail(&log)
            );
            store.end_run(run, RunStatus::Failed, Some(&reason)).await?;
        }
        Ok(attached)
    }

    /// End `run` (running, trained outside the app) `failed` when its lock file exists
    /// but no process holds it. A run folder without a lock file (a run of a version
    /// before locks) says nothing and is left alone.
    async fn fail_if_abandoned(&self, store: &Store, run: RunId, dir: &Path) -> Result<(), CommandError> {
        let lock_path = muppet_core::lock::run_lock_path(&self.home, run);
        if !lock_path.is_file() || events_end_the_run(&dir.join("events.jsonl")) {
            return Ok(());
        }
        // Taken while the run is ended: a `resume` starting meanwhile waits for it.
        let Some(_lock) = lock_unless_trained_elsewhere(&self.home, run) else {
            return Ok(());
        };
        if store.run(run).await?.status != RunStatus::Running {
            return Ok(());
        }
        let reason = format!(
            "the process that trained this run ended without ending it (killed or crashed): no process holds {}. Resume the run to continue from its last checkpoint",
            lock_path.display()
        );
        store.end_run(run, RunStatus::Failed, Some(&reason)).await?;
        Ok(())
    }

    pub fn subscribe(&self, channel: Channel<Vec<Update>>) {
        self.lock().subscribers.push(channel);
    }

    pub fn set_parallel(&self, parallel: usize) {
        self.lock().parallel = parallel.max(1);
        self.start_waiting();
    }

    /// [`Self::states`], with [`WorkerState::Elsewhere`] for the runs of `running` (runs
    /// the store says are running) that another process holds the lock of.
    pub fn states_with(&self, running: impl IntoIterator<Item = RunId>) -> HashMap<RunId, WorkerState> {
        let mut out = self.states();
        for run in running {
            if out.contains_key(&run) {
                continue;
            }
            let holder = muppet_core::lock::holder(&muppet_core::lock::run_lock_path(&self.home, run));
            let mut inner = self.lock();
            match holder {
                muppet_core::lock::Holder::Held { pid } => {
                    let signalled = pid.is_some() && inner.signalled_elsewhere.get(&run) == pid.as_ref();
                    out.insert(run, if signalled { WorkerState::Cancelling } else { WorkerState::Elsewhere });
                }
                muppet_core::lock::Holder::Free => {
                    inner.signalled_elsewhere.remove(&run);
                }
            }
        }
        out
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
        let mut child = command
            .spawn()
            .map_err(|e| CommandError::Worker(format!("cannot start {}: {e}", muppet.display())))?;
        let pid = child.id().unwrap_or_default();
        let pid_file = dir.join(PID_FILE);
        if let Err(error) = std::fs::write(&pid_file, format!("{pid}\n")) {
            // The run still trains; only a later session of the app could not find it.
            eprintln!(
                "muppet-studio: run {run}: cannot record the worker's pid in {}: {error}",
                pid_file.display()
            );
        }
        inner.running.insert(
            run,
            Worker {
                pid,
                events,
                cancelling: false,
                adopted: false,
                ending: false,
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
        let (last_lines, adopted) = {
            let mut inner = self.lock();
            match inner.running.get_mut(&run) {
                Some(w) => (Some(w.events.read_lines()), w.adopted),
                None => (None, false),
            }
        };
        let _ = std::fs::remove_file(self.home.run_dir(run).join(PID_FILE));
        let mut status = None;
        if let Some(store) = &self.store {
            status = store.run(run).await.ok().map(|row| row.status);
            // A worker that died without ending its run (killed, crashed) leaves it
            // `running`; say so in the run, with the end of its log. A worker refused
            // because another process trains the run leaves the run to that process.
            let lock = lock_unless_trained_elsewhere(&self.home, run);
            if matches!(status, Some(RunStatus::Running | RunStatus::Queued)) && lock.is_some() {
                let how = match code {
                    Some(c) => format!("code {c}"),
                    None if adopted => {
                        "exit status unknown: an earlier session of the app started it".to_string()
                    }
                    None => "killed by a signal".to_string(),
                };
                let reason = format!(
                    "the worker exited ({how}) without ending the run. End of {}:\n{}",
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
                    // Trained by a process outside the app (`muppet prefinetune` or
                    // `resume` in a terminal, an experiment's worker): found by the run's
                    // lock, which only a live process holds, and stopped the same way.
                    let lock = muppet_core::lock::run_lock_path(&self.home, run);
                    return match muppet_core::lock::holder(&lock) {
                        muppet_core::lock::Holder::Held { pid: Some(pid) } => {
                            if inner.signalled_elsewhere.get(&run) == Some(&pid) {
                                return Err(CommandError::Invalid(format!(
                                    "run {run} is already stopping: process {pid} finishes its update and writes a checkpoint"
                                )));
                            }
                            signal(pid, nix::sys::signal::Signal::SIGTERM)?;
                            inner.signalled_elsewhere.insert(run, pid);
                            Ok(())
                        }
                        _ => Err(CommandError::Invalid(format!(
                            "run {run} is not being trained: no process holds {}",
                            lock.display()
                        ))),
                    };
                };
                let pid = worker.pid;
                if !is_worker_process(pid, run, self.binary_name()) {
                    return Err(CommandError::Worker(format!(
                        "process {pid} is no longer the worker of run {run}: nothing was signalled"
                    )));
                }
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
            if let Some(pid) = still.filter(|&pid| is_worker_process(pid, run, this.binary_name()))
            {
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
        let binary_name = self.binary_name().map(OsStr::to_os_string);
        let mut gone = Vec::new();
        for run in runs {
            if let Some(worker) = inner.running.get_mut(&run) {
                for line in worker.events.read_lines() {
                    batch.extend(parse_line(run, &line));
                }
                if worker.adopted
                    && !worker.ending
                    && !is_worker_process(worker.pid, run, binary_name.as_deref())
                {
                    worker.ending = true;
                    gone.push(run);
                }
            }
        }
        for run in gone {
            let this = self.clone();
            let log = self.home.run_dir(run).join("worker.log");
            tauri::async_runtime::spawn(async move { this.exited(run, None, &log).await });
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

/// The lock of `run` (held until dropped), or `None` when another process holds it: that
/// process is training the run and will end it. A lock that cannot be taken for another
/// reason (an unwritable folder) does not stop the app from ending a dead worker's run.
fn lock_unless_trained_elsewhere(home: &MuppetHome, run: RunId) -> Option<Option<ProcessLock>> {
    match ProcessLock::run(home, run) {
        Ok(lock) => Some(Some(lock)),
        Err(LockError::Busy { .. }) => None,
        Err(LockError::Io { .. }) => Some(None),
    }
}

/// The last [`LOG_TAIL`] characters of a worker's log.
fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let skip = text.chars().count().saturating_sub(LOG_TAIL);
    text.chars()
        .skip(skip)
        .collect::<String>()
        .trim()
        .to_string()
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
            parse_line(run, r#"{"event":"step","run":3,"step":2,"total_steps":30}"#),
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
        assert!(matches!(
            summary,
            Some(Update::Summary { run: RunId(3), .. })
        ));
        assert_eq!(parse_line(run, "run 3: training on cpu"), None);
        assert_eq!(parse_line(run, r#"{"event":"unknown"}"#), None);
    }

    #[test]
    fn a_worker_is_recognised_by_its_command_line() {
        let run = RunId(7);
        let line = |args: &[&str]| args.join("\0").into_bytes();
        let muppet = line(&["/opt/studio/muppet", "worker", "--run", "7"]);
        assert!(is_worker_cmdline(&muppet, run, None));
        assert!(is_worker_cmdline(
            &[muppet.clone(), vec![0]].concat(),
            run,
            None
        ));
        assert!(!is_worker_cmdline(&muppet, RunId(70), None));
        assert!(!is_worker_cmdline(
            &line(&["/usr/bin/sleep", "worker", "--run", "7"]),
            run,
            None
        ));
        assert!(!is_worker_cmdline(
            &line(&["muppet", "report", "--run", "7"]),
            run,
            None
        ));
        assert!(!is_worker_cmdline(&line(&["muppet", "worker"]), run, None));
        assert!(
            !is_worker_cmdline(b"", run, None),
            "a zombie has an empty command line"
        );
        let renamed = line(&["/x/muppet-x86_64-unknown-linux-gnu", "worker", "--run", "7"]);
        assert!(!is_worker_cmdline(&renamed, run, None));
        let name = OsStr::new("muppet-x86_64-unknown-linux-gnu");
        assert!(is_worker_cmdline(&renamed, run, Some(name)));
    }

    /// A process whose command line is exactly `muppet worker --run <run>`: bash started as
    /// `muppet` (argv[0]) runs the script file `worker` of `dir`, which waits.
    fn stand_in_worker(dir: &Path, run: RunId) -> std::process::Child {
        use std::os::unix::process::CommandExt;
        // `ready` appears once the TERM trap is set: a signal before that would kill bash
        // outright, and the test would blame the supervisor.
        std::fs::write(
            dir.join("worker"),
            "trap 'kill $!; exit 0' TERM\nsleep 60 &\ntouch ready\nwait\n",
        )
        .expect("write script");
        let child = std::process::Command::new("bash")
            .arg0("muppet")
            .args(["worker", "--run", &run.to_string()])
            .current_dir(dir)
            .spawn()
            .expect("start bash");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !is_worker_process(child.id(), run, None) || !dir.join("ready").exists() {
            assert!(
                std::time::Instant::now() < deadline,
                "the stand-in never looked like a worker"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        child
    }

    fn new_run(name: &str) -> muppet_store::NewRun {
        crate::test_support::new_run(name, "cpu")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn workers_of_an_earlier_session_are_followed_or_their_runs_failed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = MuppetHome::at(dir.path().join("home"));
        home.ensure().expect("home");
        let store = Store::open(&home.db()).await.expect("store");
        let record = |run: RunId, pid: String| {
            let d = home.run_dir(run);
            std::fs::create_dir_all(&d).expect("run dir");
            std::fs::write(d.join(PID_FILE), pid).expect("pid file");
        };
        // A pid that has certainly exited (and been reaped).
        let mut done = std::process::Command::new("true").spawn().expect("true");
        let dead = done.id();
        done.wait().expect("wait");

        let gone = store.create_run(&new_run("gone")).await.expect("run");
        record(gone, format!("{dead}\n"));
        let not_a_worker = store.create_run(&new_run("pid reused")).await.expect("run");
        record(not_a_worker, std::process::id().to_string());
        let finished = store.create_run(&new_run("finished")).await.expect("run");
        record(finished, dead.to_string());
        std::fs::write(
            home.run_dir(finished).join("events.jsonl"),
            format!("{{\"event\":\"finished\",\"run\":{}}}\n", finished.0),
        )
        .expect("events");
        let unrecorded = store
            .create_run(&new_run("from a terminal"))
            .await
            .expect("run");
        let completed = store.create_run(&new_run("completed")).await.expect("run");
        record(completed, dead.to_string());
        store
            .end_run(completed, RunStatus::Completed, None)
            .await
            .expect("end");
        let alive = store
            .create_run(&new_run("kept running"))
            .await
            .expect("run");
        let scripts = tempfile::tempdir().expect("tempdir");
        let mut worker = stand_in_worker(scripts.path(), alive);
        record(alive, worker.id().to_string());
        std::fs::write(
            home.run_dir(alive).join("events.jsonl"),
            "{\"event\":\"step\",\"run\":0,\"step\":1,\"total_steps\":9}\n",
        )
        .expect("events");

        // Trained from a terminal, whose process died: its lock file is there, free.
        let abandoned = store
            .create_run(&new_run("killed in a terminal"))
            .await
            .expect("run");
        drop(ProcessLock::run(&home, abandoned).expect("lock"));
        // Its worker is gone, but another process has resumed it and holds its lock.
        let resumed = store
            .create_run(&new_run("resumed elsewhere"))
            .await
            .expect("run");
        record(resumed, dead.to_string());
        let elsewhere = ProcessLock::run(&home, resumed).expect("lock");

        let supervisor = Supervisor::new(
            Err("no binary needed".into()),
            home.clone(),
            Some(store.clone()),
            1,
        );
        let attached = supervisor.recover().await.expect("recover");
        drop(elsewhere);
        assert_eq!(attached, vec![alive]);
        assert_eq!(supervisor.states().get(&alive), Some(&WorkerState::Running));

        let row = store.run(abandoned).await.expect("row");
        assert_eq!(row.status, RunStatus::Failed);
        assert!(row.failure.unwrap_or_default().contains("ended without ending it"));
        for run in [gone, not_a_worker] {
            let row = store.run(run).await.expect("row");
            assert_eq!(row.status, RunStatus::Failed, "run {run}");
            let failure = row.failure.unwrap_or_default();
            assert!(
                failure.contains("worker.pid") && failure.contains("Resume"),
                "{failure}"
            );
            assert!(!home.run_dir(run).join(PID_FILE).exists());
        }
        for (run, status) in [
            (finished, RunStatus::Running),
            (unrecorded, RunStatus::Running),
            (resumed, RunStatus::Running),
            (completed, RunStatus::Completed),
        ] {
            assert_eq!(
                store.run(run).await.expect("row").status,
                status,
                "run {run}"
            );
        }

        // Its new events are followed from where the file ended.
        let mut events = std::fs::OpenOptions::new()
            .append(true)
            .open(home.run_dir(alive).join("events.jsonl"))
            .expect("open");
        writeln!(
            events,
            r#"{{"event":"step","run":{},"step":2,"total_steps":9}}"#,
            alive.0
        )
        .expect("write");
        let lines = supervisor
            .lock()
            .running
            .get_mut(&alive)
            .map(|w| w.events.read_lines())
            .unwrap_or_default();
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].contains("\"step\":2"));

        // Cancel signals the recorded pid after checking it; the end is noticed by polling.
        supervisor.cancel(alive).await.expect("cancel");
        let status = worker.wait().expect("wait");
        assert!(
            status.success(),
            "the stand-in did not get SIGTERM: {status}"
        );
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while supervisor.states().contains_key(&alive) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the ended worker is still listed"
            );
            supervisor.forward();
            tokio::time::sleep(FORWARD_EVERY).await;
        }
        // The stand-in did not end its run the way a worker does: the app says so.
        let row = store.run(alive).await.expect("row");
        assert_eq!(row.status, RunStatus::Failed);
        assert!(row.failure.unwrap_or_default().contains("earlier session"));
        store.close().await;
    }

    /// A run trained by a process outside the app (here a stand-in holding the run's lock
    /// as a worker does) is shown as such, and Cancel signals that process once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_run_trained_outside_the_app_is_shown_and_cancelled_through_its_lock() {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = MuppetHome::at(dir.path().join("home"));
        home.ensure().expect("home");
        let store = Store::open(&home.db()).await.expect("store");
        let run = store.create_run(&new_run("from a terminal")).await.expect("run");
        let idle = store.create_run(&new_run("nobody trains it")).await.expect("run");
        let mut holder = crate::test_support::process_holding_lock(&muppet_core::lock::run_lock_path(&home, run));
        let supervisor = Supervisor::new(Err("no binary needed".into()), home.clone(), Some(store.clone()), 1);
        let states = supervisor.states_with([run, idle]);
        assert_eq!(states.get(&run), Some(&WorkerState::Elsewhere));
        assert_eq!(states.get(&idle), None, "no process holds its lock");
        let error = supervisor.cancel(idle).await.expect_err("nothing to cancel");
        assert!(error.message().contains("not being trained"), "{error}");

        supervisor.cancel(run).await.expect("cancel");
        assert_eq!(supervisor.states_with([run]).get(&run), Some(&WorkerState::Cancelling));
        let again = supervisor.cancel(run).await.expect_err("a second SIGTERM would kill it");
        assert!(again.message().contains("already stopping"), "{again}");
        let status = holder.wait().expect("wait");
        assert_eq!(status.code(), Some(3), "the stand-in got one SIGTERM");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while supervisor.states_with([run]).contains_key(&run) {
            assert!(std::time::Instant::now() < deadline, "its end was never seen");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        store.close().await;
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
