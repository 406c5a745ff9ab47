//! Comparing runs: which spec parameters differ, and each metric's value at a
//! chosen step (the latest point at or before it) or at the end.

use std::collections::BTreeMap;

use muppet_core::RunId;
use serde::Serialize;

use crate::series::SeriesKey;
use crate::{Store, StoreError};

/// Side by side view of two or more runs; every `values` vector is in the order
/// of `runs`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub runs: Vec<RunId>,
    /// Spec leaves whose values are not all equal, by JSON path.
    pub params: Vec<ParamDiff>,
    /// Every series any of the runs has, ordered by task, split, name.
    pub metrics: Vec<MetricComparison>,
}

/// One spec value that differs between runs; `None` where a run lacks it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParamDiff {
    pub path: String,
    pub values: Vec<Option<serde_json::Value>>,
}

/// One series across runs; `None` where a run has no point at or before the step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricComparison {
    pub key: SeriesKey,
    pub values: Vec<Option<MetricAt>>,
}

/// A value and the step it was recorded at.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MetricAt {
    pub step: u64,
    pub value: f64,
}

impl Store {
    /// Compare `runs` (two or more). With `at_step`, each metric is read at the
    /// latest step at or before it; without, at its last point.
    pub async fn compare_runs(&self, runs: &[RunId], at_step: Option<u64>) -> Result<Comparison, StoreError> {
        if runs.len() < 2 {
            return Err(StoreError::CompareNeedsTwoRuns(runs.len()));
        }
        let mut leaves: BTreeMap<String, Vec<Option<serde_json::Value>>> = BTreeMap::new();
        let mut metrics: BTreeMap<(String, String, String), Vec<Option<MetricAt>>> = BTreeMap::new();
        for (i, &run) in runs.iter().enumerate() {
            let spec = self.run_spec(run).await?;
            let mut flat = Vec::new();
            flatten("$", &spec, &mut flat);
            for (path, value) in flat {
                leaves.entry(path).or_insert_with(|| vec![None; runs.len()])[i] = Some(value);
            }
            for series in self.list_series(run).await? {
                let Some(summary) = &series.summary else { continue };
                let at = match at_step {
                    None => Some(MetricAt { step: summary.last_step, value: summary.last }),
                    Some(step) => {
                        let row: Option<(i64, Option<f64>)> = sqlx::query_as(
                            "SELECT step, value FROM metric_points WHERE series_id = ? AND step <= ? ORDER BY step DESC LIMIT 1",
                        )
                        .bind(series.id.0)
                        .bind(step.min(i64::MAX as u64) as i64)
                        .fetch_optional(&self.pool)
                        .await?;
                        row.map(|(step, value)| MetricAt { step: step as u64, value: value.unwrap_or(f64::NAN) })
                    }
                };
                let key = (series.key.stored_task().to_string(), series.key.split, series.key.name);
                metrics.entry(key).or_insert_with(|| vec![None; runs.len()])[i] = at;
            }
        }
        let params = leaves
            .into_iter()
            .filter(|(_, values)| values.iter().any(|v| v != &values[0]))
            .map(|(path, values)| ParamDiff { path, values })
            .collect();
        let metrics = metrics
            .into_iter()
            .map(|((task, split, name), values)| MetricComparison {
                key: SeriesKey { task: (!task.is_empty()).then_some(task), split, name },
                values,
            })
            .collect();
        Ok(Comparison { runs: runs.to_vec(), params, metrics })
    }
}

/// The leaves of `value` with their JSON paths (`$.a.b`, `$.a[0]`, `$."odd key"`),
/// in the syntax SQLite's json_extract accepts, so a path from a diff can be
/// used as a [`crate::ParamFilter`].
pub fn flatten(path: &str, value: &serde_json::Value, out: &mut Vec<(String, serde_json::Value)>) {
    match value {
        serde_json::Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                let plain = !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                let child = if plain { format!("{path}.{k}") } else { format!("{path}.\"{}\"", k.replace('"', "\\\"")) };
                flatten(&child, v, out);
            }
        }
        serde_json::Value::Array(items) if !items.is_empty() => {
            for (i, v) in items.iter().enumerate() {
                flatten(&format!("{path}[{i}]"), v, out);
            }
        }
        leaf => out.push((path.to_string(), leaf.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flatten_names_every_leaf_with_a_json_path() {
        let spec = serde_json::json!({"optim": {"lr": 1e-5}, "tasks": ["rte", "mrpc"], "odd key": true, "empty": {}});
        let mut flat = Vec::new();
        flatten("$", &spec, &mut flat);
        let paths: Vec<&str> = flat.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, vec!["$.empty", "$.\"odd key\"", "$.optim.lr", "$.tasks[0]", "$.tasks[1]"]);
        assert_eq!(flat[3].1, serde_json::json!("rte"));
    }
}
