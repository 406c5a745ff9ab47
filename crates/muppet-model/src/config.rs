//! `EncoderConfig`: the Hugging Face `config.json` of a BERT or RoBERTa encoder.
//!
//! Field names are the Hugging Face ones so that `config.json` deserialises directly; fields
//! we do not use (`architectures`, `transformers_version`, ...) are ignored.

use std::path::Path;

use burn::config::Config;
use serde::{Deserialize, Serialize};

use crate::{HiddenAct, ModelError};

/// Which encoder family a checkpoint belongs to (`model_type` in `config.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelType {
    /// BERT: absolute positions from 0, two token types (sentence A/B).
    Bert,
    /// RoBERTa: positions start at `pad_token_id + 1`, padding gets `pad_token_id`, one token
    /// type.
    Roberta,
}

/// Architecture of a BERT-style encoder, read from a Hugging Face `config.json`.
#[derive(Config, Debug)]
pub struct EncoderConfig {
    /// Size of the word-piece vocabulary.
    pub vocab_size: usize,
    /// Width of the hidden states (`d_model`).
    pub hidden_size: usize,
    /// Number of transformer layers.
    pub num_hidden_layers: usize,
    /// Attention heads per layer; must divide `hidden_size`.
    pub num_attention_heads: usize,
    /// Width of the feed-forward layer.
    pub intermediate_size: usize,
    /// Activation of the feed-forward layer.
    pub hidden_act: HiddenAct,
    /// Rows of the position embedding table (RoBERTa spends `pad_token_id + 1` of them on the
    /// offset, so its longest input is `max_position_embeddings - pad_token_id - 1`).
    pub max_position_embeddings: usize,
    /// Rows of the token type (segment) embedding table: 2 for BERT, 1 for RoBERTa.
    pub type_vocab_size: usize,
    /// Epsilon of every LayerNorm.
    pub layer_norm_eps: f64,
    /// Id of the padding token (RoBERTa also uses it as the position padding index).
    pub pad_token_id: usize,
    /// Dropout on embeddings and on the output of each sub-layer (training only).
    pub hidden_dropout_prob: f64,
    /// Dropout on the attention probabilities (training only).
    pub attention_probs_dropout_prob: f64,
    /// Encoder family.
    pub model_type: ModelType,
    /// Standard deviation of the normal initialisation of fresh weights; 0.02 when absent.
    pub initializer_range: Option<f64>,
}

impl EncoderConfig {
    /// Read and check a Hugging Face `config.json`.
    pub fn from_hf_json(path: &Path) -> Result<Self, ModelError> {
        let text = std::fs::read_to_string(path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                ModelError::MissingFile {
                    path: path.to_path_buf(),
                }
            } else {
                ModelError::Read {
                    path: path.to_path_buf(),
                    source,
                }
            }
        })?;
        let config: Self =
            serde_json::from_str(&text).map_err(|source| ModelError::ParseConfig {
                path: path.to_path_buf(),
                source,
            })?;
        config
            .validate()
            .map_err(|reason| ModelError::InvalidConfig {
                path: path.to_path_buf(),
                reason,
            })?;
        Ok(config)
    }

    /// Check the constraints the encoder relies on; the error says which one failed.
    pub fn validate(&self) -> Result<(), String> {
        if self.num_attention_heads == 0
            || !self.hidden_size.is_multiple_of(self.num_attention_heads)
        {
            return Err(format!(
                "hidden_size {} is not a multiple of num_attention_heads {}",
                self.hidden_size, self.num_attention_heads
            ));
        }
        if self.type_vocab_size == 0 {
            return Err("type_vocab_size must be at least 1".into());
        }
        if self.model_type == ModelType::Roberta
            && self.max_position_embeddings <= self.pad_token_id + 1
        {
            return Err(format!(
                "max_position_embeddings {} leaves no positions after the RoBERTa offset \
                 pad_token_id + 1 = {}",
                self.max_position_embeddings,
                self.pad_token_id + 1
            ));
        }
        Ok(())
    }

    /// Width of one attention head.
    pub fn head_size(&self) -> usize {
        self.hidden_size / self.num_attention_heads.max(1)
    }

    /// Longest input (in tokens) the position table allows.
    pub fn max_sequence_length(&self) -> usize {
        match self.model_type {
            ModelType::Bert => self.max_position_embeddings,
            ModelType::Roberta => self
                .max_position_embeddings
                .saturating_sub(self.pad_token_id + 1),
        }
    }

    /// Standard deviation of fresh weights (`initializer_range`, 0.02 by default as in HF).
    pub fn init_std(&self) -> f64 {
        self.initializer_range.unwrap_or(0.02)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINILM: &str = r#"{
      "_name_or_path": "nreimers/MiniLM-L6-H384-uncased",
      "architectures": ["BertModel"],
      "attention_probs_dropout_prob": 0.1,
      "gradient_checkpointing": false,
      "hidden_act": "gelu",
      "hidden_dropout_prob": 0.1,
      "hidden_size": 384,
      "initializer_range": 0.02,
      "intermediate_size": 1536,
      "layer_norm_eps": 1e-12,
      "max_position_embeddings": 512,
      "model_type": "bert",
      "num_attention_heads": 12,
      "num_hidden_layers": 6,
      "pad_token_id": 0,
      "position_embedding_type": "absolute",
      "transformers_version": "4.8.2",
      "type_vocab_size": 2,
      "use_cache": true,
      "vocab_size": 30522
    }"#;

    #[test]
    fn parses_hf_config_and_ignores_unknown_fields() {
        let c: EncoderConfig = serde_json::from_str(MINILM).expect("parses");
        assert_eq!(c.model_type, ModelType::Bert);
        assert_eq!(c.hidden_act, HiddenAct::Gelu);
        assert_eq!(c.head_size(), 32);
        assert_eq!(c.layer_norm_eps, 1e-12);
        assert_eq!(c.max_sequence_length(), 512);
        assert!(c.validate().is_ok());
    }

    #[test]
    fn roberta_positions_lose_the_offset() {
        let json = MINILM
            .replace("\"bert\"", "\"roberta\"")
            .replace("\"pad_token_id\": 0", "\"pad_token_id\": 1")
            .replace(
                "\"max_position_embeddings\": 512",
                "\"max_position_embeddings\": 514",
            );
        let c: EncoderConfig = serde_json::from_str(&json).expect("parses");
        assert_eq!(c.max_sequence_length(), 512);
    }

    #[test]
    fn rejects_other_model_types() {
        let json = MINILM.replace("\"bert\"", "\"distilbert\"");
        assert!(serde_json::from_str::<EncoderConfig>(&json).is_err());
    }

    #[test]
    fn rejects_heads_that_do_not_divide_hidden() {
        let json = MINILM.replace("\"num_attention_heads\": 12", "\"num_attention_heads\": 5");
        let c: EncoderConfig = serde_json::from_str(&json).expect("parses");
        assert!(
            c.validate()
                .expect_err("5 does not divide 384")
                .contains("multiple")
        );
    }

    #[test]
    fn missing_file_says_how_to_fetch() {
        let err = EncoderConfig::from_hf_json(Path::new("/nonexistent/config.json"))
            .expect_err("no such file");
        let msg = err.to_string();
        assert!(msg.contains("/nonexistent/config.json"), "{msg}");
        assert!(msg.contains("muppet assets fetch --model"), "{msg}");
    }
}
