//! Linear layers initialised as Hugging Face does: weights normal(0, std), bias zero.
//!
//! Task heads draw their weights on the host from a generator of this crate, seeded by
//! [`seed_init`], rather than from the backend's own generator: one seed then gives the
//! same initial heads on every backend, so a CUDA run starts from the same weights as
//! the CPU run it is compared with. Encoder layers, which a pretrained checkpoint
//! overwrites, keep the backend's generator (fast on the device).

use std::cell::Cell;

use burn::module::Param;
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::tensor::{Tensor, TensorData, backend::Backend};

thread_local! {
    /// State of this thread's host generator: each fresh layer takes the next seed from it.
    static INIT_STATE: Cell<u64> = const { Cell::new(0x853c_49e6_748f_ea9b) };
}

/// Seed the generator that draws the weights of the task heads this thread creates next.
pub fn seed_init(seed: u64) {
    INIT_STATE.with(|s| s.set(splitmix(seed ^ 0x853c_49e6_748f_ea9b)));
}

fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// `n` draws of normal(0, `std`) from the host generator.
pub(crate) fn host_normal(n: usize, std: f64) -> Vec<f32> {
    let seed = INIT_STATE.with(|s| {
        let seed = s.get();
        s.set(seed.wrapping_add(0x9e37_79b9_7f4a_7c15));
        seed
    });
    normal_stream(seed, n, std)
}

/// `n` draws of normal(0, `std`) from the stream of `seed` (Box-Muller on splitmix64).
fn normal_stream(seed: u64, n: usize, std: f64) -> Vec<f32> {
    let mut state = splitmix(seed);
    let mut uniform = || {
        state = splitmix(state);
        // 53 random bits in (0, 1]: the logarithm below stays finite.
        ((state >> 11) as f64 + 1.0) / (1u64 << 53) as f64
    };
    let mut out = Vec::with_capacity(n + 1);
    while out.len() < n {
        let (u1, u2) = (uniform(), uniform());
        let r = (-2.0 * u1.ln()).sqrt() * std;
        let theta = std::f64::consts::TAU * u2;
        out.push((r * theta.cos()) as f32);
        out.push((r * theta.sin()) as f32);
    }
    out.truncate(n);
    out
}

/// `linear` applied to every token of `x` `[batch, seq, d_in]`, as one `[batch * seq, d_in]`
/// matrix. Burn's backward of a rank-3 linear computes the weight gradient as `batch`
/// separate `[d_in, d_out]` products and then sums them (a `[batch, d_in, d_out]` buffer:
/// 38 MB for a MiniLM feed-forward weight at batch 16); in rank 2 it is one product.
pub(crate) fn per_token<B: Backend>(linear: &Linear<B>, x: Tensor<B, 3>) -> Tensor<B, 3> {
    let [batch, seq, d_in] = x.dims();
    let dtype = x.dtype();
    let x = x.reshape([batch * seq, d_in]);
    let y = if linear.weight.val().dtype() == dtype {
        linear.forward(x)
    } else {
        // Mixed precision: f32 master weights cast to the input's type for this product;
        // autodiff casts their gradients back.
        let dtype = burn::tensor::FloatDType::from(dtype);
        burn::tensor::module::linear(x, linear.weight.val().cast(dtype), linear.bias.as_ref().map(|b| b.val().cast(dtype)))
    };
    let d_out = y.dims()[1];
    y.reshape([batch, seq, d_out])
}

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

/// [`normal_linear`] with the weights drawn on the host ([`seed_init`]): the same on every
/// backend.
pub(crate) fn head_linear<B: Backend>(
    d_in: usize,
    d_out: usize,
    std: f64,
    device: &B::Device,
) -> Linear<B> {
    let mut linear = LinearConfig::new(d_in, d_out).with_initializer(Initializer::Zeros).init(device);
    let weight = TensorData::new(host_normal(d_in * d_out, std), [d_in, d_out]);
    linear.weight = Param::from_tensor(Tensor::from_data(weight, device));
    linear.bias = Some(Param::from_tensor(Tensor::zeros([d_out], device)));
    linear
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_draws_are_normal_and_repeat_with_the_seed() {
        let a = normal_stream(7, 200_000, 0.02);
        assert_eq!(a, normal_stream(7, 200_000, 0.02));
        assert_ne!(a[..100], normal_stream(8, 100, 0.02)[..]);
        assert_eq!(normal_stream(7, 5, 0.02)[..], a[..5], "a shorter draw is a prefix");
        let n = a.len() as f64;
        let mean = a.iter().map(|&x| x as f64).sum::<f64>() / n;
        let var = a.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n;
        // Standard errors: 0.02 / sqrt(n) = 4.5e-5 for the mean, ~3e-3 relative for the std.
        assert!(mean.abs() < 2.5e-4, "mean {mean}");
        assert!((var.sqrt() / 0.02 - 1.0).abs() < 0.01, "std {}", var.sqrt());
        let within_one = a.iter().filter(|&&x| (x as f64).abs() < 0.02).count() as f64 / n;
        assert!((within_one - 0.6827).abs() < 0.005, "P(|x| < std) = {within_one}");
    }

    #[test]
    fn fresh_layers_follow_the_init_seed_not_the_backend_generator() {
        type B = burn::backend::Flex;
        let device = Default::default();
        let layer = |backend_seed: u64, init_seed: u64| {
            B::seed(&device, backend_seed);
            seed_init(init_seed);
            let first = head_linear::<B>(6, 4, 0.02, &device);
            let second = head_linear::<B>(6, 4, 0.02, &device);
            (first.weight.val().into_data(), second.weight.val().into_data())
        };
        let (a1, a2) = layer(1, 9);
        let (b1, b2) = layer(2, 9);
        assert_eq!(a1, b1, "another backend seed, the same weights");
        assert_eq!(a2, b2);
        assert_ne!(a1, a2, "each layer draws its own values");
        assert_ne!(layer(1, 10).0, a1, "another init seed, other weights");
        seed_init(9);
        assert_eq!(a1.to_vec::<f32>().expect("f32 weights"), host_normal(24, 0.02));
    }
}
