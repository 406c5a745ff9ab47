//! The runs table (filters, summary sorts, paging), comparisons, CSV export and
//! the records around a run: experiments, tasks, tags, notes, checkpoints.

use std::path::PathBuf;

use muppet_core::{MetricPoint, RunId, RunKind, RunStatus};
use muppet_store::{
    Checkpoint, NewExperiment, NewRun, NoteTarget, ParamFilter, ParamOp, RunOrigin, RunQuery, RunSort, SeriesKey, Store,
    StoreError, SummaryStat,
};

fn spec(lr: f64, tasks: u64, scale: &str) -> serde_json::Value {
    serde_json::json!({"optim": {"lr": lr, "warmup": 100}, "mixture": {"tasks": tasks, "loss_scale": scale}, "fp16": false})
}

fn new_run(name: &str, spec: serde_json::Value) -> NewRun {
    NewRun { name: name.into(), kind: RunKind::PreFinetune, spec, seed: Some(1), backend: "flex".into(), device: "cpu".into() }
}

fn acc(step: u64, value: f64) -> MetricPoint {
    MetricPoint { task: Some("rte".into()), split: "dev".into(), name: "accuracy".into(), step, examples: step, wall_s: 0.0, value }
}

/// Five runs: lr 1e-5..5e-5, two of them tagged `baseline` in one experiment,
/// dev accuracy peaking at 0.5 + run index / 10 at step 20.
async fn five_runs(store: &Store) -> Vec<RunId> {
    let exp = store
        .create_experiment(&NewExperiment { name: "sweep".into(), kind: "task_count".into(), spec: serde_json::json!({"counts": [2, 4]}) })
        .await
        .expect("experiment");
    let mut ids = Vec::new();
    for i in 0..5u64 {
        let origin = if i < 2 {
            RunOrigin { experiment: Some(exp), tags: vec!["baseline".into()], tasks: vec!["rte".into(), "mrpc".into()], ..Default::default() }
        } else {
            RunOrigin { tasks: vec!["rte".into()], git_commit: Some(format!("abc{i}")), ..Default::default() }
        };
        let id = store.create_run_in(&new_run(&format!("run-{i}"), spec((i + 1) as f64 * 1e-5, 2 + i, "log")), &origin).await.expect("run");
        let peak = 0.5 + i as f64 / 10.0;
        store.record_points(id, &[acc(10, peak - 0.2), acc(20, peak), acc(30, peak - 0.1)]).await.expect("points");
        ids.push(id);
    }
    store.end_run(ids[4], RunStatus::Failed, Some("nan loss")).await.expect("end");
    ids
}

async fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("muppet.db")).await.expect("open");
    (dir, store)
}

fn names(page: &muppet_store::RunPage) -> Vec<&str> {
    page.rows.iter().map(|r| r.run.name.as_str()).collect()
}

#[tokio::test]
async fn filters_sorts_and_pages() {
    let (_dir, store) = open().await;
    let ids = five_runs(&store).await;
    let all = store.query_runs(&RunQuery::default()).await.expect("all");
    assert_eq!(all.total, 5);
    assert_eq!(names(&all), ["run-4", "run-3", "run-2", "run-1", "run-0"]);
    assert_eq!(all.rows[0].run.points, 3);

    let q = |f: fn(&mut RunQuery)| {
        let mut q = RunQuery::default();
        f(&mut q);
        q
    };
    let failed = store.query_runs(&q(|q| q.status = Some(RunStatus::Failed))).await.expect("status");
    assert_eq!(names(&failed), ["run-4"]);
    let tagged = store.query_runs(&q(|q| q.tag = Some("baseline".into()))).await.expect("tag");
    assert_eq!(names(&tagged), ["run-1", "run-0"]);
    let mrpc = store.query_runs(&q(|q| q.task = Some("mrpc".into()))).await.expect("task");
    assert_eq!(mrpc.total, 2);
    let experiment = store.list_experiments().await.expect("experiments")[0].id;
    let in_exp = store.query_runs(&RunQuery { experiment: Some(experiment), ..Default::default() }).await.expect("experiment");
    assert_eq!(names(&in_exp), ["run-1", "run-0"]);
    assert_eq!(in_exp.rows[0].run.experiment, Some(experiment));

    let lr = store
        .query_runs(&q(|q| q.params = vec![ParamFilter { path: "$.optim.lr".into(), op: ParamOp::Gt, value: serde_json::json!(2.5e-5) }]))
        .await
        .expect("lr");
    assert_eq!(names(&lr), ["run-4", "run-3", "run-2"]);
    let combined = store
        .query_runs(&q(|q| {
            q.params = vec![
                ParamFilter { path: "$.mixture.tasks".into(), op: ParamOp::Le, value: serde_json::json!(3) },
                ParamFilter { path: "$.mixture.loss_scale".into(), op: ParamOp::Eq, value: serde_json::json!("log") },
                ParamFilter { path: "$.fp16".into(), op: ParamOp::Eq, value: serde_json::json!(false) },
                ParamFilter { path: "$.missing".into(), op: ParamOp::Eq, value: serde_json::Value::Null },
            ]
        }))
        .await
        .expect("combined");
    assert_eq!(names(&combined), ["run-1", "run-0"]);
    let bad = store.query_runs(&q(|q| q.params = vec![ParamFilter { path: "optim.lr".into(), op: ParamOp::Eq, value: serde_json::json!(1) }])).await;
    assert!(matches!(bad, Err(StoreError::BadParamPath(_))), "{bad:?}");

    // Best dev accuracy, highest first, two a page; a run without the series comes last.
    let empty = store.create_run(&new_run("no-metrics", spec(1e-5, 2, "log"))).await.expect("empty run");
    let key = SeriesKey::new(Some("rte"), "dev", "accuracy");
    let mut by_best = RunQuery { sort: RunSort::Summary { key: key.clone(), stat: SummaryStat::Best }, limit: 2, ..Default::default() };
    let page1 = store.query_runs(&by_best).await.expect("page 1");
    assert_eq!(page1.total, 6);
    assert_eq!(names(&page1), ["run-4", "run-3"]);
    assert_eq!(page1.rows[0].sort_value, Some(0.9));
    by_best.offset = 4;
    let page3 = store.query_runs(&by_best).await.expect("page 3");
    assert_eq!(names(&page3), ["run-0", "no-metrics"]);
    assert_eq!(page3.rows[1].run.id, empty);
    by_best.offset = 10;
    let past = store.query_runs(&by_best).await.expect("past the end");
    assert_eq!((past.total, past.rows.len()), (6, 0));
    let by_last_asc = RunQuery { sort: RunSort::Summary { key, stat: SummaryStat::Last }, descending: false, ..Default::default() };
    let asc = store.query_runs(&by_last_asc).await.expect("ascending");
    assert_eq!(asc.rows[0].run.id, ids[0]);
    assert!((asc.rows[0].sort_value.expect("last") - 0.4).abs() < 1e-12);
    let by_name = store.query_runs(&RunQuery { sort: RunSort::Name, descending: false, ..Default::default() }).await.expect("name");
    assert_eq!(names(&by_name)[0], "no-metrics");
}

#[tokio::test]
async fn compare_diffs_parameters_and_reads_metrics_at_a_step() {
    let (_dir, store) = open().await;
    let ids = five_runs(&store).await;
    let err = store.compare_runs(&ids[..1], None).await.expect_err("one run");
    assert!(matches!(err, StoreError::CompareNeedsTwoRuns(1)));

    let c = store.compare_runs(&[ids[0], ids[3]], Some(25)).await.expect("compare");
    let paths: Vec<&str> = c.params.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(paths, ["$.mixture.tasks", "$.optim.lr"], "equal values are left out");
    assert_eq!(c.params[0].values, vec![Some(serde_json::json!(2)), Some(serde_json::json!(5))]);
    assert_eq!(c.metrics.len(), 1);
    let at: Vec<(u64, f64)> = c.metrics[0].values.iter().map(|v| v.map(|m| (m.step, m.value)).expect("value")).collect();
    assert_eq!(at[0].0, 20, "latest point at or before step 25");
    assert!((at[0].1 - 0.5).abs() < 1e-12 && (at[1].1 - 0.8).abs() < 1e-12, "{at:?}");

    let end = store.compare_runs(&[ids[0], ids[1]], None).await.expect("at end");
    assert_eq!(end.metrics[0].values[1].map(|m| m.step), Some(30));
    let early = store.compare_runs(&[ids[0], ids[1]], Some(5)).await.expect("before any point");
    assert_eq!(early.metrics[0].values, vec![None, None]);
}

#[tokio::test]
async fn csv_export_is_complete_and_replaces_the_file_whole() {
    let (dir, store) = open().await;
    let ids = five_runs(&store).await;
    let mut points: Vec<MetricPoint> = (100..1100).map(|s| acc(s, s as f64)).collect();
    points[5].value = f64::NAN;
    store.record_points(ids[0], &points).await.expect("more points");
    let a = store.find_series(ids[0], &SeriesKey::new(Some("rte"), "dev", "accuracy")).await.expect("find").expect("a");
    let b = store.find_series(ids[1], &SeriesKey::new(Some("rte"), "dev", "accuracy")).await.expect("find").expect("b");
    let path = dir.path().join("curves.csv");
    std::fs::write(&path, "old contents").expect("old file");
    let n = store.export_csv(&[a, b], &path).await.expect("export");
    assert_eq!(n, 1003 + 3);
    let text = std::fs::read_to_string(&path).expect("read");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1 + 1006);
    assert_eq!(lines[0], "run_id,run_name,task,split,name,step,examples,wall_s,value");
    assert_eq!(lines[1], format!("{},run-0,rte,dev,accuracy,10,10,0,0.3", ids[0].0));
    assert!(lines.iter().any(|l| l.ends_with(",105,105,0,NaN")), "NaN is written as NaN");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).expect("dir").filter_map(|e| e.ok()).filter(|e| e.file_name().to_string_lossy().contains(".tmp-")).collect();
    assert!(leftovers.is_empty(), "no temporary file left");

    // A failed export leaves the previous file as it was.
    let err = store.export_csv(&[muppet_store::SeriesId(9999)], &path).await.expect_err("unknown series");
    assert!(matches!(err, StoreError::NoSuchSeries(9999)));
    assert_eq!(std::fs::read_to_string(&path).expect("read"), text);
    let nowhere = dir.path().join("missing-folder").join("x.csv");
    let err = store.export_csv(&[a], &nowhere).await.expect_err("no folder");
    assert!(err.to_string().contains("missing-folder"), "{err}");
}

#[tokio::test]
async fn lineage_tags_tasks_notes_and_checkpoints_round_trip() {
    let (_dir, store) = open().await;
    let ids = five_runs(&store).await;
    let parent = ids[0];
    let child = store
        .create_run_in(
            &NewRun { kind: RunKind::Finetune, ..new_run("ft", serde_json::json!({})) },
            &RunOrigin { parent: Some(parent), git_commit: Some("deadbeef".into()), ..Default::default() },
        )
        .await
        .expect("fine-tune");
    let row = store.run(child).await.expect("row");
    assert_eq!((row.parent, row.git_commit.as_deref(), row.kind), (Some(parent), Some("deadbeef"), RunKind::Finetune));
    let orphan = store.create_run_in(&new_run("x", serde_json::json!({})), &RunOrigin { parent: Some(RunId(999)), ..Default::default() }).await;
    assert!(matches!(orphan, Err(StoreError::NoSuchRun(999))), "{orphan:?}");
    let lost = store
        .create_run_in(&new_run("y", serde_json::json!({})), &RunOrigin { experiment: Some(muppet_store::ExperimentId(77)), ..Default::default() })
        .await;
    assert!(matches!(lost, Err(StoreError::NoSuchExperiment(77))), "{lost:?}");

    store.tag_run(child, "ablation").await.expect("tag");
    store.tag_run(child, "ablation").await.expect("tag twice");
    store.tag_run(child, "best").await.expect("tag");
    assert_eq!(store.run_tags(child).await.expect("tags"), ["ablation", "best"]);
    store.tag_run(parent, "baseline").await.expect("tag");
    let all = store.all_run_tags().await.expect("all tags");
    assert!(all.values().all(|tags| !tags.is_empty()), "untagged runs are left out");
    assert_eq!(all[&child], ["ablation", "best"]);
    assert_eq!(all[&parent], ["baseline"]);
    assert!(store.untag_run(child, "best").await.expect("untag"));
    assert!(!store.untag_run(child, "best").await.expect("untag again"));
    assert_eq!(store.all_run_tags().await.expect("all tags")[&child], ["ablation"]);
    assert!(matches!(store.tag_run(RunId(999), "x").await, Err(StoreError::NoSuchRun(999))));

    store.add_run_task(child, "rte").await.expect("task");
    assert_eq!(store.run_tasks(child).await.expect("tasks"), ["rte"]);
    assert_eq!(store.run_tasks(parent).await.expect("tasks"), ["mrpc", "rte"]);

    let exp = store.list_experiments().await.expect("experiments")[0].clone();
    assert_eq!((exp.name.as_str(), exp.kind.as_str()), ("sweep", "task_count"));
    assert_eq!(exp.spec, serde_json::json!({"counts": [2, 4]}));
    store.add_note(NoteTarget::Run(child), "diverged at 3k").await.expect("note");
    store.add_note(NoteTarget::Experiment(exp.id), "rerun with 5 seeds").await.expect("note");
    let notes = store.notes(NoteTarget::Run(child)).await.expect("notes");
    assert_eq!(notes.iter().map(|n| n.body.as_str()).collect::<Vec<_>>(), ["diverged at 3k"]);
    assert_eq!(store.notes(NoteTarget::Experiment(exp.id)).await.expect("notes").len(), 1);
    assert!(matches!(store.add_note(NoteTarget::Run(RunId(999)), "x").await, Err(StoreError::NoSuchRun(999))));
    // Notes given at registration are stored with the run, the note first, then the others.
    let warned = store
        .create_run_in(&new_run("w", serde_json::json!({})), &RunOrigin { note: Some("why".into()), notes: vec!["Warning: shares inputs".into()], ..Default::default() })
        .await
        .expect("run with notes");
    let said: Vec<String> = store.notes(NoteTarget::Run(warned)).await.expect("notes").into_iter().map(|n| n.body).collect();
    assert_eq!(said, ["why", "Warning: shares inputs"]);

    let sha = "AB".repeat(32);
    let ckpt = |step: u64, bytes: u64| Checkpoint { run: child, path: PathBuf::from(format!("runs/{}/step-{step}", child.0)), step, bytes, sha256: sha.clone() };
    store.add_checkpoint(&ckpt(200, 10)).await.expect("checkpoint");
    store.add_checkpoint(&ckpt(100, 10)).await.expect("checkpoint");
    store.add_checkpoint(&ckpt(200, 20)).await.expect("same step replaces");
    let stored = store.checkpoints(child).await.expect("checkpoints");
    assert_eq!(stored.iter().map(|c| (c.step, c.bytes)).collect::<Vec<_>>(), [(100, 10), (200, 20)]);
    assert_eq!(stored[0].sha256, "ab".repeat(32));
    let short = Checkpoint { sha256: "abc".into(), ..ckpt(300, 1) };
    assert!(store.add_checkpoint(&short).await.is_err(), "a sha256 must be 64 hex characters");
}

/// The runs table as one CSV row per run, in the order asked: its record, its settings (those
/// any of the runs has) and each figure's last and best value; written whole or not at all.
#[tokio::test]
async fn the_runs_table_is_exported_one_row_per_run() {
    let (dir, store) = open().await;
    let mut ids = Vec::new();
    for (i, sampling) in [serde_json::json!({"kind": "natural"}), serde_json::json!({"kind": "temperature", "t": 2.0})].into_iter().enumerate() {
        let spec = serde_json::json!({"config": {"lr": (i + 1) as f64 * 1e-5, "batch_size": 16, "sampling": sampling}, "backend": "cpu"});
        let tags = if i == 0 { vec!["baseline".to_string(), "paper, fig 3".to_string()] } else { Vec::new() };
        let origin = RunOrigin { tags, parent: ids.first().copied(), ..Default::default() };
        ids.push(store.create_run_in(&new_run(&format!("run \"{i}\""), spec), &origin).await.expect("run"));
    }
    store.record_points(ids[0], &[acc(10, 0.7), acc(20, 0.6)]).await.expect("points");
    let path = dir.path().join("runs.csv");
    let written = store.export_runs_table(&[ids[1], ids[0]], &path).await.expect("export");
    assert_eq!(written, 2);
    let mut reader = csv::Reader::from_path(&path).expect("csv");
    let head: Vec<String> = reader.headers().expect("head").iter().map(str::to_string).collect();
    assert_eq!(
        head,
        ["run_id", "name", "kind", "status", "started_at", "ended_at", "tags", "parent_run_id", "learning rate", "batch size", "sampling", "backend", "rte dev accuracy", "rte dev accuracy (best)"]
    );
    let rows: Vec<Vec<String>> = reader.records().map(|r| r.expect("row").iter().map(str::to_string).collect()).collect();
    let cell = |row: &[String], name: &str| row[head.iter().position(|h| h == name).expect(name)].clone();
    assert_eq!(cell(&rows[0], "run_id"), ids[1].0.to_string(), "in the order asked");
    assert_eq!(cell(&rows[0], "name"), "run \"1\"");
    assert_eq!(cell(&rows[0], "parent_run_id"), ids[0].0.to_string());
    assert_eq!(cell(&rows[0], "sampling"), r#"{"kind":"temperature","t":2.0}"#);
    assert_eq!(cell(&rows[0], "rte dev accuracy"), "", "a run without the figure has an empty cell");
    assert_eq!(cell(&rows[1], "tags"), "baseline;paper, fig 3");
    assert_eq!(cell(&rows[1], "learning rate"), "0.00001");
    assert_eq!(cell(&rows[1], "status"), "running");
    assert_eq!((cell(&rows[1], "rte dev accuracy"), cell(&rows[1], "rte dev accuracy (best)")), ("0.6".to_string(), "0.7".to_string()));

    // A run that does not exist: an error, and the file as it was.
    let before = std::fs::read(&path).expect("read");
    assert!(matches!(store.export_runs_table(&[ids[0], RunId(99)], &path).await, Err(StoreError::NoSuchRun(99))));
    assert_eq!(std::fs::read(&path).expect("read"), before);
    let left: Vec<String> = std::fs::read_dir(dir.path()).expect("ls").map(|e| e.expect("entry").file_name().to_string_lossy().to_string()).filter(|n| !n.starts_with("muppet.db")).collect();
    assert_eq!(left, ["runs.csv"], "no partial file left beside it");
    store.close().await;
}
