//! `runs/<id>/splits.json`: the example ids each task of a run was trained and scored on,
//! with the fingerprint of the data they index and the seed that drew them, so that a
//! result can be traced to its examples and a split reproduced or checked for leaks.
//! Written when the run starts (a resumed run draws the same splits).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::TrainError;

/// File name of the splits inside a run folder.
pub const SPLITS_FILE: &str = "splits.json";

/// One task's split, as example indices into its data (import order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskSplit {
    pub task: String,
    /// sha256 of the task's data: the ids index these examples.
    pub fingerprint: String,
    /// Examples in the task.
    pub examples: usize,
    /// The seed that drew the dev split (the task's own split seed, else the run's
    /// `split_seed`, else its `seed`; mixed with the task name).
    pub split_seed: u64,
    /// Examples trained on, ascending (a seeded subset when `train_size` is set).
    pub train: Vec<usize>,
    /// Examples scored on, ascending: of this task, or of `dev_task` when it has one.
    pub dev: Vec<usize>,
    /// The task this one was scored on instead of a held-out part of its own examples (its
    /// split policy's `dev_task`); `dev` then indexes its examples, and `train` holds all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dev_task: Option<DevTask>,
}

/// The task a task was scored on, as the run found it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DevTask {
    pub name: String,
    /// sha256 of its data: `dev` indexes these examples.
    pub fingerprint: String,
    pub examples: usize,
}

/// Write `dir/splits.json` atomically.
pub fn write(dir: &Path, splits: &[TaskSplit]) -> Result<(), TrainError> {
    crate::manifest::write_json(dir, SPLITS_FILE, &serde_json::to_vec(splits))
}

/// Read `dir/splits.json`.
pub fn read(dir: &Path) -> Result<Vec<TaskSplit>, TrainError> {
    let path = dir.join(SPLITS_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| TrainError::RunFolder { path: path.clone(), message: e.to_string() })?;
    serde_json::from_str(&text).map_err(|e| TrainError::RunFolder { path, message: e.to_string() })
}
