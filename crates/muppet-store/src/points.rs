//! Metric points: batched ingest, one transaction per batch, in which the
//! series' summaries and rollups are brought up to date with the points.

use std::collections::HashMap;

use muppet_core::{MetricPoint, RunId};
use sqlx::{Sqlite, Transaction};

use crate::rollup::{FANOUT_SHIFT, RollupRow, SHIFTS, fold_rollups, fold_summary};
use crate::series::{MetricGoal, SUMMARY_COLUMNS, SeriesId, Summary, summary_from_row};
use crate::{Store, StoreError};

/// A stored point of a series with where its run was: its update, the training examples
/// seen and the seconds since the run started (NaN value: stored as NULL).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeriesPoint {
    pub step: u64,
    pub examples: u64,
    pub wall_s: f64,
    pub value: f64,
}

/// Rows per multi-row INSERT: 500 rows of at most 11 columns stay far below
/// SQLite's 32,766 bound parameters; 100- and 2,000-row statements ingested
/// at the same rate (the cost is SQLite's B-tree work, not binding).
const ROWS_PER_INSERT: usize = 500;

/// The points of one series in a batch, in step order, one per step.
struct SeriesBatch<'a> {
    task: &'a str,
    split: &'a str,
    name: &'a str,
    points: Vec<&'a MetricPoint>,
}

/// A series as stored before the batch.
struct StoredSeries {
    id: i64,
    goal: MetricGoal,
    summary: Option<Summary>,
}

impl Store {
    /// Store `points` of run `run` in one transaction, with the summaries and
    /// rollups of their series. A point whose (series, step) is already stored
    /// replaces it (so replaying a batch after a crash stores each point once);
    /// within a batch the last point of a step wins.
    pub async fn record_points(&self, run: RunId, points: &[MetricPoint]) -> Result<(), StoreError> {
        if points.is_empty() {
            return Ok(());
        }
        // IMMEDIATE takes the write lock up front, waiting under the busy timeout;
        // a deferred transaction that read first could fail with "database is locked"
        // when another process committed in between.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        record_points_in(&mut tx, run, points).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The points of one series of a run, in step order: (step, value). A NaN
    /// value reads back as NaN.
    pub async fn series(&self, run: RunId, task: Option<&str>, split: &str, name: &str) -> Result<Vec<(u64, f64)>, StoreError> {
        let rows: Vec<(i64, Option<f64>)> = sqlx::query_as(
            "SELECT p.step, p.value FROM metric_points p JOIN metric_series s ON s.id = p.series_id
             WHERE s.run_id = ? AND s.task = ? AND s.split = ? AND s.name = ? ORDER BY p.step",
        )
        .bind(run.0)
        .bind(task.unwrap_or(""))
        .bind(split)
        .bind(name)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(s, v)| (s as u64, v.unwrap_or(f64::NAN))).collect())
    }

    /// Every point of series `series` in step order, with where its run was at each: the
    /// training examples seen and the seconds since it started (`muppet runs chart --x`).
    pub async fn series_points(&self, series: SeriesId) -> Result<Vec<SeriesPoint>, StoreError> {
        let rows: Vec<(i64, i64, f64, Option<f64>)> =
            sqlx::query_as("SELECT step, examples, wall_s, value FROM metric_points WHERE series_id = ? ORDER BY step")
                .bind(series.0)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(step, examples, wall_s, value)| SeriesPoint { step: step as u64, examples: examples.max(0) as u64, wall_s, value: value.unwrap_or(f64::NAN) })
            .collect())
    }

    /// How far run `run` was at update `step`: the training examples seen and the seconds
    /// since it started, from its training points at that step (`None` when it recorded
    /// none there). Figures computed later for a checkpoint (`muppet eval`) are stored at
    /// the place of the checkpoint's step.
    pub async fn progress_at(&self, run: RunId, step: u64) -> Result<Option<(u64, f64)>, StoreError> {
        let row: Option<(i64, f64)> = sqlx::query_as(
            "SELECT p.examples, p.wall_s FROM metric_points p JOIN metric_series s ON s.id = p.series_id
             WHERE s.run_id = ? AND s.split = 'train' AND p.step = ? ORDER BY p.examples DESC LIMIT 1",
        )
        .bind(run.0)
        .bind(step as i64)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(examples, wall_s)| (examples as u64, wall_s)))
    }
}

/// [`Store::record_points`] inside a transaction the caller commits.
pub(crate) async fn record_points_in(tx: &mut Transaction<'_, Sqlite>, run: RunId, points: &[MetricPoint]) -> Result<(), StoreError> {
    if points.is_empty() {
        return Ok(());
    }
    let batches = group_by_series(points);
    let stored = ensure_series(tx, run, &batches).await?;
        insert_points(tx, &batches, &stored).await?;

        let mut summaries = Vec::new();
        let mut rollups = Vec::new();
        let mut merged = Vec::new();
        for (batch, series) in batches.iter().zip(&stored) {
            let steps: Vec<(u64, f64)> = batch.points.iter().map(|p| (p.step, p.value)).collect();
            let first = steps.first().map_or(0, |s| s.0);
            let appends = series.summary.as_ref().is_none_or(|s| first > s.last_step);
            if appends {
                if let Some(summary) = fold_summary(series.summary.as_ref(), series.goal, &steps) {
                    summaries.push((series.id, summary));
                }
                // Only the bucket holding the stored last step can exist already,
                // at each level; every other row is new and takes a plain INSERT.
                let old_last = series.summary.as_ref().map(|s| s.last_step);
                for r in fold_rollups(&steps) {
                    if old_last.is_some_and(|l| l >> r.shift == r.bucket) {
                        merged.push((series.id, r));
                    } else {
                        rollups.push((series.id, r));
                    }
                }
            } else {
                let last = steps.last().map_or(first, |s| s.0);
                rebuild_series(tx, series, first, last).await?;
            }
        }
        write_rollups(tx, &rollups, false).await?;
        write_rollups(tx, &merged, true).await?;
        write_summaries(tx, &summaries).await?;
    Ok(())
}


fn group_by_series(points: &[MetricPoint]) -> Vec<SeriesBatch<'_>> {
    let mut index: HashMap<(&str, &str, &str), usize> = HashMap::new();
    let mut batches: Vec<SeriesBatch<'_>> = Vec::new();
    for p in points {
        let key = (p.task.as_deref().unwrap_or(""), p.split.as_str(), p.name.as_str());
        let i = *index.entry(key).or_insert_with(|| {
            batches.push(SeriesBatch { task: key.0, split: key.1, name: key.2, points: Vec::new() });
            batches.len() - 1
        });
        batches[i].points.push(p);
    }
    for b in &mut batches {
        // Stable, and linear on the usual already-sorted batch.
        b.points.sort_by_key(|p| p.step);
        let mut unique: Vec<&MetricPoint> = Vec::with_capacity(b.points.len());
        for p in b.points.drain(..) {
            match unique.last_mut() {
                Some(last) if last.step == p.step => *last = p,
                _ => unique.push(p),
            }
        }
        b.points = unique;
    }
    batches
}

/// `rows` cut into statements of [`ROWS_PER_INSERT`] rows and then powers of two
/// (256, 128, ... 1). Every distinct row count is a distinct SQL text, which
/// sqlx prepares and caches per connection; a ragged last chunk of any length
/// would prepare a new statement (and evict a cached one) on almost every batch,
/// which made the rollup upsert cost as much as the points insert.
fn statement_chunks<T>(rows: &[T]) -> Vec<&[T]> {
    let mut out = Vec::new();
    let mut rest = rows;
    while rest.len() >= ROWS_PER_INSERT {
        let (head, tail) = rest.split_at(ROWS_PER_INSERT);
        out.push(head);
        rest = tail;
    }
    for bit in (0..usize::BITS).rev() {
        let size = 1usize << bit;
        if rest.len() & size != 0 {
            let (head, tail) = rest.split_at(size);
            out.push(head);
            rest = tail;
        }
    }
    out
}

/// `head` followed by `rows` groups of `arity` placeholders.
fn values_sql(head: &str, arity: usize, rows: usize, tail: &str) -> String {
    let group = format!("({})", vec!["?"; arity].join(","));
    let mut sql = String::with_capacity(head.len() + tail.len() + rows * (group.len() + 1));
    sql.push_str(head);
    sql.push_str(" VALUES ");
    for i in 0..rows {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str(&group);
    }
    sql.push_str(tail);
    sql
}

async fn ensure_series(tx: &mut Transaction<'_, Sqlite>, run: RunId, batches: &[SeriesBatch<'_>]) -> Result<Vec<StoredSeries>, StoreError> {
    for chunk in statement_chunks(batches) {
        let sql = values_sql(
            "INSERT INTO metric_series (run_id, task, split, name, goal)",
            5,
            chunk.len(),
            " ON CONFLICT (run_id, task, split, name) DO NOTHING",
        );
        let mut q = sqlx::query(&sql);
        for b in chunk {
            q = q.bind(run.0).bind(b.task).bind(b.split).bind(b.name).bind(MetricGoal::for_name(b.name).as_str());
        }
        q.execute(&mut **tx).await.map_err(|e| crate::foreign_key::or_missing_run(e, run))?;
    }
    let sql = format!(
        "SELECT s.id, s.task, s.split, s.name, s.goal, {SUMMARY_COLUMNS}
           FROM metric_series s LEFT JOIN metric_summaries m ON m.series_id = s.id WHERE s.run_id = ?"
    );
    let rows = sqlx::query(&sql).bind(run.0).fetch_all(&mut **tx).await?;
    let mut by_key: HashMap<(String, String, String), StoredSeries> = HashMap::with_capacity(rows.len());
    for row in &rows {
        use sqlx::Row;
        let goal: String = row.try_get("goal")?;
        let key = (row.try_get("task")?, row.try_get("split")?, row.try_get("name")?);
        let series = StoredSeries { id: row.try_get("id")?, goal: MetricGoal::from_stored(&goal), summary: summary_from_row(row)? };
        by_key.insert(key, series);
    }
    batches
        .iter()
        .map(|b| {
            // Just inserted or already there, inside this transaction: always present.
            by_key
                .remove(&(b.task.to_string(), b.split.to_string(), b.name.to_string()))
                .ok_or(StoreError::Query(sqlx::Error::RowNotFound))
        })
        .collect()
}

async fn insert_points(tx: &mut Transaction<'_, Sqlite>, batches: &[SeriesBatch<'_>], stored: &[StoredSeries]) -> Result<(), StoreError> {
    let rows: Vec<(i64, &MetricPoint)> =
        batches.iter().zip(stored).flat_map(|(b, s)| b.points.iter().map(move |p| (s.id, *p))).collect();
    for chunk in statement_chunks(&rows) {
        let sql = values_sql("INSERT OR REPLACE INTO metric_points (series_id, step, examples, wall_s, value)", 5, chunk.len(), "");
        let mut q = sqlx::query(&sql);
        for (series, p) in chunk {
            q = q.bind(*series).bind(p.step as i64).bind(p.examples as i64).bind(p.wall_s).bind(p.value);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Write the rollup rows a batch of appended points adds: as new rows, or
/// (`merge`) folded into stored buckets. The batch comes after everything
/// stored, so its last point is the bucket's last.
async fn write_rollups(tx: &mut Transaction<'_, Sqlite>, rows: &[(i64, RollupRow)], merge: bool) -> Result<(), StoreError> {
    // SQLite's two-argument min() is NULL when either is; coalesce keeps the other.
    let upsert = " ON CONFLICT (series_id, shift, bucket) DO UPDATE SET
        count = count + excluded.count,
        first_step = min(first_step, excluded.first_step),
        last_step = excluded.last_step,
        min_value = coalesce(min(min_value, excluded.min_value), min_value, excluded.min_value),
        max_value = coalesce(max(max_value, excluded.max_value), max_value, excluded.max_value),
        last_value = excluded.last_value";
    for chunk in statement_chunks(rows) {
        let sql = values_sql(
            "INSERT INTO metric_rollups (series_id, shift, bucket, count, first_step, last_step, min_value, max_value, last_value)",
            9,
            chunk.len(),
            if merge { upsert } else { "" },
        );
        let mut q = sqlx::query(&sql);
        for (series, r) in chunk {
            q = q
                .bind(*series)
                .bind(i64::from(r.shift))
                .bind(r.bucket as i64)
                .bind(r.count as i64)
                .bind(r.first_step as i64)
                .bind(r.last_step as i64)
                .bind(r.min)
                .bind(r.max)
                .bind(r.last);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

async fn write_summaries(tx: &mut Transaction<'_, Sqlite>, rows: &[(i64, Summary)]) -> Result<(), StoreError> {
    for chunk in statement_chunks(rows) {
        let sql = values_sql(
            "INSERT OR REPLACE INTO metric_summaries (series_id, count, first_step, last_step, last_value,
                min_value, min_step, max_value, max_step, best_value, best_step)",
            11,
            chunk.len(),
            "",
        );
        let mut q = sqlx::query(&sql);
        for (series, s) in chunk {
            q = q
                .bind(*series)
                .bind(s.count as i64)
                .bind(s.first_step as i64)
                .bind(s.last_step as i64)
                .bind(s.last)
                .bind(s.min)
                .bind(s.min_step.map(|v| v as i64))
                .bind(s.max)
                .bind(s.max_step.map(|v| v as i64))
                .bind(s.best)
                .bind(s.best_step.map(|v| v as i64));
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// After points landed at or before a series' last step (a replay, or late
/// points), recompute its summary from the raw points and the rollup buckets
/// that cover steps `first..=last`, each level from the one below.
async fn rebuild_series(tx: &mut Transaction<'_, Sqlite>, series: &StoredSeries, first: u64, last: u64) -> Result<(), StoreError> {
    let id = series.id;
    let (count, lo, hi, min, max): (i64, i64, i64, Option<f64>, Option<f64>) =
        sqlx::query_as("SELECT count(*), min(step), max(step), min(value), max(value) FROM metric_points WHERE series_id = ?")
            .bind(id)
            .fetch_one(&mut **tx)
            .await?;
    let last_value: Option<f64> = sqlx::query_scalar("SELECT value FROM metric_points WHERE series_id = ? AND step = ?")
        .bind(id)
        .bind(hi)
        .fetch_one(&mut **tx)
        .await?;
    let min_step = first_step_with(tx, id, min).await?;
    let max_step = first_step_with(tx, id, max).await?;
    let (best, best_step) = match series.goal {
        MetricGoal::Min => (min, min_step),
        MetricGoal::Max => (max, max_step),
    };
    let summary = Summary {
        count: count as u64,
        first_step: lo as u64,
        last_step: hi as u64,
        last: last_value.unwrap_or(f64::NAN),
        min,
        min_step,
        max,
        max_step,
        best,
        best_step,
    };
    write_summaries(tx, &[(id, summary)]).await?;

    let base = SHIFTS[0];
    sqlx::query(
        "INSERT OR REPLACE INTO metric_rollups (series_id, shift, bucket, count, first_step, last_step, min_value, max_value, last_value)
         SELECT a.series_id, ?, a.b, a.n, a.lo, a.hi, a.mn, a.mx,
                (SELECT p.value FROM metric_points p WHERE p.series_id = a.series_id AND p.step = a.hi)
           FROM (SELECT series_id, step >> ? AS b, count(*) AS n, min(step) AS lo, max(step) AS hi,
                        min(value) AS mn, max(value) AS mx
                   FROM metric_points WHERE series_id = ? AND step BETWEEN ? AND ? GROUP BY step >> ?) a",
    )
    .bind(i64::from(base))
    .bind(i64::from(base))
    .bind(id)
    .bind(((first >> base) << base) as i64)
    .bind((((last >> base) << base) | ((1 << base) - 1)) as i64)
    .bind(i64::from(base))
    .execute(&mut **tx)
    .await?;
    for pair in SHIFTS.windows(2) {
        let (child, shift) = (pair[0], pair[1]);
        let lo_child = (first >> shift) << FANOUT_SHIFT;
        let hi_child = ((last >> shift) << FANOUT_SHIFT) | ((1 << FANOUT_SHIFT) - 1);
        sqlx::query(
            "INSERT OR REPLACE INTO metric_rollups (series_id, shift, bucket, count, first_step, last_step, min_value, max_value, last_value)
             SELECT a.series_id, ?, a.b, a.n, a.lo, a.hi, a.mn, a.mx,
                    (SELECT r.last_value FROM metric_rollups r
                      WHERE r.series_id = a.series_id AND r.shift = ? AND r.bucket = a.hi >> ?)
               FROM (SELECT series_id, bucket >> ? AS b, sum(count) AS n, min(first_step) AS lo, max(last_step) AS hi,
                            min(min_value) AS mn, max(max_value) AS mx
                       FROM metric_rollups WHERE series_id = ? AND shift = ? AND bucket BETWEEN ? AND ?
                      GROUP BY bucket >> ?) a",
        )
        .bind(i64::from(shift))
        .bind(i64::from(child))
        .bind(i64::from(child))
        .bind(i64::from(FANOUT_SHIFT))
        .bind(id)
        .bind(i64::from(child))
        .bind(lo_child as i64)
        .bind(hi_child as i64)
        .bind(i64::from(FANOUT_SHIFT))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// The earliest step of series `id` holding `value`.
async fn first_step_with(tx: &mut Transaction<'_, Sqlite>, id: i64, value: Option<f64>) -> Result<Option<u64>, StoreError> {
    let Some(value) = value else { return Ok(None) };
    let step: i64 = sqlx::query_scalar("SELECT step FROM metric_points WHERE series_id = ? AND value = ? ORDER BY step LIMIT 1")
        .bind(id)
        .bind(value)
        .fetch_one(&mut **tx)
        .await?;
    Ok(Some(step as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(name: &str, step: u64, value: f64) -> MetricPoint {
        MetricPoint { task: None, split: "train".into(), name: name.into(), step, examples: step, wall_s: 0.0, value }
    }

    #[test]
    fn a_batch_is_grouped_per_series_sorted_and_the_last_point_of_a_step_wins() {
        let pts = [p("loss", 3, 0.3), p("acc", 1, 0.9), p("loss", 1, 0.1), p("loss", 3, 0.33)];
        let batches = group_by_series(&pts);
        assert_eq!(batches.len(), 2);
        assert_eq!(batches[0].name, "loss");
        let loss: Vec<(u64, f64)> = batches[0].points.iter().map(|p| (p.step, p.value)).collect();
        assert_eq!(loss, vec![(1, 0.1), (3, 0.33)]);
    }

    #[test]
    fn statements_come_in_few_sizes_and_cover_every_row() {
        let rows: Vec<u32> = (0..1_437).collect();
        let chunks = statement_chunks(&rows);
        let sizes: Vec<usize> = chunks.iter().map(|c| c.len()).collect();
        assert_eq!(sizes, vec![500, 500, 256, 128, 32, 16, 4, 1]);
        assert_eq!(chunks.concat(), rows);
        assert!(statement_chunks::<u32>(&[]).is_empty());
    }

    #[test]
    fn values_sql_has_one_group_per_row() {
        assert_eq!(values_sql("INSERT INTO t (a, b)", 2, 3, " X"), "INSERT INTO t (a, b) VALUES (?,?),(?,?),(?,?) X");
    }
}
