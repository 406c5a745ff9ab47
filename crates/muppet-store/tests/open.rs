//! Opening databases of other versions: an older one is upgraded in place, one
//! from a newer build is refused with a message that names the file.

use std::path::Path;
use std::str::FromStr;

use muppet_store::{MetricGoal, SeriesKey, Store, StoreError};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};

const FIRST_MIGRATION: &str = "20261126000001_runs.sql";

async fn raw_pool(path: &Path) -> SqlitePool {
    let options = SqliteConnectOptions::from_str("sqlite://").expect("options").filename(path).create_if_missing(true);
    SqlitePool::connect_with(options).await.expect("connect")
}

/// A database as the first slice of the store left it, with sqlx's own record
/// of having applied the first migration only.
async fn first_slice_database(dir: &Path) -> std::path::PathBuf {
    let migrations = dir.join("migrations");
    std::fs::create_dir(&migrations).expect("mkdir");
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations").join(FIRST_MIGRATION);
    std::fs::copy(source, migrations.join(FIRST_MIGRATION)).expect("copy first migration");
    let path = dir.join("old.db");
    let pool = raw_pool(&path).await;
    sqlx::migrate::Migrator::new(migrations.as_path()).await.expect("migrator").run(&pool).await.expect("first migration");
    sqlx::query("INSERT INTO runs (id, name, kind, status, app_version) VALUES (1, 'old', 'pre_finetune', 'completed', '0.0.1')")
        .execute(&pool)
        .await
        .expect("run");
    sqlx::query("INSERT INTO metric_series (id, run_id, task, split, name) VALUES (1, 1, '', 'train', 'loss'), (2, 1, 'rte', 'dev', 'accuracy')")
        .execute(&pool)
        .await
        .expect("series");
    let mut tx = pool.begin().await.expect("begin");
    for step in 0..1000i64 {
        sqlx::query("INSERT INTO metric_points VALUES (1, ?, ?, 0.0, ?), (2, ?, ?, 0.0, ?)")
            .bind(step)
            .bind(step * 8)
            .bind(10.0 - step as f64 / 100.0)
            .bind(step)
            .bind(step * 8)
            .bind((step % 10) as f64 / 10.0)
            .execute(&mut *tx)
            .await
            .expect("point");
    }
    tx.commit().await.expect("commit");
    pool.close().await;
    path
}

#[tokio::test]
async fn an_older_database_is_upgraded_in_place_with_summaries_and_rollups() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = first_slice_database(dir.path()).await;
    let store = Store::open(&path).await.expect("upgrade");
    let runs = store.list_runs().await.expect("list");
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].points, 2000);
    assert_eq!(runs[0].last_loss, Some(10.0 - 999.0 / 100.0));
    let run = runs[0].id;

    let acc = store.find_series(run, &SeriesKey::new(Some("rte"), "dev", "accuracy")).await.expect("find").expect("acc");
    let info = store.series_info(acc).await.expect("info");
    assert_eq!(info.goal, MetricGoal::Max, "goal backfilled from the name");
    let s = info.summary.expect("summary backfilled");
    assert_eq!((s.count, s.first_step, s.last_step, s.last), (1000, 0, 999, 0.9));
    assert_eq!((s.best, s.best_step, s.min_step), (Some(0.9), Some(9), Some(0)));

    // The backfilled rollup serves a chart: 10 buckets of 100 steps each.
    let buckets = store.fetch_series(acc, 0..=999, 10).await.expect("fetch");
    assert_eq!(buckets.iter().map(|b| b.count).sum::<u64>(), 1000);
    assert!(buckets.iter().all(|b| b.min == 0.0 && b.max == 0.9), "{buckets:?}");

    // Writes after the upgrade extend the backfilled summaries.
    let p = muppet_core::MetricPoint { task: Some("rte".into()), split: "dev".into(), name: "accuracy".into(), step: 1000, examples: 8000, wall_s: 1.0, value: 0.95 };
    store.record_points(run, &[p]).await.expect("ingest");
    let s = store.series_info(acc).await.expect("info").summary.expect("summary");
    assert_eq!((s.count, s.best, s.best_step), (1001, Some(0.95), Some(1000)));
    let all = store.fetch_series(acc, 0..=u64::MAX, 1).await.expect("fetch one");
    assert_eq!((all.len(), all[0].count, all[0].last, all[0].max), (1, 1001, 0.95, 0.95));
}

#[tokio::test]
async fn a_database_from_a_newer_build_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("future.db");
    Store::open(&path).await.expect("create").close().await;
    let pool = raw_pool(&path).await;
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES (20991231000001, 'hyperdrive', 1, x'00', 0)",
    )
    .execute(&pool)
    .await
    .expect("future migration");
    pool.close().await;

    let err = Store::open(&path).await.expect_err("must refuse");
    assert!(matches!(err, StoreError::NewerDatabase { version: 20991231000001, .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("future.db") && msg.contains("newer") && msg.contains("hyperdrive"), "{msg}");
}
