//! Checkpoints a run wrote under `runs/<id>/`, registered with their size and
//! SHA-256 so that an export or a resume can check the file is the one written.

use std::path::PathBuf;

use muppet_core::RunId;
use serde::Serialize;

use crate::{Store, StoreError};

/// A checkpoint file of a run at a step. At most one per (run, step): registering
/// the same step again replaces the record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Checkpoint {
    pub run: RunId,
    pub path: PathBuf,
    pub step: u64,
    pub bytes: u64,
    /// Lower-case hex, 64 characters.
    pub sha256: String,
}

impl Store {
    /// Register a checkpoint.
    pub async fn add_checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), StoreError> {
        let mut connection = self.pool.acquire().await?;
        insert_checkpoint(&mut connection, checkpoint).await
    }

    /// Forget the checkpoints of `run` whose file is gone (deleted by a `keep_checkpoints`
    /// limit, or by hand); returns their steps.
    pub async fn forget_missing_checkpoints(&self, run: RunId) -> Result<Vec<u64>, StoreError> {
        let mut gone = Vec::new();
        for c in self.checkpoints(run).await? {
            if !c.path.exists() {
                sqlx::query("DELETE FROM checkpoints WHERE run_id = ? AND step = ?").bind(run.0).bind(c.step as i64).execute(&self.pool).await?;
                gone.push(c.step);
            }
        }
        Ok(gone)
    }

    /// The checkpoint of `run` at `step`, or its last one; refused naming the steps it has.
    pub async fn checkpoint_at(&self, run: RunId, step: Option<u64>) -> Result<Checkpoint, StoreError> {
        let checkpoints = self.checkpoints(run).await?;
        let chosen = match step {
            Some(step) => checkpoints.iter().find(|c| c.step == step),
            None => checkpoints.iter().max_by_key(|c| c.step),
        };
        chosen.cloned().ok_or_else(|| {
            let have: Vec<String> = checkpoints.iter().map(|c| c.step.to_string()).collect();
            let at = step.map(|s| format!(" at step {s}")).unwrap_or_default();
            StoreError::Refused(format!("run {run} has no checkpoint{at}; its checkpoints are at steps [{}]", have.join(", ")))
        })
    }

    /// The checkpoints of a run, by step.
    pub async fn checkpoints(&self, run: RunId) -> Result<Vec<Checkpoint>, StoreError> {
        let rows: Vec<(String, i64, i64, String)> =
            sqlx::query_as("SELECT path, step, bytes, sha256 FROM checkpoints WHERE run_id = ? ORDER BY step")
                .bind(run.0)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(path, step, bytes, sha256)| Checkpoint { run, path: PathBuf::from(path), step: step as u64, bytes: bytes as u64, sha256 })
            .collect())
    }
}

/// Register `checkpoint` on `connection` (a transaction's, or the pool's).
pub(crate) async fn insert_checkpoint(connection: &mut sqlx::SqliteConnection, checkpoint: &Checkpoint) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO checkpoints (run_id, path, step, bytes, sha256) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (run_id, step) DO UPDATE SET path = excluded.path, bytes = excluded.bytes,
             sha256 = excluded.sha256, created_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
    )
    .bind(checkpoint.run.0)
    .bind(checkpoint.path.to_string_lossy())
    .bind(checkpoint.step as i64)
    .bind(checkpoint.bytes as i64)
    .bind(checkpoint.sha256.to_ascii_lowercase())
    .execute(&mut *connection)
    .await
    .map_err(|e| crate::foreign_key::or_missing_run(e, checkpoint.run))?;
    Ok(())
}
