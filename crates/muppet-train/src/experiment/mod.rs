//! Experiments: an [`ExperimentSpec`] expanded into a deterministic list of runs with
//! their dependencies ([`expand`]), checked against the data before anything starts
//! ([`check`]), and the results aggregated over seeds ([`aggregate`], [`fit`], [`stats`]).
//! Everything here is a pure function; the CLI stores, launches and reads.

pub mod aggregate;
pub mod fit;
pub mod prune;
mod guided;
mod random;
pub mod stats;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use muppet_core::experiment::{ConfigOverrides, Inside, StageSpec};
use muppet_core::{ExperimentKind, ExperimentSpec, RunKind, StartRef};
use muppet_model::LossScale;
use serde::Serialize;

use crate::{Batching, TrainConfig};

/// What a pre-finetuned model is, as a point of comparison.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "arm", rename_all = "snake_case")]
pub enum Arm {
    /// The pretrained model.
    Base,
    /// A stage of the experiment, by name.
    Stage { name: String },
    /// An existing run.
    Run { id: i64 },
    /// Pre-finetuned on the first `k` tasks of a task-count pool.
    Tasks { k: usize },
    /// Pre-finetuned with a batching and loss scaling on or off.
    Variant { batching: String, loss_scaling: bool },
    /// Fine-tuned from `start` with one setting of a sweep's grid (`values`: `lr=0.0001, ...`);
    /// `named_start`: its label names the start, as a sweep that compares starts needs.
    Setting {
        start: Box<Arm>,
        values: String,
        #[serde(skip)]
        named_start: bool,
    },
    /// Pre-finetuned as stage `name` with one setting of a sweep's stage grid.
    StageSetting { name: String, values: String },
}

impl Arm {
    /// The text that names this arm inside run names. Run names are how stored runs are
    /// found again, so this text must never change; [`Arm::label`] may.
    pub fn key(&self) -> String {
        match self {
            Arm::Base => "base".into(),
            Arm::Stage { name } => name.clone(),
            Arm::Run { id } => format!("run {id}"),
            Arm::Tasks { k } => format!("{k} tasks"),
            Arm::Variant { batching, loss_scaling } => format!("{batching}, scaling {}", if *loss_scaling { "on" } else { "off" }),
            Arm::Setting { start, values, .. } => format!("{} with {values}", start.key()),
            Arm::StageSetting { name, values } => format!("{name} ({values})"),
        }
    }

    /// The arm whose model a fine-tune of this arm starts from (a sweep's setting starts
    /// from its start's model; other arms are their own).
    pub fn model_arm(&self) -> &Arm {
        match self {
            Arm::Setting { start, .. } => start,
            other => other,
        }
    }

    /// A short label for legends, tables and CSV files.
    pub fn label(&self) -> String {
        match self {
            Arm::Base => "base".into(),
            Arm::Stage { name } => name.clone(),
            Arm::Run { id } => format!("run {id}"),
            Arm::Tasks { k: 1 } => "1 task".into(),
            Arm::Tasks { k } => format!("{k} tasks"),
            Arm::Variant { batching, loss_scaling } => format!("{batching}, scaling {}", if *loss_scaling { "on" } else { "off" }),
            // From a swept stage, the stage's setting too.
            Arm::Setting { start, values, named_start } if *named_start || matches!(**start, Arm::StageSetting { .. }) => format!("{}, {values}", start.label()),
            Arm::Setting { values, .. } => values.clone(),
            Arm::StageSetting { name, values } => format!("{name} ({values})"),
        }
    }
}

/// Where a planned run's weights start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum PlannedStart {
    Base,
    /// The last checkpoint of an existing run.
    Run { id: i64 },
    /// The last checkpoint of an earlier run of the plan (by index): a dependency.
    Planned { index: usize },
}

/// What a run measures.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Role {
    PreFinetune { arm: Arm },
    Finetune { task: String, seed: u64, size: Option<usize>, arm: Arm },
}

/// One run of an experiment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannedRun {
    /// Unique within the experiment: how a stored run is matched to its place in the plan.
    pub name: String,
    pub kind: RunKind,
    pub tasks: Vec<String>,
    pub config: TrainConfig,
    pub start: PlannedStart,
    pub reuse_heads: bool,
    pub role: Role,
}

impl PlannedRun {
    /// The plan index this run waits for, if any.
    pub fn depends_on(&self) -> Option<usize> {
        match self.start {
            PlannedStart::Planned { index } => Some(index),
            _ => None,
        }
    }
}

/// An expanded experiment; every dependency points to an earlier run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub kind: ExperimentKind,
    pub runs: Vec<PlannedRun>,
    /// Task count: the pool in the order subsets take it.
    pub pool_order: Option<Vec<String>>,
}

/// Everything wrong with a spec, each naming its field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecErrors(pub Vec<String>);

impl fmt::Display for SpecErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "  - {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SpecErrors {}

/// Collects problems instead of stopping at the first.
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn add(&mut self, field: &str, message: impl fmt::Display) {
        self.0.push(format!("{field}: {message}"));
    }

    /// The problems of every combination of a grid, each named once however many share it.
    fn extend_once(&mut self, combinations: Problems) {
        let mut said = BTreeSet::new();
        self.0.extend(combinations.0.into_iter().filter(|m| said.insert(m.clone())));
    }

    /// Non-empty, no duplicates.
    fn names(&mut self, field: &str, names: &[String]) {
        if names.is_empty() {
            self.add(field, "is empty: list at least one task");
        }
        let mut seen = BTreeSet::new();
        for n in names {
            if !seen.insert(n) {
                self.add(field, format!("task `{n}` is listed twice"));
            }
        }
    }

    fn seeds(&mut self, field: &str, seeds: &[u64]) -> Vec<u64> {
        if seeds.is_empty() {
            self.add(field, "no seeds: give a count (seeds = 3) or a list (seeds = [1, 2, 3]) of at least one");
        }
        let unique: BTreeSet<u64> = seeds.iter().copied().collect();
        if unique.len() != seeds.len() {
            self.add(field, "a seed is listed twice; repeated seeds would be the same run");
        }
        seeds.to_vec()
    }

    /// Positive and strictly ascending.
    fn sizes(&mut self, field: &str, sizes: &[usize]) {
        if sizes.is_empty() {
            self.add(field, "is empty: give at least one size");
        }
        if sizes.contains(&0) {
            self.add(field, "0 is no size: every size must be at least 1");
        }
        if sizes.windows(2).any(|w| w[0] >= w[1]) {
            self.add(field, format!("{sizes:?} must be strictly ascending"));
        }
    }

    /// Fields the design sets itself must not be set by hand.
    fn reserved(&mut self, section: &str, fields: &ConfigOverrides, reserved: &[(&str, &str)]) {
        for (key, by) in reserved {
            if fields.contains_key(*key) {
                self.add(&format!("{section}.{key}"), format!("is set by {by}; remove it here"));
            }
        }
    }
}

/// Settings the engine would refuse only once a run has started.
fn sane(section: &str, c: &TrainConfig, p: &mut Problems) {
    for (field, zero) in [("steps", c.steps == 0), ("batch_size", c.batch_size == 0), ("tasks_per_update", c.tasks_per_update == 0)] {
        if zero {
            p.add(&format!("{section}.{field}"), "must be at least 1");
        }
    }
    if c.devices == 0 {
        p.add(&format!("{section}.devices"), "must be at least 1");
    } else if c.devices > c.tasks_per_update.max(1) {
        p.add(
            &format!("{section}.devices"),
            format!("{} devices need tasks_per_update of at least {}: each device computes at least one micro-batch", c.devices, c.devices),
        );
    }
    if c.keep_checkpoints == Some(0) {
        p.add(&format!("{section}.keep_checkpoints"), "must be at least 1: the last checkpoint is the one a fine-tune starts from");
    }
    if c.early_stopping == Some(0) {
        p.add(&format!("{section}.early_stopping"), "must be at least 1: the dev evaluations in a row without a better score before a run stops");
    }
    if !(c.early_stopping_threshold >= 0.0 && c.early_stopping_threshold.is_finite()) {
        p.add(&format!("{section}.early_stopping_threshold"), "must be a number of at least 0: how much a dev score must beat the best to count as an improvement");
    } else if c.early_stopping_threshold > 0.0 && c.early_stopping.is_none() {
        p.add(&format!("{section}.early_stopping_threshold"), "only applies to early stopping: set early_stopping too");
    }
    if c.keeps_best() && c.eval_every == 0 {
        let field = if c.early_stopping.is_some() { "early_stopping" } else { "keep_best" };
        p.add(&format!("{section}.{field}"), "compares dev scores during training: set eval_every too");
    }
    if c.max_len < 8 {
        p.add(&format!("{section}.max_len"), format!("{} tokens is too short: give at least 8", c.max_len));
    } else if c.doc_stride + 2 >= c.max_len {
        p.add(
            &format!("{section}.doc_stride"),
            format!("{} must be below max_len - 2 = {} (the window overlap must fit in a window); lower doc_stride", c.doc_stride, c.max_len - 2),
        );
    }
}

/// Lay `fields` over `base`; unknown or ill-typed fields are reported with their name.
pub fn overlay(base: &TrainConfig, section: &str, fields: &ConfigOverrides) -> Result<TrainConfig, Vec<String>> {
    let serde_json::Value::Object(defaults) = serde_json::to_value(base).map_err(|e| vec![format!("{section}: {e}")])? else {
        return Err(vec![format!("{section}: the training configuration is not a table")]);
    };
    let mut problems = Vec::new();
    for (key, value) in fields {
        if !defaults.contains_key(key) {
            let known: Vec<&str> = defaults.keys().map(String::as_str).collect();
            problems.push(format!("{section}.{key}: no such training setting (known: {})", known.join(", ")));
            continue;
        }
        let mut one = defaults.clone();
        one.insert(key.clone(), value.clone());
        if let Err(e) = serde_json::from_value::<TrainConfig>(serde_json::Value::Object(one)) {
            problems.push(format!("{section}.{key}: {e}"));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut all = defaults;
    all.extend(fields.iter().map(|(k, v)| (k.clone(), v.clone())));
    serde_json::from_value(serde_json::Value::Object(all)).map_err(|e| vec![format!("{section}: {e}")])
}

/// Expand a spec into its runs: pre-finetuning runs first, then fine-tunes, each
/// dependency before its dependents. The same spec always gives the same plan.
pub fn expand(spec: &ExperimentSpec) -> Result<Plan, SpecErrors> {
    let mut p = Problems::default();
    if spec.name.trim().is_empty() {
        p.add("name", "is empty: name the experiment (running the same name again resumes it)");
    }
    let kind = match spec.kind() {
        Ok(k) => k,
        Err(e) => {
            p.0.push(e);
            return Err(SpecErrors(p.0));
        }
    };
    if !matches!(kind, ExperimentKind::SampleEfficiency | ExperimentKind::Sweep) && !spec.stages.is_empty() {
        p.add("stages", format!("[[stages]] are starting points of a sample-efficiency sweep or a sweep; a {kind} experiment makes its own pre-finetuning runs"));
    }
    let pft = overlay(&TrainConfig::prefinetune(), "prefinetune", &spec.prefinetune).unwrap_or_else(|e| {
        p.0.extend(e);
        TrainConfig::prefinetune()
    });
    let ft = overlay(&TrainConfig::finetune(), "finetune", &spec.finetune).unwrap_or_else(|e| {
        p.0.extend(e);
        TrainConfig::finetune()
    });
    sane("prefinetune", &pft, &mut p);
    sane("finetune", &ft, &mut p);
    let label = spec.name.trim();
    let plan = match kind {
        ExperimentKind::SampleEfficiency => sample_efficiency(spec, label, &pft, &ft, &mut p),
        ExperimentKind::TaskCount => task_count(spec, label, &pft, &ft, &mut p),
        ExperimentKind::BatchingAblation => batching_ablation(spec, label, &pft, &ft, &mut p),
        ExperimentKind::Sweep => sweep(spec, label, &pft, &ft, &mut p),
    };
    // The backend of every run, and the precision it allows.
    match spec.backend.as_deref().unwrap_or("cpu").parse::<crate::backend::BackendKind>() {
        Err(e) => p.add("backend", e),
        Ok(backend) => {
            if let Some(e) = plan.runs.iter().find_map(|r| backend.check_mixed_precision(r.config.mixed_precision).err()) {
                p.add("backend", e);
            }
        }
    }
    if !p.0.is_empty() {
        return Err(SpecErrors(p.0));
    }
    Ok(plan)
}

#[allow(clippy::too_many_arguments)]
fn finetune_run(label: &str, ft: &TrainConfig, task: &str, seed: u64, size: Option<usize>, arm: Arm, start: PlannedStart, reuse_heads: bool) -> PlannedRun {
    // One dev set for every seed (the spec's seed draws it): the spread over seeds is
    // the training subset and the training randomness, not the dev sample.
    let config = TrainConfig { seed, train_size: size, split_seed: Some(ft.split_seed.unwrap_or(ft.seed)), ..ft.clone() };
    let n = size.map(|n| format!(" n={n}")).unwrap_or_default();
    PlannedRun {
        name: format!("{label}: fine-tune {task}{n} seed={seed} from {}", arm.key()),
        kind: RunKind::Finetune,
        tasks: vec![task.to_string()],
        config,
        start,
        reuse_heads: reuse_heads && start != PlannedStart::Base,
        role: Role::Finetune { task: task.to_string(), seed, size, arm },
    }
}

fn stage_config(pft: &TrainConfig, i: usize, stage: &StageSpec, p: &mut Problems) -> TrainConfig {
    let section = format!("stages[{i}].config");
    let config = overlay(pft, &section, &stage.config).unwrap_or_else(|e| {
        p.0.extend(e);
        pft.clone()
    });
    if !stage.config.is_empty() {
        sane(&section, &config, p);
    }
    config
}

fn sample_efficiency(spec: &ExperimentSpec, label: &str, pft: &TrainConfig, ft: &TrainConfig, p: &mut Problems) -> Plan {
    let Some(se) = &spec.sample_efficiency else { unreachable!("kind checked") };
    p.names("sample_efficiency.tasks", &se.tasks);
    p.sizes("sample_efficiency.sizes", &se.sizes);
    let seeds = p.seeds("sample_efficiency.seeds", &se.seeds.values());
    p.reserved("finetune", &spec.finetune, &[("seed", "sample_efficiency.seeds"), ("train_size", "sample_efficiency.sizes")]);
    if se.starts.is_empty() {
        p.add("sample_efficiency.starts", "is empty: give \"base\" and the stages or runs to compare");
    }
    let (mut runs, stage_index) = plan_stages(spec, label, pft, p);
    let mut starts = Vec::new();
    let mut seen = BTreeSet::new();
    for s in &se.starts {
        if !seen.insert(s.clone()) {
            p.add("sample_efficiency.starts", format!("`{s}` is listed twice"));
            continue;
        }
        starts.extend(resolve_start("sample_efficiency.starts", s, &stage_index, spec, p));
    }
    unused_stages(spec, &se.starts, "sample_efficiency.starts", p);
    for task in &se.tasks {
        for &size in &se.sizes {
            for &seed in &seeds {
                for (arm, start) in &starts {
                    runs.push(finetune_run(label, ft, task, seed, Some(size), arm.clone(), *start, se.reuse_heads));
                }
            }
        }
    }
    Plan { kind: ExperimentKind::SampleEfficiency, runs, pool_order: None }
}

/// The pre-finetuning runs of `[[stages]]`, and each stage's index in them.
fn plan_stages(spec: &ExperimentSpec, label: &str, pft: &TrainConfig, p: &mut Problems) -> (Vec<PlannedRun>, BTreeMap<String, usize>) {
    let mut runs = Vec::new();
    let mut stage_index = BTreeMap::new();
    for (i, stage) in spec.stages.iter().enumerate() {
        let field = format!("stages[{i}]");
        match StartRef::try_from(stage.name.clone()) {
            Ok(StartRef::Stage(_)) => {}
            _ => p.add(&format!("{field}.name"), format!("`{}` cannot name a stage: \"base\" and \"run:ID\" are starting points of their own", stage.name)),
        }
        p.names(&format!("{field}.tasks"), &stage.tasks);
        if stage_index.insert(stage.name.clone(), runs.len()).is_some() {
            p.add(&format!("{field}.name"), format!("a second stage named `{}`", stage.name));
            continue;
        }
        runs.push(PlannedRun {
            name: format!("{label}: pre-finetune {}", stage.name),
            kind: RunKind::PreFinetune,
            tasks: stage.tasks.clone(),
            config: stage_config(pft, i, stage, p),
            start: PlannedStart::Base,
            reuse_heads: false,
            role: Role::PreFinetune { arm: Arm::Stage { name: stage.name.clone() } },
        });
    }
    (runs, stage_index)
}

/// The arm and planned start of a starting point named in `field`.
fn resolve_start(field: &str, s: &StartRef, stage_index: &BTreeMap<String, usize>, spec: &ExperimentSpec, p: &mut Problems) -> Option<(Arm, PlannedStart)> {
    match s {
        StartRef::Base => Some((Arm::Base, PlannedStart::Base)),
        StartRef::Run(id) => Some((Arm::Run { id: *id }, PlannedStart::Run { id: *id })),
        StartRef::Stage(name) => match stage_index.get(name) {
            Some(&index) => Some((Arm::Stage { name: name.clone() }, PlannedStart::Planned { index })),
            None => {
                let known: Vec<&str> = spec.stages.iter().map(|s| s.name.as_str()).collect();
                p.add(field, format!("`{name}` is neither \"base\", \"run:ID\" nor a stage of this file (stages: [{}])", known.join(", ")));
                None
            }
        },
    }
}

/// A stage no start uses would train for nothing.
fn unused_stages(spec: &ExperimentSpec, starts: &[StartRef], field: &str, p: &mut Problems) {
    for stage in &spec.stages {
        if !starts.contains(&StartRef::Stage(stage.name.clone())) {
            p.add("stages", format!("stage `{}` is defined but no start uses it: add it to {field} or remove it", stage.name));
        }
    }
}

/// A setting's label: its fields in order with their values (`batch_size=16, lr=4.21e-5`).
pub fn setting_label(setting: &ConfigOverrides) -> String {
    random::label(setting)
}

/// A setting's value as a sweep's labels write it: text as it is, numbers as JSON writes them
/// (`0.0001`, `16`).
pub fn setting_text(v: &serde_json::Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

/// The settings a random search's fields (`sweep.random`) and a sweep's grid may not set: the
/// sweep sets them itself.
const SWEEP_RESERVED: [(&str, &str); 2] = [("seed", "sweep.seeds"), ("train_size", "sweep.train_size")];

/// The fewest settings with a score that [`propose`] proposes from.
pub const MIN_GUIDED_TRIES: usize = guided::MIN_TRIED;

/// `n` more settings of the random search of `spec`, proposed from the settings `tried` so far
/// and their scores (higher is better) by a tree-structured Parzen estimator (the `guided`
/// module; W&B's `bayes` method): none of them a setting drawn or proposed already, to be
/// added to `sweep.proposed`. The same spec and scores propose the same settings. Refused,
/// with what to do, for a spec without `sweep.random`, fewer than [`MIN_GUIDED_TRIES`]
/// settings scored, or a space tried whole.
pub fn propose(spec: &ExperimentSpec, tried: &[(ConfigOverrides, f64)], n: usize) -> Result<Vec<ConfigOverrides>, String> {
    let Some(sw) = spec.sweep.as_ref().filter(|s| !s.random.is_empty()) else {
        return Err("a guided draw proposes settings of a random search (a sweep with sweep.random)".into());
    };
    let ft = overlay(&TrainConfig::finetune(), "finetune", &spec.finetune).map_err(|e| e.join("; "))?;
    let mut p = Problems::default();
    let seed = sw.random_seed.unwrap_or(0);
    let planned = random::settings(&sw.random, (sw.count, &sw.proposed), seed, &ft, &SWEEP_RESERVED, &mut p).ok_or_else(|| p.0.join("; "))?;
    let fields = random::fields(&sw.random, &ft, &SWEEP_RESERVED, &mut p);
    let mut taken: BTreeSet<String> = planned.into_iter().map(|(_, label)| label).collect();
    // Each round of proposals draws its candidates with a seed of its own.
    guided::propose(&fields, tried, &mut taken, n, seed ^ (0x4755_4944_4544 + sw.proposed.len() as u64))
}

/// Every combination of the grid's values, as training settings, in the grid's order
/// (fields by name, values as listed), with its label (`batch_size=8, lr=0.0001`).
fn grid_settings(grid: &BTreeMap<String, Vec<serde_json::Value>>) -> Vec<(ConfigOverrides, String)> {
    let mut out = vec![(ConfigOverrides::new(), String::new())];
    for (key, values) in grid {
        out = out
            .into_iter()
            .flat_map(|(fields, label)| {
                values.iter().map(move |v| {
                    let mut fields = fields.clone();
                    fields.insert(key.clone(), v.clone());
                    let sep = if label.is_empty() { "" } else { ", " };
                    (fields, format!("{label}{sep}{key}={}", setting_text(v)))
                })
            })
            .collect();
    }
    out
}

/// Check a sweep's grid (`field`: `sweep.grid`) value by value against `base`: fields set
/// elsewhere (`reserved`: field and where), empty or repeated values, unknown or ill-typed
/// settings. Whether it can be expanded.
fn check_grid(field: &str, grid: &BTreeMap<String, Vec<serde_json::Value>>, base: &TrainConfig, reserved: &[(&str, &str)], p: &mut Problems) -> bool {
    let mut ok = true;
    for (key, values) in grid {
        let at = format!("{field}.{key}");
        if let Some((_, by)) = reserved.iter().find(|(k, _)| k == key) {
            p.add(&at, format!("is set by {by}; sweep it there"));
            ok = false;
            continue;
        }
        if values.is_empty() {
            p.add(&at, "has no values: list at least one");
            ok = false;
        }
        let mut seen = BTreeSet::new();
        for v in values {
            if !seen.insert(v.to_string()) {
                p.add(&at, format!("{v} is listed twice"));
                ok = false;
            }
            // Each value on its own, so a bad one is named once, not once per combination.
            let one: ConfigOverrides = [(key.clone(), v.clone())].into_iter().collect();
            if let Err(e) = overlay(base, field, &one) {
                p.0.extend(e);
                ok = false;
            }
        }
    }
    ok
}

fn sweep(spec: &ExperimentSpec, label: &str, pft: &TrainConfig, ft: &TrainConfig, p: &mut Problems) -> Plan {
    let Some(sw) = &spec.sweep else { unreachable!("kind checked") };
    p.names("sweep.tasks", &sw.tasks);
    let seeds = p.seeds("sweep.seeds", &sw.seeds.values());
    let mut reserved = vec![("seed", "sweep.seeds")];
    if sw.train_size.is_some() {
        reserved.push(("train_size", "sweep.train_size"));
    }
    p.reserved("finetune", &spec.finetune, &reserved);
    if sw.train_size == Some(0) {
        p.add("sweep.train_size", "0 is no size: give at least 1, or leave it out to train on every example");
    }
    if sw.grid.is_empty() && sw.stage_grid.is_empty() && sw.random.is_empty() {
        p.add("sweep.grid", "is empty: give the settings to sweep and their values, e.g. lr = [1e-5, 3e-5, 1e-4] (or sweep.random, settings to draw, or sweep.stage_grid, the settings of the stage it starts from)");
    }
    let grid_reserved = SWEEP_RESERVED;
    let grid_ok = check_grid("sweep.grid", &sw.grid, ft, &grid_reserved, p);
    // Settings drawn at random instead of listed.
    let drawn = if sw.random.is_empty() {
        if sw.count.is_some() || sw.random_seed.is_some() || !sw.proposed.is_empty() || sw.guided.is_some() {
            let at = match (sw.proposed.is_empty(), sw.guided.is_some()) {
                (false, _) => "sweep.proposed",
                (true, true) => "sweep.guided",
                (true, false) => "sweep.count",
            };
            p.add(at, "draws settings from sweep.random: give the fields to draw, e.g. lr = { min = 1e-5, max = 1e-3, distribution = \"log_uniform_values\" }");
        }
        None
    } else if !sw.grid.is_empty() {
        p.add("sweep.random", "a sweep lists its settings in sweep.grid or draws them from sweep.random, not both: move the grid's fields into sweep.random as values = [...]");
        None
    } else {
        Some(random::settings(&sw.random, (sw.count, &sw.proposed), sw.random_seed.unwrap_or(0), ft, &grid_reserved, p))
    };
    match sw.guided {
        Some(0) => p.add("sweep.guided", "0 settings: propose at least 1, or leave guided out"),
        Some(_) if !sw.random.is_empty() && sw.count.unwrap_or(0) + sw.proposed.len() < guided::MIN_TRIED => p.add(
            "sweep.guided",
            format!("proposes from the scores of at least {} settings: draw count = {} or more at random first", guided::MIN_TRIED, guided::MIN_TRIED - sw.proposed.len().min(guided::MIN_TRIED)),
        ),
        _ => {}
    }
    let grid_ok = grid_ok && !matches!(drawn, Some(None));
    if let Some(rule) = &sw.early_terminate {
        if rule.min_runs == 0 {
            p.add("sweep.early_terminate.min_runs", "must be at least 1: the finished runs a run is compared with");
        }
        if rule.grace_evals == 0 {
            p.add("sweep.early_terminate.grace_evals", "must be at least 1: a run is compared at its dev evaluations");
        }
        if ft.eval_every == 0 && !sw.grid.contains_key("eval_every") && !sw.random.contains_key("eval_every") {
            p.add("sweep.early_terminate", "compares the runs' dev scores during training: set eval_every in [finetune] (e.g. eval_every = 20), or leave early_terminate out");
        }
    }
    let (mut runs, stage_index) = plan_stages(spec, label, pft, p);
    let start = resolve_start("sweep.start", &sw.start, &stage_index, spec, p);
    unused_stages(spec, std::slice::from_ref(&sw.start), "sweep.start", p);
    // The starting points: the start, or each setting of its swept stage.
    let mut starts = Vec::new();
    match (start, sw.stage_grid.is_empty()) {
        (Some(start), true) => starts.push(start),
        (Some((Arm::Stage { name }, PlannedStart::Planned { index })), false) => {
            let stage = runs.remove(index);
            if check_grid("sweep.stage_grid", &sw.stage_grid, &stage.config, &[], p) {
                let mut insane = Problems::default();
                for (fields, values) in grid_settings(&sw.stage_grid) {
                    let config = overlay(&stage.config, "sweep.stage_grid", &fields).unwrap_or_else(|_| stage.config.clone());
                    sane("sweep.stage_grid", &config, &mut insane);
                    let arm = Arm::StageSetting { name: name.clone(), values };
                    starts.push((arm.clone(), PlannedStart::Planned { index: runs.len() }));
                    runs.push(PlannedRun { name: format!("{label}: pre-finetune {}", arm.key()), config, role: Role::PreFinetune { arm }, ..stage.clone() });
                }
                p.extend_once(insane);
            }
        }
        (Some(_), false) => p.add("sweep.stage_grid", "sweeps the pre-finetuning settings of the stage the sweep starts from: set sweep.start to a stage of this file"),
        (None, _) => {}
    }
    // The base model first, to compare the start's settings with.
    if sw.compare_base {
        match sw.start {
            StartRef::Base => p.add("sweep.compare_base", "the sweep starts from the base model already: set sweep.start to a stage or \"run:ID\" to compare it with the base model, or leave compare_base out"),
            _ if !starts.is_empty() => starts.insert(0, (Arm::Base, PlannedStart::Base)),
            _ => {}
        }
    }
    if starts.is_empty() || !grid_ok {
        return Plan { kind: ExperimentKind::Sweep, runs, pool_order: None };
    }
    let settings = match drawn {
        Some(Some(drawn)) => drawn,
        _ if sw.grid.is_empty() => vec![(ConfigOverrides::new(), String::new())],
        _ => grid_settings(&sw.grid),
    };
    let mut insane = Problems::default();
    for (start_arm, start) in &starts {
        for (fields, values) in &settings {
            let section = if sw.random.is_empty() { "sweep.grid" } else { "sweep.random" };
            let config = overlay(ft, section, fields).unwrap_or_else(|_| ft.clone());
            sane(section, &config, &mut insane);
            // A setting of the stage alone is its own arm.
            let arm = match values.is_empty() {
                true => start_arm.clone(),
                false => Arm::Setting { start: Box::new(start_arm.clone()), values: values.clone(), named_start: sw.compare_base },
            };
            for task in &sw.tasks {
                for &seed in &seeds {
                    runs.push(finetune_run(label, &config, task, seed, sw.train_size, arm.clone(), *start, sw.reuse_heads));
                }
            }
        }
    }
    p.extend_once(insane);
    Plan { kind: ExperimentKind::Sweep, runs, pool_order: None }
}

fn task_count(spec: &ExperimentSpec, label: &str, pft: &TrainConfig, ft: &TrainConfig, p: &mut Problems) -> Plan {
    let Some(tc) = &spec.task_count else { unreachable!("kind checked") };
    p.names("task_count.pool", &tc.pool);
    p.sizes("task_count.sizes", &tc.sizes);
    if let Some(&k) = tc.sizes.iter().find(|&&k| k > tc.pool.len()) {
        p.add("task_count.sizes", format!("{k} tasks asked for but the pool has {}", tc.pool.len()));
    }
    let seeds = p.seeds("task_count.seeds", &tc.seeds.values());
    let mut reserved = vec![("seed", "task_count.seeds")];
    if tc.train_size.is_some() {
        reserved.push(("train_size", "task_count.train_size"));
    }
    p.reserved("finetune", &spec.finetune, &reserved);
    let train_size = tc.train_size.or(ft.train_size);
    if train_size == Some(0) {
        p.add("task_count.train_size", "0 examples: give at least 1, or leave it out for all");
    }
    let mut order = tc.pool.clone();
    if let Some(seed) = tc.order_seed {
        stats::SplitMix64::new(seed).shuffle(&mut order);
    }
    let k1 = tc.sizes.first().copied().unwrap_or(0).min(order.len());
    let inside: Vec<String> = match &tc.inside {
        Inside::Count(c) => {
            if *c > k1 {
                p.add("task_count.inside", format!("{c} tasks cannot all be in every subset: the smallest subset has {k1}"));
            }
            order[..(*c).min(k1)].to_vec()
        }
        Inside::Names(names) => {
            for n in names {
                if !order[..k1].contains(n) {
                    p.add(
                        "task_count.inside",
                        format!(
                            "`{n}` is not in every subset: the smallest subset is [{}]{}",
                            order[..k1].join(", "),
                            if tc.order_seed.is_some() { " (the pool shuffled with order_seed)" } else { "" }
                        ),
                    );
                }
            }
            names.clone()
        }
    };
    for n in &tc.held_out {
        if tc.pool.contains(n) {
            p.add("task_count.held_out", format!("`{n}` is in the pool; a held-out task must be outside it (use inside for tasks in every subset)"));
        }
    }
    let downstream: Vec<String> = inside.iter().chain(&tc.held_out).cloned().collect();
    if downstream.is_empty() {
        p.add("task_count", "no downstream task: set inside (a count or names) and/or held_out");
    }
    let mut dup = BTreeSet::new();
    for d in &downstream {
        if !dup.insert(d) {
            p.add("task_count", format!("downstream task `{d}` is listed twice"));
        }
    }
    let mut runs = Vec::new();
    let mut stages = Vec::new();
    for &k in &tc.sizes {
        if k == 0 || k > order.len() {
            continue;
        }
        stages.push((Arm::Tasks { k }, PlannedStart::Planned { index: runs.len() }));
        runs.push(PlannedRun {
            name: format!("{label}: pre-finetune k={k}"),
            kind: RunKind::PreFinetune,
            tasks: order[..k].to_vec(),
            config: pft.clone(),
            start: PlannedStart::Base,
            reuse_heads: false,
            role: Role::PreFinetune { arm: Arm::Tasks { k } },
        });
    }
    for task in &downstream {
        for &seed in &seeds {
            runs.push(finetune_run(label, ft, task, seed, train_size, Arm::Base, PlannedStart::Base, false));
            for (arm, start) in &stages {
                runs.push(finetune_run(label, ft, task, seed, train_size, arm.clone(), *start, tc.reuse_heads));
            }
        }
    }
    Plan { kind: ExperimentKind::TaskCount, runs, pool_order: Some(order) }
}

fn batching_ablation(spec: &ExperimentSpec, label: &str, pft: &TrainConfig, ft: &TrainConfig, p: &mut Problems) -> Plan {
    let Some(ab) = &spec.batching_ablation else { unreachable!("kind checked") };
    p.names("batching_ablation.mixture", &ab.mixture);
    p.names("batching_ablation.downstream", &ab.downstream);
    let seeds = p.seeds("batching_ablation.seeds", &ab.seeds.values());
    p.reserved("prefinetune", &spec.prefinetune, &[("batching", "batching_ablation.batchings"), ("loss_scale", "batching_ablation.loss_scaling")]);
    let mut reserved = vec![("seed", "batching_ablation.seeds")];
    if ab.train_size.is_some() {
        reserved.push(("train_size", "batching_ablation.train_size"));
    }
    p.reserved("finetune", &spec.finetune, &reserved);
    let train_size = ab.train_size.or(ft.train_size);
    let mut batchings = Vec::new();
    for b in &ab.batchings {
        match b.parse::<Batching>() {
            Ok(v) if batchings.contains(&v) => p.add("batching_ablation.batchings", format!("`{b}` is listed twice")),
            Ok(v) => batchings.push(v),
            Err(e) => p.add("batching_ablation.batchings", e),
        }
    }
    if ab.batchings.is_empty() {
        p.add("batching_ablation.batchings", "is empty: give some of heterogeneous, homogeneous, sequential");
    }
    if ab.loss_scaling.is_empty() || (ab.loss_scaling.len() == 2 && ab.loss_scaling[0] == ab.loss_scaling[1]) || ab.loss_scaling.len() > 2 {
        p.add("batching_ablation.loss_scaling", "give [true, false], [true] or [false]");
    }
    let mut runs = Vec::new();
    let mut variants = Vec::new();
    for &b in &batchings {
        for &scaling in &ab.loss_scaling {
            let arm = Arm::Variant { batching: b.as_str().into(), loss_scaling: scaling };
            variants.push((arm.clone(), PlannedStart::Planned { index: runs.len() }));
            let config = TrainConfig { batching: b, loss_scale: if scaling { LossScale::LogN } else { LossScale::Off }, ..pft.clone() };
            runs.push(PlannedRun {
                name: format!("{label}: pre-finetune {}", arm.key()),
                kind: RunKind::PreFinetune,
                tasks: ab.mixture.clone(),
                config,
                start: PlannedStart::Base,
                reuse_heads: false,
                role: Role::PreFinetune { arm },
            });
        }
    }
    for task in &ab.downstream {
        for &seed in &seeds {
            runs.push(finetune_run(label, ft, task, seed, train_size, Arm::Base, PlannedStart::Base, false));
            for (arm, start) in &variants {
                runs.push(finetune_run(label, ft, task, seed, train_size, arm.clone(), *start, ab.reuse_heads));
            }
        }
    }
    Plan { kind: ExperimentKind::BatchingAblation, runs, pool_order: None }
}

/// What the data folder knows, for [`check`].
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// Examples of every task that can be loaded, by name.
    pub task_examples: BTreeMap<String, usize>,
    /// Tasks that hold out their own number of dev examples (their split policy; 0 for a
    /// task scored on another task).
    pub task_dev_sizes: BTreeMap<String, usize>,
    /// Tasks that cannot be trained, with the reason (generation tasks).
    pub untrainable: BTreeMap<String, String>,
    /// Existing runs used as starting points: their tasks, or why they cannot be one.
    pub runs: BTreeMap<i64, Result<Vec<String>, String>>,
}

impl Facts {
    /// Record a task that can be loaded: its examples, its own dev size, and why it
    /// cannot be trained, if it cannot.
    pub fn add_task(&mut self, spec: &muppet_core::TaskSpec, examples: usize) {
        self.task_examples.insert(spec.name.clone(), examples);
        // A task scored on another task holds none of its own out.
        let held_out = if spec.split.dev_task.is_some() { Some(0) } else { spec.split.dev_size };
        if let Some(dev) = held_out {
            self.task_dev_sizes.insert(spec.name.clone(), dev);
        }
        if let Some(why) = spec.family.why_not_trained() {
            self.untrainable.insert(spec.name.clone(), why.to_string());
        }
    }
}

/// Check a plan against the data before anything runs: unknown tasks, training sizes larger
/// than a task's training split, existing runs that cannot be started from, and downstream
/// tasks that were in the pre-finetuning mixture they start from. Overlaps are warnings
/// with `allow_overlap`, problems without. Returns the warnings.
pub fn check(spec: &ExperimentSpec, plan: &Plan, facts: &Facts, allow_overlap: bool) -> Result<Vec<String>, SpecErrors> {
    let mut p = Problems::default();
    let mut warnings = Vec::new();
    let known = |n: &str| facts.task_examples.contains_key(n);
    let mut fields: Vec<(String, Vec<String>)> = spec.stages.iter().enumerate().map(|(i, s)| (format!("stages[{i}].tasks"), s.tasks.clone())).collect();
    if let Some(se) = &spec.sample_efficiency {
        fields.push(("sample_efficiency.tasks".into(), se.tasks.clone()));
    }
    if let Some(tc) = &spec.task_count {
        fields.push(("task_count.pool".into(), tc.pool.clone()));
        fields.push(("task_count.held_out".into(), tc.held_out.clone()));
    }
    if let Some(ab) = &spec.batching_ablation {
        fields.push(("batching_ablation.mixture".into(), ab.mixture.clone()));
        fields.push(("batching_ablation.downstream".into(), ab.downstream.clone()));
    }
    if let Some(sw) = &spec.sweep {
        fields.push(("sweep.tasks".into(), sw.tasks.clone()));
    }
    for (field, names) in &fields {
        for n in names.iter().filter(|n| !known(n)) {
            p.add(field, format!("unknown task `{n}` (known: {})", facts.task_examples.keys().cloned().collect::<Vec<_>>().join(", ")));
        }
        for n in names {
            if let Some(why) = facts.untrainable.get(n) {
                p.add(field, format!("task `{n}`: {why}"));
            }
        }
    }
    // Training sizes: a fine-tune keeps `train_size` of the examples left after its dev split.
    let size_field = match plan.kind {
        ExperimentKind::SampleEfficiency => "sample_efficiency.sizes",
        ExperimentKind::TaskCount => "task_count.train_size",
        ExperimentKind::BatchingAblation => "batching_ablation.train_size",
        ExperimentKind::Sweep => "sweep.train_size",
    };
    let mut too_big = BTreeMap::new();
    for run in &plan.runs {
        if let (Role::Finetune { task, size: Some(n), .. }, Some(&examples)) = (&run.role, facts.task_examples.get(run.tasks[0].as_str())) {
            let dev = facts.task_dev_sizes.get(task.as_str()).copied().unwrap_or(run.config.dev_size).min(examples / 2);
            let available = examples - dev;
            if *n > available {
                too_big.entry((task.clone(), *n)).or_insert((examples, dev, available));
            }
        }
    }
    for ((task, n), (examples, dev, available)) in too_big {
        p.add(
            size_field,
            format!("{n} training examples of `{task}` asked for, but it has {available} ({examples} minus {dev} held out for dev): use at most {available} or a smaller dev_size"),
        );
    }
    // Existing runs as starting points.
    let mut mixtures: BTreeMap<Arm, (String, Vec<String>)> = BTreeMap::new();
    for (i, run) in plan.runs.iter().enumerate() {
        if let Role::PreFinetune { arm } = &run.role {
            let field = match (&arm, plan.kind) {
                (Arm::Stage { .. } | Arm::StageSetting { .. }, _) => format!("stages[{}].tasks", spec.stages.iter().position(|s| Some(&s.name) == plan_stage_name(arm)).unwrap_or(i)),
                (_, ExperimentKind::TaskCount) => "task_count.pool".into(),
                _ => "batching_ablation.mixture".into(),
            };
            mixtures.insert(arm.clone(), (field, run.tasks.clone()));
        }
    }
    let mut checked_runs = BTreeSet::new();
    let start_field = if plan.kind == ExperimentKind::Sweep { "sweep.start" } else { "sample_efficiency.starts" };
    for run in &plan.runs {
        if let PlannedStart::Run { id } = run.start
            && checked_runs.insert(id)
        {
            match facts.runs.get(&id) {
                None => p.add(start_field, format!("run:{id} does not exist in this data folder (see `muppet runs list`)")),
                Some(Err(why)) => p.add(start_field, format!("run:{id} cannot be a starting point: {why}")),
                Some(Ok(tasks)) => {
                    mixtures.insert(Arm::Run { id }, (format!("run {id}"), tasks.clone()));
                }
            }
        }
    }
    // Downstream tasks inside the mixture they start from (task_count's `inside` tasks are so by design).
    let inside: BTreeSet<&String> = match (&spec.task_count, &plan.pool_order) {
        (Some(tc), Some(order)) => match &tc.inside {
            Inside::Count(c) => order.iter().take(*c).collect(),
            Inside::Names(n) => n.iter().collect(),
        },
        _ => BTreeSet::new(),
    };
    let mut overlaps = BTreeSet::new();
    for run in &plan.runs {
        if let Role::Finetune { task, arm, .. } = &run.role
            && !inside.contains(task)
            && let Some((field, mixture)) = mixtures.get(arm.model_arm())
            && mixture.contains(task)
        {
            overlaps.insert((task.clone(), arm.model_arm().label(), field.clone()));
        }
    }
    for (task, arm, field) in overlaps {
        let msg = format!(
            "downstream task `{task}` is in the pre-finetuning mixture of `{arm}` ({field}): its fine-tunes would measure a task the model was already trained on"
        );
        if allow_overlap {
            warnings.push(msg);
        } else {
            p.add("overlap", format!("{msg}; remove it from one side, or pass --allow-overlap to run it anyway"));
        }
    }
    if !p.0.is_empty() {
        return Err(SpecErrors(p.0));
    }
    Ok(warnings)
}

fn plan_stage_name(arm: &Arm) -> Option<&String> {
    match arm {
        Arm::Stage { name } | Arm::StageSetting { name, .. } => Some(name),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: serde_json::Value) -> ExperimentSpec {
        serde_json::from_value(json).expect("spec")
    }

    fn se_spec() -> ExperimentSpec {
        spec(serde_json::json!({
            "name": "demo",
            "prefinetune": {"steps": 150, "batch_size": 8},
            "finetune": {"steps": 20, "dev_size": 50},
            "stages": [{"name": "pft", "tasks": ["a", "b", "c", "d"]}],
            "sample_efficiency": {"tasks": ["x", "y"], "sizes": [16, 64], "seeds": 2, "starts": ["base", "pft"]}
        }))
    }

    fn facts() -> Facts {
        let mut f = Facts::default();
        for (n, size) in [("a", 1000), ("b", 1000), ("c", 1000), ("d", 1000), ("e", 1000), ("x", 300), ("y", 200)] {
            f.task_examples.insert(n.into(), size);
        }
        f
    }

    #[test]
    fn sample_efficiency_expands_to_stages_then_every_fine_tune() {
        let plan = expand(&se_spec()).expect("plan");
        // 1 stage + 2 tasks x 2 sizes x 2 seeds x 2 starts.
        assert_eq!(plan.runs.len(), 1 + 16);
        let stage = &plan.runs[0];
        assert_eq!(stage.kind, RunKind::PreFinetune);
        assert_eq!(stage.name, "demo: pre-finetune pft");
        assert_eq!((stage.config.steps, stage.config.batch_size, stage.config.tasks_per_update), (150, 8, 4));
        let ft = &plan.runs[1];
        assert_eq!(ft.name, "demo: fine-tune x n=16 seed=1 from base");
        assert_eq!((ft.config.steps, ft.config.dev_size, ft.config.seed, ft.config.train_size), (20, 50, 1, Some(16)));
        assert_eq!(ft.start, PlannedStart::Base);
        let from_stage = &plan.runs[2];
        assert_eq!(from_stage.start, PlannedStart::Planned { index: 0 });
        assert_eq!(from_stage.depends_on(), Some(0));
        assert_eq!(from_stage.role, Role::Finetune { task: "x".into(), seed: 1, size: Some(16), arm: Arm::Stage { name: "pft".into() } });
        // Names are unique (they identify stored runs) and the plan is deterministic.
        let names: BTreeSet<_> = plan.runs.iter().map(|r| &r.name).collect();
        assert_eq!(names.len(), plan.runs.len());
        assert_eq!(expand(&se_spec()).expect("again"), plan);
        // Dependencies point backwards.
        assert!(plan.runs.iter().enumerate().all(|(i, r)| r.depends_on().is_none_or(|d| d < i)));
        assert_eq!(check(&se_spec(), &plan, &facts(), false), Ok(vec![]));
    }

    #[test]
    fn bad_specs_name_every_field() {
        let mut s = se_spec();
        let se = s.sample_efficiency.as_mut().expect("design");
        se.seeds = muppet_core::experiment::Seeds::Count(0);
        se.sizes = vec![64, 16];
        se.starts.push(StartRef::Stage("nope".into()));
        s.finetune.insert("train_size".into(), 3.into());
        s.finetune.insert("stpes".into(), 3.into());
        s.prefinetune.insert("lr".into(), "fast".into());
        let err = expand(&s).expect_err("bad").0.join("\n");
        for want in [
            "sample_efficiency.seeds: no seeds",
            "sample_efficiency.sizes: [64, 16] must be strictly ascending",
            "`nope` is neither",
            "finetune.train_size: is set by sample_efficiency.sizes",
            "finetune.stpes: no such training setting",
            "prefinetune.lr: invalid type",
        ] {
            assert!(err.contains(want), "missing {want:?} in\n{err}");
        }
        // Settings the engine would refuse after the first run started.
        let mut s = se_spec();
        s.finetune.insert("max_len".into(), 32.into());
        s.stages[0].config.insert("steps".into(), 0.into());
        s.prefinetune.insert("keep_checkpoints".into(), 0.into());
        s.finetune.insert("devices".into(), 2.into());
        s.finetune.insert("early_stopping".into(), 2.into());
        s.prefinetune.insert("early_stopping_threshold".into(), 0.01.into());
        let err = expand(&s).expect_err("bad").0.join("\n");
        assert!(err.contains("prefinetune.early_stopping_threshold: only applies to early stopping: set early_stopping too"), "{err}");
        assert!(err.contains("prefinetune.keep_checkpoints: must be at least 1"), "{err}");
        assert!(err.contains("finetune.early_stopping: compares dev scores during training: set eval_every too"), "{err}");
        assert!(err.contains("finetune.devices: 2 devices need tasks_per_update of at least 2"), "{err}");
        assert!(err.contains("finetune.doc_stride: 32 must be below max_len - 2 = 30"), "{err}");
        assert!(err.contains("stages[0].config.steps: must be at least 1"), "{err}");
        // The backend, and mixed precision where the backend's weights are half precision.
        let mut s = se_spec();
        s.backend = Some("tpu".into());
        let err = expand(&s).expect_err("bad").0.join("\n");
        assert!(err.contains("backend: invalid training configuration: unknown backend `tpu`"), "{err}");
        s.backend = Some("cuda-bf16".into());
        assert!(expand(&s).is_ok(), "cuda-bf16 alone is a backend");
        s.stages[0].config.insert("mixed_precision".into(), "bf16".into());
        let err = expand(&s).expect_err("bad").0.join("\n");
        assert!(err.contains("backend: ") && err.contains("use --backend cuda with --mixed-precision bf16"), "{err}");
        s.backend = Some("cuda".into());
        assert!(expand(&s).is_ok(), "mixed precision over f32 weights on cuda");
    }

    #[test]
    fn data_checks_catch_unknown_tasks_sizes_and_overlap() {
        let mut s = se_spec();
        s.stages[0].tasks.push("x".into());
        s.stages[0].tasks.push("zzz".into());
        s.sample_efficiency.as_mut().expect("design").sizes = vec![16, 64, 251];
        let plan = expand(&s).expect("plan");
        let err = check(&s, &plan, &facts(), false).expect_err("bad").0.join("\n");
        assert!(err.contains("stages[0].tasks: unknown task `zzz`"), "{err}");
        // x: 300 examples, 50 dev -> 250 available; y: 200 examples -> 150.
        assert!(err.contains("251 training examples of `x` asked for, but it has 250 (300 minus 50 held out for dev)"), "{err}");
        assert!(err.contains("251 training examples of `y` asked for, but it has 150 (200 minus 50"), "{err}");
        assert!(err.contains("downstream task `x` is in the pre-finetuning mixture of `pft` (stages[0].tasks)") && err.contains("--allow-overlap"), "{err}");
        // With --allow-overlap the overlap is a warning, the other problems remain.
        let err = check(&s, &plan, &facts(), true).expect_err("still bad").0.join("\n");
        assert!(!err.contains("overlap"), "{err}");
        s.stages[0].tasks.pop();
        s.sample_efficiency.as_mut().expect("design").sizes = vec![16, 32];
        let plan = expand(&s).expect("plan");
        let warnings = check(&s, &plan, &facts(), true).expect("only a warning");
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("`x`"), "{warnings:?}");
    }

    #[test]
    fn existing_runs_must_be_usable() {
        let mut s = se_spec();
        s.stages.clear();
        s.sample_efficiency.as_mut().expect("design").starts = vec![StartRef::Base, StartRef::Run(7), StartRef::Run(8), StartRef::Run(9)];
        let plan = expand(&s).expect("plan");
        let mut f = facts();
        f.runs.insert(7, Ok(vec!["a".into(), "y".into()]));
        f.runs.insert(8, Err("it is still running".into()));
        let err = check(&s, &plan, &f, false).expect_err("bad").0.join("\n");
        assert!(err.contains("run:8 cannot be a starting point: it is still running"), "{err}");
        assert!(err.contains("run:9 does not exist"), "{err}");
        assert!(err.contains("`y` is in the pre-finetuning mixture of `run 7`"), "{err}");
    }

    #[test]
    fn task_count_nests_subsets_with_one_budget() {
        let s = spec(serde_json::json!({
            "name": "tc",
            "prefinetune": {"steps": 40},
            "task_count": {"pool": ["a", "b", "c", "d", "e"], "sizes": [1, 3, 5], "inside": 1, "held_out": ["x"], "seeds": [4, 5], "train_size": 32}
        }));
        let plan = expand(&s).expect("plan");
        let order = plan.pool_order.clone().expect("order");
        assert_eq!(order, ["a", "b", "c", "d", "e"]);
        let stages: Vec<&PlannedRun> = plan.runs.iter().filter(|r| r.kind == RunKind::PreFinetune).collect();
        assert_eq!(stages.len(), 3);
        for (w, k) in stages.windows(2).zip([1, 3]) {
            assert!(w[1].tasks.starts_with(&w[0].tasks), "nested");
            assert_eq!(w[0].tasks.len(), k);
        }
        assert!(stages.iter().all(|r| r.config.steps == 40), "one step budget");
        // 2 downstream (a inside, x held out) x 2 seeds x (base + 3 sizes).
        assert_eq!(plan.runs.len(), 3 + 2 * 2 * 4);
        let ft: Vec<&PlannedRun> = plan.runs.iter().filter(|r| r.kind == RunKind::Finetune).collect();
        assert_eq!(ft[0].name, "tc: fine-tune a n=32 seed=4 from base");
        assert_eq!(ft[1].role, Role::Finetune { task: "a".into(), seed: 4, size: Some(32), arm: Arm::Tasks { k: 1 } });
        // Run names are how stored runs are found again: they must not follow label changes.
        assert_eq!(ft[1].name, "tc: fine-tune a n=32 seed=4 from 1 tasks");
        assert_eq!(Arm::Tasks { k: 1 }.label(), "1 task");
        // The inside task overlaps by design: no overlap complaint.
        assert_eq!(check(&s, &plan, &facts(), false), Ok(vec![]));

        // A seeded order is a fixed permutation; names inside must be in the smallest subset.
        let mut shuffled = s.clone();
        let tc = shuffled.task_count.as_mut().expect("design");
        tc.order_seed = Some(3);
        let order2 = expand(&shuffled).expect("shuffled").pool_order.expect("order");
        let mut sorted = order2.clone();
        sorted.sort();
        assert_eq!(sorted, ["a", "b", "c", "d", "e"]);
        assert_ne!(order2, order, "seed 3 shuffles");
        assert_eq!(expand(&shuffled).expect("again").pool_order, Some(order2.clone()));
        shuffled.task_count.as_mut().expect("design").inside = Inside::Names(vec![order2[0].clone()]);
        assert!(expand(&shuffled).is_ok());
        shuffled.task_count.as_mut().expect("design").inside = Inside::Names(vec![order2[4].clone()]);
        let err = expand(&shuffled).expect_err("not in every subset").to_string();
        assert!(err.contains(&format!("task_count.inside: `{}` is not in every subset: the smallest subset is [{}] (the pool shuffled", order2[4], order2[0])), "{err}");
    }

    #[test]
    fn task_count_refuses_impossible_sizes() {
        let s = spec(serde_json::json!({
            "name": "tc",
            "task_count": {"pool": ["a", "b"], "sizes": [1, 3], "held_out": ["a"], "seeds": []}
        }));
        let err = expand(&s).expect_err("bad").0.join("\n");
        assert!(err.contains("task_count.sizes: 3 tasks asked for but the pool has 2"), "{err}");
        assert!(err.contains("task_count.held_out: `a` is in the pool"), "{err}");
        assert!(err.contains("task_count.seeds: no seeds"), "{err}");
    }

    #[test]
    fn sweep_crosses_the_grid_with_tasks_and_seeds() {
        let s = spec(serde_json::json!({
            "name": "lr",
            "finetune": {"steps": 20},
            "stages": [{"name": "pft", "tasks": ["a", "b"]}],
            "sweep": {"tasks": ["x", "y"], "grid": {"lr": [1e-5, 1e-4], "batch_size": [8, 16]}, "seeds": 2, "start": "pft", "train_size": 64}
        }));
        let plan = expand(&s).expect("plan");
        assert_eq!(plan.kind, ExperimentKind::Sweep);
        // The stage, then 4 settings x 2 tasks x 2 seeds, each from the stage.
        assert_eq!(plan.runs.len(), 1 + 16);
        assert_eq!(plan.runs[0].kind, RunKind::PreFinetune);
        let ft = &plan.runs[1..];
        assert!(ft.iter().all(|r| r.start == PlannedStart::Planned { index: 0 } && r.config.train_size == Some(64) && r.config.steps == 20));
        let names: BTreeSet<&str> = ft.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names.len(), 16, "run names are unique");
        assert_eq!(ft[0].name, "lr: fine-tune x n=64 seed=1 from pft with batch_size=8, lr=0.00001");
        let labels: Vec<String> = ft.iter().step_by(4).map(|r| match &r.role {
            Role::Finetune { arm, .. } => arm.label(),
            Role::PreFinetune { .. } => unreachable!(),
        }).collect();
        assert_eq!(labels, ["batch_size=8, lr=0.00001", "batch_size=8, lr=0.0001", "batch_size=16, lr=0.00001", "batch_size=16, lr=0.0001"]);
        assert!((ft[4].config.lr - 1e-4).abs() < 1e-15 && ft[4].config.batch_size == 8, "{:?}", ft[4].config);
        assert!(ft[15].config.batch_size == 16);
        // Every setting scores the same dev examples: one split seed.
        assert!(ft.iter().all(|r| r.config.split_seed == ft[0].config.split_seed));
        // A downstream task inside the stage's mixture is caught through the setting's start.
        let mut inside = s.clone();
        inside.stages[0].tasks.push("x".into());
        let plan = expand(&inside).expect("plan");
        let err = check(&inside, &plan, &facts(), false).expect_err("overlap").0.join("\n");
        assert!(err.contains("downstream task `x` is in the pre-finetuning mixture of `pft` (stages[0].tasks)"), "{err}");
    }

    #[test]
    fn a_random_sweep_draws_count_settings_once_for_every_task_and_seed() {
        let s = spec(serde_json::json!({
            "name": "rs",
            "finetune": {"steps": 20},
            "sweep": {
                "tasks": ["x", "y"], "seeds": 2, "count": 5, "random_seed": 3,
                "random": {"lr": {"min": 1e-5, "max": 1e-3, "distribution": "log_uniform_values"}, "batch_size": {"values": [8, 16]}}
            }
        }));
        let plan = expand(&s).expect("plan");
        // 5 settings x 2 tasks x 2 seeds, from the base model.
        assert_eq!(plan.runs.len(), 20);
        assert!(plan.runs.iter().all(|r| r.kind == RunKind::Finetune && r.start == PlannedStart::Base));
        let arms: Vec<Arm> = plan.runs.iter().step_by(4).map(|r| match &r.role {
            Role::Finetune { arm, .. } => arm.clone(),
            Role::PreFinetune { .. } => unreachable!(),
        }).collect();
        assert_eq!(arms.iter().collect::<BTreeSet<_>>().len(), 5, "{arms:?}");
        // Each run trains with the values its setting's label names.
        for r in &plan.runs {
            let Role::Finetune { arm: Arm::Setting { values, .. }, .. } = &r.role else { panic!("{:?}", r.role) };
            assert_eq!(values, &format!("batch_size={}, lr={}", r.config.batch_size, serde_json::Value::from(r.config.lr)), "{}", r.name);
            assert!((1e-5..=1e-3).contains(&r.config.lr) && r.config.steps == 20);
        }
        assert_eq!(expand(&s).expect("plan"), plan, "the same spec expands into the same runs");
        let mut other = s.clone();
        other.sweep.as_mut().expect("sweep").random_seed = Some(4);
        assert_ne!(expand(&other).expect("plan").runs[0].config.lr, plan.runs[0].config.lr, "another seed draws other settings");
        // A grid beside it, or a count without it, is refused, saying what to do.
        let mut both = s.clone();
        both.sweep.as_mut().expect("sweep").grid.insert("steps".into(), vec![8.into()]);
        let err = expand(&both).expect_err("both").0.join("\n");
        assert!(err.contains("sweep.random: a sweep lists its settings in sweep.grid or draws them from sweep.random, not both"), "{err}");
        let mut count_alone = s.clone();
        count_alone.sweep.as_mut().expect("sweep").random.clear();
        count_alone.sweep.as_mut().expect("sweep").grid.insert("steps".into(), vec![8.into()]);
        let err = expand(&count_alone).expect_err("count alone").0.join("\n");
        assert!(err.contains("sweep.count: draws settings from sweep.random"), "{err}");
        let mut zero = s.clone();
        zero.sweep.as_mut().expect("sweep").count = Some(0);
        assert_eq!(expand(&zero).expect_err("zero").0, ["sweep.count: 0 settings: draw at least 1"]);
    }

    /// Settings proposed from the scores (a guided draw) are trained after the ones drawn;
    /// bad ones are refused by their place; the proposals never repeat a planned setting.
    #[test]
    fn a_random_sweep_trains_the_settings_proposed_after_those_drawn() {
        let s = spec(serde_json::json!({
            "name": "rs",
            "sweep": {
                "tasks": ["x"], "seeds": 1, "count": 4, "random_seed": 3,
                "random": {"lr": {"min": 1e-5, "max": 1e-3, "distribution": "log_uniform_values"}, "batch_size": {"values": [8, 16]}}
            }
        }));
        let drawn = expand(&s).expect("plan");
        let config = |r: &PlannedRun| -> ConfigOverrides { [("batch_size".to_string(), r.config.batch_size.into()), ("lr".to_string(), serde_json::Value::from(r.config.lr))].into_iter().collect() };
        // Scores that rise with the learning rate.
        let tried: Vec<(ConfigOverrides, f64)> = drawn.runs.iter().map(|r| (config(r), r.config.lr.log10())).collect();
        let proposed = propose(&s, &tried, 2).expect("proposed");
        assert_eq!(proposed, propose(&s, &tried, 2).expect("again"), "the same scores propose the same settings");
        let mut guided = s.clone();
        guided.sweep.as_mut().expect("sweep").proposed = proposed.clone();
        let plan = expand(&guided).expect("plan");
        assert_eq!(plan.runs.len(), 6);
        assert_eq!(plan.runs[..4], drawn.runs[..], "the settings drawn stay the same");
        let planned: BTreeSet<String> = plan.runs.iter().map(|r| r.name.clone()).collect();
        assert_eq!(planned.len(), 6, "no setting twice");
        for (run, p) in plan.runs[4..].iter().zip(&proposed) {
            assert_eq!(config(run), *p, "trained with the values proposed: {}", run.name);
        }
        // The next round proposes others, never one planned.
        let more = propose(&guided, &tried, 2).expect("more");
        assert!(more.iter().all(|m| !proposed.contains(m) && !tried.iter().any(|(t, _)| t == m)), "{more:?}");
        // Values out of range, fields missing or unknown, and a setting twice are refused.
        let mut bad = s.clone();
        let one = |lr: serde_json::Value, batch: serde_json::Value| -> ConfigOverrides { [("batch_size".to_string(), batch), ("lr".to_string(), lr)].into_iter().collect() };
        let mut extra = one(1e-4.into(), 8.into());
        extra.insert("warmup".into(), 2.into());
        let mut missing = one(1e-4.into(), 8.into());
        missing.remove("lr");
        bad.sweep.as_mut().expect("sweep").proposed = vec![one(0.5.into(), 8.into()), one(1e-4.into(), 12.into()), extra, missing, one(2e-4.into(), 8.into()), one(2e-4.into(), 8.into())];
        let err = expand(&bad).expect_err("bad").0;
        assert_eq!(
            err,
            [
                "sweep.proposed[0]: lr = 0.5 is not a value sweep.random.lr takes",
                "sweep.proposed[1]: batch_size = 12 is not a value sweep.random.batch_size takes",
                "sweep.proposed[2]: warmup is not a field of sweep.random",
                "sweep.proposed[3]: gives no lr: a proposed setting gives each field of sweep.random a value",
                "sweep.proposed[5]: batch_size=8, lr=0.0002 is proposed twice",
            ]
        );
        // Guided rounds need a random search and at least one setting.
        let mut zero = s.clone();
        zero.sweep.as_mut().expect("sweep").guided = Some(0);
        assert_eq!(expand(&zero).expect_err("zero").0, ["sweep.guided: 0 settings: propose at least 1, or leave guided out"]);
        let mut few = s.clone();
        (few.sweep.as_mut().expect("sweep").count, few.sweep.as_mut().expect("sweep").guided) = (Some(3), Some(2));
        assert_eq!(expand(&few).expect_err("three").0, ["sweep.guided: proposes from the scores of at least 4 settings: draw count = 4 or more at random first"]);
        let mut gridded = s.clone();
        let sw = gridded.sweep.as_mut().expect("sweep");
        (sw.random, sw.count, sw.random_seed, sw.guided) = (BTreeMap::new(), None, None, Some(2));
        sw.grid.insert("lr".into(), vec![1e-4.into()]);
        let err = expand(&gridded).expect_err("grid").0.join("\n");
        assert!(err.contains("sweep.guided: draws settings from sweep.random"), "{err}");
        // Too few scores to guide by.
        let err = propose(&s, &tried[..3], 1).expect_err("three");
        assert!(err.contains("at least 4 settings, and 3 have one"), "{err}");
    }

    #[test]
    fn early_termination_needs_dev_scores_during_training_and_sane_bounds() {
        let s = spec(serde_json::json!({
            "name": "et",
            "finetune": {"steps": 20, "eval_every": 5},
            "sweep": {"tasks": ["x"], "seeds": 1, "grid": {"lr": [1e-5, 1e-4]}, "early_terminate": {"rule": "median"}}
        }));
        let rule = s.sweep.as_ref().and_then(|sw| sw.early_terminate.clone()).expect("parsed");
        assert_eq!((rule.min_runs, rule.grace_evals), (3, 1), "the defaults");
        let plan = expand(&s).expect("plan");
        assert!(plan.runs.iter().all(|r| prune::peer_group(&r.role) == Some(("x".into(), "base".into()))), "{:?}", plan.runs);
        let mut blind = s.clone();
        blind.finetune.remove("eval_every");
        let err = expand(&blind).expect_err("no dev scores during training").0.join("\n");
        assert!(err.contains("sweep.early_terminate: compares the runs' dev scores during training: set eval_every in [finetune]"), "{err}");
        // Swept, eval_every is the grid's to give.
        blind.sweep.as_mut().expect("sweep").grid.insert("eval_every".into(), vec![5.into()]);
        assert!(expand(&blind).is_ok());
        let mut zero = s.clone();
        let rule = zero.sweep.as_mut().and_then(|sw| sw.early_terminate.as_mut()).expect("rule");
        (rule.min_runs, rule.grace_evals) = (0, 0);
        let err = expand(&zero).expect_err("zeros").0.join("\n");
        assert!(err.contains("sweep.early_terminate.min_runs: must be at least 1") && err.contains("sweep.early_terminate.grace_evals: must be at least 1"), "{err}");
        let unknown = serde_json::from_value::<ExperimentSpec>(serde_json::json!({
            "name": "et", "sweep": {"tasks": ["x"], "seeds": 1, "grid": {"lr": [1e-5]}, "early_terminate": {"rule": "hyperband"}}
        }));
        assert!(unknown.expect_err("no such rule").to_string().contains("unknown variant `hyperband`, expected `median`"));
    }

    #[test]
    fn a_stage_grid_pre_finetunes_each_setting_and_fine_tunes_from_each() {
        let s = spec(serde_json::json!({
            "name": "k",
            "prefinetune": {"steps": 30},
            "stages": [{"name": "pft", "tasks": ["a", "b"], "config": {"lr": 1e-4}}],
            "sweep": {"tasks": ["x"], "stage_grid": {"tasks_per_update": [2, 4]}, "seeds": 2, "start": "pft"}
        }));
        let plan = expand(&s).expect("plan");
        // Two pre-finetuning runs (no plain stage), then 2 seeds from each.
        assert_eq!(plan.runs.len(), 2 + 4);
        let stages: Vec<(&str, usize, f64, u64)> = plan.runs[..2].iter().map(|r| (r.name.as_str(), r.config.tasks_per_update, r.config.lr, r.config.steps)).collect();
        assert_eq!(stages, [("k: pre-finetune pft (tasks_per_update=2)", 2, 1e-4, 30), ("k: pre-finetune pft (tasks_per_update=4)", 4, 1e-4, 30)], "the stage's own settings stay");
        assert!(plan.runs[..2].iter().all(|r| r.kind == RunKind::PreFinetune && r.tasks == ["a", "b"]));
        let ft = &plan.runs[2..];
        assert_eq!(ft.iter().map(|r| r.start).collect::<Vec<_>>(), [0, 0, 1, 1].map(|index| PlannedStart::Planned { index }));
        assert_eq!(ft[2].name, "k: fine-tune x seed=1 from pft (tasks_per_update=4)");
        let label = |r: &PlannedRun| match &r.role {
            Role::Finetune { arm, .. } => arm.label(),
            Role::PreFinetune { arm } => arm.label(),
        };
        assert_eq!(label(&ft[0]), "pft (tasks_per_update=2)");
        // With a fine-tuning grid too: every setting from every pre-finetuned model.
        let mut both = s.clone();
        both.sweep.as_mut().expect("sweep").grid.insert("lr".into(), vec![1e-5.into(), 1e-4.into()]);
        let plan = expand(&both).expect("plan");
        assert_eq!(plan.runs.len(), 2 + 2 * 2 * 2);
        assert_eq!(label(&plan.runs[4]), "pft (tasks_per_update=2), lr=0.0001");
        assert_eq!(plan.runs[4].start, PlannedStart::Planned { index: 0 });
        // Overlaps are checked against the stage's mixture.
        let mut inside = s.clone();
        inside.stages[0].tasks.push("x".into());
        let plan = expand(&inside).expect("plan");
        let err = check(&inside, &plan, &facts(), false).expect_err("overlap").0.join("\n");
        assert!(err.contains("downstream task `x` is in the pre-finetuning mixture of `pft (tasks_per_update=2)` (stages[0].tasks)"), "{err}");
        // A stage grid needs a stage to sweep, and values the stage can take.
        let mut from_base = s.clone();
        from_base.sweep.as_mut().expect("sweep").start = StartRef::Base;
        from_base.stages.clear();
        let err = expand(&from_base).expect_err("no stage").0.join("\n");
        assert!(err.contains("sweep.stage_grid: sweeps the pre-finetuning settings of the stage the sweep starts from"), "{err}");
        let mut bad = s.clone();
        bad.sweep.as_mut().expect("sweep").stage_grid.insert("tasks_per_update".into(), vec![2.into(), "two".into()]);
        let err = expand(&bad).expect_err("bad values").0.join("\n");
        assert!(err.contains("sweep.stage_grid.tasks_per_update: invalid type: string \"two\""), "{err}");
        bad.sweep.as_mut().expect("sweep").stage_grid.insert("tasks_per_update".into(), vec![0.into(), 2.into()]);
        let err = expand(&bad).expect_err("a bad setting").0.join("\n");
        assert_eq!(err, "sweep.stage_grid.tasks_per_update: must be at least 1", "named once");
        // Compared with the base model: every setting from it first, then from each stage.
        let mut compared = both.clone();
        compared.sweep.as_mut().expect("sweep").compare_base = true;
        let plan = expand(&compared).expect("plan");
        assert_eq!(plan.runs.len(), 2 + 3 * 2 * 2, "two stages, then base and both stages with two settings and two seeds");
        let from_base: Vec<&PlannedRun> = plan.runs[2..].iter().filter(|r| r.start == PlannedStart::Base).collect();
        assert_eq!(from_base.iter().map(|r| label(r)).collect::<Vec<_>>(), ["base, lr=0.00001", "base, lr=0.00001", "base, lr=0.0001", "base, lr=0.0001"]);
        assert!(plan.runs[2..6].iter().all(|r| r.start == PlannedStart::Base), "the base model's fine-tunes first");
        assert_eq!(plan.runs[2].name, "k: fine-tune x seed=1 from base with lr=0.00001");
        let mut stage_alone = s.clone();
        stage_alone.sweep.as_mut().expect("sweep").compare_base = true;
        let plan = expand(&stage_alone).expect("plan");
        assert_eq!(plan.runs.iter().filter(|r| r.kind == RunKind::Finetune && r.start == PlannedStart::Base).map(|r| label(r)).collect::<Vec<_>>(), ["base", "base"], "without a fine-tuning grid the base model is one arm");
        let mut plain = spec(serde_json::json!({
            "name": "c",
            "stages": [{"name": "pft", "tasks": ["a", "b"]}],
            "sweep": {"tasks": ["x"], "grid": {"lr": [1e-5, 1e-4]}, "seeds": 1, "start": "pft", "compare_base": true}
        }));
        let labels: Vec<String> = expand(&plain).expect("plan").runs[1..].iter().map(label).collect();
        assert_eq!(labels, ["base, lr=0.00001", "base, lr=0.0001", "pft, lr=0.00001", "pft, lr=0.0001"], "each setting names its start");
        plain.sweep.as_mut().expect("sweep").compare_base = false;
        let labels: Vec<String> = expand(&plain).expect("plan").runs[1..].iter().map(label).collect();
        assert_eq!(labels, ["lr=0.00001", "lr=0.0001"], "one start: the settings alone");
        let mut from_base = compared.clone();
        from_base.sweep.as_mut().expect("sweep").start = StartRef::Base;
        from_base.sweep.as_mut().expect("sweep").stage_grid.clear();
        from_base.stages.clear();
        let err = expand(&from_base).expect_err("base twice").0.join("\n");
        assert!(err.contains("sweep.compare_base: the sweep starts from the base model already"), "{err}");
    }

    #[test]
    fn sweep_grids_are_checked_value_by_value() {
        let s = spec(serde_json::json!({
            "name": "bad",
            "finetune": {"seed": 3},
            "sweep": {"tasks": ["x"], "grid": {"lr": ["fast", 1e-5, 1e-5], "lrr": [1], "seed": [1, 2], "batch_size": []}, "seeds": 1, "start": "nowhere"}
        }));
        let err = expand(&s).expect_err("bad").0.join("\n");
        for says in [
            "sweep.grid.lr: 0.00001 is listed twice",
            "sweep.grid.lr: invalid type: string \"fast\"",
            "sweep.grid.lrr: no such training setting",
            "sweep.grid.seed: is set by sweep.seeds",
            "sweep.grid.batch_size: has no values",
            "finetune.seed: is set by sweep.seeds",
            "sweep.start: `nowhere` is neither \"base\"",
        ] {
            assert!(err.contains(says), "no `{says}` in:\n{err}");
        }
        let zero = spec(serde_json::json!({"name": "z", "sweep": {"tasks": ["x"], "grid": {"steps": [0, 5]}, "seeds": 1}}));
        let err = expand(&zero).expect_err("zero steps").0.join("\n");
        assert_eq!(err.matches("sweep.grid.steps: must be at least 1").count(), 1, "{err}");
    }

    #[test]
    fn batching_ablation_crosses_batching_and_scaling() {
        let s = spec(serde_json::json!({
            "name": "ab",
            "batching_ablation": {"mixture": ["a", "b"], "downstream": ["x"], "seeds": 2}
        }));
        let plan = expand(&s).expect("plan");
        let pft: Vec<&PlannedRun> = plan.runs.iter().filter(|r| r.kind == RunKind::PreFinetune).collect();
        assert_eq!(pft.len(), 6);
        assert_eq!(pft[0].config.batching, Batching::Heterogeneous);
        assert_eq!(pft[0].config.loss_scale, LossScale::LogN);
        assert_eq!(pft[1].config.loss_scale, LossScale::Off);
        assert_eq!(pft[5].config.batching, Batching::Sequential);
        assert_eq!(pft[3].name, "ab: pre-finetune homogeneous, scaling off");
        // 1 task x 2 seeds x (base + 6 variants).
        assert_eq!(plan.runs.len(), 6 + 14);
        let mut bad = s.clone();
        bad.batching_ablation.as_mut().expect("design").batchings = vec!["mixed".into()];
        bad.prefinetune.insert("batching".into(), "sequential".into());
        let err = expand(&bad).expect_err("bad").0.join("\n");
        assert!(err.contains("batching_ablation.batchings: unknown batching `mixed`") || err.contains("mixed"), "{err}");
        assert!(err.contains("prefinetune.batching: is set by batching_ablation.batchings"), "{err}");
    }
}
