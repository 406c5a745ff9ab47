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
use crate::precision::MixedPrecision;

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
    #[module(skip)]
    mixed: MixedPrecision,
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
            mixed: MixedPrecision::No,
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
            x = layer.forward(x, bias.clone(), self.mixed.compute_dtype());
        }
        x
    }

    /// Compute the layers' matrix products in bf16 over f32 weights, or not
    /// (`crate::precision`). The weights keep their type either way.
    pub fn set_mixed_precision(&mut self, mixed: MixedPrecision) {
        self.mixed = mixed;
    }

    /// Width of the hidden states (`hidden_size`).
    pub fn d_model(&self) -> usize {
        self.d_model
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ClassificationHeadConfig, HiddenAct, LossScale, MixedPrecision, ModelType, scaled_cross_entropy};
    use burn::backend::{Autodiff, Flex};
    use burn::module::{AutodiffModule, Module};
    use burn::tensor::TensorData;

    type B = Autodiff<Flex>;

    fn tiny() -> EncoderConfig {
        tiny_with_dropout(0.1)
    }

    fn tiny_with_dropout(p: f64) -> EncoderConfig {
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
            p,
            p,
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

    /// Loss and the gradients of three parameters (a layer's query and feed-forward
    /// weights, the word embeddings) of one forward/backward pass.
    fn loss_and_grads(encoder: &Encoder<B>, device: &burn::tensor::Device<B>) -> (f32, Vec<Tensor<Flex, 2>>) {
        B::seed(device, 5);
        crate::seed_init(5);
        let head = ClassificationHeadConfig::new(encoder.d_model(), 3).init::<B>(device);
        let logits = head.forward(encoder.forward(batch(device)));
        let targets = Tensor::<B, 1, Int>::from_data(TensorData::from([0, 2]), device);
        let loss = scaled_cross_entropy(logits, targets, LossScale::LogN);
        let value: f32 = loss.clone().into_scalar();
        let grads = loss.backward();
        let layer = &encoder.layers[1];
        let grads = [
            layer.attention.self_attention.query.weight.grad(&grads),
            layer.intermediate.dense.weight.grad(&grads),
            encoder.embeddings.word_embeddings.weight.grad(&grads),
        ];
        (value, grads.into_iter().map(|g| g.expect("every parameter gets a gradient")).collect())
    }

    #[test]
    fn mixed_precision_computes_in_bf16_over_f32_weights_and_gradients() {
        use burn::tensor::DType;
        let device = Default::default();
        // No dropout: both passes compute the same function. The weights are drawn
        // before cloning (a clone of a fresh module would draw its lazy weights again).
        let fresh = tiny_with_dropout(0.0).init::<B>(&device);
        let f32_encoder = fresh.clone().load_record(fresh.into_record());
        let mut mixed = f32_encoder.clone();
        mixed.set_mixed_precision(MixedPrecision::Bf16);

        let a = f32_encoder.valid().forward(batch(&device));
        let b = mixed.valid().forward(batch(&device));
        assert_eq!(b.dtype(), DType::F32, "the encoder's output (after LayerNorm) is f32");
        let diff: f32 = (a.clone() - b).abs().max().into_scalar();
        // bf16 keeps 8 significant bits (relative step 2^-8 = 3.9e-3). With this model's
        // small weights (std 0.02) the products add about 1e-4 to the LayerNorm-scaled
        // output; 2e-3 is a step of bf16 rounding on an O(1) value.
        assert!(diff > 0.0, "the products ran in bf16, so the output differs from f32");
        assert!(diff < 2e-3, "max |f32 - mixed| = {diff}");

        let (loss_a, grads_a) = loss_and_grads(&f32_encoder, &device);
        let (loss_b, grads_b) = loss_and_grads(&mixed, &device);
        assert!((loss_a - loss_b).abs() < 1e-3 * loss_a.abs(), "loss {loss_a} vs {loss_b}");
        for (i, (ga, gb)) in grads_a.into_iter().zip(grads_b).enumerate() {
            assert_eq!(gb.dtype(), DType::F32, "gradient {i} reaches the f32 master weight in f32");
            let dot: f32 = (ga.clone() * gb.clone()).sum().into_scalar();
            let na: f32 = ga.clone().powf_scalar(2.0).sum().sqrt().into_scalar();
            let nb: f32 = gb.powf_scalar(2.0).sum().sqrt().into_scalar();
            let cosine = dot / (na * nb);
            assert!(na > 0.0 && cosine > 0.999, "gradient {i}: cosine {cosine} between f32 and mixed");
            assert!((na - nb).abs() < 0.01 * na, "gradient {i}: norms {na} and {nb}");
        }
        assert_eq!(mixed.layers[0].attention.self_attention.query.weight.val().dtype(), DType::F32, "weights stay f32");
    }
}
