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

/// A run's record carries it into another database: the same rows (points with their
/// examples, wall time and NaNs; tasks, tags, notes; checkpoints by file name), as a new
/// run whose checkpoints are in its own folder, plus a note saying where it came from. A
/// run that was still training where it was recorded arrives failed, with the reason. When
/// its files cannot be placed, nothing is stored.
#[tokio::test]
async fn a_run_record_is_imported_into_another_database_as_a_new_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = Store::open(&dir.path().join("source.db")).await.expect("open source");
    let origin = muppet_store::RunOrigin { tasks: vec!["sst2".into(), "mnli".into()], tags: vec!["gpu-server".into()], ..Default::default() };
    let run = source.create_run_in(&new_run("on the server"), &origin).await.expect("create");
    let mut points: Vec<MetricPoint> = (1..=20).map(|s| point(None, "loss", s, 1.0 / s as f64)).collect();
    points.push(point(Some("sst2"), "accuracy", 20, f64::NAN));
    source.record_points(run, &points).await.expect("points");
    let sha = "ab".repeat(32);
    let path = dir.path().join("server-home/runs/1/model-step20.mpk");
    source.add_checkpoint(&muppet_store::Checkpoint { run, path, step: 20, bytes: 123, sha256: sha.clone() }).await.expect("checkpoint");
    source.add_note(muppet_store::NoteTarget::Run(run), "lr too high?").await.expect("note");
    source.end_run(run, RunStatus::Completed, None).await.expect("end");
    let record = source.run_record(run).await.expect("record");
    assert_eq!((record.points.len(), record.checkpoints[0].file.as_str()), (21, "model-step20.mpk"));

    let target = Store::open(&dir.path().join("target.db")).await.expect("open target");
    let before = target.create_run(&new_run("already here")).await.expect("existing run");
    let folder = |id: muppet_core::RunId| dir.path().join(format!("desktop/runs/{}", id.0));
    let refused = target.import_run(&record, "imported", folder, |_| Err("the folder is taken".into()), |_| {}).await;
    assert!(matches!(refused, Err(muppet_store::StoreError::Import(ref m)) if m == "the folder is taken"), "{refused:?}");
    assert_eq!(target.list_runs().await.expect("list").len(), 1, "nothing stored");

    let placed = std::cell::Cell::new(None);
    let imported = target.import_run(&record, "imported from the server", folder, |id| {
        placed.set(Some(id));
        Ok(())
    }, |_| {}).await.expect("import");
    assert_eq!(placed.get(), Some(imported));
    assert_ne!(imported, before);
    let back = target.run_record(imported).await.expect("record back");
    assert_eq!(back.notes, ["lr too high?", "imported from the server"]);
    let same = muppet_store::RunRecord { notes: record.notes.clone(), ..back.clone() };
    // NaN != NaN: compare the points' text.
    assert_eq!(format!("{:?}", same.points), format!("{:?}", record.points));
    assert_eq!(muppet_store::RunRecord { points: vec![], ..same }, muppet_store::RunRecord { points: vec![], ..record.clone() });
    let checkpoints = target.checkpoints(imported).await.expect("checkpoints");
    assert_eq!(checkpoints[0].path, folder(imported).join("model-step20.mpk"));
    assert_eq!(target.run(imported).await.expect("row").points, 21);

    let training = muppet_store::RunRecord { status: RunStatus::Running, ..record };
    let failed = target.import_run(&training, "imported", folder, |_| Ok(()), |_| {}).await.expect("import running");
    let row = target.run(failed).await.expect("row");
    assert_eq!(row.status, RunStatus::Failed);
    assert!(row.failure.as_deref().is_some_and(|f| f.contains("it was running where it was recorded")), "{row:?}");
}
