//! Muppet pre-finetuning: one encoder, one head per task, tasks drawn by the
//! mixture, K single-task micro-batches accumulated into one update
//! (heterogeneous batches, MUPPET.md), each micro-batch's loss scaled by
//! `1 / ln n` (loss scaling), AdamW with warmup and linear decay.

use std::path::Path;
use std::time::Instant;

use burn::optim::{AdamWConfig, GradientsAccumulator, GradientsParams, Optimizer};
use burn::optim::grad_clipping::GradientClippingConfig;
use burn::module::AutodiffModule;
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use muppet_core::{MetricPoint, RunEvent, RunId, RunObserver};
use muppet_data::mixture::Sampling;
use muppet_data::split::train_dev;
use muppet_data::tokenize::{pad_batch, Encoded, TextEncoder};
use muppet_data::LabeledTask;
use muppet_model::{load_pretrained, LossScale};
use serde::{Deserialize, Serialize};

use crate::evaluate::{accuracy, tensors};
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
    /// How tasks are weighted (natural mixing by default, as in Muppet).
    pub sampling: Sampling,
    /// Cap on each task's size before weighting (`None`: no cap).
    pub cap: Option<usize>,
    pub seed: u64,
    /// Dev examples held out per task (at most half of the task).
    pub dev_size: usize,
    /// Evaluate on dev every this many updates (0: before training and at the end only).
    pub eval_every: u64,
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
            sampling: Sampling::Natural,
            cap: None,
            seed: 42,
            dev_size: 200,
            eval_every: 0,
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
    /// Per task, in mixture order.
    pub tasks: Vec<TaskSummary>,
    /// The checkpoint written at the end, when a run folder was given.
    pub checkpoint: Option<SavedCheckpoint>,
}

/// How one task of the mixture fared.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskSummary {
    pub name: String,
    pub train_examples: usize,
    pub dev_examples: usize,
    /// Scaled loss of the first and the last micro-batch drawn from the task.
    pub loss_first: f64,
    pub loss_last: f64,
    /// Dev accuracy with the untrained head, and after training.
    pub dev_before: f64,
    pub dev_after: f64,
}

/// A checkpoint file written by the run.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedCheckpoint {
    pub step: u64,
    pub path: std::path::PathBuf,
}

/// Pre-finetune the model in `model_dir` on `tasks`, reporting to `observer`;
/// the final model goes to `run_dir` when one is given.
pub fn prefinetune<B: AutodiffBackend>(
    model_dir: &Path,
    tasks: &[LabeledTask],
    cfg: &PreFinetuneConfig,
    run: RunId,
    run_dir: Option<&Path>,
    device: &B::Device,
    observer: &mut dyn RunObserver,
) -> Result<TrainSummary, TrainError> {
    validate(tasks, cfg)?;
    B::seed(device, cfg.seed);
    let text = TextEncoder::from_file(&model_dir.join("tokenizer.json"), cfg.max_len)?;
    let encoded: Vec<Vec<Encoded>> = tasks.iter().map(|t| text.encode(&t.examples)).collect::<Result<_, _>>()?;
    // Each task gets its own split seed so that adding a task leaves the others' splits alone.
    let splits: Vec<_> = encoded
        .iter()
        .zip(tasks)
        .map(|(e, t)| train_dev(e.len(), cfg.dev_size, cfg.seed ^ fnv1a(&t.spec.name)))
        .collect();
    let (encoder, _config) = load_pretrained::<B>(model_dir, device)?;
    let specs: Vec<_> = tasks.iter().map(|t| t.spec.clone()).collect();
    if let Some(dir) = run_dir {
        crate::manifest::RunManifest::new(model_dir, &specs, cfg.max_len).write(dir)?;
    }
    let mut model = MultiTaskModel::new(encoder, &specs, cfg.head_dropout, device);
    let mut optim = AdamWConfig::new()
        .with_weight_decay(cfg.weight_decay)
        .with_grad_clipping(cfg.clip_norm.map(GradientClippingConfig::Norm))
        .init();
    let sizes: Vec<usize> = splits.iter().map(|s| s.train.len()).collect();
    let mut sampler = TaskSampler::new(&sizes, cfg.sampling, cfg.cap, cfg.seed);
    let mut summaries: Vec<TaskSummary> = tasks
        .iter()
        .zip(&splits)
        .map(|(t, s)| TaskSummary {
            name: t.spec.name.clone(),
            train_examples: s.train.len(),
            dev_examples: s.dev.len(),
            loss_first: f64::NAN,
            loss_last: f64::NAN,
            dev_before: f64::NAN,
            dev_after: f64::NAN,
        })
        .collect();
    let evaluate = |model: &MultiTaskModel<B>, step: u64, examples: u64, wall_s: f64| -> Vec<MetricPoint> {
        let valid = model.valid();
        tasks
            .iter()
            .enumerate()
            .map(|(t, task)| {
                let dev: Vec<&Encoded> = splits[t].dev.iter().map(|&i| &encoded[t][i]).collect();
                MetricPoint {
                    task: Some(task.spec.name.clone()),
                    split: "dev".into(),
                    name: "accuracy".into(),
                    step,
                    examples,
                    wall_s,
                    value: accuracy(&valid, t, &dev, text.pad_id(), device),
                }
            })
            .collect()
    };

    observer.on_event(&RunEvent::Started { run, total_steps: cfg.steps });
    let start = Instant::now();
    let before = evaluate(&model, 0, 0, 0.0);
    for (s, p) in summaries.iter_mut().zip(&before) {
        s.dev_before = p.value;
    }
    observer.on_event(&RunEvent::Metrics { run, points: before });
    let mut examples = 0u64;
    let mut first_loss = f64::NAN;
    let mut last_loss = f64::NAN;
    for step in 0..cfg.steps {
        let mut accumulator = GradientsAccumulator::<MultiTaskModel<B>>::new();
        let mut task_losses: Vec<(usize, f64)> = Vec::with_capacity(cfg.tasks_per_update);
        for _ in 0..cfg.tasks_per_update {
            let (task, picks) = sampler.next_batch(cfg.batch_size);
            let items: Vec<&Encoded> = picks.iter().map(|&i| &encoded[task][splits[task].train[i]]).collect();
            let batch = pad_batch(&items, text.pad_id());
            let (input, targets) = tensors::<B>(&batch, device);
            let logits = model.first_token_head(crate::model::HeadRef::Classifier(task), model.encode(input));
            let loss = muppet_model::scaled_cross_entropy(logits, targets, cfg.loss_scale);
            let value = loss.clone().into_scalar().elem::<f64>();
            if !value.is_finite() {
                return Err(TrainError::Diverged { step: step + 1, task: tasks[task].spec.name.clone(), loss: value });
            }
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            accumulator.accumulate(&model, grads);
            task_losses.push((task, value));
            examples += batch.batch as u64;
        }
        let loss = task_losses.iter().map(|(_, l)| l).sum::<f64>() / task_losses.len() as f64;
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
                let mean = mine.iter().sum::<f64>() / mine.len() as f64;
                points.push(at(Some(&task.spec.name), "loss", mean));
                let summary = &mut summaries[t];
                if summary.loss_first.is_nan() {
                    summary.loss_first = mine[0];
                }
                summary.loss_last = mine[mine.len() - 1];
            }
        }
        let last_step = step + 1 == cfg.steps;
        if last_step || (cfg.eval_every > 0 && (step + 1) % cfg.eval_every == 0) {
            let dev = evaluate(&model, step + 1, examples, start.elapsed().as_secs_f64());
            if last_step {
                for (s, p) in summaries.iter_mut().zip(&dev) {
                    s.dev_after = p.value;
                }
            }
            points.extend(dev);
        }
        observer.on_event(&RunEvent::Metrics { run, points });
        observer.on_event(&RunEvent::Step { run, step: step + 1, total_steps: cfg.steps });
    }
    let checkpoint = match run_dir {
        Some(dir) => Some(SavedCheckpoint { step: cfg.steps, path: crate::checkpoint::save(&model, dir, cfg.steps)? }),
        None => None,
    };
    observer.on_event(&RunEvent::Finished { run });
    Ok(TrainSummary { steps: cfg.steps, examples, final_loss: last_loss, first_loss, tasks: summaries, checkpoint })
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

/// FNV-1a hash of a task name: a stable per-task seed offset.
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}
