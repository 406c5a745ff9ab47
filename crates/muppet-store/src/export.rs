//! CSV export of a set of series, written atomically: a temporary file beside
//! the target, synced, then renamed over it, so a reader never sees half a file.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use crate::series::SeriesId;
use crate::{Store, StoreError};

/// Points read per query while exporting, so memory stays bounded.
const PAGE: i64 = 50_000;

/// The first columns of a runs table export, before the settings and the figures.
pub const RUN_TABLE_HEAD: [&str; 8] = ["run_id", "name", "kind", "status", "started_at", "ended_at", "tags", "parent_run_id"];

impl Store {
    /// Write `runs` as one CSV row each, in the order given, as MLflow's `search_runs` table
    /// and W&B's runs export: [`RUN_TABLE_HEAD`], then each setting of the runs table's
    /// columns (by name, in the table's order), then each figure by its column name (its last
    /// value) and `NAME (best)`; an empty cell where a run has none. Atomic, as
    /// [`Store::export_csv`]. Returns the number of rows.
    pub async fn export_runs_table(&self, runs: &[muppet_core::RunId], path: &Path) -> Result<usize, StoreError> {
        let temp = temp_path(path);
        put_in_place(self.write_runs_table(runs, &temp).await, &temp, path)
    }

    async fn write_runs_table(&self, runs: &[muppet_core::RunId], temp: &Path) -> Result<usize, StoreError> {
        use crate::run_columns::PARAM_COLUMNS;
        let io_err = |source| StoreError::Export { path: temp.to_path_buf(), source };
        let csv_err = |source| StoreError::Csv { path: temp.to_path_buf(), source };
        let mut rows = Vec::with_capacity(runs.len());
        for &run in runs {
            rows.push(self.run(run).await?);
        }
        let mut columns = self.run_columns(None).await?;
        let mut tags = self.all_run_tags().await?;
        let chosen: Vec<_> = runs.iter().filter_map(|r| columns.get(r)).collect();
        let params: Vec<&str> = PARAM_COLUMNS.iter().map(|(name, _)| *name).filter(|&n| chosen.iter().any(|c| c.params.contains_key(n))).collect();
        let mut metrics: Vec<String> = chosen.iter().flat_map(|c| c.metrics.keys().cloned()).collect();
        metrics.sort();
        metrics.dedup();
        let file = File::create(temp).map_err(io_err)?;
        let mut out = csv::Writer::from_writer(BufWriter::new(file));
        let head: Vec<String> = RUN_TABLE_HEAD
            .iter()
            .map(|h| h.to_string())
            .chain(params.iter().map(|p| p.to_string()))
            .chain(metrics.iter().flat_map(|m| [m.clone(), format!("{m} (best)")]))
            .collect();
        out.write_record(&head).map_err(csv_err)?;
        let number = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
        for row in &rows {
            let mine = columns.remove(&row.id).unwrap_or_default();
            let text = |v: &serde_json::Value| match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let mut record = vec![
                row.id.0.to_string(),
                row.name.clone(),
                row.kind.as_str().to_string(),
                row.status.as_str().to_string(),
                row.started_at.clone(),
                row.ended_at.clone().unwrap_or_default(),
                tags.remove(&row.id).unwrap_or_default().join(";"),
                row.parent.map(|p| p.0.to_string()).unwrap_or_default(),
            ];
            record.extend(params.iter().map(|p| mine.params.get(*p).map(text).unwrap_or_default()));
            for m in &metrics {
                let figures = mine.metrics.get(m);
                record.push(number(figures.and_then(|f| f.last)));
                record.push(number(figures.and_then(|f| f.best)));
            }
            out.write_record(&record).map_err(csv_err)?;
        }
        close(out, temp)?;
        Ok(rows.len())
    }

    /// Write every point of `series` to the CSV file `path` with the header
    /// `run_id,run_name,task,split,name,step,examples,wall_s,value`; returns the
    /// number of points written. NaN values are written as `NaN`.
    pub async fn export_csv(&self, series: &[SeriesId], path: &Path) -> Result<u64, StoreError> {
        let temp = temp_path(path);
        put_in_place(self.write_csv(series, &temp).await, &temp, path)
    }

    async fn write_csv(&self, series: &[SeriesId], temp: &Path) -> Result<u64, StoreError> {
        let io_err = |source| StoreError::Export { path: temp.to_path_buf(), source };
        let csv_err = |source| StoreError::Csv { path: temp.to_path_buf(), source };
        let file = File::create(temp).map_err(io_err)?;
        let mut out = csv::Writer::from_writer(BufWriter::new(file));
        out.write_record(["run_id", "run_name", "task", "split", "name", "step", "examples", "wall_s", "value"]).map_err(csv_err)?;
        let mut written = 0u64;
        for &id in series {
            let info = self.series_info(id).await?;
            let run_name: String =
                sqlx::query_scalar("SELECT name FROM runs WHERE id = ?").bind(info.run.0).fetch_one(&self.pool).await?;
            let run_id = info.run.0.to_string();
            let task = info.key.stored_task().to_string();
            let mut after = -1i64;
            loop {
                let rows: Vec<(i64, i64, f64, Option<f64>)> = sqlx::query_as(
                    "SELECT step, examples, wall_s, value FROM metric_points WHERE series_id = ? AND step > ? ORDER BY step LIMIT ?",
                )
                .bind(id.0)
                .bind(after)
                .bind(PAGE)
                .fetch_all(&self.pool)
                .await?;
                let Some(last) = rows.last() else { break };
                after = last.0;
                for (step, examples, wall_s, value) in &rows {
                    out.write_record([
                        run_id.as_str(),
                        run_name.as_str(),
                        task.as_str(),
                        info.key.split.as_str(),
                        info.key.name.as_str(),
                        &step.to_string(),
                        &examples.to_string(),
                        &wall_s.to_string(),
                        &value.unwrap_or(f64::NAN).to_string(),
                    ])
                    .map_err(csv_err)?;
                    written += 1;
                }
            }
        }
        close(out, temp)?;
        Ok(written)
    }
}

/// Write runs grouped by `keys` (named as given) as one CSV row per group, atomically: the
/// key columns, `runs` (how many), `run_ids` (separated by `;`), then for each figure of any
/// group `NAME mean`, `NAME sd`, `NAME min`, `NAME max` and `NAME n`; empty where a group has
/// none. Returns the number of groups.
pub fn export_groups(keys: &[String], groups: &[crate::RunGroup], path: &Path) -> Result<usize, StoreError> {
    let temp = temp_path(path);
    put_in_place(write_groups(keys, groups, &temp), &temp, path)
}

fn write_groups(keys: &[String], groups: &[crate::RunGroup], temp: &Path) -> Result<usize, StoreError> {
    let io_err = |source| StoreError::Export { path: temp.to_path_buf(), source };
    let csv_err = |source| StoreError::Csv { path: temp.to_path_buf(), source };
    let mut figures: Vec<&String> = groups.iter().flat_map(|g| g.figures.keys()).collect();
    figures.sort();
    figures.dedup();
    let mut out = csv::Writer::from_writer(BufWriter::new(File::create(temp).map_err(io_err)?));
    let stats = ["mean", "sd", "min", "max", "n"];
    let head: Vec<String> =
        keys.iter().cloned().chain(["runs".to_string(), "run_ids".to_string()]).chain(figures.iter().flat_map(|f| stats.iter().map(move |s| format!("{f} {s}")))).collect();
    out.write_record(&head).map_err(csv_err)?;
    for group in groups {
        let mut record: Vec<String> = group
            .values
            .iter()
            .map(|v| match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => String::new(),
                other => other.to_string(),
            })
            .collect();
        record.push(group.runs.len().to_string());
        record.push(group.runs.iter().map(|r| r.0.to_string()).collect::<Vec<_>>().join(";"));
        for f in &figures {
            match group.figures.get(*f) {
                Some(g) => record.extend([g.mean.to_string(), g.sd.map(|v| v.to_string()).unwrap_or_default(), g.min.to_string(), g.max.to_string(), g.n.to_string()]),
                None => record.extend(std::iter::repeat_n(String::new(), stats.len())),
            }
        }
        out.write_record(&record).map_err(csv_err)?;
    }
    close(out, temp)?;
    Ok(groups.len())
}

/// `.<name>.tmp-<pid>` in the target's folder: the rename stays on one file system.
/// The file written at `temp` put in place of `path` once `written` says it is whole;
/// otherwise removed (it is ours and incomplete; a failure to remove it changes nothing).
fn put_in_place<T>(written: Result<T, StoreError>, temp: &Path, path: &Path) -> Result<T, StoreError> {
    let result = written.and_then(|n| {
        std::fs::rename(temp, path).map_err(|source| StoreError::Export { path: path.to_path_buf(), source })?;
        Ok(n)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(temp);
    }
    result
}

/// Flush a CSV file written at `temp` and sync it to disk.
fn close(out: csv::Writer<BufWriter<File>>, temp: &Path) -> Result<(), StoreError> {
    let io_err = |source| StoreError::Export { path: temp.to_path_buf(), source };
    let file = out.into_inner().map_err(|e| io_err(e.into_error()))?;
    let file = file.into_inner().map_err(|e| io_err(e.into_error()))?;
    file.sync_all().map_err(io_err)
}

fn temp_path(path: &Path) -> PathBuf {
    let name = path.file_name().map_or_else(|| "export.csv".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}
