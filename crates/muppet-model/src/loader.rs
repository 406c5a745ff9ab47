//! Loading a pretrained Hugging Face BERT/RoBERTa checkpoint (`config.json` +
//! `model.safetensors`) into an [`Encoder`] through burn-store.
//!
//! Hugging Face key (regex)              -> Burn module path
//! `^(bert|roberta)\.`                   -> `` (task checkpoints nest the encoder; bare ones,
//!                                          like all-MiniLM-L6-v2, do not)
//! `^encoder\.layer\.N\.`                -> `layers.N.`
//! `.attention.self.`                    -> `.attention.self_attention.` (`self` is a keyword)
//! `.LayerNorm.`                         -> `.layer_norm.`; its `weight`/`bias` become
//!                                          `gamma`/`beta` through `PyTorchToBurnAdapter`,
//!                                          which also transposes every `Linear` weight
//!                                          (PyTorch `[out, in]`, Burn `[in, out]`)
//! everything else (`embeddings.word_embeddings.weight`, `...query.bias`, ...) is unchanged.
//!
//! Keys in the file that the encoder does not use, left unread:
//! - `embeddings.position_ids`: an I64 buffer `0..max_position_embeddings`; positions are
//!   computed in `Embeddings::position_ids`.
//! - `pooler.*`: BERT's dense + tanh over `[CLS]`; Muppet's heads bring their own dense layer.
//! - `cls.*`, `lm_head.*`: masked-LM heads of pre-training checkpoints.
//! - `classifier.*`, `qa_outputs.*`, ...: heads of fine-tuned task checkpoints.
//!
//! Every parameter of the encoder must be found in the file: a missing one is an error, never
//! a silently random weight.
//!
//! Export ([`crate::export`]) applies the inverse table, [`EXPORT_KEY_TABLE`], with
//! `BurnToPyTorchAdapter` (transposes `Linear` weights back to `[out, in]`, renames LayerNorm
//! `gamma`/`beta` to `weight`/`bias`), and writes bare `BertModel`/`RobertaModel` keys:
//!
//! Burn module path                      -> Hugging Face key
//! `^layers\.N\.`                        -> `encoder.layer.N.`
//! `.attention.self_attention.`          -> `.attention.self.`
//! `.layer_norm.`                        -> `.LayerNorm.`
//! `pooler.dense.*` (optional)           -> unchanged: carried over from the base model, see
//!                                          [`crate::export`]
//!
//! `embeddings.position_ids` is not written: transformers (4.31 and later) keeps it as a
//! non-persistent buffer and loads a checkpoint without it silently.

use std::path::Path;

use burn::module::Module;
use burn::tensor::backend::Backend;
use burn_store::{KeyRemapper, ModuleSnapshot, PyTorchToBurnAdapter, SafetensorsStore};

use crate::{Encoder, EncoderConfig, ModelError};

/// Hugging Face key patterns and their Burn replacements, applied in this order.
const KEY_TABLE: [(&str, &str); 4] = [
    (r"^(bert|roberta)\.", ""),
    (r"^encoder\.layer\.([0-9]+)\.", "layers.$1."),
    (r"\.attention\.self\.", ".attention.self_attention."),
    (r"\.LayerNorm\.", ".layer_norm."),
];

/// Burn module paths and their Hugging Face keys for export, applied in this order: the
/// inverse of [`KEY_TABLE`] (without its optional `bert.`/`roberta.` prefix, which export
/// never writes).
pub(crate) const EXPORT_KEY_TABLE: [(&str, &str); 3] = [
    (r"^layers\.([0-9]+)\.", "encoder.layer.$1."),
    (r"\.attention\.self_attention\.", ".attention.self."),
    (r"\.layer_norm\.", ".LayerNorm."),
];

/// Name of the configuration file in a model folder.
pub const CONFIG_FILE: &str = "config.json";
/// Name of the weights file in a model folder.
pub const WEIGHTS_FILE: &str = "model.safetensors";

/// Load the encoder stored in `dir` (Hugging Face layout: `config.json` and
/// `model.safetensors`, f32, f16 or bf16 weights, computed in f32) onto `device`.
///
/// Accepts bare encoder checkpoints (`embeddings.*`) and task checkpoints whose encoder sits
/// under `bert.` or `roberta.`. Heads in the file are ignored.
pub fn load_pretrained<B: Backend>(
    dir: &Path,
    device: &B::Device,
) -> Result<(Encoder<B>, EncoderConfig), ModelError> {
    let config = EncoderConfig::from_hf_json(&dir.join(CONFIG_FILE))?;
    let weights = dir.join(WEIGHTS_FILE);
    if !weights.is_file() {
        return Err(ModelError::MissingFile { path: weights });
    }

    let mut encoder = config.init::<B>(device);
    let mut store = SafetensorsStore::from_file(&weights)
        .remap(key_remapper()?)
        .with_from_adapter(PyTorchToBurnAdapter)
        .allow_partial(false)
        .validate(true);
    encoder
        .load_from(&mut store)
        .map_err(|source| ModelError::LoadWeights {
            path: weights,
            source,
        })?;
    // Half-precision checkpoints load as f16/bf16 tensors: the encoder computes in f32.
    Ok((encoder.map(&mut ToF32), config))
}

/// Casts every float parameter that is not f32 to f32. The cast is detached from the
/// half-precision tensor it was made from: under autodiff the parameter must stay a leaf
/// of the graph, whose gradient is kept, not a cast node that hands its gradient on to a
/// tensor nobody trains.
struct ToF32;

impl<B: Backend> burn::module::ModuleMapper<B> for ToF32 {
    fn map_float<const D: usize>(&mut self, param: burn::module::Param<burn::tensor::Tensor<B, D>>) -> burn::module::Param<burn::tensor::Tensor<B, D>> {
        param.map(|t| {
            if t.dtype() == burn::tensor::DType::F32 {
                return t;
            }
            let trained = t.is_require_grad();
            let t = t.cast(burn::tensor::FloatDType::F32).detach();
            if trained { t.require_grad() } else { t }
        })
    }
}

/// The [`KEY_TABLE`] as a burn-store remapper.
fn key_remapper() -> Result<KeyRemapper, ModelError> {
    remapper(&KEY_TABLE)
}

/// A key table as a burn-store remapper.
pub(crate) fn remapper(table: &[(&'static str, &'static str)]) -> Result<KeyRemapper, ModelError> {
    table
        .iter()
        .try_fold(KeyRemapper::new(), |remapper, &(pattern, to)| {
            remapper
                .add_pattern(pattern, to)
                .map_err(|e| ModelError::KeyTable {
                    pattern,
                    message: e.to_string(),
                })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remap(key: &str) -> String {
        let remapper = key_remapper().expect("key table compiles");
        remapper
            .patterns
            .iter()
            .fold(key.to_string(), |k, (re, to)| {
                re.replace_all(&k, to.as_str()).into_owned()
            })
    }

    #[test]
    fn maps_bare_and_prefixed_keys_to_the_same_path() {
        for prefix in ["", "bert.", "roberta."] {
            assert_eq!(
                remap(&format!(
                    "{prefix}encoder.layer.11.attention.self.query.weight"
                )),
                "layers.11.attention.self_attention.query.weight"
            );
            assert_eq!(
                remap(&format!(
                    "{prefix}encoder.layer.0.attention.output.LayerNorm.bias"
                )),
                "layers.0.attention.output.layer_norm.bias"
            );
            assert_eq!(
                remap(&format!("{prefix}encoder.layer.3.output.LayerNorm.weight")),
                "layers.3.output.layer_norm.weight"
            );
            assert_eq!(
                remap(&format!("{prefix}embeddings.LayerNorm.weight")),
                "embeddings.layer_norm.weight"
            );
            assert_eq!(
                remap(&format!("{prefix}embeddings.word_embeddings.weight")),
                "embeddings.word_embeddings.weight"
            );
            assert_eq!(
                remap(&format!("{prefix}encoder.layer.2.intermediate.dense.bias")),
                "layers.2.intermediate.dense.bias"
            );
        }
    }

    #[test]
    fn leaves_heads_outside_the_encoder() {
        assert_eq!(remap("pooler.dense.weight"), "pooler.dense.weight");
        assert_eq!(
            remap("lm_head.layer_norm.weight"),
            "lm_head.layer_norm.weight"
        );
    }

    #[test]
    fn missing_folder_says_how_to_fetch() {
        let device = Default::default();
        let err = load_pretrained::<burn::backend::Flex>(Path::new("/nonexistent/model"), &device)
            .expect_err("no model there");
        let msg = err.to_string();
        assert!(msg.contains("/nonexistent/model/config.json"), "{msg}");
        assert!(msg.contains("muppet assets fetch --model"), "{msg}");
    }

    #[test]
    fn missing_truncated_or_incomplete_weights_are_clear_errors() {
        use crate::{HiddenAct, ModelType};
        type B = burn::backend::Flex;
        let device = Default::default();
        let config = EncoderConfig::new(30, 16, 2, 4, 32, HiddenAct::Gelu, 12, 2, 1e-12, 0, 0.1, 0.1, ModelType::Bert);
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path();
        crate::export::save_pretrained(&config.init::<B>(&device), &config, dir, None).expect("export");
        let weights = dir.join(WEIGHTS_FILE);
        let bytes = std::fs::read(&weights).expect("weights");

        std::fs::remove_file(&weights).expect("remove");
        let msg = load_pretrained::<B>(dir, &device).expect_err("no weights").to_string();
        assert!(msg.contains("model.safetensors"), "{msg}");

        // Cut in the middle of the tensor data.
        std::fs::write(&weights, &bytes[..bytes.len() / 2]).expect("truncate");
        let msg = load_pretrained::<B>(dir, &device).expect_err("truncated").to_string();
        assert!(msg.contains("model.safetensors"), "{msg}");

        // A well-formed file for a deeper model than the config says... the other way round:
        // the config asks for a third layer the file does not have.
        std::fs::write(&weights, &bytes).expect("restore");
        let mut deeper: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join(CONFIG_FILE)).expect("config")).expect("json");
        deeper["num_hidden_layers"] = 3.into();
        std::fs::write(dir.join(CONFIG_FILE), deeper.to_string()).expect("write");
        let msg = load_pretrained::<B>(dir, &device).expect_err("missing layer").to_string();
        assert!(msg.contains("model.safetensors") && msg.contains("layers.2"), "{msg}");
    }
}
