//! Hyper-parameters of a training run (pre-finetuning or fine-tuning).

use muppet_data::mixture::Sampling;
use muppet_model::{LossScale, MixedPrecision};
use serde::{Deserialize, Serialize};

use crate::mixture::Batching;
use crate::objective::R3f;

/// Everything that decides what a run computes, saved with the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainConfig {
    /// Optimizer updates.
    pub steps: u64,
    /// Examples per micro-batch.
    pub batch_size: usize,
    /// Micro-batches accumulated into one update (K; 64 in the paper). The update is their
    /// mean, so the learning rate does not depend on K.
    pub tasks_per_update: usize,
    /// How micro-batches are grouped into updates.
    pub batching: Batching,
    /// Peak learning rate.
    pub lr: f64,
    /// Warmup updates (linear from 0), then linear decay to 0.
    pub warmup: u64,
    /// AdamW decoupled weight decay.
    pub weight_decay: f32,
    /// Clip the global gradient norm to this value; `None`: no clipping.
    pub clip_norm: Option<f32>,
    /// Tokens per sequence, specials included.
    pub max_len: usize,
    /// Overlap in tokens between windows of a span passage longer than `max_len`.
    pub doc_stride: usize,
    /// Dropout of the heads.
    pub head_dropout: f64,
    pub loss_scale: LossScale,
    /// Multiplier of the regression (MSE) loss, which log-scaling leaves alone.
    pub regression_scale: f64,
    /// R3F on classification heads; `None`: off.
    pub r3f: Option<R3f>,
    /// How tasks are weighted (natural mixing by default, as in Muppet).
    pub sampling: Sampling,
    /// Cap on each task's size before weighting (`None`: no cap).
    pub cap: Option<usize>,
    /// Group examples of similar length into the same micro-batch (less padding).
    pub length_buckets: bool,
    pub seed: u64,
    /// Seed of the train/dev split (`None`: `seed`). Fixing it while `seed` varies keeps
    /// one dev set across seeds, so their spread is training randomness alone.
    pub split_seed: Option<u64>,
    /// Dev examples held out per task (at most half of the task).
    pub dev_size: usize,
    /// Training examples kept per task, drawn with the seed (`None`: all); for
    /// sample-efficiency fine-tuning.
    pub train_size: Option<usize>,
    /// Evaluate on dev every this many updates (0: before training and at the end only).
    pub eval_every: u64,
    /// Write a resumable checkpoint every this many updates (0: at the end only).
    pub checkpoint_every: u64,
    /// Keep the model checkpoints of the last this many saves and delete older ones
    /// (Hugging Face Trainer's `save_total_limit`); `None`: keep every one. The latest
    /// checkpoint, the one a resume continues from, is always among those kept.
    pub keep_checkpoints: Option<usize>,
    /// Keep the model checkpoint of the best dev score (the mean of the tasks' main metrics)
    /// as well, however many others are deleted: `muppet eval`, `export` and `finetune
    /// --from-run` take it with `--step best`, and an experiment reports a fine-tune at it
    /// (Hugging Face Trainer's `load_best_model_at_end`). Needs `eval_every`.
    pub keep_best: bool,
    /// Stop once this many dev evaluations in a row have not beaten the best score
    /// (Hugging Face's `EarlyStoppingCallback`); the best checkpoint is kept, as with
    /// `keep_best`. `None`: train every step. Needs `eval_every`.
    pub early_stopping: Option<u64>,
    /// By how much a dev score must beat the best for early stopping to count it as an
    /// improvement (Hugging Face's `early_stopping_threshold`); a smaller gain is still kept as
    /// the best. 0: any gain. Needs `early_stopping`.
    pub early_stopping_threshold: f64,
    /// `bf16`: the encoder's matrix products in bf16 over f32 weights and optimizer state
    /// (muppet-model's `precision`); `no`: everything in the backend's float type.
    pub mixed_precision: MixedPrecision,
    /// Devices the run trains on, data-parallel (`crate::parallel`): each holds a replica
    /// and computes its share of each update's micro-batches. The update is the same as on
    /// one device; on the CPU the peers share the one device.
    pub devices: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            steps: 20,
            batch_size: 8,
            tasks_per_update: 2,
            batching: Batching::Heterogeneous,
            lr: 5e-5,
            warmup: 2,
            weight_decay: 0.01,
            clip_norm: Some(1.0),
            max_len: 128,
            doc_stride: 32,
            head_dropout: 0.1,
            loss_scale: LossScale::LogN,
            regression_scale: 1.0,
            r3f: None,
            sampling: Sampling::Natural,
            cap: None,
            length_buckets: true,
            seed: 42,
            split_seed: None,
            dev_size: 200,
            train_size: None,
            eval_every: 0,
            checkpoint_every: 0,
            keep_checkpoints: None,
            keep_best: false,
            early_stopping: None,
            early_stopping_threshold: 0.0,
            mixed_precision: MixedPrecision::No,
            devices: 1,
        }
    }
}

impl TrainConfig {
    /// Whether the run keeps its best checkpoint (asked for, or implied by early stopping).
    pub fn keeps_best(&self) -> bool {
        self.keep_best || self.early_stopping.is_some()
    }

    /// Defaults of a pre-finetuning run (`muppet prefinetune`, an experiment's stages).
    pub fn prefinetune() -> Self {
        Self { steps: 300, batch_size: 16, tasks_per_update: 4, lr: 1e-4, warmup: 30, eval_every: 50, checkpoint_every: 100, ..Self::default() }
    }

    /// Defaults of a fine-tuning run (`muppet finetune`, an experiment's fine-tunes).
    pub fn finetune() -> Self {
        Self { steps: 100, batch_size: 16, tasks_per_update: 1, lr: 5e-5, warmup: 10, ..Self::default() }
    }
}
