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

    /// Delete imported tasks (their specs, examples and overlap-check rows) in one
    /// transaction: all of them or none. Refused for a name that is not an imported task, and
    /// for a task another imported task is scored on (its dev task) unless that goes too.
    /// Runs that trained on them keep their records (and the tasks' names).
    pub async fn delete_imported_tasks(&self, names: &[String]) -> Result<DeletedTasks, StoreError> {
        let mut names = names.to_vec();
        names.sort();
        names.dedup();
        if names.is_empty() {
            return Err(StoreError::Refused("no task to delete: name at least one imported task".into()));
        }
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let specs: Vec<(String, String, i64)> =
            sqlx::query_as("SELECT t.name, s.split, s.examples FROM task_specs s JOIN tasks t ON t.id = s.task_id ORDER BY t.name").fetch_all(&mut *tx).await?;
        if let Some(missing) = names.iter().find(|n| !specs.iter().any(|(name, ..)| name == *n)) {
            return Err(StoreError::Refused(format!("there is no imported task `{missing}` (`muppet tasks list --imported` lists them); nothing was deleted")));
        }
        for (name, split, _) in specs.iter().filter(|(name, ..)| !names.contains(name)) {
            let policy: muppet_core::SplitPolicy = serde_json::from_str(split).unwrap_or_default();
            if let Some(dev) = policy.dev_task.filter(|d| names.contains(d)) {
                return Err(StoreError::Refused(format!(
                    "task `{name}` is scored on `{dev}`: delete them together (`muppet tasks delete {name} {dev}`), or keep it; nothing was deleted"
                )));
            }
        }
        let examples = specs.iter().filter(|(name, ..)| names.contains(name)).map(|(.., n)| *n as u64).sum();
        let mut runs = Vec::new();
        for name in &names {
            let used: Vec<i64> = sqlx::query_scalar("SELECT r.run_id FROM run_tasks r JOIN tasks t ON t.id = r.task_id WHERE t.name = ?")
                .bind(name)
                .fetch_all(&mut *tx)
                .await?;
            runs.extend(used.into_iter().map(muppet_core::RunId));
            sqlx::query("DELETE FROM task_examples WHERE task_id = (SELECT id FROM tasks WHERE name = ?)").bind(name).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM task_specs WHERE task_id = (SELECT id FROM tasks WHERE name = ?)").bind(name).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM overlap_checks WHERE task = ?").bind(name).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        runs.sort();
        runs.dedup();
        Ok(DeletedTasks { tasks: names, examples, runs })
    }
}

/// What a deletion of imported tasks removed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DeletedTasks {
    pub tasks: Vec<String>,
    pub examples: u64,
    /// Runs that trained on them: their records stay, but they cannot be resumed until the
    /// tasks are imported again.
    pub runs: Vec<muppet_core::RunId>,
}

impl std::fmt::Display for DeletedTasks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names = self.tasks.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", ");
        let tasks = if self.tasks.len() == 1 { "task" } else { "tasks" };
        write!(f, "deleted {tasks} {names}: {} examples", self.examples)?;
        if !self.runs.is_empty() {
            let runs = self.runs.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
            write!(f, ". Runs {runs} trained on them and keep their records; resuming them needs the tasks imported again")?;
        }
        Ok(())
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
        assert_eq!(store.delete_imported_tasks(&["t".into()]).await.expect("delete").examples, 3);
        assert!(store.imported_tasks().await.expect("list").is_empty());
        assert!(store.task_examples("t", None).await.expect("examples").is_empty());
    }

    /// Deleting imported tasks: all or none; a task's dev task goes only with it; the overlap
    /// check forgets them; the runs that trained on them are named and keep their records.
    #[tokio::test]
    async fn imported_tasks_are_deleted_together_or_not_at_all() {
        let (_dir, store) = open().await;
        let import = serde_json::json!({});
        let examples = vec!["{}".to_string(); 5];
        let mut scored = spec("mnli");
        scored.split = muppet_core::SplitPolicy { dev_task: Some("mnli_validation".into()), ..Default::default() };
        let (dev, other) = (spec("mnli_validation"), spec("other"));
        let data = |spec| NewTaskData { spec, fingerprint: "f", import: &import, examples: &examples };
        store.import_tasks(&[data(&scored), data(&dev), data(&other)], false).await.expect("import");
        let origin = crate::RunOrigin { tasks: vec!["mnli".into()], ..Default::default() };
        let new_run = crate::NewRun { name: "r".into(), kind: muppet_core::RunKind::PreFinetune, spec: serde_json::json!({}), seed: None, backend: "flex".into(), device: "cpu".into() };
        let run = store.create_run_in(&new_run, &origin).await.expect("run");
        let checked = |task: &str| muppet_core::task::CheckedTask { task: task.into(), fingerprint: "f".into(), inputs: 5 };
        store.replace_overlap_check(&[checked("mnli"), checked("other")], &[("mnli".into(), "other".into(), 2), ("other".into(), "mnli".into(), 2)]).await.expect("overlaps");

        let err = store.delete_imported_tasks(&["mnli_validation".into()]).await.expect_err("its task is scored on it").to_string();
        assert_eq!(err, "task `mnli` is scored on `mnli_validation`: delete them together (`muppet tasks delete mnli mnli_validation`), or keep it; nothing was deleted");
        let err = store.delete_imported_tasks(&["other".into(), "nope".into()]).await.expect_err("unknown").to_string();
        assert!(err.starts_with("there is no imported task `nope`"), "{err}");
        assert_eq!(store.imported_tasks().await.expect("list").len(), 3, "a refusal deletes nothing");

        let deleted = store.delete_imported_tasks(&["mnli_validation".into(), "mnli".into()]).await.expect("delete both");
        assert_eq!(deleted, DeletedTasks { tasks: vec!["mnli".into(), "mnli_validation".into()], examples: 10, runs: vec![run] });
        assert_eq!(
            deleted.to_string(),
            format!("deleted tasks `mnli`, `mnli_validation`: 10 examples. Runs {run} trained on them and keep their records; resuming them needs the tasks imported again")
        );
        let left: Vec<String> = store.imported_tasks().await.expect("list").into_iter().map(|t| t.spec.name).collect();
        assert_eq!(left, ["other"]);
        let check = store.overlap_check().await.expect("check");
        assert_eq!((check.tasks.len(), check.overlaps.len()), (1, 0), "{check:?}");
        assert_eq!(store.run_tasks(run).await.expect("run tasks"), ["mnli"], "the run keeps its record");
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
