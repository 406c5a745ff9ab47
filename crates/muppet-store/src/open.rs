//! Opening the database: WAL, busy timeout, foreign keys, migrations at open;
//! a database written by a newer build is refused before anything is changed.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

use crate::StoreError;

pub(crate) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

/// How long a statement waits for another process's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// A handle on `muppet.db`. Cheap to clone (it is a pool).
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) pool: SqlitePool,
    path: PathBuf,
    /// The runs' columns and specs last read through this handle (and its clones).
    pub(crate) columns_cache: std::sync::Arc<crate::run_filter::ColumnsCache>,
}

impl Store {
    /// Open (creating if needed) and migrate the database at `path`. An older
    /// database is upgraded in place; one written by a newer build is refused
    /// with [`StoreError::NewerDatabase`].
    ///
    /// Processes that create a new file at once can be told "database is locked" without
    /// waiting: until the first of them has switched the file to WAL it is in rollback mode,
    /// where SQLite answers a lock upgrade that could deadlock at once rather than through the
    /// busy timeout. Opening is idempotent (the migrations run in one IMMEDIATE transaction),
    /// so such an open is tried again, for up to the busy timeout.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let started = std::time::Instant::now();
        let mut wait = Duration::from_millis(20);
        loop {
            match Self::open_once(path).await {
                Err(StoreError::Open { source, .. }) if is_busy(&source) && started.elapsed() + wait < BUSY_TIMEOUT => {
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_millis(500));
                }
                other => return other,
            }
        }
    }

    async fn open_once(path: &Path) -> Result<Self, StoreError> {
        let open_err = |source| StoreError::Open { path: path.to_path_buf(), source };
        let options = SqliteConnectOptions::from_str("sqlite://")
            .map_err(open_err)?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new().max_connections(4).connect_with(options).await.map_err(open_err)?;
        // Migrate inside one IMMEDIATE transaction: it holds the write lock, so
        // processes opening a new file at once migrate one after the other (the
        // others wait under the busy timeout, then find nothing to do), and a
        // failed upgrade leaves the file as it was. sqlx nests each migration's
        // own transaction as a savepoint.
        let mut conn = pool.acquire().await.map_err(open_err)?;
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.map_err(open_err)?;
        refuse_newer(&mut tx, path).await?;
        MIGRATOR
            .run(&mut *tx)
            .await
            .map_err(|source| StoreError::Migrate { path: path.to_path_buf(), source })?;
        tx.commit().await.map_err(open_err)?;
        drop(conn);
        Ok(Self { pool, path: path.to_path_buf(), columns_cache: Default::default() })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Close the pool, flushing the WAL.
    pub async fn close(self) {
        self.pool.close().await;
    }
}

/// SQLITE_BUSY, with or without its extended code.
fn is_busy(error: &sqlx::Error) -> bool {
    let sqlx::Error::Database(e) = error else { return false };
    e.code().and_then(|c| c.parse::<i32>().ok()).is_some_and(|c| c & 0xff == 5)
}

/// The newest schema migration this build knows.
pub(crate) fn known_version() -> i64 {
    MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}

async fn refuse_newer(conn: &mut SqliteConnection, path: &Path) -> Result<(), StoreError> {
    let open_err = |source| StoreError::Open { path: path.to_path_buf(), source };
    let has_table: i64 =
        sqlx::query_scalar("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'")
            .fetch_one(&mut *conn)
            .await
            .map_err(open_err)?;
    if has_table == 0 {
        return Ok(());
    }
    let known = known_version();
    let newer: Option<(i64, String)> =
        sqlx::query_as("SELECT version, description FROM _sqlx_migrations WHERE version > ? ORDER BY version LIMIT 1")
            .bind(known)
            .fetch_optional(&mut *conn)
            .await
            .map_err(open_err)?;
    match newer {
        Some((version, description)) => {
            Err(StoreError::NewerDatabase { path: path.to_path_buf(), version, description, known })
        }
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_file_that_is_not_sqlite_is_a_clear_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("muppet.db");
        std::fs::write(&path, vec![b'x'; 4096]).expect("write");
        let err = Store::open(&path).await.expect_err("must refuse");
        assert!(matches!(err, StoreError::Open { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(msg.contains("muppet.db"), "{msg}");
        assert!(msg.contains("Muppet Studio database"), "{msg}");
        // Nothing was written over the foreign file.
        assert_eq!(std::fs::read(&path).expect("read"), vec![b'x'; 4096]);
    }

    /// What `open` tries again: SQLITE_BUSY from a file another connection holds, and
    /// nothing else.
    #[tokio::test]
    async fn a_locked_database_is_told_apart_from_other_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let options = SqliteConnectOptions::from_str("sqlite://").expect("options").filename(dir.path().join("x.db")).create_if_missing(true).busy_timeout(Duration::ZERO);
        let mut holder = SqliteConnection::connect_with(&options).await.expect("connect");
        sqlx::query("CREATE TABLE t (x)").execute(&mut holder).await.expect("create");
        sqlx::query("BEGIN EXCLUSIVE").execute(&mut holder).await.expect("lock");
        let mut other = SqliteConnection::connect_with(&options).await.expect("connect");
        let err = sqlx::query("INSERT INTO t VALUES (1)").execute(&mut other).await.expect_err("the file is locked");
        assert!(is_busy(&err), "{err:?}");
        let err = sqlx::query("INSERT INTO nowhere VALUES (1)").execute(&mut holder).await.expect_err("no such table");
        assert!(!is_busy(&err) && !is_busy(&sqlx::Error::RowNotFound), "{err:?}");
    }

    #[test]
    fn the_known_version_is_the_newest_migration_file() {
        let newest = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations"))
            .expect("migrations folder")
            .filter_map(|e| e.ok()?.file_name().to_str()?.split('_').next()?.parse::<i64>().ok())
            .max()
            .expect("a migration");
        assert_eq!(known_version(), newest);
    }
}
