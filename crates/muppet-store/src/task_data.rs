//! Imported tasks: their [`TaskSpec`], a fingerprint of their data and their
//! examples.
//!
//! The examples live in SQLite (`task_examples`, one canonical JSON line per
//! row) rather than in a file beside the database: an import is then one
//! transaction with the spec, so a failed or interrupted import leaves
//! nothing behind (no orphan file, no row pointing at a half-written one),
//! a re-import replaces the old data atomically, and deleting the task
//! cascades to its examples. Multi-row inserts keep a 50k-example import well
//! under a second. The store does not interpret the JSON: muppet-data owns the
//! example format and the fingerprint, and checks it on the way back.

use muppet_core::{Metric, TaskFamily, TaskSpec};
use sqlx::{QueryBuilder, Sqlite, Transaction};

use crate::{Store, StoreError};

/// Rows per multi-row INSERT (3 bound parameters each).
const ROWS_PER_INSERT: usize = 500;

/// An imported task as stored, without its examples.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredTask {
    pub spec: TaskSpec,
    pub examples: i64,
    /// sha256 (hex) of the data, as computed by the importer.
    pub fingerprint: String,
    /// How it was imported (format, field map, file), as the importer described it.
    pub import: serde_json::Value,
    pub imported_at: String,
}

/// What an import stores.
#[derive(Debug, Clone, Copy)]
pub struct NewTaskData<'a> {
    pub spec: &'a TaskSpec,
    pub fingerprint: &'a str,
    pub import: &'a serde_json::Value,
    /// The examples, one canonical JSON line each, in order.
    pub examples: &'a [String],
}

impl Store {
    /// Store an imported task and its examples in one transaction. An
    /// imported task of the same name is an error unless `replace` is set,
    /// in which case its spec and examples are replaced.
    pub async fn import_task(&self, data: NewTaskData<'_>, replace: bool) -> Result<(), StoreError> {
        self.import_tasks(&[data], replace).await
    }

    /// Store several imported tasks (a dataset's training split and the validation split it
    /// is scored on) in one transaction: all of them or none.
    pub async fn import_tasks(&self, tasks: &[NewTaskData<'_>], replace: bool) -> Result<(), StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        for &data in tasks {
            insert_task(&mut tx, data, replace).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Every imported task, by name.
    pub async fn imported_tasks(&self) -> Result<Vec<StoredTask>, StoreError> {
        let rows: Vec<SpecRow> = sqlx::query_as(&format!("{SELECT_SPEC} ORDER BY t.name")).fetch_all(&self.pool).await?;
        rows.into_iter().map(stored).collect()
    }

    /// One imported task, if there is one of that name.
    pub async fn imported_task(&self, name: &str) -> Result<Option<StoredTask>, StoreError> {
        let row: Option<SpecRow> =
            sqlx::query_as(&format!("{SELECT_SPEC} WHERE t.name = ?")).bind(name).fetch_optional(&self.pool).await?;
        row.map(stored).transpose()
    }

    /// The examples of an imported task (canonical JSON lines, in order);
    /// `limit` keeps the first ones only.
    pub async fn task_examples(&self, name: &str, limit: Option<i64>) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query_scalar(
            "SELECT e.example FROM task_examples e JOIN tasks t ON t.id = e.task_id WHERE t.name = ? ORDER BY e.idx LIMIT ?",
        )
        .bind(name)
        .bind(limit.unwrap_or(-1))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }

    /// Remove an imported task's spec and examples; returns whether there was one.
    /// The task's name stays if runs refer to it.
    pub async fn delete_imported_task(&self, name: &str) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query("DELETE FROM task_examples WHERE task_id = (SELECT id FROM tasks WHERE name = ?)").bind(name).execute(&mut *tx).await?;
        let done = sqlx::query("DELETE FROM task_specs WHERE task_id = (SELECT id FROM tasks WHERE name = ?)").bind(name).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }
}

/// One task's rows, inside the caller's transaction.
async fn insert_task(tx: &mut Transaction<'_, Sqlite>, data: NewTaskData<'_>, replace: bool) -> Result<(), StoreError> {
    let name = &data.spec.name;
    sqlx::query("INSERT INTO tasks (name) VALUES (?) ON CONFLICT (name) DO NOTHING").bind(name).execute(&mut **tx).await?;
    let task_id: i64 = sqlx::query_scalar("SELECT id FROM tasks WHERE name = ?").bind(name).fetch_one(&mut **tx).await?;
    let exists: i64 = sqlx::query_scalar("SELECT count(*) FROM task_specs WHERE task_id = ?").bind(task_id).fetch_one(&mut **tx).await?;
    if exists > 0 {
        if !replace {
            return Err(StoreError::TaskExists(name.clone()));
        }
        sqlx::query("DELETE FROM task_examples WHERE task_id = ?").bind(task_id).execute(&mut **tx).await?;
        sqlx::query("DELETE FROM task_specs WHERE task_id = ?").bind(task_id).execute(&mut **tx).await?;
    }
    let labels = serde_json::to_string(&data.spec.labels).unwrap_or_else(|_| "[]".into());
    sqlx::query(
        "INSERT INTO task_specs (task_id, family, labels, metric, source, license, import, examples, fingerprint, fields, split)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(task_id)
    .bind(data.spec.family.as_str())
    .bind(labels)
    .bind(data.spec.metric.as_str())
    .bind(&data.spec.source)
    .bind(&data.spec.license)
    .bind(data.import.to_string())
    .bind(data.examples.len() as i64)
    .bind(data.fingerprint)
    .bind(serde_json::to_string(&data.spec.fields).unwrap_or_else(|_| "{}".into()))
    .bind(serde_json::to_string(&data.spec.split).unwrap_or_else(|_| "{}".into()))
    .execute(&mut **tx)
    .await?;
    insert_examples(tx, task_id, data.examples).await?;
    Ok(())
}

const SELECT_SPEC: &str = "SELECT t.name, s.family, s.labels, s.metric, s.source, s.license, s.import, s.examples, s.fingerprint, s.imported_at,
     s.fields, s.split FROM task_specs s JOIN tasks t ON t.id = s.task_id";

type SpecRow = (String, String, String, String, String, String, String, i64, String, String, String, String);

fn stored(row: SpecRow) -> Result<StoredTask, StoreError> {
    let (name, family, labels, metric, source, license, import, examples, fingerprint, imported_at, fields, split) = row;
    let bad = |value: String, source| StoreError::BadTaskValue { task: name.clone(), value, source };
    let family: TaskFamily = family.parse().map_err(|e| bad(family.clone(), e))?;
    let metric: Metric = metric.parse().map_err(|e| bad(metric.clone(), e))?;
    let labels: Vec<String> =
        serde_json::from_str(&labels).map_err(|source| StoreError::BadTaskJson { task: name.clone(), column: "labels", source })?;
    let import =
        serde_json::from_str(&import).map_err(|source| StoreError::BadTaskJson { task: name.clone(), column: "import", source })?;
    let fields =
        serde_json::from_str(&fields).map_err(|source| StoreError::BadTaskJson { task: name.clone(), column: "fields", source })?;
    let split = serde_json::from_str(&split).map_err(|source| StoreError::BadTaskJson { task: name.clone(), column: "split", source })?;
    let spec = TaskSpec { name, family, labels, metric, source, license, fields, split };
    Ok(StoredTask { spec, examples, fingerprint, import, imported_at })
}

async fn insert_examples(tx: &mut Transaction<'_, Sqlite>, task_id: i64, examples: &[String]) -> Result<(), StoreError> {
    for (chunk_no, chunk) in examples.chunks(ROWS_PER_INSERT).enumerate() {
        let base = (chunk_no * ROWS_PER_INSERT) as i64;
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new("INSERT INTO task_examples (task_id, idx, example) ");
        q.push_values(chunk.iter().enumerate(), |mut b, (i, json)| {
            b.push_bind(task_id).push_bind(base + i as i64).push_bind(json.as_str());
        });
        q.build().execute(&mut **tx).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str) -> TaskSpec {
        let mut spec = TaskSpec::new(name, TaskFamily::Single, vec!["a".into(), "b".into()], "file.jsonl", "MIT");
        spec.fields = muppet_core::FieldMap { text: Some("sentence".into()), label: Some("label".into()), ..Default::default() };
        spec.split = muppet_core::SplitPolicy { dev_size: Some(100), seed: Some(3), dev_task: None };
        spec
    }

    async fn open() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("muppet.db")).await.expect("open");
        (dir, store)
    }

    #[tokio::test]
    async fn import_round_trips_and_refuses_a_second_import_unless_replacing() {
        let (_dir, store) = open().await;
        let examples: Vec<String> = (0..1234).map(|i| format!("{{\"i\":{i}}}")).collect();
        let import = serde_json::json!({"format": "jsonl"});
        let data = NewTaskData { spec: &spec("t"), fingerprint: "f1", import: &import, examples: &examples };
        store.import_task(data, false).await.expect("import");
        let got = store.imported_task("t").await.expect("query").expect("stored");
        assert_eq!(got.spec, spec("t"));
        assert_eq!((got.examples, got.fingerprint.as_str()), (1234, "f1"));
        assert_eq!(got.import, import);
        assert_eq!(store.task_examples("t", None).await.expect("examples"), examples);
        assert_eq!(store.task_examples("t", Some(2)).await.expect("examples"), examples[..2]);

        let err = store.import_task(data, false).await.expect_err("exists");
        assert!(matches!(err, StoreError::TaskExists(ref n) if n == "t"), "{err}");
        let fewer = &examples[..3];
        store.import_task(NewTaskData { fingerprint: "f2", examples: fewer, ..data }, true).await.expect("replace");
        assert_eq!(store.task_examples("t", None).await.expect("examples"), fewer);
        assert_eq!(store.imported_tasks().await.expect("list").len(), 1);
        assert!(store.delete_imported_task("t").await.expect("delete"));
        assert!(store.imported_tasks().await.expect("list").is_empty());
        assert!(store.task_examples("t", None).await.expect("examples").is_empty());
    }

    #[tokio::test]
    async fn a_failed_import_leaves_nothing() {
        let (_dir, store) = open().await;
        let import = serde_json::json!({});
        let examples = vec!["{}".to_string(); 10];
        let data = NewTaskData { spec: &spec("t"), fingerprint: "f", import: &import, examples: &examples };
        store.import_task(data, false).await.expect("import");
        // A second task whose insert fails half-way (a duplicate primary key in
        // the examples' rows is impossible from the API, so break the schema):
        sqlx::query("CREATE TRIGGER fail_on_5 BEFORE INSERT ON task_examples WHEN NEW.idx = 700 BEGIN SELECT RAISE(ABORT, 'boom'); END")
            .execute(&store.pool)
            .await
            .expect("trigger");
        let many = vec!["{}".to_string(); 800];
        let err = store.import_task(NewTaskData { spec: &spec("u"), examples: &many, ..data }, false).await;
        assert!(err.is_err());
        assert!(store.imported_task("u").await.expect("query").is_none());
        assert!(store.task_examples("u", None).await.expect("examples").is_empty());
        // Replacing `t` fails the same way and keeps the old data.
        let err = store.import_task(NewTaskData { examples: &many, ..data }, true).await;
        assert!(err.is_err());
        assert_eq!(store.task_examples("t", None).await.expect("examples").len(), 10);
    }
}
