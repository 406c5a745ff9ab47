//! Muppet pre-finetuning: one encoder, one head per task, tasks drawn by the
//! mixture, K single-task micro-batches accumulated into one update
//! (heterogeneous batches, MUPPET.md), each micro-batch's loss scaled by
//! `1 / ln n` (loss scaling), AdamW with warmup and linear decay.

use std::path::Path;
use std::time::Instant;

use burn::optim::{AdamWConfig, GradientsAccumulator, GradientsParams, Optimizer};
use burn::optim::grad_clipping::GradientClippingConfig;
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use muppet_core::{MetricPoint, RunEvent, RunId, RunObserver};
use muppet_data::tokenize::{pad_batch, Encoded, PaddedBatch, TextEncoder};
use muppet_data::LabeledTask;
use muppet_model::{load_pretrained, EncoderInput, LossScale};
use serde::{Deserialize, Serialize};

use crate::mixture::TaskSampler;
use crate::model::MultiTaskModel;
use crate::schedule::warmup_linear;
use crate::TrainError;

/// Hyper-parameters of a pre-finetuning run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreFinetuneConfig {
    /// Optimizer updates.
    pub steps: u64,
    /// Examples per micro-batch.
    pub batch_size: usize,
    /// Micro-batches (each from one task) accumulated into one update (K; 64 in the paper).
    pub tasks_per_update: usize,
    /// Peak learning rate.
    pub lr: f64,
    /// Warmup updates.
    pub warmup: u64,
    /// AdamW decoupled weight decay.
    pub weight_decay: f32,
    /// Gradient norm clip (per parameter tensor), `None` for no clipping.
    pub clip_norm: Option<f32>,
    /// Tokens per example, specials included.
    pub max_len: usize,
    /// Dropout of the new heads.
    pub head_dropout: f64,
    pub loss_scale: LossScale,
    pub seed: u64,
}

impl Default for PreFinetuneConfig {
    fn default() -> Self {
        Self {
            steps: 20,
            batch_size: 8,
            tasks_per_update: 2,
            lr: 5e-5,
            warmup: 2,
            weight_decay: 0.01,
            clip_norm: Some(1.0),
            max_len: 64,
            head_dropout: 0.1,
            loss_scale: LossScale::LogN,
            seed: 42,
        }
    }
}

/// What a finished run reports.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainSummary {
    pub steps: u64,
    pub examples: u64,
    /// Mean scaled loss of the last update.
    pub final_loss: f64,
    /// Mean scaled loss of the first update.
    pub first_loss: f64,
}

/// Pre-finetune the model in `model_dir` on `tasks`, reporting to `observer`.
pub fn prefinetune<B: AutodiffBackend>(
    model_dir: &Path,
    tasks: &[LabeledTask],
    cfg: &PreFinetuneConfig,
    run: RunId,
    device: &B::Device,
    observer: &mut dyn RunObserver,
) -> Result<TrainSummary, TrainError> {
    validate(tasks, cfg)?;
    B::seed(device, cfg.seed);
    let text = TextEncoder::from_file(&model_dir.join("tokenizer.json"), cfg.max_len)?;
    let encoded: Vec<Vec<Encoded>> = tasks.iter().map(|t| text.encode(&t.examples)).collect::<Result<_, _>>()?;
    let (encoder, _config) = load_pretrained::<B>(model_dir, device)?;
    let n_classes: Vec<usize> = tasks.iter().map(|t| t.spec.labels.len()).collect();
    let mut model = MultiTaskModel::new(encoder, &n_classes, cfg.head_dropout, device);
    let mut optim = AdamWConfig::new()
        .with_weight_decay(cfg.weight_decay)
        .with_grad_clipping(cfg.clip_norm.map(GradientClippingConfig::Norm))
        .init();
    let sizes: Vec<usize> = encoded.iter().map(Vec::len).collect();
    let mut sampler = TaskSampler::natural(&sizes, cfg.seed);

    observer.on_event(&RunEvent::Started { run, total_steps: cfg.steps });
    let start = Instant::now();
    let mut examples = 0u64;
    let mut first_loss = f64::NAN;
    let mut last_loss = f64::NAN;
    for step in 0..cfg.steps {
        let mut accumulator = GradientsAccumulator::<MultiTaskModel<B>>::new();
        let mut task_losses: Vec<(usize, f64)> = Vec::with_capacity(cfg.tasks_per_update);
        for _ in 0..cfg.tasks_per_update {
            let (task, picks) = sampler.next_batch(cfg.batch_size);
            let items: Vec<&Encoded> = picks.iter().map(|&i| &encoded[task][i]).collect();
            let batch = pad_batch(&items, text.pad_id());
            let (input, targets) = tensors::<B>(&batch, device);
            let logits = model.forward(task, input);
            let loss = muppet_model::scaled_cross_entropy(logits, targets, cfg.loss_scale);
            let value = loss.clone().into_scalar().elem::<f64>();
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            accumulator.accumulate(&model, grads);
            task_losses.push((task, value));
            examples += batch.batch as u64;
        }
        let loss = task_losses.iter().map(|(_, l)| l).sum::<f64>() / task_losses.len() as f64;
        if !loss.is_finite() {
            return Err(TrainError::Diverged { step: step + 1, loss });
        }
        let lr = warmup_linear(cfg.lr, cfg.warmup, cfg.steps, step);
        model = optim.step(lr, model, accumulator.grads());
        if step == 0 {
            first_loss = loss;
        }
        last_loss = loss;

        let wall_s = start.elapsed().as_secs_f64();
        let at = |task: Option<&str>, name: &str, value: f64| MetricPoint {
            task: task.map(str::to_string),
            split: "train".into(),
            name: name.into(),
            step: step + 1,
            examples,
            wall_s,
            value,
        };
        let mut points = vec![at(None, "loss", loss), at(None, "lr", lr)];
        for (t, task) in tasks.iter().enumerate() {
            let mine: Vec<f64> = task_losses.iter().filter(|(i, _)| *i == t).map(|(_, l)| *l).collect();
            if !mine.is_empty() {
                points.push(at(Some(&task.spec.name), "loss", mine.iter().sum::<f64>() / mine.len() as f64));
            }
        }
        observer.on_event(&RunEvent::Metrics { run, points });
        observer.on_event(&RunEvent::Step { run, step: step + 1, total_steps: cfg.steps });
    }
    observer.on_event(&RunEvent::Finished { run });
    Ok(TrainSummary { steps: cfg.steps, examples, final_loss: last_loss, first_loss })
}

fn validate(tasks: &[LabeledTask], cfg: &PreFinetuneConfig) -> Result<(), TrainError> {
    if tasks.is_empty() {
        return Err(TrainError::Config("the mixture has no tasks".into()));
    }
    if let Some(t) = tasks.iter().find(|t| t.examples.is_empty()) {
        return Err(TrainError::Config(format!("task `{}` has no examples", t.spec.name)));
    }
    if let Some(t) = tasks.iter().find(|t| t.spec.labels.len() < 2) {
        return Err(TrainError::Config(format!("task `{}` needs at least two labels", t.spec.name)));
    }
    if cfg.steps == 0 || cfg.batch_size == 0 || cfg.tasks_per_update == 0 {
        return Err(TrainError::Config("steps, batch size and tasks per update must be at least 1".into()));
    }
    Ok(())
}

fn tensors<B: Backend>(batch: &PaddedBatch, device: &B::Device) -> (EncoderInput<B>, Tensor<B, 1, Int>) {
    let shape = [batch.batch, batch.seq];
    let int2 = |v: &[i64]| Tensor::<B, 2, Int>::from_data(TensorData::new(v.to_vec(), shape), device);
    let input = EncoderInput {
        input_ids: int2(&batch.input_ids),
        token_type_ids: int2(&batch.type_ids),
        attention_mask: int2(&batch.attention_mask),
    };
    let targets = Tensor::<B, 1, Int>::from_data(TensorData::new(batch.labels.clone(), [batch.batch]), device);
    (input, targets)
}
