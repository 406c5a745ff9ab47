//! The multi-task model: one shared encoder, one classification head per task.

use burn::prelude::*;
use muppet_model::{ClassificationHead, ClassificationHeadConfig, Encoder, EncoderInput};

/// Shared encoder plus per-task heads (Muppet: one classification head per dataset).
#[derive(Module, Debug)]
pub struct MultiTaskModel<B: Backend> {
    pub encoder: Encoder<B>,
    pub heads: Vec<ClassificationHead<B>>,
}

impl<B: Backend> MultiTaskModel<B> {
    /// Wrap `encoder` with fresh heads of `n_classes[i]` outputs.
    pub fn new(encoder: Encoder<B>, n_classes: &[usize], dropout: f64, device: &B::Device) -> Self {
        let d_model = encoder.d_model();
        let heads = n_classes
            .iter()
            .map(|&n| ClassificationHeadConfig::new(d_model, n).with_dropout(dropout).init(device))
            .collect();
        Self { encoder, heads }
    }

    /// Logits of task `task` for a batch.
    pub fn forward(&self, task: usize, input: EncoderInput<B>) -> Tensor<B, 2> {
        let hidden = self.encoder.forward(input);
        self.heads[task].forward(hidden)
    }
}
