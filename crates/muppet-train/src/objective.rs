//! The loss of one micro-batch through its task's head (MUPPET.md, "Task families and
//! heads", "Loss scaling", "Regularization"):
//! - classification: cross-entropy, scaled by `1 / ln(classes)`;
//! - regression: mean squared error, never log-scaled (it has no number of outcomes),
//!   multiplied by `regression_scale` (1 by default);
//! - multiple choice: cross-entropy over the example's choices, scaled by `1 / ln(choices)`;
//! - span: mean of the start and end cross-entropies over the candidate positions (the
//!   passage tokens and the first token), scaled by `1 / ln(candidates)`;
//! - R3F (classification heads): plus `lambda * symmetric KL` between the predictions on
//!   clean and on noised token embeddings.

use burn::prelude::*;
use burn::tensor::Distribution;
use muppet_model::{cross_entropy_per_example, mean_squared_error, symmetric_kl, weighted_mean, LossScale};
use serde::{Deserialize, Serialize};

use crate::batch::{Batch, BatchTarget};
use crate::model::{HeadRef, MultiTaskModel};

/// Noise R3F adds to the token embeddings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoiseKind {
    /// Uniform on `[-eps, eps]` (the paper's default).
    #[default]
    Uniform,
    /// Normal with standard deviation `eps`.
    Normal,
}

/// R3F settings (Aghajanyan et al. 2020).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct R3f {
    pub lambda: f64,
    pub eps: f64,
    pub noise: NoiseKind,
}

impl Default for R3f {
    fn default() -> Self {
        Self { lambda: 1.0, eps: 1e-5, noise: NoiseKind::Uniform }
    }
}

/// How losses are formed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Objective {
    pub loss_scale: LossScale,
    pub regression_scale: f64,
    pub r3f: Option<R3f>,
}

impl Objective {
    /// The scalar loss of `batch` through `head`.
    pub fn loss<B: Backend>(&self, model: &MultiTaskModel<B>, head: HeadRef, batch: Batch<B>) -> Tensor<B, 1> {
        let device = batch.input.input_ids.device();
        let factors = |ns: &[usize]| {
            let f: Vec<f32> = ns.iter().map(|&n| self.loss_scale.factor(n) as f32).collect();
            Tensor::<B, 1>::from_data(TensorData::new(f, [ns.len()]), &device)
        };
        let input = batch.input;
        match batch.target {
            BatchTarget::Class { targets, n_classes } => {
                let hidden = model.encode(input.clone());
                let logits = model.first_token_head(head, hidden);
                let ce = cross_entropy_per_example(logits.clone(), targets, None).mean() * self.loss_scale.factor(n_classes);
                match self.r3f {
                    None => ce,
                    Some(r3f) => {
                        let [b, s] = input.input_ids.dims();
                        let d = model.encoder.d_model();
                        let distribution = match r3f.noise {
                            NoiseKind::Uniform => Distribution::Uniform(-r3f.eps, r3f.eps),
                            NoiseKind::Normal => Distribution::Normal(0.0, r3f.eps),
                        };
                        let noise = Tensor::random([b, s, d], distribution, &device);
                        let noisy = model.first_token_head(head, model.encoder.forward_with_noise(input, Some(noise)));
                        ce + symmetric_kl(logits, noisy) * r3f.lambda
                    }
                }
            }
            BatchTarget::Value { targets } => {
                let size = targets.dims()[0];
                let predictions = model.first_token_head(head, model.encode(input)).reshape([size]);
                mean_squared_error(predictions, targets) * self.regression_scale
            }
            BatchTarget::Choice { targets, bias, k, n_choices } => {
                let scores = model.first_token_head(HeadRef::Choice, model.encode(input)).reshape([n_choices.len(), k]);
                weighted_mean(cross_entropy_per_example(scores, targets, Some(bias)), factors(&n_choices))
            }
            BatchTarget::Span { start, end, bias, n_positions } => {
                let (s, e) = model.span_logits(model.encode(input));
                let f = factors(&n_positions);
                let ls = weighted_mean(cross_entropy_per_example(s, start, Some(bias.clone())), f.clone());
                let le = weighted_mean(cross_entropy_per_example(e, end, Some(bias)), f);
                (ls + le) / 2.0
            }
        }
    }
}
