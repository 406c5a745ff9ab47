//! Tags: free labels on runs (`baseline`, `paper-fig-3`), used to filter the runs table.

use std::collections::HashMap;

use muppet_core::RunId;
use sqlx::{Sqlite, Transaction};

use crate::{Store, StoreError};

impl Store {
    /// Put `tag` on `run`. Idempotent.
    pub async fn tag_run(&self, run: RunId, tag: &str) -> Result<(), StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        add_run_tag(&mut tx, run, tag).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Take `tag` off `run`; returns whether it was there.
    pub async fn untag_run(&self, run: RunId, tag: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM run_tags WHERE run_id = ? AND tag_id = (SELECT id FROM tags WHERE name = ?)")
            .bind(run.0)
            .bind(tag)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The tags of a run, sorted.
    pub async fn run_tags(&self, run: RunId) -> Result<Vec<String>, StoreError> {
        let names = sqlx::query_scalar(
            "SELECT t.name FROM run_tags x JOIN tags t ON t.id = x.tag_id WHERE x.run_id = ? ORDER BY t.name",
        )
        .bind(run.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(names)
    }

    /// Every tagged run's tags, sorted (one query, for the runs table).
    pub async fn all_run_tags(&self) -> Result<HashMap<RunId, Vec<String>>, StoreError> {
        let rows: Vec<(i64, String)> =
            sqlx::query_as("SELECT x.run_id, t.name FROM run_tags x JOIN tags t ON t.id = x.tag_id ORDER BY x.run_id, t.name")
                .fetch_all(&self.pool)
                .await?;
        let mut out: HashMap<RunId, Vec<String>> = HashMap::new();
        for (run, tag) in rows {
            out.entry(RunId(run)).or_default().push(tag);
        }
        Ok(out)
    }
}

pub(crate) async fn add_run_tag(tx: &mut Transaction<'_, Sqlite>, run: RunId, tag: &str) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO tags (name) VALUES (?) ON CONFLICT (name) DO NOTHING").bind(tag).execute(&mut **tx).await?;
    sqlx::query("INSERT OR IGNORE INTO run_tags (run_id, tag_id) SELECT ?, id FROM tags WHERE name = ?")
        .bind(run.0)
        .bind(tag)
        .execute(&mut **tx)
        .await
        .map_err(|e| crate::foreign_key::or_missing_run(e, run))?;
    Ok(())
}
