//! Experiments looked up by id and by name, and the runs that belong to one.

use muppet_core::{RunKind, RunStatus};
use muppet_store::{ExperimentId, NewExperiment, NewRun, RunOrigin, Store, StoreError};

fn new_run(name: &str) -> NewRun {
    NewRun { name: name.into(), kind: RunKind::Finetune, spec: serde_json::json!({}), seed: Some(1), backend: "flex".into(), device: "cpu".into() }
}

#[tokio::test]
async fn experiments_by_id_and_name_with_their_runs_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("muppet.db")).await.expect("open");
    let spec = serde_json::json!({"name": "demo", "sample_efficiency": {"sizes": [16, 32]}});
    let exp = store.create_experiment(&NewExperiment { name: "demo".into(), kind: "sample_efficiency".into(), spec: spec.clone() }).await.expect("create");
    let other = store.create_experiment(&NewExperiment { name: "other".into(), kind: "task_count".into(), spec: serde_json::json!({}) }).await.expect("create");

    let got = store.experiment(exp).await.expect("by id");
    assert_eq!((got.name.as_str(), got.kind.as_str(), &got.spec), ("demo", "sample_efficiency", &spec));
    assert_eq!(store.experiment_named("demo").await.expect("by name").map(|e| e.id), Some(exp));
    assert_eq!(store.experiment_named("nope").await.expect("by name"), None);
    assert!(matches!(store.experiment(ExperimentId(99)).await, Err(StoreError::NoSuchExperiment(99))));

    let queued = RunOrigin { experiment: Some(exp), queued: true, ..Default::default() };
    let a = store.create_run_in(&new_run("a"), &queued).await.expect("a");
    let _elsewhere = store.create_run_in(&new_run("x"), &RunOrigin { experiment: Some(other), ..Default::default() }).await.expect("x");
    let _loose = store.create_run(&new_run("y")).await.expect("y");
    let b = store.create_run_in(&new_run("b"), &queued).await.expect("b");
    store.end_run(b, RunStatus::Failed, Some("boom")).await.expect("end");

    let runs = store.experiment_runs(exp).await.expect("runs");
    assert_eq!(runs.iter().map(|r| (r.id, r.name.as_str(), r.status)).collect::<Vec<_>>(), vec![(a, "a", RunStatus::Queued), (b, "b", RunStatus::Failed)]);
    assert_eq!(runs[1].failure.as_deref(), Some("boom"));
    assert!(matches!(store.experiment_runs(ExperimentId(99)).await, Err(StoreError::NoSuchExperiment(99))));
    store.close().await;
}
