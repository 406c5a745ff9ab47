//! Writing an [`Encoder`] as a Hugging Face model folder (`config.json` +
//! `model.safetensors`) that `transformers.AutoModel.from_pretrained` loads as a `BertModel` or
//! `RobertaModel`, and task heads as plain PyTorch-layout safetensors.
//!
//! The keys are the inverse of the loader's: see the tables in `loader.rs`
//! ([`crate::load_pretrained`] reads back exactly what [`save_pretrained`] writes). Everything
//! goes through burn-store: `BurnToPyTorchAdapter` turns `Linear` weights back to PyTorch's
//! `[out, in]` and LayerNorm `gamma`/`beta` into `weight`/`bias`, a `KeyRemapper` renames the
//! module paths.
//!
//! The pooler (`pooler.dense.*`, BERT's dense + tanh over the first token) is not part of the
//! encoder and training never touches it: Muppet's heads bring their own dense layer. When the
//! base model has one, [`save_pretrained`] carries it over unchanged, so `transformers` loads
//! the export with no newly initialised weight and `pooler_output` means what it meant for the
//! base model.

use std::path::{Path, PathBuf};

use burn::module::{Module, ModuleVisitor, Param};
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Bool, Int, Tensor, backend::Backend};
use burn_store::{
    BurnToPyTorchAdapter, ModuleAdapter, ModuleSnapshot, PathFilter, PyTorchToBurnAdapter,
    SafetensorsStore,
};

use crate::embeddings::Embeddings;
use crate::layer::EncoderLayer;
use crate::loader::{EXPORT_KEY_TABLE, remapper};
use crate::{CONFIG_FILE, Encoder, EncoderConfig, ModelError, ModelType, WEIGHTS_FILE};

/// Where the pooler sits in a Hugging Face checkpoint, bare or under a task model's prefix.
const POOLER_KEYS: [(&str, &str); 1] = [(r"^((bert|roberta)\.)?pooler\.", "")];

/// HF `BertPooler`: `tanh(dense(hidden[:, 0]))`, keys `pooler.dense.*`. Only carried through.
#[derive(Module, Debug)]
struct Pooler<B: Backend> {
    dense: Linear<B>,
}

/// The module tree of HF `BertModel`/`RobertaModel`: the encoder's own, plus the pooler.
#[derive(Module, Debug)]
struct HfModel<B: Backend> {
    embeddings: Embeddings<B>,
    layers: Vec<EncoderLayer<B>>,
    pooler: Option<Pooler<B>>,
}

/// Initialises every lazy parameter of a module in place.
struct Materialize;

impl<B: Backend> ModuleVisitor<B> for Materialize {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let _ = param.val();
    }
    fn visit_int<const D: usize>(&mut self, param: &Param<Tensor<B, D, Int>>) {
        let _ = param.val();
    }
    fn visit_bool<const D: usize>(&mut self, param: &Param<Tensor<B, D, Bool>>) {
        let _ = param.val();
    }
}

/// What [`save_pretrained`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedModel {
    /// The `config.json` written.
    pub config: PathBuf,
    /// The `model.safetensors` written.
    pub weights: PathBuf,
    /// Hugging Face names of the tensors in `weights`, sorted.
    pub tensors: Vec<String>,
    /// Whether `pooler.dense.*` was carried over from the base model.
    pub pooler: bool,
}

/// The Hugging Face class an encoder of `model_type` loads as.
pub fn hf_architecture(model_type: ModelType) -> &'static str {
    match model_type {
        ModelType::Bert => "BertModel",
        ModelType::Roberta => "RobertaModel",
    }
}

/// `config.json` for `config`: the Hugging Face field names of [`EncoderConfig`] plus
/// `architectures`, `position_embedding_type` and `dtype`; absent optional fields are left out.
pub fn hf_config_json(config: &EncoderConfig) -> serde_json::Value {
    let mut json = serde_json::Map::new();
    json.insert(
        "architectures".into(),
        serde_json::json!([hf_architecture(config.model_type)]),
    );
    if let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(config) {
        json.extend(fields.into_iter().filter(|(_, v)| !v.is_null()));
    }
    json.insert("position_embedding_type".into(), "absolute".into());
    json.insert("dtype".into(), "float32".into());
    serde_json::Value::Object(json)
}

/// Write `encoder` into the existing folder `dir` as `config.json` and `model.safetensors`
/// (f32, bare `BertModel`/`RobertaModel` keys; existing files are replaced).
///
/// `base_weights` is the base model's `model.safetensors`: its `pooler.*` tensors, if any, are
/// copied unchanged (see the module documentation). With `None`, or a base without a pooler,
/// no pooler is written and `transformers` initialises one at random when it loads the folder.
pub fn save_pretrained<B: Backend>(
    encoder: &Encoder<B>,
    config: &EncoderConfig,
    dir: &Path,
    base_weights: Option<&Path>,
) -> Result<SavedModel, ModelError> {
    // Cloning a parameter that was never read clones its lazy initialiser, which would draw
    // fresh random values: make every value real first, so the clones below share them.
    encoder.visit(&mut Materialize);
    let device = encoder.embeddings.word_embeddings.weight.device();
    let pooler = match base_weights {
        Some(path) => base_pooler::<B>(path, encoder.d_model(), &device)?,
        None => None,
    };
    let model = HfModel {
        embeddings: encoder.embeddings.clone(),
        layers: encoder.layers.clone(),
        pooler,
    };
    let with_pooler = model.pooler.is_some();

    let config_path = dir.join(CONFIG_FILE);
    let mut text =
        serde_json::to_string_pretty(&hf_config_json(config)).map_err(|e| ModelError::Write {
            path: config_path.clone(),
            source: std::io::Error::other(e),
        })?;
    text.push('\n');
    std::fs::write(&config_path, text).map_err(|source| ModelError::Write {
        path: config_path.clone(),
        source,
    })?;

    let weights = dir.join(WEIGHTS_FILE);
    let tensors = save_pytorch_tensors(&model, &weights, None, &EXPORT_KEY_TABLE)?;
    Ok(SavedModel {
        config: config_path,
        weights,
        tensors,
        pooler: with_pooler,
    })
}

/// Write the parameters of `module` to the safetensors file `path` in PyTorch layout (`Linear`
/// weights `[out, in]`, LayerNorm `weight`/`bias`), named by their Burn module paths
/// (`classifiers.0.dense.weight`, ...) after `key_table`. With `include`, only the parameters
/// under those module paths (`classifiers.0`, `span`, ...) are written. Returns the names
/// written, sorted. An existing file is replaced.
pub fn save_pytorch_tensors<B: Backend, M: Module<B>>(
    module: &M,
    path: &Path,
    include: Option<&[String]>,
    key_table: &[(&'static str, &'static str)],
) -> Result<Vec<String>, ModelError> {
    let filter = include.map(|prefixes| {
        PathFilter::new().with_regexes(
            prefixes
                .iter()
                .map(|p| format!("^{}\\.", p.replace('.', "\\."))),
        )
    });
    let keys = remapper(key_table)?;
    let adapter: Box<dyn ModuleAdapter> = Box::new(BurnToPyTorchAdapter);
    let (_, names) = keys.remap(module.collect(filter.clone(), Some(adapter), false));
    let mut names: Vec<String> = names.into_iter().map(|(new, _)| new).collect();
    names.sort();

    let mut store = SafetensorsStore::from_file(path)
        .with_to_adapter(BurnToPyTorchAdapter)
        .remap(keys)
        .metadata("format", "pt")
        .overwrite(true);
    if let Some(filter) = filter {
        store = store.filter(filter);
    }
    module
        .save_into(&mut store)
        .map_err(|source| ModelError::SaveWeights {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(names)
}

/// The pooler of the Hugging Face weights file `weights`, or `None` when it has none.
fn base_pooler<B: Backend>(
    weights: &Path,
    d_model: usize,
    device: &B::Device,
) -> Result<Option<Pooler<B>>, ModelError> {
    if !weights.is_file() {
        return Err(ModelError::MissingFile {
            path: weights.to_path_buf(),
        });
    }
    let mut pooler = Pooler {
        dense: LinearConfig::new(d_model, d_model).init(device),
    };
    let mut store = SafetensorsStore::from_file(weights)
        .remap(remapper(&POOLER_KEYS)?)
        .with_from_adapter(PyTorchToBurnAdapter)
        .allow_partial(true)
        .validate(true);
    let result = pooler
        .load_from(&mut store)
        .map_err(|source| ModelError::LoadWeights {
            path: weights.to_path_buf(),
            source,
        })?;
    Ok((result.missing.is_empty() && result.errors.is_empty()).then_some(pooler))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{HiddenAct, load_pretrained};
    use burn::backend::Flex;

    type B = Flex;

    fn tiny(model_type: ModelType) -> EncoderConfig {
        let (types, pad, positions) = match model_type {
            ModelType::Bert => (2, 0, 12),
            ModelType::Roberta => (1, 1, 14),
        };
        EncoderConfig::new(
            30,
            16,
            2,
            4,
            32,
            HiddenAct::Gelu,
            positions,
            types,
            1e-12,
            pad,
            0.1,
            0.1,
            model_type,
        )
    }

    /// Every parameter of `encoder`, by Burn path, as raw f32 values.
    fn params(encoder: &Encoder<B>) -> Vec<(String, Vec<f32>)> {
        let mut out: Vec<(String, Vec<f32>)> = encoder
            .collect(None, None, false)
            .into_iter()
            .map(|s| {
                let data = s.to_data().expect("tensor data");
                (s.full_path(), data.to_vec::<f32>().expect("f32"))
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    #[test]
    fn export_then_load_gives_back_the_same_encoder_exactly() {
        let device = Default::default();
        for model_type in [ModelType::Bert, ModelType::Roberta] {
            let config = tiny(model_type);
            let encoder = config.init::<B>(&device);
            let tmp = tempfile::tempdir().expect("temp dir");
            let dir = tmp.path();
            let saved = save_pretrained(&encoder, &config, dir, None).expect("export");
            assert!(!saved.pooler);
            assert!(
                saved
                    .tensors
                    .contains(&"encoder.layer.1.attention.self.query.weight".to_string()),
                "{:?}",
                saved.tensors
            );
            assert!(
                saved
                    .tensors
                    .contains(&"encoder.layer.0.output.LayerNorm.bias".to_string())
            );
            assert!(
                saved
                    .tensors
                    .contains(&"embeddings.LayerNorm.weight".to_string())
            );
            assert!(!saved.tensors.iter().any(|t| t.contains("layer_norm")
                || t.contains("gamma")
                || t.contains("self_attention")
                || t.starts_with("layers.")));

            let (loaded, loaded_config) = load_pretrained::<B>(dir, &device).expect("load back");
            assert_eq!(
                serde_json::to_value(&loaded_config).expect("JSON"),
                serde_json::to_value(&config).expect("JSON")
            );
            assert_eq!(params(&loaded), params(&encoder), "{model_type:?}");

            let json: serde_json::Value = serde_json::from_str(
                &std::fs::read_to_string(dir.join(CONFIG_FILE)).expect("config.json"),
            )
            .expect("JSON");
            assert_eq!(json["architectures"][0], hf_architecture(model_type));
            assert_eq!(json["hidden_act"], "gelu");
            assert!(json.get("initializer_range").is_none());
        }
    }

    /// Casts every float parameter to f16, as a half-precision checkpoint holds them.
    struct ToF16;
    impl burn::module::ModuleMapper<B> for ToF16 {
        fn map_float<const D: usize>(&mut self, p: burn::module::Param<burn::tensor::Tensor<B, D>>) -> burn::module::Param<burn::tensor::Tensor<B, D>> {
            p.map(|t| t.cast(burn::tensor::FloatDType::F16))
        }
    }

    #[test]
    fn half_precision_weights_load_as_f32() {
        let device = Default::default();
        let config = tiny(ModelType::Bert);
        let encoder = config.init::<B>(&device);
        // Read every parameter before cloning: Burn clones unread parameters as initialisers.
        let original = params(&encoder);
        let tmp = tempfile::tempdir().expect("temp dir");
        save_pretrained(&encoder.clone().map(&mut ToF16), &config, tmp.path(), None).expect("export f16");
        let header = std::fs::read(tmp.path().join(WEIGHTS_FILE)).expect("weights");
        assert!(String::from_utf8_lossy(&header[..header.len().min(4096)]).contains("\"F16\""), "the file holds f16 tensors");
        let (loaded, _) = load_pretrained::<B>(tmp.path(), &device).expect("load f16");
        // Every parameter comes back as f32 (to_vec::<f32> fails otherwise), equal to the
        // original within f16 rounding.
        for ((name, a), (_, b)) in params(&loaded).iter().zip(original.iter()) {
            for (x, y) in a.iter().zip(b) {
                assert!((x - y).abs() <= 1e-3 * y.abs().max(1e-2), "{name}: {x} vs {y}");
            }
        }
    }

    /// A parameter loaded from half-precision weights is a trainable leaf in f32: its
    /// gradient is kept (a cast left in the graph would pass it on to the f16 tensor instead).
    #[test]
    fn half_precision_weights_load_as_trainable_f32_parameters() {
        type AB = burn::backend::Autodiff<Flex>;
        let device = Default::default();
        let config = tiny(ModelType::Bert);
        let tmp = tempfile::tempdir().expect("temp dir");
        save_pretrained(&config.init::<B>(&device).map(&mut ToF16), &config, tmp.path(), None).expect("export f16");
        let (loaded, _) = load_pretrained::<AB>(tmp.path(), &device).expect("load f16");
        let weight = &loaded.embeddings.word_embeddings.weight;
        assert_eq!(weight.val().dtype(), burn::tensor::DType::F32);
        let grads = weight.val().sum().backward();
        let grad = weight.grad(&grads).expect("the loaded parameter gets its gradient");
        assert_eq!(grad.dtype(), burn::tensor::DType::F32);
    }

    #[test]
    fn linear_weights_are_written_out_by_in() {
        let device = Default::default();
        let config = tiny(ModelType::Bert);
        let encoder = config.init::<B>(&device);
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path();
        save_pretrained(&encoder, &config, dir, None).expect("export");
        let bytes = std::fs::read(dir.join(WEIGHTS_FILE)).expect("weights");
        // The header is JSON after an 8-byte little-endian length.
        let len = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")) as usize;
        let header: serde_json::Value =
            serde_json::from_slice(&bytes[8..8 + len]).expect("safetensors header");
        // intermediate.dense maps hidden 16 -> 32: PyTorch stores it [32, 16].
        assert_eq!(
            header["encoder.layer.0.intermediate.dense.weight"]["shape"],
            serde_json::json!([32, 16])
        );
        assert_eq!(header["__metadata__"]["format"], "pt");
    }

    #[test]
    fn the_base_models_pooler_is_carried_over_unchanged() {
        let device = Default::default();
        let config = tiny(ModelType::Bert);
        let tmp = tempfile::tempdir().expect("temp dir");
        // A base checkpoint with a pooler, nested under `bert.` like a task checkpoint.
        let base = HfModel {
            embeddings: Embeddings::init(&config, &device),
            layers: vec![],
            pooler: Some(Pooler {
                dense: LinearConfig::new(16, 16).init::<B>(&device),
            }),
        };
        let base_file = tmp.path().join("base.safetensors");
        let table = [(r"^", "bert.")];
        save_pytorch_tensors(&base, &base_file, None, &table).expect("base");

        let encoder = config.init::<B>(&device);
        let out = tmp.path().join("out");
        std::fs::create_dir_all(&out).expect("out");
        let saved = save_pretrained(&encoder, &config, &out, Some(&base_file)).expect("export");
        assert!(saved.pooler);
        assert!(saved.tensors.contains(&"pooler.dense.weight".to_string()));

        let read = |path: &Path, key: &str| -> Vec<f32> {
            let mut pooler = Pooler {
                dense: LinearConfig::new(16, 16).init::<B>(&device),
            };
            let mut store = SafetensorsStore::from_file(path)
                .with_key_remapping(key, "")
                .allow_partial(true);
            pooler.load_from(&mut store).expect("read pooler");
            pooler
                .dense
                .weight
                .val()
                .into_data()
                .to_vec::<f32>()
                .expect("f32")
        };
        assert_eq!(
            read(&base_file, r"^bert\.pooler\."),
            read(&out.join(WEIGHTS_FILE), r"^pooler\.")
        );
        let want = base
            .pooler
            .as_ref()
            .expect("pooler")
            .dense
            .weight
            .val()
            .transpose();
        assert_eq!(
            read(&out.join(WEIGHTS_FILE), r"^pooler\."),
            want.into_data().to_vec::<f32>().expect("f32")
        );
    }
}
