//! How far runs have got, and the step -> (examples, seconds) axis of a run, for the
//! desktop app: its runs table shows progress, its charts put examples or wall time on x.
//! Both read summaries and one series' points, never every point of a run.

use muppet_core::RunId;
use serde::Serialize;

use crate::{Store, StoreError};

/// Steps done out of the steps planned, for one run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RunProgress {
    pub run: RunId,
    /// `config.steps` of the run's spec, when the spec has one.
    pub total_steps: Option<u64>,
    /// Last step of the run-wide training loss, when it has points.
    pub last_step: Option<u64>,
}

/// A point of a run's step axis: at `step`, `examples` had been seen after `wall_s` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AxisPoint {
    pub step: u64,
    pub examples: u64,
    pub wall_s: f64,
}

impl Store {
    /// Progress of every run, newest first.
    pub async fn run_progress(&self) -> Result<Vec<RunProgress>, StoreError> {
        self.progress_of(None).await
    }

    /// Progress of one run (`muppet runs watch` reads it each tick); none for a run not stored.
    pub async fn run_progress_of(&self, run: RunId) -> Result<Option<RunProgress>, StoreError> {
        Ok(self.progress_of(Some(run)).await?.pop())
    }

    /// Progress of `run`, or of every run, newest first.
    async fn progress_of(&self, run: Option<RunId>) -> Result<Vec<RunProgress>, StoreError> {
        let rows: Vec<(i64, Option<i64>, Option<i64>)> = sqlx::query_as(
            "SELECT r.id,
                    CASE WHEN json_valid(r.spec_json) THEN json_extract(r.spec_json, '$.config.steps') END,
                    (SELECT m.last_step FROM metric_series s JOIN metric_summaries m ON m.series_id = s.id
                      WHERE s.run_id = r.id AND s.task = '' AND s.split = 'train' AND s.name = 'loss')
               FROM runs r WHERE ?1 IS NULL OR r.id = ?1 ORDER BY r.id DESC",
        )
        .bind(run.map(|r| r.0))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, total, last)| RunProgress {
                run: RunId(id),
                total_steps: total.and_then(|t| u64::try_from(t).ok()),
                last_step: last.and_then(|s| u64::try_from(s).ok()),
            })
            .collect())
    }

    /// The step axis of a run, read from its run-wide training loss: at most about
    /// `max_points` points, evenly strided, the last point always included. Empty when
    /// the run has no training loss yet.
    pub async fn step_axis(&self, run: RunId, max_points: usize) -> Result<Vec<AxisPoint>, StoreError> {
        let count: Option<i64> = sqlx::query_scalar(
            "SELECT m.count FROM metric_series s JOIN metric_summaries m ON m.series_id = s.id
              WHERE s.run_id = ? AND s.task = '' AND s.split = 'train' AND s.name = 'loss'",
        )
        .bind(run.0)
        .fetch_optional(&self.pool)
        .await?;
        let Some(count) = count.filter(|&n| n > 0) else { return Ok(Vec::new()) };
        let stride = (count as u64).div_ceil(max_points.max(1) as u64).max(1) as i64;
        let rows: Vec<(i64, i64, f64)> = sqlx::query_as(
            "SELECT step, examples, wall_s FROM (
                 SELECT p.step, p.examples, p.wall_s, row_number() OVER (ORDER BY p.step) - 1 AS i
                   FROM metric_series s JOIN metric_points p ON p.series_id = s.id
                  WHERE s.run_id = ? AND s.task = '' AND s.split = 'train' AND s.name = 'loss')
              WHERE i % ? = 0 OR i = ? - 1 ORDER BY step",
        )
        .bind(run.0)
        .bind(stride)
        .bind(count)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(step, examples, wall_s)| AxisPoint { step: step as u64, examples: examples as u64, wall_s })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use muppet_core::{MetricPoint, RunKind};

    use super::*;
    use crate::{NewRun, RunOrigin};

    fn loss(step: u64) -> MetricPoint {
        MetricPoint { task: None, split: "train".into(), name: "loss".into(), step, examples: step * 8, wall_s: step as f64 * 0.5, value: 1.0 }
    }

    #[tokio::test]
    async fn progress_and_axis_come_from_the_spec_and_the_training_loss() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("muppet.db")).await.expect("open");
        let new_run = |spec: serde_json::Value| NewRun {
            name: "r".into(),
            kind: RunKind::PreFinetune,
            spec,
            seed: None,
            backend: "flex".into(),
            device: "cpu".into(),
        };
        let planned = store.create_run_in(&new_run(serde_json::json!({"config": {"steps": 30}})), &RunOrigin::default()).await.expect("run");
        let bare = store.create_run(&new_run(serde_json::json!({}))).await.expect("run");
        let points: Vec<MetricPoint> = (1..=10).map(loss).collect();
        store.record_points(planned, &points).await.expect("points");

        let progress = store.run_progress().await.expect("progress");
        assert_eq!(
            progress,
            vec![
                RunProgress { run: bare, total_steps: None, last_step: None },
                RunProgress { run: planned, total_steps: Some(30), last_step: Some(10) },
            ]
        );

        assert_eq!(store.run_progress_of(planned).await.expect("one run"), Some(progress[1]));
        assert_eq!(store.run_progress_of(RunId(99)).await.expect("no run"), None);

        let axis = store.step_axis(planned, 4).await.expect("axis");
        let steps: Vec<u64> = axis.iter().map(|p| p.step).collect();
        assert_eq!(steps, vec![1, 4, 7, 10], "every third point and the last");
        assert_eq!(axis[3], AxisPoint { step: 10, examples: 80, wall_s: 5.0 });
        assert_eq!(store.step_axis(planned, 100).await.expect("axis").len(), 10);
        assert!(store.step_axis(bare, 10).await.expect("axis").is_empty());
    }
}
