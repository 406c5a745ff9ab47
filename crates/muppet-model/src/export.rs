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
use crate::classification_head::ClassificationHead;
use crate::span_head::SpanHead;
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
    /// Whether `pooler.dense.*` was written (carried over from the base model, or a task
    /// head's dense layer).
    pub pooler: bool,
    /// The transformers class `config.json` names (`BertModel`, `RobertaForSequenceClassification`, ...).
    pub architecture: String,
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
        architecture: hf_architecture(config.model_type).to_string(),
    })
}

/// One task's head as a transformers task model reads it.
pub enum TaskHead<'a, B: Backend> {
    /// `BertForSequenceClassification` / `RobertaForSequenceClassification`: a classification
    /// head with its labels, or a regression head (one output) with `labels` `None`.
    Sequence { head: &'a ClassificationHead<B>, labels: Option<&'a [String]> },
    /// `*ForMultipleChoice`: the score of each (context, choice) sequence.
    MultipleChoice { head: &'a ClassificationHead<B> },
    /// `*ForQuestionAnswering`: start and end logits per token.
    QuestionAnswering { head: &'a SpanHead<B> },
}

/// A task model's keys: the bare model's ([`EXPORT_KEY_TABLE`]) under the encoder's prefix,
/// and BERT's one-layer `classifier`.
const fn task_keys(prefixed: &'static str) -> [(&'static str, &'static str); 5] {
    [
        EXPORT_KEY_TABLE[0],
        EXPORT_KEY_TABLE[1],
        EXPORT_KEY_TABLE[2],
        (r"^(embeddings|encoder|pooler)\.", prefixed),
        (r"^classifier_linear\.", "classifier."),
    ]
}
const BERT_TASK_KEYS: [(&str, &str); 5] = task_keys("bert.$1.");
const ROBERTA_TASK_KEYS: [(&str, &str); 5] = task_keys("roberta.$1.");

/// RoBERTa's `RobertaClassificationHead`: `classifier.dense`, `classifier.out_proj`.
#[derive(Module, Debug)]
struct RobertaClassifier<B: Backend> {
    dense: Linear<B>,
    out_proj: Linear<B>,
}

/// The module tree of a transformers task model: the encoder under `bert.`/`roberta.`, the
/// pooler where the class has one, and the head's own layers. `classifier_linear` is BERT's
/// (and the multiple-choice classes') one-layer `classifier`.
#[derive(Module, Debug)]
struct HfTaskModel<B: Backend> {
    embeddings: Embeddings<B>,
    layers: Vec<EncoderLayer<B>>,
    pooler: Option<Pooler<B>>,
    classifier: Option<RobertaClassifier<B>>,
    classifier_linear: Option<Linear<B>>,
    qa_outputs: Option<Linear<B>>,
}

/// Write `encoder` with one task's `head` into the existing folder `dir` as a transformers
/// task model (`config.json` + `model.safetensors`) that `AutoModelForSequenceClassification`,
/// `AutoModelForMultipleChoice` or `AutoModelForQuestionAnswering` loads with no newly
/// initialised weight, and `pipeline()` runs.
///
/// Muppet's first-token heads are `out_proj(tanh(dense(h[:, 0])))`. RoBERTa's sequence
/// classifier is exactly that (`classifier.dense`, `classifier.out_proj`); BERT's sequence
/// classifier and both multiple-choice classes compute `classifier(pooler(h))` with
/// `pooler = tanh(dense(h[:, 0]))`, so `dense` becomes the pooler and `out_proj` the
/// classifier. The span head is `qa_outputs` as it is.
pub fn save_for_task<B: Backend>(
    encoder: &Encoder<B>,
    config: &EncoderConfig,
    dir: &Path,
    task: TaskHead<'_, B>,
) -> Result<SavedModel, ModelError> {
    encoder.visit(&mut Materialize);
    let mut model = HfTaskModel {
        embeddings: encoder.embeddings.clone(),
        layers: encoder.layers.clone(),
        pooler: None,
        classifier: None,
        classifier_linear: None,
        qa_outputs: None,
    };
    let roberta = config.model_type == ModelType::Roberta;
    let class = |task: &str| format!("{}For{task}", if roberta { "Roberta" } else { "Bert" });
    let mut json = hf_config_json(config);
    let fields = json.as_object_mut().expect("hf_config_json gives an object");
    let architecture = match task {
        TaskHead::Sequence { head, labels } => {
            head.visit(&mut Materialize);
            if roberta {
                model.classifier = Some(RobertaClassifier { dense: head.dense.clone(), out_proj: head.out_proj.clone() });
            } else {
                model.pooler = Some(Pooler { dense: head.dense.clone() });
                model.classifier_linear = Some(head.out_proj.clone());
            }
            match labels {
                Some(labels) => {
                    let id2label: serde_json::Map<String, serde_json::Value> = labels.iter().enumerate().map(|(i, l)| (i.to_string(), l.clone().into())).collect();
                    let label2id: serde_json::Map<String, serde_json::Value> = labels.iter().enumerate().map(|(i, l)| (l.clone(), i.into())).collect();
                    fields.insert("id2label".into(), id2label.into());
                    fields.insert("label2id".into(), label2id.into());
                    fields.insert("problem_type".into(), "single_label_classification".into());
                }
                None => {
                    fields.insert("num_labels".into(), 1.into());
                    fields.insert("id2label".into(), serde_json::json!({"0": "value"}));
                    fields.insert("label2id".into(), serde_json::json!({"value": 0}));
                    fields.insert("problem_type".into(), "regression".into());
                }
            }
            class("SequenceClassification")
        }
        TaskHead::MultipleChoice { head } => {
            head.visit(&mut Materialize);
            model.pooler = Some(Pooler { dense: head.dense.clone() });
            model.classifier_linear = Some(head.out_proj.clone());
            class("MultipleChoice")
        }
        TaskHead::QuestionAnswering { head } => {
            head.visit(&mut Materialize);
            model.qa_outputs = Some(head.qa_outputs.clone());
            class("QuestionAnswering")
        }
    };
    fields.insert("architectures".into(), serde_json::json!([&architecture]));

    let config_path = dir.join(CONFIG_FILE);
    let text = serde_json::to_string_pretty(&json).map_err(|e| ModelError::Write { path: config_path.clone(), source: std::io::Error::other(e) })? + "\n";
    std::fs::write(&config_path, text).map_err(|source| ModelError::Write { path: config_path.clone(), source })?;
    let weights = dir.join(WEIGHTS_FILE);
    let with_pooler = model.pooler.is_some();
    let table = if roberta { &ROBERTA_TASK_KEYS } else { &BERT_TASK_KEYS };
    let tensors = save_pytorch_tensors(&model, &weights, None, table)?;
    Ok(SavedModel { config: config_path, weights, tensors, pooler: with_pooler, architecture })
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

    /// A task export names its tensors as the transformers task class of each family and
    /// encoder does, with the task's labels in config.json, and reads back as the same encoder.
    #[test]
    fn a_task_export_names_tensors_as_the_transformers_task_classes() {
        use crate::classification_head::ClassificationHeadConfig;
        let device = Default::default();
        let labels = vec!["neg".to_string(), "pos".to_string()];
        for model_type in [ModelType::Bert, ModelType::Roberta] {
            let config = tiny(model_type);
            let encoder = config.init::<B>(&device);
            let classifier = ClassificationHeadConfig::new(16, 2).init::<B>(&device);
            let regressor = ClassificationHeadConfig::new(16, 1).init::<B>(&device);
            let choice = ClassificationHeadConfig::new(16, 1).init::<B>(&device);
            let span = SpanHead::<B>::new(16, &device);
            let (prefix, class) = match model_type {
                ModelType::Bert => ("bert", "Bert"),
                ModelType::Roberta => ("roberta", "Roberta"),
            };
            // (head, class suffix, tensors written, tensors not written)
            type Case<'a> = (TaskHead<'a, B>, &'a str, &'a [&'a str], &'a [&'a str]);
            let cases: [Case<'_>; 4] = [
                (
                    TaskHead::Sequence { head: &classifier, labels: Some(&labels) },
                    "ForSequenceClassification",
                    if model_type == ModelType::Bert { &["bert.pooler.dense.weight", "classifier.weight", "classifier.bias"] } else { &["classifier.dense.weight", "classifier.out_proj.weight", "classifier.out_proj.bias"] },
                    if model_type == ModelType::Bert { &["classifier.dense.weight"] } else { &["roberta.pooler.dense.weight", "classifier.weight"] },
                ),
                (TaskHead::Sequence { head: &regressor, labels: None }, "ForSequenceClassification", &[], &[]),
                (TaskHead::MultipleChoice { head: &choice }, "ForMultipleChoice", &["pooler.dense.weight", "classifier.weight", "classifier.bias"], &["classifier.dense.weight"]),
                (TaskHead::QuestionAnswering { head: &span }, "ForQuestionAnswering", &["qa_outputs.weight", "qa_outputs.bias"], &["pooler.dense.weight", "classifier.weight"]),
            ];
            for (head, suffix, present, absent) in cases {
                let tmp = tempfile::tempdir().expect("temp dir");
                let saved = save_for_task(&encoder, &config, tmp.path(), head).expect("task export");
                for name in present {
                    let name = if name.starts_with("pooler.") { format!("{prefix}.{name}") } else { (*name).to_string() };
                    assert!(saved.tensors.contains(&name), "{model_type:?} {suffix}: no {name} in {:?}", saved.tensors);
                }
                for name in absent {
                    let name = if name.starts_with("pooler.") { format!("{prefix}.{name}") } else { (*name).to_string() };
                    assert!(!saved.tensors.contains(&name), "{model_type:?} {suffix}: {name} in {:?}", saved.tensors);
                }
                assert!(saved.tensors.contains(&format!("{prefix}.encoder.layer.1.attention.self.query.weight")), "{:?}", saved.tensors);
                assert!(saved.tensors.iter().all(|t| t.starts_with(&format!("{prefix}.")) || t.starts_with("classifier") || t.starts_with("qa_outputs")), "{:?}", saved.tensors);
                let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&saved.config).expect("config.json")).expect("JSON");
                assert_eq!(json["architectures"][0], format!("{class}{suffix}"));
                let (loaded, _) = load_pretrained::<B>(tmp.path(), &device).expect("the encoder reads back from a task export");
                assert_eq!(params(&loaded), params(&encoder), "{model_type:?} {suffix}");
                if let Some(id2label) = json.get("id2label").filter(|_| suffix == "ForSequenceClassification") {
                    let want = if json["problem_type"] == "regression" { serde_json::json!({"0": "value"}) } else { serde_json::json!({"0": "neg", "1": "pos"}) };
                    assert_eq!(id2label, &want, "{json}");
                }
            }
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
