//! Linear layers initialised as Hugging Face does: weights normal(0, std), bias zero.

use burn::module::Param;
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::tensor::{Tensor, backend::Backend};

/// A `d_in -> d_out` linear layer with normal(0, `std`) weights and a zero bias (HF
/// `_init_weights`); Burn's default is Kaiming-uniform for both.
pub(crate) fn normal_linear<B: Backend>(
    d_in: usize,
    d_out: usize,
    std: f64,
    device: &B::Device,
) -> Linear<B> {
    let mut linear = LinearConfig::new(d_in, d_out)
        .with_initializer(Initializer::Normal { mean: 0.0, std })
        .init(device);
    linear.bias = Some(Param::from_tensor(Tensor::zeros([d_out], device)));
    linear
}
