//! The runs table's optional columns, for every run at once: the last and best value of each
//! of its series outside the training split (a dev accuracy, a span F1), and its main
//! settings read from its spec (learning rate, batch size, ...), as MLflow and W&B tables
//! show metrics and parameters beside each run.

use std::collections::{BTreeMap, HashMap};

use muppet_core::RunId;
use serde::Serialize;
use sqlx::Row;

use crate::{Store, StoreError};

/// The settings offered as columns: their name in the table, and their JSON path in a run's
/// spec (`muppet_train::spec::RunSpec`).
pub const PARAM_COLUMNS: [(&str, &str); 12] = [
    ("learning rate", "$.config.lr"),
    ("batch size", "$.config.batch_size"),
    ("updates", "$.config.steps"),
    ("tasks per update", "$.config.tasks_per_update"),
    ("batching", "$.config.batching"),
    ("sampling", "$.config.sampling"),
    ("loss scaling", "$.config.loss_scale"),
    ("R3F", "$.config.r3f"),
    ("max length", "$.config.max_len"),
    ("train size", "$.config.train_size"),
    ("seed", "$.config.seed"),
    ("backend", "$.backend"),
];

/// The column of the run a fine-tune started from (its parent in this database: a run
/// imported from elsewhere keeps its link, not the other database's id in its spec).
pub const PARENT_COLUMN: &str = "started from run";

/// The last and best value of a series (the best by the metric's goal; none without one).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricFigures {
    pub last: Option<f64>,
    pub best: Option<f64>,
    /// The step of the last value.
    pub step: u64,
}

/// A run's values for the optional columns.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RunColumns {
    /// By `task split name` ("sst2 dev accuracy"; "dev accuracy" for a run-wide series).
    pub metrics: BTreeMap<String, MetricFigures>,
    /// By the names of [`PARAM_COLUMNS`] and [`PARENT_COLUMN`]; a setting the run lacks is
    /// left out.
    pub params: BTreeMap<String, serde_json::Value>,
}

/// A series' name as a column: `task split name`, the task left out for a run-wide series.
pub fn metric_column(task: Option<&str>, split: &str, name: &str) -> String {
    match task {
        Some(task) if !task.is_empty() => format!("{task} {split} {name}"),
        _ => format!("{split} {name}"),
    }
}

impl Store {
    /// Every run's values for the optional columns (runs with none are left out), or only
    /// run `only`'s.
    pub async fn run_columns(&self, only: Option<RunId>) -> Result<HashMap<RunId, RunColumns>, StoreError> {
        // A bound NULL keeps every run.
        let only = only.map(|r| r.0);
        let mut out: HashMap<RunId, RunColumns> = HashMap::new();
        type SummaryRow = (i64, String, String, String, Option<f64>, Option<f64>, i64);
        let rows: Vec<SummaryRow> = sqlx::query_as(
            "SELECT s.run_id, s.task, s.split, s.name, m.last_value, m.best_value, m.last_step
               FROM metric_series s JOIN metric_summaries m ON m.series_id = s.id
              WHERE s.split <> 'train' AND (?1 IS NULL OR s.run_id = ?1)",
        )
        .bind(only)
        .fetch_all(&self.pool)
        .await?;
        for (run, task, split, name, last, best, step) in rows {
            let figures = MetricFigures { last, best, step: step.max(0) as u64 };
            out.entry(RunId(run)).or_default().metrics.insert(metric_column(Some(&task), &split, &name), figures);
        }
        // `->` gives each value as JSON text (numbers, strings and objects alike).
        let selected: Vec<String> = PARAM_COLUMNS.iter().map(|(_, path)| format!("spec_json -> '{path}'")).collect();
        let sql = format!("SELECT id, parent_run_id, {} FROM runs WHERE json_valid(spec_json) AND (?1 IS NULL OR id = ?1)", selected.join(", "));
        for row in sqlx::query(&sql).bind(only).fetch_all(&self.pool).await? {
            let run = RunId(row.try_get::<i64, _>(0)?);
            if let Some(parent) = row.try_get::<Option<i64>, _>(1)? {
                out.entry(run).or_default().params.insert(PARENT_COLUMN.to_string(), parent.into());
            }
            for (i, (name, _)) in PARAM_COLUMNS.iter().enumerate() {
                let Some(text) = row.try_get::<Option<String>, _>(i + 2)? else { continue };
                let value: serde_json::Value = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
                if !value.is_null() {
                    out.entry(run).or_default().params.insert((*name).to_string(), value);
                }
            }
        }
        Ok(out)
    }
}
