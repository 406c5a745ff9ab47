//! Turning SQLite's anonymous "FOREIGN KEY constraint failed" into an error
//! that names the missing run.

use muppet_core::RunId;

use crate::StoreError;

/// `error`, or [`StoreError::NoSuchRun`] when it is a foreign-key violation of a
/// statement whose only foreign key is `run`.
pub(crate) fn or_missing_run(error: sqlx::Error, run: RunId) -> StoreError {
    match &error {
        sqlx::Error::Database(d) if d.kind() == sqlx::error::ErrorKind::ForeignKeyViolation => StoreError::NoSuchRun(run.0),
        _ => StoreError::Query(error),
    }
}
