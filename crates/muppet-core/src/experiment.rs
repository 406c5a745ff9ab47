//! Experiment specifications (MUPPET.md, "The experiments the product must make easy"):
//! a sample-efficiency sweep, a task-count ablation, a batching/scaling ablation or a sweep
//! of fine-tuning settings,
//! written by hand as TOML and stored with the experiment. Expansion into runs lives in
//! `muppet-train` (it needs the training configuration); this module is only the shape.
//!
//! ```toml
//! name = "demo"
//! [prefinetune]            # training-configuration fields of every pre-finetuning run
//! steps = 150
//! [finetune]               # ... of every fine-tune
//! steps = 30
//! [[stages]]               # pre-finetuning runs made by this experiment
//! name = "pft"
//! tasks = ["rt_fresh_rotten", "sarcasm_headlines", "fever_claims", "strategyqa"]
//! [sample_efficiency]
//! tasks = ["winowhy", "bbc_news"]
//! sizes = [16, 32, 64, 128, 256]
//! seeds = 3                # or a list: [1, 2, 3]
//! starts = ["base", "pft"] # "base", a stage name, or "run:ID" (an existing run)
//! ```

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Fields of the training configuration, by name, laid over the defaults.
pub type ConfigOverrides = serde_json::Map<String, serde_json::Value>;

/// A whole experiment file. Exactly one of the four designs is given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentSpec {
    /// Unique among the experiments of a data folder; running the same spec again resumes it.
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Base model folder (Hugging Face layout); default: the embedded all-MiniLM-L6-v2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<PathBuf>,
    /// `cpu` (default) or `cuda`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<String>,
    /// Training-configuration fields for every pre-finetuning run.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub prefinetune: ConfigOverrides,
    /// Training-configuration fields for every fine-tune.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub finetune: ConfigOverrides,
    /// Pre-finetuning runs defined by this experiment, which fine-tunes start from by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<StageSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_efficiency: Option<SampleEfficiency>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_count: Option<TaskCount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batching_ablation: Option<BatchingAblation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep: Option<Sweep>,
}

/// Which design an experiment follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExperimentKind {
    SampleEfficiency,
    TaskCount,
    BatchingAblation,
    /// Fine-tuning settings on a grid (a hyper-parameter sweep).
    Sweep,
}

impl ExperimentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ExperimentKind::SampleEfficiency => "sample_efficiency",
            ExperimentKind::TaskCount => "task_count",
            ExperimentKind::BatchingAblation => "batching_ablation",
            ExperimentKind::Sweep => "sweep",
        }
    }
}

impl fmt::Display for ExperimentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ExperimentSpec {
    /// The design, when exactly one of `[sample_efficiency]`, `[task_count]`,
    /// `[batching_ablation]` and `[sweep]` is given; otherwise a message saying what to write.
    pub fn kind(&self) -> Result<ExperimentKind, String> {
        let given: Vec<ExperimentKind> = [
            (self.sample_efficiency.is_some(), ExperimentKind::SampleEfficiency),
            (self.task_count.is_some(), ExperimentKind::TaskCount),
            (self.batching_ablation.is_some(), ExperimentKind::BatchingAblation),
            (self.sweep.is_some(), ExperimentKind::Sweep),
        ]
        .into_iter()
        .filter_map(|(on, k)| on.then_some(k))
        .collect();
        match given.as_slice() {
            [one] => Ok(*one),
            [] => Err("no design: add one of the sections [sample_efficiency], [task_count], [batching_ablation] or [sweep]".into()),
            many => Err(format!(
                "{} designs in one file ({}): an experiment has exactly one; split it into several files",
                many.len(),
                many.iter().map(|k| format!("[{k}]")).collect::<Vec<_>>().join(", ")
            )),
        }
    }
}

impl ExperimentSpec {
    /// Every starting point the spec names: `sample_efficiency.starts` and `sweep.start`.
    pub fn starts(&self) -> Vec<&StartRef> {
        let se = self.sample_efficiency.iter().flat_map(|se| se.starts.iter());
        se.chain(self.sweep.iter().map(|sw| &sw.start)).collect()
    }
}

/// A pre-finetuning run defined in the experiment (`[[stages]]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageSpec {
    /// How fine-tunes refer to it in `starts`.
    pub name: String,
    /// The task mixture.
    pub tasks: Vec<String>,
    /// Training-configuration fields over `[prefinetune]`.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub config: ConfigOverrides,
}

/// Seeds: a count `n` (seeds 1 to n) or an explicit list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Seeds {
    Count(u64),
    List(Vec<u64>),
}

impl Seeds {
    /// The seeds, in the order given (a count gives 1..=n).
    pub fn values(&self) -> Vec<u64> {
        match self {
            Seeds::Count(n) => (1..=*n).collect(),
            Seeds::List(v) => v.clone(),
        }
    }
}

/// Where a fine-tune starts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum StartRef {
    /// The pretrained model (`"base"`).
    Base,
    /// A stage of this experiment, by name.
    Stage(String),
    /// The last checkpoint of an existing run (`"run:ID"`).
    Run(i64),
}

impl TryFrom<String> for StartRef {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        if s == "base" {
            return Ok(StartRef::Base);
        }
        if let Some(id) = s.strip_prefix("run:") {
            return id
                .trim()
                .parse()
                .map(StartRef::Run)
                .map_err(|_| format!("`{s}` is no run reference: write run:ID with the numeric id of a run (see `muppet runs list`)"));
        }
        if s.is_empty() {
            return Err("an empty start: write \"base\", a stage name or \"run:ID\"".into());
        }
        Ok(StartRef::Stage(s))
    }
}

impl From<StartRef> for String {
    fn from(s: StartRef) -> String {
        s.to_string()
    }
}

impl fmt::Display for StartRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartRef::Base => f.write_str("base"),
            StartRef::Stage(name) => f.write_str(name),
            StartRef::Run(id) => write!(f, "run:{id}"),
        }
    }
}

fn base_only() -> Vec<StartRef> {
    vec![StartRef::Base]
}

/// Fine-tune downstream tasks on growing training subsets, several seeds each, from
/// the base model and from pre-finetuned runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SampleEfficiency {
    /// Downstream tasks (keep them out of the pre-finetuning mixtures).
    pub tasks: Vec<String>,
    /// Training examples kept per fine-tune (drawn with the seed), ascending.
    pub sizes: Vec<usize>,
    pub seeds: Seeds,
    /// Starting points; `base` is the reference the gains are measured against.
    #[serde(default = "base_only")]
    pub starts: Vec<StartRef>,
    /// Start from the pre-finetuned head of the same task where there is one.
    #[serde(default)]
    pub reuse_heads: bool,
}

/// Tasks fine-tuned in a task-count ablation that were in every subset: a count (the
/// first n tasks of the ordered pool) or names (each must be in the smallest subset).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Inside {
    Count(usize),
    Names(Vec<String>),
}

impl Default for Inside {
    fn default() -> Self {
        Inside::Names(Vec::new())
    }
}

/// Nested task subsets of growing size, one pre-finetuning run per size with the same
/// step budget, then fine-tunes from each and from the base model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskCount {
    /// The task pool, in the order subsets take them (unless `order_seed` shuffles it).
    pub pool: Vec<String>,
    /// Subset sizes k1 < k2 < ...; the subset of size k is the first k tasks.
    pub sizes: Vec<usize>,
    /// Shuffle the pool with this seed before taking subsets; absent: the order given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_seed: Option<u64>,
    /// Downstream tasks that were in every subset.
    #[serde(default)]
    pub inside: Inside,
    /// Downstream tasks outside the pool.
    #[serde(default)]
    pub held_out: Vec<String>,
    pub seeds: Seeds,
    /// Training examples per fine-tune (absent: all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_size: Option<usize>,
    #[serde(default)]
    pub reuse_heads: bool,
    /// Bootstrap resamples (over seeds) for the critical point's interval.
    #[serde(default = "default_bootstrap")]
    pub bootstrap: usize,
}

fn default_bootstrap() -> usize {
    1000
}

fn all_batchings() -> Vec<String> {
    vec!["heterogeneous".into(), "homogeneous".into(), "sequential".into()]
}

fn both() -> Vec<bool> {
    vec![true, false]
}

/// One mixture pre-finetuned with each batching and with loss scaling on and off, each
/// then fine-tuned on downstream tasks (and the base model as the reference).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchingAblation {
    pub mixture: Vec<String>,
    /// Any of `heterogeneous`, `homogeneous`, `sequential` (default: all three).
    #[serde(default = "all_batchings")]
    pub batchings: Vec<String>,
    /// Loss scaling settings to try (default: on and off).
    #[serde(default = "both")]
    pub loss_scaling: Vec<bool>,
    /// Downstream tasks each variant is fine-tuned on.
    pub downstream: Vec<String>,
    pub seeds: Seeds,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_size: Option<usize>,
    #[serde(default)]
    pub reuse_heads: bool,
}

fn base() -> StartRef {
    StartRef::Base
}

/// Fine-tunes of downstream tasks from one starting point with every combination of the
/// settings in `grid` (W&B's grid sweep), several seeds each: which learning rate, batch
/// size or number of updates fine-tunes best. With `stage_grid`, the starting stage itself
/// is swept: one pre-finetuning run per combination of its settings, each fine-tuned on the
/// tasks (with every setting of `grid`, when there is one): which pre-finetuning settings
/// fine-tune best. With `compare_base`, every setting is also fine-tuned from the base model,
/// so that each start's best setting is compared with the base model's best (as the Muppet
/// paper tunes both before comparing them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sweep {
    pub tasks: Vec<String>,
    /// Fine-tuning settings (fields of `[finetune]`) and the values each takes; every
    /// combination is a setting of the sweep.
    #[serde(default)]
    pub grid: std::collections::BTreeMap<String, Vec<serde_json::Value>>,
    /// Pre-finetuning settings of the stage `start` names, and the values each takes; every
    /// combination is a pre-finetuning run of its own.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub stage_grid: std::collections::BTreeMap<String, Vec<serde_json::Value>>,
    /// Fine-tuning settings drawn at random instead of listed (W&B's random search): each of
    /// the sweep's `count` settings takes a value of every field here, drawn from its range
    /// or its values with `random_seed`.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub random: std::collections::BTreeMap<String, Draw>,
    /// How many settings to draw from `random`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<usize>,
    /// The seed of the draws (default 0): the same spec always draws the same settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub random_seed: Option<u64>,
    /// Settings of `random`'s fields trained beside the `count` drawn, in order: proposed
    /// from the scores so far by `muppet experiment resume ID --more N --guided` (a
    /// tree-structured Parzen estimator, W&B's `bayes` method), or written by hand.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub proposed: Vec<ConfigOverrides>,
    /// After the `count` settings drawn are trained, propose this many more from the scores,
    /// round after round (as many per round as runs train at a time), each round trained
    /// before the next is proposed, until `proposed` holds this many (W&B's `bayes` sweep).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guided: Option<usize>,
    pub seeds: Seeds,
    /// `"base"` (default), a stage of this file or `"run:ID"`.
    #[serde(default = "base")]
    pub start: StartRef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_size: Option<usize>,
    #[serde(default)]
    pub reuse_heads: bool,
    /// Also fine-tune every setting from the base model, beside `start`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub compare_base: bool,
    /// Stop the fine-tunes that fall behind the sweep's other runs at a dev evaluation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub early_terminate: Option<EarlyTerminate>,
}

/// How a sweep stops its fine-tunes that fall behind (W&B's `early_terminate`, Optuna's
/// pruners). A stopped run ends `completed`, tagged `pruned`, with a note saying why; its
/// dev scores so far stay in the sweep's tables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EarlyTerminate {
    pub rule: TerminateRule,
    /// How many runs of the same task and start, finished and not stopped themselves, must
    /// have a dev score at a step before a run is compared with them there.
    #[serde(default = "three")]
    pub min_runs: usize,
    /// How many dev evaluations a run makes before it may be stopped.
    #[serde(default = "one")]
    pub grace_evals: usize,
}

/// The rule that stops a sweep's run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TerminateRule {
    /// The median stopping rule (Google Vizier; Optuna's `MedianPruner`): a run stops at a
    /// dev evaluation when its best dev score so far is below the median of the scores the
    /// finished runs of its task and start had at that step.
    Median,
}

fn three() -> usize {
    3
}

fn one() -> usize {
    1
}

/// Where a randomly drawn setting takes its value from: one of `values`, or a number
/// between `min` and `max` (both included) drawn by `distribution`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Draw {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<serde_json::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<serde_json::Value>,
    /// Default: `int_uniform` when `min` and `max` are whole numbers, else `uniform`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution: Option<Distribution>,
}

impl Draw {
    /// How a range is drawn: its `distribution`, else `int_uniform` when both bounds are whole
    /// numbers and `uniform` otherwise; `None` for values (or a range without both bounds).
    pub fn range_distribution(&self) -> Option<Distribution> {
        let (min, max) = (self.min.as_ref()?, self.max.as_ref()?);
        let whole = |v: &serde_json::Value| v.is_i64() || v.is_u64();
        Some(self.distribution.unwrap_or(if whole(min) && whole(max) { Distribution::IntUniform } else { Distribution::Uniform }))
    }
}

/// How a number is drawn between a range's bounds (W&B's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Distribution {
    /// Every number between the bounds equally likely.
    Uniform,
    /// Every whole number between the bounds equally likely.
    IntUniform,
    /// Uniform in the logarithm: as likely between 1e-5 and 1e-4 as between 1e-4 and 1e-3
    /// (learning rates).
    LogUniformValues,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: serde_json::Value) -> Result<ExperimentSpec, serde_json::Error> {
        serde_json::from_value(json)
    }

    #[test]
    fn starts_parse_base_stage_and_run() {
        let s = spec(serde_json::json!({
            "name": "x",
            "sample_efficiency": {"tasks": ["winowhy"], "sizes": [16], "seeds": 2, "starts": ["base", "pft", "run:12"]}
        }))
        .expect("spec");
        let se = s.sample_efficiency.as_ref().expect("design");
        assert_eq!(se.starts, vec![StartRef::Base, StartRef::Stage("pft".into()), StartRef::Run(12)]);
        assert_eq!(se.seeds.values(), vec![1, 2]);
        assert_eq!(s.kind(), Ok(ExperimentKind::SampleEfficiency));
        // Round trip through JSON, as the store keeps it.
        let back: ExperimentSpec = serde_json::from_value(serde_json::to_value(&s).expect("json")).expect("back");
        assert_eq!(back, s);
        let err = spec(serde_json::json!({"name": "x", "sample_efficiency": {"tasks": [], "sizes": [], "seeds": 1, "starts": ["run:abc"]}}))
            .expect_err("bad run ref")
            .to_string();
        assert!(err.contains("run:ID"), "{err}");
    }

    #[test]
    fn exactly_one_design() {
        let none = spec(serde_json::json!({"name": "x"})).expect("spec");
        assert!(none.kind().expect_err("none").contains("[sample_efficiency]"));
        let two = spec(serde_json::json!({
            "name": "x",
            "sample_efficiency": {"tasks": ["a"], "sizes": [1], "seeds": 1},
            "task_count": {"pool": ["a"], "sizes": [1], "seeds": [1]}
        }))
        .expect("spec");
        assert!(two.kind().expect_err("two").contains("2 designs"));
        assert!(spec(serde_json::json!({"name": "x", "nmae": 1})).is_err(), "unknown fields are refused");
    }

    #[test]
    fn ablation_defaults_cover_every_variant() {
        let s = spec(serde_json::json!({
            "name": "x",
            "batching_ablation": {"mixture": ["a", "b"], "downstream": ["c"], "seeds": [7]}
        }))
        .expect("spec");
        let b = s.batching_ablation.expect("design");
        assert_eq!(b.batchings, ["heterogeneous", "homogeneous", "sequential"]);
        assert_eq!(b.loss_scaling, [true, false]);
        assert_eq!(b.seeds, Seeds::List(vec![7]));
    }
}
