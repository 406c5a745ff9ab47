//! The mixture builder's run: the spec a launch or a saved spec file gets from the form
//! (tasks, backend and model folder checked), the spec file `muppet prefinetune --spec`
//! reads, and the run's wall time estimated from the throughput measured on this machine.

use std::path::{Path, PathBuf};

use muppet_core::RunStatus;
use muppet_store::Store;
use muppet_train::TrainConfig;
use muppet_train::backend::BackendKind;
use muppet_train::spec::{InitSpec, RunSpec, SpecFile};
use serde::{Deserialize, Serialize};

use crate::error::CommandError;
use crate::paths;

/// A pre-finetuning run as the mixture builder describes it.
#[derive(Debug, Deserialize)]
pub struct LaunchRequest {
    /// Shown in the runs table; default: the tasks joined with `+`.
    pub name: Option<String>,
    pub tasks: Vec<String>,
    /// `cpu` or `cuda`.
    pub backend: String,
    /// A model folder in Hugging Face layout; none (or blank): the default model of the assets.
    #[serde(default)]
    pub model: Option<String>,
    /// Every knob of the run; missing fields take `TrainConfig`'s defaults.
    pub config: TrainConfig,
    /// Tags put on the run as it is registered (`--tag`).
    #[serde(default)]
    pub tags: Vec<String>,
    /// A note kept with the run (`--note`); none or blank: no note.
    #[serde(default)]
    pub note: Option<String>,
}

/// `tasks` without repeats, each among `known`; `what` names them in the error for none.
fn checked_tasks(tasks: &[String], known: &[String], what: &str) -> Result<Vec<String>, CommandError> {
    let mut tasks = tasks.to_vec();
    tasks.dedup();
    if tasks.is_empty() {
        return Err(CommandError::Invalid(format!("pick at least one task {what}")));
    }
    if let Some(unknown) = tasks.iter().find(|name| !known.contains(name)) {
        return Err(CommandError::Invalid(format!("there is no task named `{unknown}`")));
    }
    Ok(tasks)
}

/// The pretrained model a run starts from: the model folder given (Hugging Face layout), or
/// the assets' default model, `default_model`, which must be there.
fn pretrained_model(folder: Option<&str>, default_model: &Path) -> Result<PathBuf, CommandError> {
    match folder.map(str::trim).filter(|m| !m.is_empty()) {
        Some(folder) => paths::model_folder(folder),
        None if default_model.join("config.json").is_file() => Ok(default_model.to_path_buf()),
        None => Err(CommandError::Invalid(format!("the base model is missing from {}: run `muppet assets fetch`", default_model.display()))),
    }
}

/// The spec of the run `request` describes: its tasks must be among `known`, its backend
/// known, and its model a model folder (or the default one, `default_model`, present).
pub fn run_spec(request: &LaunchRequest, known: &[String], default_model: &Path) -> Result<(RunSpec, BackendKind), CommandError> {
    let tasks = checked_tasks(&request.tasks, known, "for the mixture")?;
    let model = pretrained_model(request.model.as_deref(), default_model)?;
    let spec = RunSpec { model, tasks, backend: request.backend.clone(), init: InitSpec::Base, config: request.config.clone() };
    let backend = spec.backend_kind().map_err(|e| CommandError::Invalid(e.to_string()))?;
    Ok((spec, backend))
}

/// A fine-tune, of a stored run's checkpoint as the run page describes it (the source run's
/// max length and document stride), or of the pretrained model as the Tasks page does:
/// fine-tuning's defaults (`muppet finetune`) and what the form sets.
#[derive(Debug, Clone, Deserialize)]
pub struct FinetuneRequest {
    /// The run whose checkpoint it starts from; none: the pretrained model, `model`.
    #[serde(default)]
    pub from_run: Option<i64>,
    /// Without `from_run`: a model folder in Hugging Face layout; none (or blank): the default
    /// model of the assets.
    #[serde(default)]
    pub model: Option<String>,
    /// The checkpoint's step; none: the run's last checkpoint.
    #[serde(default)]
    pub step: Option<u64>,
    pub tasks: Vec<String>,
    /// Training examples kept per task (drawn with the seed); none: all of them.
    #[serde(default)]
    pub train_size: Option<usize>,
    /// Start from the pre-finetuned head of the same task (shared heads for MC and span).
    #[serde(default)]
    pub reuse_head: bool,
    /// R3F regularisation (λ = 1, uniform noise 1e-5), as the paper fine-tunes.
    #[serde(default)]
    pub r3f: bool,
    /// `cpu` or `cuda`.
    pub backend: String,
    #[serde(default)]
    pub steps: Option<u64>,
    #[serde(default)]
    pub batch_size: Option<usize>,
    #[serde(default)]
    pub lr: Option<f64>,
    /// Score dev every this many updates; none: at the start and the end only.
    #[serde(default)]
    pub eval_every: Option<u64>,
    /// Keep the checkpoint of the best dev score.
    #[serde(default)]
    pub keep_best: bool,
    /// Stop after this many dev evaluations in a row without a better score.
    #[serde(default)]
    pub early_stopping: Option<u64>,
    /// How much a dev score must beat the best to restart early stopping's count; none: 0.
    #[serde(default)]
    pub early_stopping_threshold: Option<f64>,
    /// Tags put on the fine-tune as it is registered.
    #[serde(default)]
    pub tags: Vec<String>,
    /// A note kept with the fine-tune; none or blank: no note.
    #[serde(default)]
    pub note: Option<String>,
}

/// Where a fine-tune starts: a stored run's spec and the checkpoint chosen, or the pretrained
/// model (its folder; the assets' default model without one).
pub enum FinetuneStart<'a> {
    Run { source: &'a RunSpec, checkpoint: &'a muppet_store::Checkpoint },
    Pretrained { default_model: &'a Path },
}

/// The spec of the fine-tune `request` describes, from `start`: its tasks among `known`,
/// its numbers positive.
pub fn finetune_spec(request: &FinetuneRequest, start: FinetuneStart, known: &[String]) -> Result<(RunSpec, BackendKind), CommandError> {
    let tasks = checked_tasks(&request.tasks, known, "to fine-tune on")?;
    let positive = |value: Option<u64>, what: &str| match value {
        Some(0) => Err(CommandError::Invalid(format!("{what} must be at least 1"))),
        _ => Ok(()),
    };
    positive(request.steps, "the number of updates")?;
    positive(request.batch_size.map(|b| b as u64), "the batch size")?;
    positive(request.train_size.map(|n| n as u64), "the training examples per task")?;
    positive(request.eval_every, "the updates between dev evaluations")?;
    positive(request.early_stopping, "the early-stopping patience (dev evaluations without a better score)")?;
    if (request.keep_best || request.early_stopping.is_some()) && request.eval_every.is_none() {
        return Err(CommandError::Invalid("keeping the best checkpoint and early stopping compare dev scores during training: set how often dev is scored (eval every N updates)".into()));
    }
    match request.early_stopping_threshold {
        Some(t) if !(t >= 0.0 && t.is_finite()) => return Err(CommandError::Invalid("the minimum gain of early stopping must be a number of at least 0".into())),
        Some(t) if t > 0.0 && request.early_stopping.is_none() => {
            return Err(CommandError::Invalid("the minimum gain only applies to early stopping: set early stopping (dev evaluations without a better score) too".into()));
        }
        _ => {}
    }
    if request.lr.is_some_and(|lr| !(lr > 0.0 && lr.is_finite())) {
        return Err(CommandError::Invalid("the learning rate must be a positive number".into()));
    }
    let defaults = TrainConfig::finetune();
    let config = TrainConfig {
        steps: request.steps.unwrap_or(defaults.steps),
        batch_size: request.batch_size.unwrap_or(defaults.batch_size),
        lr: request.lr.unwrap_or(defaults.lr),
        train_size: request.train_size,
        eval_every: request.eval_every.unwrap_or(defaults.eval_every),
        keep_best: request.keep_best,
        early_stopping: request.early_stopping,
        early_stopping_threshold: request.early_stopping_threshold.unwrap_or_default(),
        r3f: request.r3f.then(muppet_train::R3f::default),
        ..defaults
    };
    let spec = match start {
        FinetuneStart::Run { source, checkpoint } => {
            let config = TrainConfig { max_len: source.config.max_len, doc_stride: source.config.doc_stride, ..config };
            let init = InitSpec::Run { run: checkpoint.run.0, step: checkpoint.step, checkpoint: checkpoint.path.clone(), reuse_heads: request.reuse_head };
            source.finetune_from(init, tasks, request.backend.clone(), config)
        }
        FinetuneStart::Pretrained { default_model } => {
            if request.reuse_head {
                return Err(CommandError::Invalid("the pretrained model has no task heads to reuse: fine-tune from a pre-finetuning run to reuse one".into()));
            }
            RunSpec { model: pretrained_model(request.model.as_deref(), default_model)?, tasks, backend: request.backend.clone(), init: InitSpec::Base, config }
        }
    };
    let backend = spec.backend_kind().map_err(|e| CommandError::Invalid(e.to_string()))?;
    Ok((spec, backend))
}

/// A warning for each downstream task of `tasks` that shares inputs with a task of
/// `mixture` (the tasks run `source` trained on), from the stored overlap check.
pub fn leak_warnings(check: &muppet_store::OverlapCheck, tasks: &[String], mixture: &[String], source: muppet_core::RunId) -> Vec<String> {
    let mut out = Vec::new();
    for task in tasks {
        for o in check.of(task).unwrap_or_default().into_iter().filter(|o| mixture.contains(&o.other)) {
            out.push(format!(
                "{} of the {} inputs of `{task}` ({:.1}%) are also in `{}`, a task run {source} trained on: its dev scores measure memorisation, not transfer",
                o.shared, o.inputs, o.percent, o.other
            ));
        }
    }
    out
}

/// The spec as the TOML file `muppet prefinetune --spec FILE` reads: the default model is
/// left out (the file means the embedded default wherever it runs), the rest written whole.
pub fn spec_toml(spec: &RunSpec, default_model: &Path, name: Option<&str>) -> Result<String, CommandError> {
    let file = SpecFile::of_prefinetune(spec, default_model, name);
    let body = file.to_toml().map_err(|e| CommandError::Invalid(format!("the run spec cannot be written as TOML: {e}")))?;
    // Read back with the CLI's own parser: the file must give the same spec.
    let back = SpecFile::parse(&body).map_err(|e| CommandError::Invalid(format!("the run spec does not read back from TOML: {e}")))?;
    if back != file {
        return Err(CommandError::Invalid("the run spec does not read back from TOML unchanged; report this with the mixture".into()));
    }
    let tasks = spec.tasks.join(" + ");
    Ok(format!("# Pre-finetuning run made in Muppet Studio's mixture builder ({tasks}).\n# Run it with: muppet prefinetune --spec FILE\n\n{body}"))
}

/// A file the spec was saved to, and its size.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SavedSpec {
    pub path: String,
    pub bytes: u64,
}

/// Write the spec as a `.toml` run spec file at `path` (checked, written atomically).
pub fn save_spec(spec: &RunSpec, default_model: &Path, name: Option<&str>, path: &str) -> Result<SavedSpec, CommandError> {
    let path: PathBuf = paths::new_file(path, "spec file", "toml")?;
    let text = spec_toml(spec, default_model, name)?;
    paths::write_atomic(&path, text.as_bytes())?;
    Ok(SavedSpec { path: path.display().to_string(), bytes: text.len() as u64 })
}

/// What the estimate needs of the form.
#[derive(Debug, Deserialize)]
pub struct EstimateRequest {
    pub backend: String,
    pub max_len: usize,
    pub steps: u64,
    pub batch_size: usize,
    pub tasks_per_update: usize,
}

/// A completed run on this machine and its training throughput.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MeasuredRun {
    pub run: i64,
    pub name: String,
    /// `config.max_len` of its spec, when it has one.
    pub max_len: Option<usize>,
    /// Examples seen, at its last training step.
    pub examples: u64,
    /// Seconds of training to see them.
    pub seconds: f64,
}

/// The run's estimated wall time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunEstimate {
    /// Examples the run will see: steps × batch size × tasks per update.
    pub examples: u64,
    /// Measured examples per second; `None`: no completed run on this backend yet.
    pub examples_per_second: Option<f64>,
    pub seconds: Option<f64>,
    /// The runs the throughput came from.
    pub runs: Vec<MeasuredRun>,
    /// Whether those runs have the run's max length (else they are every measured run).
    pub same_max_len: bool,
}

/// The run's time at the throughput of `measured` (examples over seconds, summed): the
/// runs with max length `max_len` when there are some, else all of them.
pub fn estimate(measured: &[MeasuredRun], examples: u64, max_len: usize) -> RunEstimate {
    let usable: Vec<&MeasuredRun> = measured.iter().filter(|m| m.examples > 0 && m.seconds > 0.0).collect();
    let same: Vec<&MeasuredRun> = usable.iter().copied().filter(|m| m.max_len == Some(max_len)).collect();
    let same_max_len = !same.is_empty();
    let chosen = if same_max_len { same } else { usable };
    let seen: f64 = chosen.iter().map(|m| m.examples as f64).sum();
    let seconds: f64 = chosen.iter().map(|m| m.seconds).sum();
    let rate = (seconds > 0.0).then(|| seen / seconds);
    RunEstimate {
        examples,
        examples_per_second: rate,
        seconds: rate.map(|r| examples as f64 / r),
        runs: chosen.into_iter().cloned().collect(),
        same_max_len,
    }
}

/// The completed runs on `backend` with training points: what they saw and in how long.
pub async fn measured_runs(store: &Store, backend: BackendKind) -> Result<Vec<MeasuredRun>, CommandError> {
    let mut out = Vec::new();
    for row in store.list_runs().await? {
        if row.status != RunStatus::Completed || row.backend.as_deref() != Some(backend.name()) {
            continue;
        }
        let Some(last) = store.step_axis(row.id, 1).await?.pop() else { continue };
        let spec = store.run_spec(row.id).await?;
        let max_len = spec.pointer("/config/max_len").and_then(serde_json::Value::as_u64).map(|n| n as usize);
        out.push(MeasuredRun { run: row.id.0, name: row.name, max_len, examples: last.examples, seconds: last.wall_s });
    }
    Ok(out)
}

/// The estimate for `request` from the runs measured on its backend.
pub async fn estimate_run(store: &Store, request: &EstimateRequest) -> Result<RunEstimate, CommandError> {
    let backend: BackendKind = request.backend.parse().map_err(|e: muppet_train::TrainError| CommandError::Invalid(e.to_string()))?;
    let examples = request.steps * (request.batch_size * request.tasks_per_update) as u64;
    Ok(estimate(&measured_runs(store, backend).await?, examples, request.max_len))
}

#[cfg(test)]
mod tests {
    use muppet_core::MetricPoint;
    use muppet_store::NewRun;

    use super::*;

    fn model_folder(dir: &Path, files: &[&str]) -> PathBuf {
        std::fs::create_dir_all(dir).expect("mkdir");
        for f in files {
            std::fs::write(dir.join(f), "{}").expect("write");
        }
        dir.to_path_buf()
    }

    fn request(model: Option<String>) -> LaunchRequest {
        let config = TrainConfig { steps: 30, batch_size: 2, max_len: 32, doc_stride: 8, dev_size: 8, lr: 1e-4, ..TrainConfig::prefinetune() };
        LaunchRequest { name: None, tasks: vec!["rte".into(), "boolq".into()], backend: "cpu".into(), model, config, tags: Vec::new(), note: None }
    }

    #[test]
    fn the_spec_takes_the_default_model_or_a_checked_model_folder() {
        let dir = tempfile::tempdir().expect("tempdir");
        let default = model_folder(&dir.path().join("minilm"), &["config.json", "model.safetensors", "tokenizer.json"]);
        let known = vec!["rte".to_string(), "boolq".to_string()];
        let (spec, backend) = run_spec(&request(None), &known, &default).expect("default");
        assert_eq!(spec.model, default);
        assert_eq!(backend, BackendKind::Cpu);
        assert_eq!(spec.init, InitSpec::Base);
        let (spec, _) = run_spec(&request(Some("   ".into())), &known, &default).expect("blank");
        assert_eq!(spec.model, default, "a blank folder is the default model");

        let bert = model_folder(&dir.path().join("bert"), &["config.json", "model.safetensors", "tokenizer.json"]);
        let (spec, _) = run_spec(&request(Some(bert.display().to_string())), &known, &default).expect("folder");
        assert_eq!(spec.model, bert);

        let partial = model_folder(&dir.path().join("partial"), &["config.json"]);
        let error = run_spec(&request(Some(partial.display().to_string())), &known, &default).expect_err("partial");
        assert_eq!(error.kind(), "invalid");
        assert!(error.message().contains("no model.safetensors and tokenizer.json"), "{error}");
        assert!(!error.message().contains("no config.json"), "{error}");
        let error = run_spec(&request(Some(dir.path().join("nope").display().to_string())), &known, &default).expect_err("missing");
        assert!(error.message().contains("does not exist"), "{error}");
        let error = run_spec(&request(Some("relative/bert".into())), &known, &default).expect_err("relative");
        assert!(error.message().contains("absolute path"), "{error}");

        let error = run_spec(&request(None), &known, &dir.path().join("absent")).expect_err("no default");
        assert!(error.message().contains("muppet assets fetch"), "{error}");
        let error = run_spec(&request(None), &known[..1], &default).expect_err("unknown task");
        assert!(error.message().contains("no task named `boolq`"), "{error}");
        let error = run_spec(&LaunchRequest { backend: "tpu".into(), ..request(None) }, &known, &default).expect_err("backend");
        assert_eq!(error.kind(), "invalid");
    }

    /// What `muppet prefinetune --spec FILE` makes of the file (flags left out): the
    /// CLI's parser, then its defaults for what the file leaves out.
    fn as_cli_reads_it(path: &Path, default_model: &Path) -> (RunSpec, Option<String>) {
        let file = SpecFile::parse(&std::fs::read_to_string(path).expect("read")).expect("muppet prefinetune --spec accepts the file");
        assert!(!file.tasks.is_empty(), "the CLI refuses a spec without tasks");
        let spec = RunSpec {
            model: file.model.unwrap_or_else(|| default_model.to_path_buf()),
            tasks: file.tasks,
            backend: file.backend.unwrap_or_else(|| "cpu".into()),
            init: InitSpec::Base,
            config: file.config.unwrap_or_else(TrainConfig::prefinetune),
        };
        (spec, file.name)
    }

    /// A fine-tune from the run page: fine-tuning's defaults, the source's model, max length
    /// and doc stride, the checkpoint chosen, the form's values; bad values are named.
    #[test]
    fn a_fine_tune_starts_from_the_checkpoint_with_fine_tuning_defaults() {
        let dir = tempfile::tempdir().expect("tempdir");
        let default = model_folder(&dir.path().join("minilm"), &["config.json"]);
        let known = vec!["rte".to_string(), "boolq".to_string(), "winowhy".to_string()];
        let (source, _) = run_spec(&request(None), &known, &default).expect("source");
        let checkpoint = muppet_store::Checkpoint { run: muppet_core::RunId(3), path: dir.path().join("runs/3/model-step30.mpk"), step: 30, bytes: 1, sha256: "0".repeat(64) };
        let ask = FinetuneRequest {
            from_run: Some(3),
            model: None,
            step: None,
            tasks: vec!["winowhy".into()],
            train_size: Some(64),
            reuse_head: true,
            r3f: true,
            backend: "cpu".into(),
            steps: None,
            batch_size: Some(8),
            lr: None,
            eval_every: None,
            keep_best: false,
            early_stopping: None,
            early_stopping_threshold: None,
            tags: Vec::new(),
            note: None,
        };
        let from_run = || FinetuneStart::Run { source: &source, checkpoint: &checkpoint };
        let (spec, backend) = finetune_spec(&ask, from_run(), &known).expect("spec");
        assert_eq!(backend, BackendKind::Cpu);
        assert_eq!(spec.model, default);
        assert_eq!(spec.init, InitSpec::Run { run: 3, step: 30, checkpoint: checkpoint.path.clone(), reuse_heads: true });
        let defaults = TrainConfig::finetune();
        assert_eq!((spec.config.steps, spec.config.batch_size, spec.config.lr, spec.config.tasks_per_update), (defaults.steps, 8, defaults.lr, 1));
        assert_eq!((spec.config.max_len, spec.config.doc_stride, spec.config.train_size), (32, 8, Some(64)));
        assert_eq!(spec.config.r3f, Some(muppet_train::R3f::default()));
        assert_eq!(spec.finetune_name(), "fine-tune: winowhy n=64 from run 3");
        assert_eq!((spec.config.eval_every, spec.config.keep_best, spec.config.early_stopping), (0, false, None));
        let stopping = FinetuneRequest { eval_every: Some(5), early_stopping: Some(3), early_stopping_threshold: Some(0.01), ..ask.clone() };
        let (spec, _) = finetune_spec(&stopping, from_run(), &known).expect("early stopping");
        assert_eq!((spec.config.eval_every, spec.config.early_stopping, spec.config.keeps_best()), (5, Some(3), true));
        assert_eq!(spec.config.early_stopping_threshold, 0.01);

        let bad = |change: fn(&mut FinetuneRequest)| {
            let mut ask = ask.clone();
            change(&mut ask);
            finetune_spec(&ask, from_run(), &known).expect_err("refused").message()
        };
        assert_eq!(bad(|a| a.tasks.clear()), "pick at least one task to fine-tune on");
        assert_eq!(bad(|a| a.tasks = vec!["nope".into()]), "there is no task named `nope`");
        assert_eq!(bad(|a| a.steps = Some(0)), "the number of updates must be at least 1");
        assert_eq!(bad(|a| a.train_size = Some(0)), "the training examples per task must be at least 1");
        assert_eq!(bad(|a| a.lr = Some(f64::NAN)), "the learning rate must be a positive number");
        assert!(bad(|a| a.early_stopping = Some(2)).contains("set how often dev is scored"));
        assert!(bad(|a| a.keep_best = true).contains("set how often dev is scored"));
        assert_eq!(bad(|a| a.early_stopping = Some(0)), "the early-stopping patience (dev evaluations without a better score) must be at least 1");
        assert!(bad(|a| { a.eval_every = Some(5); a.early_stopping_threshold = Some(0.01) }).contains("set early stopping"));
        assert!(bad(|a| { a.eval_every = Some(5); a.early_stopping = Some(2); a.early_stopping_threshold = Some(-1.0) }).contains("at least 0"));
        assert!(bad(|a| a.backend = "tpu".into()).contains("tpu"));

        // From the pretrained model: the default model or the folder given, fine-tuning's own
        // max length; no head to reuse.
        let pretrained = || FinetuneStart::Pretrained { default_model: &default };
        let base = FinetuneRequest { from_run: None, reuse_head: false, ..ask.clone() };
        let (spec, _) = finetune_spec(&base, pretrained(), &known).expect("from the pretrained model");
        assert_eq!((spec.model.clone(), spec.init.clone()), (default.clone(), InitSpec::Base));
        assert_eq!((spec.config.max_len, spec.config.doc_stride, spec.config.train_size), (defaults.max_len, defaults.doc_stride, Some(64)));
        assert_eq!(spec.finetune_name(), "fine-tune: winowhy n=64");
        let other = model_folder(&dir.path().join("roberta"), &["config.json", "model.safetensors", "tokenizer.json"]);
        let folder = FinetuneRequest { model: Some(other.display().to_string()), ..base.clone() };
        assert_eq!(finetune_spec(&folder, pretrained(), &known).expect("a model folder").0.model, other);
        let heads = FinetuneRequest { reuse_head: true, ..base.clone() };
        assert!(finetune_spec(&heads, pretrained(), &known).expect_err("no heads").message().contains("no task heads to reuse"));
        let missing = dir.path().join("nowhere");
        assert!(finetune_spec(&base, FinetuneStart::Pretrained { default_model: &missing }, &known).expect_err("no model").message().contains("run `muppet assets fetch`"));
    }

    #[test]
    fn a_fine_tune_on_inputs_the_source_trained_on_is_warned_about() {
        let checked = |task: &str| muppet_core::task::CheckedTask { task: task.into(), fingerprint: "f".into(), inputs: 100 };
        let overlap = |task: &str, other: &str, shared: i64| muppet_store::StoredOverlap { task: task.into(), other: other.into(), shared, inputs: 100, percent: shared as f64 };
        let check = muppet_store::OverlapCheck {
            checked_at: None,
            tasks: vec![checked("rotten_tomatoes"), checked("rt_fresh_rotten"), checked("sst2")],
            overlaps: vec![overlap("rotten_tomatoes", "rt_fresh_rotten", 97), overlap("rotten_tomatoes", "sst2", 3)],
        };
        let warnings = leak_warnings(&check, &["rotten_tomatoes".into()], &["rt_fresh_rotten".into(), "boolq".into()], muppet_core::RunId(3));
        assert_eq!(
            warnings,
            ["97 of the 100 inputs of `rotten_tomatoes` (97.0%) are also in `rt_fresh_rotten`, a task run 3 trained on: its dev scores measure memorisation, not transfer"]
        );
        assert!(leak_warnings(&check, &["sst2".into()], &["rt_fresh_rotten".into()], muppet_core::RunId(3)).is_empty());
    }

    #[test]
    fn a_saved_spec_file_reads_back_as_the_same_run_spec() {
        let dir = tempfile::tempdir().expect("tempdir");
        let default = model_folder(&dir.path().join("minilm"), &["config.json", "model.safetensors", "tokenizer.json"]);
        let bert = model_folder(&dir.path().join("bert"), &["config.json", "model.safetensors", "tokenizer.json"]);
        let known = vec!["rte".to_string(), "boolq".to_string()];
        let out = dir.path().display().to_string();

        let mut custom = request(Some(bert.display().to_string()));
        custom.name = Some("bert mixture".into());
        custom.config.r3f = Some(muppet_train::R3f { lambda: 1.0, eps: 1e-5, noise: muppet_train::NoiseKind::Uniform });
        custom.config.cap = Some(1000);
        custom.config.sampling = muppet_data::mixture::Sampling::Temperature { t: 2.0 };
        for (name, req) in [("default", request(None)), ("custom", custom)] {
            let (spec, _) = run_spec(&req, &known, &default).expect("spec");
            let saved = save_spec(&spec, &default, req.name.as_deref(), &format!("{out}/{name}.toml")).expect("save");
            let text = std::fs::read_to_string(&saved.path).expect("read");
            assert_eq!(saved.bytes, text.len() as u64);
            assert_eq!(text.contains("model ="), name == "custom", "{text}");
            let (read, run_name) = as_cli_reads_it(Path::new(&saved.path), &default);
            assert_eq!(read, spec, "{name}: {text}");
            assert_eq!(run_name, req.name, "the run's name is saved with it: {text}");
        }
        let mut files: Vec<_> = std::fs::read_dir(dir.path()).expect("ls").map(|e| e.expect("entry").file_name().to_string_lossy().to_string()).filter(|n| n.ends_with(".toml") || n.contains("partial")).collect();
        files.sort();
        assert_eq!(files, ["custom.toml", "default.toml"], "no temporary file left");

        let (spec, _) = run_spec(&request(None), &known, &default).expect("spec");
        for (bad, why) in [(format!("{out}/run.json"), "must end in .toml"), ("run.toml".to_string(), "absolute path"), (format!("{out}/missing/run.toml"), "does not exist")] {
            let error = save_spec(&spec, &default, None, &bad).expect_err(&bad);
            assert_eq!(error.kind(), "invalid", "{bad}: {error}");
            assert!(error.message().contains(why), "{bad}: {error}");
        }
    }

    fn measured(run: i64, max_len: Option<usize>, examples: u64, seconds: f64) -> MeasuredRun {
        MeasuredRun { run, name: format!("run {run}"), max_len, examples, seconds }
    }

    #[test]
    fn the_estimate_prefers_runs_of_the_same_max_length() {
        let none = estimate(&[], 9600, 128);
        assert_eq!((none.examples_per_second, none.seconds, none.runs.len()), (None, None, 0));

        let runs = [measured(1, Some(128), 1000, 10.0), measured(2, Some(64), 3000, 10.0), measured(3, Some(128), 3000, 30.0), measured(4, Some(128), 0, 0.0)];
        let same = estimate(&runs, 9600, 128);
        assert!(same.same_max_len);
        assert_eq!(same.runs.iter().map(|m| m.run).collect::<Vec<_>>(), [1, 3]);
        assert_eq!(same.examples_per_second, Some(100.0));
        assert_eq!(same.seconds, Some(96.0));

        let all = estimate(&runs, 9600, 256);
        assert!(!all.same_max_len);
        assert_eq!(all.runs.iter().map(|m| m.run).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(all.examples_per_second, Some(7000.0 / 50.0));
        assert_eq!(all.seconds, Some(9600.0 / 140.0));
    }

    #[test]
    fn measured_runs_are_the_completed_runs_of_the_backend() {
        let dir = tempfile::tempdir().expect("tempdir");
        tauri::async_runtime::block_on(async {
            let store = Store::open(&dir.path().join("muppet.db")).await.expect("store");
            let run = |name: &str, backend: &str, max_len: usize| NewRun {
                spec: serde_json::json!({ "config": { "max_len": max_len } }),
                ..crate::test_support::new_run(name, backend)
            };
            // 8 examples a step, half a second a step: 16 examples a second.
            let points = |steps: u64, per_s: f64| -> Vec<MetricPoint> {
                (1..=steps).map(|step| MetricPoint { task: None, split: "train".into(), name: "loss".into(), step, examples: step * 8, wall_s: step as f64 * 8.0 / per_s, value: 1.0 }).collect()
            };
            let done = store.create_run(&run("done", "flex", 64)).await.expect("run");
            store.record_points(done, &points(20, 16.0)).await.expect("points");
            store.end_run(done, RunStatus::Completed, None).await.expect("end");
            let long = store.create_run(&run("long", "flex", 128)).await.expect("run");
            store.record_points(long, &points(10, 4.0)).await.expect("points");
            store.end_run(long, RunStatus::Completed, None).await.expect("end");
            let failed = store.create_run(&run("failed", "flex", 64)).await.expect("run");
            store.record_points(failed, &points(5, 1.0)).await.expect("points");
            store.end_run(failed, RunStatus::Failed, Some("boom")).await.expect("end");
            let running = store.create_run(&run("running", "flex", 64)).await.expect("run");
            store.record_points(running, &points(5, 1.0)).await.expect("points");
            let cuda = store.create_run(&run("cuda", "cuda", 64)).await.expect("run");
            store.record_points(cuda, &points(5, 1000.0)).await.expect("points");
            store.end_run(cuda, RunStatus::Completed, None).await.expect("end");
            let empty = store.create_run(&run("empty", "flex", 64)).await.expect("run");
            store.end_run(empty, RunStatus::Completed, None).await.expect("end");

            let mut got = measured_runs(&store, BackendKind::Cpu).await.expect("measured");
            got.sort_by_key(|m| m.run);
            let got: Vec<_> = got.iter().map(|m| (m.run, m.name.as_str(), m.max_len, m.examples, m.seconds)).collect();
            assert_eq!(got, [(done.0, "done", Some(64), 160, 10.0), (long.0, "long", Some(128), 80, 20.0)], "completed flex runs with points only");

            let request = EstimateRequest { backend: "cpu".into(), max_len: 64, steps: 100, batch_size: 4, tasks_per_update: 2 };
            let at_64 = estimate_run(&store, &request).await.expect("estimate");
            assert_eq!(at_64.examples, 800);
            assert_eq!(at_64.runs.iter().map(|m| m.run).collect::<Vec<_>>(), [done.0]);
            assert_eq!(at_64.seconds, Some(50.0));
            let at_256 = estimate_run(&store, &EstimateRequest { max_len: 256, ..request }).await.expect("estimate");
            assert!(!at_256.same_max_len);
            assert_eq!(at_256.examples_per_second, Some(240.0 / 30.0));
            let on_cuda = estimate_run(&store, &EstimateRequest { backend: "cuda".into(), max_len: 64, steps: 100, batch_size: 4, tasks_per_update: 2 }).await.expect("cuda");
            assert_eq!(on_cuda.runs.iter().map(|m| m.run).collect::<Vec<_>>(), [cuda.0]);
            store.close().await;
        });
    }
}
