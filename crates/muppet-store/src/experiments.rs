//! Experiments: named groups of runs (a sample-efficiency sweep, a task-count
//! ablation) with the specification that generated them.

use serde::Serialize;

use crate::runs::{run_row, RunRow, RUN_COLUMNS};
use crate::{Store, StoreError};

/// Database id of an experiment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ExperimentId(pub i64);

/// What is known of an experiment when it is created.
#[derive(Debug, Clone)]
pub struct NewExperiment {
    /// Unique name.
    pub name: String,
    /// e.g. `sample_efficiency`, `task_count`, `free`.
    pub kind: String,
    pub spec: serde_json::Value,
}

/// A stored experiment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Experiment {
    pub id: ExperimentId,
    pub name: String,
    pub kind: String,
    pub spec: serde_json::Value,
    pub created_at: String,
}

impl Store {
    /// Create an experiment; its name must be new.
    pub async fn create_experiment(&self, experiment: &NewExperiment) -> Result<ExperimentId, StoreError> {
        let id: i64 = sqlx::query_scalar("INSERT INTO experiments (name, kind, spec_json) VALUES (?, ?, ?) RETURNING id")
            .bind(&experiment.name)
            .bind(&experiment.kind)
            .bind(experiment.spec.to_string())
            .fetch_one(&self.pool)
            .await?;
        Ok(ExperimentId(id))
    }

    /// One experiment.
    pub async fn experiment(&self, id: ExperimentId) -> Result<Experiment, StoreError> {
        let row: Option<(i64, String, String, String, String)> =
            sqlx::query_as("SELECT id, name, kind, spec_json, created_at FROM experiments WHERE id = ?").bind(id.0).fetch_optional(&self.pool).await?;
        row.map(experiment).ok_or(StoreError::NoSuchExperiment(id.0))
    }

    /// The experiment of this name, if there is one.
    pub async fn experiment_named(&self, name: &str) -> Result<Option<Experiment>, StoreError> {
        let row: Option<(i64, String, String, String, String)> =
            sqlx::query_as("SELECT id, name, kind, spec_json, created_at FROM experiments WHERE name = ?").bind(name).fetch_optional(&self.pool).await?;
        Ok(row.map(experiment))
    }

    /// Replace an experiment's spec (a random search drawing more settings: its first
    /// settings, and so its runs, stay the same).
    pub async fn set_experiment_spec(&self, id: ExperimentId, spec: &serde_json::Value) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE experiments SET spec_json = ? WHERE id = ?").bind(spec.to_string()).bind(id.0).execute(&self.pool).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NoSuchExperiment(id.0));
        }
        Ok(())
    }

    /// Every run of an experiment, oldest first.
    pub async fn experiment_runs(&self, id: ExperimentId) -> Result<Vec<RunRow>, StoreError> {
        self.experiment(id).await?;
        let sql = format!("SELECT {RUN_COLUMNS} FROM runs r WHERE r.experiment_id = ? ORDER BY r.id");
        let rows = sqlx::query(&sql).bind(id.0).fetch_all(&self.pool).await?;
        rows.iter().map(run_row).collect()
    }

    /// Every experiment, newest first.
    pub async fn list_experiments(&self) -> Result<Vec<Experiment>, StoreError> {
        let rows: Vec<(i64, String, String, String, String)> =
            sqlx::query_as("SELECT id, name, kind, spec_json, created_at FROM experiments ORDER BY id DESC")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(experiment).collect())
    }
}

/// A row as an experiment. A spec that does not parse is kept as a JSON string rather
/// than hiding the experiment.
fn experiment((id, name, kind, spec, created_at): (i64, String, String, String, String)) -> Experiment {
    Experiment { id: ExperimentId(id), name, kind, spec: serde_json::from_str(&spec).unwrap_or(serde_json::Value::String(spec)), created_at }
}
