//! Clipping by the global gradient norm (the norm of all gradients together, as PyTorch's
//! `clip_grad_norm_` and fairseq do). Burn's `GradientClipping::Norm` clips each
//! parameter tensor on its own, which changes the direction of the update.

use burn::module::{AutodiffModule, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::backend::AutodiffBackend;

struct SquaredNorm<'a, B: AutodiffBackend> {
    grads: &'a GradientsParams,
    sum: Option<Tensor<B::InnerBackend, 1>>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for SquaredNorm<'_, B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        if let Some(g) = self.grads.get::<B::InnerBackend, D>(param.id) {
            let s = g.powi_scalar(2).sum();
            self.sum = Some(match self.sum.take() {
                Some(acc) => acc + s,
                None => s,
            });
        }
    }
}

struct Scale<'a, B: AutodiffBackend> {
    grads: &'a mut GradientsParams,
    factor: f64,
    _b: std::marker::PhantomData<B>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for Scale<'_, B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        if let Some(g) = self.grads.remove::<B::InnerBackend, D>(param.id) {
            self.grads.register::<B::InnerBackend, D>(param.id, g * self.factor);
        }
    }
}

/// The global L2 norm of `grads` over `model`'s parameters.
pub fn global_norm<B: AutodiffBackend, M: AutodiffModule<B>>(model: &M, grads: &GradientsParams) -> f64 {
    let mut v = SquaredNorm::<B> { grads, sum: None };
    model.visit(&mut v);
    v.sum.map_or(0.0, |s| s.into_scalar().elem::<f64>().sqrt())
}

/// Scale `grads` so that their global norm is at most `max_norm`; returns the norm before
/// clipping.
pub fn clip_global_norm<B: AutodiffBackend, M: AutodiffModule<B>>(model: &M, grads: &mut GradientsParams, max_norm: f64) -> f64 {
    let norm = global_norm::<B, M>(model, grads);
    if norm.is_finite() && norm > max_norm {
        let mut v = Scale::<B> { grads, factor: max_norm / (norm + 1e-6), _b: std::marker::PhantomData };
        model.visit(&mut v);
    }
    norm
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::{Autodiff, Flex};
    use burn::nn::{Linear, LinearConfig};

    type B = Autodiff<Flex>;

    #[test]
    fn clips_all_gradients_by_one_factor() {
        let device = Default::default();
        let linear: Linear<B> = LinearConfig::new(2, 1).init(&device);
        let x = Tensor::<B, 2>::from_data(TensorData::from([[3.0f32, 4.0]]), &device);
        // d(sum(xW + b))/dW = x^T = [3, 4], d/db = 1: global norm sqrt(9 + 16 + 1).
        let loss = linear.forward(x).sum();
        let mut grads = GradientsParams::from_grads(loss.backward(), &linear);
        let norm = clip_global_norm::<B, _>(&linear, &mut grads, 1.0);
        assert!((norm - 26f64.sqrt()).abs() < 1e-5, "{norm}");
        let after = global_norm::<B, _>(&linear, &grads);
        assert!((after - 1.0).abs() < 1e-4, "{after}");
        let w: Vec<f32> = grads.get::<Flex, 2>(linear.weight.id).expect("grad").into_data().to_vec().expect("f32");
        assert!((w[0] / w[1] - 0.75).abs() < 1e-6, "direction kept: {w:?}");
    }
}
