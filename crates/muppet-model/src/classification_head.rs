//! `ClassificationHead`: one per classification dataset (Muppet §2.2), over the first token,
//! shaped like Hugging Face's `RobertaClassificationHead` so it exports to `classifier.*`.

use burn::config::Config;
use burn::module::Module;
use burn::nn::Linear;

use crate::dropout::{Dropout, DropoutConfig};
use burn::tensor::{Tensor, backend::Backend};

use crate::linear::head_linear;

/// Standard deviation of fresh head weights (HF `initializer_range` of BERT and RoBERTa).
const HEAD_INIT_STD: f64 = 0.02;

/// Configuration of a [`ClassificationHead`].
#[derive(Config, Debug)]
pub struct ClassificationHeadConfig {
    /// Width of the encoder's hidden states.
    pub d_model: usize,
    /// Number of classes of the task.
    pub n_classes: usize,
    /// Dropout before each projection (training only); HF uses `hidden_dropout_prob`.
    #[config(default = 0.1)]
    pub dropout: f64,
}

/// `out_proj(dropout(tanh(dense(dropout(hidden[:, 0])))))`.
#[derive(Module, Debug)]
pub struct ClassificationHead<B: Backend> {
    /// `classifier.dense`: `d_model -> d_model`.
    pub dense: Linear<B>,
    /// `classifier.out_proj`: `d_model -> n_classes`.
    pub out_proj: Linear<B>,
    dropout: Dropout,
}

impl ClassificationHeadConfig {
    /// A fresh head: normal(0, 0.02) weights, zero biases.
    pub fn init<B: Backend>(&self, device: &B::Device) -> ClassificationHead<B> {
        ClassificationHead {
            dense: head_linear(self.d_model, self.d_model, HEAD_INIT_STD, device),
            out_proj: head_linear(self.d_model, self.n_classes, HEAD_INIT_STD, device),
            dropout: DropoutConfig::new(self.dropout).init(),
        }
    }
}

impl<B: Backend> ClassificationHead<B> {
    /// Logits `[batch, n_classes]` from hidden states `[batch, seq, d_model]`, read at the
    /// first token (`[CLS]` / `<s>`).
    pub fn forward(&self, hidden: Tensor<B, 3>) -> Tensor<B, 2> {
        let [batch, _, d_model] = hidden.dims();
        let first = hidden.narrow(1, 0, 1).reshape([batch, d_model]);
        let x = self.dense.forward(self.dropout.forward(first)).tanh();
        self.out_proj.forward(self.dropout.forward(x))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;
    use burn::tensor::{Distribution, TensorData, Tolerance};

    type B = Flex;

    #[test]
    fn logits_depend_on_the_first_token_only() {
        let device = Default::default();
        let head = ClassificationHeadConfig::new(8, 3).init::<B>(&device);
        let hidden = Tensor::<B, 3>::random([2, 5, 8], Distribution::Normal(0.0, 1.0), &device);
        let logits = head.forward(hidden.clone());
        assert_eq!(logits.dims(), [2, 3]);

        let changed = hidden
            .clone()
            .slice_assign([0..2, 1..5, 0..8], Tensor::zeros([2, 4, 8], &device));
        head.forward(changed)
            .into_data()
            .assert_approx_eq::<f32>(&logits.into_data(), Tolerance::default());
    }

    #[test]
    fn matches_a_hand_computed_head() {
        let device = Default::default();
        let mut head = ClassificationHeadConfig::new(2, 2)
            .with_dropout(0.0)
            .init::<B>(&device);
        // Burn stores Linear weights [in, out].
        head.dense.weight = burn::module::Param::from_tensor(Tensor::from_data(
            TensorData::from([[1.0f32, 0.0], [0.0, 2.0]]),
            &device,
        ));
        head.out_proj.weight = burn::module::Param::from_tensor(Tensor::from_data(
            TensorData::from([[1.0f32, -1.0], [1.0, 1.0]]),
            &device,
        ));
        let hidden =
            Tensor::<B, 3>::from_data(TensorData::from([[[0.5f32, 0.25], [9.0, 9.0]]]), &device);
        let (a, b) = (0.5f32.tanh(), 0.5f32.tanh());
        let expected = TensorData::from([[a + b, b - a]]);
        head.forward(hidden)
            .into_data()
            .assert_approx_eq::<f32>(&expected, Tolerance::default());
    }
}
