//! Experiments started from the app: `muppet experiment run --spec FILE` as a background
//! child process (it runs its own workers), its output in a log file, its end recorded.
//! Cancel is SIGTERM to that process: it passes it on to its workers, which finish their
//! update, write a checkpoint and end their runs `cancelled`; nothing new starts, and
//! running the same spec again resumes the experiment. An experiment whose orchestrator
//! runs outside this app session (an earlier one, a terminal) is found through its lock
//! (`experiments/<id>/run.lock`) and listed, followed and cancelled the same way.

use std::path::Path;
use std::sync::{Arc, Mutex};

use muppet_core::lock::{self, Holder};
use muppet_core::MuppetHome;
use serde::Serialize;

use crate::error::CommandError;

/// How often an adopted experiment's lock is checked for its end.
const ADOPTED_POLL: std::time::Duration = std::time::Duration::from_secs(1);

/// One `muppet experiment run` started by the app.
#[derive(Debug, Clone, Serialize)]
pub struct ExperimentLaunch {
    /// Its place in the list: how the UI names it to cancel it.
    pub id: usize,
    pub spec: String,
    pub pid: u32,
    pub log: String,
    pub running: bool,
    /// SIGTERM was sent; the workers are finishing their update.
    pub cancelling: bool,
    pub exit_code: Option<i32>,
    /// Found running through its experiment's lock, not started by this app session (an
    /// earlier session, or a terminal): its exit code is not known here, and its log is
    /// the orchestrator's own (`experiments/<id>/orchestrator.log`).
    pub adopted: bool,
    /// The stored experiment, when known (adopted and resumed launches).
    pub experiment: Option<i64>,
}

#[derive(Clone, Default)]
pub struct ExperimentLaunches {
    launches: Arc<Mutex<Vec<ExperimentLaunch>>>,
}

impl ExperimentLaunches {
    pub fn list(&self) -> Vec<ExperimentLaunch> {
        self.launches
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Run the experiment spec file `spec` (`muppet experiment run --spec`).
    pub fn start(
        &self,
        muppet: &Path,
        home: &MuppetHome,
        spec: &Path,
        parallel: usize,
    ) -> Result<(), CommandError> {
        let stem = spec
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default();
        let args = [
            "experiment".into(),
            "run".into(),
            "--parallel".into(),
            parallel.to_string().into(),
            "--spec".into(),
            spec.as_os_str().to_os_string(),
        ];
        self.spawn(muppet, home, &args, &stem, spec.display().to_string(), None)
    }

    /// Continue stored experiment `experiment` (`muppet experiment resume`): its completed
    /// runs are skipped. It needs no spec file (one imported from another machine has none).
    /// `more`: a random search draws that many more settings first (`--more N`), or with
    /// `true` has them proposed from its scores (`--guided`).
    pub fn resume(
        &self,
        muppet: &Path,
        home: &MuppetHome,
        (experiment, name): (i64, &str),
        parallel: usize,
        more: Option<(usize, bool)>,
    ) -> Result<(), CommandError> {
        let mut args: Vec<std::ffi::OsString> = vec![
            "experiment".into(),
            "resume".into(),
            experiment.to_string().into(),
            "--parallel".into(),
            parallel.to_string().into(),
        ];
        if let Some((n, guided)) = more {
            args.extend(["--more".into(), n.to_string().into()]);
            if guided {
                args.push("--guided".into());
            }
        }
        let label = match more {
            Some((n, true)) => format!("experiment {experiment} `{name}` ({n} more settings, guided)"),
            Some((n, false)) => format!("experiment {experiment} `{name}` ({n} more settings)"),
            None => format!("experiment {experiment} `{name}` (resumed)"),
        };
        self.spawn(muppet, home, &args, &format!("experiment-{experiment}-resume"), label, Some(experiment))
    }

    /// Start `muppet ARGS` as a launch labelled `label`, its output in a log named after `stem`.
    fn spawn(
        &self,
        muppet: &Path,
        home: &MuppetHome,
        args: &[std::ffi::OsString],
        stem: &str,
        label: String,
        experiment: Option<i64>,
    ) -> Result<(), CommandError> {
        let logs = home.root().join("experiment-logs");
        std::fs::create_dir_all(&logs).map_err(CommandError::io("creating", &logs))?;
        let log = logs.join(format!("{stem}-{}.log", self.list().len() + 1));
        let out = std::fs::File::create(&log).map_err(CommandError::io("creating", &log))?;
        let err = out.try_clone().map_err(CommandError::io("opening", &log))?;
        let mut child = tokio::process::Command::new(muppet)
            .args(args)
            .env(muppet_core::home::HOME_ENV, home.root())
            .env(muppet_core::home::ASSETS_ENV, home.assets())
            .stdin(std::process::Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0)
            .spawn()
            .map_err(|e| CommandError::Worker(format!("cannot start {}: {e}", muppet.display())))?;
        let pid = child.id().unwrap_or_default();
        let index = {
            let mut launches = self
                .launches
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let id = launches.len();
            launches.push(ExperimentLaunch {
                id,
                spec: label,
                pid,
                log: log.display().to_string(),
                running: true,
                cancelling: false,
                exit_code: None,
                adopted: false,
                experiment,
            });
            launches.len() - 1
        };
        let launches = self.launches.clone();
        tauri::async_runtime::spawn(async move {
            let code = child.wait().await.ok().and_then(|s| s.code());
            let mut launches = launches
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(launch) = launches.get_mut(index) {
                launch.running = false;
                launch.exit_code = code;
            }
        });
        Ok(())
    }

    /// List the experiments of `experiments` (id, name) whose orchestrator runs outside
    /// this app session: their lock is held by a process that is not one of its launches.
    /// Each is followed (its lock polled) until it ends, and can be cancelled.
    pub fn adopt_running(&self, home: &MuppetHome, experiments: &[(i64, String)]) {
        for (experiment, name) in experiments {
            let path = lock::experiment_lock_path(home, *experiment);
            let Holder::Held { pid: Some(pid) } = lock::holder(&path) else { continue };
            let index = {
                let mut launches = self.launches.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                if launches.iter().any(|l| l.running && l.pid == pid) {
                    continue;
                }
                let id = launches.len();
                let log = home.experiment_dir(*experiment).join(muppet_core::home::EXPERIMENT_LOG);
                launches.push(ExperimentLaunch {
                    id,
                    spec: format!("experiment {experiment} `{name}`"),
                    pid,
                    log: if log.is_file() { log.display().to_string() } else { String::new() },
                    running: true,
                    cancelling: false,
                    exit_code: None,
                    adopted: true,
                    experiment: Some(*experiment),
                });
                id
            };
            let launches = self.launches.clone();
            tauri::async_runtime::spawn(async move {
                while lock::holder(&path) == (Holder::Held { pid: Some(pid) }) {
                    tokio::time::sleep(ADOPTED_POLL).await;
                }
                if let Some(launch) = launches.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get_mut(index) {
                    launch.running = false;
                }
            });
        }
    }

    /// Stop launch `id`: SIGTERM to its `muppet experiment run`. A launch of this session
    /// is the app's child and is reaped only by the task that records its end, so while it
    /// is listed as running its pid is still its own; an adopted one is signalled only
    /// while its pid still holds the experiment's lock.
    pub fn cancel(&self, id: usize, home: &MuppetHome) -> Result<(), CommandError> {
        let mut launches = self
            .launches
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = launches.len();
        let Some(launch) = launches.get_mut(id) else {
            return Err(CommandError::Invalid(format!(
                "no experiment launch {id} in this app (it lists {count})"
            )));
        };
        let ended = match launch.experiment.filter(|_| launch.adopted) {
            Some(experiment) => lock::holder(&lock::experiment_lock_path(home, experiment)) != Holder::Held { pid: Some(launch.pid) },
            None => !launch.running,
        };
        if ended {
            return Err(CommandError::Invalid(format!(
                "the experiment of {} has already ended (exit code {}): nothing to cancel",
                launch.spec,
                launch.exit_code.map_or("unknown".into(), |c| c.to_string())
            )));
        }
        let pid = i32::try_from(launch.pid)
            .ok()
            .filter(|&p| p > 0)
            .ok_or_else(|| CommandError::Worker(format!("the experiment of {} has no process id", launch.spec)))?;
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGTERM)
            .map_err(|e| CommandError::Worker(format!("cannot signal process {pid} (`muppet experiment run` of {}): {e}", launch.spec)))?;
        launch.cancelling = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real child process stands in for `muppet experiment run`: Cancel sends it SIGTERM,
    /// its end is recorded, and a second Cancel says it has ended.
    #[test]
    fn cancel_terminates_the_launch_and_records_its_end() {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = MuppetHome::at(dir.path());
        let script = dir.path().join("fake-muppet");
        // Exits 3 on SIGTERM, the way a stopped experiment ends with a failure status.
        std::fs::write(&script, "#!/bin/sh\ntrap 'exit 3' TERM\nwhile true; do sleep 0.05; done\n").expect("script");
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
        let spec = dir.path().join("x.toml");
        std::fs::write(&spec, "name = \"x\"").expect("spec");
        let launches = ExperimentLaunches::default();
        tauri::async_runtime::block_on(async {
            launches.start(&script, &home, &spec, 1).expect("start");
            assert!(launches.list()[0].running);
            assert_eq!(launches.cancel(5, &home).expect_err("unknown").kind(), "invalid");
            // Give the shell time to install its trap.
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            launches.cancel(0, &home).expect("cancel");
            assert!(launches.list()[0].cancelling);
            for _ in 0..100 {
                if !launches.list()[0].running {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            let launch = &launches.list()[0];
            assert!(!launch.running, "the process ended after SIGTERM");
            assert_eq!(launch.exit_code, Some(3));
            let error = launches.cancel(0, &home).expect_err("already ended");
            assert!(error.message().contains("already ended"), "{error}");
        });
    }

    /// An experiment run outside this session (a real process holding its lock, as `muppet
    /// experiment run` does) is listed once, cancelled through its pid, and seen to end.
    #[test]
    fn an_experiment_running_elsewhere_is_adopted_cancelled_and_seen_to_end() {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = MuppetHome::at(dir.path());
        let path = lock::experiment_lock_path(&home, 3);
        let mut holder = crate::test_support::process_holding_lock(&path);
        let pid = holder.id();
        let journal = home.experiment_dir(3).join(muppet_core::home::EXPERIMENT_LOG);
        std::fs::write(&journal, "experiment 3 `sweep`: 4 runs (0 already completed), 1 at a time\n").expect("log");
        let launches = ExperimentLaunches::default();
        tauri::async_runtime::block_on(async {
            let experiments = [(3, "sweep".to_string()), (4, "never run".to_string())];
            launches.adopt_running(&home, &experiments);
            launches.adopt_running(&home, &experiments);
            let listed = launches.list();
            assert_eq!(listed.len(), 1, "listed once, and only the running one: {listed:?}");
            let launch = &listed[0];
            assert!(launch.adopted && launch.running && !launch.cancelling);
            assert_eq!((launch.pid, launch.experiment, launch.spec.as_str()), (pid, Some(3), "experiment 3 `sweep`"));
            assert_eq!(launch.log, journal.display().to_string(), "its orchestrator's own log");
            launches.cancel(0, &home).expect("cancel");
            assert!(launches.list()[0].cancelling);
            let status = holder.wait().expect("wait");
            assert_eq!(status.code(), Some(3), "the stand-in got SIGTERM");
            let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
            while launches.list()[0].running {
                assert!(tokio::time::Instant::now() < deadline, "its end was never seen");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            let error = launches.cancel(0, &home).expect_err("already ended");
            assert!(error.message().contains("already ended"), "{error}");
        });
    }

}
