//! The feed-forward activation named by `hidden_act` in a Hugging Face config.

use burn::tensor::{Tensor, activation, backend::Backend};
use serde::{Deserialize, Serialize};

/// Activation of the intermediate (feed-forward) layer, spelled as in `config.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum HiddenAct {
    /// Exact GELU, `x * Φ(x)` with the error function (HF `"gelu"`, BERT and RoBERTa).
    #[serde(rename = "gelu")]
    Gelu,
    /// Tanh approximation of GELU (HF `"gelu_new"` and `"gelu_pytorch_tanh"`).
    #[serde(rename = "gelu_new", alias = "gelu_pytorch_tanh")]
    GeluTanh,
    /// Rectified linear unit (HF `"relu"`).
    #[serde(rename = "relu")]
    Relu,
}

impl HiddenAct {
    /// Apply the activation element-wise.
    pub fn forward<B: Backend, const D: usize>(self, x: Tensor<B, D>) -> Tensor<B, D> {
        match self {
            Self::Gelu => activation::gelu(x),
            Self::GeluTanh => activation::gelu_approximate(x),
            Self::Relu => activation::relu(x),
        }
    }
}
