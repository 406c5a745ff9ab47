//! Experiments started from the app: `muppet experiment run --spec FILE` as a background
//! child process (it runs its own workers), its output in a log file, its end recorded.

use std::path::Path;
use std::sync::{Arc, Mutex};

use muppet_core::MuppetHome;
use serde::Serialize;

use crate::error::CommandError;

/// One `muppet experiment run` started by the app.
#[derive(Debug, Clone, Serialize)]
pub struct ExperimentLaunch {
    pub spec: String,
    pub pid: u32,
    pub log: String,
    pub running: bool,
    pub exit_code: Option<i32>,
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

    pub fn start(
        &self,
        muppet: &Path,
        home: &MuppetHome,
        spec: &Path,
        parallel: usize,
    ) -> Result<(), CommandError> {
        let logs = home.root().join("experiment-logs");
        std::fs::create_dir_all(&logs).map_err(CommandError::io("creating", &logs))?;
        let stem = spec
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default();
        let log = logs.join(format!("{stem}-{}.log", self.list().len() + 1));
        let out = std::fs::File::create(&log).map_err(CommandError::io("creating", &log))?;
        let err = out.try_clone().map_err(CommandError::io("opening", &log))?;
        let mut child = tokio::process::Command::new(muppet)
            .args([
                "experiment",
                "run",
                "--parallel",
                &parallel.to_string(),
                "--spec",
            ])
            .arg(spec)
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
            launches.push(ExperimentLaunch {
                spec: spec.display().to_string(),
                pid,
                log: log.display().to_string(),
                running: true,
                exit_code: None,
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
}
