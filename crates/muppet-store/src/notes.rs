//! Notes: free text a researcher attaches to a run or an experiment.

use muppet_core::RunId;
use serde::Serialize;

use crate::experiments::ExperimentId;
use crate::{Store, StoreError};

/// What a note is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoteTarget {
    Run(RunId),
    Experiment(ExperimentId),
}

/// A stored note.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Note {
    pub id: i64,
    pub target: NoteTarget,
    pub body: String,
    pub created_at: String,
}

impl NoteTarget {
    fn ids(self) -> (Option<i64>, Option<i64>) {
        match self {
            NoteTarget::Run(r) => (Some(r.0), None),
            NoteTarget::Experiment(e) => (None, Some(e.0)),
        }
    }
}

impl Store {
    /// Attach a note; returns its id.
    pub async fn add_note(&self, target: NoteTarget, body: &str) -> Result<i64, StoreError> {
        let (run, experiment) = target.ids();
        let id = sqlx::query_scalar("INSERT INTO notes (run_id, experiment_id, body) VALUES (?, ?, ?) RETURNING id")
            .bind(run)
            .bind(experiment)
            .bind(body)
            .fetch_one(&self.pool)
            .await
            .map_err(|e| match target {
                NoteTarget::Run(r) => crate::foreign_key::or_missing_run(e, r),
                NoteTarget::Experiment(x) => match &e {
                    sqlx::Error::Database(d) if d.kind() == sqlx::error::ErrorKind::ForeignKeyViolation => StoreError::NoSuchExperiment(x.0),
                    _ => StoreError::Query(e),
                },
            })?;
        Ok(id)
    }

    /// The notes of a run or experiment, oldest first.
    pub async fn notes(&self, target: NoteTarget) -> Result<Vec<Note>, StoreError> {
        let (run, experiment) = target.ids();
        let rows: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT id, body, created_at FROM notes WHERE run_id IS ? AND experiment_id IS ? ORDER BY id",
        )
        .bind(run)
        .bind(experiment)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(id, body, created_at)| Note { id, target, body, created_at }).collect())
    }
}
