//! Runs: creation with lineage (git commit, parent, experiment, tasks, tags),
//! life cycle, and the plain list of runs.

use muppet_core::{RunId, RunKind, RunStatus};
use serde::Serialize;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite, Transaction};

use crate::experiments::ExperimentId;
use crate::{Store, StoreError};

/// What is known of a run when it starts.
#[derive(Debug, Clone)]
pub struct NewRun {
    pub name: String,
    pub kind: RunKind,
    /// The full run specification, stored as given; parameter filters and
    /// comparisons read it with JSON paths.
    pub spec: serde_json::Value,
    pub seed: Option<u64>,
    pub backend: String,
    pub device: String,
}

/// Where a run comes from, beyond its spec. Everything is optional.
#[derive(Debug, Clone, Default)]
pub struct RunOrigin {
    /// Commit of the code that runs it, when known.
    pub git_commit: Option<String>,
    /// The pre-finetuned run a fine-tune starts from.
    pub parent: Option<RunId>,
    pub experiment: Option<ExperimentId>,
    /// Names of the tasks it trains on (created if new).
    pub tasks: Vec<String>,
    pub tags: Vec<String>,
    /// A note kept with the run from its start (what it is for).
    pub note: Option<String>,
    /// More notes stored with it, after `note` (the warnings of its launch): in the same
    /// transaction, so that a run is never stored without them.
    pub notes: Vec<String>,
    /// Register the run as `queued` (a worker will start it) rather than `running`.
    pub queued: bool,
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
    pub git_commit: Option<String>,
    pub parent: Option<RunId>,
    pub experiment: Option<ExperimentId>,
}

/// The select list that [`run_row`] reads, for `runs` aliased `r`. Point counts
/// and the last loss come from the series summaries, never from raw points.
pub(crate) const RUN_COLUMNS: &str = "r.id, r.name, r.kind, r.status, r.backend, r.device, r.started_at, r.ended_at,
    r.failure, r.git_commit, r.parent_run_id, r.experiment_id,
    (SELECT coalesce(sum(m.count), 0) FROM metric_series s JOIN metric_summaries m ON m.series_id = s.id
      WHERE s.run_id = r.id) AS points,
    (SELECT m.last_value FROM metric_series s JOIN metric_summaries m ON m.series_id = s.id
      WHERE s.run_id = r.id AND s.task = '' AND s.split = 'train' AND s.name = 'loss') AS last_loss";

impl Store {
    /// Register a run as `running` and return its id.
    pub async fn create_run(&self, run: &NewRun) -> Result<RunId, StoreError> {
        self.create_run_in(run, &RunOrigin::default()).await
    }

    /// Register a run as `running` (or `queued`) with its origin, in one transaction.
    pub async fn create_run_in(&self, run: &NewRun, origin: &RunOrigin) -> Result<RunId, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        if let Some(parent) = origin.parent {
            exists(&mut tx, "SELECT count(*) FROM runs WHERE id = ?", parent.0).await?.then_some(()).ok_or(StoreError::NoSuchRun(parent.0))?;
        }
        if let Some(experiment) = origin.experiment {
            exists(&mut tx, "SELECT count(*) FROM experiments WHERE id = ?", experiment.0)
                .await?
                .then_some(())
                .ok_or(StoreError::NoSuchExperiment(experiment.0))?;
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO runs (name, kind, status, spec_json, seed, app_version, backend, device,
                               git_commit, parent_run_id, experiment_id)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(&run.name)
        .bind(run.kind.as_str())
        .bind(if origin.queued { "queued" } else { "running" })
        .bind(run.spec.to_string())
        .bind(run.seed.map(|s| s as i64))
        .bind(env!("CARGO_PKG_VERSION"))
        .bind(&run.backend)
        .bind(&run.device)
        .bind(&origin.git_commit)
        .bind(origin.parent.map(|p| p.0))
        .bind(origin.experiment.map(|e| e.0))
        .fetch_one(&mut *tx)
        .await?;
        for task in &origin.tasks {
            crate::tasks::add_run_task(&mut tx, RunId(id), task).await?;
        }
        for tag in &origin.tags {
            crate::tags::add_run_tag(&mut tx, RunId(id), tag).await?;
        }
        for note in origin.note.iter().chain(&origin.notes) {
            sqlx::query("INSERT INTO notes (run_id, body) VALUES (?, ?)").bind(id).bind(note).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(RunId(id))
    }

    /// Rename a run (trimmed; not empty). A run of an experiment keeps its name: the
    /// experiment finds its runs by name, and would train a renamed one again.
    pub async fn rename_run(&self, id: RunId, name: &str) -> Result<(), StoreError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(StoreError::Refused(format!("run {id} needs a name: type one")));
        }
        if let Some(experiment) = self.run(id).await?.experiment {
            return Err(StoreError::Refused(format!(
                "run {id} belongs to experiment {}, which finds its runs by name: it keeps its name (tag it or add a note instead)",
                experiment.0
            )));
        }
        self.update_run(id, sqlx::query("UPDATE runs SET name = ? WHERE id = ?").bind(name)).await
    }

    /// Mark a run finished with `status`; `failure` explains a failed run.
    pub async fn end_run(&self, id: RunId, status: RunStatus, failure: Option<&str>) -> Result<(), StoreError> {
        self.update_run(
            id,
            sqlx::query("UPDATE runs SET status = ?, failure = ?, ended_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?")
                .bind(status.as_str())
                .bind(failure),
        )
        .await
    }

    /// Put a stopped run back to `running` (on resume): its end time and failure are cleared.
    pub async fn reopen_run(&self, id: RunId) -> Result<(), StoreError> {
        self.update_run(id, sqlx::query("UPDATE runs SET status = 'running', failure = NULL, ended_at = NULL WHERE id = ?")).await
    }

    /// Run an UPDATE whose last parameter is the run id; an unknown run is an error.
    async fn update_run<'q>(&self, id: RunId, query: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>) -> Result<(), StoreError> {
        let done = query.bind(id.0).execute(&self.pool).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NoSuchRun(id.0));
        }
        Ok(())
    }

    /// Every run, newest first, with its point count.
    pub async fn list_runs(&self) -> Result<Vec<RunRow>, StoreError> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM runs r ORDER BY r.id DESC");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(run_row).collect()
    }

    /// One run.
    pub async fn run(&self, id: RunId) -> Result<RunRow, StoreError> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM runs r WHERE r.id = ?");
        let row = sqlx::query(&sql).bind(id.0).fetch_optional(&self.pool).await?;
        run_row(&row.ok_or(StoreError::NoSuchRun(id.0))?)
    }

    /// The specification a run was created with.
    pub async fn run_spec(&self, id: RunId) -> Result<serde_json::Value, StoreError> {
        let text: Option<String> = sqlx::query_scalar("SELECT spec_json FROM runs WHERE id = ?").bind(id.0).fetch_optional(&self.pool).await?;
        let text = text.ok_or(StoreError::NoSuchRun(id.0))?;
        serde_json::from_str(&text).map_err(|source| StoreError::BadSpec { run: id.0, source })
    }
}

async fn exists(tx: &mut Transaction<'_, Sqlite>, sql: &str, id: i64) -> Result<bool, StoreError> {
    let n: i64 = sqlx::query_scalar(sql).bind(id).fetch_one(&mut **tx).await?;
    Ok(n > 0)
}

pub(crate) fn run_row(row: &SqliteRow) -> Result<RunRow, StoreError> {
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
        git_commit: row.try_get("git_commit")?,
        parent: row.try_get::<Option<i64>, _>("parent_run_id")?.map(RunId),
        experiment: row.try_get::<Option<i64>, _>("experiment_id")?.map(ExperimentId),
    })
}
