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

/// Where a run was at a step: read from its training points, not from a dev or eval point
/// stored at that step.
#[tokio::test]
async fn progress_at_a_step_comes_from_the_training_points() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("muppet.db")).await.expect("open");
    let run = store.create_run(&new_run("a")).await.expect("create");
    let mut points: Vec<MetricPoint> = (1..=5).map(|s| point(None, "loss", s, 1.0)).collect();
    points.push(MetricPoint { split: "dev".into(), examples: 999, wall_s: 99.0, ..point(Some("rt"), "accuracy", 3, 0.5) });
    store.record_points(run, &points).await.expect("ingest");
    assert_eq!(store.progress_at(run, 3).await.expect("read"), Some((48, 1.5)));
    assert_eq!(store.progress_at(run, 6).await.expect("read"), None);
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

/// A run with points, a checkpoint, a tag, a note and files in its folder.
async fn run_with_files(store: &Store, home: &muppet_core::MuppetHome, name: &str, origin: &muppet_store::RunOrigin) -> muppet_core::RunId {
    let run = store.create_run_in(&new_run(name), origin).await.expect("create");
    let points: Vec<MetricPoint> = (1..=10).map(|s| point(None, "loss", s, 1.0 / s as f64)).chain([point(Some("sst2"), "accuracy", 10, 0.5)]).collect();
    store.record_points(run, &points).await.expect("points");
    let dir = home.run_dir(run);
    std::fs::create_dir_all(dir.join("sub")).expect("run folder");
    std::fs::write(dir.join("model-step10.mpk"), vec![7u8; 1000]).expect("checkpoint file");
    std::fs::write(dir.join("sub/events.jsonl"), b"{}\n").expect("events");
    let sha = "cd".repeat(32);
    store.add_checkpoint(&muppet_store::Checkpoint { run, path: dir.join("model-step10.mpk"), step: 10, bytes: 1000, sha256: sha }).await.expect("checkpoint");
    store.tag_run(run, "keep?").await.expect("tag");
    store.add_note(muppet_store::NoteTarget::Run(run), "a note").await.expect("note");
    store.end_run(run, RunStatus::Completed, None).await.expect("end");
    run
}

/// Hidden entries left in a folder (a deletion's folders moved aside, an import's staging).
fn hidden(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir).into_iter().flatten().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).filter(|n| n.starts_with('.')).collect()
}

/// Deleting runs removes their rows (points, series, checkpoints, tags, notes) and their
/// folders, and counts what went. A run another run started from goes only with it, and a
/// run whose lock is held (being trained) is refused; a refusal changes nothing.
#[tokio::test]
async fn runs_are_deleted_with_their_rows_and_folders_or_not_at_all() {
    use muppet_store::delete::delete_runs;
    let dir = tempfile::tempdir().expect("tempdir");
    let home = muppet_core::MuppetHome::at(dir.path());
    let store = Store::open(&home.db()).await.expect("open");
    let base = muppet_store::RunOrigin { tasks: vec!["sst2".into()], ..Default::default() };
    let parent = run_with_files(&store, &home, "pre-finetune", &base).await;
    let child = run_with_files(&store, &home, "fine-tune", &muppet_store::RunOrigin { parent: Some(parent), ..base.clone() }).await;
    let other = run_with_files(&store, &home, "other", &base).await;
    // What deletions killed half-way left behind (pid 999999999 is no process): the files of
    // a run whose rows are gone, and those of a run still stored (killed before its commit).
    let stale = home.runs().join(".deleted-999999999-1-99");
    std::fs::create_dir_all(&stale).expect("stale folder");
    let interrupted = home.runs().join(format!(".deleted-999999999-2-{other}"));
    std::fs::create_dir_all(&interrupted).expect("interrupted folder");
    std::fs::rename(home.run_dir(other).join("model-step10.mpk"), interrupted.join("model-step10.mpk")).expect("move aside");

    let err = delete_runs(&store, &home, &[parent]).await.expect_err("a fine-tune started from it").to_string();
    assert!(err.contains(&format!("run {child} \"fine-tune\" started from run {parent}")) && err.contains(&format!("muppet runs delete {parent} {child}")), "{err}");
    assert!(home.run_dir(parent).join("model-step10.mpk").is_file(), "its folder is back");
    assert_eq!(store.run(parent).await.expect("kept").points, 11);
    assert!(!stale.exists(), "the files of a run whose rows are gone are removed");
    assert!(home.run_dir(other).join("model-step10.mpk").is_file() && !interrupted.exists(), "the files of a run still stored go back");
    assert_eq!(hidden(&home.runs()), Vec::<String>::new());

    let training = muppet_core::ProcessLock::run(&home, other).expect("lock as a trainer would");
    let err = delete_runs(&store, &home, &[other]).await.expect_err("being trained").to_string();
    assert!(err.starts_with(&format!("run {other} is being trained by another process")), "{err}");
    drop(training);
    assert!(home.run_dir(other).join("sub/events.jsonl").is_file());

    let err = delete_runs(&store, &home, &[muppet_core::RunId(99)]).await.expect_err("unknown").to_string();
    assert_eq!(err, "run 99 does not exist");

    let deleted = delete_runs(&store, &home, &[child, parent, child]).await.expect("delete both");
    assert_eq!(deleted.runs, vec![parent, child]);
    assert_eq!((deleted.points, deleted.checkpoints), (22, 2));
    // Two checkpoints and two event files (the lock files stayed in place, and went with their folders).
    assert_eq!((deleted.files, deleted.bytes), (4, 2 * (1000 + 3)));
    for run in [parent, child] {
        assert!(matches!(store.run(run).await, Err(muppet_store::StoreError::NoSuchRun(_))), "row of {run} gone");
        assert!(!home.run_dir(run).exists(), "folder of {run} gone");
        assert!(store.list_series(run).await.expect("series").is_empty());
        assert!(store.checkpoints(run).await.expect("checkpoints").is_empty());
        assert!(store.notes(muppet_store::NoteTarget::Run(run)).await.expect("notes").is_empty());
    }
    assert_eq!(hidden(&home.runs()), Vec::<String>::new(), "nothing left aside");
    let left: Vec<_> = store.list_runs().await.expect("list").into_iter().map(|r| (r.id, r.points)).collect();
    assert_eq!(left, vec![(other, 11)], "the other run is untouched");
    assert_eq!(store.run_tags(other).await.expect("tags"), ["keep?"]);
}

/// Deleting an experiment removes it with its runs, its orchestrator's folder and its
/// report; refused while its orchestrator holds its lock.
#[tokio::test]
async fn an_experiment_is_deleted_with_its_runs_and_folders() {
    use muppet_store::delete::delete_experiment;
    let dir = tempfile::tempdir().expect("tempdir");
    let home = muppet_core::MuppetHome::at(dir.path());
    let store = Store::open(&home.db()).await.expect("open");
    let new = |name: &str| muppet_store::NewExperiment { name: name.into(), kind: "sample_efficiency".into(), spec: serde_json::json!({}) };
    let experiment = store.create_experiment(&new("curves")).await.expect("experiment");
    let kept = store.create_experiment(&new("kept")).await.expect("other experiment");
    let origin = muppet_store::RunOrigin { experiment: Some(experiment), ..Default::default() };
    let pre = run_with_files(&store, &home, "pre", &origin).await;
    let fine = run_with_files(&store, &home, "fine", &muppet_store::RunOrigin { parent: Some(pre), ..origin.clone() }).await;
    let outside = run_with_files(&store, &home, "outside", &muppet_store::RunOrigin { experiment: Some(kept), ..Default::default() }).await;
    // A fine-tune of another experiment started from one of its runs: it goes first.
    let borrowed = run_with_files(&store, &home, "borrowed", &muppet_store::RunOrigin { parent: Some(pre), experiment: Some(kept), ..Default::default() }).await;
    let err = delete_experiment(&store, &home, experiment).await.expect_err("a run outside started from it").to_string();
    assert_eq!(
        err,
        format!("run {borrowed} \"borrowed\" started from run {pre}, a run outside experiment {}: delete it first (`muppet runs delete {borrowed}`), then the experiment; nothing was deleted", experiment.0)
    );
    assert!(home.run_dir(pre).join("model-step10.mpk").is_file(), "its files are back");
    muppet_store::delete::delete_runs(&store, &home, &[borrowed]).await.expect("the borrowing run goes");
    store.add_note(muppet_store::NoteTarget::Experiment(experiment), "why").await.expect("note");
    std::fs::create_dir_all(home.report_dir(experiment.0)).expect("report");
    std::fs::write(home.report_dir(experiment.0).join("summary.md"), b"# curves\n").expect("summary");
    std::fs::create_dir_all(home.experiment_dir(experiment.0)).expect("experiment folder");
    std::fs::write(home.experiment_dir(experiment.0).join("orchestrator.log"), b"done\n").expect("log");
    // Its comparisons with another experiment go with it; a comparison of others stays,
    // as does one of an experiment whose id merely starts with the same digits.
    let (with_it, others, prefix) = (home.comparison_dir(&[kept.0, experiment.0]), home.comparison_dir(&[kept.0, 999]), home.comparison_dir(&[kept.0, experiment.0 * 10 + 1]));
    for c in [&with_it, &others, &prefix] {
        std::fs::create_dir_all(c).expect("comparison");
        std::fs::write(c.join("summary.md"), b"# compared\n").expect("summary");
    }
    assert_eq!(home.comparisons_of(experiment.0), [with_it.clone()]);

    let orchestrator = muppet_core::ProcessLock::experiment(&home, experiment.0).expect("lock as the orchestrator would");
    let err = delete_experiment(&store, &home, experiment).await.expect_err("being run").to_string();
    assert!(err.starts_with(&format!("experiment {} is being run by another process", experiment.0)), "{err}");
    // Nor does a run of it go alone while its orchestrator runs.
    let err = muppet_store::delete::delete_runs(&store, &home, &[fine]).await.expect_err("its experiment is being run").to_string();
    assert!(err.starts_with(&format!("run {fine} belongs to experiment {}, which is being run by another process (pid ", experiment.0)), "{err}");
    drop(orchestrator);
    assert_eq!(store.experiment_runs(experiment).await.expect("runs").len(), 2);

    let deleted = delete_experiment(&store, &home, experiment).await.expect("delete");
    assert_eq!((deleted.runs, deleted.experiment, deleted.points, deleted.checkpoints), (vec![pre, fine], Some(experiment), 22, 2));
    assert!(matches!(store.experiment(experiment).await, Err(muppet_store::StoreError::NoSuchExperiment(_))));
    for folder in [home.run_dir(pre), home.run_dir(fine), home.report_dir(experiment.0), home.experiment_dir(experiment.0), with_it] {
        assert!(!folder.exists(), "{} gone", folder.display());
    }
    assert!(others.join("summary.md").is_file() && prefix.join("summary.md").is_file(), "comparisons of other experiments stay");
    for parent in [home.runs(), home.root().join("reports"), home.root().join("experiments")] {
        assert_eq!(hidden(&parent), Vec::<String>::new(), "nothing left aside in {}", parent.display());
    }
    assert_eq!(store.list_experiments().await.expect("list").iter().map(|e| e.id).collect::<Vec<_>>(), vec![kept]);
    assert_eq!(store.run(outside).await.expect("other experiment's run").points, 11);
}

/// A run is renamed (trimmed); an empty name, an unknown run and a run of an experiment
/// (which finds its runs by name) are refused.
#[tokio::test]
async fn runs_are_renamed_but_not_those_of_an_experiment() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("muppet.db")).await.expect("open");
    let run = store.create_run(&new_run("first name")).await.expect("run");
    store.rename_run(run, "  sst2 baseline, lr 2e-5 ").await.expect("rename");
    assert_eq!(store.run(run).await.expect("row").name, "sst2 baseline, lr 2e-5");
    let err = store.rename_run(run, "   ").await.expect_err("empty").to_string();
    assert_eq!(err, format!("run {run} needs a name: type one"));
    assert!(matches!(store.rename_run(muppet_core::RunId(99), "x").await, Err(muppet_store::StoreError::NoSuchRun(99))));
    let experiment = store.create_experiment(&muppet_store::NewExperiment { name: "e".into(), kind: "free".into(), spec: serde_json::json!({}) }).await.expect("experiment");
    let member = store.create_run_in(&new_run("base/winowhy/16/0"), &muppet_store::RunOrigin { experiment: Some(experiment), ..Default::default() }).await.expect("member");
    let err = store.rename_run(member, "other").await.expect_err("an experiment's run").to_string();
    assert!(err.starts_with(&format!("run {member} belongs to experiment {}, which finds its runs by name", experiment.0)), "{err}");
    assert_eq!(store.run(member).await.expect("row").name, "base/winowhy/16/0");
}

/// The runs table's optional columns: each run's last and best dev figures (not its
/// training series), and its settings read from the spec, numbers, strings and objects alike.
#[tokio::test]
async fn run_columns_hold_dev_figures_and_settings() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("muppet.db")).await.expect("open");
    // Its spec names the run it started from in another database (an imported run): the
    // column shows its parent here.
    let parent = store.create_run(&new_run("parent")).await.expect("parent");
    let spec = serde_json::json!({"backend": "cpu", "init": {"from": "run", "run": 77}, "config": {"lr": 2e-5, "batch_size": 8, "sampling": {"temperature": 2.0}, "batching": "heterogeneous", "train_size": null}});
    let run = store.create_run_in(&NewRun { spec, ..new_run("with dev") }, &muppet_store::RunOrigin { parent: Some(parent), ..Default::default() }).await.expect("run");
    let dev = |step: u64, value: f64| MetricPoint { task: Some("sst2".into()), split: "dev".into(), name: "accuracy".into(), step, examples: step, wall_s: 0.0, value };
    let points = vec![dev(10, 0.7), dev(20, 0.9), dev(30, 0.8), point(None, "loss", 30, 0.3)];
    store.record_points(run, &points).await.expect("points");
    let bare = store.create_run(&NewRun { spec: serde_json::json!("not an object"), ..new_run("bare") }).await.expect("bare");

    let columns = store.run_columns(None).await.expect("columns");
    let one = store.run_columns(Some(run)).await.expect("one run's columns");
    assert_eq!(one.keys().collect::<Vec<_>>(), [&run]);
    assert_eq!(one[&run], columns[&run]);
    let got = &columns[&run];
    assert_eq!(got.metrics.keys().collect::<Vec<_>>(), ["sst2 dev accuracy"], "training series are not columns");
    assert_eq!(got.metrics["sst2 dev accuracy"], muppet_store::MetricFigures { last: Some(0.8), best: Some(0.9), step: 30 });
    let params = serde_json::to_value(&got.params).expect("json");
    assert_eq!(
        params,
        serde_json::json!({"learning rate": 2e-5, "batch size": 8, "sampling": {"temperature": 2.0}, "batching": "heterogeneous", "backend": "cpu", "started from run": parent.0})
    );
    assert!(!columns.contains_key(&bare), "a run without figures or settings has no columns");
    assert_eq!(muppet_store::metric_column(None, "dev", "loss"), "dev loss");
}

/// A server's and a desktop's data folders under one temporary folder, with their stores.
async fn two_machines() -> (tempfile::TempDir, muppet_core::MuppetHome, Store, muppet_core::MuppetHome, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, desktop) = (muppet_core::MuppetHome::at(dir.path().join("server")), muppet_core::MuppetHome::at(dir.path().join("desktop")));
    for home in [&server, &desktop] {
        home.ensure().expect("data folder");
    }
    let store = Store::open(&server.db()).await.expect("open the server's store");
    let here = Store::open(&desktop.db()).await.expect("open the desktop's store");
    (dir, server, store, desktop, here)
}

/// An experiment's bundle carries the runs its spec starts from (`run:ID`) beside its own,
/// and the import renames those starts to the new ids: it resumes from the same runs there.
#[tokio::test]
async fn an_experiment_bundle_carries_the_runs_it_starts_from() {
    use muppet_store::bundle::{import_bundle, write_bundle};
    let (dir, server, store, desktop, here) = two_machines().await;
    // Runs before it on the desktop, so that ids differ.
    for name in ["a", "b", "c"] {
        here.create_run(&new_run(name)).await.expect("desktop run");
    }
    let earlier = store.create_run(&new_run("earlier pre-finetune")).await.expect("earlier");
    let spec = serde_json::json!({"name": "curves", "sample_efficiency": {"tasks": ["winowhy"], "sizes": [16], "seeds": 1, "starts": ["base", format!("run:{earlier}")]}});
    let experiment = store.create_experiment(&muppet_store::NewExperiment { name: "curves".into(), kind: "sample_efficiency".into(), spec }).await.expect("experiment");
    let init = serde_json::json!({"from": "run", "run": earlier.0, "step": 10, "checkpoint": format!("/srv/muppet/runs/{earlier}/model-step10.mpk"), "reuse_heads": false});
    let fine = store
        .create_run_in(&NewRun { spec: serde_json::json!({"init": init}), ..new_run("run:1/winowhy/16/1") }, &muppet_store::RunOrigin { parent: Some(earlier), experiment: Some(experiment), ..Default::default() })
        .await
        .expect("fine-tune");
    let bundle = dir.path().join("curves.tar");
    let runs = store.experiment_runs(experiment).await.expect("runs").iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(runs, [fine]);
    write_bundle(&store, &server, &runs, Some(experiment), &bundle).await.expect("bundle");

    let imported = import_bundle(&here, &desktop, &bundle, &|_| None).await.expect("import");
    let id_of = |source: muppet_core::RunId| imported.runs.iter().find(|r| r.source_run == source.0).expect("bundled").run;
    let (new_earlier, new_fine) = (id_of(earlier), id_of(fine));
    let new_experiment = imported.experiment.as_ref().expect("experiment").id;
    let stored = here.experiment(new_experiment).await.expect("stored experiment");
    assert_eq!(stored.spec["sample_efficiency"]["starts"], serde_json::json!(["base", format!("run:{new_earlier}")]));
    assert_eq!(here.experiment_runs(new_experiment).await.expect("runs").iter().map(|r| r.id).collect::<Vec<_>>(), [new_fine], "the start is not a run of it");
    assert_eq!(here.run(new_fine).await.expect("fine").parent, Some(new_earlier));
    let spec = here.run_spec(new_fine).await.expect("spec");
    assert_eq!((spec["init"]["run"].as_i64(), spec["init"]["step"].as_i64()), (Some(new_earlier.0), Some(10)), "{spec}");
    assert_eq!(spec["init"]["checkpoint"].as_str(), Some(desktop.run_dir(new_earlier).join("model-step10.mpk").to_str().expect("utf-8")), "{spec}");
    assert_eq!(here.run(new_earlier).await.expect("earlier").experiment, None);
}

/// A bundled run names its base model by the other machine's path: the import points its
/// run.json and its spec at the same model here, and says so in its note; a model not here
/// is said too, and the paths are left as they were.
#[tokio::test]
async fn an_imported_run_finds_its_base_model_on_this_machine() {
    use muppet_store::bundle::{import_bundle, write_bundle};
    let (dir, server, store, desktop, here) = two_machines().await;
    let there = "/srv/muppet/assets/models/all-MiniLM-L6-v2";
    let run = store.create_run(&NewRun { spec: serde_json::json!({"model": there, "tasks": ["rt"]}), ..new_run("pft") }).await.expect("run");
    std::fs::create_dir_all(server.run_dir(run)).expect("run dir");
    std::fs::write(server.run_dir(run).join("run.json"), serde_json::json!({"model_dir": there, "tasks": [], "heads": [], "max_len": 64}).to_string()).expect("run.json");
    let bundle = dir.path().join("run.tar");
    write_bundle(&store, &server, &[run], None, &bundle).await.expect("bundle");

    let here_model = desktop.assets().join("models/all-MiniLM-L6-v2");
    let found = here_model.clone();
    let finds = move |p: &std::path::Path| (p.file_name() == found.file_name()).then(|| found.clone());
    let imported = import_bundle(&here, &desktop, &bundle, &finds).await.expect("import");
    let new = imported.runs[0].run;
    let manifest: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(desktop.run_dir(new).join("run.json")).expect("run.json")).expect("json");
    assert_eq!(manifest["model_dir"].as_str(), here_model.to_str());
    assert_eq!(manifest["max_len"], 64, "the rest of run.json is kept");
    assert_eq!(here.run_spec(new).await.expect("spec")["model"].as_str(), here_model.to_str());
    let notes = here.notes(muppet_store::NoteTarget::Run(new)).await.expect("notes");
    assert!(notes.iter().any(|n| n.body.contains(&format!("its base model {there} is {} on this machine", here_model.display()))), "{notes:?}");

    // An experiment naming the model: its runs still to train take it here.
    let spec = serde_json::json!({"name": "sweep", "model": there, "sweep": {"tasks": ["rt"], "grid": {"lr": [0.0001]}, "seeds": 1}});
    let experiment = store.create_experiment(&muppet_store::NewExperiment { name: "sweep".into(), kind: "sweep".into(), spec }).await.expect("experiment");
    let member = store
        .create_run_in(&NewRun { spec: serde_json::json!({"model": there}), ..new_run("sweep: fine-tune rt") }, &muppet_store::RunOrigin { experiment: Some(experiment), ..Default::default() })
        .await
        .expect("member");
    let with_experiment = dir.path().join("sweep.tar");
    write_bundle(&store, &server, &[member], Some(experiment), &with_experiment).await.expect("bundle");
    let imported = import_bundle(&here, &desktop, &with_experiment, &finds).await.expect("import the experiment");
    let stored = here.experiment(imported.experiment.as_ref().expect("experiment").id).await.expect("stored");
    assert_eq!(stored.spec["model"].as_str(), here_model.to_str());

    // Not on this machine: said, and left as it was.
    let imported = import_bundle(&here, &desktop, &bundle, &|_| None).await.expect("import again");
    let new = imported.runs[0].run;
    assert_eq!(here.run_spec(new).await.expect("spec")["model"], there);
    let notes = here.notes(muppet_store::NoteTarget::Run(new)).await.expect("notes");
    assert!(notes.iter().any(|n| n.body.contains(&format!("its base model {there} is not on this machine"))), "{notes:?}");
}

/// A fine-tune bundled with the run it started from is named after that run's id here.
#[tokio::test]
async fn an_imported_fine_tune_is_named_after_its_parent_here() {
    use muppet_store::bundle::{import_bundle, write_bundle};
    let (dir, server, store, desktop, here) = two_machines().await;
    for name in ["a", "b"] {
        here.create_run(&new_run(name)).await.expect("desktop run");
    }
    let parent = store.create_run(&new_run("pft")).await.expect("parent");
    let name = format!("fine-tune: winowhy n=16 from run {parent}");
    let fine = store
        .create_run_in(&NewRun { name: name.clone(), kind: RunKind::Finetune, ..new_run("x") }, &muppet_store::RunOrigin { parent: Some(parent), ..Default::default() })
        .await
        .expect("fine-tune");
    let bundle = dir.path().join("runs.tar");
    write_bundle(&store, &server, &[parent, fine], None, &bundle).await.expect("bundle");
    let imported = import_bundle(&here, &desktop, &bundle, &|_| None).await.expect("import");
    let id_of = |source: muppet_core::RunId| imported.runs.iter().find(|r| r.source_run == source.0).expect("bundled").run;
    let (new_parent, new_fine) = (id_of(parent), id_of(fine));
    assert_ne!(new_parent, parent, "the desktop's ids differ");
    assert_eq!(here.run(new_fine).await.expect("fine-tune").name, format!("fine-tune: winowhy n=16 from run {new_parent}"));
    // Without its parent it keeps its name; its note says where it started.
    let alone = dir.path().join("alone.tar");
    write_bundle(&store, &server, &[fine], None, &alone).await.expect("bundle");
    let imported = import_bundle(&here, &desktop, &alone, &|_| None).await.expect("import alone");
    assert_eq!(here.run(imported.runs[0].run).await.expect("fine-tune").name, name);
}

/// The app's handle reads every run's columns and specs once and again only after a write
/// moves them (its own or another process's): a new run, a new point, a deletion.
#[tokio::test]
async fn filters_read_the_runs_again_only_after_they_change() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = muppet_core::MuppetHome::at(dir.path());
    let store = Store::open(&home.db()).await.expect("open");
    let run = |name: &str, lr: f64| NewRun { spec: serde_json::json!({"config": {"lr": lr}}), ..new_run(name) };
    let dev = |step: u64, value: f64| MetricPoint { split: "dev".into(), ..point(Some("sst2"), "accuracy", step, value) };
    let a = store.create_run(&run("a", 1e-4)).await.expect("a");
    store.record_points(a, &[dev(1, 0.5)]).await.expect("points");
    let matching = |text: &str| {
        let filter = muppet_store::RunFilter::parse(text).expect("filter");
        let store = store.clone();
        async move {
            let mut runs: Vec<i64> = store.filter_runs(&filter).await.expect("filter").into_iter().map(|r| r.0).collect();
            runs.sort_unstable();
            runs
        }
    };
    assert_eq!(matching("learning rate < 1").await, [a.0]);
    let first = store.cached_run_columns_and_specs().await.expect("read");
    assert!(std::sync::Arc::ptr_eq(&first, &store.cached_run_columns_and_specs().await.expect("again")), "nothing changed: the same reading");
    // Another handle (another process) adds a run: seen.
    let other = Store::open(&home.db()).await.expect("another handle");
    let b = other.create_run(&run("b", 1e-5)).await.expect("b");
    assert_eq!(matching("learning rate < 1").await, [a.0, b.0]);
    // A new point moves a figure.
    assert_eq!(matching("sst2 dev accuracy > 0.9").await, Vec::<i64>::new());
    other.record_points(a, &[dev(2, 0.95)]).await.expect("a better point");
    assert_eq!(matching("sst2 dev accuracy > 0.9").await, [a.0]);
    let groups = store.group_runs(&[muppet_store::RunKey::parse("learning rate").expect("key")], &[a, b]).await.expect("groups");
    assert_eq!(groups.len(), 2);
    // A deleted run is gone.
    muppet_store::delete::delete_runs(&other, &home, &[b]).await.expect("delete b");
    assert_eq!(matching("learning rate < 1").await, [a.0]);
    other.close().await;
}
