//! Export of a run's checkpoint as a Hugging Face folder:
//! - `config.json` + `model.safetensors`: the encoder as `BertModel`/`RobertaModel`
//!   ([`muppet_model::export::save_pretrained`]), loadable with `AutoModel.from_pretrained`;
//! - `heads.safetensors`: the task heads' parameters named by their module path in
//!   [`MultiTaskModel`] (`classifiers.0.dense.weight`, `span.qa_outputs.bias`, ...), PyTorch
//!   layout (`Linear` weights `[out, in]`);
//! - `heads.json`: which task uses which head tensors, with its family, labels and metric;
//! - the base model's tokenizer files, so `AutoTokenizer.from_pretrained` works on the folder;
//! - `README.md`, the model card, when the caller writes one from what it knows of the run.
//!
//! The folder is built under a hidden temporary name beside the destination and renamed into
//! place, so a failed export never leaves a half-written folder behind.

use std::path::{Path, PathBuf};

use burn::prelude::*;
use muppet_core::{TaskFamily, TaskSpec};
use muppet_model::export::{save_for_task, save_pretrained, save_pytorch_tensors, TaskHead};
use muppet_model::{ModelError, WEIGHTS_FILE};
use serde::Serialize;

use crate::manifest::{load_checkpoint, RunManifest, MANIFEST_FILE};
use crate::model::HeadRef;
use crate::TrainError;

/// Head tensors of an export.
pub const HEADS_FILE: &str = "heads.safetensors";
/// Manifest of the heads of an export.
pub const HEADS_MANIFEST: &str = "heads.json";
/// The model card of an export, as on the Hugging Face hub.
pub const CARD_FILE: &str = "README.md";
/// The tokenizer file every export carries.
pub const TOKENIZER_FILE: &str = "tokenizer.json";
/// Tokenizer files copied when the base model folder has them (BERT's `vocab.txt`, RoBERTa's
/// `vocab.json` + `merges.txt`, and the settings `AutoTokenizer` reads).
pub const OPTIONAL_TOKENIZER_FILES: [&str; 5] =
    ["vocab.txt", "vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json"];

/// What can go wrong in an export; each message names the file or folder and what to do.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("the run folder {} does not exist: check the run id (`muppet runs list`)", .0.display())]
    NoRunFolder(PathBuf),
    #[error(
        "the run folder {} has no {MANIFEST_FILE}: it was not written by a training run of this version, so its checkpoints cannot be read back",
        .0.display()
    )]
    NoManifest(PathBuf),
    #[error("the run folder {} has no checkpoint (model-step<N>.mpk) yet: a run saves one when it finishes or is cancelled", .0.display())]
    NoCheckpoint(PathBuf),
    #[error("the run folder {} has no checkpoint at step {step}; it has steps {available}", .dir.display())]
    NoSuchStep { dir: PathBuf, step: u64, available: String },
    #[error("{} already exists and is not empty: choose another output folder, or replace it with --force", .0.display())]
    NotEmpty(PathBuf),
    #[error("{} exists and is not a folder: choose another output folder", .0.display())]
    NotAFolder(PathBuf),
    #[error("the run has no task `{task}`; its tasks are {tasks}")]
    NoSuchTask { task: String, tasks: String },
    #[error("the base model folder {} has no {TOKENIZER_FILE}, which the export must carry: point run.json's model_dir at the model folder, or fetch it again (`muppet assets fetch --model`)", .0.display())]
    NoTokenizer(PathBuf),
    #[error("cannot write {}: {source}. Check the free space and permissions of the output folder", .path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Train(#[from] TrainError),
    #[error(transparent)]
    Model(#[from] ModelError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ExportError + '_ {
    move |source| ExportError::Io { path: path.to_path_buf(), source }
}

/// The model checkpoints (`model-step<N>.mpk`) of a run folder, by step.
pub fn model_checkpoints(run_dir: &Path) -> Result<Vec<(u64, PathBuf)>, ExportError> {
    if !run_dir.is_dir() {
        return Err(ExportError::NoRunFolder(run_dir.to_path_buf()));
    }
    let steps = crate::checkpoint::model_steps(run_dir)?;
    Ok(steps.into_iter().map(|step| (step, crate::checkpoint::file(run_dir, "model", step))).collect())
}

/// The checkpoint of `run_dir` at `step`, or its latest one.
pub fn find_checkpoint(run_dir: &Path, step: Option<u64>) -> Result<(u64, PathBuf), ExportError> {
    let all = model_checkpoints(run_dir)?;
    if !run_dir.join(MANIFEST_FILE).is_file() {
        return Err(ExportError::NoManifest(run_dir.to_path_buf()));
    }
    match step {
        None => all.last().cloned().ok_or_else(|| ExportError::NoCheckpoint(run_dir.to_path_buf())),
        Some(step) => all.iter().find(|(s, _)| *s == step).cloned().ok_or_else(|| {
            if all.is_empty() {
                ExportError::NoCheckpoint(run_dir.to_path_buf())
            } else {
                let available = all.iter().map(|(s, _)| s.to_string()).collect::<Vec<_>>().join(", ");
                ExportError::NoSuchStep { dir: run_dir.to_path_buf(), step, available }
            }
        }),
    }
}

/// One task of `heads.json`.
#[derive(Debug, Clone, Serialize)]
pub struct HeadTask {
    pub name: String,
    pub family: TaskFamily,
    pub labels: Vec<String>,
    pub metric: muppet_core::Metric,
    /// The head: its kind and, for per-task heads, its index.
    pub head: HeadRef,
    /// Prefix of its tensors in `heads.safetensors` (`classifiers.0`, `choice`, `span`).
    pub module: String,
    /// Its tensors in `heads.safetensors`, sorted.
    pub tensors: Vec<String>,
    /// What the head computes from the encoder's last hidden states `h` `[batch, seq, hidden]`.
    pub computes: &'static str,
}

/// `heads.json`.
#[derive(Debug, Clone, Serialize)]
pub struct HeadsManifest {
    /// The file holding the tensors.
    pub tensors_file: &'static str,
    /// Orientation of the tensors.
    pub layout: &'static str,
    /// The run's checkpoint the export was made from.
    pub checkpoint: PathBuf,
    pub step: u64,
    /// Tokens per sequence the run was trained with.
    pub max_len: usize,
    /// The base model the run started from.
    pub base_model: PathBuf,
    pub tasks: Vec<HeadTask>,
}

/// What [`export_hf`] wrote.
#[derive(Debug, Clone, Serialize)]
pub struct ExportSummary {
    pub out: PathBuf,
    pub checkpoint: PathBuf,
    pub step: u64,
    /// The transformers class `config.json` names (`BertModel`, `RobertaForSequenceClassification`, ...).
    pub architecture: String,
    /// The task whose head the model carries, for a task export.
    pub task: Option<String>,
    /// Tensors in `model.safetensors`.
    pub encoder_tensors: usize,
    /// Whether the base model's pooler was carried over.
    pub pooler: bool,
    /// Tensors in `heads.safetensors`.
    pub head_tensors: usize,
    /// Files in the folder, sorted.
    pub files: Vec<String>,
    pub tasks: Vec<String>,
}

fn computes(head: HeadRef) -> &'static str {
    match head {
        HeadRef::Classifier(_) => "logits = out_proj(tanh(dense(h[:, 0]))), one per label",
        HeadRef::Regressor(_) => "value = out_proj(tanh(dense(h[:, 0])))[:, 0]",
        HeadRef::Choice => "score of one (context, choice) sequence = out_proj(tanh(dense(h[:, 0])))[:, 0]; softmax over the choices",
        HeadRef::Span => "start, end logits = qa_outputs(h)[..., 0], qa_outputs(h)[..., 1], per token",
    }
}

/// Export the model saved in `checkpoint` (a `model-step<N>.mpk` of the run folder `run_dir`)
/// as a Hugging Face folder `out`. A non-empty `out` is replaced only with `force`.
///
/// Without `task`: the encoder as `BertModel`/`RobertaModel`, with every head in
/// `heads.safetensors`. With `task`: the encoder and that task's head as the transformers
/// task model (`*ForSequenceClassification` with its labels, `*ForMultipleChoice`,
/// `*ForQuestionAnswering`, see [`muppet_model::export::save_for_task`]).
///
/// `card`: the model card (`README.md`) of what was written, written with the rest.
#[allow(clippy::too_many_arguments)]
pub fn export_hf<B: Backend>(
    run_dir: &Path,
    checkpoint: &Path,
    step: u64,
    out: &Path,
    force: bool,
    task: Option<&str>,
    card: Option<&dyn Fn(&ExportSummary) -> String>,
    device: &B::Device,
) -> Result<ExportSummary, ExportError> {
    check_destination(out, force)?;
    let manifest = RunManifest::read(run_dir)?;
    let tokenizer = manifest.model_dir.join(TOKENIZER_FILE);
    if !tokenizer.is_file() {
        return Err(ExportError::NoTokenizer(manifest.model_dir.clone()));
    }
    let (model, manifest) = load_checkpoint::<B>(run_dir, checkpoint, device)?;
    let config = manifest.encoder_config()?;

    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(io(&parent))?;
    let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "export".into());
    let staging = parent.join(format!(".{name}.partial-{}", std::process::id()));
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(io(&staging))?;
    }
    std::fs::create_dir(&staging).map_err(io(&staging))?;

    let written = (|| -> Result<ExportSummary, ExportError> {
        if let Some(name) = task {
            let i = manifest.tasks.iter().position(|t| t.name == name).ok_or_else(|| ExportError::NoSuchTask {
                task: name.to_string(),
                tasks: manifest.tasks.iter().map(|t| format!("`{}`", t.name)).collect::<Vec<_>>().join(", "),
            })?;
            let spec = &manifest.tasks[i];
            let head = match manifest.heads[i] {
                HeadRef::Classifier(c) => TaskHead::Sequence { head: &model.classifiers[c], labels: Some(&spec.labels) },
                HeadRef::Regressor(r) => TaskHead::Sequence { head: &model.regressors[r], labels: None },
                HeadRef::Choice => TaskHead::MultipleChoice { head: model.choice.as_ref().expect("a multiple-choice task has the choice head") },
                HeadRef::Span => TaskHead::QuestionAnswering { head: model.span.as_ref().expect("a span task has the span head") },
            };
            let saved = save_for_task(&model.encoder, &config, &staging, head)?;
            copy_tokenizer(&manifest.model_dir, &staging)?;
            return Ok(ExportSummary {
                out: out.to_path_buf(),
                checkpoint: checkpoint.to_path_buf(),
                step,
                architecture: saved.architecture,
                task: Some(name.to_string()),
                encoder_tensors: saved.tensors.len(),
                pooler: saved.pooler,
                head_tensors: 0,
                files: files_of(&staging)?,
                tasks: vec![name.to_string()],
            });
        }
        let base_weights = manifest.model_dir.join(WEIGHTS_FILE);
        let saved = save_pretrained(&model.encoder, &config, &staging, base_weights.is_file().then_some(base_weights.as_path()))?;

        let mut modules: Vec<String> = manifest.heads.iter().map(|h| h.module_path()).collect();
        modules.sort();
        modules.dedup();
        let head_tensors = save_pytorch_tensors(&model, &staging.join(HEADS_FILE), Some(&modules), &[])?;
        let tasks = heads_of(&manifest.tasks, &manifest.heads, &head_tensors);
        let heads = HeadsManifest {
            tensors_file: HEADS_FILE,
            layout: "PyTorch: Linear weight [out, in], bias [out]; names are module paths of the multi-task model",
            checkpoint: checkpoint.to_path_buf(),
            step,
            max_len: manifest.max_len,
            base_model: manifest.model_dir.clone(),
            tasks,
        };
        let path = staging.join(HEADS_MANIFEST);
        let json = serde_json::to_string_pretty(&heads).map_err(|e| ExportError::Io { path: path.clone(), source: e.into() })?;
        std::fs::write(&path, json + "\n").map_err(io(&path))?;

        copy_tokenizer(&manifest.model_dir, &staging)?;
        let files = files_of(&staging)?;
        Ok(ExportSummary {
            out: out.to_path_buf(),
            checkpoint: checkpoint.to_path_buf(),
            step,
            architecture: saved.architecture,
            task: None,
            encoder_tensors: saved.tensors.len(),
            pooler: saved.pooler,
            head_tensors: head_tensors.len(),
            files,
            tasks: manifest.tasks.iter().map(|t| t.name.clone()).collect(),
        })
    })()
    .and_then(|mut summary| {
        if let Some(card) = card {
            let path = staging.join(CARD_FILE);
            std::fs::write(&path, card(&summary)).map_err(io(&path))?;
            summary.files = files_of(&staging)?;
        }
        replace(&staging, out)?;
        Ok(summary)
    });
    if written.is_err() {
        // Ours and incomplete; failing to remove it changes nothing for the caller.
        let _ = std::fs::remove_dir_all(&staging);
    }
    written
}

/// Copy the base model's tokenizer files into the export folder `dir`.
fn copy_tokenizer(model_dir: &Path, dir: &Path) -> Result<(), ExportError> {
    for file in std::iter::once(TOKENIZER_FILE).chain(OPTIONAL_TOKENIZER_FILES) {
        let from = model_dir.join(file);
        if from.is_file() {
            let to = dir.join(file);
            std::fs::copy(&from, &to).map_err(io(&to))?;
        }
    }
    Ok(())
}

/// The files of `dir`, sorted.
fn files_of(dir: &Path) -> Result<Vec<String>, ExportError> {
    let mut files: Vec<String> = std::fs::read_dir(dir).map_err(io(dir))?.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    files.sort();
    Ok(files)
}

/// The `heads.json` entry of each task.
fn heads_of(tasks: &[TaskSpec], heads: &[HeadRef], tensors: &[String]) -> Vec<HeadTask> {
    tasks
        .iter()
        .zip(heads)
        .map(|(t, &head)| {
            let module = head.module_path();
            let prefix = format!("{module}.");
            HeadTask {
                name: t.name.clone(),
                family: t.family,
                labels: t.labels.clone(),
                metric: t.metric,
                head,
                tensors: tensors.iter().filter(|n| n.starts_with(&prefix)).cloned().collect(),
                module,
                computes: computes(head),
            }
        })
        .collect()
}

/// Refuse a destination that is a file, or a non-empty folder without `force`.
fn check_destination(out: &Path, force: bool) -> Result<(), ExportError> {
    if !out.exists() {
        return Ok(());
    }
    if !out.is_dir() {
        return Err(ExportError::NotAFolder(out.to_path_buf()));
    }
    let empty = std::fs::read_dir(out).map_err(io(out))?.next().is_none();
    if !empty && !force {
        return Err(ExportError::NotEmpty(out.to_path_buf()));
    }
    Ok(())
}

/// Move the finished `staging` folder to `out`, replacing what is there (already checked).
fn replace(staging: &Path, out: &Path) -> Result<(), ExportError> {
    if out.exists() {
        let old = staging.with_extension("old");
        std::fs::rename(out, &old).map_err(io(out))?;
        std::fs::rename(staging, out).map_err(io(out))?;
        std::fs::remove_dir_all(&old).map_err(io(&old))?;
    } else {
        std::fs::rename(staging, out).map_err(io(out))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoints_are_found_by_step_and_missing_ones_are_named() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let run = tmp.path().join("runs/7");
        let err = find_checkpoint(&run, None).expect_err("no folder");
        assert!(matches!(err, ExportError::NoRunFolder(_)), "{err}");

        std::fs::create_dir_all(&run).expect("run folder");
        let err = find_checkpoint(&run, None).expect_err("no run.json");
        assert!(err.to_string().contains("run.json"), "{err}");

        std::fs::write(run.join(MANIFEST_FILE), "{}").expect("run.json");
        let err = find_checkpoint(&run, None).expect_err("no checkpoint");
        assert!(matches!(err, ExportError::NoCheckpoint(_)), "{err}");
        assert!(err.to_string().contains("has no checkpoint"), "{err}");

        for step in [10, 2, 30] {
            std::fs::write(run.join(format!("model-step{step}.mpk")), b"x").expect("file");
        }
        std::fs::write(run.join("optim-step30.mpk"), b"x").expect("file");
        let (step, path) = find_checkpoint(&run, None).expect("latest");
        assert_eq!((step, path.file_name().expect("name").to_str()), (30, Some("model-step30.mpk")));
        assert_eq!(find_checkpoint(&run, Some(2)).expect("step 2").0, 2);
        let err = find_checkpoint(&run, Some(5)).expect_err("no step 5");
        assert!(err.to_string().contains("steps 2, 10, 30"), "{err}");
    }

    #[test]
    fn a_non_empty_destination_needs_force() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = tmp.path().join("out");
        assert!(check_destination(&out, false).is_ok());
        std::fs::create_dir_all(&out).expect("out");
        assert!(check_destination(&out, false).is_ok(), "an empty folder is fine");
        std::fs::write(out.join("keep.txt"), b"mine").expect("file");
        let err = check_destination(&out, false).expect_err("not empty");
        assert!(err.to_string().contains("--force"), "{err}");
        assert!(check_destination(&out, true).is_ok());
        let err = check_destination(&out.join("keep.txt"), true).expect_err("a file");
        assert!(matches!(err, ExportError::NotAFolder(_)), "{err}");
    }

    #[test]
    fn a_saved_checkpoint_exports_its_encoder_exactly_and_every_head() {
        use burn::backend::Flex;
        use muppet_model::{load_pretrained, EncoderConfig, HiddenAct, ModelType, CONFIG_FILE};
        type B = Flex;

        let device = Default::default();
        let tmp = tempfile::tempdir().expect("tempdir");
        // A base model folder: config, weights (no pooler) and a tokenizer file.
        let base = tmp.path().join("base");
        std::fs::create_dir_all(&base).expect("base");
        let config = EncoderConfig::new(30, 16, 2, 4, 32, HiddenAct::Gelu, 12, 2, 1e-12, 0, 0.1, 0.1, ModelType::Bert);
        save_pretrained(&config.init::<B>(&device), &config, &base, None).expect("base model");
        std::fs::write(base.join(TOKENIZER_FILE), "{}").expect("tokenizer");
        std::fs::write(base.join("vocab.txt"), "[PAD]\n").expect("vocab");

        let label = |n: &str| n.to_string();
        let tasks = vec![
            TaskSpec::new("sentiment", TaskFamily::Single, vec![label("neg"), label("pos")], "test", "test"),
            TaskSpec::new("similarity", TaskFamily::Regression, vec![], "test", "test"),
            TaskSpec::new("nli", TaskFamily::Pair, vec![label("e"), label("n"), label("c")], "test", "test"),
            TaskSpec::new("squad", TaskFamily::Span, vec![], "test", "test"),
        ];
        let (encoder, _) = load_pretrained::<B>(&base, &device).expect("load base");
        let model = crate::model::MultiTaskModel::new(encoder, &tasks, 0.0, &device);
        let run = tmp.path().join("runs/1");
        RunManifest::new(&base, &tasks, 16).write(&run).expect("run.json");
        let checkpoint = crate::checkpoint::save(&model, &run, 4).expect("checkpoint");
        // The reference is what the checkpoint holds (a never-read parameter of `model` is
        // still lazy: the clone that `save` writes draws its own values).
        let (model, _) = load_checkpoint::<B>(&run, &checkpoint, &device).expect("read back");

        let out = tmp.path().join("exports/hf");
        let (step, found) = find_checkpoint(&run, None).expect("found");
        assert_eq!((step, &found), (4, &checkpoint));
        let card = |s: &ExportSummary| format!("# step {} of {}\n", s.step, s.architecture);
        let summary = export_hf::<B>(&run, &found, step, &out, false, None, Some(&card), &device).expect("export");
        assert!(!summary.pooler);
        assert_eq!(
            summary.files,
            ["README.md", "config.json", "heads.json", "heads.safetensors", "model.safetensors", "tokenizer.json", "vocab.txt"]
        );
        assert_eq!(std::fs::read_to_string(out.join(CARD_FILE)).expect("card"), "# step 4 of BertModel\n", "the card is told what was written");
        // Nothing left beside it.
        let leftovers: Vec<_> = std::fs::read_dir(out.parent().expect("parent")).expect("list").flatten().map(|e| e.file_name()).collect();
        assert_eq!(leftovers, [std::ffi::OsString::from("hf")]);

        let (exported, _) = load_pretrained::<B>(&out, &device).expect("load export");
        let values = |e: &muppet_model::Encoder<B>| -> Vec<(String, Vec<f32>)> {
            let mut v: Vec<_> = burn_snapshot(e);
            v.sort_by(|a, b| a.0.cmp(&b.0));
            v
        };
        assert_eq!(values(&exported), values(&model.encoder));
        assert!(out.join(CONFIG_FILE).is_file());

        let heads: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join(HEADS_MANIFEST)).expect("heads.json")).expect("JSON");
        let listed: Vec<&str> = heads["tasks"].as_array().expect("tasks").iter().map(|t| t["name"].as_str().expect("name")).collect();
        assert_eq!(listed, ["sentiment", "similarity", "nli", "squad"]);
        assert_eq!(heads["tasks"][2]["module"], "classifiers.1");
        assert_eq!(heads["tasks"][2]["labels"], serde_json::json!(["e", "n", "c"]));
        assert_eq!(heads["tasks"][1]["module"], "regressors.0");
        assert_eq!(heads["tasks"][3]["tensors"], serde_json::json!(["span.qa_outputs.bias", "span.qa_outputs.weight"]));
        assert_eq!(heads["step"], 4);

        // heads.safetensors: PyTorch orientation, [out, in].
        let bytes = std::fs::read(out.join(HEADS_FILE)).expect("heads");
        let len = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")) as usize;
        let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + len]).expect("header");
        assert_eq!(header["classifiers.1.out_proj.weight"]["shape"], serde_json::json!([3, 16]));
        assert_eq!(header["regressors.0.out_proj.weight"]["shape"], serde_json::json!([1, 16]));
        assert_eq!(header["span.qa_outputs.weight"]["shape"], serde_json::json!([2, 16]));
        assert!(header.as_object().expect("object").keys().all(|k| !k.starts_with("encoder")), "no encoder tensor in heads");
        let want = model.classifiers[1].out_proj.weight.val().transpose().into_data().to_vec::<f32>().expect("f32");
        let [start, end] = [0, 1].map(|i| header["classifiers.1.out_proj.weight"]["data_offsets"][i].as_u64().expect("offset") as usize);
        let got: Vec<f32> = bytes[8 + len + start..8 + len + end]
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect();
        assert_eq!(got, want);

        // A second export to the same folder needs --force, and then replaces it.
        let err = export_hf::<B>(&run, &found, step, &out, false, None, None, &device).expect_err("not empty");
        assert!(matches!(err, ExportError::NotEmpty(_)), "{err}");
        std::fs::write(out.join("stale.txt"), b"old").expect("stale");
        export_hf::<B>(&run, &found, step, &out, true, None, None, &device).expect("forced export");
        assert!(!out.join("stale.txt").exists());
    }

    fn burn_snapshot<B: Backend>(encoder: &muppet_model::Encoder<B>) -> Vec<(String, Vec<f32>)> {
        use burn::store::ModuleSnapshot;
        encoder
            .collect(None, None, false)
            .into_iter()
            .map(|s| (s.full_path(), s.to_data().expect("data").to_vec::<f32>().expect("f32")))
            .collect()
    }
}
