//! Metric points: batched ingest, one transaction per batch.

use std::collections::HashMap;

use muppet_core::{MetricPoint, RunId};
use sqlx::{QueryBuilder, Sqlite, Transaction};

use crate::{Store, StoreError};

/// Rows per multi-row INSERT (SQLite's bound-parameter limit is 32,766; 5 per row).
const ROWS_PER_INSERT: usize = 500;

impl Store {
    /// Store `points` of run `run` in one transaction. A point whose (series, step)
    /// is already stored replaces it, so replaying a batch after a crash stores
    /// each point once.
    pub async fn record_points(&self, run: RunId, points: &[MetricPoint]) -> Result<(), StoreError> {
        if points.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        let mut series: HashMap<(&str, &str, &str), i64> = HashMap::new();
        for p in points {
            let key = (p.task.as_deref().unwrap_or(""), p.split.as_str(), p.name.as_str());
            if !series.contains_key(&key) {
                let id = series_id(&mut tx, run, key).await?;
                series.insert(key, id);
            }
        }
        for chunk in points.chunks(ROWS_PER_INSERT) {
            let mut insert: QueryBuilder<Sqlite> =
                QueryBuilder::new("INSERT OR REPLACE INTO metric_points (series_id, step, examples, wall_s, value) ");
            insert.push_values(chunk, |mut row, p| {
                let key = (p.task.as_deref().unwrap_or(""), p.split.as_str(), p.name.as_str());
                row.push_bind(series[&key])
                    .push_bind(p.step as i64)
                    .push_bind(p.examples as i64)
                    .push_bind(p.wall_s)
                    .push_bind(p.value);
            });
            insert.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The points of one series of a run, in step order: (step, value).
    pub async fn series(&self, run: RunId, task: Option<&str>, split: &str, name: &str) -> Result<Vec<(u64, f64)>, StoreError> {
        let rows: Vec<(i64, f64)> = sqlx::query_as(
            "SELECT p.step, p.value FROM metric_points p JOIN metric_series s ON s.id = p.series_id
             WHERE s.run_id = ? AND s.task = ? AND s.split = ? AND s.name = ? ORDER BY p.step",
        )
        .bind(run.0)
        .bind(task.unwrap_or(""))
        .bind(split)
        .bind(name)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(s, v)| (s as u64, v)).collect())
    }
}

async fn series_id(tx: &mut Transaction<'_, Sqlite>, run: RunId, (task, split, name): (&str, &str, &str)) -> Result<i64, StoreError> {
    sqlx::query("INSERT OR IGNORE INTO metric_series (run_id, task, split, name) VALUES (?, ?, ?, ?)")
        .bind(run.0)
        .bind(task)
        .bind(split)
        .bind(name)
        .execute(&mut **tx)
        .await?;
    let id = sqlx::query_scalar("SELECT id FROM metric_series WHERE run_id = ? AND task = ? AND split = ? AND name = ?")
        .bind(run.0)
        .bind(task)
        .bind(split)
        .bind(name)
        .fetch_one(&mut **tx)
        .await?;
    Ok(id)
}
