//! Errors of the store, each naming the database file and what to do.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database {path}: {source}. Check that the file is a Muppet Studio database and that its folder is writable")]
    Open { path: PathBuf, #[source] source: sqlx::Error },
    #[error("cannot upgrade the database {path}: {source}. It may have been written by a newer Muppet Studio; use that version or move the file away")]
    Migrate { path: PathBuf, #[source] source: sqlx::migrate::MigrateError },
    #[error("database query failed: {0}")]
    Query(#[from] sqlx::Error),
    #[error("run {0} does not exist")]
    NoSuchRun(i64),
    #[error("run {run} has a stored value `{value}` that this version does not understand: {source}")]
    BadValue { run: i64, value: String, #[source] source: muppet_core::task::ParseError },
}
