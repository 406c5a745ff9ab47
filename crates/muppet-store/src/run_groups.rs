//! Runs grouped by their values of some keys, as W&B's runs table groups them and pandas'
//! `groupby` does: one group per combination of values (the seeds of one setting read as
//! one row), with each figure's mean, sample standard deviation, minimum and maximum over
//! the group's runs (a figure is its last value, as in the runs table, and `NAME (best)` its
//! best by its metric's goal).

use std::collections::{BTreeMap, HashMap};

use muppet_core::RunId;
use serde::Serialize;
use serde_json::Value;

use crate::run_columns::RunColumns;
use crate::run_filter::{value_order, RunKey, BEST_SUFFIX};
use crate::{Store, StoreError};

/// One combination of the keys' values and its runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunGroup {
    /// The group's value of each key, in the keys' order (null: its runs have none).
    pub values: Vec<Value>,
    /// Its runs, in the order they were given.
    pub runs: Vec<RunId>,
    /// By figure column (`sst2 dev accuracy`, its last value in each run; `sst2 dev accuracy
    /// (best)`, its best), over the runs that have it.
    pub figures: BTreeMap<String, GroupFigure>,
}

/// A figure over a group's runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupFigure {
    /// The runs that have it.
    pub n: usize,
    pub mean: f64,
    /// The sample standard deviation (n − 1); none for one run.
    pub sd: Option<f64>,
    pub min: f64,
    pub max: f64,
}

impl GroupFigure {
    /// `None` for no finite value.
    pub fn of(values: &[f64]) -> Option<GroupFigure> {
        let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        let n = finite.len();
        if n == 0 {
            return None;
        }
        let mean = finite.iter().sum::<f64>() / n as f64;
        let sd = (n > 1).then(|| (finite.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt());
        let min = finite.iter().copied().fold(f64::INFINITY, f64::min);
        let max = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Some(GroupFigure { n, mean, sd, min, max })
    }
}

/// Group `runs` by their values of `keys` (each key must be one some run has: the error
/// says which keys there are). Groups are ordered by their values, key by key (numbers
/// before text, a group without a value last); runs keep their order inside a group.
pub fn group_runs(keys: &[RunKey], runs: &[RunId], columns: &HashMap<RunId, RunColumns>, specs: &HashMap<RunId, Value>) -> Result<Vec<RunGroup>, StoreError> {
    if keys.is_empty() {
        return Err(StoreError::Refused("name a key to group runs by: a column (`learning rate`, `train size`) or a spec path (`config.lr`)".into()));
    }
    let values: Vec<HashMap<RunId, Value>> = keys.iter().map(|k| k.values(columns, specs)).collect::<Result<_, _>>()?;
    let mut groups: Vec<RunGroup> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for &run in runs {
        let combination: Vec<Value> = values.iter().map(|v| v.get(&run).cloned().unwrap_or(Value::Null)).collect();
        let at = *index.entry(Value::Array(combination.clone()).to_string()).or_insert_with(|| {
            groups.push(RunGroup { values: combination, runs: Vec::new(), figures: BTreeMap::new() });
            groups.len() - 1
        });
        groups[at].runs.push(run);
    }
    for group in &mut groups {
        let mut by_figure: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
        let mut by_best: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
        for run in &group.runs {
            for (name, figures) in columns.get(run).map(|c| &c.metrics).into_iter().flatten() {
                if let Some(last) = figures.last {
                    by_figure.entry(name).or_default().push(last);
                }
                if let Some(best) = figures.best {
                    by_best.entry(name).or_default().push(best);
                }
            }
        }
        let best = by_best.into_iter().map(|(name, values)| (format!("{name} {BEST_SUFFIX}"), values));
        group.figures = by_figure.into_iter().map(|(name, values)| (name.to_string(), values)).chain(best).filter_map(|(name, values)| Some((name, GroupFigure::of(&values)?))).collect();
    }
    let order = |a: &Value, b: &Value| match (a.is_null(), b.is_null()) {
        (false, false) => value_order(a, b),
        (x, y) => x.cmp(&y),
    };
    groups.sort_by(|a, b| a.values.iter().zip(&b.values).map(|(x, y)| order(x, y)).find(|o| o.is_ne()).unwrap_or(std::cmp::Ordering::Equal));
    Ok(groups)
}

/// A key's value as the tables write it: small numbers in scientific notation, fractions to
/// four places, text as it is, none as `-`.
pub fn value_text(value: &Value) -> String {
    match value {
        Value::Number(n) => match n.as_f64() {
            Some(x) if x != 0.0 && x.abs() < 1e-3 => format!("{x:.2e}"),
            Some(x) if x.fract() != 0.0 => format!("{x:.4}"),
            _ => n.to_string(),
        },
        Value::String(s) => s.clone(),
        Value::Null => "-".to_string(),
        other => other.to_string(),
    }
}

/// Runs placed by their values of two keys (a scatter of runs, as MLflow's and W&B's), in
/// groups by the values of other keys.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunPlot {
    pub groups: Vec<PlotGroup>,
    /// The runs without a value for both keys.
    pub left_out: Vec<RunId>,
    /// A key whose values are not all numbers (a sampling, a backend) is categorical: its
    /// values as [`RunLines`] names them, in order, a point's value on it the category's
    /// index; empty for a numeric key.
    pub x_categories: Vec<String>,
    pub y_categories: Vec<String>,
}

impl RunPlot {
    /// The plot on log axes (`log_x`, `log_y`): runs at or below 0 on one are left out too.
    /// A categorical key has no log axis: `names` (the keys' names) say which.
    pub fn on_axes(mut self, (log_x, log_y): (bool, bool), names: (&str, &str)) -> Result<RunPlot, StoreError> {
        for (log, categories, name) in [(log_x, &self.x_categories, names.0), (log_y, &self.y_categories, names.1)] {
            if log && !categories.is_empty() {
                return Err(StoreError::Refused(format!(
                    "`{name}` is not a number for every run ({}): its runs are placed by category, which has no log axis; plot it on a linear axis",
                    categories.iter().take(3).cloned().collect::<Vec<_>>().join(", ")
                )));
            }
        }
        for group in &mut self.groups {
            let (kept, out): (Vec<RunPoint>, Vec<RunPoint>) = group.points.iter().partition(|p| (!log_x || p.x > 0.0) && (!log_y || p.y > 0.0));
            group.points = kept;
            self.left_out.extend(out.iter().map(|p| p.run));
        }
        Ok(self)
    }

    /// Each group as `(label, [(run id, x, y)])`, what `muppet_charts::ScatterChart::of_runs` draws.
    pub fn series(&self) -> Vec<(String, Vec<(i64, f64, f64)>)> {
        self.groups.iter().map(|g| (g.label.clone(), g.points.iter().map(|p| (p.run.0, p.x, p.y)).collect())).collect()
    }

    /// What a point of group `group` says of its run, for a reader hovering it: its value of
    /// each key (`names`), as the tables write them (a category by its name), and its group.
    pub fn point_text(&self, group: usize, point: &RunPoint, (x_name, y_name): (&str, &str)) -> String {
        let label = self.groups.get(group).map(|g| g.label.as_str()).unwrap_or_default();
        let values = format!("{x_name} {}, {y_name} {}", placed_text(point.x, &self.x_categories), placed_text(point.y, &self.y_categories));
        if label.is_empty() { values } else { format!("{values} ({label})") }
    }

    /// How many runs are placed.
    pub fn plotted(&self) -> usize {
        self.groups.iter().map(|g| g.points.len()).sum()
    }
}

/// The runs of one group on a [`RunPlot`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlotGroup {
    /// `train size 16, learning rate 3.00e-5`; empty when the runs are not grouped.
    pub label: String,
    pub points: Vec<RunPoint>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RunPoint {
    pub run: RunId,
    pub x: f64,
    pub y: f64,
}

/// `runs` placed by their values of `x` and `y` (numbers, or text that reads as one; a key of
/// other values by category, as [`run_lines`] places them), grouped by the values of the keys
/// `by` (with their names) as [`group_runs`] groups them; every key must be one some run has.
pub fn plot_runs(
    (x, y): (&RunKey, &RunKey),
    by: &[(String, RunKey)],
    runs: &[RunId],
    columns: &HashMap<RunId, RunColumns>,
    specs: &HashMap<RunId, Value>,
) -> Result<RunPlot, StoreError> {
    let (xs, ys) = (x.values(columns, specs)?, y.values(columns, specs)?);
    // The categories of the runs with a value for both keys: every one has a point.
    let both: Vec<RunId> = runs.iter().copied().filter(|r| xs.contains_key(r) && ys.contains_key(r)).collect();
    let (x_categories, y_categories) = (categories_of(&xs, &both), categories_of(&ys, &both));
    let mut placed = HashMap::new();
    let mut left_out = Vec::new();
    for &run in runs {
        match (place(&x_categories, xs.get(&run)), place(&y_categories, ys.get(&run))) {
            (Some(x), Some(y)) => {
                placed.insert(run, RunPoint { run, x, y });
            }
            _ => left_out.push(run),
        }
    }
    let kept: Vec<RunId> = runs.iter().copied().filter(|r| placed.contains_key(r)).collect();
    let groups = if by.is_empty() {
        vec![PlotGroup { label: String::new(), points: kept.iter().map(|r| placed[r]).collect() }]
    } else {
        let keys: Vec<RunKey> = by.iter().map(|(_, k)| k.clone()).collect();
        group_runs(&keys, &kept, columns, specs)?
            .into_iter()
            .map(|g| PlotGroup {
                label: by.iter().zip(&g.values).map(|((name, _), v)| format!("{name} {}", value_text(v))).collect::<Vec<_>>().join(", "),
                points: g.runs.iter().map(|r| placed[r]).collect(),
            })
            .collect()
    };
    Ok(RunPlot { groups, left_out, x_categories, y_categories })
}

/// A value placed on an axis, as the tables write it: a category by its name (its index on
/// an axis of `categories`), a number as [`value_text`] writes it.
fn placed_text(v: f64, categories: &[String]) -> String {
    match categories.get(v as usize) {
        Some(name) => name.clone(),
        None => value_text(&Value::from(v)),
    }
}

/// A key's value as a number to place: a number, or text that reads as one.
pub(crate) fn number(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|v| v.is_finite())
}

/// Runs as lines through several keys (W&B's parallel coordinates of runs).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunLines {
    pub axes: Vec<LineAxis>,
    /// Each run placed, in the order given, with its value on every axis (a category's index
    /// on a categorical one).
    pub lines: Vec<(RunId, Vec<f64>)>,
    /// The runs without a value for every key.
    pub left_out: Vec<RunId>,
}

impl RunLines {
    /// What a run's line says, for a reader hovering it: its value on each axis.
    pub fn line_text(&self, values: &[f64]) -> String {
        self.axes.iter().zip(values).map(|(a, &v)| format!("{} {}", a.name, placed_text(v, &a.categories))).collect::<Vec<_>>().join(", ")
    }
}

/// An axis of [`RunLines`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LineAxis {
    pub name: String,
    /// Logarithmic: a setting whose values are all above 0 and span a factor of 10 or more
    /// (learning rates); a figure's never is.
    pub log: bool,
    /// A key whose values are not all numbers (a batching, a sampling) is categorical: its
    /// values as the tables write them, in order; empty for a numeric axis.
    pub categories: Vec<String>,
}

/// Whether values from `lo` to `hi` go on a log axis: all above 0, spanning a factor of 10
/// or more (learning rates). The runs' lines and a sweep report's settings both follow it.
pub fn log_scale(lo: f64, hi: f64) -> bool {
    lo > 0.0 && hi / lo >= 10.0
}

/// A value as a category's name: a setting made of parts by its kind and the others
/// (`temperature, t 2`, `natural`), anything else as the tables write it.
pub(crate) fn category(value: &Value) -> String {
    let Value::Object(parts) = value else { return value_text(value) };
    let kind = parts.get("kind").map(value_text);
    let rest = parts.iter().filter(|(k, _)| *k != "kind").map(|(k, v)| format!("{k} {}", value_text(v)));
    kind.into_iter().chain(rest).collect::<Vec<_>>().join(", ")
}

/// A key's categories over `runs`: none when every value the runs have is a number (or text
/// that reads as one), else their names in order.
fn categories_of(values: &HashMap<RunId, Value>, runs: &[RunId]) -> Vec<String> {
    let mut present: Vec<&Value> = runs.iter().filter_map(|r| values.get(r)).collect();
    if present.iter().all(|x| number(Some(x)).is_some()) {
        return Vec::new();
    }
    present.sort_by(|a, b| value_order(a, b));
    let mut names: Vec<String> = present.into_iter().map(category).collect();
    names.dedup();
    names
}

/// Where a value goes on an axis of `categories`: its category's index, or the number itself
/// on a numeric axis (none when it has no place).
fn place(categories: &[String], v: Option<&Value>) -> Option<f64> {
    if categories.is_empty() {
        return number(v);
    }
    let name = category(v?);
    categories.iter().position(|c| *c == name).map(|at| at as f64)
}

/// `runs` as lines through their values of `keys` (two or more, with their names): numbers
/// (or text that reads as one) on a numeric axis, other values as categories; every key must
/// be one some run has.
pub fn run_lines(keys: &[(String, RunKey)], runs: &[RunId], columns: &HashMap<RunId, RunColumns>, specs: &HashMap<RunId, Value>) -> Result<RunLines, StoreError> {
    if keys.len() < 2 {
        return Err(StoreError::Refused("name two keys or more to draw runs through: columns (`learning rate`, `sst2 dev accuracy`) or spec paths (`config.lr`)".into()));
    }
    let values: Vec<HashMap<RunId, Value>> = keys.iter().map(|(_, k)| k.values(columns, specs)).collect::<Result<_, _>>()?;
    let categories: Vec<Vec<String>> = values.iter().map(|v| categories_of(v, runs)).collect();
    let (mut lines, mut left_out) = (Vec::new(), Vec::new());
    for &run in runs {
        match values.iter().zip(&categories).map(|(v, c)| place(c, v.get(&run))).collect::<Option<Vec<f64>>>() {
            Some(line) => lines.push((run, line)),
            None => left_out.push(run),
        }
    }
    let axes = keys
        .iter()
        .zip(categories)
        .enumerate()
        .map(|(i, ((name, key), categories))| {
            let (lo, hi) = lines.iter().map(|(_, l)| l[i]).fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(x), b.max(x)));
            let log = categories.is_empty() && !key.is_figure(columns) && log_scale(lo, hi);
            LineAxis { name: name.clone(), log, categories }
        })
        .collect();
    Ok(RunLines { axes, lines, left_out })
}

impl Store {
    /// [`run_lines`] on the runs of this database.
    pub async fn run_lines(&self, keys: &[(String, RunKey)], runs: &[RunId]) -> Result<RunLines, StoreError> {
        let read = self.cached_run_columns_and_specs().await?;
        run_lines(keys, runs, &read.0, &read.1)
    }

    /// [`plot_runs`] on the runs of this database.
    pub async fn plot_runs(&self, keys: (&RunKey, &RunKey), by: &[(String, RunKey)], runs: &[RunId]) -> Result<RunPlot, StoreError> {
        let read = self.cached_run_columns_and_specs().await?;
        plot_runs(keys, by, runs, &read.0, &read.1)
    }

    /// [`group_runs`] on the runs of this database.
    pub async fn group_runs(&self, keys: &[RunKey], runs: &[RunId]) -> Result<Vec<RunGroup>, StoreError> {
        let read = self.cached_run_columns_and_specs().await?;
        group_runs(keys, runs, &read.0, &read.1)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::MetricFigures;

    /// Six runs: two learning rates (three and two seeds) and one run without a train size.
    fn runs() -> (HashMap<RunId, RunColumns>, HashMap<RunId, Value>) {
        let all = [(1, 1e-4, Some(16), Some(0.80)), (2, 3e-5, Some(16), Some(0.70)), (3, 1e-4, Some(16), Some(0.84)), (4, 3e-5, Some(16), None), (5, 1e-4, Some(16), Some(0.82)), (6, 1e-4, None, Some(0.5))];
        let (mut columns, mut specs) = (HashMap::new(), HashMap::new());
        for (id, lr, size, accuracy) in all {
            let mut c = RunColumns::default();
            c.params.insert("learning rate".into(), json!(lr));
            if let Some(size) = size {
                c.params.insert("train size".into(), json!(size));
            }
            if let Some(a) = accuracy {
                c.metrics.insert("rte dev accuracy".into(), MetricFigures { last: Some(a), best: Some(a), step: 8 });
            }
            c.metrics.insert("system rss_mb".into(), MetricFigures { last: Some(100.0 * id as f64), best: None, step: 8 });
            columns.insert(RunId(id), c);
            specs.insert(RunId(id), json!({"config": {"lr": lr, "train_size": size}}));
        }
        (columns, specs)
    }

    fn key(text: &str) -> RunKey {
        RunKey::parse(text).expect("key")
    }

    #[test]
    fn runs_are_lines_through_several_keys() {
        let (columns, specs) = runs();
        let keys: Vec<(String, RunKey)> = ["learning rate", "train size", "rte dev accuracy"].iter().map(|k| (k.to_string(), key(k))).collect();
        let ids: Vec<RunId> = (1..=6).map(RunId).collect();
        let lines = run_lines(&keys, &ids, &columns, &specs).expect("lines");
        assert_eq!(lines.lines.iter().map(|(r, _)| r.0).collect::<Vec<_>>(), [1, 2, 3, 5], "in the order given");
        assert_eq!(lines.lines[1].1, [3e-5, 16.0, 0.70]);
        assert_eq!(lines.left_out, [RunId(4), RunId(6)], "without an accuracy, without a train size");
        // The learning rates span a factor of 3.3: linear; a figure is never logarithmic.
        let axis = |name: &str, log: bool| LineAxis { name: name.into(), log, categories: Vec::new() };
        assert_eq!(lines.axes, [axis("learning rate", false), axis("train size", false), axis("rte dev accuracy", false)]);
        let (mut wide, specs) = runs();
        wide.get_mut(&RunId(2)).expect("run 2").params.insert("learning rate".into(), json!(1e-6));
        let memory: Vec<(String, RunKey)> = ["learning rate", "system rss_mb"].iter().map(|k| (k.to_string(), key(k))).collect();
        let lines = run_lines(&memory, &ids, &wide, &specs).expect("lines");
        assert_eq!(lines.axes, [axis("learning rate", true), axis("system rss_mb", false)], "1e-6 to 1e-4 is logarithmic; rss from 100 to 600 is a figure");
        assert_eq!(lines.lines.len(), 6);
        // Values that are not numbers are categories, in order; a run without one is left out.
        let (mut named, specs) = runs();
        for (id, batching) in [(1, "homogeneous"), (2, "heterogeneous"), (3, "homogeneous"), (5, "sequential")] {
            named.get_mut(&RunId(id)).expect("run").params.insert("batching".into(), json!(batching));
        }
        let by_batching: Vec<(String, RunKey)> = ["batching", "rte dev accuracy"].iter().map(|k| (k.to_string(), key(k))).collect();
        let lines = run_lines(&by_batching, &ids, &named, &specs).expect("lines");
        assert_eq!(lines.axes[0].categories, ["heterogeneous", "homogeneous", "sequential"]);
        assert_eq!(lines.lines.iter().map(|(r, l)| (r.0, l[0])).collect::<Vec<_>>(), [(1, 1.0), (2, 0.0), (3, 1.0), (5, 2.0)]);
        assert_eq!(lines.line_text(&lines.lines[0].1), "batching homogeneous, rte dev accuracy 0.8000");
        assert_eq!(lines.left_out, [RunId(4), RunId(6)]);
        assert_eq!((category(&json!({"kind": "temperature", "t": 2})), category(&json!({"kind": "natural"})), category(&json!("sst2"))), ("temperature, t 2".into(), "natural".into(), "sst2".into()));
        // One key draws no line; a key no run has is named.
        assert!(run_lines(&keys[..1], &ids, &columns, &specs).expect_err("one key").to_string().contains("name two keys or more"));
        let unknown = [keys[0].clone(), ("lerning rate".to_string(), key("lerning rate"))];
        assert!(run_lines(&unknown, &ids, &columns, &specs).expect_err("unknown").to_string().contains("no run has `lerning rate`"));
    }

    #[test]
    fn runs_group_by_their_values_with_each_figure_over_the_group() {
        let (columns, specs) = runs();
        let ids: Vec<RunId> = (1..=6).rev().map(RunId).collect();
        let groups = group_runs(&[key("learning rate"), key("config.train_size")], &ids, &columns, &specs).expect("groups");
        let shape: Vec<(Vec<Value>, Vec<i64>)> = groups.iter().map(|g| (g.values.clone(), g.runs.iter().map(|r| r.0).collect())).collect();
        assert_eq!(shape, vec![(vec![json!(3e-5), json!(16)], vec![4, 2]), (vec![json!(1e-4), json!(16)], vec![5, 3, 1]), (vec![json!(1e-4), Value::Null], vec![6])]);
        // 0.80, 0.84, 0.82: mean 0.82, sample sd 0.02.
        let rte = &groups[1].figures["rte dev accuracy"];
        assert_eq!((rte.n, rte.min, rte.max), (3, 0.80, 0.84));
        assert!((rte.mean - 0.82).abs() < 1e-12 && (rte.sd.expect("sd") - 0.02).abs() < 1e-12, "{rte:?}");
        // Run 4 has no accuracy: the group's figure is run 2's alone.
        let one = &groups[0].figures["rte dev accuracy"];
        assert_eq!((one.n, one.mean, one.sd), (1, 0.70, None));
        assert_eq!(groups[0].figures["system rss_mb"].mean, 300.0);
        // A figure's best over the group's runs too, where its metric has a goal.
        assert!(!groups[0].figures.contains_key("system rss_mb (best)"), "no goal, no best");
        let mut peaked = columns.clone();
        peaked.get_mut(&RunId(1)).expect("run 1").metrics.get_mut("rte dev accuracy").expect("accuracy").best = Some(0.86);
        let groups = group_runs(&[key("learning rate")], &ids, &peaked, &specs).expect("groups");
        let (last, best) = (&groups[1].figures["rte dev accuracy"], &groups[1].figures["rte dev accuracy (best)"]);
        assert!((last.mean - 0.74).abs() < 1e-12 && (best.mean - 0.755).abs() < 1e-12 && best.n == 4 && best.max == 0.86, "{last:?} {best:?}");
        // Only the runs given are grouped.
        let some = group_runs(&[key("learning rate")], &[RunId(1), RunId(2)], &columns, &specs).expect("groups");
        assert_eq!(some.iter().map(|g| g.runs.clone()).collect::<Vec<_>>(), vec![vec![RunId(2)], vec![RunId(1)]]);
    }

    #[test]
    fn groups_are_written_as_one_csv_row_each() {
        let (columns, specs) = runs();
        let ids: Vec<RunId> = (1..=6).map(RunId).collect();
        let groups = group_runs(&[key("learning rate")], &ids, &columns, &specs).expect("groups");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("groups.csv");
        assert_eq!(crate::export_groups(&["learning rate".into()], &groups, &path).expect("written"), 2);
        let text = std::fs::read_to_string(&path).expect("csv");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "learning rate,runs,run_ids,rte dev accuracy mean,rte dev accuracy sd,rte dev accuracy min,rte dev accuracy max,rte dev accuracy n,\
             rte dev accuracy (best) mean,rte dev accuracy (best) sd,rte dev accuracy (best) min,rte dev accuracy (best) max,rte dev accuracy (best) n,\
             system rss_mb mean,system rss_mb sd,system rss_mb min,system rss_mb max,system rss_mb n"
        );
        assert!(lines[1].starts_with("0.00003,2,2;4,0.7,,0.7,0.7,1,0.7,,0.7,0.7,1,300,141.42"), "{}", lines[1]);
        assert!(lines[2].starts_with("0.0001,4,1;3;5;6,0.74,"), "{}", lines[2]);
        assert_eq!(std::fs::read_dir(dir.path()).expect("ls").count(), 1, "no temporary file left");
    }

    #[test]
    fn runs_are_placed_by_two_keys_in_groups() {
        let (columns, specs) = runs();
        let ids: Vec<RunId> = (1..=6).map(RunId).collect();
        let (x, y) = (key("learning rate"), key("rte dev accuracy"));
        let plot = plot_runs((&x, &y), &[], &ids, &columns, &specs).expect("plot");
        assert_eq!(plot.left_out, [RunId(4)], "run 4 has no accuracy");
        assert_eq!(plot.groups.len(), 1);
        assert_eq!(plot.groups[0].points.iter().map(|p| p.run.0).collect::<Vec<_>>(), [1, 2, 3, 5, 6]);
        assert_eq!(plot.groups[0].points[1], RunPoint { run: RunId(2), x: 3e-5, y: 0.70 });
        let by = [("train size".to_string(), key("train size"))];
        let plot = plot_runs((&x, &y), &by, &ids, &columns, &specs).expect("plot");
        let shape: Vec<(String, Vec<i64>)> = plot.groups.iter().map(|g| (g.label.clone(), g.points.iter().map(|p| p.run.0).collect())).collect();
        assert_eq!(shape, [("train size 16".to_string(), vec![1, 2, 3, 5]), ("train size -".to_string(), vec![6])]);
        assert!(plot_runs((&key("lerning rate"), &y), &[], &ids, &columns, &specs).is_err());
        // On a log axis a value of 0 has no place: that run is left out too.
        let zero = plot_runs((&key("config.train_size"), &key("system rss_mb")), &[], &ids, &columns, &specs).expect("plot");
        assert_eq!((zero.plotted(), zero.left_out.clone()), (5, vec![RunId(6)]));
        let mut columns = columns;
        columns.get_mut(&RunId(1)).expect("run 1").metrics.get_mut("system rss_mb").expect("rss").last = Some(0.0);
        let logged = plot_runs((&key("config.train_size"), &key("system rss_mb")), &[], &ids, &columns, &specs).expect("plot").on_axes((false, true), ("train size", "rss")).expect("log y");
        assert_eq!((logged.plotted(), logged.left_out), (4, vec![RunId(6), RunId(1)]));
        assert!(logged.x_categories.is_empty() && logged.y_categories.is_empty(), "numbers on both axes");
        assert_eq!([value_text(&json!(3e-5)), value_text(&json!(0.5)), value_text(&json!(16)), value_text(&Value::Null)], ["3.00e-5", "0.5000", "16", "-"]);
    }

    #[test]
    fn a_key_of_other_values_than_numbers_places_runs_by_category() {
        let (mut columns, specs) = runs();
        for (id, batching) in [(1, "homogeneous"), (2, "heterogeneous"), (3, "homogeneous"), (5, "sequential"), (6, "heterogeneous")] {
            columns.get_mut(&RunId(id)).expect("run").params.insert("batching".into(), json!(batching));
        }
        let ids: Vec<RunId> = (1..=6).map(RunId).collect();
        let (x, y) = (key("batching"), key("rte dev accuracy"));
        let plot = plot_runs((&x, &y), &[], &ids, &columns, &specs).expect("plot");
        assert_eq!(plot.x_categories, ["heterogeneous", "homogeneous", "sequential"]);
        assert!(plot.y_categories.is_empty());
        let placed: Vec<(i64, f64, f64)> = plot.groups[0].points.iter().map(|p| (p.run.0, p.x, p.y)).collect();
        assert_eq!(placed, [(1, 1.0, 0.80), (2, 0.0, 0.70), (3, 1.0, 0.84), (5, 2.0, 0.82), (6, 0.0, 0.5)]);
        assert_eq!(plot.left_out, [RunId(4)], "no batching and no accuracy");
        // Only the runs given, with both values, name categories; a category has no log axis.
        let some = plot_runs((&x, &y), &[], &[RunId(1), RunId(3)], &columns, &specs).expect("plot");
        assert_eq!(some.x_categories, ["homogeneous"]);
        let error = plot.clone().on_axes((true, false), ("batching", "rte dev accuracy")).expect_err("log x").to_string();
        assert!(error.contains("`batching` is not a number") && error.contains("linear axis"), "{error}");
        assert_eq!(plot.clone().on_axes((false, true), ("batching", "rte dev accuracy")).expect("log y").plotted(), 5);
        // Both axes may be categories, and grouping still applies.
        let by = [("learning rate".to_string(), key("learning rate"))];
        let both = plot_runs((&x, &key("batching")), &by, &ids, &columns, &specs).expect("plot");
        assert_eq!((both.x_categories.len(), both.y_categories.len(), both.groups.len(), both.plotted()), (3, 3, 2, 5));
        // A point read by its values, a category by its name.
        let first = &plot.groups[0].points[0];
        assert_eq!(plot.point_text(0, first, ("batching", "rte dev accuracy")), "batching homogeneous, rte dev accuracy 0.8000");
        let grouped = plot_runs((&key("learning rate"), &y), &by, &ids, &columns, &specs).expect("plot");
        assert_eq!(grouped.point_text(0, &grouped.groups[0].points[0], ("learning rate", "rte dev accuracy")), "learning rate 3.00e-5, rte dev accuracy 0.7000 (learning rate 3.00e-5)");
        columns.get_mut(&RunId(4)).expect("run 4").params.insert("batching".into(), json!("sequential-unscaled"));
        let without = plot_runs((&x, &y), &[], &ids, &columns, &specs).expect("plot");
        assert_eq!(without.x_categories, ["heterogeneous", "homogeneous", "sequential"], "run 4 has no accuracy: its batching is no category");
    }

    #[test]
    fn a_key_no_run_has_is_refused() {
        let (columns, specs) = runs();
        let error = group_runs(&[key("lerning rate")], &[RunId(1)], &columns, &specs).expect_err("unknown key").to_string();
        assert!(error.contains("no run has `lerning rate`") && error.contains("learning rate"), "{error}");
        assert!(group_runs(&[], &[RunId(1)], &columns, &specs).expect_err("no key").to_string().contains("name a key to group runs by"));
        assert_eq!(GroupFigure::of(&[f64::NAN]), None);
    }
}
