//! What the app holds while it runs: where its data lives and the opened store,
//! or why the store could not be opened.

use muppet_core::MuppetHome;
use muppet_store::Store;

use crate::error::CommandError;

/// Managed by Tauri; shared by every command.
pub struct StudioState {
    home: MuppetHome,
    store: Result<Store, CommandError>,
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
        Self { home, store }
    }

    pub fn home(&self) -> &MuppetHome {
        &self.home
    }

    pub fn store(&self) -> Result<&Store, &CommandError> {
        self.store.as_ref()
    }
}
