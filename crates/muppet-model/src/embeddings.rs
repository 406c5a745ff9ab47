//! Input embeddings: word + position + token type, then LayerNorm and dropout
//! (HF `BertEmbeddings` / `RobertaEmbeddings`, keys `embeddings.*`).

use burn::module::Module;
use burn::nn::{Embedding, EmbeddingConfig, Initializer, LayerNorm, LayerNormConfig};
use burn::tensor::{Int, Tensor, backend::Backend};

use crate::dropout::{Dropout, DropoutConfig};
use crate::{EncoderConfig, ModelType};

/// Sum of the three embedding tables, normalised.
#[derive(Module, Debug)]
pub struct Embeddings<B: Backend> {
    /// `embeddings.word_embeddings`: `[vocab_size, hidden_size]`.
    pub word_embeddings: Embedding<B>,
    /// `embeddings.position_embeddings`: `[max_position_embeddings, hidden_size]`.
    pub position_embeddings: Embedding<B>,
    /// `embeddings.token_type_embeddings`: `[type_vocab_size, hidden_size]`.
    pub token_type_embeddings: Embedding<B>,
    /// `embeddings.LayerNorm`.
    pub layer_norm: LayerNorm<B>,
    dropout: Dropout,
    #[module(skip)]
    model_type: ModelType,
    pad_token_id: usize,
    type_vocab_size: usize,
}

impl<B: Backend> Embeddings<B> {
    /// Fresh tables (normal, std `initializer_range`) for `config`.
    pub fn init(config: &EncoderConfig, device: &B::Device) -> Self {
        let table = |rows: usize| {
            EmbeddingConfig::new(rows, config.hidden_size)
                .with_initializer(Initializer::Normal {
                    mean: 0.0,
                    std: config.init_std(),
                })
                .init(device)
        };
        Self {
            word_embeddings: table(config.vocab_size),
            position_embeddings: table(config.max_position_embeddings),
            token_type_embeddings: table(config.type_vocab_size),
            layer_norm: LayerNormConfig::new(config.hidden_size)
                .with_epsilon(config.layer_norm_eps)
                .init(device),
            dropout: DropoutConfig::new(config.hidden_dropout_prob).init(),
            model_type: config.model_type,
            pad_token_id: config.pad_token_id,
            type_vocab_size: config.type_vocab_size,
        }
    }

    /// Embed `[batch, seq]` token ids into `[batch, seq, hidden]`.
    ///
    /// With a single token type (RoBERTa), `token_type_ids` is ignored and every token gets
    /// type 0, so a batcher that marks the second segment with 1 cannot index out of range.
    pub fn forward(
        &self,
        input_ids: Tensor<B, 2, Int>,
        token_type_ids: Tensor<B, 2, Int>,
        noise: Option<Tensor<B, 3>>,
    ) -> Tensor<B, 3> {
        let position_ids = self.position_ids(input_ids.clone());
        let token_type_ids = if self.type_vocab_size == 1 {
            token_type_ids.zeros_like()
        } else {
            token_type_ids
        };
        let mut words = self.word_embeddings.forward(input_ids);
        if let Some(noise) = noise {
            // R3F perturbs the token embeddings, before positions and LayerNorm.
            words = words + noise;
        }
        let x = words
            + self.token_type_embeddings.forward(token_type_ids)
            + self.position_embeddings.forward(position_ids);
        self.dropout.forward(self.layer_norm.forward(x))
    }

    /// Position ids `[batch, seq]`.
    ///
    /// BERT: `0..seq` for every row. RoBERTa (HF `create_position_ids_from_input_ids`): real
    /// tokens count from `pad_token_id + 1`, padding tokens (recognised by id, not by the
    /// attention mask) get `pad_token_id`.
    fn position_ids(&self, input_ids: Tensor<B, 2, Int>) -> Tensor<B, 2, Int> {
        let [batch, seq] = input_ids.dims();
        let device = input_ids.device();
        match self.model_type {
            ModelType::Bert => Tensor::<B, 1, Int>::arange(0..seq as i64, &device)
                .unsqueeze_dim::<2>(0)
                .expand([batch, seq]),
            ModelType::Roberta => {
                let pad = self.pad_token_id as i64;
                let real = input_ids.not_equal_elem(pad).int();
                real.clone().cumsum(1) * real + pad
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Flex;
    use burn::tensor::TensorData;

    type B = Flex;

    fn config(model_type: ModelType, pad: usize) -> EncoderConfig {
        EncoderConfig::new(
            50,
            8,
            1,
            2,
            16,
            crate::HiddenAct::Gelu,
            20,
            if model_type == ModelType::Bert { 2 } else { 1 },
            1e-5,
            pad,
            0.1,
            0.1,
            model_type,
        )
    }

    #[test]
    fn roberta_positions_skip_padding() {
        let device = Default::default();
        let emb = Embeddings::<B>::init(&config(ModelType::Roberta, 1), &device);
        let ids = Tensor::<B, 2, Int>::from_data(
            TensorData::from([[0, 7, 9, 2, 1, 1], [0, 5, 6, 8, 4, 2]]),
            &device,
        );
        let pos = emb.position_ids(ids).into_data().convert::<i64>();
        assert_eq!(
            pos.to_vec::<i64>().expect("ints"),
            vec![2, 3, 4, 5, 1, 1, 2, 3, 4, 5, 6, 7]
        );
    }

    #[test]
    fn bert_positions_count_from_zero() {
        let device = Default::default();
        let emb = Embeddings::<B>::init(&config(ModelType::Bert, 0), &device);
        let ids = Tensor::<B, 2, Int>::from_data(
            TensorData::from([[101, 7, 102, 0], [101, 5, 6, 102]]),
            &device,
        );
        let pos = emb.position_ids(ids).into_data().convert::<i64>();
        assert_eq!(
            pos.to_vec::<i64>().expect("ints"),
            vec![0, 1, 2, 3, 0, 1, 2, 3]
        );
    }
}
