//! `Encoder`: a BERT/RoBERTa encoder returning the last hidden states.
//!
//! The module tree follows the Hugging Face checkpoint (`embeddings.*`, `encoder.layer.N.*`);
//! `loader.rs` holds the few renames Rust naming needs.

use burn::module::Module;
use burn::tensor::{Int, Tensor, backend::Backend};

use crate::EncoderConfig;
use crate::attention::{bias_for_scores, mask_bias};
use crate::embeddings::Embeddings;
use crate::layer::EncoderLayer;

/// A tokenized batch, every tensor `[batch, seq]`.
#[derive(Debug, Clone)]
pub struct EncoderInput<B: Backend> {
    /// Token ids, padded with `pad_token_id`.
    pub input_ids: Tensor<B, 2, Int>,
    /// Segment ids (0 = first sentence, 1 = second); ignored by single-type models (RoBERTa).
    pub token_type_ids: Tensor<B, 2, Int>,
    /// 1 for a real token, 0 for padding.
    pub attention_mask: Tensor<B, 2, Int>,
}

/// BERT-style encoder: embeddings and `num_hidden_layers` post-LayerNorm transformer layers.
///
/// Dropout is active only on an autodiff backend: run evaluation on the inner backend
/// (`model.valid()`), as Burn does.
#[derive(Module, Debug)]
pub struct Encoder<B: Backend> {
    /// `embeddings.*`.
    pub(crate) embeddings: Embeddings<B>,
    /// `encoder.layer.N.*`.
    pub(crate) layers: Vec<EncoderLayer<B>>,
    d_model: usize,
}

impl EncoderConfig {
    /// A freshly initialised encoder (normal(0, `initializer_range`) weights, as Hugging Face
    /// initialises); use [`crate::load_pretrained`] for pretrained weights.
    pub fn init<B: Backend>(&self, device: &B::Device) -> Encoder<B> {
        Encoder {
            embeddings: Embeddings::init(self, device),
            layers: (0..self.num_hidden_layers)
                .map(|_| EncoderLayer::init(self, device))
                .collect(),
            d_model: self.hidden_size,
        }
    }
}

impl<B: Backend> Encoder<B> {
    /// Last hidden states `[batch, seq, hidden]`. Rows at padded positions are computed but
    /// meaningless; heads read the first token or mask them out.
    pub fn forward(&self, input: EncoderInput<B>) -> Tensor<B, 3> {
        self.forward_with_noise(input, None)
    }

    /// As [`Encoder::forward`], with `noise` `[batch, seq, hidden]` added to the token
    /// embeddings (R3F's perturbation).
    pub fn forward_with_noise(&self, input: EncoderInput<B>, noise: Option<Tensor<B, 3>>) -> Tensor<B, 3> {
        let heads = self.layers.first().map_or(1, |l| l.attention.heads());
        let bias = bias_for_scores(mask_bias(input.attention_mask), heads);
        let mut x = self
            .embeddings
            .forward(input.input_ids, input.token_type_ids, noise);
        for layer in &self.layers {
            x = layer.forward(x, bias.clone());
        }
        x
    }

    /// Width of the hidden states (`hidden_size`).
    pub fn d_model(&self) -> usize {
        self.d_model
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ClassificationHeadConfig, HiddenAct, LossScale, ModelType, scaled_cross_entropy};
    use burn::backend::{Autodiff, Flex};
    use burn::module::AutodiffModule;
    use burn::tensor::TensorData;

    type B = Autodiff<Flex>;

    fn tiny() -> EncoderConfig {
        EncoderConfig::new(
            30,
            16,
            2,
            4,
            32,
            HiddenAct::Gelu,
            12,
            2,
            1e-12,
            0,
            0.1,
            0.1,
            ModelType::Bert,
        )
    }

    fn batch<Be: Backend>(device: &Be::Device) -> EncoderInput<Be> {
        let ints = |d: TensorData| Tensor::<Be, 2, Int>::from_data(d, device);
        EncoderInput {
            input_ids: ints(TensorData::from([[2, 5, 7, 3, 0], [2, 9, 3, 4, 3]])),
            token_type_ids: ints(TensorData::from([[0, 0, 0, 0, 0], [0, 0, 0, 1, 1]])),
            attention_mask: ints(TensorData::from([[1, 1, 1, 1, 0], [1, 1, 1, 1, 1]])),
        }
    }

    #[test]
    fn dropout_is_on_in_training_and_off_in_eval() {
        let device = Default::default();
        let encoder = tiny().init::<B>(&device);
        let a = encoder.forward(batch(&device)).into_data();
        let b = encoder.forward(batch(&device)).into_data();
        assert_ne!(
            a, b,
            "training forward passes should differ through dropout"
        );

        let eval = encoder.valid();
        let a = eval.forward(batch(&device)).into_data();
        let b = eval.forward(batch(&device)).into_data();
        assert_eq!(a, b, "eval forward passes must be deterministic");
    }

    #[test]
    fn gradients_reach_the_embeddings() {
        let device = Default::default();
        let encoder = tiny().init::<B>(&device);
        let head = ClassificationHeadConfig::new(encoder.d_model(), 3).init::<B>(&device);
        let logits = head.forward(encoder.forward(batch(&device)));
        let targets = Tensor::<B, 1, Int>::from_data(TensorData::from([0, 2]), &device);
        let grads = scaled_cross_entropy(logits, targets, LossScale::LogN).backward();
        let g = encoder
            .embeddings
            .word_embeddings
            .weight
            .grad(&grads)
            .expect("word embeddings get a gradient");
        let norm: f32 = g.abs().sum().into_scalar();
        assert!(norm.is_finite() && norm > 0.0, "{norm}");
    }
}
