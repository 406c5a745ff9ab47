//! Checkpoint files of a run under `runs/<id>/`: the whole multi-task model
//! (encoder and every head) in Burn's named MessagePack format, full precision,
//! written under a temporary name and renamed so a crash never leaves half a file.

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::prelude::*;
use burn::record::{FullPrecisionSettings, NamedMpkFileRecorder};

use crate::model::MultiTaskModel;
use crate::TrainError;

/// Write `model` as `<dir>/model-step<step>.mpk` and return the path.
pub fn save<B: Backend>(model: &MultiTaskModel<B>, dir: &Path, step: u64) -> Result<PathBuf, TrainError> {
    let err = |path: &Path, message: String| TrainError::Checkpoint { path: path.to_path_buf(), message };
    std::fs::create_dir_all(dir).map_err(|e| err(dir, e.to_string()))?;
    let path = dir.join(format!("model-step{step}.mpk"));
    // The recorder appends `.mpk` to the name it is given.
    let partial = dir.join(format!(".partial-model-step{step}"));
    let recorder = NamedMpkFileRecorder::<FullPrecisionSettings>::new();
    model.clone().save_file(&partial, &recorder).map_err(|e| err(&path, e.to_string()))?;
    std::fs::rename(partial.with_extension("mpk"), &path).map_err(|e| err(&path, e.to_string()))?;
    Ok(path)
}
