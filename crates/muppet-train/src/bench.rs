//! The train-step benchmark: forward, backward and one AdamW update of an
//! encoder with a classification head on fixed shapes, timed after warmup.
//! `bench/torch_train_step.py` measures the same step in PyTorch.

use std::time::Instant;

use burn::optim::{AdamWConfig, GradientsParams, Optimizer};
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;
use muppet_data::tokenize::{Item, ItemTarget, TokenSeq};
use muppet_model::{Encoder, EncoderConfig, LossScale, MixedPrecision};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::batch::collate;
use crate::objective::Objective;
use crate::model::{HeadRef, MultiTaskModel};
use muppet_core::TaskFamily;

/// Shapes and repetitions of a benchmark.
#[derive(Debug, Clone, Serialize)]
pub struct TrainStepBench {
    pub batch_size: usize,
    pub max_len: usize,
    /// Timed steps.
    pub steps: usize,
    /// Untimed steps first (allocation, autotuning).
    pub warmup: usize,
    pub seed: u64,
    /// Wait for the device after the forward pass and the backward pass, and time each
    /// part (the waits cost a little: a run with phases reports a slightly slower step).
    pub phases: bool,
    /// bf16 products over f32 weights (`bf16`), or the backend's float type throughout.
    pub mixed_precision: MixedPrecision,
}

/// What a benchmark measured.
#[derive(Debug, Clone, Serialize)]
pub struct TrainStepResult {
    pub examples_per_sec: f64,
    pub tokens_per_sec: f64,
    pub step_ms_mean: f64,
    pub step_ms_min: f64,
    /// Model FLOPs per step (6 x parameters x tokens, plus attention), for MFU.
    pub flops_per_step: f64,
    pub achieved_tflops: f64,
    pub parameters: usize,
    /// The float type the model's weights were created in (`F32`, `BF16`, ...).
    pub float_dtype: String,
    /// The type of the encoder's matrix products: `float_dtype`, or `BF16` under mixed
    /// precision.
    pub compute_dtype: String,
    /// Mean milliseconds of forward, backward and update, when `phases` was asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phases_ms: Option<PhaseTimes>,
}

/// Mean time of each part of a step, in milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct PhaseTimes {
    pub forward: f64,
    pub backward: f64,
    pub update: f64,
}

/// Run the benchmark on `encoder` (pretrained or random) with a 2-class head.
pub fn train_step<B: AutodiffBackend>(mut encoder: Encoder<B>, config: &EncoderConfig, bench: &TrainStepBench, device: &B::Device) -> TrainStepResult {
    encoder.set_mixed_precision(bench.mixed_precision);
    B::seed(device, bench.seed);
    muppet_model::seed_init(bench.seed);
    let task = muppet_core::TaskSpec::new("bench", TaskFamily::Single, vec!["a".into(), "b".into()], "random", "none");
    let mut model = MultiTaskModel::new(encoder, &[task], 0.1, device);
    let parameters = model.num_params();
    let float_dtype = format!("{:?}", model.classifiers[0].dense.weight.val().dtype());
    let compute_dtype = match bench.mixed_precision.compute_dtype() {
        Some(half) => format!("{:?}", burn::tensor::DType::from(half)),
        None => float_dtype.clone(),
    };
    let mut optim = AdamWConfig::new().with_weight_decay(0.01).init();
    let mut rng = StdRng::seed_from_u64(bench.seed);
    let (b, l) = (bench.batch_size, bench.max_len);
    // Token ids avoid the first 1000 ids (specials, padding) of the vocabulary.
    let low = 1000.min(config.vocab_size / 2);
    let items: Vec<Item> = (0..b)
        .map(|i| Item {
            example: i,
            seqs: vec![TokenSeq { ids: (0..l).map(|_| rng.random_range(low..config.vocab_size) as u32).collect(), type_ids: vec![0; l] }],
            target: ItemTarget::Class(rng.random_range(0..2)),
            context_offsets: Vec::new(),
        })
        .collect();
    let items: Vec<&Item> = items.iter().collect();
    let objective = Objective { loss_scale: LossScale::LogN, regression_scale: 1.0, r3f: None };
    let mut times = Vec::with_capacity(bench.steps);
    let mut phases = PhaseTimes::default();
    let wait = |start: Instant| {
        if bench.phases {
            let _ = B::sync(device);
        }
        start.elapsed().as_secs_f64() * 1e3
    };
    for i in 0..bench.warmup + bench.steps {
        let start = Instant::now();
        let batch = collate::<B>(TaskFamily::Single, 2, &items, 0, device);
        let loss = objective.loss(&model, HeadRef::Classifier(0), batch);
        let forward = wait(start);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let backward = wait(start);
        model = optim.step(1e-5, model, grads);
        // Reading a value back waits for the device: the step is done.
        let _ = model.classifiers[0].out_proj.bias.as_ref().map(|b| b.val().sum().into_scalar());
        let total = start.elapsed().as_secs_f64();
        if i >= bench.warmup {
            times.push(total);
            phases.forward += forward;
            phases.backward += backward - forward;
            phases.update += total * 1e3 - backward;
        }
    }
    let mean = times.iter().sum::<f64>() / times.len().max(1) as f64;
    let min = times.iter().copied().fold(f64::INFINITY, f64::min);
    let tokens = (b * l) as f64;
    let h = config.hidden_size as f64;
    let layers = config.num_hidden_layers as f64;
    // Dense layers: 6 FLOPs per parameter per token (forward 2, backward 4), the
    // embeddings excluded (lookups); attention scores and context: 12 * L * h * seq per token.
    let embedding_params = ((config.vocab_size + config.max_position_embeddings + config.type_vocab_size) as f64) * h;
    let dense_params = parameters as f64 - embedding_params;
    let flops_per_step = 6.0 * dense_params * tokens + 12.0 * layers * h * l as f64 * tokens;
    TrainStepResult {
        examples_per_sec: b as f64 / mean,
        tokens_per_sec: tokens / mean,
        step_ms_mean: mean * 1e3,
        step_ms_min: min * 1e3,
        flops_per_step,
        achieved_tflops: flops_per_step / mean / 1e12,
        parameters,
        float_dtype,
        compute_dtype,
        phases_ms: bench.phases.then(|| {
            let n = times.len().max(1) as f64;
            PhaseTimes { forward: phases.forward / n, backward: phases.backward / n, update: phases.update / n }
        }),
    }
}

/// What the real-data mixture benchmark measured.
#[derive(Debug, Clone, Serialize)]
pub struct MixtureResult {
    /// Training examples per second over the timed updates.
    pub examples_per_sec: f64,
    pub examples: u64,
    pub seconds: f64,
}

/// Times updates `warmup + 1 ..= steps` of a real pre-finetuning run (the training loop
/// itself: sampling, batching, forward, backward, update) and counts their examples.
pub struct MixtureClock {
    warmup: u64,
    start: Option<(Instant, u64)>,
    last: Option<(Instant, u64)>,
}

impl MixtureClock {
    pub fn new(warmup: u64) -> Self {
        Self { warmup, start: None, last: None }
    }

    /// Examples per second between the end of the warmup and the last update.
    pub fn result(&self) -> Option<MixtureResult> {
        let ((t0, e0), (t1, e1)) = (self.start?, self.last?);
        let seconds = (t1 - t0).as_secs_f64();
        let examples = e1 - e0;
        Some(MixtureResult { examples_per_sec: examples as f64 / seconds, examples, seconds })
    }
}

impl muppet_core::RunObserver for MixtureClock {
    fn on_event(&mut self, event: &muppet_core::RunEvent) {
        if let muppet_core::RunEvent::Metrics { points, .. } = event
            && let Some(p) = points.iter().find(|p| p.split == "train" && p.name == "loss" && p.task.is_none())
        {
            let now = (Instant::now(), p.examples);
            if p.step == self.warmup {
                self.start = Some(now);
            } else if p.step > self.warmup {
                self.last = Some(now);
            }
        }
    }
}
