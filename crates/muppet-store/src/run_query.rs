//! The runs table: filters (status, tag, task, experiment, parameter values
//! read from the spec with JSON paths), sorting by any series summary, paging.

use muppet_core::RunStatus;
use serde::Serialize;
use sqlx::Row;
use sqlx::sqlite::SqliteArguments;

use crate::experiments::ExperimentId;
use crate::runs::{RUN_COLUMNS, RunRow, run_row};
use crate::series::SeriesKey;
use crate::{Store, StoreError};

/// Which runs, in which order, which page. The default is every run, newest first, 50 a page.
#[derive(Debug, Clone)]
pub struct RunQuery {
    pub status: Option<RunStatus>,
    pub tag: Option<String>,
    /// Runs that train on this task.
    pub task: Option<String>,
    pub experiment: Option<ExperimentId>,
    /// All must hold.
    pub params: Vec<ParamFilter>,
    pub sort: RunSort,
    pub descending: bool,
    pub offset: u64,
    pub limit: u64,
}

impl Default for RunQuery {
    fn default() -> Self {
        Self {
            status: None,
            tag: None,
            task: None,
            experiment: None,
            params: Vec::new(),
            sort: RunSort::Started,
            descending: true,
            offset: 0,
            limit: 50,
        }
    }
}

/// A condition on one value of the run spec, e.g. `$.optim.lr < 1e-4`.
#[derive(Debug, Clone)]
pub struct ParamFilter {
    /// JSON path into the spec, starting with `$`.
    pub path: String,
    pub op: ParamOp,
    /// A number, string, boolean or null (null matches a missing value with `Eq`).
    pub value: serde_json::Value,
}

/// Comparison of a [`ParamFilter`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl ParamOp {
    fn sql(self) -> &'static str {
        match self {
            ParamOp::Eq => "=",
            ParamOp::Ne => "<>",
            ParamOp::Lt => "<",
            ParamOp::Le => "<=",
            ParamOp::Gt => ">",
            ParamOp::Ge => ">=",
        }
    }
}

/// The order of the runs table. Runs without the sorted series come last.
#[derive(Debug, Clone, PartialEq)]
pub enum RunSort {
    Started,
    Name,
    Summary { key: SeriesKey, stat: SummaryStat },
}

/// A figure of a series summary to sort by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SummaryStat {
    Last,
    Min,
    Max,
    Best,
    Count,
    LastStep,
}

impl SummaryStat {
    fn column(self) -> &'static str {
        match self {
            SummaryStat::Last => "sm.last_value",
            SummaryStat::Min => "sm.min_value",
            SummaryStat::Max => "sm.max_value",
            SummaryStat::Best => "sm.best_value",
            SummaryStat::Count => "sm.count",
            SummaryStat::LastStep => "sm.last_step",
        }
    }
}

/// One page of the runs table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunPage {
    /// Runs that match, on all pages.
    pub total: u64,
    pub rows: Vec<RunTableRow>,
}

/// A run and the figure it was sorted by (for a summary sort).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunTableRow {
    #[serde(flatten)]
    pub run: RunRow,
    pub sort_value: Option<f64>,
}

/// Binds in the order the SQL text is built.
enum Bind {
    Int(i64),
    Real(f64),
    Text(String),
}

impl Store {
    /// One page of the runs matching `query`.
    pub async fn query_runs(&self, query: &RunQuery) -> Result<RunPage, StoreError> {
        let mut binds = Vec::new();
        let mut from = String::from("FROM runs r");
        let sort_value = match &query.sort {
            RunSort::Summary { key, stat } => {
                from.push_str(
                    " LEFT JOIN metric_series ss ON ss.run_id = r.id AND ss.task = ? AND ss.split = ? AND ss.name = ?
                      LEFT JOIN metric_summaries sm ON sm.series_id = ss.id",
                );
                binds.push(Bind::Text(key.stored_task().to_string()));
                binds.push(Bind::Text(key.split.clone()));
                binds.push(Bind::Text(key.name.clone()));
                stat.column()
            }
            _ => "NULL",
        };
        let mut filter = String::from(" WHERE 1");
        if let Some(status) = query.status {
            filter.push_str(" AND r.status = ?");
            binds.push(Bind::Text(status.as_str().into()));
        }
        if let Some(experiment) = query.experiment {
            filter.push_str(" AND r.experiment_id = ?");
            binds.push(Bind::Int(experiment.0));
        }
        if let Some(tag) = &query.tag {
            filter.push_str(" AND EXISTS (SELECT 1 FROM run_tags x JOIN tags t ON t.id = x.tag_id WHERE x.run_id = r.id AND t.name = ?)");
            binds.push(Bind::Text(tag.clone()));
        }
        if let Some(task) = &query.task {
            filter.push_str(" AND EXISTS (SELECT 1 FROM run_tasks x JOIN tasks t ON t.id = x.task_id WHERE x.run_id = r.id AND t.name = ?)");
            binds.push(Bind::Text(task.clone()));
        }
        for p in &query.params {
            if !p.path.starts_with('$') {
                return Err(StoreError::BadParamPath(p.path.clone()));
            }
            let value = match &p.value {
                serde_json::Value::Null => {
                    filter.push_str(if p.op == ParamOp::Ne { " AND json_extract(r.spec_json, ?) IS NOT NULL" } else { " AND json_extract(r.spec_json, ?) IS NULL" });
                    binds.push(Bind::Text(p.path.clone()));
                    continue;
                }
                serde_json::Value::Bool(b) => Bind::Int(i64::from(*b)),
                serde_json::Value::Number(n) => match n.as_i64() {
                    Some(i) => Bind::Int(i),
                    None => Bind::Real(n.as_f64().unwrap_or(f64::NAN)),
                },
                serde_json::Value::String(s) => Bind::Text(s.clone()),
                // Arrays and objects compare as their JSON text, as json_extract returns them.
                other => Bind::Text(other.to_string()),
            };
            filter.push_str(&format!(" AND json_extract(r.spec_json, ?) {} ?", p.op.sql()));
            binds.push(Bind::Text(p.path.clone()));
            binds.push(value);
        }
        let dir = if query.descending { "DESC" } else { "ASC" };
        let order = match &query.sort {
            RunSort::Started => format!("r.started_at {dir}, r.id {dir}"),
            RunSort::Name => format!("r.name COLLATE NOCASE {dir}, r.id {dir}"),
            RunSort::Summary { .. } => format!("{sort_value} IS NULL, {sort_value} {dir}, r.id DESC"),
        };
        let sql = format!(
            "WITH page AS (
                SELECT r.id, {sort_value} AS sort_value, count(*) OVER () AS total,
                       row_number() OVER (ORDER BY {order}) AS ordinal
                  {from} {filter} ORDER BY {order} LIMIT ? OFFSET ?)
             SELECT page.sort_value, page.total, {RUN_COLUMNS}
               FROM page JOIN runs r ON r.id = page.id ORDER BY page.ordinal"
        );
        let mut q = sqlx::query(&sql);
        for b in &binds {
            q = bind(q, b);
        }
        q = q.bind(query.limit.min(i64::MAX as u64) as i64).bind(query.offset.min(i64::MAX as u64) as i64);
        let rows = q.fetch_all(&self.pool).await?;
        let mut total = None;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            total = Some(row.try_get::<i64, _>("total")? as u64);
            let sort_value: Option<f64> = row.try_get("sort_value")?;
            out.push(RunTableRow { run: run_row(row)?, sort_value });
        }
        let total = match total {
            Some(t) => t,
            // An empty page past the end still reports how many runs match.
            None => {
                let sql = format!("SELECT count(*) {from} {filter}");
                let mut q = sqlx::query_scalar::<_, i64>(&sql);
                for b in &binds {
                    q = match b {
                        Bind::Int(i) => q.bind(*i),
                        Bind::Real(f) => q.bind(*f),
                        Bind::Text(s) => q.bind(s.as_str()),
                    };
                }
                q.fetch_one(&self.pool).await? as u64
            }
        };
        Ok(RunPage { total, rows: out })
    }
}

fn bind<'q>(q: sqlx::query::Query<'q, sqlx::Sqlite, SqliteArguments<'q>>, b: &'q Bind) -> sqlx::query::Query<'q, sqlx::Sqlite, SqliteArguments<'q>> {
    match b {
        Bind::Int(i) => q.bind(*i),
        Bind::Real(f) => q.bind(*f),
        Bind::Text(s) => q.bind(s.as_str()),
    }
}
