//! The commands the web UI calls through `invoke`. Each one reads the request, calls
//! the library (or the supervisor) and maps the answer; nothing else lives here.

pub mod app;
pub mod charts;
pub mod experiments;
pub mod launch;
pub mod notes;
pub mod runs;
pub mod tasks;

use muppet_store::Store;

use crate::error::CommandError;
use crate::state::StudioState;

/// The opened store, or why it could not be opened.
fn store(state: &StudioState) -> Result<&Store, CommandError> {
    state.store().map_err(Clone::clone)
}
