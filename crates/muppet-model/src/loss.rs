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
    let n_classes = logits.dims()[1];
    cross_entropy_per_example(logits, targets, None).mean() * scale.factor(n_classes)
}

/// Cross-entropy of each row `[batch]`: `-log softmax(logits + bias)[target]`. `bias`
/// (`[batch, n]`, 0 for allowed outcomes and a large negative number for the others) masks
/// outcomes that do not exist for a row: absent choices, tokens outside the passage.
pub fn cross_entropy_per_example<B: Backend>(
    logits: Tensor<B, 2>,
    targets: Tensor<B, 1, Int>,
    bias: Option<Tensor<B, 2>>,
) -> Tensor<B, 1> {
    let [batch, _] = logits.dims();
    let logits = match bias {
        Some(bias) => logits + bias,
        None => logits,
    };
    log_softmax(logits, 1).gather(1, targets.reshape([batch, 1])).reshape([batch]).neg()
}

/// Mean of `per_example * factors`: each example's loss with its own scale factor (for
/// multiple choice and spans, whose number of outcomes varies by example).
pub fn weighted_mean<B: Backend>(per_example: Tensor<B, 1>, factors: Tensor<B, 1>) -> Tensor<B, 1> {
    (per_example * factors).mean()
}

/// Mean squared error of `predictions` `[batch]` against `targets` `[batch]`.
pub fn mean_squared_error<B: Backend>(predictions: Tensor<B, 1>, targets: Tensor<B, 1>) -> Tensor<B, 1> {
    (predictions - targets).powi_scalar(2).mean()
}

/// R3F's symmetric KL divergence between the predictions of clean and noisy logits
/// `[batch, n]`: `(KL(p || q) + KL(q || p)) / batch`, summed over outcomes, as fairseq's
/// `_get_symm_kl`. Gradients flow through both sides.
pub fn symmetric_kl<B: Backend>(clean: Tensor<B, 2>, noisy: Tensor<B, 2>) -> Tensor<B, 1> {
    let batch = clean.dims()[0] as f64;
    let (lp, lq) = (log_softmax(clean, 1), log_softmax(noisy, 1));
    let (p, q) = (lp.clone().exp(), lq.clone().exp());
    // KL(p || q) + KL(q || p) = sum (p - q) (log p - log q).
    ((p - q) * (lp - lq)).sum() / batch
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

    #[test]
    fn masked_rows_ignore_masked_outcomes() {
        // Row logits [1, 2, 100] with the third outcome masked: CE of target 0 is
        // -log(e / (e + e^2)) = 1.313262.
        let device = Default::default();
        let logits = Tensor::<B, 2>::from_data(TensorData::from([[1.0f32, 2.0, 100.0]]), &device);
        let bias = Tensor::<B, 2>::from_data(TensorData::from([[0.0f32, 0.0, -1e9]]), &device);
        let targets = Tensor::<B, 1, Int>::from_data(TensorData::from([0i64]), &device);
        let ce: f32 = cross_entropy_per_example(logits, targets, Some(bias)).into_scalar();
        assert!((ce - 1.313_262).abs() < 1e-5, "{ce}");
    }

    #[test]
    fn symmetric_kl_matches_hand_computed_value() {
        // p = softmax([0, 0]) = [0.5, 0.5]; q = softmax([ln 3, 0]) = [0.75, 0.25].
        // sum (p - q)(ln p - ln q) = (-0.25)(ln 0.5 - ln 0.75) + (0.25)(ln 0.5 - ln 0.25)
        //                          = 0.25 ln 1.5 + 0.25 ln 2 = 0.274653.
        let device = Default::default();
        let clean = Tensor::<B, 2>::from_data(TensorData::from([[0.0f32, 0.0]]), &device);
        let noisy = Tensor::<B, 2>::from_data(TensorData::from([[3.0f32.ln(), 0.0]]), &device);
        let kl: f32 = symmetric_kl(clean.clone(), noisy).into_scalar();
        assert!((kl - 0.274_653).abs() < 1e-5, "{kl}");
        let zero: f32 = symmetric_kl(clean.clone(), clean).into_scalar();
        assert!(zero.abs() < 1e-7, "{zero}");
    }

    #[test]
    fn mse_and_weighted_mean() {
        let device = Default::default();
        let t = |v: [f32; 2]| Tensor::<B, 1>::from_data(TensorData::from(v), &device);
        let mse: f32 = mean_squared_error(t([1.0, 3.0]), t([0.0, 1.0])).into_scalar();
        assert!((mse - 2.5).abs() < 1e-6, "{mse}");
        let w: f32 = weighted_mean(t([2.0, 4.0]), t([0.5, 0.25])).into_scalar();
        assert!((w - 1.0).abs() < 1e-6, "{w}");
    }
}
