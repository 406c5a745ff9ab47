//! What the app holds while it runs: where its data lives, the opened store (or why it
//! could not be opened), the worker supervisor, the task catalog and the settings.

use std::path::PathBuf;
use std::sync::Mutex;

use muppet_core::MuppetHome;
use muppet_store::Store;

use crate::catalog::TaskCatalog;
use crate::error::CommandError;
use crate::launches::ExperimentLaunches;
use crate::settings::Settings;
use crate::supervisor::Supervisor;

/// Environment variable naming the `muppet` binary the app launches.
pub const MUPPET_BIN_ENV: &str = "MUPPET_BIN";

/// Managed by Tauri; shared by every command.
pub struct StudioState {
    home: MuppetHome,
    store: Result<Store, CommandError>,
    pub supervisor: Supervisor,
    pub catalog: TaskCatalog,
    pub settings: Mutex<Settings>,
    pub experiments: ExperimentLaunches,
}

impl StudioState {
    /// Resolve `MUPPET_HOME` (default: the platform data dir + `muppet-studio`), create
    /// its folders and open `muppet.db`. A failure is kept, not raised, so the UI can
    /// show it instead of the app dying before a window appears.
    pub async fn open_from_env() -> Self {
        let home = MuppetHome::from_env(|| muppet_core::home::default_root(dirs::data_dir()));
        let store = match home.ensure() {
            Ok(()) => Store::open(&home.db()).await.map_err(CommandError::from),
            Err(source) => Err(CommandError::Home {
                path: home.root().to_path_buf(),
                source: source.into(),
            }),
        };
        let settings = Settings::load(home.root());
        let supervisor = Supervisor::new(
            muppet_binary(),
            home.clone(),
            store.as_ref().ok().cloned(),
            settings.parallel_runs,
        );
        Self {
            home,
            store,
            supervisor,
            catalog: TaskCatalog::default(),
            settings: Mutex::new(settings),
            experiments: ExperimentLaunches::default(),
        }
    }

    pub fn home(&self) -> &MuppetHome {
        &self.home
    }

    pub fn store(&self) -> Result<&Store, &CommandError> {
        self.store.as_ref()
    }

    pub fn settings(&self) -> Settings {
        self.settings
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// The `muppet` binary: `MUPPET_BIN`, else the one beside the app's own binary (both are
/// built into the same target folder, and installed side by side).
fn muppet_binary() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os(MUPPET_BIN_ENV).filter(|v| !v.is_empty()) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!(
                "{MUPPET_BIN_ENV} points at {}, which is not a file",
                path.display()
            ))
        };
    }
    let exe = std::env::current_exe().map_err(|e| format!("cannot locate the app binary: {e}"))?;
    let beside = exe.with_file_name("muppet");
    if beside.is_file() {
        Ok(beside)
    } else {
        Err(format!(
            "the `muppet` binary is not beside the app ({}): build it with `cargo build -p muppet-cli`, or set {MUPPET_BIN_ENV}",
            beside.display()
        ))
    }
}
