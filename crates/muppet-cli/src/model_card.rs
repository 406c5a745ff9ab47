//! The model card (`README.md`) of a `muppet export` folder, as Hugging Face Trainer's
//! `create_model_card` writes one: YAML metadata the hub reads (library, base model, tags,
//! datasets, `model-index` with the dev results at the exported step), then what the model
//! is, how to load it, the run's settings, its dev evaluations and its tasks.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use muppet_core::{Metric, MuppetHome, RunId, RunKind, TaskFamily, TaskSpec};
use muppet_store::Store;
use muppet_train::export::{ExportSummary, HEADS_FILE, HEADS_MANIFEST};
use muppet_train::manifest::RunManifest;
use muppet_train::spec::{InitSpec, RunSpec};

/// What the card says of a run, read from the store and the run folder before the export.
#[derive(Debug, Clone, PartialEq)]
pub struct RunFacts {
    pub run: RunId,
    pub name: String,
    pub kind: RunKind,
    pub model_dir: PathBuf,
    pub tasks: Vec<TaskSpec>,
    /// Where the run started: the base model, or a run's checkpoint.
    pub init: Option<InitSpec>,
    /// The run's updates in all.
    pub steps: Option<u64>,
    /// The run's settings (`config` of its spec) as `name: value`, nested names dotted.
    pub settings: Vec<(String, String)>,
    /// The step of the run's best dev score, for a run that kept its best (`keep_best`,
    /// early stopping).
    pub best_step: Option<u64>,
    /// The run-wide training loss by step.
    pub loss: BTreeMap<u64, f64>,
    /// Each task's dev series: (task, metric name) -> value by step.
    pub dev: BTreeMap<(String, String), BTreeMap<u64, f64>>,
}

impl RunFacts {
    /// Read what the card needs of `run`.
    pub async fn read(home: &MuppetHome, store: &Store, run: RunId) -> anyhow::Result<Self> {
        let row = store.run(run).await?;
        let manifest = RunManifest::read(&home.run_dir(run))?;
        let spec_json = store.run_spec(run).await.ok();
        let spec = spec_json.clone().and_then(|v| serde_json::from_value::<RunSpec>(v).ok());
        let mut settings = Vec::new();
        if let Some(config) = spec_json.as_ref().map(|s| &s["config"]).filter(|c| c.is_object()) {
            let mut flat = Vec::new();
            muppet_store::flatten("$", config, &mut flat);
            settings = flat.into_iter().map(|(path, value)| (path.trim_start_matches("$.").to_string(), setting_value(&value))).collect();
        }
        let mut dev = BTreeMap::new();
        for series in store.list_series(run).await? {
            let Some(task) = series.key.task.clone().filter(|_| series.key.split == "dev") else { continue };
            let points = store.series(run, Some(&task), "dev", &series.key.name).await?;
            dev.insert((task, series.key.name.clone()), points.into_iter().collect());
        }
        let loss = store.series(run, None, "train", "loss").await?.into_iter().collect();
        // Said only of a run that kept its best: otherwise the best of the checkpoints left
        // (often the only one) says little.
        let best_step = match spec.as_ref().is_some_and(|s| s.config.keeps_best()) {
            true => crate::best::best_checkpoint(home, store, run).await.ok().map(|b| b.step),
            false => None,
        };
        Ok(Self {
            run,
            name: row.name,
            kind: row.kind,
            model_dir: manifest.model_dir,
            tasks: manifest.tasks,
            init: spec.as_ref().map(|s| s.init.clone()),
            steps: spec.as_ref().map(|s| s.config.steps),
            settings,
            best_step,
            loss,
            dev,
        })
    }
}

/// The Burn release the engine is built on (the workspace pins it; a test checks).
const BURN_VERSION: &str = "0.21.0";

/// A setting as written in the card: a number stored from an f32 (`weight_decay`,
/// `clip_norm`) with the digits it was given, not the f64 expansion of its f32 value.
fn setting_value(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "none".into(),
        serde_json::Value::Number(n) if n.is_f64() => {
            let v = n.as_f64().unwrap_or(f64::NAN);
            if f64::from(v as f32) == v { format!("{}", v as f32) } else { format!("{v}") }
        }
        other => other.to_string(),
    }
}

/// A string as a YAML scalar: JSON's double-quoted form, which YAML reads as the same string.
fn yaml(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// The hub's name of a task family's task (`model-index` `task.type`, `pipeline_tag`).
fn hub_task(family: TaskFamily) -> &'static str {
    match family {
        TaskFamily::Single | TaskFamily::Pair | TaskFamily::Regression => "text-classification",
        TaskFamily::MultipleChoice => "multiple-choice",
        TaskFamily::Span => "question-answering",
        TaskFamily::Generation => "summarization",
    }
}

/// The hub's (the `evaluate` library's) name of a metric, and how it reads in words.
fn hub_metric(name: &str) -> (&str, &str) {
    match name.parse::<Metric>() {
        Ok(Metric::Accuracy) => ("accuracy", "accuracy"),
        Ok(Metric::MacroF1) => ("f1", "macro F1"),
        Ok(Metric::Mcc) => ("matthews_correlation", "Matthews correlation"),
        Ok(Metric::Pearson) => ("pearsonr", "Pearson correlation"),
        Ok(Metric::Spearman) => ("spearmanr", "Spearman correlation"),
        Ok(Metric::SpanExactMatch) => ("exact_match", "exact match"),
        Ok(Metric::SpanF1) => ("f1", "F1"),
        Ok(Metric::RougeL) => ("rouge", "ROUGE-L"),
        Err(_) => (name, name),
    }
}

/// The license of the base model, where it is the embedded default (the asset catalog's).
fn base_license(model_dir: &Path) -> Option<String> {
    let package = muppet_data::assets::PACKAGES.iter().find(|p| p.dest == muppet_data::assets::MODEL_DIR)?;
    model_dir.ends_with(muppet_data::assets::MODEL_DIR).then(|| package.license.to_ascii_lowercase())
}

fn number(v: f64) -> String {
    if v.is_finite() { format!("{v:.4}") } else { "n/a".into() }
}

/// The model card of `export`, made from checkpoint step `export.step` of the run `facts`.
pub fn render(facts: &RunFacts, export: &ExportSummary) -> String {
    let tasks: Vec<&TaskSpec> = match &export.task {
        Some(task) => facts.tasks.iter().filter(|t| &t.name == task).collect(),
        None => facts.tasks.iter().collect(),
    };
    // Each task's dev figures at the last evaluation at or before the exported step.
    let results: Vec<(&TaskSpec, u64, Vec<(&str, f64)>)> = tasks
        .iter()
        .filter_map(|t| {
            let at: Vec<(u64, &str, f64)> = facts
                .dev
                .iter()
                .filter(|((task, _), _)| task == &t.name)
                .filter_map(|((_, metric), points)| points.range(..=export.step).next_back().map(|(&s, &v)| (s, metric.as_str(), v)))
                .collect();
            let step = at.iter().map(|(s, _, _)| *s).max()?;
            let mut values: Vec<(&str, f64)> = at.iter().filter(|(s, _, _)| *s == step).map(|&(_, m, v)| (m, v)).collect();
            // The task's main metric first.
            values.sort_by_key(|(m, _)| *m != t.metric.as_str());
            Some((*t, step, values))
        })
        .collect();
    let hub_base = muppet_data::hub::model_repo_of(&facts.model_dir);
    let base_name = hub_base.clone().unwrap_or_else(|| facts.model_dir.file_name().map_or_else(|| facts.model_dir.display().to_string(), |n| n.to_string_lossy().into_owned()));
    let stage = match facts.kind {
        RunKind::PreFinetune => "pre-finetuning",
        RunKind::Finetune => "fine-tuning",
    };

    let mut md = String::from("---\nlibrary_name: transformers\n");
    if let Some(license) = base_license(&facts.model_dir) {
        let _ = writeln!(md, "license: {license}");
    }
    if let Some(base) = &hub_base {
        let _ = writeln!(md, "base_model: {}", yaml(base));
    }
    let pipeline = match &export.task {
        Some(_) => tasks.first().map(|t| hub_task(t.family)).filter(|t| *t != "multiple-choice"),
        None => Some("feature-extraction"),
    };
    if let Some(tag) = pipeline {
        let _ = writeln!(md, "pipeline_tag: {tag}");
    }
    md.push_str("tags:\n- muppet-studio\n");
    let _ = writeln!(md, "- {stage}");
    if tasks.len() > 1 {
        md.push_str("- multi-task\n");
    }
    let datasets: Vec<&str> = tasks.iter().filter_map(|t| muppet_data::hub::dataset_of_source(&t.source)).collect();
    if !datasets.is_empty() {
        md.push_str("datasets:\n");
        for d in &datasets {
            let _ = writeln!(md, "- {}", yaml(d));
        }
    }
    let scored: Vec<&(&TaskSpec, u64, Vec<(&str, f64)>)> = results.iter().filter(|(_, _, v)| v.iter().any(|(_, x)| x.is_finite())).collect();
    if !scored.is_empty() {
        let _ = write!(md, "model-index:\n- name: {}\n  results:\n", yaml(&facts.name));
        for (task, _, values) in scored {
            let _ = write!(
                md,
                "  - task:\n      type: {}\n    dataset:\n      name: {}\n      type: {}\n      split: dev\n    metrics:\n",
                hub_task(task.family),
                yaml(&task.name),
                yaml(muppet_data::hub::dataset_of_source(&task.source).unwrap_or(&task.name))
            );
            for (metric, value) in values.iter().filter(|(_, v)| v.is_finite()) {
                let (id, words) = hub_metric(metric);
                let _ = write!(md, "    - type: {id}\n      value: {value:.4}\n      name: {}\n", yaml(&format!("dev {words}")));
            }
        }
    }
    md.push_str("---\n\n");

    let _ = writeln!(md, "# {}\n", facts.name);
    let of = facts.steps.map(|n| format!(" of {n}")).unwrap_or_default();
    let best = if facts.best_step == Some(export.step) { ", the checkpoint with the best dev score" } else { "" };
    let names = tasks.iter().map(|t| format!("`{}`", t.name)).collect::<Vec<_>>().join(", ");
    let start = match &facts.init {
        Some(InitSpec::Run { run, step, .. }) => format!("from step {step} of run {run}, itself from `{base_name}`"),
        _ => format!("from `{base_name}`"),
    };
    let what = match facts.kind {
        RunKind::PreFinetune => format!(
            "the encoder of a multi-task pre-finetuning run (Muppet, Aghajanyan et al., 2021) on {} task{} ({names})",
            facts.tasks.len(),
            if facts.tasks.len() == 1 { "" } else { "s" }
        ),
        RunKind::Finetune => format!("an encoder fine-tuned on {names}"),
    };
    let _ = writeln!(md, "This model is {what}, trained {start}: run {} of Muppet Studio, exported at step {}{of}{best}.\n", facts.run, export.step);
    match &export.task {
        Some(task) => {
            let _ = writeln!(md, "It is `{}`: the encoder with the head of `{task}`.\n", export.architecture);
        }
        None => {
            let _ = writeln!(
                md,
                "`model.safetensors` holds the encoder (`{}`); the task heads are in `{HEADS_FILE}`, described by `{HEADS_MANIFEST}` (tensor names, labels, what each head computes).\n",
                export.architecture
            );
        }
    }
    if !results.is_empty() {
        md.push_str("## Results on dev\n\n| task | metric | value | step |\n|---|---|---|---|\n");
        for (task, step, values) in &results {
            for (metric, value) in values {
                let _ = writeln!(md, "| {} | {} | {} | {step} |", task.name, hub_metric(metric).1, number(*value));
            }
        }
        md.push('\n');
    }

    md.push_str("## How to use\n\n```python\n");
    let class = match &export.task {
        Some(_) => crate::export::auto_class(&export.architecture),
        None => "AutoModel",
    };
    let _ = writeln!(md, "from transformers import AutoTokenizer, {class}\n");
    let path = export.out.display().to_string();
    let _ = writeln!(md, "tokenizer = AutoTokenizer.from_pretrained({})", yaml(&path));
    let _ = writeln!(md, "model = {class}.from_pretrained({})", yaml(&path));
    md.push_str("```\n\n");

    md.push_str("## Training procedure\n\n");
    if !facts.settings.is_empty() {
        md.push_str("### Training hyperparameters\n\n");
        for (name, value) in &facts.settings {
            let _ = writeln!(md, "- {name}: {value}");
        }
        md.push_str("- optimizer: AdamW with linear warmup and decay\n\n");
    }
    let evaluations: Vec<u64> = {
        let mut steps: Vec<u64> = results.iter().flat_map(|(t, _, _)| facts.dev.get(&(t.name.clone(), t.metric.as_str().to_string())).into_iter().flat_map(|p| p.keys().copied())).collect();
        steps.sort_unstable();
        steps.dedup();
        steps
    };
    if !evaluations.is_empty() {
        md.push_str("### Training results\n\n| step | training loss |");
        for (task, _, _) in &results {
            let _ = write!(md, " {} {} |", task.name, hub_metric(task.metric.as_str()).1);
        }
        md.push_str("\n|---|---|");
        md.push_str(&"---|".repeat(results.len()));
        md.push('\n');
        for step in evaluations {
            let loss = facts.loss.get(&step).map_or_else(|| "—".to_string(), |l| number(*l));
            let mark = if step == export.step { " (exported)" } else { "" };
            let _ = write!(md, "| {step}{mark} | {loss} |");
            for (task, _, _) in &results {
                let value = facts.dev.get(&(task.name.clone(), task.metric.as_str().to_string())).and_then(|p| p.get(&step));
                let _ = write!(md, " {} |", value.map_or_else(|| "—".to_string(), |v| number(*v)));
            }
            md.push('\n');
        }
        md.push('\n');
    }
    md.push_str("### Tasks\n\n| task | family | labels | dev metric | source | license |\n|---|---|---|---|---|---|\n");
    for t in &tasks {
        let labels = if t.labels.is_empty() { "—".to_string() } else { t.labels.join(", ") };
        let _ = writeln!(md, "| {} | {} | {} | {} | {} | {} |", t.name, t.family.as_str(), cell(&labels), hub_metric(t.metric.as_str()).1, cell(&t.source), cell(&t.license));
    }
    let _ = write!(md, "\n### Framework versions\n\n- Muppet Studio {}\n- Burn {BURN_VERSION}\n", env!("CARGO_PKG_VERSION"));
    md
}

/// Text in a Markdown table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> RunFacts {
        let mut sst = TaskSpec::new("sst2", TaskFamily::Single, vec!["negative".into(), "positive".into()], "hf://datasets/stanfordnlp/sst2@0123 (main), config (the only one), split train", "unknown");
        sst.metric = Metric::Accuracy;
        let squad = TaskSpec::new("squad", TaskFamily::Span, vec![], "bigbench squad_shifts | dev", "CC BY-SA 4.0");
        let dev = BTreeMap::from([
            (("sst2".to_string(), "accuracy".to_string()), BTreeMap::from([(0, 0.5), (10, 0.75), (20, 0.8)])),
            (("sst2".to_string(), "macro_f1".to_string()), BTreeMap::from([(0, 0.4), (10, 0.7), (20, 0.79)])),
            (("squad".to_string(), "f1".to_string()), BTreeMap::from([(0, 0.1), (10, f64::NAN), (20, 0.3)])),
            (("squad".to_string(), "exact_match".to_string()), BTreeMap::from([(0, 0.0), (10, 0.05), (20, 0.2)])),
        ]);
        RunFacts {
            run: RunId(7),
            name: "mix: sst2 + squad".into(),
            kind: RunKind::PreFinetune,
            model_dir: PathBuf::from("/cache/hub/models--sentence-transformers--all-MiniLM-L6-v2/snapshots/abc"),
            tasks: vec![sst, squad],
            init: Some(InitSpec::Base),
            steps: Some(20),
            settings: vec![("lr".into(), "0.0001".into()), ("sampling.kind".into(), "natural".into())],
            best_step: Some(10),
            loss: BTreeMap::from([(10, 1.25), (20, 0.9)]),
            dev,
        }
    }

    fn summary(step: u64, task: Option<&str>, architecture: &str) -> ExportSummary {
        ExportSummary {
            out: PathBuf::from("/exports/mix"),
            checkpoint: PathBuf::from("/runs/7/model-step10.mpk"),
            step,
            architecture: architecture.into(),
            task: task.map(str::to_string),
            encoder_tensors: 100,
            pooler: false,
            head_tensors: 6,
            files: vec![],
            tasks: vec!["sst2".into(), "squad".into()],
        }
    }

    #[test]
    fn the_card_reports_the_dev_scores_of_the_exported_step() {
        let card = render(&facts(), &summary(15, None, "BertModel"));
        let (meta, body) = card.strip_prefix("---\n").and_then(|c| c.split_once("\n---\n")).expect("front matter");
        assert!(meta.contains("base_model: \"sentence-transformers/all-MiniLM-L6-v2\"") && meta.contains("pipeline_tag: feature-extraction"), "{meta}");
        assert!(meta.contains("- pre-finetuning\n- multi-task") && meta.contains("datasets:\n- \"stanfordnlp/sst2\""), "{meta}");
        assert!(!meta.contains("license:"), "the license of a model from elsewhere is not known: {meta}");
        // Step 15 was not evaluated: the scores are step 10's; squad's NaN F1 is left out of the metadata.
        assert!(meta.contains("name: \"mix: sst2 + squad\""), "{meta}");
        assert!(meta.contains("type: accuracy\n      value: 0.7500\n      name: \"dev accuracy\"\n    - type: f1\n      value: 0.7000"), "the main metric first: {meta}");
        assert!(meta.contains("type: question-answering") && meta.contains("type: exact_match\n      value: 0.0500"), "{meta}");
        assert!(!meta.contains("NaN") && !meta.contains("value: nan"), "{meta}");
        assert!(body.contains("exported at step 15 of 20.") && !body.contains("best dev score"), "{body}");
        assert!(body.contains("| sst2 | accuracy | 0.7500 | 10 |") && body.contains("| squad | F1 | n/a | 10 |"), "{body}");
        assert!(body.contains("| 10 | 1.2500 | 0.7500 | n/a |") && body.contains("| 20 | 0.9000 | 0.8000 | 0.3000 |"), "{body}");
        assert!(body.contains("- lr: 0.0001\n- sampling.kind: natural\n"), "{body}");
        assert!(body.contains("model = AutoModel.from_pretrained(\"/exports/mix\")"), "{body}");
        assert!(body.contains("| squad | span | — | F1 | bigbench squad_shifts \\| dev | CC BY-SA 4.0 |"), "{body}");
    }

    #[test]
    fn settings_read_as_given_and_the_burn_version_is_the_pinned_one() {
        assert_eq!(setting_value(&serde_json::json!(f64::from(0.01f32))), "0.01");
        assert_eq!(setting_value(&serde_json::json!(1e-4)), "0.0001");
        assert_eq!(setting_value(&serde_json::json!(300)), "300");
        assert_eq!(setting_value(&serde_json::json!(null)), "none");
        let manifest = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml")).expect("workspace Cargo.toml");
        assert!(manifest.contains(&format!("burn = {{ version = \"={BURN_VERSION}\"")), "the workspace no longer pins burn {BURN_VERSION}: update BURN_VERSION");
    }

    #[test]
    fn a_task_export_is_carded_as_its_task_model() {
        let mut facts = facts();
        facts.model_dir = PathBuf::from("/data/assets").join(muppet_data::assets::MODEL_DIR);
        let card = render(&facts, &summary(10, Some("sst2"), "BertForSequenceClassification"));
        let (meta, body) = card.strip_prefix("---\n").and_then(|c| c.split_once("\n---\n")).expect("front matter");
        assert!(meta.contains("license: apache-2.0") && !meta.contains("base_model"), "{meta}");
        assert!(meta.contains("pipeline_tag: text-classification") && !meta.contains("question-answering") && !meta.contains("multi-task"), "{meta}");
        assert!(body.contains("exported at step 10 of 20, the checkpoint with the best dev score."), "{body}");
        assert!(body.contains("from `all-MiniLM-L6-v2`") && body.contains("It is `BertForSequenceClassification`: the encoder with the head of `sst2`."), "{body}");
        assert!(body.contains("from transformers import AutoTokenizer, AutoModelForSequenceClassification"), "{body}");
        assert!(body.contains("| 10 (exported) | 1.2500 | 0.7500 |"), "{body}");
    }
}
