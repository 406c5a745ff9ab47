//! Tokenization with the model's own `tokenizer.json` (the `tokenizers` crate).

use std::path::{Path, PathBuf};

use tokenizers::{EncodeInput, Tokenizer};

use crate::{DataError, Example};

/// One tokenized example, unpadded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    pub input_ids: Vec<u32>,
    pub type_ids: Vec<u32>,
    pub label: usize,
}

/// The model's tokenizer with our own truncation and no padding: the
/// MiniLM `tokenizer.json` ships with padding and truncation to 128 built
/// in, which would silently pad every example.
pub struct TextEncoder {
    tokenizer: Tokenizer,
    path: PathBuf,
    pad_id: u32,
}

impl TextEncoder {
    /// Load `tokenizer.json`, truncating to `max_len` tokens (specials included).
    pub fn from_file(path: &Path, max_len: usize) -> Result<Self, DataError> {
        if !path.is_file() {
            return Err(DataError::AssetMissing { path: path.to_path_buf(), flag: "--model" });
        }
        let err = |message: String| DataError::Tokenizer { path: path.to_path_buf(), message };
        let mut tokenizer = Tokenizer::from_file(path).map_err(|e| err(e.to_string()))?;
        let pad_id = tokenizer.get_padding().map(|p| p.pad_id).unwrap_or(0);
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(tokenizers::TruncationParams {
                max_length: max_len,
                strategy: tokenizers::TruncationStrategy::LongestFirst,
                ..Default::default()
            }))
            .map_err(|e| err(e.to_string()))?;
        Ok(Self { tokenizer, path: path.to_path_buf(), pad_id })
    }

    /// Id used for padding.
    pub fn pad_id(&self) -> u32 {
        self.pad_id
    }

    /// Tokenize a batch of examples (in parallel inside `tokenizers`).
    pub fn encode(&self, examples: &[Example]) -> Result<Vec<Encoded>, DataError> {
        let inputs: Vec<EncodeInput> = examples
            .iter()
            .map(|e| match &e.text_b {
                Some(b) => EncodeInput::Dual(e.text_a.as_str().into(), b.as_str().into()),
                None => EncodeInput::Single(e.text_a.as_str().into()),
            })
            .collect();
        let encodings = self
            .tokenizer
            .encode_batch(inputs, true)
            .map_err(|e| DataError::Tokenizer { path: self.path.clone(), message: e.to_string() })?;
        Ok(encodings
            .into_iter()
            .zip(examples)
            .map(|(enc, ex)| Encoded { input_ids: enc.get_ids().to_vec(), type_ids: enc.get_type_ids().to_vec(), label: ex.label().unwrap_or(0) })
            .collect())
    }
}

/// A padded batch in row-major `[batch, seq]` layout, ready for tensors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaddedBatch {
    pub batch: usize,
    pub seq: usize,
    pub input_ids: Vec<i64>,
    pub type_ids: Vec<i64>,
    pub attention_mask: Vec<i64>,
    pub labels: Vec<i64>,
}

/// Pad to the longest example of the batch (dynamic padding).
pub fn pad_batch(items: &[&Encoded], pad_id: u32) -> PaddedBatch {
    let seq = items.iter().map(|e| e.input_ids.len()).max().unwrap_or(0);
    let batch = items.len();
    let mut out = PaddedBatch {
        batch,
        seq,
        input_ids: vec![pad_id as i64; batch * seq],
        type_ids: vec![0; batch * seq],
        attention_mask: vec![0; batch * seq],
        labels: items.iter().map(|e| e.label as i64).collect(),
    };
    for (row, e) in items.iter().enumerate() {
        for (col, (&id, &ty)) in e.input_ids.iter().zip(&e.type_ids).enumerate() {
            out.input_ids[row * seq + col] = id as i64;
            out.type_ids[row * seq + col] = ty as i64;
            out.attention_mask[row * seq + col] = 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_to_longest_with_mask() {
        let a = Encoded { input_ids: vec![101, 7, 102], type_ids: vec![0, 0, 0], label: 1 };
        let b = Encoded { input_ids: vec![101, 102], type_ids: vec![0, 0], label: 0 };
        let p = pad_batch(&[&a, &b], 0);
        assert_eq!((p.batch, p.seq), (2, 3));
        assert_eq!(p.input_ids, vec![101, 7, 102, 101, 102, 0]);
        assert_eq!(p.attention_mask, vec![1, 1, 1, 1, 1, 0]);
        assert_eq!(p.labels, vec![1, 0]);
    }
}
