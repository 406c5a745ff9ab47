//! The training loop shared by pre-finetuning and fine-tuning (MUPPET.md): one encoder,
//! the heads of the mixture, updates made of K single-task micro-batches as the batch plan
//! says, each micro-batch's loss formed by [`Objective`], AdamW with warmup and linear
//! decay, global-norm clipping, dev evaluation with each task's metric, resumable
//! checkpoints and cancellation between updates.
//!
//! Determinism: the data order comes from one seeded plan, replayed on resume; the
//! backend's generator (dropout, R3F noise) is reseeded at every update from (seed,
//! step). A run stopped and resumed therefore computes the same losses as one that was
//! never stopped.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use burn::module::AutodiffModule;
use burn::optim::{AdamWConfig, GradientsAccumulator, GradientsParams, Optimizer};
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use muppet_core::{MetricPoint, RunEvent, RunId, RunObserver, TaskFamily};
use muppet_data::fingerprint::task_fingerprint;
use muppet_data::split::{sample, train_dev, Split};
use muppet_data::token_cache::TokenCache;
use muppet_data::tokenize::{Item, TextEncoder};
use muppet_data::LabeledTask;
use muppet_model::load_pretrained;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use crate::batch::collate;
use crate::best::{dev_score, BestDev, BestTracker};
use crate::checkpoint::{self, ResumeState};
use crate::config::TrainConfig;
use crate::evaluate::evaluate;
use crate::manifest::{load_checkpoint, RunManifest};
use crate::mixture::{BatchPlan, MicroBatch, TaskSampler};
use crate::parallel::{Nodes, Peer};
use crate::model::{head_layout, HeadRef, MultiTaskModel};
use crate::objective::Objective;
use crate::schedule::warmup_linear;
use crate::splits::{self, TaskSplit};
use crate::TrainError;

/// Where the model's weights start from.
#[derive(Debug, Clone, PartialEq)]
pub enum Init {
    /// The pretrained encoder in the job's model folder, fresh heads.
    Base,
    /// The encoder of a checkpoint of another run (a pre-finetuned model).
    Checkpoint {
        run_dir: PathBuf,
        checkpoint: PathBuf,
        /// Start from the checkpoint's head where one matches: the same task's head for
        /// classification and regression, the shared head for multiple choice and spans.
        reuse_heads: bool,
    },
}

/// One training run.
pub struct TrainJob<'a> {
    /// Base model folder: `config.json`, `tokenizer.json` (and `model.safetensors` for [`Init::Base`]).
    pub model_dir: &'a Path,
    pub tasks: &'a [LabeledTask],
    /// The tasks that tasks of the mixture are scored on instead of a held-out part of
    /// their own examples ([`muppet_core::SplitPolicy::dev_task`]), e.g. official
    /// validation splits; found by name.
    pub dev_tasks: &'a [LabeledTask],
    pub cfg: &'a TrainConfig,
    pub run: RunId,
    /// Where checkpoints and `run.json` go; `None` keeps nothing on disk.
    pub run_dir: Option<&'a Path>,
    pub init: Init,
    /// Continue from the last checkpoint in `run_dir`.
    pub resume: bool,
    /// Set to stop after the current update, with a checkpoint.
    pub cancel: Option<&'a AtomicBool>,
    /// Set to end the run after the current update as early stopping does (`completed`,
    /// stopped early, its best kept): a sweep's rule stopping a run that fell behind.
    pub stop: Option<&'a AtomicBool>,
    /// Folder of the tokenized cache; `None` tokenizes every time.
    pub cache_dir: Option<&'a Path>,
    /// This process's place in a multi-node run; `None`: the run is on this machine only.
    /// A node other than 0 gets no `run_dir`: node 0 keeps the run.
    pub nodes: Option<&'a Nodes>,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Completed,
    Cancelled,
}

/// What a finished (or cancelled) run reports.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainSummary {
    pub outcome: Outcome,
    /// Updates done.
    pub steps: u64,
    pub examples: u64,
    /// Mean loss of the first and of the last update.
    pub first_loss: f64,
    pub final_loss: f64,
    /// Per task, in mixture order.
    pub tasks: Vec<TaskSummary>,
    /// The last checkpoint written, when a run folder was given.
    pub checkpoint: Option<SavedCheckpoint>,
    /// The step the run was resumed from.
    pub resumed_from: Option<u64>,
    /// The best dev score after training began (see [`crate::best`]); `None` before any.
    pub best: Option<BestDev>,
    /// Early stopping ended the run before its last step (`steps` is where).
    pub stopped_early: bool,
}

/// How one task of the mixture fared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskSummary {
    pub name: String,
    /// The task's dev metric (`accuracy`, `f1`, ...).
    pub metric: String,
    pub train_examples: usize,
    pub dev_examples: usize,
    /// Mean loss of the first and of the last [`LOSS_WINDOW`] micro-batches drawn from the
    /// task (single micro-batches are too noisy to compare).
    #[serde(with = "crate::checkpoint::nan_as_null")]
    pub loss_first: f64,
    #[serde(with = "crate::checkpoint::nan_as_null")]
    pub loss_last: f64,
    /// The losses behind `loss_first` and `loss_last`.
    #[serde(default)]
    pub first_losses: Vec<f64>,
    #[serde(default)]
    pub last_losses: Vec<f64>,
    /// Dev metric with the starting weights, and after training.
    #[serde(with = "crate::checkpoint::nan_as_null")]
    pub dev_before: f64,
    #[serde(with = "crate::checkpoint::nan_as_null")]
    pub dev_after: f64,
}

/// A checkpoint file written by the run.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedCheckpoint {
    pub step: u64,
    pub path: PathBuf,
}

/// Micro-batches averaged into a task's first and last loss.
pub const LOSS_WINDOW: usize = 10;

impl TaskSummary {
    /// Record the loss of one micro-batch drawn from the task.
    fn record_loss(&mut self, loss: f64) {
        if self.first_losses.len() < LOSS_WINDOW {
            self.first_losses.push(loss);
            self.loss_first = mean(&self.first_losses);
        }
        if self.last_losses.len() == LOSS_WINDOW {
            self.last_losses.remove(0);
        }
        self.last_losses.push(loss);
        self.loss_last = mean(&self.last_losses);
    }
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// One task's tokenized items, split.
struct Prepared {
    items: Vec<Item>,
    train: Vec<usize>,
    /// Indices into `items`, or into the items of `scored_on` when the task has one.
    dev: Vec<usize>,
    /// The task's spec with the examples of the task it is scored on, and their items.
    scored_on: Option<(LabeledTask, Vec<Item>)>,
    /// The example ids behind `train` and `dev`, recorded in the run folder.
    split: TaskSplit,
}

impl Prepared {
    /// The task whose examples dev scores (this one, or the one it is scored on), and the
    /// items `dev` indexes.
    fn dev_source<'t>(&'t self, task: &'t LabeledTask) -> (&'t LabeledTask, &'t [Item]) {
        match &self.scored_on {
            Some((dev_task, items)) => (dev_task, items),
            None => (task, &self.items),
        }
    }
}

/// Run `job` on `device`, reporting to `observer`. With `cfg.devices` above 1 the run is
/// data-parallel ([`crate::parallel`]): `device` and the backend's next devices each hold a
/// replica, and `observer` hears from the first.
pub fn train<B: AutodiffBackend>(job: &TrainJob, device: &B::Device, observer: &mut dyn RunObserver) -> Result<TrainSummary, TrainError> {
    let cfg = job.cfg;
    let tasks = job.tasks;
    validate(tasks, cfg)?;
    let dev_tasks = scored_on(tasks, job.dev_tasks)?;
    let node = job.nodes.map_or(0, |n| n.rank as usize);
    if node > 0 && (job.run_dir.is_some() || job.resume) {
        return Err(TrainError::Config(format!("node {node} of a multi-node run keeps no run folder and cannot resume: node 0 keeps the run")));
    }
    let config = muppet_model::EncoderConfig::from_hf_json(&job.model_dir.join(muppet_model::CONFIG_FILE))?;
    let text = TextEncoder::with_doc_stride(&job.model_dir.join("tokenizer.json"), cfg.max_len, cfg.doc_stride)?;
    if text.vocab_size() > config.vocab_size {
        return Err(TrainError::Config(format!(
            "the tokenizer in {} has {} tokens but the model's embeddings have {} rows: they belong to different models",
            job.model_dir.display(),
            text.vocab_size(),
            config.vocab_size
        )));
    }
    let devices = crate::parallel::devices::<B>(device, cfg.devices)?;
    let cache = job.cache_dir.map(TokenCache::new);
    let prepared: Vec<Prepared> = tasks.iter().zip(dev_tasks).map(|(t, dev)| prepare(t, dev, &text, cache.as_ref(), cfg)).collect::<Result<_, _>>()?;
    let specs: Vec<_> = tasks.iter().map(|t| t.spec.clone()).collect();
    let heads = head_layout(&specs);

    B::seed(device, cfg.seed);
    muppet_model::seed_init(cfg.seed); // the heads: the same on every backend
    let mut model = initial_model::<B>(job, &specs, device)?;
    if let Some(dir) = job.run_dir
        && !job.resume
    {
        RunManifest::new(job.model_dir, &specs, cfg.max_len).write(dir)?;
        splits::write(dir, &prepared.iter().map(|p| p.split.clone()).collect::<Vec<_>>())?;
    }
    let new_optimizer = || AdamWConfig::new().with_weight_decay(cfg.weight_decay).init::<B, MultiTaskModel<B>>();
    let mut optim = new_optimizer();
    let sizes: Vec<usize> = prepared.iter().map(|p| p.train.len()).collect();
    let mut sampler = TaskSampler::new(&sizes, cfg.sampling, cfg.cap, cfg.seed);
    if cfg.length_buckets {
        sampler = sampler.with_length_buckets(prepared.iter().map(|p| p.train.iter().map(|&i| p.items[i].max_len()).collect()).collect());
    }
    let mut plan = BatchPlan::new(sampler, cfg.batching, cfg.tasks_per_update, cfg.batch_size, cfg.steps);

    let mut state = ResumeState {
        step: 0,
        examples: 0,
        wall_s: 0.0,
        first_loss: f64::NAN,
        last_loss: f64::NAN,
        tasks: tasks
            .iter()
            .zip(&prepared)
            .map(|(t, p)| TaskSummary {
                name: t.spec.name.clone(),
                metric: t.spec.metric.as_str().to_string(),
                train_examples: p.train.iter().map(|&i| p.items[i].example).collect::<HashSet<_>>().len(),
                dev_examples: p.dev.iter().map(|&i| p.dev_source(t).1[i].example).collect::<HashSet<_>>().len(),
                loss_first: f64::NAN,
                loss_last: f64::NAN,
                first_losses: Vec::new(),
                last_losses: Vec::new(),
                dev_before: f64::NAN,
                dev_after: f64::NAN,
            })
            .collect(),
        best: BestTracker::default(),
    };
    let mut resumed_from = None;
    let mut last_checkpoint = None;
    if job.resume {
        let dir = job.run_dir.ok_or_else(|| TrainError::Config("resuming needs the run folder".into()))?;
        same_splits(job.run, dir, &prepared)?;
        let (m, o, s, path) = checkpoint::load_latest(dir, model, optim, device)?;
        (model, optim, state) = (m, o, s);
        checkpoint::drop_after(dir, state.step)?;
        resumed_from = Some(state.step);
        last_checkpoint = Some(SavedCheckpoint { step: state.step, path });
        for step in 0..state.step {
            plan.update(step);
        }
    }
    let digest = match job.nodes {
        Some(_) => Some(crate::start::run_digest(cfg, &prepared.iter().map(|p| &p.split).collect::<Vec<_>>(), job.model_dir)?),
        None => None,
    };
    let shared = Shared { job, digest, text: &text, prepared: &prepared, heads: &heads, objective: Objective { loss_scale: cfg.loss_scale, regression_scale: cfg.regression_scale, r3f: cfg.r3f } };
    let leader = Leader { observer, resumed_from, last_checkpoint, outcome: Outcome::Completed, keeps_run: node == 0 };
    if cfg.devices == 1 && job.nodes.is_none() {
        let replica = Replica { model, optim, plan, state, device: device.clone() };
        return shared.run(Peer::ALONE, replica, Some(leader)).map(|done| done.expect("the leader reports"));
    }

    // Data-parallel: the replicas are forks of the one model (the same parameter ids, which
    // the gradients' all-reduce pairs by) on their own devices; a resumed run's optimizer
    // moments are read again onto each device.
    let _one_at_a_time = COLLECTIVE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let local = cfg.devices;
    let world = local * job.nodes.map_or(1, |n| n.count as usize);
    let first_rank = node * local;
    let mut followers = Vec::with_capacity(local - 1);
    for (i, device) in devices.iter().enumerate().skip(1) {
        let rank = first_rank + i;
        let forked = model.clone().fork(device);
        let (model, optim) = match (job.resume, job.run_dir) {
            (true, Some(dir)) => {
                let (m, o, _, _) = checkpoint::load_latest(dir, forked, new_optimizer(), device)?;
                (m, o)
            }
            _ => (forked, new_optimizer()),
        };
        followers.push((rank, Replica { model, optim, plan: plan.clone(), state: state.clone(), device: device.clone() }));
    }
    let first = Replica { model, optim, plan, state, device: device.clone() };
    std::thread::scope(|scope| {
        let shared = &shared;
        let handles: Vec<_> = followers.into_iter().map(|(rank, replica)| scope.spawn(move || shared.run(Peer { rank, world, local }, replica, None))).collect();
        let led = shared.run(Peer { rank: first_rank, world, local }, first, Some(leader));
        // A follower's own failure explains the leader's "a peer failed".
        let mut follower_error = None;
        for handle in handles {
            match handle.join() {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => follower_error = follower_error.or(Some(e)),
                Err(panic) => follower_error = follower_error.or(Some(TrainError::Backend(format!("a data-parallel peer crashed: {}", panic_text(&panic))))),
            }
        }
        match (led, follower_error) {
            (Ok(done), _) => Ok(done.expect("the leader reports")),
            (Err(TrainError::PeerFailed), Some(e)) => Err(e),
            (Err(TrainError::PeerFailed), None) if job.nodes.is_some() => {
                Err(TrainError::Backend("a device on another node of this run failed: its node's output says why".into()))
            }
            (Err(e), _) => Err(e),
        }
    })
}

/// One data-parallel run at a time per process: burn-collective keeps one group of peers
/// per backend type.
static COLLECTIVE: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic.downcast_ref::<String>().cloned().or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_else(|| "unknown panic".into())
}

/// What every peer of a run reads.
struct Shared<'a> {
    job: &'a TrainJob<'a>,
    /// What the nodes of a multi-node run check their runs by ([`crate::start::run_digest`]).
    digest: Option<u64>,
    text: &'a TextEncoder,
    prepared: &'a [Prepared],
    heads: &'a [HeadRef],
    objective: Objective,
}

/// A peer's own copy of the training state.
struct Replica<B: AutodiffBackend, O> {
    model: MultiTaskModel<B>,
    optim: O,
    plan: BatchPlan,
    state: ResumeState,
    device: B::Device,
}

/// What only the first peer of a process keeps: the observer, the checkpoints, the outcome.
struct Leader<'o> {
    observer: &'o mut dyn RunObserver,
    /// The first peer of node 0 (of the only node), which evaluates and writes checkpoints;
    /// the first peers of the other nodes report their progress only.
    keeps_run: bool,
    resumed_from: Option<u64>,
    last_checkpoint: Option<SavedCheckpoint>,
    outcome: Outcome,
}

impl Shared<'_> {
    /// Dev metrics of every task with `model`: each task's primary value, and the points.
    fn evaluate_all<B: AutodiffBackend>(&self, model: &MultiTaskModel<B>, device: &B::Device, step: u64, examples: u64, wall_s: f64) -> (Vec<f64>, Vec<MetricPoint>) {
        let valid = model.valid();
        let mut primary = Vec::new();
        let mut points = Vec::new();
        for (t, task) in self.job.tasks.iter().enumerate() {
            let prepared = &self.prepared[t];
            let (source, items) = prepared.dev_source(task);
            let dev: Vec<&Item> = prepared.dev.iter().map(|&i| &items[i]).collect();
            let scores = evaluate(&valid, self.heads[t], source, &dev, self.text.pad_id(), device);
            primary.push(scores[0].1);
            points.extend(scores.into_iter().map(|(metric, value)| MetricPoint {
                task: Some(task.spec.name.clone()),
                split: "dev".into(),
                name: metric.as_str().into(),
                step,
                examples,
                wall_s,
                value,
            }));
        }
        (primary, points)
    }

    /// The micro-batches of update `step` that `peer` owns: their gradients, accumulated,
    /// and each micro-batch's loss and size at its place in the update (zero where another
    /// peer computes it). Stops at a loss that is not finite.
    fn compute<B: AutodiffBackend>(&self, peer: Peer, model: &MultiTaskModel<B>, update: &[MicroBatch], device: &B::Device) -> (GradientsParams, Vec<f64>, Vec<f64>) {
        let tasks = self.job.tasks;
        let k = self.job.cfg.tasks_per_update as f64;
        let mut accumulator = GradientsAccumulator::<MultiTaskModel<B>>::new();
        let mut losses = vec![0.0; update.len()];
        let mut sizes = vec![0.0; update.len()];
        for (j, (task, picks)) in update.iter().enumerate().filter(|(j, _)| peer.owns(*j)) {
            let p = &self.prepared[*task];
            let items: Vec<&Item> = picks.iter().map(|&i| &p.items[p.train[i]]).collect();
            let batch = collate::<B>(tasks[*task].spec.family, tasks[*task].spec.labels.len(), &items, self.text.pad_id(), device);
            sizes[j] = batch.size as f64;
            let loss = self.objective.loss(model, self.heads[*task], batch);
            let value = loss.clone().into_scalar().elem::<f64>();
            losses[j] = value;
            if !value.is_finite() {
                break;
            }
            let grads = GradientsParams::from_grads((loss / k).backward(), model);
            accumulator.accumulate(model, grads);
        }
        (accumulator.grads(), losses, sizes)
    }

    /// Train `replica` as `peer` until the run ends. The leader reports and returns the
    /// summary; the other peers return `None`.
    fn run<B, O>(&self, peer: Peer, replica: Replica<B, O>, mut leader: Option<Leader>) -> Result<Option<TrainSummary>, TrainError>
    where
        B: AutodiffBackend,
        O: Optimizer<MultiTaskModel<B>, B>,
    {
        peer.join::<B>(&replica.device, self.job.nodes)?;
        let result = self.agree_start(peer, replica, leader.as_ref()).and_then(|replica| self.updates(peer, replica, leader.as_mut()));
        peer.leave::<B>();
        let state = result?;
        Ok(leader.map(|leader| {
            match leader.outcome {
                Outcome::Completed => leader.observer.on_event(&RunEvent::Finished { run: self.job.run }),
                Outcome::Cancelled => leader.observer.on_event(&RunEvent::Cancelled { run: self.job.run, step: state.step }),
            }
            TrainSummary {
                outcome: leader.outcome,
                steps: state.step,
                examples: state.examples,
                first_loss: state.first_loss,
                final_loss: state.last_loss,
                tasks: state.tasks,
                checkpoint: leader.last_checkpoint,
                resumed_from: leader.resumed_from,
                best: state.best.best,
                // A completed run ends before its last step only when it stopped early.
                stopped_early: leader.outcome == Outcome::Completed && state.step < self.job.cfg.steps,
            }
        }))
    }

    /// A multi-node run's start ([`crate::start`]): every peer checks its run against node
    /// 0's; when node 0 resumed, or started from a checkpoint, the peers of the other nodes
    /// take its model, optimizer and progress, and their batch plan goes on from its step.
    fn agree_start<B, O>(&self, peer: Peer, replica: Replica<B, O>, leader: Option<&Leader>) -> Result<Replica<B, O>, TrainError>
    where
        B: AutodiffBackend,
        O: Optimizer<MultiTaskModel<B>, B>,
    {
        let Some(digest) = self.digest else { return Ok(replica) };
        let root = peer.rank == 0;
        let sends = root && (leader.is_some_and(|l| l.resumed_from.is_some()) || !matches!(self.job.init, Init::Base));
        let mine: Vec<f64> = if root { crate::parallel::split_u64(digest).to_vec() } else { vec![0.0; 4] };
        let heard = peer.sum::<B>(&[mine, vec![f64::from(u8::from(sends))]].concat(), &replica.device)?;
        let here = crate::parallel::join_u64(&heard) != digest;
        if peer.sum::<B>(&[f64::from(u8::from(here))], &replica.device)?[0] > 0.0 {
            return Err(crate::start::differs(here, peer.rank / peer.local));
        }
        if heard[4] == 0.0 {
            return Ok(replica);
        }
        let Replica { model, optim, mut plan, state, device } = replica;
        // Node 0 sends nothing if it cannot write its start: the others then fail to read it,
        // and every peer hears of a failure below instead of waiting.
        let (bytes, unsent) = match root.then(|| crate::start::encode(&model, &optim, &state)) {
            Some(Ok(bytes)) => (Some(bytes), None),
            Some(Err(e)) => (Some(Vec::new()), Some(e)),
            None => (None, None),
        };
        let bytes = peer.broadcast_bytes::<B>(bytes, &device)?;
        let started = if peer.rank < peer.local {
            // Node 0's peers started from the checkpoint itself.
            unsent.map_or(Ok(Replica { model, optim, plan, state, device: device.clone() }), Err)
        } else {
            crate::start::decode(&bytes, model, optim, &device).map(|(model, optim, state)| {
                for step in 0..state.step {
                    plan.update(step);
                }
                Replica { model, optim, plan, state, device: device.clone() }
            })
        };
        let failed = peer.sum::<B>(&[f64::from(u8::from(started.is_err()))], &device)?[0] > 0.0;
        match started {
            Ok(_) if failed => Err(TrainError::PeerFailed),
            started => started,
        }
    }

    /// The update loop of one peer; returns the state it ended in.
    fn updates<B, O>(&self, peer: Peer, replica: Replica<B, O>, mut leader: Option<&mut Leader>) -> Result<ResumeState, TrainError>
    where
        B: AutodiffBackend,
        O: Optimizer<MultiTaskModel<B>, B>,
    {
        let (job, cfg, tasks) = (self.job, self.job.cfg, self.job.tasks);
        let Replica { mut model, mut optim, mut plan, mut state, device } = replica;
        let start = Instant::now();
        let wall = |state: &ResumeState| state.wall_s + start.elapsed().as_secs_f64();
        if let Some(leader) = leader.as_deref_mut() {
            leader.observer.on_event(&RunEvent::Started { run: job.run, total_steps: cfg.steps });
            if leader.resumed_from.is_none() && leader.keeps_run {
                let (before, points) = self.evaluate_all(&model, &device, 0, 0, 0.0);
                for (s, v) in state.tasks.iter_mut().zip(before) {
                    s.dev_before = v;
                }
                leader.observer.on_event(&RunEvent::Metrics { run: job.run, points });
            }
        }
        // A checkpoint the leader failed to write: the others hear of it at the next update.
        let mut failed: Option<TrainError> = None;
        while state.step < cfg.steps {
            let step = state.step;
            B::seed(&device, step_seed(cfg.seed, step) ^ peer.rank as u64);
            let update = plan.update(step);
            let n = update.len();
            let give_up = |error: TrainError| -> TrainError {
                if peer.world > 1 {
                    let _ = peer.sum::<B>(&[vec![0.0; 2 * n], vec![1.0]].concat(), &device);
                }
                error
            };
            if let Some(error) = failed.take() {
                return Err(give_up(error));
            }
            // A panic while computing (a device out of memory) ends this peer's part; the
            // others learn of it from the sum below instead of waiting for it.
            let computed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.compute(peer, &model, &update, &device)));
            let (grads, mine) = match computed {
                Ok((grads, losses, sizes)) => (grads, [losses, sizes, vec![0.0]].concat()),
                Err(panic) if peer.world > 1 => {
                    return Err(give_up(TrainError::Backend(format!("data-parallel peer {} failed at step {}: {}", peer.rank, step + 1, panic_text(&*panic)))));
                }
                Err(panic) => std::panic::resume_unwind(panic),
            };
            let all = peer.sum::<B>(&mine, &device)?;
            if all[2 * n] > 0.0 {
                return Err(TrainError::PeerFailed);
            }
            let (losses, sizes) = (&all[..n], &all[n..2 * n]);
            if let Some(j) = losses.iter().position(|l| !l.is_finite()) {
                return Err(TrainError::Diverged { step: step + 1, task: tasks[update[j].0].spec.name.clone(), loss: losses[j] });
            }
            let mut grads = peer.sum_grads::<B, _>(&model, grads, &device)?;
            let grad_norm = match cfg.clip_norm {
                Some(max) => crate::clip::clip_global_norm::<B, _>(&model, &mut grads, f64::from(max)),
                None => crate::clip::global_norm::<B, _>(&model, &grads),
            };
            let lr = warmup_linear(cfg.lr, cfg.warmup, cfg.steps, step);
            model = optim.step(lr, model, grads);
            let task_losses: Vec<(usize, f64)> = update.iter().map(|(task, _)| *task).zip(losses.iter().copied()).collect();
            state.examples += sizes.iter().sum::<f64>() as u64;
            let loss = losses.iter().sum::<f64>() / n as f64;
            if step == 0 {
                state.first_loss = loss;
            }
            state.last_loss = loss;
            state.step = step + 1;
            for (t, summary) in state.tasks.iter_mut().enumerate() {
                for &(_, l) in task_losses.iter().filter(|(i, _)| *i == t) {
                    summary.record_loss(l);
                }
            }
            let last_step = state.step == cfg.steps;
            let wall_s = wall(&state);
            // The best before this update's evaluation: its model file is replaced by a new best's.
            let former_best = state.best.best.map(|b| b.step);
            let mut improved = false;
            if let Some(leader) = leader.as_deref_mut() {
                improved = self.report(leader, &model, &mut state, &device, &task_losses, (lr, grad_norm), wall_s);
            }
            // Read once the step is reported, by the first peer of each process: a cancel
            // on any node stops every node. Only the peer that evaluates can stop early; the
            // others hear of it through the same sum.
            let mut cancelled = peer.first_here() && job.cancel.is_some_and(|c| c.load(Ordering::SeqCst));
            let asked = peer.first_here() && job.stop.is_some_and(|s| s.load(Ordering::SeqCst));
            let mut stop = asked || (leader.as_deref().is_some_and(|l| l.keeps_run) && state.best.exhausted(cfg.early_stopping));
            if peer.world > 1 {
                let flags = peer.sum::<B>(&[f64::from(u8::from(cancelled)), f64::from(u8::from(stop))], &device)?;
                (cancelled, stop) = (flags[0] > 0.0, flags[1] > 0.0);
            }
            let ends = (cancelled || stop) && !last_step;
            if let Some(leader) = leader.as_deref_mut()
                && let Err(e) = self.save(leader, &model, &optim, &state, wall_s, ends, improved.then_some(former_best))
            {
                if last_step || ends {
                    return Err(e);
                }
                failed = Some(e);
            }
            if ends {
                if let Some(leader) = leader.as_deref_mut()
                    && cancelled
                {
                    leader.outcome = Outcome::Cancelled;
                }
                break;
            }
        }
        Ok(state)
    }

    /// The leader's report of an update: its metrics, the dev scores when due. Whether the
    /// dev score is the run's best so far.
    #[allow(clippy::too_many_arguments)]
    fn report<B: AutodiffBackend>(
        &self,
        leader: &mut Leader,
        model: &MultiTaskModel<B>,
        state: &mut ResumeState,
        device: &B::Device,
        task_losses: &[(usize, f64)],
        (lr, grad_norm): (f64, f64),
        wall_s: f64,
    ) -> bool {
        let (job, cfg) = (self.job, self.job.cfg);
        let at = |task: Option<&str>, name: &str, value: f64| MetricPoint {
            task: task.map(str::to_string),
            split: "train".into(),
            name: name.into(),
            step: state.step,
            examples: state.examples,
            wall_s,
            value,
        };
        let mut points = vec![at(None, "loss", state.last_loss), at(None, "lr", lr), at(None, "grad_norm", grad_norm)];
        for (t, task) in job.tasks.iter().enumerate() {
            let mine: Vec<f64> = task_losses.iter().filter(|(i, _)| *i == t).map(|(_, l)| *l).collect();
            if !mine.is_empty() {
                points.push(at(Some(&task.spec.name), "loss", mean(&mine)));
            }
        }
        let mut improved = false;
        let mut scored = None;
        if leader.keeps_run && (state.step == cfg.steps || (cfg.eval_every > 0 && state.step.is_multiple_of(cfg.eval_every))) {
            let (values, dev) = self.evaluate_all(model, device, state.step, state.examples, wall_s);
            let score = dev_score(&values);
            improved = state.best.offer(state.step, score, cfg.early_stopping_threshold);
            scored = Some(score);
            for (s, v) in state.tasks.iter_mut().zip(values) {
                s.dev_after = v;
            }
            points.extend(dev);
        }
        leader.observer.on_event(&RunEvent::Metrics { run: job.run, points });
        if let Some(score) = scored {
            leader.observer.on_event(&RunEvent::DevScore { run: job.run, step: state.step, score });
        }
        leader.observer.on_event(&RunEvent::Step { run: job.run, step: state.step, total_steps: cfg.steps });
        improved
    }

    /// The leader's checkpoints: a resumable one at the last step, every `checkpoint_every`
    /// and when the run ends before its last step (cancelled, stopped early); the model of a
    /// new best dev score with `keep_best`, in place of the former best's. `new_best`: this
    /// update's score is the best, and the step of the former best, if any.
    #[allow(clippy::too_many_arguments)]
    fn save<B, O>(&self, leader: &mut Leader, model: &MultiTaskModel<B>, optim: &O, state: &ResumeState, wall_s: f64, ends: bool, new_best: Option<Option<u64>>) -> Result<(), TrainError>
    where
        B: AutodiffBackend,
        O: Optimizer<MultiTaskModel<B>, B>,
    {
        let (job, cfg) = (self.job, self.job.cfg);
        let Some(dir) = job.run_dir else { return Ok(()) };
        let periodic = |step: u64| cfg.checkpoint_every > 0 && step.is_multiple_of(cfg.checkpoint_every);
        let resumable = state.step == cfg.steps || periodic(state.step) || ends;
        let best = new_best.is_some() && cfg.keeps_best();
        let kept_best = state.best.best.filter(|_| cfg.keeps_best()).map(|b| b.step);
        // `pinned`: the best the latest resumable checkpoint remembers, kept for a resume from it.
        let (path, pinned) = if resumable {
            let former = checkpoint::resume_best(dir).filter(|_| cfg.keeps_best());
            let mut saved = state.clone();
            saved.wall_s = wall_s;
            let path = checkpoint::save_resumable(model, optim, &saved, dir)?;
            leader.last_checkpoint = Some(SavedCheckpoint { step: state.step, path: path.clone() });
            // The checkpoint just written remembers the current best.
            if let Some(former) = former.filter(|&p| Some(p) != kept_best) {
                checkpoint::drop_former_best(dir, former, periodic(former), kept_best)?;
            }
            (path, kept_best)
        } else if best {
            (checkpoint::save(model, dir, state.step)?, checkpoint::resume_best(dir).filter(|_| cfg.keeps_best()))
        } else {
            return Ok(());
        };
        if best && let Some(Some(former)) = new_best {
            checkpoint::drop_former_best(dir, former, periodic(former), pinned)?;
        }
        if let Some(keep) = cfg.keep_checkpoints {
            let spare: Vec<u64> = kept_best.into_iter().chain(pinned).collect();
            checkpoint::keep_last_models(dir, keep, &spare)?;
        }
        leader.observer.on_event(&RunEvent::Checkpoint { run: job.run, step: state.step, path: path.display().to_string() });
        Ok(())
    }
}

/// The backend seed of update `step`.
fn step_seed(seed: u64, step: u64) -> u64 {
    seed ^ (step + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// Tokenize a task and split its examples: a seeded dev split per task (its own seed, so
/// adding a task leaves the others' splits alone), then the optional training subset. A task
/// scored on another (`dev`) trains on all its examples and scores a seeded sample of the
/// other's, of the dev size.
fn prepare(task: &LabeledTask, dev: Option<&LabeledTask>, text: &TextEncoder, cache: Option<&TokenCache>, cfg: &TrainConfig) -> Result<Prepared, TrainError> {
    for t in std::iter::once(task).chain(dev) {
        check_labels(t)?;
    }
    let encode = |t: &LabeledTask| match cache {
        Some(cache) => cache.load_or_encode(t, text).map(|(items, _)| items),
        None => text.encode_task(t),
    };
    let items = encode(task)?;
    // The task's own split policy first, then the run's.
    let (dev_size, split_seed) = task.spec.split.resolve(cfg.dev_size, cfg.split_seed.unwrap_or(cfg.seed));
    let split_seed = split_seed ^ fnv1a(&task.spec.name);
    let split = match dev {
        None => train_dev(task.examples.len(), dev_size, split_seed),
        Some(d) => Split { train: (0..task.examples.len()).collect(), dev: sample(d.examples.len(), dev_size, split_seed) },
    };
    let seed = cfg.seed ^ fnv1a(&task.spec.name);
    let mut train_examples = split.train;
    if let Some(n) = cfg.train_size {
        if n > train_examples.len() {
            return Err(TrainError::Config(format!(
                "task `{}` has {} training examples, fewer than the {n} asked for",
                task.spec.name,
                train_examples.len()
            )));
        }
        train_examples.shuffle(&mut rand::rngs::StdRng::seed_from_u64(seed.rotate_left(17)));
        train_examples.truncate(n);
    }
    let train_set: HashSet<usize> = train_examples.iter().copied().collect();
    let dev_set: HashSet<usize> = split.dev.iter().copied().collect();
    let train = (0..items.len()).filter(|&i| train_set.contains(&items[i].example)).collect();
    // Span windows without the answer carry no signal for dev scoring but are still read.
    let in_dev = |items: &[Item]| (0..items.len()).filter(|&i| dev_set.contains(&items[i].example)).collect();
    let (dev_items, scored_on) = match dev {
        None => (in_dev(&items), None),
        Some(d) => {
            let dev_items = encode(d)?;
            // Scored as this task (its head and metric), on the other's examples.
            (in_dev(&dev_items), Some((LabeledTask { spec: task.spec.clone(), examples: d.examples.clone() }, dev_items)))
        }
    };
    train_examples.sort_unstable();
    let split = TaskSplit {
        task: task.spec.name.clone(),
        fingerprint: task_fingerprint(task),
        examples: task.examples.len(),
        split_seed,
        train: train_examples,
        dev: split.dev,
        dev_task: dev.map(|d| splits::DevTask { name: d.spec.name.clone(), fingerprint: task_fingerprint(d), examples: d.examples.len() }),
    };
    Ok(Prepared { items, train, dev: dev_items, scored_on, split })
}

/// A resumed run draws its splits again: they must be the ones it started with
/// (`splits.json`), or its later updates would train and score on other examples than its
/// first. A task whose data (or whose dev task's data) changed since is named, with what to
/// do. Run folders from before `splits.json` are not checked.
fn same_splits(run: RunId, dir: &Path, prepared: &[Prepared]) -> Result<(), TrainError> {
    if !dir.join(splits::SPLITS_FILE).is_file() {
        return Ok(());
    }
    let recorded = splits::read(dir)?;
    let refuse = |task: &str, what: String| {
        Err(TrainError::Config(format!(
            "run {} cannot resume: task `{task}` {what} since the run started, so its next updates would not train on the examples its first did. Start a new run, or import the data it started from again (splits.json in {} records it)",
            run.0,
            dir.display()
        )))
    };
    for now in prepared.iter().map(|p| &p.split) {
        let Some(then) = recorded.iter().find(|r| r.task == now.task) else {
            return refuse(&now.task, "was added to the run".into());
        };
        if then.fingerprint != now.fingerprint {
            return refuse(&now.task, format!("has other data ({} examples, fingerprint {:.12}; it had {}, {:.12})", now.examples, now.fingerprint, then.examples, then.fingerprint));
        }
        if then.dev_task != now.dev_task {
            let name = |d: &Option<splits::DevTask>| d.as_ref().map_or("none (a held-out part of its own)".to_string(), |d| format!("`{}` ({} examples, fingerprint {:.12})", d.name, d.examples, d.fingerprint));
            return refuse(&now.task, format!("is scored on {} where it was scored on {}", name(&now.dev_task), name(&then.dev_task)));
        }
        if then != now {
            return refuse(&now.task, "has another split policy (dev size or split seed)".into());
        }
    }
    Ok(())
}

/// A classification task's labels fit its head.
fn check_labels(task: &LabeledTask) -> Result<(), TrainError> {
    if task.spec.family.is_classification() {
        let n = task.spec.labels.len();
        if let Some((i, l)) = task.examples.iter().enumerate().find_map(|(i, e)| e.label().filter(|&l| l >= n).map(|l| (i, l))) {
            return Err(TrainError::Config(format!(
                "task `{}`, example {}: label index {l} does not fit its head of {n} classes ({})",
                task.spec.name,
                i + 1,
                task.spec.labels.join(", ")
            )));
        }
    }
    Ok(())
}

/// For each task of the mixture, the task it is scored on, if its split policy names one:
/// found among `dev_tasks`, of the same family and (classification) labels.
fn scored_on<'t>(tasks: &[LabeledTask], dev_tasks: &'t [LabeledTask]) -> Result<Vec<Option<&'t LabeledTask>>, TrainError> {
    tasks
        .iter()
        .map(|task| {
            let Some(name) = &task.spec.split.dev_task else { return Ok(None) };
            let this = &task.spec.name;
            let dev = dev_tasks.iter().find(|d| &d.spec.name == name).ok_or_else(|| {
                TrainError::Config(format!("task `{this}` is scored on task `{name}`, which this run was not given: import `{name}` (e.g. `muppet tasks add DATASET --split validation`) or import `{this}` again without --dev-task"))
            })?;
            task.spec.check_scored_on(&dev.spec).map_err(TrainError::Config)?;
            if dev.examples.is_empty() {
                return Err(TrainError::Config(format!("task `{this}` is scored on task `{name}`, which has no examples")));
            }
            Ok(Some(dev))
        })
        .collect()
}

/// The model the run starts from.
fn initial_model<B: AutodiffBackend>(job: &TrainJob, specs: &[muppet_core::TaskSpec], device: &B::Device) -> Result<MultiTaskModel<B>, TrainError> {
    let dropout = job.cfg.head_dropout;
    let mut model = starting_model::<B>(job, specs, dropout, device)?;
    model.encoder.set_mixed_precision(job.cfg.mixed_precision);
    Ok(model)
}

/// The base model, or the checkpoint `job.init` names, with heads for `specs`.
fn starting_model<B: AutodiffBackend>(job: &TrainJob, specs: &[muppet_core::TaskSpec], dropout: f64, device: &B::Device) -> Result<MultiTaskModel<B>, TrainError> {
    match &job.init {
        Init::Base => {
            let (encoder, _) = load_pretrained::<B>(job.model_dir, device)?;
            Ok(MultiTaskModel::new(encoder, specs, dropout, device))
        }
        Init::Checkpoint { run_dir, checkpoint, reuse_heads } => {
            let (source, manifest) = load_checkpoint::<B>(run_dir, checkpoint, device)?;
            let mut model = MultiTaskModel::new(source.encoder.clone(), specs, dropout, device);
            if *reuse_heads {
                for (spec, head) in specs.iter().zip(head_layout(specs)) {
                    let source_task = manifest.task_index(&spec.name);
                    match (head, source_task.map(|i| (manifest.heads[i], &manifest.tasks[i]))) {
                        (HeadRef::Classifier(i), Some((HeadRef::Classifier(j), was))) if was.labels == spec.labels => {
                            model.classifiers[i] = source.classifiers[j].clone();
                        }
                        (HeadRef::Regressor(i), Some((HeadRef::Regressor(j), _))) => model.regressors[i] = source.regressors[j].clone(),
                        (HeadRef::Choice, _) if source.choice.is_some() => model.choice = source.choice.clone(),
                        (HeadRef::Span, _) if source.span.is_some() => model.span = source.span.clone(),
                        _ => {}
                    }
                }
            }
            Ok(model.materialized())
        }
    }
}

fn validate(tasks: &[LabeledTask], cfg: &TrainConfig) -> Result<(), TrainError> {
    if tasks.is_empty() {
        return Err(TrainError::Config("the mixture has no tasks".into()));
    }
    let mut names = HashSet::new();
    for t in tasks {
        if !names.insert(&t.spec.name) {
            return Err(TrainError::Config(format!("task `{}` appears twice in the mixture", t.spec.name)));
        }
        if let Some(why) = t.spec.family.why_not_trained() {
            return Err(TrainError::Config(format!("task `{}`: {why}", t.spec.name)));
        }
        // One to train and one to evaluate, unless another task is evaluated on.
        let scored_here = t.spec.split.dev_task.is_none();
        if t.examples.len() < 1 + usize::from(scored_here) {
            let need = if scored_here { "at least 2 (one to train, one to evaluate)" } else { "at least 1 to train" };
            return Err(TrainError::Config(format!("task `{}` has {} examples; it needs {need}", t.spec.name, t.examples.len())));
        }
        if t.spec.family.is_classification() && t.spec.labels.len() < 2 {
            return Err(TrainError::Config(format!("task `{}` needs at least two labels", t.spec.name)));
        }
        if !t.spec.metric.fits(t.spec.family) {
            return Err(TrainError::Config(format!(
                "task `{}`: the metric {} does not apply to a {} task",
                t.spec.name,
                t.spec.metric.as_str(),
                t.spec.family.as_str()
            )));
        }
    }
    if cfg.tasks_per_update == 0 {
        return Err(TrainError::Config("--tasks-per-update must be at least 1 (it is the number of micro-batches per update)".into()));
    }
    if cfg.devices == 0 {
        return Err(TrainError::Config("--devices must be at least 1".into()));
    }
    if cfg.devices > cfg.tasks_per_update {
        return Err(TrainError::Config(format!(
            "{} devices but {} micro-batches per update: each device computes at least one, so use --tasks-per-update {} or more",
            cfg.devices, cfg.tasks_per_update, cfg.devices
        )));
    }
    if cfg.steps == 0 || cfg.batch_size == 0 {
        return Err(TrainError::Config("steps and batch size must be at least 1".into()));
    }
    if cfg.max_len < 8 {
        return Err(TrainError::Config(format!("--max-len {} is too short; use at least 8 tokens", cfg.max_len)));
    }
    if cfg.early_stopping == Some(0) {
        return Err(TrainError::Config("--early-stopping must be at least 1: the dev evaluations in a row without a better score before the run stops".into()));
    }
    if !(cfg.early_stopping_threshold >= 0.0 && cfg.early_stopping_threshold.is_finite()) {
        return Err(TrainError::Config(format!(
            "--early-stopping-threshold {} must be a number of at least 0: how much a dev score must beat the best to count as an improvement",
            cfg.early_stopping_threshold
        )));
    }
    if cfg.early_stopping_threshold > 0.0 && cfg.early_stopping.is_none() {
        return Err(TrainError::Config("--early-stopping-threshold only applies to early stopping: set --early-stopping N too".into()));
    }
    if cfg.keeps_best() && cfg.eval_every == 0 {
        let what = if cfg.early_stopping.is_some() { "early stopping" } else { "keeping the best checkpoint" };
        return Err(TrainError::Config(format!("{what} compares dev scores during training, but this run evaluates on dev only at its end: set --eval-every N")));
    }
    if cfg.keep_checkpoints == Some(0) {
        return Err(TrainError::Config("--keep-checkpoints must be at least 1: the last checkpoint is the one a resume or a fine-tune starts from".into()));
    }
    if tasks.iter().any(|t| t.spec.family == TaskFamily::Span) && cfg.doc_stride * 2 >= cfg.max_len {
        return Err(TrainError::Config(format!("the doc stride {} must be under half the max length {}", cfg.doc_stride, cfg.max_len)));
    }
    Ok(())
}

/// FNV-1a hash of a task name: a stable per-task seed offset.
fn fnv1a(s: &str) -> u64 {
    fnv1a_extend(FNV_OFFSET, s.as_bytes())
}

/// 64-bit FNV-1a's starting value.
pub(crate) const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a hash `h` carried on over `bytes`.
pub(crate) fn fnv1a_extend(h: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(h, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}
