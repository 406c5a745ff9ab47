//! One post-LayerNorm transformer layer: attention block, then the feed-forward block
//! (HF `BertLayer`, keys `encoder.layer.N.*`).

use burn::module::Module;
use burn::nn::{LayerNorm, LayerNormConfig, Linear};

use crate::dropout::{Dropout, DropoutConfig};
use burn::tensor::{Tensor, backend::Backend};

use crate::attention::Attention;
use crate::linear::{normal_linear, per_token};
use crate::precision::{cast_like, cast_to};
use burn::tensor::FloatDType;
use crate::{EncoderConfig, HiddenAct};

/// Attention, then `output.LayerNorm(x + dropout(output.dense(act(intermediate.dense(x)))))`.
#[derive(Module, Debug)]
pub struct EncoderLayer<B: Backend> {
    /// `encoder.layer.N.attention`.
    pub attention: Attention<B>,
    /// `encoder.layer.N.intermediate`.
    pub intermediate: Intermediate<B>,
    /// `encoder.layer.N.output`.
    pub output: LayerOutput<B>,
}

/// First half of the feed-forward block: `hidden -> intermediate` and the activation.
#[derive(Module, Debug)]
pub struct Intermediate<B: Backend> {
    /// `intermediate.dense`.
    pub dense: Linear<B>,
    #[module(skip)]
    act: HiddenAct,
}

/// Second half of the feed-forward block: `intermediate -> hidden`, residual, LayerNorm.
#[derive(Module, Debug)]
pub struct LayerOutput<B: Backend> {
    /// `output.dense`.
    pub dense: Linear<B>,
    /// `output.LayerNorm`.
    pub layer_norm: LayerNorm<B>,
    dropout: Dropout,
}

impl<B: Backend> EncoderLayer<B> {
    /// Fresh weights for `config`.
    pub fn init(config: &EncoderConfig, device: &B::Device) -> Self {
        let (d, ff, std) = (
            config.hidden_size,
            config.intermediate_size,
            config.init_std(),
        );
        Self {
            attention: Attention::init(config, device),
            intermediate: Intermediate {
                dense: normal_linear(d, ff, std, device),
                act: config.hidden_act,
            },
            output: LayerOutput {
                dense: normal_linear(ff, d, std, device),
                layer_norm: LayerNormConfig::new(d)
                    .with_epsilon(config.layer_norm_eps)
                    .init(device),
                dropout: DropoutConfig::new(config.hidden_dropout_prob).init(),
            },
        }
    }

    /// `x`: `[batch, seq, hidden]`, `mask_bias`: `[batch, 1, 1, seq]`.
    /// `half`: the type of the products under mixed precision (`crate::precision`); the
    /// residual stream, dropout and LayerNorm stay in `x`'s type.
    pub fn forward(&self, x: Tensor<B, 3>, mask_bias: Tensor<B, 4>, half: Option<FloatDType>) -> Tensor<B, 3> {
        let x = self.attention.forward(x, mask_bias, half);
        let h = self
            .intermediate
            .act
            .forward(per_token(&self.intermediate.dense, cast_to(x.clone(), half)));
        let h = self.output.dropout.forward(cast_like(per_token(&self.output.dense, h), &x));
        self.output.layer_norm.forward(h + x)
    }
}
