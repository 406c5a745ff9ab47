//! Cross-entropy with Muppet's loss scaling (MUPPET.md "Loss scaling", Muppet §3.2): each
//! loss is divided by `ln n`, n the number of outcomes its head chooses among, so that a
//! uniform predictor scores 1 on every task.

use burn::tensor::{Int, Tensor, activation::log_softmax, backend::Backend};
use serde::{Deserialize, Serialize};

/// Whether to divide a task's loss by the log of its number of outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LossScale {
    /// Plain loss (the ablation).
    Off,
    /// `L / ln n` (Muppet's default).
    #[default]
    LogN,
}

impl LossScale {
    /// Factor the loss of a head with `n` outcomes is multiplied by: `1 / ln n` for
    /// [`LossScale::LogN`], 1 for [`LossScale::Off`]. With fewer than two outcomes there is
    /// nothing to choose and `ln n <= 0`, so the loss is left unscaled.
    pub fn factor(self, n: usize) -> f64 {
        match self {
            Self::LogN if n >= 2 => 1.0 / (n as f64).ln(),
            _ => 1.0,
        }
    }
}

/// Mean cross-entropy over the batch of `logits` `[batch, n_classes]` against class indices
/// `targets` `[batch]`, scaled by `scale.factor(n_classes)`. Returns a one-element tensor.
pub fn scaled_cross_entropy<B: Backend>(
    logits: Tensor<B, 2>,
    targets: Tensor<B, 1, Int>,
    scale: LossScale,
) -> Tensor<B, 1> {
    let [batch, n_classes] = logits.dims();
    let picked = log_softmax(logits, 1).gather(1, targets.reshape([batch, 1]));
    picked.mean().neg() * scale.factor(n_classes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::{Autodiff, Flex};
    use burn::tensor::TensorData;

    type B = Flex;

    fn loss(logits: TensorData, targets: TensorData, scale: LossScale) -> f32 {
        let device = Default::default();
        let logits = Tensor::<B, 2>::from_data(logits, &device);
        let targets = Tensor::<B, 1, Int>::from_data(targets, &device);
        scaled_cross_entropy(logits, targets, scale).into_scalar()
    }

    #[test]
    fn uniform_predictor_scores_one_when_scaled() {
        for n in [2usize, 3, 7, 100] {
            let logits = TensorData::new(vec![0.0f32; 2 * n], [2, n]);
            let targets = TensorData::from([0i64, (n - 1) as i64]);
            let scaled = loss(logits.clone(), targets.clone(), LossScale::LogN);
            assert!((scaled - 1.0).abs() < 1e-6, "n={n}: {scaled}");
            let plain = loss(logits, targets, LossScale::Off);
            assert!((plain - (n as f32).ln()).abs() < 1e-5, "n={n}: {plain}");
        }
    }

    #[test]
    fn matches_hand_computed_values() {
        // Row 1: logits [2, 1, 0], target 0: -log(e^2 / (e^2 + e + 1)) = 0.407606.
        // Row 2: logits [0, 0, 3], target 1: -log(1 / (2 + e^3))      = 3.094923.
        // Mean 1.751264; divided by ln 3 = 1.098612: 1.594070.
        let logits = TensorData::from([[2.0f32, 1.0, 0.0], [0.0, 0.0, 3.0]]);
        let targets = TensorData::from([0i64, 1]);
        let plain = loss(logits.clone(), targets.clone(), LossScale::Off);
        assert!((plain - 1.751_264).abs() < 1e-5, "{plain}");
        let scaled = loss(logits, targets, LossScale::LogN);
        assert!((scaled - 1.594_07).abs() < 1e-5, "{scaled}");
    }

    #[test]
    fn binary_task_is_scaled_by_ln_two() {
        // -log(sigmoid(1)) = 0.313262; / ln 2 = 0.451941.
        let scaled = loss(
            TensorData::from([[0.0f32, 1.0]]),
            TensorData::from([1i64]),
            LossScale::LogN,
        );
        assert!((scaled - 0.451_941).abs() < 1e-5, "{scaled}");
    }

    #[test]
    fn gradient_is_scaled_too() {
        // d/dlogits of mean CE = (softmax - onehot) / batch; scaled by 1 / ln 2.
        let device = Default::default();
        let logits =
            Tensor::<Autodiff<B>, 2>::from_data(TensorData::from([[0.0f32, 0.0]]), &device)
                .require_grad();
        let targets = Tensor::<Autodiff<B>, 1, Int>::from_data(TensorData::from([0i64]), &device);
        let grads = scaled_cross_entropy(logits.clone(), targets, LossScale::LogN).backward();
        let g = logits
            .grad(&grads)
            .expect("grad")
            .into_data()
            .to_vec::<f32>()
            .expect("f32");
        let k = 0.5 / std::f32::consts::LN_2;
        assert!((g[0] + k).abs() < 1e-6 && (g[1] - k).abs() < 1e-6, "{g:?}");
    }

    #[test]
    fn fewer_than_two_outcomes_are_unscaled() {
        assert_eq!(LossScale::LogN.factor(1), 1.0);
        assert_eq!(LossScale::Off.factor(10), 1.0);
    }
}
