//! `runs/<id>/run.json`: what a run folder's checkpoints need to be read back: the base
//! model folder (architecture and tokenizer), the tasks in head order and which head each
//! uses. Written when the run starts, before any checkpoint.

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::prelude::*;
use burn::record::{FullPrecisionSettings, NamedMpkFileRecorder};
use muppet_core::TaskSpec;
use muppet_model::{EncoderConfig, CONFIG_FILE};
use serde::{Deserialize, Serialize};

use crate::model::{head_layout, HeadRef, MultiTaskModel};
use crate::TrainError;

/// File name of the manifest inside a run folder.
pub const MANIFEST_FILE: &str = "run.json";

/// What a run folder holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunManifest {
    /// The base model folder: `config.json`, `tokenizer.json`, `model.safetensors`.
    pub model_dir: PathBuf,
    /// The run's tasks, in the order of its heads.
    pub tasks: Vec<TaskSpec>,
    /// The head of each task (same order as `tasks`).
    pub heads: Vec<HeadRef>,
    /// Tokens per sequence the run was trained with.
    pub max_len: usize,
}

impl RunManifest {
    pub fn new(model_dir: &Path, tasks: &[TaskSpec], max_len: usize) -> Self {
        Self { model_dir: model_dir.to_path_buf(), tasks: tasks.to_vec(), heads: head_layout(tasks), max_len }
    }

    /// Write `dir/run.json` atomically.
    pub fn write(&self, dir: &Path) -> Result<(), TrainError> {
        write_json(dir, MANIFEST_FILE, &serde_json::to_vec_pretty(self))
    }

    /// The run's tasks for a message: `` `name` (family) ``, comma-separated.
    pub fn tasks_text(&self) -> String {
        self.tasks.iter().map(|t| format!("`{}` ({})", t.name, t.family.as_str())).collect::<Vec<_>>().join(", ")
    }

    /// Read `dir/run.json`.
    pub fn read(dir: &Path) -> Result<Self, TrainError> {
        let path = dir.join(MANIFEST_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| TrainError::RunFolder {
            path: path.clone(),
            message: format!("{e}; is this a run folder (runs/<id>/)?"),
        })?;
        serde_json::from_str(&text).map_err(|e| TrainError::RunFolder { path, message: e.to_string() })
    }

    /// The base model's architecture.
    pub fn encoder_config(&self) -> Result<EncoderConfig, TrainError> {
        Ok(EncoderConfig::from_hf_json(&self.model_dir.join(CONFIG_FILE))?)
    }

    /// Index of the task called `name`.
    pub fn task_index(&self, name: &str) -> Option<usize> {
        self.tasks.iter().position(|t| t.name == name)
    }
}

/// Write serialized JSON to `dir/file` atomically (a partial file renamed into place).
pub(crate) fn write_json(dir: &Path, file: &str, json: &serde_json::Result<Vec<u8>>) -> Result<(), TrainError> {
    let path = dir.join(file);
    let err = |message: String| TrainError::Checkpoint { path: path.clone(), message };
    let json = json.as_ref().map_err(|e| err(e.to_string()))?;
    std::fs::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
    let partial = dir.join(format!(".partial-{file}"));
    std::fs::write(&partial, json).map_err(|e| err(e.to_string()))?;
    std::fs::rename(&partial, &path).map_err(|e| err(e.to_string()))
}

/// Load the model saved in checkpoint file `checkpoint` of the run folder `run_dir`.
pub fn load_checkpoint<B: Backend>(
    run_dir: &Path,
    checkpoint: &Path,
    device: &B::Device,
) -> Result<(MultiTaskModel<B>, RunManifest), TrainError> {
    let manifest = RunManifest::read(run_dir)?;
    let config = manifest.encoder_config()?;
    let model = MultiTaskModel::new(config.init::<B>(device), &manifest.tasks, 0.0, device);
    let recorder = NamedMpkFileRecorder::<FullPrecisionSettings>::new();
    let model = model
        .load_file(checkpoint.to_path_buf(), &recorder, device)
        .map_err(|e| TrainError::RunFolder { path: checkpoint.to_path_buf(), message: e.to_string() })?;
    Ok((model, manifest))
}
