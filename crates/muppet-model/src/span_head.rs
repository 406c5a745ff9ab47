//! `SpanHead`: the one extractive reading-comprehension head shared by every span task
//! (Muppet §2.2), shaped like Hugging Face's `qa_outputs` (`d_model -> 2`).

use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::{Tensor, backend::Backend};

use crate::linear::{head_linear, per_token};

/// Start and end logits per token.
#[derive(Module, Debug)]
pub struct SpanHead<B: Backend> {
    /// `qa_outputs`: `d_model -> 2` (start, end).
    pub qa_outputs: Linear<B>,
}

impl<B: Backend> SpanHead<B> {
    /// A fresh head: normal(0, 0.02) weights, zero bias.
    pub fn new(d_model: usize, device: &B::Device) -> Self {
        Self { qa_outputs: head_linear(d_model, 2, 0.02, device) }
    }

    /// `(start, end)` logits `[batch, seq]` from hidden states `[batch, seq, d_model]`.
    /// Positions outside the passage are masked by the caller.
    pub fn forward(&self, hidden: Tensor<B, 3>) -> (Tensor<B, 2>, Tensor<B, 2>) {
        let [batch, seq, _] = hidden.dims();
        let logits = per_token(&self.qa_outputs, hidden);
        let start = logits.clone().narrow(2, 0, 1).reshape([batch, seq]);
        let end = logits.narrow(2, 1, 1).reshape([batch, seq]);
        (start, end)
    }
}
