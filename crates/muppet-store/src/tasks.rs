//! Tasks a run trains on: the tasks of a pre-finetuning mixture, or the one
//! downstream task of a fine-tune. Task names are shared across runs.

use muppet_core::RunId;
use sqlx::{Sqlite, Transaction};

use crate::{Store, StoreError};

impl Store {
    /// Record that `run` trains on `task` (created if new). Idempotent.
    pub async fn add_run_task(&self, run: RunId, task: &str) -> Result<(), StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        add_run_task(&mut tx, run, task).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The tasks of a run, by name.
    pub async fn run_tasks(&self, run: RunId) -> Result<Vec<String>, StoreError> {
        let names = sqlx::query_scalar(
            "SELECT t.name FROM run_tasks x JOIN tasks t ON t.id = x.task_id WHERE x.run_id = ? ORDER BY t.name",
        )
        .bind(run.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(names)
    }
}

pub(crate) async fn add_run_task(tx: &mut Transaction<'_, Sqlite>, run: RunId, task: &str) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO tasks (name) VALUES (?) ON CONFLICT (name) DO NOTHING").bind(task).execute(&mut **tx).await?;
    sqlx::query("INSERT OR IGNORE INTO run_tasks (run_id, task_id) SELECT ?, id FROM tasks WHERE name = ?")
        .bind(run.0)
        .bind(task)
        .execute(&mut **tx)
        .await
        .map_err(|e| crate::foreign_key::or_missing_run(e, run))?;
    Ok(())
}
