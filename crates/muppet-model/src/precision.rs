//! Mixed-precision training: the encoder's matrix products and the activations between
//! them in bf16, with f32 master weights, optimizer state and gradients.
//!
//! What runs in which type follows PyTorch's `autocast(dtype=torch.bfloat16)` on a BERT
//! layer:
//!
//! | op | type |
//! | --- | --- |
//! | embeddings, their LayerNorm | f32 |
//! | Q, K, V, attention output, feed-forward linears (weights cast per forward) | bf16 |
//! | `q k^T` and `probs v` | bf16 |
//! | mask bias, softmax, attention dropout | f32 |
//! | GELU | bf16 |
//! | hidden dropout, residual add, LayerNorm | f32 |
//! | task heads and losses | f32 |
//!
//! The parameters stay f32: each linear casts its weight and bias to bf16 as it runs,
//! and autodiff casts their gradients back to f32 (Burn 0.21 differentiates `cast`), so
//! the optimizer updates f32 weights from f32 gradients. bf16 keeps f32's exponent range,
//! so no loss scaling is needed; f16 would need dynamic loss scaling, which is not
//! implemented, and is not offered.

use std::fmt;
use std::str::FromStr;

use burn::tensor::{FloatDType, Tensor, backend::Backend};
use serde::{Deserialize, Serialize};

/// Whether the encoder computes its matrix products in bf16 (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MixedPrecision {
    /// Everything in the backend's float type.
    #[default]
    No,
    /// bf16 matrix products and activations, f32 weights, normalizations and losses.
    Bf16,
}

impl MixedPrecision {
    /// The type the matrix products run in; `None`: the backend's own.
    pub fn compute_dtype(self) -> Option<FloatDType> {
        match self {
            MixedPrecision::No => None,
            MixedPrecision::Bf16 => Some(FloatDType::BF16),
        }
    }
}

impl fmt::Display for MixedPrecision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MixedPrecision::No => "no",
            MixedPrecision::Bf16 => "bf16",
        })
    }
}

impl FromStr for MixedPrecision {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "no" => Ok(MixedPrecision::No),
            "bf16" => Ok(MixedPrecision::Bf16),
            "f16" | "fp16" => Err("mixed precision in f16 needs loss scaling, which muppet does not implement: use `bf16`".into()),
            other => Err(format!("unknown mixed precision `{other}`: expected `no` or `bf16`")),
        }
    }
}

/// `t` in `dtype` (`None`: unchanged).
pub(crate) fn cast_to<B: Backend, const D: usize>(t: Tensor<B, D>, dtype: Option<FloatDType>) -> Tensor<B, D> {
    match dtype {
        Some(d) if FloatDType::from(t.dtype()) != d => t.cast(d),
        _ => t,
    }
}

/// `t` in the float type of `like`.
pub(crate) fn cast_like<B: Backend, const D: usize, const E: usize>(t: Tensor<B, D>, like: &Tensor<B, E>) -> Tensor<B, D> {
    if t.dtype() == like.dtype() { t } else { t.cast(FloatDType::from(like.dtype())) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_the_accelerate_spelling() {
        for m in [MixedPrecision::No, MixedPrecision::Bf16] {
            assert_eq!(m.to_string().parse::<MixedPrecision>(), Ok(m));
            assert_eq!(serde_json::to_string(&m).expect("json"), format!("\"{m}\""));
        }
        assert!("fp16".parse::<MixedPrecision>().expect_err("f16").contains("loss scaling"));
        assert!("half".parse::<MixedPrecision>().expect_err("unknown").contains("expected `no` or `bf16`"));
        assert_eq!(MixedPrecision::default().compute_dtype(), None);
        assert_eq!(MixedPrecision::Bf16.compute_dtype(), Some(FloatDType::BF16));
    }
}
