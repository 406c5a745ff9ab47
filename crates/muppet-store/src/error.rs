//! Errors of the store, each naming the database file and what to do.

use std::path::PathBuf;

/// Everything that can go wrong in the store. Sources are kept, never flattened.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database {path}: {source}. Check that the file is a Muppet Studio database and that its folder is writable")]
    Open { path: PathBuf, #[source] source: sqlx::Error },
    #[error("cannot upgrade the database {path}: {source}. It may have been written by a newer Muppet Studio; use that version or move the file away")]
    Migrate { path: PathBuf, #[source] source: sqlx::migrate::MigrateError },
    /// The file records a schema migration this build does not know.
    #[error("the database {path} was written by a newer Muppet Studio: it has schema migration {version} ({description}) and this build knows migrations up to {known}. Open it with that newer version, or move the file away to start a new database")]
    NewerDatabase { path: PathBuf, version: i64, description: String, known: i64 },
    #[error("database query failed: {0}")]
    Query(#[from] sqlx::Error),
    #[error("run {0} does not exist")]
    NoSuchRun(i64),
    /// An imported run's files could not be put in its folder; nothing was stored.
    #[error("{0}")]
    Import(String),
    /// A change refused (a deletion, a rename), with the reason; nothing was changed.
    #[error("{0}")]
    Refused(String),
    #[error("experiment {0} does not exist")]
    NoSuchExperiment(i64),
    #[error("metric series {0} does not exist")]
    NoSuchSeries(i64),
    #[error("run {run} has a stored value `{value}` that this version does not understand: {source}")]
    BadValue { run: i64, value: String, #[source] source: muppet_core::task::ParseError },
    #[error("run {run} has a specification that is not valid JSON: {source}. Re-create the run or fix its spec_json")]
    BadSpec { run: i64, #[source] source: serde_json::Error },
    /// A parameter filter's path must be a JSON path such as `$.optim.lr`.
    #[error("parameter path `{0}` is not a JSON path; write it as `$.field.sub_field`")]
    BadParamPath(String),
    #[error("a comparison needs at least two runs, got {0}; pick more runs")]
    CompareNeedsTwoRuns(usize),
    #[error("cannot write the CSV file {path}: {source}. Check that its folder exists and is writable")]
    Export { path: PathBuf, #[source] source: std::io::Error },
    #[error("a task named `{0}` is already imported: pick another name, or replace it")]
    TaskExists(String),
    #[error("imported task `{task}` has a stored value `{value}` that this version does not understand: {source}")]
    BadTaskValue { task: String, value: String, #[source] source: muppet_core::task::ParseError },
    #[error("imported task `{task}` has a `{column}` that is not valid JSON: {source}. Import the task again")]
    BadTaskJson { task: String, column: &'static str, #[source] source: serde_json::Error },
    #[error("cannot write the CSV file {path}: {source}. Check that its folder exists and is writable")]
    Csv { path: PathBuf, #[source] source: csv::Error },
}
