//! The stored result of the overlap check between tasks (inputs two tasks have in
//! common), for the UI and the CLI to read without loading every task's data again. A
//! check covers every available task and replaces the previous one in one transaction.

use serde::Serialize;

use crate::{Store, StoreError};

pub use muppet_core::task::CheckedTask;

/// `task` shares `shared` of its `inputs` distinct inputs with `other`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredOverlap {
    pub task: String,
    pub other: String,
    pub shared: i64,
    pub inputs: i64,
    pub percent: f64,
}

/// The last check: what it covered, when, and the pairs that share inputs (most shared
/// first within each task).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OverlapCheck {
    pub checked_at: Option<String>,
    pub tasks: Vec<CheckedTask>,
    pub overlaps: Vec<StoredOverlap>,
}

impl OverlapCheck {
    /// The overlaps of one task, or `None` when the check did not cover it.
    pub fn of(&self, task: &str) -> Option<Vec<&StoredOverlap>> {
        self.tasks.iter().any(|t| t.task == task).then(|| self.overlaps.iter().filter(|o| o.task == task).collect())
    }
}

impl Store {
    /// Replace the stored check by a new one. `overlaps` holds `(task, other, shared)`
    /// for ordered pairs of checked tasks with `shared > 0`.
    pub async fn replace_overlap_check(&self, tasks: &[CheckedTask], overlaps: &[(String, String, i64)]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query("DELETE FROM task_overlaps").execute(&mut *tx).await?;
        sqlx::query("DELETE FROM overlap_checks").execute(&mut *tx).await?;
        for t in tasks {
            sqlx::query("INSERT INTO overlap_checks (task, fingerprint, inputs) VALUES (?, ?, ?)")
                .bind(&t.task)
                .bind(&t.fingerprint)
                .bind(t.inputs)
                .execute(&mut *tx)
                .await?;
        }
        for (task, other, shared) in overlaps {
            sqlx::query("INSERT INTO task_overlaps (task, other, shared) VALUES (?, ?, ?)")
                .bind(task)
                .bind(other)
                .bind(shared)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The last overlap check (empty when none was made).
    pub async fn overlap_check(&self) -> Result<OverlapCheck, StoreError> {
        let checked: Vec<(String, String, i64, String)> =
            sqlx::query_as("SELECT task, fingerprint, inputs, checked_at FROM overlap_checks ORDER BY task").fetch_all(&self.pool).await?;
        let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
            "SELECT o.task, o.other, o.shared, c.inputs FROM task_overlaps o JOIN overlap_checks c ON c.task = o.task
             ORDER BY o.task, o.shared DESC, o.other",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(OverlapCheck {
            checked_at: checked.iter().map(|c| c.3.clone()).max(),
            tasks: checked.into_iter().map(|(task, fingerprint, inputs, _)| CheckedTask { task, fingerprint, inputs }).collect(),
            overlaps: rows
                .into_iter()
                .map(|(task, other, shared, inputs)| StoredOverlap { task, other, shared, inputs, percent: 100.0 * shared as f64 / inputs.max(1) as f64 })
                .collect(),
        })
    }
}
