//! Dropout as Burn's `nn::Dropout` computes it (while training, each element is zeroed
//! with probability `prob` and the others are scaled by `1 / (1 - prob)`; off outside
//! autodiff), with two changes that matter on the CPU:
//!
//! - the scale is applied to the mask, which autodiff does not track, so the input goes
//!   through one tracked multiplication instead of two (forward and backward);
//! - on host backends (Flex, ndarray) the mask is drawn with a small fast generator
//!   (wyrand) seeded from the backend's own generator, instead of one ChaCha draw per
//!   element (8% of a MiniLM train step on Flex). The masks still follow the backend's
//!   seed, so a seeded run, and a resumed one, draws the same masks. Device backends
//!   (CUDA) draw the mask on the device as before: uploading it would cost more.

use burn::module::Module;
use burn::tensor::backend::Backend;
use burn::tensor::{Distribution, Tensor, TensorData};

/// Configuration of a [`Dropout`].
#[derive(Debug, Clone, Copy)]
pub struct DropoutConfig {
    pub prob: f64,
}

impl DropoutConfig {
    pub fn new(prob: f64) -> Self {
        Self { prob }
    }

    pub fn init(&self) -> Dropout {
        assert!((0.0..1.0).contains(&self.prob), "dropout probability {} must be in [0, 1)", self.prob);
        Dropout { prob: self.prob }
    }
}

/// See the module documentation.
#[derive(Module, Clone, Debug)]
pub struct Dropout {
    pub prob: f64,
}

impl Dropout {
    pub fn forward<B: Backend, const D: usize>(&self, input: Tensor<B, D>) -> Tensor<B, D> {
        let device = input.device();
        if !B::ad_enabled(&device) || self.prob == 0.0 {
            return input;
        }
        let keep = 1.0 - self.prob;
        let mask = if on_host::<B>(&device) {
            // Three 31-bit draws of the backend's generator (integers fit i32 backends)
            // seed this mask's stream.
            let seed: Vec<i64> = Tensor::<B, 1, burn::tensor::Int>::random([3], Distribution::Uniform(0.0, 2_147_483_647.0), &device)
                .into_data()
                .convert::<i64>()
                .into_vec()
                .unwrap_or_default();
            let seed = seed.iter().fold(0u64, |s, &v| s.rotate_left(31) ^ v as u64);
            let shape = input.shape();
            let values = host_mask(shape.num_elements(), keep, seed);
            Tensor::<B, D>::from_data(TensorData::new(values, shape), &device)
        } else {
            input.random_like(Distribution::Bernoulli(keep)).mul_scalar(1.0 / keep)
        };
        input * mask
    }
}

/// Backends whose tensors live in host memory.
pub(crate) fn on_host<B: Backend>(device: &B::Device) -> bool {
    let name = B::name(device);
    name.contains("flex") || name.contains("ndarray")
}

/// `n` mask values: `1 / keep` with probability `keep` (to 2^-32), else 0, from the wyrand
/// stream of `seed`; each 64-bit draw gives two 32-bit uniforms.
fn host_mask(n: usize, keep: f64, seed: u64) -> Vec<f32> {
    let threshold = (keep * 4_294_967_296.0).round().min(u32::MAX as f64) as u64;
    let scale = (1.0 / keep) as f32;
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0xa076_1d64_78bd_642f);
        let t = u128::from(state) * u128::from(state ^ 0xe703_7ed1_a0b4_28db);
        ((t >> 64) as u64) ^ (t as u64)
    };
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let r = next();
        for lane in [r & 0xffff_ffff, r >> 32] {
            if out.len() < n {
                out.push(if lane < threshold { scale } else { 0.0 });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::{Autodiff, Flex};

    type B = Autodiff<Flex>;

    #[test]
    fn masks_keep_the_asked_share_scaled_and_follow_the_seed() {
        let n = 200_000;
        let mask = host_mask(n, 0.9, 7);
        let kept = mask.iter().filter(|&&v| v > 0.0).count() as f64 / n as f64;
        // Binomial standard deviation at n = 200,000 is 0.00067: 5 sigma.
        assert!((kept - 0.9).abs() < 0.0034, "kept {kept}");
        assert!(mask.iter().all(|&v| v == 0.0 || (v - 1.0 / 0.9).abs() < 1e-6));
        // The expectation of the mask is one, so dropout keeps the mean of its input.
        let mean = mask.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
        assert!((mean - 1.0).abs() < 0.004, "mean {mean}");
        assert_eq!(host_mask(1000, 0.9, 7), mask[..1000]);
        assert_ne!(host_mask(1000, 0.9, 8), mask[..1000]);
        // Neighbouring elements are not correlated (lag-1 agreement of kept/dropped).
        let same = mask.windows(2).filter(|w| (w[0] > 0.0) == (w[1] > 0.0)).count() as f64 / (n - 1) as f64;
        assert!((same - (0.81 + 0.01)).abs() < 0.005, "lag-1 agreement {same}");
    }

    #[test]
    fn training_drops_and_scales_eval_passes_through_and_the_seed_repeats() {
        let device = Default::default();
        let dropout = DropoutConfig::new(0.25).init();
        let x = Tensor::<B, 2>::ones([64, 64], &device);
        B::seed(&device, 3);
        let a: Vec<f32> = dropout.forward(x.clone()).into_data().into_vec().expect("f32");
        let zeros = a.iter().filter(|&&v| v == 0.0).count();
        assert!((800..1250).contains(&zeros), "{zeros} of 4096 dropped at p = 0.25");
        assert!(a.iter().all(|&v| v == 0.0 || (v - 4.0 / 3.0).abs() < 1e-6));
        B::seed(&device, 3);
        let b: Vec<f32> = dropout.forward(x.clone()).into_data().into_vec().expect("f32");
        assert_eq!(a, b, "the same backend seed draws the same mask");
        let c: Vec<f32> = dropout.forward(x.clone()).into_data().into_vec().expect("f32");
        assert_ne!(b, c, "the next call draws a new mask");
        // Without autodiff (evaluation) the input passes through.
        let inner = Tensor::<Flex, 2>::ones([4, 4], &device);
        assert_eq!(dropout.forward(inner.clone()).into_data(), inner.into_data());
    }

    #[test]
    fn gradients_flow_through_the_kept_elements_only() {
        let device = Default::default();
        let dropout = DropoutConfig::new(0.5).init();
        let x = Tensor::<B, 1>::ones([256], &device).require_grad();
        let y = dropout.forward(x.clone());
        let grads = y.clone().sum().backward();
        let g: Vec<f32> = x.grad(&grads).expect("grad").into_data().into_vec().expect("f32");
        let y: Vec<f32> = y.into_data().into_vec().expect("f32");
        assert_eq!(g, y, "d(sum(x * mask))/dx is the mask, which is y for x = 1");
    }
}
