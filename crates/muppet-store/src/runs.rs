//! Runs: creation, life cycle and the runs table.

use muppet_core::{RunId, RunKind, RunStatus};
use serde::Serialize;
use sqlx::Row;

use crate::{Store, StoreError};

/// What is known of a run when it starts.
#[derive(Debug, Clone)]
pub struct NewRun {
    pub name: String,
    pub kind: RunKind,
    /// The full run specification, stored as given.
    pub spec: serde_json::Value,
    pub seed: Option<u64>,
    pub backend: String,
    pub device: String,
}

/// One row of the runs table, as the CLI and the app show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRow {
    pub id: RunId,
    pub name: String,
    pub kind: RunKind,
    pub status: RunStatus,
    pub backend: Option<String>,
    pub device: Option<String>,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub failure: Option<String>,
    /// Number of metric points stored for the run.
    pub points: i64,
    /// Last value of the run-wide training loss, if any.
    pub last_loss: Option<f64>,
}

impl Store {
    /// Register a run as `running` and return its id.
    pub async fn create_run(&self, run: &NewRun) -> Result<RunId, StoreError> {
        let seed = run.seed.map(|s| s as i64);
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO runs (name, kind, status, spec_json, seed, app_version, backend, device)
             VALUES (?, ?, 'running', ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(&run.name)
        .bind(run.kind.as_str())
        .bind(run.spec.to_string())
        .bind(seed)
        .bind(env!("CARGO_PKG_VERSION"))
        .bind(&run.backend)
        .bind(&run.device)
        .fetch_one(&self.pool)
        .await?;
        Ok(RunId(id))
    }

    /// Mark a run finished with `status`; `failure` explains a failed run.
    pub async fn end_run(&self, id: RunId, status: RunStatus, failure: Option<&str>) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE runs SET status = ?, failure = ?, ended_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?",
        )
        .bind(status.as_str())
        .bind(failure)
        .bind(id.0)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NoSuchRun(id.0));
        }
        Ok(())
    }

    /// Every run, newest first, with its point count.
    pub async fn list_runs(&self) -> Result<Vec<RunRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT r.id, r.name, r.kind, r.status, r.backend, r.device, r.started_at, r.ended_at, r.failure,
                    (SELECT COUNT(*) FROM metric_points p JOIN metric_series s ON s.id = p.series_id
                      WHERE s.run_id = r.id) AS points,
                    (SELECT p.value FROM metric_points p JOIN metric_series s ON s.id = p.series_id
                      WHERE s.run_id = r.id AND s.task = '' AND s.split = 'train' AND s.name = 'loss'
                      ORDER BY p.step DESC LIMIT 1) AS last_loss
             FROM runs r ORDER BY r.id DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(run_row).collect()
    }
}

fn run_row(row: sqlx::sqlite::SqliteRow) -> Result<RunRow, StoreError> {
    let id: i64 = row.try_get("id")?;
    let parse_err = |value: String| move |source| StoreError::BadValue { run: id, value, source };
    let kind: String = row.try_get("kind")?;
    let status: String = row.try_get("status")?;
    Ok(RunRow {
        id: RunId(id),
        name: row.try_get("name")?,
        kind: kind.parse().map_err(parse_err(kind.clone()))?,
        status: status.parse().map_err(parse_err(status.clone()))?,
        backend: row.try_get("backend")?,
        device: row.try_get("device")?,
        started_at: row.try_get("started_at")?,
        ended_at: row.try_get("ended_at")?,
        failure: row.try_get("failure")?,
        points: row.try_get("points")?,
        last_loss: row.try_get("last_loss")?,
    })
}
