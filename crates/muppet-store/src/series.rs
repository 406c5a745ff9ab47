//! Metric series: identity (run, task, split, name), which way is better, and
//! the summary kept current at write time.

use muppet_core::RunId;
use serde::Serialize;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::{Store, StoreError};

/// Database id of a metric series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct SeriesId(pub i64);

/// What names a series within a run. `task` is `None` for run-wide series.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
pub struct SeriesKey {
    pub task: Option<String>,
    pub split: String,
    pub name: String,
}

impl SeriesKey {
    /// A key from borrowed parts.
    pub fn new(task: Option<&str>, split: &str, name: &str) -> Self {
        Self { task: task.map(str::to_string), split: split.to_string(), name: name.to_string() }
    }

    /// The task as stored: run-wide series have the empty task.
    pub(crate) fn stored_task(&self) -> &str {
        self.task.as_deref().unwrap_or("")
    }
}

/// Which way is better for a metric; decides the summary's best value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricGoal {
    Min,
    Max,
}

/// Metric names for which a higher value is better; the migration that added
/// goals backfills with the same list.
const HIGHER_IS_BETTER: &[&str] = &[
    "accuracy", "acc", "f1", "macro_f1", "exact_match", "em", "mcc", "matthews", "pearson", "spearman", "auc", "bleu",
    "rouge", "rouge_l", "score",
];

impl MetricGoal {
    /// The goal of a metric by its name: accuracies and correlations are maximised,
    /// everything else (loss, error, perplexity) minimised.
    pub fn for_name(name: &str) -> Self {
        if HIGHER_IS_BETTER.contains(&name) { MetricGoal::Max } else { MetricGoal::Min }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            MetricGoal::Min => "min",
            MetricGoal::Max => "max",
        }
    }

    pub(crate) fn from_stored(s: &str) -> Self {
        if s == "max" { MetricGoal::Max } else { MetricGoal::Min }
    }
}

/// Per-series figures kept current in the transaction that writes the points.
/// NaN points count and can be `last`, but never `min`, `max` or `best`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub count: u64,
    pub first_step: u64,
    pub last_step: u64,
    pub last: f64,
    pub min: Option<f64>,
    pub min_step: Option<u64>,
    pub max: Option<f64>,
    pub max_step: Option<u64>,
    pub best: Option<f64>,
    pub best_step: Option<u64>,
}

/// A series of a run with its summary (`None` while it has no points).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesInfo {
    pub id: SeriesId,
    pub run: RunId,
    pub key: SeriesKey,
    pub goal: MetricGoal,
    pub summary: Option<Summary>,
}

/// Columns of `metric_summaries` aliased `m`, in the order [`summary_from_row`] reads.
pub(crate) const SUMMARY_COLUMNS: &str = "m.count, m.first_step, m.last_step, m.last_value, m.min_value, m.min_step, \
     m.max_value, m.max_step, m.best_value, m.best_step";

pub(crate) fn summary_from_row(row: &SqliteRow) -> Result<Option<Summary>, sqlx::Error> {
    let count: Option<i64> = row.try_get("count")?;
    let Some(count) = count else { return Ok(None) };
    let step = |col: &str| -> Result<Option<u64>, sqlx::Error> { Ok(row.try_get::<Option<i64>, _>(col)?.map(|s| s as u64)) };
    Ok(Some(Summary {
        count: count as u64,
        first_step: row.try_get::<i64, _>("first_step")? as u64,
        last_step: row.try_get::<i64, _>("last_step")? as u64,
        last: row.try_get::<Option<f64>, _>("last_value")?.unwrap_or(f64::NAN),
        min: row.try_get("min_value")?,
        min_step: step("min_step")?,
        max: row.try_get("max_value")?,
        max_step: step("max_step")?,
        best: row.try_get("best_value")?,
        best_step: step("best_step")?,
    }))
}

impl Store {
    /// The series of a run, ordered by task, split and name.
    pub async fn list_series(&self, run: RunId) -> Result<Vec<SeriesInfo>, StoreError> {
        let sql = format!(
            "SELECT s.id, s.run_id, s.task, s.split, s.name, s.goal, {SUMMARY_COLUMNS}
               FROM metric_series s LEFT JOIN metric_summaries m ON m.series_id = s.id
              WHERE s.run_id = ? ORDER BY s.task, s.split, s.name"
        );
        let rows = sqlx::query(&sql).bind(run.0).fetch_all(&self.pool).await?;
        rows.iter().map(series_info).collect::<Result<_, sqlx::Error>>().map_err(StoreError::from)
    }

    /// One series by its id.
    pub async fn series_info(&self, series: SeriesId) -> Result<SeriesInfo, StoreError> {
        let sql = format!(
            "SELECT s.id, s.run_id, s.task, s.split, s.name, s.goal, {SUMMARY_COLUMNS}
               FROM metric_series s LEFT JOIN metric_summaries m ON m.series_id = s.id WHERE s.id = ?"
        );
        let row = sqlx::query(&sql).bind(series.0).fetch_optional(&self.pool).await?;
        let row = row.ok_or(StoreError::NoSuchSeries(series.0))?;
        Ok(series_info(&row)?)
    }

    /// The id of a run's series, if it has one.
    pub async fn find_series(&self, run: RunId, key: &SeriesKey) -> Result<Option<SeriesId>, StoreError> {
        let id: Option<i64> =
            sqlx::query_scalar("SELECT id FROM metric_series WHERE run_id = ? AND task = ? AND split = ? AND name = ?")
                .bind(run.0)
                .bind(key.stored_task())
                .bind(&key.split)
                .bind(&key.name)
                .fetch_optional(&self.pool)
                .await?;
        Ok(id.map(SeriesId))
    }
}

fn series_info(row: &SqliteRow) -> Result<SeriesInfo, sqlx::Error> {
    let task: String = row.try_get("task")?;
    let goal: String = row.try_get("goal")?;
    Ok(SeriesInfo {
        id: SeriesId(row.try_get("id")?),
        run: RunId(row.try_get("run_id")?),
        key: SeriesKey { task: (!task.is_empty()).then_some(task), split: row.try_get("split")?, name: row.try_get("name")? },
        goal: MetricGoal::from_stored(&goal),
        summary: summary_from_row(row)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_is_maximised_and_loss_minimised() {
        assert_eq!(MetricGoal::for_name("accuracy"), MetricGoal::Max);
        assert_eq!(MetricGoal::for_name("f1"), MetricGoal::Max);
        assert_eq!(MetricGoal::for_name("loss"), MetricGoal::Min);
        assert_eq!(MetricGoal::for_name("lr"), MetricGoal::Min);
    }
}
