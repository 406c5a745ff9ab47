//! The Hugging Face hub: models and datasets by id (`org/name`), read from the
//! local hub cache, and datasets downloaded into it through `hf-hub` when the hub
//! is reachable.

mod cache;
mod dataset;
mod split_files;

pub use cache::{RepoKind, cache_root, cached_model, is_hub_id, model_repo_of, snapshot, snapshot_files};
pub use dataset::{FetchedSplit, HubAccess, HubDataset, HubStep, Shown, dataset_of_source, download_command, fetch, hub_description, hub_origin, import_hub, is_offline};
pub use split_files::{Unresolved, split_files, splits_of};
