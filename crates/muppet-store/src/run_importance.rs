//! Which settings a figure depends on over runs, as W&B's parameter importance panel and
//! Optuna's `get_param_importances` tell it: for each setting whose values differ among the
//! runs, the share of the figure's variance that its values explain alone (its main effect)
//! and the rank correlation of its values with the figure.
//!
//! The share is ε² (epsilon squared, Kelley 1935) of the runs grouped by the setting's value:
//! `(SS_between − (k − 1) · SS_within / (n − k)) / SS_total` over `n` runs in `k` groups, at
//! least 0. Unlike η² (`SS_between / SS_total`) it is not inflated by the number of groups:
//! a setting that does not matter (the seed) scores about 0 however many values it takes. On
//! a full grid it is the first-order share of the functional ANOVA that Optuna's fANOVA
//! estimates, less what chance alone explains. A setting with more than [`MAX_GROUPS`]
//! different numbers (a random search's learning rates) is grouped into that many bins of
//! about as many runs each, by its values' order; runs without a value of it are a group of
//! their own.

use std::collections::HashMap;

use muppet_core::RunId;
use serde::Serialize;
use serde_json::Value;

use crate::run_columns::{RunColumns, PARAM_COLUMNS, PARENT_COLUMN};
use crate::run_filter::RunKey;
use crate::run_groups::{category, log_scale, number};
use crate::{Store, StoreError};

/// The most groups a setting's numbers are put in.
pub const MAX_GROUPS: usize = 5;

/// The fewest runs with a value of the figure that say anything of it.
pub const MIN_RUNS: usize = 3;

/// What one setting says of the figure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SettingImportance {
    pub name: String,
    /// ε² of the figure over the runs grouped by the setting's value, between 0 and 1; none
    /// when every run is a group of its own (nothing is left to tell chance by).
    pub importance: Option<f64>,
    /// Spearman's rank correlation of the setting's numbers with the figure, over the runs
    /// that have a number of it; none for values that are not numbers, or fewer than three
    /// runs, or a constant.
    pub correlation: Option<f64>,
    /// How many different values the runs have (runs without one not counted).
    pub values: usize,
    /// How many groups the runs were put in (a bin of numbers each, when they were binned).
    pub groups: usize,
    /// Whether its numbers were binned (more than [`MAX_GROUPS`] of them).
    pub binned: bool,
    /// Runs without a value of it (a group of their own).
    pub missing: usize,
    /// Whether its values are numbers above 0 spanning a factor of 10 or more (learning
    /// rates): a plot of it reads best on a log axis.
    pub log: bool,
}

/// What each setting says of one figure over a set of runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunImportance {
    pub figure: String,
    /// The runs with a value of the figure, the ones scored.
    pub runs: Vec<RunId>,
    /// The runs given without one.
    pub left_out: Vec<RunId>,
    /// Most important first (a setting without an importance last), then by the strength
    /// of its correlation.
    pub settings: Vec<SettingImportance>,
    /// The settings looked at that have one value over the runs scored (when the settings
    /// were not named: the runs table's settings).
    pub constant: Vec<String>,
}

/// What each setting of `settings` (with their names; none: every setting of the runs
/// table, [`PARAM_COLUMNS`] and the run started from, whose values differ among the runs)
/// says of `figure` over `runs`. Refused when fewer than [`MIN_RUNS`] runs have a value of
/// the figure, naming how many do.
pub fn importance(
    (figure_name, figure): (&str, &RunKey),
    settings: &[(String, RunKey)],
    runs: &[RunId],
    columns: &HashMap<RunId, RunColumns>,
    specs: &HashMap<RunId, Value>,
) -> Result<RunImportance, StoreError> {
    let figures = figure.values(columns, specs)?;
    let (mut scored, mut ys, mut left_out) = (Vec::new(), Vec::new(), Vec::new());
    for &run in runs {
        match number(figures.get(&run)) {
            Some(y) => {
                scored.push(run);
                ys.push(y);
            }
            None => left_out.push(run),
        }
    }
    if scored.len() < MIN_RUNS {
        return Err(StoreError::Refused(format!(
            "{} of the {} runs given {} a value of `{figure_name}`: at least {MIN_RUNS} are needed to tell which settings matter (show more runs, or pick a figure they have)",
            scored.len(),
            runs.len(),
            if scored.len() == 1 { "has" } else { "have" }
        )));
    }
    let named = !settings.is_empty();
    let defaults: Vec<(String, RunKey)>;
    let settings = if named {
        settings
    } else {
        defaults = PARAM_COLUMNS.iter().map(|(name, _)| *name).chain([PARENT_COLUMN]).filter_map(|name| Some((name.to_string(), RunKey::parse(name).ok()?))).collect();
        &defaults
    };
    let (mut out, mut constant) = (Vec::new(), Vec::new());
    for (name, key) in settings {
        let values = match key.values(columns, specs) {
            Ok(values) => values,
            // A column no run has says nothing; a named key no run has is an error.
            Err(_) if !named => continue,
            Err(e) => return Err(e),
        };
        let setting = weigh(name, scored.iter().map(|r| values.get(r)).collect(), &ys);
        if setting.groups < 2 && !named {
            constant.push(name.clone());
        } else {
            out.push(setting);
        }
    }
    rank(&mut out);
    Ok(RunImportance { figure: figure_name.to_string(), runs: scored, left_out, settings: out, constant })
}

/// Settings in order of importance: the most important first (one without an importance
/// last), then by the strength of their correlation.
pub fn rank(settings: &mut [SettingImportance]) {
    settings.sort_by(|a, b| {
        let strength = |s: &SettingImportance| s.correlation.map_or(0.0, f64::abs);
        b.importance.is_some().cmp(&a.importance.is_some()).then(b.importance.unwrap_or(0.0).total_cmp(&a.importance.unwrap_or(0.0))).then(strength(b).total_cmp(&strength(a)))
    });
}

/// What setting `name` says of a figure, from each run's value of it (none: the run has
/// none) and the runs' values of the figure, in the same order.
pub fn weigh(name: &str, values: Vec<Option<&Value>>, ys: &[f64]) -> SettingImportance {
    let missing = values.iter().filter(|v| v.is_none()).count();
    let numbers: Vec<Option<f64>> = values.iter().map(|v| v.and_then(|v| number(Some(v)))).collect();
    let numeric = values.iter().zip(&numbers).all(|(v, n)| v.is_none() || n.is_some());
    // Each run's group: its category, or its number's bin.
    let mut log = false;
    let (labels, distinct, binned): (Vec<Option<String>>, usize, bool) = if numeric {
        let mut present: Vec<f64> = numbers.iter().flatten().copied().collect();
        present.sort_by(f64::total_cmp);
        log = present.first().zip(present.last()).is_some_and(|(lo, hi)| log_scale(*lo, *hi));
        let mut distinct = present.clone();
        distinct.dedup();
        let binned = distinct.len() > MAX_GROUPS;
        let labels = numbers
            .iter()
            .map(|n| {
                n.map(|x| match binned {
                    // The bin of the first run of this value in order: equal values share one.
                    true => (present.partition_point(|p| *p < x) * MAX_GROUPS / present.len()).to_string(),
                    false => x.to_bits().to_string(),
                })
            })
            .collect();
        (labels, distinct.len(), binned)
    } else {
        let labels: Vec<Option<String>> = values.iter().map(|v| v.map(category)).collect();
        let mut distinct: Vec<&String> = labels.iter().flatten().collect();
        distinct.sort();
        distinct.dedup();
        let n = distinct.len();
        (labels, n, false)
    };
    let mut groups: HashMap<Option<String>, Vec<f64>> = HashMap::new();
    for (label, y) in labels.into_iter().zip(ys) {
        groups.entry(label).or_default().push(*y);
    }
    let pairs: Vec<(f64, f64)> = numbers.iter().zip(ys).filter_map(|(x, y)| Some(((*x)?, *y))).collect();
    SettingImportance {
        name: name.to_string(),
        groups: groups.len(),
        importance: epsilon_squared(&groups.into_values().collect::<Vec<_>>()),
        correlation: if numeric { spearman(&pairs) } else { None },
        values: distinct,
        binned,
        missing,
        log,
    }
}

/// ε² of values in groups (each group's values): 0 when they do not vary, none when there
/// are as many groups as values.
pub fn epsilon_squared(groups: &[Vec<f64>]) -> Option<f64> {
    let n: usize = groups.iter().map(Vec::len).sum();
    let k = groups.iter().filter(|g| !g.is_empty()).count();
    if n <= k {
        return None;
    }
    let mean = groups.iter().flatten().sum::<f64>() / n as f64;
    let total: f64 = groups.iter().flatten().map(|y| (y - mean).powi(2)).sum();
    if total <= f64::EPSILON * n as f64 * mean.abs().max(1.0) {
        return Some(0.0);
    }
    let between: f64 = groups.iter().filter(|g| !g.is_empty()).map(|g| g.len() as f64 * (g.iter().sum::<f64>() / g.len() as f64 - mean).powi(2)).sum();
    let within = total - between;
    Some(((between - (k - 1) as f64 * within / (n - k) as f64) / total).clamp(0.0, 1.0))
}

/// Spearman's rank correlation of pairs (ties get their mean rank); none for fewer than
/// three pairs or a side that does not vary.
pub fn spearman(pairs: &[(f64, f64)]) -> Option<f64> {
    if pairs.len() < 3 {
        return None;
    }
    let (x, y): (Vec<f64>, Vec<f64>) = pairs.iter().copied().unzip();
    Some(muppet_core::correlation::spearman(&x, &y)).filter(|r| r.is_finite()).map(|r| r.clamp(-1.0, 1.0))
}

impl Store {
    /// [`importance`] on the runs of this database.
    pub async fn run_importance(&self, figure: (&str, &RunKey), settings: &[(String, RunKey)], runs: &[RunId]) -> Result<RunImportance, StoreError> {
        let read = self.cached_run_columns_and_specs().await?;
        importance(figure, settings, runs, &read.0, &read.1)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::MetricFigures;

    /// Reference numbers from a direct computation in Python of the formulas of the module's
    /// documentation (ε² from the sums of squares, Spearman as Pearson's r of mean ranks).
    const TOL: f64 = 1e-9;

    /// Seven runs: three learning rates with two seeds each, two batchings, one backend for
    /// all, and run 7 without a dev accuracy.
    fn runs() -> (HashMap<RunId, RunColumns>, HashMap<RunId, Value>, Vec<RunId>) {
        let all = [
            (1, 1e-5, 1, "homogeneous", Some(0.60)),
            (2, 1e-5, 2, "heterogeneous", Some(0.62)),
            (3, 1e-4, 1, "homogeneous", Some(0.80)),
            (4, 1e-4, 2, "heterogeneous", Some(0.78)),
            (5, 1e-3, 1, "heterogeneous", Some(0.70)),
            (6, 1e-3, 2, "homogeneous", Some(0.72)),
            (7, 1e-4, 3, "homogeneous", None),
        ];
        let (mut columns, mut specs) = (HashMap::new(), HashMap::new());
        for (id, lr, seed, batching, accuracy) in all {
            let mut c = RunColumns::default();
            c.params.insert("learning rate".into(), json!(lr));
            c.params.insert("seed".into(), json!(seed));
            c.params.insert("batching".into(), json!(batching));
            c.params.insert("backend".into(), json!("cpu"));
            if let Some(a) = accuracy {
                c.metrics.insert("rte dev accuracy".into(), MetricFigures { last: Some(a), best: Some(a), step: 8 });
            }
            columns.insert(RunId(id), c);
            specs.insert(RunId(id), json!({"config": {"lr": lr, "seed": seed}}));
        }
        (columns, specs, (1..=7).map(RunId).collect())
    }

    fn key(text: &str) -> RunKey {
        RunKey::parse(text).expect("key")
    }

    fn close(actual: Option<f64>, expected: f64) -> bool {
        actual.is_some_and(|a| (a - expected).abs() < TOL)
    }

    #[test]
    fn the_settings_of_the_runs_are_ranked_by_the_share_of_the_figure_they_explain() {
        let (columns, specs, ids) = runs();
        let figure = key("rte dev accuracy");
        let out = importance(("rte dev accuracy", &figure), &[], &ids, &columns, &specs).expect("importance");
        assert_eq!(out.runs, (1..=6).map(RunId).collect::<Vec<_>>());
        assert_eq!(out.left_out, [RunId(7)], "without the figure");
        let names: Vec<&str> = out.settings.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["learning rate", "seed", "batching"], "the learning rate first; seed and batching explain nothing, the seed correlates a little");
        assert_eq!(out.constant, ["backend"], "one backend: nothing to tell");
        let lr = &out.settings[0];
        assert!(close(lr.importance, 0.9698189134808851), "{lr:?}");
        assert!(close(lr.correlation, 0.47809144373375745), "{lr:?}");
        assert_eq!((lr.values, lr.groups, lr.binned, lr.missing, lr.log), (3, 3, false, 0, true), "1e-5 to 1e-3: a log axis");
        let seed = &out.settings[1];
        assert!(close(seed.importance, 0.0), "η² 0.002 is less than chance: {seed:?}");
        assert!(close(seed.correlation, 0.09759000729485331), "{seed:?}");
        assert!(!seed.log, "1 and 2: a linear axis");
        let batching = &out.settings[2];
        assert!(close(batching.importance, 0.0) && batching.correlation.is_none(), "text has no rank: {batching:?}");
        // Named settings are kept even when constant; a named key no run has is refused.
        let named = [("backend".to_string(), key("backend")), ("learning rate".to_string(), key("config.lr"))];
        let out = importance(("rte dev accuracy", &figure), &named, &ids, &columns, &specs).expect("named");
        assert_eq!(out.settings.iter().map(|s| (s.name.as_str(), s.groups)).collect::<Vec<_>>(), [("learning rate", 3), ("backend", 1)]);
        assert!(out.constant.is_empty());
        assert!(close(out.settings[1].importance, 0.0));
        let unknown = [("warmup".to_string(), key("config.warmup"))];
        assert!(importance(("rte dev accuracy", &figure), &unknown, &ids, &columns, &specs).is_err());
    }

    #[test]
    fn many_numbers_are_binned_and_a_missing_value_is_a_group() {
        let acc = [0.50, 0.55, 0.60, 0.62, 0.70, 0.69, 0.66, 0.64, 0.58, 0.52];
        let (mut columns, specs) = (HashMap::new(), HashMap::new());
        for (i, a) in acc.iter().enumerate() {
            let mut c = RunColumns::default();
            c.params.insert("learning rate".into(), json!(1e-5 * (i + 1) as f64));
            c.metrics.insert("rte dev accuracy".into(), MetricFigures { last: Some(*a), best: Some(*a), step: 8 });
            columns.insert(RunId(i as i64 + 1), c);
        }
        let ids: Vec<RunId> = (1..=10).map(RunId).collect();
        let figure = key("rte dev accuracy");
        let out = importance(("rte dev accuracy", &figure), &[], &ids, &columns, &specs).expect("importance");
        let lr = &out.settings[0];
        assert_eq!((lr.values, lr.groups, lr.binned), (10, 5, true), "ten rates in five bins of two");
        assert!(close(lr.importance, 0.8522514071294552), "{lr:?}");
        assert!(close(lr.correlation, 0.18787878787878787), "rising then falling: a weak rank correlation, a strong effect: {lr:?}");
        // Two runs without a learning rate are a group of their own; the ranks leave them out.
        for id in [9, 10] {
            columns.get_mut(&RunId(id)).expect("run").params.remove("learning rate");
        }
        let out = importance(("rte dev accuracy", &figure), &[], &ids, &columns, &specs).expect("importance");
        let lr = &out.settings[0];
        assert_eq!((lr.values, lr.groups, lr.binned, lr.missing), (8, 6, true, 2));
        assert!(close(lr.importance, 0.8047607879924956), "bins of 2, 2, 1, 2, 1 runs and the two without: {lr:?}");
    }

    #[test]
    fn too_few_runs_are_refused_and_equal_values_share_a_bin() {
        let (columns, specs, _) = runs();
        let figure = key("rte dev accuracy");
        let err = importance(("rte dev accuracy", &figure), &[], &[RunId(1), RunId(2), RunId(7)], &columns, &specs).expect_err("two scored").to_string();
        assert!(err.contains("2 of the 3 runs given have a value of `rte dev accuracy`: at least 3 are needed"), "{err}");
        // Each run its own group: nothing is left to tell chance by.
        assert_eq!(epsilon_squared(&[vec![1.0], vec![2.0], vec![3.0]]), None);
        assert_eq!(epsilon_squared(&[vec![0.5, 0.5], vec![0.5]]), Some(0.0), "a constant figure");
        assert_eq!(muppet_core::correlation::ranks(&[3.0, 1.0, 3.0, 2.0]), [3.5, 1.0, 3.5, 2.0]);
        // Seven numbers over ten runs, four of them equal: the four stay in one bin, the one
        // after them (position 4 of 10) starts the third; the second bin stays empty.
        let xs: Vec<Value> = [1, 1, 1, 1, 2, 3, 4, 5, 6, 7].iter().map(|x| json!(x)).collect();
        let ys: Vec<f64> = (0..10).map(f64::from).collect();
        let s = weigh("seed", xs.iter().map(Some).collect(), &ys);
        assert_eq!((s.values, s.groups, s.binned), (7, 4, true), "{s:?}");
        assert_eq!(spearman(&[(1.0, 2.0), (2.0, 4.0)]), None, "two pairs");
        assert!(close(spearman(&[(1.0, 3.0), (2.0, 2.0), (3.0, 1.0)]), -1.0));
        assert_eq!(spearman(&[(1.0, 3.0), (2.0, 3.0), (3.0, 3.0)]), None, "a constant side");
    }
}
