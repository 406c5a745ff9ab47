//! Runs picked by their settings and figures, as MLflow's search filter (`params.lr < 1e-4
//! and metrics.acc > 0.8`) and W&B's table filters do: conditions joined by `and`, each a key,
//! a comparison and a value. A key is a column of the runs table, by its name (`learning
//! rate`, `sst2 dev accuracy`: a figure is its last value, `sst2 dev accuracy (best)` its
//! best by the metric's goal), or a path into the run's spec
//! (`config.lr`, `$.config.sampling.t`, or one word: `backend`). A run without the key's
//! value does not match.

use std::collections::{HashMap, HashSet};

use muppet_core::RunId;
use serde_json::Value;

use crate::run_columns::{RunColumns, PARAM_COLUMNS, PARENT_COLUMN};
use crate::{ParamOp, Store, StoreError};

/// A parsed filter: every condition must hold.
#[derive(Debug, Clone, PartialEq)]
pub struct RunFilter {
    conditions: Vec<Condition>,
}

#[derive(Debug, Clone, PartialEq)]
struct Condition {
    key: Key,
    op: ParamOp,
    value: Value,
}

#[derive(Debug, Clone, PartialEq)]
enum Key {
    /// A column's name, as written (matched without regard to case).
    Column(String),
    /// The segments of a path into the spec.
    Path(Vec<String>),
}

/// The comparisons, longest first so that `<=` is not read as `<`.
const OPS: [(&str, ParamOp); 7] = [
    ("<=", ParamOp::Le),
    (">=", ParamOp::Ge),
    ("!=", ParamOp::Ne),
    ("==", ParamOp::Eq),
    ("=", ParamOp::Eq),
    ("<", ParamOp::Lt),
    (">", ParamOp::Gt),
];

fn refused(message: String) -> StoreError {
    StoreError::Refused(message)
}

impl RunFilter {
    /// Read a filter; the error names the condition and what is wrong with it.
    pub fn parse(text: &str) -> Result<Self, StoreError> {
        let mut conditions = Vec::new();
        for part in split_and(text)? {
            let part = part.trim();
            if part.is_empty() {
                return Err(refused(format!("the filter `{}` has an empty condition: write KEY OP VALUE between the `and`s, e.g. `learning rate < 1e-4`", text.trim())));
            }
            let Some((at, symbol, op)) = OPS.iter().filter_map(|&(symbol, op)| part.find(symbol).map(|at| (at, symbol, op))).min_by_key(|(at, symbol, _)| (*at, usize::MAX - symbol.len())) else {
                return Err(refused(format!("`{part}` has no comparison: write KEY OP VALUE with OP one of =, !=, <, <=, >, >=")));
            };
            let (key, value) = (part[..at].trim(), part[at + symbol.len()..].trim());
            if key.is_empty() || value.is_empty() {
                return Err(refused(format!("`{part}` needs a key before `{symbol}` and a value after it, e.g. `learning rate {symbol} 1e-4`")));
            }
            conditions.push(Condition { key: Key::of(key), op, value: value_of(value) });
        }
        Ok(RunFilter { conditions })
    }

    /// The runs of `columns` and `specs` that match, or why the filter cannot be applied (a
    /// key that no run has).
    pub fn select(&self, columns: &HashMap<RunId, RunColumns>, specs: &HashMap<RunId, Value>) -> Result<HashSet<RunId>, StoreError> {
        for c in &self.conditions {
            let known = specs.keys().chain(columns.keys()).any(|run| c.key.value(columns.get(run), specs.get(run)).is_some());
            if !known {
                return Err(refused(c.key.unknown(columns)));
            }
        }
        let runs: HashSet<RunId> = specs.keys().chain(columns.keys()).copied().collect();
        Ok(runs
            .into_iter()
            .filter(|run| self.conditions.iter().all(|c| c.key.value(columns.get(run), specs.get(run)).is_some_and(|v| compare(&v, c.op, &c.value))))
            .collect())
    }
}

impl Key {
    fn of(text: &str) -> Key {
        let path = text.strip_prefix("$.").unwrap_or(text);
        let is_path = text.starts_with("$.") || (path.contains('.') && path.split('.').all(|s| !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_')));
        if is_path {
            Key::Path(path.split('.').map(str::to_string).collect())
        } else {
            Key::Column(text.split_whitespace().collect::<Vec<_>>().join(" "))
        }
    }

    /// The key's value for a run: a setting, a figure's last value, or a value of its spec.
    fn value(&self, columns: Option<&RunColumns>, spec: Option<&Value>) -> Option<Value> {
        match self {
            Key::Column(name) => {
                let named = |k: &String| k.eq_ignore_ascii_case(name);
                if let Some(columns) = columns {
                    if let Some((_, v)) = columns.params.iter().find(|(k, _)| named(k)) {
                        return Some(v.clone());
                    }
                    if let Some((_, figures)) = columns.metrics.iter().find(|(k, _)| named(k)) {
                        return figures.last.map(Value::from);
                    }
                    // `NAME (best)`: the figure's best value by its metric's goal, as the
                    // runs table's CSV names it.
                    if let Some(figure) = best_of(name)
                        && let Some((_, figures)) = columns.metrics.iter().find(|(k, _)| k.eq_ignore_ascii_case(figure))
                    {
                        return figures.best.map(Value::from);
                    }
                }
                // One word that is no column: a field at the top of the spec (`backend`).
                if name.contains(' ') {
                    return None;
                }
                Key::Path(vec![name.clone()]).value(None, spec)
            }
            Key::Path(segments) => {
                let mut at = spec?;
                for s in segments {
                    at = match at {
                        Value::Object(map) => map.get(s)?,
                        Value::Array(items) => items.get(s.parse::<usize>().ok()?)?,
                        _ => return None,
                    };
                }
                (!at.is_null()).then(|| at.clone())
            }
        }
    }

    /// Why no run has this key, with the keys there are.
    fn unknown(&self, columns: &HashMap<RunId, RunColumns>) -> String {
        match self {
            Key::Path(segments) => format!("no run's spec has `{}`: a path names the spec's fields, e.g. `config.lr`, `config.sampling.kind`, `tasks.0`", segments.join(".")),
            Key::Column(name) => {
                let mut figures: Vec<&String> = columns.values().flat_map(|c| c.metrics.keys()).collect::<HashSet<_>>().into_iter().collect();
                figures.sort();
                let settings: Vec<&str> = PARAM_COLUMNS.iter().map(|(n, _)| *n).chain([PARENT_COLUMN]).collect();
                let shown: Vec<&str> = figures.iter().take(8).map(|s| s.as_str()).collect();
                let more = if figures.len() > shown.len() { ", ..." } else { "" };
                format!(
                    "no run has `{name}`: a key is a setting ({}), a figure ({}{more}; its last value, or its best with `(best)` after its name) or a path into the spec (`config.lr`)",
                    settings.join(", "),
                    if shown.is_empty() { "none stored yet".to_string() } else { shown.join(", ") }
                )
            }
        }
    }
}

/// The figure a `NAME (best)` key names (any case).
fn best_of(name: &str) -> Option<&str> {
    let at = name.len().checked_sub(BEST_SUFFIX.len())?;
    (name.is_char_boundary(at) && name[at..].eq_ignore_ascii_case(BEST_SUFFIX)).then(|| name[..at].trim_end())
}

/// What a figure's name ends with to name its best value.
pub const BEST_SUFFIX: &str = "(best)";

/// `text` cut at each `and` that stands alone (any case) outside quotes, so keys may hold
/// other words and a quoted value any text (`name = "sst2 and rte"`); an unclosed quote is
/// refused.
fn split_and(text: &str) -> Result<Vec<String>, StoreError> {
    // Words as written: whitespace ends one only outside quotes.
    let (mut words, mut word, mut quote) = (Vec::new(), String::new(), None::<char>);
    for c in text.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c.is_whitespace() => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                continue;
            }
            _ => {}
        }
        word.push(c);
    }
    if let Some(q) = quote {
        return Err(refused(format!("the filter `{}` opens a quote ({q}) it does not close", text.trim())));
    }
    if !word.is_empty() {
        words.push(word);
    }
    let mut parts = vec![Vec::new()];
    for word in words {
        if word.eq_ignore_ascii_case("and") {
            parts.push(Vec::new());
        } else if let Some(last) = parts.last_mut() {
            last.push(word);
        }
    }
    Ok(parts.into_iter().map(|words| words.join(" ")).collect())
}

/// A value as written: a number, true, false, or text (quotes around it are dropped).
fn value_of(text: &str) -> Value {
    let unquoted = ['"', '\''].iter().find_map(|q| text.strip_prefix(*q)?.strip_suffix(*q));
    if let Some(text) = unquoted {
        return Value::String(text.to_string());
    }
    match text {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => text.parse::<f64>().ok().and_then(|n| serde_json::Number::from_f64(n).map(Value::Number)).unwrap_or_else(|| Value::String(text.to_string())),
    }
}

/// Whether `actual OP wanted` holds: numbers by value, text by its characters, a setting made
/// of parts (`{"kind": "temperature", "t": 2}`) by its kind.
fn compare(actual: &Value, op: ParamOp, wanted: &Value) -> bool {
    use std::cmp::Ordering;
    let ordering = match (actual, wanted) {
        (Value::Number(a), Value::Number(b)) => a.as_f64().zip(b.as_f64()).and_then(|(a, b)| a.partial_cmp(&b)),
        (Value::String(a), Value::String(b)) => Some(a.as_str().cmp(b.as_str())),
        (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
        (Value::Object(map), Value::String(_)) => return map.get("kind").is_some_and(|kind| compare(kind, op, wanted)),
        // A number written as text in the spec, or text that reads as a number.
        (Value::String(a), Value::Number(b)) => a.parse::<f64>().ok().zip(b.as_f64()).and_then(|(a, b)| a.partial_cmp(&b)),
        _ => None,
    };
    let Some(ordering) = ordering else { return false };
    match op {
        ParamOp::Eq => ordering == Ordering::Equal,
        ParamOp::Ne => ordering != Ordering::Equal,
        ParamOp::Lt => ordering == Ordering::Less,
        ParamOp::Le => ordering != Ordering::Greater,
        ParamOp::Gt => ordering == Ordering::Greater,
        ParamOp::Ge => ordering != Ordering::Less,
    }
}

/// One key of a filter alone, to order runs by (`muppet runs list --sort`).
#[derive(Debug, Clone, PartialEq)]
pub struct RunKey(Key);

impl RunKey {
    pub fn parse(text: &str) -> Result<Self, StoreError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(refused("name a column (`sst2 dev accuracy`, `learning rate`) or a spec path (`config.lr`) to sort by".into()));
        }
        Ok(RunKey(Key::of(text)))
    }

    /// Whether the key names a figure (its last value or its best), not a setting.
    pub fn is_figure(&self, columns: &HashMap<RunId, RunColumns>) -> bool {
        let Key::Column(name) = &self.0 else { return false };
        let figure = best_of(name).unwrap_or(name);
        columns.values().any(|c| c.metrics.keys().any(|k| k.eq_ignore_ascii_case(figure)))
    }

    /// Each run's value of the key (runs without one are left out), or why no run has it.
    pub fn values(&self, columns: &HashMap<RunId, RunColumns>, specs: &HashMap<RunId, Value>) -> Result<HashMap<RunId, Value>, StoreError> {
        let values: HashMap<RunId, Value> =
            specs.keys().chain(columns.keys()).filter_map(|&run| Some((run, self.0.value(columns.get(&run), specs.get(&run))?))).collect();
        if values.is_empty() {
            return Err(refused(self.0.unknown(columns)));
        }
        Ok(values)
    }
}

/// The order of two values of a key: numbers by value before text, text by its characters,
/// then the rest by their JSON.
pub fn value_order(a: &Value, b: &Value) -> std::cmp::Ordering {
    let rank = |v: &Value| match v {
        Value::Number(_) => 0,
        Value::String(_) => 1,
        _ => 2,
    };
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64().unwrap_or(f64::NAN).total_cmp(&y.as_f64().unwrap_or(f64::NAN)),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        _ => rank(a).cmp(&rank(b)).then_with(|| a.to_string().cmp(&b.to_string())),
    }
}

/// Every run's columns and parsed spec.
pub type ColumnsAndSpecs = (HashMap<RunId, RunColumns>, HashMap<RunId, Value>);

/// What says whether the runs' columns and specs changed: the runs (how many, the last id,
/// their parents) and the metric summaries (how many, and the sums of their last steps, last
/// values and best values, which every point recorded moves).
type ColumnsToken = (i64, i64, f64, i64, f64, f64, f64);

/// The last columns and specs read, with the token they were read at: a store handle kept
/// open (the app's) reads them again only when the token moved.
#[derive(Debug, Default)]
pub(crate) struct ColumnsCache(tokio::sync::Mutex<Option<(ColumnsToken, std::sync::Arc<ColumnsAndSpecs>)>>);

impl Store {
    /// Every run's columns and parsed spec: what filters and keys are read from.
    pub async fn run_columns_and_specs(&self) -> Result<ColumnsAndSpecs, StoreError> {
        let columns = self.run_columns(None).await?;
        let rows: Vec<(i64, String)> = sqlx::query_as("SELECT id, spec_json FROM runs").fetch_all(&self.pool).await?;
        let specs = rows.into_iter().filter_map(|(id, text)| Some((RunId(id), serde_json::from_str(&text).ok()?))).collect();
        Ok((columns, specs))
    }

    /// [`Store::run_columns_and_specs`], read again only when a run or a metric changed since
    /// this handle last read them (any process's write): the filter, the groups, the plots and
    /// the importance of the app's Runs page share one reading.
    pub async fn cached_run_columns_and_specs(&self) -> Result<std::sync::Arc<ColumnsAndSpecs>, StoreError> {
        let mut cache = self.columns_cache.0.lock().await;
        let token: ColumnsToken = sqlx::query_as(
            "SELECT (SELECT count(*) FROM runs), (SELECT coalesce(max(id), 0) FROM runs), (SELECT total(parent_run_id) FROM runs),
                    (SELECT count(*) FROM metric_summaries), (SELECT total(last_step) FROM metric_summaries),
                    (SELECT total(last_value) FROM metric_summaries), (SELECT total(best_value) FROM metric_summaries)",
        )
        .fetch_one(&self.pool)
        .await?;
        if let Some((at, read)) = cache.as_ref()
            && *at == token
        {
            return Ok(read.clone());
        }
        let read = std::sync::Arc::new(self.run_columns_and_specs().await?);
        *cache = Some((token, read.clone()));
        Ok(read)
    }

    /// The runs that match `filter`, read from every run's columns and spec.
    pub async fn filter_runs(&self, filter: &RunFilter) -> Result<HashSet<RunId>, StoreError> {
        let read = self.cached_run_columns_and_specs().await?;
        filter.select(&read.0, &read.1)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use crate::MetricFigures;

    fn run(lr: f64, accuracy: Option<f64>, sampling: Value) -> (RunColumns, Value) {
        let mut columns = RunColumns::default();
        columns.params = BTreeMap::from([("learning rate".to_string(), json!(lr)), ("sampling".to_string(), sampling.clone())]);
        if let Some(a) = accuracy {
            columns.metrics.insert("sst2 dev accuracy".into(), MetricFigures { last: Some(a), best: Some(a), step: 10 });
        }
        let name = match sampling["kind"].as_str() {
            Some("temperature") => "sst2 and  rte",
            Some("uniform") => "it's",
            _ => "sst2",
        };
        (columns, json!({"name": name, "config": {"lr": lr, "sampling": sampling, "train_size": null}, "tasks": ["sst2", "rte"], "backend": "cpu"}))
    }

    fn runs() -> (HashMap<RunId, RunColumns>, HashMap<RunId, Value>) {
        let all = [
            run(1e-4, Some(0.81), json!({"kind": "natural"})),
            run(3e-5, Some(0.85), json!({"kind": "temperature", "t": 2.0})),
            run(1e-5, None, json!({"kind": "uniform"})),
        ];
        let mut columns = HashMap::new();
        let mut specs = HashMap::new();
        for (i, (c, s)) in all.into_iter().enumerate() {
            columns.insert(RunId(i as i64 + 1), c);
            specs.insert(RunId(i as i64 + 1), s);
        }
        (columns, specs)
    }

    fn ids(text: &str) -> Vec<i64> {
        let (columns, specs) = runs();
        let mut ids: Vec<i64> = RunFilter::parse(text).expect("parse").select(&columns, &specs).expect("select").into_iter().map(|r| r.0).collect();
        ids.sort_unstable();
        ids
    }

    fn error(text: &str) -> String {
        let (columns, specs) = runs();
        match RunFilter::parse(text).and_then(|f| f.select(&columns, &specs)) {
            Ok(ids) => panic!("`{text}` matched {ids:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_figure_with_best_after_it_is_its_best_value() {
        let (mut columns, specs) = runs();
        // Run 1 was better earlier than at its end; run 2 ended at its best.
        columns.get_mut(&RunId(1)).expect("run 1").metrics.insert("sst2 dev accuracy".into(), MetricFigures { last: Some(0.81), best: Some(0.9), step: 10 });
        let select = |text: &str| {
            let mut ids: Vec<i64> = RunFilter::parse(text).expect("parse").select(&columns, &specs).expect("select").into_iter().map(|r| r.0).collect();
            ids.sort_unstable();
            ids
        };
        assert_eq!(select("sst2 dev accuracy > 0.83"), [2]);
        assert_eq!(select("sst2 dev accuracy (best) > 0.83"), [1, 2]);
        assert_eq!(select("SST2 Dev Accuracy  (BEST) >= 0.9"), [1]);
        let best = RunKey::parse("sst2 dev accuracy (best)").expect("key").values(&columns, &specs).expect("values");
        assert_eq!((best.get(&RunId(1)), best.get(&RunId(2)), best.get(&RunId(3))), (Some(&json!(0.9)), Some(&json!(0.85)), None));
        // A setting has no best; the error says how a best is named.
        let err = RunFilter::parse("learning rate (best) > 0").expect("parse").select(&columns, &specs).expect_err("no best of a setting").to_string();
        assert!(err.contains("no run has `learning rate (best)`") && err.contains("its best with `(best)` after its name"), "{err}");
    }

    #[test]
    fn conditions_on_settings_figures_and_spec_paths_all_hold() {
        assert_eq!(ids("learning rate < 1e-4"), [2, 3]);
        assert_eq!(ids("Learning  Rate <= 1e-4 AND sst2 dev accuracy > 0.8"), [1, 2]);
        assert_eq!(ids("sst2 dev accuracy >= 0.85"), [2], "a run without the figure never matches");
        assert_eq!(ids("sst2 dev accuracy != 0.85"), [1]);
        assert_eq!(ids("sampling = temperature"), [2], "a setting of parts compares by its kind");
        assert_eq!(ids("sampling != 'natural'"), [2, 3]);
        assert_eq!(ids("config.sampling.t > 1"), [2]);
        assert_eq!(ids("$.config.lr == 0.00003"), [2]);
        assert_eq!(ids("tasks.1 = rte and backend = cpu"), [1, 2, 3]);
        assert_eq!(ids("config.lr>=1e-5 and config.lr<1e-4"), [2, 3], "no spaces needed");
        assert_eq!(ids("name = 'sst2 and  rte' and backend = cpu"), [2], "a quoted value keeps its words and spaces");
        assert_eq!(ids("name = \"it's\""), [3], "one kind of quote inside the other");
    }

    #[test]
    fn runs_are_ordered_by_a_key_they_have() {
        let (columns, specs) = runs();
        let by = |key: &str| {
            let values = RunKey::parse(key).expect("key").values(&columns, &specs).expect("values");
            let mut ids: Vec<(RunId, Value)> = values.into_iter().collect();
            ids.sort_by(|a, b| value_order(&a.1, &b.1));
            ids.into_iter().map(|(r, _)| r.0).collect::<Vec<_>>()
        };
        assert_eq!(by("sst2 dev accuracy"), [1, 2], "run 3 has no figure");
        assert_eq!(by("config.lr"), [3, 2, 1]);
        assert_eq!(by("sampling"), [1, 2, 3], "by the JSON text: natural, temperature, uniform");
        assert!(RunKey::parse("sst2 test accuracy").expect("key").values(&columns, &specs).is_err());
        assert!(RunKey::parse(" ").is_err());
        assert_eq!(value_order(&json!(2), &json!("a")), std::cmp::Ordering::Less);
    }

    #[test]
    fn a_bad_filter_says_what_to_write() {
        assert!(error("learning rate 1e-4").contains("`learning rate 1e-4` has no comparison"), "{}", error("learning rate 1e-4"));
        assert!(error("< 3").contains("needs a key before `<`"));
        assert!(error("lr < 1 and").contains("has an empty condition"));
        assert!(error("name = 'sst2 and rte").contains("opens a quote (') it does not close"), "{}", error("name = 'sst2 and rte"));
        let unknown = error("lerning rate < 1");
        assert!(unknown.contains("no run has `lerning rate`") && unknown.contains("learning rate") && unknown.contains("sst2 dev accuracy"), "{unknown}");
        assert!(error("config.lrr < 1").contains("no run's spec has `config.lrr`"));
        assert!(error("config.train_size > 1").contains("config.train_size"), "a value every run leaves empty is no key to filter by");
    }
}
