//! The runs table and point ingest against a real SQLite file.

use muppet_core::{MetricPoint, RunKind, RunStatus};
use muppet_store::{NewRun, Store};

fn point(task: Option<&str>, name: &str, step: u64, value: f64) -> MetricPoint {
    MetricPoint { task: task.map(str::to_string), split: "train".into(), name: name.into(), step, examples: step * 16, wall_s: step as f64 * 0.5, value }
}

fn new_run(name: &str) -> NewRun {
    NewRun { name: name.into(), kind: RunKind::PreFinetune, spec: serde_json::json!({"steps": 3}), seed: Some(7), backend: "flex".into(), device: "cpu".into() }
}

#[tokio::test]
async fn runs_list_counts_points_and_survives_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("muppet.db");
    let store = Store::open(&path).await.expect("open");
    let a = store.create_run(&new_run("a")).await.expect("create a");
    let b = store.create_run(&new_run("b")).await.expect("create b");
    let mut pts: Vec<MetricPoint> = (1..=700).map(|s| point(None, "loss", s, 1.0 / s as f64)).collect();
    pts.push(point(Some("rt_fresh_rotten"), "loss", 1, 0.7));
    store.record_points(a, &pts).await.expect("ingest");
    // Replaying a batch must not duplicate points.
    store.record_points(a, &pts[..10]).await.expect("replay");
    store.end_run(a, RunStatus::Completed, None).await.expect("end a");
    store.end_run(b, RunStatus::Failed, Some("out of memory")).await.expect("end b");
    store.close().await;

    let store = Store::open(&path).await.expect("reopen");
    let runs = store.list_runs().await.expect("list");
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].id, b, "newest first");
    assert_eq!(runs[0].status, RunStatus::Failed);
    assert_eq!(runs[0].failure.as_deref(), Some("out of memory"));
    assert_eq!(runs[0].points, 0);
    assert_eq!(runs[1].status, RunStatus::Completed);
    assert_eq!(runs[1].points, 701);
    assert!(runs[1].ended_at.is_some());
    let last = runs[1].last_loss.expect("last loss");
    assert!((last - 1.0 / 700.0).abs() < 1e-12, "{last}");
    let series = store.series(a, None, "train", "loss").await.expect("series");
    assert_eq!(series.len(), 700);
    assert_eq!(series[0], (1, 1.0));
}

#[tokio::test]
async fn ending_an_unknown_run_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("muppet.db")).await.expect("open");
    let err = store.end_run(muppet_core::RunId(42), RunStatus::Completed, None).await.expect_err("unknown");
    assert!(err.to_string().contains("42"));
}
