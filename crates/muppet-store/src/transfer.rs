//! A run's rows as one self-contained record, to carry a run from one data folder to
//! another (a GPU server's to a desktop's): written by [`Store::run_record`], read back
//! by [`Store::import_run`] as a new run, in one transaction; an experiment's rows
//! likewise ([`Store::experiment_record`]), imported with its runs by [`Store::import_runs`].

use muppet_core::{MetricPoint, RunId, RunKind, RunStatus};
use serde::{Deserialize, Serialize};

use crate::checkpoints::Checkpoint;
use crate::{ExperimentId, Store, StoreError};

/// Everything the store knows of a run, but its id and its links to other runs and
/// experiments (ids of another database).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub name: String,
    pub kind: RunKind,
    pub status: RunStatus,
    pub spec: serde_json::Value,
    pub seed: Option<u64>,
    pub app_version: String,
    pub backend: Option<String>,
    pub device: Option<String>,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub failure: Option<String>,
    pub git_commit: Option<String>,
    pub tasks: Vec<String>,
    pub tags: Vec<String>,
    /// Note bodies, oldest first.
    pub notes: Vec<String>,
    /// Every metric point, series by series, in step order.
    pub points: Vec<MetricPoint>,
    /// The run's checkpoints, by file name in its run folder.
    pub checkpoints: Vec<RecordedCheckpoint>,
}

/// A checkpoint of a [`RunRecord`]: its file's name in the run folder, size and SHA-256.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedCheckpoint {
    pub file: String,
    pub step: u64,
    pub bytes: u64,
    pub sha256: String,
}

impl Store {
    /// The record of run `run`. Its checkpoints must lie in its run folder (`runs/<id>/`),
    /// where the trainer writes them; they are named by file.
    pub async fn run_record(&self, run: RunId) -> Result<RunRecord, StoreError> {
        let row = self.run(run).await?;
        type Extra = (String, Option<i64>, String);
        let (spec, seed, app_version): Extra =
            sqlx::query_as("SELECT spec_json, seed, app_version FROM runs WHERE id = ?").bind(run.0).fetch_one(&self.pool).await?;
        let spec = serde_json::from_str(&spec).map_err(|source| StoreError::BadSpec { run: run.0, source })?;
        let notes = self.notes(crate::NoteTarget::Run(run)).await?.into_iter().map(|n| n.body).collect();
        type PointRow = (String, String, String, i64, i64, f64, Option<f64>);
        let rows: Vec<PointRow> = sqlx::query_as(
            "SELECT s.task, s.split, s.name, p.step, p.examples, p.wall_s, p.value
               FROM metric_points p JOIN metric_series s ON s.id = p.series_id
              WHERE s.run_id = ? ORDER BY s.id, p.step",
        )
        .bind(run.0)
        .fetch_all(&self.pool)
        .await?;
        let points = rows
            .into_iter()
            .map(|(task, split, name, step, examples, wall_s, value)| MetricPoint {
                task: (!task.is_empty()).then_some(task),
                split,
                name,
                step: step as u64,
                examples: examples as u64,
                wall_s,
                value: value.unwrap_or(f64::NAN),
            })
            .collect();
        let checkpoints = self
            .checkpoints(run)
            .await?
            .into_iter()
            .map(|c| {
                let file = c.path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
                RecordedCheckpoint { file, step: c.step, bytes: c.bytes, sha256: c.sha256 }
            })
            .collect();
        Ok(RunRecord {
            name: row.name,
            kind: row.kind,
            status: row.status,
            spec,
            seed: seed.map(|s| s as u64),
            app_version,
            backend: row.backend,
            device: row.device,
            started_at: row.started_at,
            ended_at: row.ended_at,
            failure: row.failure,
            git_commit: row.git_commit,
            tasks: self.run_tasks(run).await?,
            tags: self.run_tags(run).await?,
            notes,
            points,
            checkpoints,
        })
    }

    /// The record of experiment `id` (its runs are recorded one by one).
    pub async fn experiment_record(&self, id: ExperimentId) -> Result<ExperimentRecord, StoreError> {
        let experiment = self.experiment(id).await?;
        let notes = self.notes(crate::NoteTarget::Experiment(id)).await?.into_iter().map(|n| n.body).collect();
        Ok(ExperimentRecord { name: experiment.name, kind: experiment.kind, spec: experiment.spec, created_at: experiment.created_at, notes })
    }

    /// Store `record` as a new run, with its checkpoints in `run_dir(id)`, and `note` added
    /// to its notes; returns its id. `place` puts the run's files in their folder once the id
    /// is known, before the rows are committed: if it fails, nothing is stored, and if the
    /// commit fails, `unplace` takes the files back out. A run still `running` or `queued`
    /// where it was recorded is stored as `failed`, with the reason: nothing trains it here.
    pub async fn import_run(
        &self,
        record: &RunRecord,
        note: &str,
        run_dir: impl Fn(RunId) -> std::path::PathBuf,
        place: impl FnOnce(RunId) -> Result<(), String>,
        unplace: impl FnOnce(RunId),
    ) -> Result<RunId, StoreError> {
        let run = RunToImport { source: 0, parent: None, record, note: note.to_string(), in_experiment: false };
        let (_, runs) = self.import_runs(None, &[run], run_dir, |ids| place(ids[0]), |ids| unplace(ids[0])).await?;
        Ok(runs[0])
    }

    /// Store `runs` as new runs, like [`Self::import_run`], all in one transaction, and with
    /// them `experiment`, which they then belong to; returns its id and theirs, in order. A
    /// run whose parent (by [`RunToImport::source`]) is among them keeps that link. `place`
    /// and `unplace` take every new id, in order. Refused when an experiment of the same name
    /// is here: experiments are found by name (`muppet experiment run` continues one).
    pub async fn import_runs(
        &self,
        experiment: Option<&ExperimentRecord>,
        runs: &[RunToImport<'_>],
        run_dir: impl Fn(RunId) -> std::path::PathBuf,
        place: impl FnOnce(&[RunId]) -> Result<(), String>,
        unplace: impl FnOnce(&[RunId]),
    ) -> Result<(Option<ExperimentId>, Vec<RunId>), StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let experiment_id = match experiment {
            None => None,
            Some(e) => {
                let here: Option<i64> = sqlx::query_scalar("SELECT id FROM experiments WHERE name = ?").bind(&e.name).fetch_optional(&mut *tx).await?;
                if let Some(here) = here {
                    return Err(StoreError::Import(format!(
                        "experiment `{}` is already here, as experiment {here}: delete it first (`muppet experiment delete {here}`) to import it again; nothing was imported",
                        e.name
                    )));
                }
                let id: i64 = sqlx::query_scalar("INSERT INTO experiments (name, kind, spec_json, created_at) VALUES (?, ?, ?, ?) RETURNING id")
                    .bind(&e.name)
                    .bind(&e.kind)
                    .bind(e.spec.to_string())
                    .bind(&e.created_at)
                    .fetch_one(&mut *tx)
                    .await?;
                for body in &e.notes {
                    sqlx::query("INSERT INTO notes (experiment_id, body) VALUES (?, ?)").bind(id).bind(body).execute(&mut *tx).await?;
                }
                Some(ExperimentId(id))
            }
        };
        let mut ids = Vec::with_capacity(runs.len());
        for run in runs {
            let experiment = experiment_id.filter(|_| run.in_experiment);
            ids.push(insert_record(&mut tx, run.record, &run.note, experiment, &run_dir).await?);
        }
        // The runs its fine-tunes start from are known here by their new ids.
        if let (Some(id), Some(e)) = (experiment_id, experiment) {
            let spec = remap_start_runs(&e.spec, |old| runs.iter().position(|r| r.source == old).map(|i| ids[i].0));
            sqlx::query("UPDATE experiments SET spec_json = ? WHERE id = ?").bind(spec.to_string()).bind(id.0).execute(&mut *tx).await?;
        }
        for (run, &id) in runs.iter().zip(&ids) {
            let parent = run.parent.and_then(|p| runs.iter().position(|r| r.source == p)).map(|i| ids[i]);
            if let Some(parent) = parent {
                // Its spec names where it started as this database knows it: the parent's
                // new id, and its checkpoint file in the parent's new folder.
                let spec = remap_init(&run.record.spec, parent, &run_dir(parent));
                // So does a fine-tune's name ("fine-tune: x from run 3"); a run of an
                // experiment keeps its own (the experiment finds its runs by name).
                let in_experiment = experiment_id.is_some() && run.in_experiment;
                let renamed = run.parent.filter(|_| !in_experiment).and_then(|old| run.record.name.strip_suffix(&format!(" from run {old}")));
                let name = renamed.map_or_else(|| run.record.name.clone(), |stem| format!("{stem} from run {}", parent.0));
                sqlx::query("UPDATE runs SET parent_run_id = ?, spec_json = ?, name = ? WHERE id = ?")
                    .bind(parent.0)
                    .bind(spec.to_string())
                    .bind(name)
                    .bind(id.0)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        place(&ids).map_err(StoreError::Import)?;
        if let Err(e) = tx.commit().await {
            unplace(&ids);
            return Err(e.into());
        }
        Ok((experiment_id, ids))
    }
}

/// An experiment's rows, but its id and its runs (recorded one by one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExperimentRecord {
    pub name: String,
    pub kind: String,
    pub spec: serde_json::Value,
    pub created_at: String,
    /// Note bodies, oldest first.
    pub notes: Vec<String>,
}

/// A run for [`Store::import_runs`]: its record with the note to add, its id and its
/// parent's where it was recorded, and whether it belongs to the experiment imported with it
/// (a run an experiment's fine-tunes start from, `run:ID` in its spec, need not).
#[derive(Debug, Clone)]
pub struct RunToImport<'a> {
    pub source: i64,
    pub parent: Option<i64>,
    pub record: &'a RunRecord,
    pub note: String,
    pub in_experiment: bool,
}

/// The ids of the runs an experiment spec starts from (`"run:ID"` in
/// `sample_efficiency.starts` or `sweep.start`).
pub fn spec_start_runs(spec: &serde_json::Value) -> Vec<i64> {
    let values = START_POINTERS.iter().filter_map(|p| spec.pointer(p));
    values.flat_map(|v| v.as_array().map_or_else(|| vec![v], |a| a.iter().collect())).filter_map(start_run).collect()
}

/// Where an experiment spec names its starting points: `sample_efficiency.starts` (a list)
/// and `sweep.start` (one).
const START_POINTERS: [&str; 2] = ["/sample_efficiency/starts", "/sweep/start"];

/// The run id of a `"run:ID"` start.
fn start_run(start: &serde_json::Value) -> Option<i64> {
    start.as_str()?.strip_prefix("run:")?.trim().parse().ok()
}

/// A run spec whose start (`init`, `{"from": "run", "run": ID, "checkpoint": PATH}`) is
/// renamed to run `parent` and its checkpoint file to the same file name in `parent_dir`.
fn remap_init(spec: &serde_json::Value, parent: RunId, parent_dir: &std::path::Path) -> serde_json::Value {
    let mut spec = spec.clone();
    if let Some(init) = spec.get_mut("init").and_then(|i| i.as_object_mut()).filter(|i| i.get("from").and_then(|f| f.as_str()) == Some("run")) {
        init.insert("run".into(), parent.0.into());
        let file = init.get("checkpoint").and_then(|c| c.as_str()).and_then(|c| std::path::Path::new(c).file_name()).map(|f| parent_dir.join(f));
        if let Some(file) = file {
            init.insert("checkpoint".into(), file.display().to_string().into());
        }
    }
    spec
}

/// `spec` with each `"run:ID"` start that `map` knows renamed to its id here.
fn remap_start_runs(spec: &serde_json::Value, map: impl Fn(i64) -> Option<i64>) -> serde_json::Value {
    let mut spec = spec.clone();
    for pointer in START_POINTERS {
        let starts: Vec<&mut serde_json::Value> = match spec.pointer_mut(pointer) {
            Some(serde_json::Value::Array(list)) => list.iter_mut().collect(),
            Some(one) => vec![one],
            None => Vec::new(),
        };
        for start in starts {
            if let Some(new) = start_run(start).and_then(&map) {
                *start = format!("run:{new}").into();
            }
        }
    }
    spec
}

/// Insert one run's rows inside the caller's transaction; returns its new id.
async fn insert_record(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    record: &RunRecord,
    note: &str,
    experiment: Option<ExperimentId>,
    run_dir: &impl Fn(RunId) -> std::path::PathBuf,
) -> Result<RunId, StoreError> {
    let (status, failure) = match record.status {
        RunStatus::Running | RunStatus::Queued => {
            (RunStatus::Failed, Some(format!("it was {} where it was recorded; nothing trains it here", record.status.as_str())))
        }
        other => (other, record.failure.clone()),
    };
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO runs (name, kind, status, spec_json, seed, app_version, backend, device, started_at, ended_at,
                           failure, git_commit, experiment_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(&record.name)
    .bind(record.kind.as_str())
    .bind(status.as_str())
    .bind(record.spec.to_string())
    .bind(record.seed.map(|s| s as i64))
    .bind(&record.app_version)
    .bind(&record.backend)
    .bind(&record.device)
    .bind(&record.started_at)
    .bind(&record.ended_at)
    .bind(failure)
    .bind(&record.git_commit)
    .bind(experiment.map(|e| e.0))
    .fetch_one(&mut **tx)
    .await?;
    let run = RunId(id);
    for task in &record.tasks {
        crate::tasks::add_run_task(tx, run, task).await?;
    }
    for tag in &record.tags {
        crate::tags::add_run_tag(tx, run, tag).await?;
    }
    for body in record.notes.iter().map(String::as_str).chain([note]) {
        sqlx::query("INSERT INTO notes (run_id, body) VALUES (?, ?)").bind(id).bind(body).execute(&mut **tx).await?;
    }
    crate::points::record_points_in(tx, run, &record.points).await?;
    let dir = run_dir(run);
    for c in &record.checkpoints {
        let checkpoint = Checkpoint { run, path: dir.join(&c.file), step: c.step, bytes: c.bytes, sha256: c.sha256.clone() };
        crate::checkpoints::insert_checkpoint(tx, &checkpoint).await?;
    }
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_runs_are_read_and_renamed_in_both_designs() {
        let se = serde_json::json!({"name": "x", "sample_efficiency": {"starts": ["base", "run:4", "pft", "run: 9"]}});
        assert_eq!(spec_start_runs(&se), vec![4, 9]);
        let renamed = remap_start_runs(&se, |old| (old == 4).then_some(40));
        assert_eq!(renamed["sample_efficiency"]["starts"], serde_json::json!(["base", "run:40", "pft", "run: 9"]));
        let sweep = serde_json::json!({"name": "y", "sweep": {"start": "run:7", "tasks": ["run:8"]}});
        assert_eq!(spec_start_runs(&sweep), vec![7]);
        assert_eq!(remap_start_runs(&sweep, |old| Some(old + 1))["sweep"]["start"], "run:8");
        assert!(spec_start_runs(&serde_json::json!({"name": "z", "sweep": {"start": "base"}})).is_empty());
    }
}
