//! Multi-head self-attention with its output projection and post-LayerNorm
//! (HF `BertAttention`, keys `encoder.layer.N.attention.*`).

use burn::module::Module;
use burn::nn::{LayerNorm, LayerNormConfig, Linear};

use crate::dropout::{Dropout, DropoutConfig};
use burn::tensor::{Tensor, activation::softmax, backend::Backend};

use crate::EncoderConfig;
use crate::linear::{normal_linear, per_token};
use crate::precision::{cast_like, cast_to};
use burn::tensor::FloatDType;

/// Score given to padded keys before the softmax. Finite so that a row with no real key
/// stays finite, large enough that `exp` of it is exactly 0 in f32 (BERT's original value).
const MASKED_SCORE: f32 = -10_000.0;

/// Attention block: self-attention, then `output` (dense, dropout, residual, LayerNorm).
#[derive(Module, Debug)]
pub struct Attention<B: Backend> {
    /// `attention.self`.
    pub self_attention: SelfAttention<B>,
    /// `attention.output`.
    pub output: AttentionOutput<B>,
}

/// Query, key and value projections and the scaled dot-product (HF `BertSelfAttention`).
#[derive(Module, Debug)]
pub struct SelfAttention<B: Backend> {
    /// `attention.self.query`.
    pub query: Linear<B>,
    /// `attention.self.key`.
    pub key: Linear<B>,
    /// `attention.self.value`.
    pub value: Linear<B>,
    dropout: Dropout,
    n_heads: usize,
}

/// Output projection of the attention with residual and LayerNorm (HF `BertSelfOutput`).
#[derive(Module, Debug)]
pub struct AttentionOutput<B: Backend> {
    /// `attention.output.dense`.
    pub dense: Linear<B>,
    /// `attention.output.LayerNorm`.
    pub layer_norm: LayerNorm<B>,
    dropout: Dropout,
}

impl<B: Backend> Attention<B> {
    /// Fresh weights for `config`.
    pub fn init(config: &EncoderConfig, device: &B::Device) -> Self {
        let d = config.hidden_size;
        let std = config.init_std();
        Self {
            self_attention: SelfAttention {
                query: normal_linear(d, d, std, device),
                key: normal_linear(d, d, std, device),
                value: normal_linear(d, d, std, device),
                dropout: DropoutConfig::new(config.attention_probs_dropout_prob).init(),
                n_heads: config.num_attention_heads,
            },
            output: AttentionOutput {
                dense: normal_linear(d, d, std, device),
                layer_norm: LayerNormConfig::new(d)
                    .with_epsilon(config.layer_norm_eps)
                    .init(device),
                dropout: DropoutConfig::new(config.hidden_dropout_prob).init(),
            },
        }
    }

    /// `x`: `[batch, seq, hidden]`; `mask_bias`: `[batch, 1, 1, seq]` (0 for real keys,
    /// [`MASKED_SCORE`] for padding), see [`mask_bias`].
    pub fn forward(&self, x: Tensor<B, 3>, mask_bias: Tensor<B, 4>, half: Option<FloatDType>) -> Tensor<B, 3> {
        let context = self.self_attention.forward(x.clone(), mask_bias, half);
        let projected = self
            .output
            .dropout
            .forward(cast_like(per_token(&self.output.dense, context), &x));
        self.output.layer_norm.forward(projected + x)
    }
}

impl<B: Backend> SelfAttention<B> {
    /// `half`: the type of the products under mixed precision (`crate::precision`).
    fn forward(&self, x: Tensor<B, 3>, mask_bias: Tensor<B, 4>, half: Option<FloatDType>) -> Tensor<B, 3> {
        let x = cast_to(x, half);
        let [batch, seq, hidden] = x.dims();
        let head = hidden / self.n_heads;
        // [batch, seq, hidden] -> [batch, heads, seq, head]
        let split = |t: Tensor<B, 3>| t.reshape([batch, seq, self.n_heads, head]).swap_dims(1, 2);
        // The 1/sqrt(head) scale goes on the queries, a quarter of the size of the scores
        // at length 128 (one elementwise pass less over [batch, heads, seq, seq], forward
        // and backward).
        let q = split(per_token(&self.query, x.clone()) * (1.0 / (head as f64).sqrt()));
        let k = split(per_token(&self.key, x.clone()));
        let v = split(per_token(&self.value, x));

        // The mask bias, softmax and dropout in the mask's (f32) type, as autocast does.
        let scores = cast_like(q.matmul(k.swap_dims(2, 3)), &mask_bias) + mask_bias;
        let probs = cast_to(self.dropout.forward(softmax(scores, 3)), half);
        probs
            .matmul(v)
            .swap_dims(1, 2)
            .reshape([batch, seq, hidden])
    }
}

/// The attention bias broadcast to the scores' shape `[batch, heads, seq, seq]` once per
/// forward pass, on host backends: Burn's CPU backend adds a `[batch, 1, 1, seq]` bias to
/// each layer's scores element by element through strided indexing, while two contiguous
/// tensors of the same shape add with SIMD. Device backends broadcast for free and get
/// the bias unchanged.
pub(crate) fn bias_for_scores<B: Backend>(bias: Tensor<B, 4>, heads: usize) -> Tensor<B, 4> {
    if !crate::dropout::on_host::<B>(&bias.device()) {
        return bias;
    }
    let [batch, _, _, seq] = bias.dims();
    // Reshaping the broadcast view copies it into a contiguous buffer.
    bias.expand([batch, heads, seq, seq]).reshape([batch * heads * seq * seq]).reshape([batch, heads, seq, seq])
}

impl<B: Backend> Attention<B> {
    /// Number of attention heads.
    pub(crate) fn heads(&self) -> usize {
        self.self_attention.n_heads
    }
}

/// Additive attention bias `[batch, 1, 1, seq]` from a `[batch, seq]` mask that is 1 for real
/// tokens and 0 for padding; broadcast over heads and query positions.
pub fn mask_bias<B: Backend>(attention_mask: Tensor<B, 2, burn::tensor::Int>) -> Tensor<B, 4> {
    let padding = attention_mask.equal_elem(0).float();
    (padding * MASKED_SCORE).unsqueeze_dims(&[1, 2])
}
