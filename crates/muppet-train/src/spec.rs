//! The specification of a run as it is stored with the run (`runs.spec_json`): the model
//! folder, the tasks by name, the backend, where the weights start and every training
//! knob. The CLI, the desktop app and the experiment runner all create runs from it, and
//! `muppet worker --run ID` executes it.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::TrainConfig;

/// Where a run's weights start, as stored in its spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum InitSpec {
    /// The pretrained model.
    Base,
    /// A checkpoint of a stored run.
    Run { run: i64, step: u64, checkpoint: PathBuf, reuse_heads: bool },
}

/// Everything a run needs, stored as the run's spec.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunSpec {
    pub model: PathBuf,
    pub tasks: Vec<String>,
    pub backend: String,
    pub init: InitSpec,
    pub config: TrainConfig,
}

