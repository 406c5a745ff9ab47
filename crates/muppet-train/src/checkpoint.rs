//! Checkpoint files of a run under `runs/<id>/`, all written under a temporary name and
//! renamed, so a crash never leaves half a file:
//! - `model-step<N>.mpk`: the whole multi-task model (encoder and every head) in Burn's
//!   named MessagePack format, full precision;
//! - `optim-step<N>.mpk`: AdamW's moments (only the latest is kept);
//! - `state-step<N>.json`: the step, examples seen, elapsed time and per-task summaries.
//!   Written last: its presence marks checkpoint N complete and resumable.
//!
//! The learning-rate schedule is a function of the step and the data order is replayed
//! from the seed, so these three files are the whole state of a run.

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::optim::Optimizer;
use burn::prelude::*;
use burn::record::{FullPrecisionSettings, NamedMpkFileRecorder, Recorder};
use burn::tensor::backend::AutodiffBackend;
use serde::{Deserialize, Serialize};

use crate::best::BestTracker;
use crate::model::MultiTaskModel;
use crate::train::TaskSummary;
use crate::TrainError;

/// Progress saved with a checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResumeState {
    pub step: u64,
    pub examples: u64,
    pub wall_s: f64,
    #[serde(with = "nan_as_null")]
    pub first_loss: f64,
    #[serde(with = "nan_as_null")]
    pub last_loss: f64,
    pub tasks: Vec<TaskSummary>,
    /// The best dev score so far and the evaluations since (absent in older checkpoints).
    #[serde(default)]
    pub best: BestTracker,
}

/// JSON has no NaN: a value not measured yet (NaN) is written as `null` and read back as NaN.
pub(crate) mod nan_as_null {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_finite() { s.serialize_f64(*v) } else { s.serialize_none() }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }
}

fn err(path: &Path, message: impl ToString) -> TrainError {
    TrainError::Checkpoint { path: path.to_path_buf(), message: message.to_string() }
}

fn recorder() -> NamedMpkFileRecorder<FullPrecisionSettings> {
    NamedMpkFileRecorder::<FullPrecisionSettings>::new()
}

/// Path of a checkpoint file of `kind` (`model`, `optim`) at `step`.
pub fn file(dir: &Path, kind: &str, step: u64) -> PathBuf {
    dir.join(format!("{kind}-step{step}.mpk"))
}

/// Write `model` as `<dir>/model-step<step>.mpk` and return the path.
pub fn save<B: Backend>(model: &MultiTaskModel<B>, dir: &Path, step: u64) -> Result<PathBuf, TrainError> {
    std::fs::create_dir_all(dir).map_err(|e| err(dir, e))?;
    let path = file(dir, "model", step);
    // The recorder appends `.mpk` to the name it is given.
    let partial = dir.join(format!(".partial-model-step{step}"));
    model.clone().save_file(&partial, &recorder()).map_err(|e| err(&path, e))?;
    std::fs::rename(partial.with_extension("mpk"), &path).map_err(|e| err(&path, e))?;
    Ok(path)
}

/// Write a resumable checkpoint (model, optimizer, state) and return the model's path.
pub fn save_resumable<B, O>(model: &MultiTaskModel<B>, optim: &O, state: &ResumeState, dir: &Path) -> Result<PathBuf, TrainError>
where
    B: AutodiffBackend,
    O: Optimizer<MultiTaskModel<B>, B>,
{
    let step = state.step;
    let model_path = save(model, dir, step)?;
    let optim_path = file(dir, "optim", step);
    let partial = dir.join(format!(".partial-optim-step{step}"));
    recorder().record(optim.to_record(), partial.clone()).map_err(|e| err(&optim_path, e))?;
    std::fs::rename(partial.with_extension("mpk"), &optim_path).map_err(|e| err(&optim_path, e))?;
    let state_path = dir.join(format!("state-step{step}.json"));
    let partial = dir.join(format!(".partial-state-step{step}.json"));
    let json = serde_json::to_vec_pretty(state).map_err(|e| err(&state_path, e))?;
    std::fs::write(&partial, json).map_err(|e| err(&state_path, e))?;
    std::fs::rename(&partial, &state_path).map_err(|e| err(&state_path, e))?;
    // Older optimizer states are twice the model's size and no longer needed.
    for old in resumable_steps(dir).into_iter().filter(|&s| s < step) {
        let _ = std::fs::remove_file(file(dir, "optim", old));
        let _ = std::fs::remove_file(dir.join(format!("state-step{old}.json")));
    }
    Ok(model_path)
}

/// The steps of the model checkpoints in `dir`, ascending.
pub fn model_steps(dir: &Path) -> Result<Vec<u64>, TrainError> {
    let mut steps: Vec<u64> = std::fs::read_dir(dir)
        .map_err(|e| err(dir, e))?
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok()?.strip_prefix("model-step")?.strip_suffix(".mpk")?.parse().ok())
        .collect();
    steps.sort_unstable();
    Ok(steps)
}

/// Delete the model checkpoints of `dir` but the `keep` latest (at least one is kept), the
/// ones a resume needs (with their `state-step<N>.json`), and those of `spare` (the best
/// ones: see [`resume_best`]). The store learns of it when the next checkpoint is registered.
pub fn keep_last_models(dir: &Path, keep: usize, spare: &[u64]) -> Result<(), TrainError> {
    let steps = model_steps(dir)?;
    let old = steps.len().saturating_sub(keep.max(1));
    for &step in &steps[..old] {
        if !spare.contains(&step) && !is_resumable(dir, step) {
            remove_model(dir, step)?;
        }
    }
    Ok(())
}

/// Whether `step`'s checkpoint in `dir` is one a resume can start from.
fn is_resumable(dir: &Path, step: u64) -> bool {
    dir.join(format!("state-step{step}.json")).is_file()
}

/// The step of the best model that the latest resumable checkpoint of `dir` remembers: a run
/// resumed from it (after a crash that lost the bests found since) takes that model as its
/// best, so its file outlives a better one until the next resumable checkpoint.
pub fn resume_best(dir: &Path) -> Option<u64> {
    /// The part of a `state-step<N>.json` read here.
    #[derive(Deserialize)]
    struct Saved {
        #[serde(default)]
        best: BestTracker,
    }
    let step = *resumable_steps(dir).last()?;
    let text = std::fs::read(dir.join(format!("state-step{step}.json"))).ok()?;
    serde_json::from_slice::<Saved>(&text).ok()?.best.best.map(|b| b.step)
}

/// Delete the model checkpoint of `step`, kept as the best until a better one came, unless
/// it is also one of the run's regular checkpoints (`periodic`), one a resume starts from or
/// the best such a resume would take (`pinned`, [`resume_best`]).
pub fn drop_former_best(dir: &Path, step: u64, periodic: bool, pinned: Option<u64>) -> Result<(), TrainError> {
    if periodic || is_resumable(dir, step) || pinned == Some(step) {
        return Ok(());
    }
    remove_model(dir, step)
}

/// Delete the model checkpoints of `dir` after `step`, the resumable checkpoint a run resumes
/// from: written by the updates that are trained again (best models since, which a crash
/// left behind), they would otherwise stand beside the new ones under the same steps.
pub fn drop_after(dir: &Path, step: u64) -> Result<(), TrainError> {
    for later in model_steps(dir)?.into_iter().filter(|&s| s > step) {
        remove_model(dir, later)?;
    }
    Ok(())
}

fn remove_model(dir: &Path, step: u64) -> Result<(), TrainError> {
    let path = file(dir, "model", step);
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(err(&path, e)),
        _ => Ok(()),
    }
}

/// Steps with a complete resumable checkpoint in `dir`, ascending.
pub fn resumable_steps(dir: &Path) -> Vec<u64> {
    let mut steps: Vec<u64> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let step = name.strip_prefix("state-step")?.strip_suffix(".json")?.parse().ok()?;
            (file(dir, "model", step).is_file() && file(dir, "optim", step).is_file()).then_some(step)
        })
        .collect();
    steps.sort_unstable();
    steps
}

/// Load the latest resumable checkpoint of `dir` into `model` and `optim`.
pub fn load_latest<B, O>(dir: &Path, model: MultiTaskModel<B>, optim: O, device: &B::Device) -> Result<(MultiTaskModel<B>, O, ResumeState, PathBuf), TrainError>
where
    B: AutodiffBackend,
    O: Optimizer<MultiTaskModel<B>, B>,
{
    let step = *resumable_steps(dir).last().ok_or_else(|| TrainError::RunFolder {
        path: dir.to_path_buf(),
        message: "no complete checkpoint to resume from (state-step<N>.json with its model and optim files); start the run again".into(),
    })?;
    let state_path = dir.join(format!("state-step{step}.json"));
    let bad = |path: &Path, e: String| TrainError::RunFolder { path: path.to_path_buf(), message: e };
    let text = std::fs::read_to_string(&state_path).map_err(|e| bad(&state_path, e.to_string()))?;
    let state: ResumeState = serde_json::from_str(&text).map_err(|e| bad(&state_path, e.to_string()))?;
    let model_path = file(dir, "model", step);
    let model = model.load_file(model_path.clone(), &recorder(), device).map_err(|e| bad(&model_path, e.to_string()))?;
    let optim_path = file(dir, "optim", step);
    let record = recorder().load(optim_path.clone(), device).map_err(|e| bad(&optim_path, e.to_string()))?;
    Ok((model, optim.load_record(record), state, model_path))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An empty folder of this test process under the system's temporary folder.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("muppet-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        dir
    }

    #[test]
    fn only_the_latest_model_checkpoints_are_kept() {
        let dir = scratch("keep");
        for step in [2, 10, 4, 8, 6] {
            std::fs::write(file(&dir, "model", step), b"m").expect("model");
        }
        std::fs::write(file(&dir, "optim", 10), b"o").expect("optim");
        std::fs::write(dir.join("state-step10.json"), b"{}").expect("state");
        keep_last_models(&dir, 2, &[]).expect("prune");
        let mut left: Vec<String> = std::fs::read_dir(&dir).expect("ls").map(|e| e.expect("entry").file_name().to_string_lossy().to_string()).collect();
        left.sort();
        // By step, not by name: step 10 is the latest; the resumable state stays.
        assert_eq!(left, ["model-step10.mpk", "model-step8.mpk", "optim-step10.mpk", "state-step10.json"]);
        keep_last_models(&dir, 0, &[]).expect("at least one");
        assert!(file(&dir, "model", 10).is_file(), "the latest is always kept");
        assert!(!file(&dir, "model", 8).exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_best_and_the_resumable_models_outlive_the_limit() {
        let dir = scratch("keep-best");
        for step in [2, 3, 4, 5, 6] {
            std::fs::write(file(&dir, "model", step), b"m").expect("model");
        }
        // Step 4 is the latest resumable checkpoint, step 5 a best one written since.
        std::fs::write(file(&dir, "optim", 4), b"o").expect("optim");
        std::fs::write(dir.join("state-step4.json"), b"{}").expect("state");
        keep_last_models(&dir, 1, &[3]).expect("prune");
        assert_eq!(model_steps(&dir).expect("ls"), [3, 4, 6]);
        drop_former_best(&dir, 3, true, None).expect("periodic stays");
        drop_former_best(&dir, 4, false, None).expect("resumable stays");
        assert_eq!(model_steps(&dir).expect("ls"), [3, 4, 6]);
        drop_former_best(&dir, 3, false, None).expect("drop");
        drop_former_best(&dir, 3, false, None).expect("already gone");
        assert_eq!(model_steps(&dir).expect("ls"), [4, 6]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_best_a_resume_would_take_outlives_a_better_one_until_the_next_resumable_checkpoint() {
        let dir = scratch("resume-best");
        let resumable = |step: u64, best: u64| {
            std::fs::write(file(&dir, "model", step), b"m").expect("model");
            std::fs::write(file(&dir, "optim", step), b"o").expect("optim");
            let state = format!(r#"{{"step": {step}, "best": {{"best": {{"step": {best}, "score": 0.5}}, "evals_since": 0}}}}"#);
            std::fs::write(dir.join(format!("state-step{step}.json")), state).expect("state");
        };
        // Best at step 2 (a best-only model), then the resumable checkpoint of step 4.
        std::fs::write(file(&dir, "model", 2), b"m").expect("model");
        resumable(4, 2);
        assert_eq!(resume_best(&dir), Some(2));
        // A better score at step 5: step 2 stays, as a resume from step 4 takes it as its best.
        std::fs::write(file(&dir, "model", 5), b"m").expect("model");
        drop_former_best(&dir, 2, false, resume_best(&dir)).expect("pinned");
        keep_last_models(&dir, 1, &[5, 2]).expect("prune: the best and the one a resume takes are spared");
        assert_eq!(model_steps(&dir).expect("ls"), [2, 4, 5]);
        // Older states than the latest say nothing: the latest remembers step 5.
        std::fs::remove_file(file(&dir, "optim", 4)).expect("optim");
        std::fs::remove_file(dir.join("state-step4.json")).expect("state");
        resumable(6, 5);
        assert_eq!(resume_best(&dir), Some(5));
        drop_former_best(&dir, 2, false, resume_best(&dir)).expect("drop");
        assert_eq!(model_steps(&dir).expect("ls"), [4, 5, 6]);
        // A resume from step 6 drops what came after it (a crash left a best of step 7).
        std::fs::write(file(&dir, "model", 7), b"m").expect("model");
        std::fs::write(file(&dir, "model", 8), b"m").expect("partial resumable");
        drop_after(&dir, 6).expect("drop after");
        assert_eq!(model_steps(&dir).expect("ls"), [4, 5, 6]);
        // A state that cannot be read pins nothing.
        std::fs::write(dir.join("state-step6.json"), b"{").expect("state");
        assert_eq!(resume_best(&dir), None);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
