//! `muppet experiment` and `muppet report` end to end on the real MiniLM and real tasks:
//! a tiny sample-efficiency experiment (one pre-finetuning stage, 2 sizes x 2 seeds x
//! base and pre-finetuned) run with two workers at a time, run again (nothing to do),
//! reported; and specs that must be refused before any run starts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use muppet_tests::cli::{last_json, muppet, text};
use muppet_tests::experiments::TINY_SETTINGS as TINY;

fn write_spec(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, format!("name = \"{name}\"\n{body}")).expect("write spec");
    path
}

/// `muppet experiment run --spec SPEC --parallel 2 --json`, which must complete; its JSON.
fn run_to_completion(home: &Path, spec: &Path) -> serde_json::Value {
    let out = muppet(home, &["experiment", "run", "--spec", spec.to_str().expect("utf-8"), "--parallel", "2", "--json"]);
    assert!(out.status.success(), "experiment run failed:\n{}", text(&out));
    let result = last_json(&out);
    assert_eq!(result["status"], "completed", "{result}");
    result
}

fn sample_efficiency(stage_tasks: &str, downstream: &str, sizes: &str, seeds: &str) -> String {
    format!(
        "{TINY}\n[[stages]]\nname = \"pft\"\ntasks = {stage_tasks}\n\n[sample_efficiency]\ntasks = {downstream}\nsizes = {sizes}\nseeds = {seeds}\nstarts = [\"base\", \"pft\"]\n"
    )
}

#[test]
fn a_tiny_sample_efficiency_experiment_runs_resumes_and_reports() {
    let home = tempfile::tempdir().expect("tempdir");
    let spec = write_spec(home.path(), "tiny", &sample_efficiency(r#"["strategyqa", "fever_claims"]"#, r#"["winowhy"]"#, "[8, 16]", "2"));
    let spec = spec.to_str().expect("utf-8 path");

    let out = muppet(home.path(), &["experiment", "run", "--spec", spec, "--parallel", "2", "--json"]);
    assert!(out.status.success(), "experiment run failed:\n{}", text(&out));
    let result = last_json(&out);
    assert_eq!(result["status"], "completed", "{result}");
    let id = result["experiment_id"].as_i64().expect("experiment id");
    let runs = result["runs"].as_array().expect("runs");
    // One stage, then 1 task x 2 sizes x 2 seeds x (base, pft).
    assert_eq!(runs.len(), 9, "{result}");
    assert!(runs.iter().all(|r| r["status"] == "completed"), "{result}");
    let stage_id = runs[0]["run_id"].as_i64().expect("stage run");
    assert_eq!(runs[0]["kind"], "pre_finetune");
    let from_stage: Vec<&serde_json::Value> = runs.iter().filter(|r| r["start"] == "pft").collect();
    assert_eq!(from_stage.len(), 4);
    assert!(from_stage.iter().all(|r| r["depends_on"] == runs[0]["name"]));
    for r in runs.iter().skip(1) {
        let v = r["dev_metric"].as_f64().unwrap_or_else(|| panic!("no dev metric: {r}"));
        assert!((0.0..=1.0).contains(&v), "{r}");
        assert_eq!(r["metric"], "accuracy");
    }

    // The store links every run to the experiment, and fine-tunes from the stage to it.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let rows = rt.block_on(async {
        let store = muppet_store::Store::open(&home.path().join("muppet.db")).await.expect("store");
        let rows = store.experiment_runs(muppet_store::ExperimentId(id)).await.expect("runs");
        store.close().await;
        rows
    });
    assert_eq!(rows.len(), 9);
    assert_eq!(rows.iter().filter(|r| r.parent == Some(muppet_core::RunId(stage_id))).count(), 4);
    // Fine-tunes keep their model checkpoint but not the optimizer state; the stage keeps both.
    let files = |id: i64| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(home.path().join("runs").join(id.to_string())).expect("run dir").map(|e| e.expect("entry").file_name().to_string_lossy().to_string()).collect();
        v.sort();
        v
    };
    let leaf = runs[1]["run_id"].as_i64().expect("fine-tune id");
    assert!(files(leaf).iter().any(|f| f.starts_with("model-step")), "{:?}", files(leaf));
    assert!(!files(leaf).iter().any(|f| f.starts_with("optim-step")), "{:?}", files(leaf));
    assert!(files(stage_id).iter().any(|f| f.starts_with("optim-step")), "{:?}", files(stage_id));

    // Running the same spec again finds everything done and starts nothing.
    let started = std::time::Instant::now();
    let again = muppet(home.path(), &["experiment", "run", "--spec", spec, "--json"]);
    assert!(again.status.success(), "{}", text(&again));
    let again_json = last_json(&again);
    assert_eq!(again_json["experiment_id"].as_i64(), Some(id));
    let ids = |v: &serde_json::Value| v["runs"].as_array().map(|a| a.iter().map(|r| r["run_id"].as_i64()).collect::<Vec<_>>());
    assert_eq!(ids(&again_json), ids(&result), "the same runs, none new");
    assert!(text(&again).contains("9 already completed"), "{}", text(&again));
    assert!(started.elapsed().as_secs() < 60, "a finished experiment should take seconds, not {:?}", started.elapsed());

    let resumed = muppet(home.path(), &["experiment", "resume", &id.to_string(), "--json"]);
    assert!(resumed.status.success(), "{}", text(&resumed));
    assert_eq!(ids(&last_json(&resumed)), ids(&result), "resume by id: the same runs, none new");

    // `runs list` filtered: the experiment's runs, its completed fine-tunes of winowhy, none failed.
    let listed = |args: &[&str]| -> Vec<i64> {
        let out = muppet(home.path(), &[&["runs", "list", "--json"], args].concat());
        assert!(out.status.success(), "{}", text(&out));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("runs JSON").as_array().expect("array").iter().map(|r| r["id"].as_i64().expect("id")).collect()
    };
    let mut all: Vec<i64> = runs.iter().map(|r| r["run_id"].as_i64().expect("run id")).collect();
    all.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(listed(&["--experiment", &id.to_string()]), all, "newest first");
    assert_eq!(listed(&["--experiment", &id.to_string(), "--status", "completed", "--task", "winowhy"]).len(), 8);
    assert!(listed(&["--status", "failed"]).is_empty());
    let bad = muppet(home.path(), &["runs", "list", "--status", "done"]);
    assert!(!bad.status.success() && text(&bad).contains("done"), "{}", text(&bad));

    let status = muppet(home.path(), &["experiment", "status", &id.to_string(), "--json"]);
    assert!(status.status.success(), "{}", text(&status));
    assert_eq!(last_json(&status)["status"], "completed");

    // The report: charts, CSVs and the summary, in a folder that did not exist before.
    let report = home.path().join("report");
    let out = muppet(home.path(), &["report", &id.to_string(), "--out", report.to_str().expect("utf-8")]);
    assert!(out.status.success(), "report failed:\n{}", text(&out));
    for f in ["summary.md", "points.csv", "runs.csv", "sample_efficiency_winowhy.svg", "sample_efficiency_winowhy.png", "prefinetune_pft.svg", "prefinetune_pft.png"] {
        assert!(report.join(f).is_file(), "missing {f}");
    }
    let png = std::fs::read(report.join("sample_efficiency_winowhy.png")).expect("png");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let svg = std::fs::read_to_string(report.join("sample_efficiency_winowhy.svg")).expect("svg");
    assert!(svg.contains("winowhy") && svg.contains("training examples (log scale)"));
    let leftovers: Vec<String> = std::fs::read_dir(home.path()).expect("ls").map(|e| e.expect("entry").file_name().to_string_lossy().to_string()).filter(|n| n.contains("partial")).collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // runs.csv: one row per fine-tune with its value; points.csv: one row per (arm, size)
    // whose mean is the mean of those values and whose n is the number of seeds.
    let runs_csv = std::fs::read_to_string(report.join("runs.csv")).expect("runs.csv");
    let mut values: BTreeMap<(String, String), Vec<f64>> = BTreeMap::new();
    let rows: Vec<&str> = runs_csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 8, "{runs_csv}");
    for row in rows {
        let f: Vec<&str> = row.split(',').collect();
        // name,run_id,task,arm,train_size,seed,value
        assert_eq!(f[2], "winowhy");
        values.entry((f[3].to_string(), f[4].to_string())).or_default().push(f[6].parse().expect("value"));
    }
    let points = std::fs::read_to_string(report.join("points.csv")).expect("points.csv");
    let mut lines = points.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("no column {name}"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 4, "{points}");
    for r in &rows {
        assert_eq!(r[col("kind")], "sample_efficiency");
        assert_eq!(r[col("n")], "2");
        let key = (r[col("arm")].to_string(), r[col("train_size")].to_string());
        let v = &values[&key];
        let mean: f64 = r[col("mean")].parse().expect("mean");
        assert!((mean - v.iter().sum::<f64>() / v.len() as f64).abs() < 1e-12, "{key:?}: {mean} vs {v:?}");
        if key.0 == "base" {
            assert_eq!(r[col("gain_mean")], "0", "the base model's gain over itself");
        }
    }
    let summary = std::fs::read_to_string(report.join("summary.md")).expect("summary");
    assert!(summary.contains("![winowhy: sample efficiency](sample_efficiency_winowhy.png)"), "{summary}");
    assert!(summary.contains("| 8 |") && summary.contains("| 16 |"), "{summary}");
    assert!(summary.contains("- `winowhy`: ") && summary.contains("examples, held out (a seeded draw"), "{summary}");

    assert!(!summary.contains("scored directly"), "nothing was scored yet: {summary}");
    // The stage's model scored directly on its own multiple-choice task (its dev examples,
    // its shared head): a section of the next report.
    let out = muppet(home.path(), &["eval", &stage_id.to_string(), "--task", "strategyqa", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let scored: serde_json::Value = serde_json::from_slice(&out.stdout).expect("eval --json");
    let accuracy = scored["scores"][0]["value"].as_f64().expect("accuracy");

    // A second report replaces the first whole.
    std::fs::write(report.join("stale.txt"), "old").expect("stale");
    let out = muppet(home.path(), &["report", &id.to_string(), "--out", report.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!report.join("stale.txt").exists() && report.join("summary.md").is_file());
    let summary = std::fs::read_to_string(report.join("summary.md")).expect("summary");
    assert!(summary.contains("## The pre-finetuned models scored directly") && summary.contains("### strategyqa (eval-dev)"), "{summary}");
    assert!(summary.contains(&format!("| pft | {stage_id} | 3 | {accuracy:.3} |")), "{summary}");
    assert!(report.join("scored_strategyqa_eval_dev.png").is_file());

    // A second experiment of the same design on the same task (the base model alone, other
    // seeds' count), compared with the first: one chart per shared task with both
    // experiments' curves, each point as its own report computes it.
    let other = write_spec(home.path(), "tiny-base", &format!("{TINY}\n[sample_efficiency]\ntasks = [\"winowhy\"]\nsizes = [8]\nseeds = 1\nstarts = [\"base\"]\n"));
    let second = run_to_completion(home.path(), &other)["experiment_id"].as_i64().expect("experiment id");
    let compared = home.path().join("compared");
    let out = muppet(home.path(), &["report", &id.to_string(), &second.to_string(), "--out", compared.to_str().expect("utf-8")]);
    assert!(out.status.success() && text(&out).contains("compared on 1 downstream task"), "{}", text(&out));
    let svg = std::fs::read_to_string(compared.join("compare_winowhy.svg")).expect("comparison chart");
    for label in [format!("E{id} base"), format!("E{id} pft"), format!("E{second} base")] {
        assert!(svg.contains(&label), "{label} missing from the comparison chart");
    }
    let summary = std::fs::read_to_string(compared.join("summary.md")).expect("summary");
    assert!(summary.contains(&format!("| E{second} | tiny-base (experiment {second}) | 1 of 1 | 1 |")), "{summary}");
    let own = |csv: &str, experiment: Option<i64>| -> f64 {
        let mut lines = csv.lines();
        let header: Vec<&str> = lines.next().expect("header").split(',').collect();
        let col = |name: &str| header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("no column {name}"));
        let row = lines
            .map(|l| l.split(',').collect::<Vec<_>>())
            .find(|r| r[col("arm")] == "pft" && r[col("train_size")] == "16" && experiment.is_none_or(|e| r[col("experiment_id")] == e.to_string()))
            .expect("pft at 16");
        row[col("mean")].parse().expect("mean")
    };
    let alone = own(&std::fs::read_to_string(report.join("points.csv")).expect("points"), None);
    assert_eq!(own(&std::fs::read_to_string(compared.join("points.csv")).expect("points"), Some(id)), alone, "the same figure as the experiment's own report");
    let out = muppet(home.path(), &["report", &id.to_string(), &id.to_string(), "--out", compared.to_str().expect("utf-8")]);
    assert!(!out.status.success() && text(&out).contains(&format!("experiment {id} is named twice")), "{}", text(&out));
    let out = muppet(home.path(), &["experiment", "delete", &second.to_string()]);
    assert!(out.status.success(), "{}", text(&out));

    // Bundled whole (as from a GPU server) and imported into another data folder: the same
    // experiment, its runs linked to it and the fine-tunes to their stage, and the same report.
    let (desktop, files) = (tempfile::tempdir().expect("tempdir"), tempfile::tempdir().expect("tempdir"));
    let bundle = files.path().join("experiment.tar");
    let bundle_arg = bundle.to_str().expect("utf-8");
    let out = muppet(home.path(), &["experiment", "bundle", &id.to_string(), "--out", bundle_arg]);
    assert!(out.status.success(), "{}", text(&out));
    let out = muppet(desktop.path(), &["runs", "import", bundle_arg, "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let imported = last_json(&out);
    assert_eq!((imported["experiment"]["source_id"].as_i64(), imported["runs"].as_array().map(Vec::len)), (Some(id), Some(9)), "{imported}");
    let there = imported["experiment"]["id"].as_i64().expect("experiment id");
    let status = muppet(desktop.path(), &["experiment", "status", &there.to_string(), "--json"]);
    assert!(status.status.success(), "{}", text(&status));
    let status = last_json(&status);
    assert_eq!(status["status"], "completed", "{status}");
    let new_stage = status["runs"][0]["run_id"].as_i64().expect("stage");
    let linked = rt.block_on(async {
        let store = muppet_store::Store::open(&desktop.path().join("muppet.db")).await.expect("store");
        let rows = store.experiment_runs(muppet_store::ExperimentId(there)).await.expect("runs");
        store.close().await;
        rows.iter().filter(|r| r.parent == Some(muppet_core::RunId(new_stage))).count()
    });
    assert_eq!(linked, 4, "the fine-tunes keep their stage");
    let report_there = desktop.path().join("report");
    let out = muppet(desktop.path(), &["report", &there.to_string(), "--out", report_there.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", text(&out));
    let read = |dir: &Path| std::fs::read_to_string(dir.join("points.csv")).expect("points.csv");
    assert_eq!(read(&report_there), read(&report), "the same figures from the imported runs");
    let again = muppet(desktop.path(), &["runs", "import", bundle_arg]);
    assert!(!again.status.success() && text(&again).contains(&format!("experiment `tiny` is already here, as experiment {there}")), "{}", text(&again));
    let listed = serde_json::from_slice::<serde_json::Value>(&muppet(desktop.path(), &["runs", "list", "--json"]).stdout).expect("runs JSON");
    assert_eq!(listed.as_array().map(Vec::len), Some(9), "a refused import adds nothing");

    // A run of the experiment deleted alone is trained again by `experiment resume`; the
    // stage cannot go without the fine-tunes that started from it.
    let out = muppet(home.path(), &["runs", "delete", &stage_id.to_string()]);
    assert!(!out.status.success() && text(&out).contains(&format!("started from run {stage_id}")), "{}", text(&out));
    assert!(home.path().join("runs").join(stage_id.to_string()).is_dir(), "a refusal deletes nothing");
    let out = muppet(home.path(), &["runs", "delete", &leaf.to_string(), "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let deleted = last_json(&out);
    assert_eq!(deleted["runs"], serde_json::json!([leaf]), "{deleted}");
    assert!(deleted["checkpoints"].as_u64() >= Some(1) && deleted["points"].as_u64() > Some(0), "{deleted}");
    assert!(!home.path().join("runs").join(leaf.to_string()).exists());
    let resumed = muppet(home.path(), &["experiment", "resume", &id.to_string(), "--json"]);
    assert!(resumed.status.success(), "{}", text(&resumed));
    let resumed = last_json(&resumed);
    assert_eq!(resumed["status"], "completed", "{resumed}");
    let again = resumed["runs"].as_array().expect("runs").iter().find(|r| r["name"] == runs[1]["name"]).expect("the deleted run's name").clone();
    assert!(again["run_id"].as_i64().is_some_and(|r| r > leaf) && again["status"] == "completed", "trained again as a new run: {again}");

    // Deleting the experiment removes it with every run of it and its folders.
    let out = muppet(home.path(), &["experiment", "delete", &id.to_string(), "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let deleted = last_json(&out);
    assert_eq!((deleted["experiment"].as_i64(), deleted["runs"].as_array().map(Vec::len)), (Some(id), Some(9)), "{deleted}");
    let list = |args: &[&str]| serde_json::from_slice::<serde_json::Value>(&muppet(home.path(), args).stdout).expect("list JSON");
    assert_eq!(list(&["experiment", "list", "--json"]), serde_json::json!([]));
    assert_eq!(list(&["runs", "list", "--json"]), serde_json::json!([]));
    assert!(!home.path().join("experiments").join(id.to_string()).exists());
    let left: Vec<_> = std::fs::read_dir(home.path().join("runs")).expect("runs").flatten().map(|e| e.file_name()).collect();
    assert!(left.is_empty(), "{left:?}");
}

/// Each bad spec is refused with the field named, and no run is created.
#[test]
fn bad_specs_are_refused_before_any_run_starts() {
    let home = tempfile::tempdir().expect("tempdir");
    let cases = [
        ("unknown_task", sample_efficiency(r#"["strategyqa"]"#, r#"["winowhy", "no_such_task"]"#, "[8]", "1"), "sample_efficiency.tasks: unknown task `no_such_task`"),
        // winowhy has under 3,000 examples; 16 go to dev.
        ("too_large", sample_efficiency(r#"["strategyqa"]"#, r#"["winowhy"]"#, "[8, 5000]", "1"), "sample_efficiency.sizes: 5000 training examples of `winowhy` asked for, but it has"),
        ("zero_seeds", sample_efficiency(r#"["strategyqa"]"#, r#"["winowhy"]"#, "[8]", "0"), "sample_efficiency.seeds: no seeds"),
        ("overlap", sample_efficiency(r#"["strategyqa", "winowhy"]"#, r#"["winowhy"]"#, "[8]", "1"), "downstream task `winowhy` is in the pre-finetuning mixture of `pft`"),
        ("no_design", TINY.to_string(), "no design"),
    ];
    for (name, body, want) in cases {
        let spec = write_spec(home.path(), name, &body);
        let out = muppet(home.path(), &["experiment", "run", "--spec", spec.to_str().expect("utf-8")]);
        assert!(!out.status.success(), "{name}: should be refused:\n{}", text(&out));
        let msg = text(&out);
        assert!(msg.contains(want), "{name}: expected {want:?} in:\n{msg}");
        assert!(msg.contains(&format!("{name}.toml")), "{name}: the message names the file:\n{msg}");
        if name == "overlap" {
            assert!(msg.contains("--allow-overlap"), "{msg}");
        }
        if name == "too_large" {
            assert!(msg.contains("minus 16 held out for dev"), "{msg}");
        }
    }
    // Nothing was created: no experiment, no run.
    let out = muppet(home.path(), &["experiment", "list", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(last_json(&out), serde_json::json!([]));
    let out = muppet(home.path(), &["runs", "list", "--json"]);
    assert_eq!(last_json(&out), serde_json::json!([]));
}

/// A stage that diverges fails, is retried once, and is reported; the fine-tunes that
/// start from it are blocked, the base fine-tune still runs, and the exit status says so.
#[test]
fn a_failing_stage_is_retried_once_then_reported_and_blocks_its_fine_tunes() {
    let home = tempfile::tempdir().expect("tempdir");
    let body = sample_efficiency(r#"["strategyqa"]"#, r#"["winowhy"]"#, "[8]", "1")
        .replace("[[stages]]\nname = \"pft\"", "[[stages]]\nname = \"pft\"\nconfig = { lr = 1e30, warmup = 0, clip_norm = 1e30 }");
    let spec = write_spec(home.path(), "diverges", &body);
    let out = muppet(home.path(), &["experiment", "run", "--spec", spec.to_str().expect("utf-8"), "--parallel", "2", "--json"]);
    assert!(!out.status.success(), "a failed run fails the command:\n{}", text(&out));
    let result = last_json(&out);
    assert_eq!(result["status"], "failed", "{result}");
    let runs = result["runs"].as_array().expect("runs");
    let by_start = |s: &str| runs.iter().find(|r| r["start"] == s || (s == "stage" && r["kind"] == "pre_finetune")).cloned().expect("run");
    let stage = by_start("stage");
    assert_eq!(stage["status"], "failed", "{result}");
    assert!(stage["reason"].as_str().is_some_and(|r| r.contains("diverged")), "{stage}");
    assert_eq!(by_start("base")["status"], "completed", "{result}");
    let blocked = by_start("pft");
    assert_eq!(blocked["status"], "blocked", "{result}");
    assert_eq!(blocked["run_id"], serde_json::Value::Null, "a blocked run is never created");
    let log = text(&out);
    assert_eq!(log.matches("retrying once").count(), 1, "{log}");
}

/// SIGTERM to `muppet experiment run` (what the app's Cancel sends): the completed run
/// stays completed, the running one ends `cancelled` with a checkpoint, nothing new starts,
/// and running the same spec again resumes it (the same runs, the stopped one continued).
#[test]
fn sigterm_stops_an_experiment_that_the_same_spec_then_resumes() {
    let home = tempfile::tempdir().expect("tempdir");
    // The stage is quick; the fine-tunes are long enough to be stopped in the middle.
    let body = sample_efficiency(r#"["strategyqa"]"#, r#"["winowhy"]"#, "[8]", "1").replace("[finetune]\nsteps = 2", "[finetune]\nsteps = 100\ncheckpoint_every = 0");
    let spec = write_spec(home.path(), "stopped", &body);
    let spec = spec.to_str().expect("utf-8 path");
    let mut child = muppet_tests::cli::command(home.path(), &["experiment", "run", "--spec", spec, "--parallel", "1", "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start muppet");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let db = home.path().join("muppet.db");
    // Wait until the stage is completed and a fine-tune has trained a few steps.
    let started = std::time::Instant::now();
    let running = loop {
        assert!(started.elapsed().as_secs() < 300, "no fine-tune got going within 5 minutes");
        assert!(child.try_wait().expect("wait").is_none(), "the experiment ended before it was stopped");
        std::thread::sleep(std::time::Duration::from_millis(100));
        if !db.is_file() {
            continue;
        }
        let rows = rt.block_on(async {
            let store = muppet_store::Store::open(&db).await.expect("store");
            let rows = store.list_runs().await.expect("runs");
            store.close().await;
            rows
        });
        let stage_done = rows.iter().any(|r| r.kind == muppet_core::RunKind::PreFinetune && r.status == muppet_core::RunStatus::Completed);
        if let Some(r) = rows.iter().find(|r| r.kind == muppet_core::RunKind::Finetune && r.status == muppet_core::RunStatus::Running && r.points > 4)
            && stage_done
        {
            break r.id;
        }
    };
    // While it runs, a second orchestrator of the same experiment is refused.
    let second = muppet(home.path(), &["experiment", "run", "--spec", spec, "--json"]);
    let said = text(&second);
    assert!(!second.status.success(), "{said}");
    assert!(said.contains(&format!("is being run by another process (pid {})", child.id())) && said.contains("run.lock"), "{said}");
    let status = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(status.success());
    let out = child.wait_with_output().expect("wait");
    assert!(!out.status.success(), "a stopped experiment is not a success:\n{}", text(&out));
    let result = last_json(&out);
    assert_eq!(result["status"], "cancelled", "{result}");
    let runs = result["runs"].as_array().expect("runs").clone();
    assert_eq!(runs[0]["status"], "completed", "the finished stage stays: {result}");
    let stopped = runs.iter().find(|r| r["run_id"].as_i64() == Some(running.0)).expect("the running fine-tune");
    assert_eq!(stopped["status"], "cancelled", "{result}");
    assert!(text(&out).contains("experiment resume"), "{}", text(&out));
    // No other run started after the signal: the rest is waiting or not yet created.
    assert!(runs.iter().all(|r| r["status"] != "running"), "{result}");
    let checkpoints = rt.block_on(async {
        let store = muppet_store::Store::open(&db).await.expect("store");
        let c = store.checkpoints(running).await.expect("checkpoints");
        store.close().await;
        c
    });
    assert!(!checkpoints.is_empty(), "the stopped run keeps a checkpoint");
    let stopped_at = checkpoints.iter().map(|c| c.step).max().expect("step");
    assert!(stopped_at > 0 && stopped_at < 100, "stopped in the middle, at step {stopped_at}");

    // The same spec again: the stage is not redone, the stopped fine-tune continues.
    let again = muppet(home.path(), &["experiment", "run", "--spec", spec, "--json"]);
    assert!(again.status.success(), "{}", text(&again));
    let done = last_json(&again);
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["experiment_id"], result["experiment_id"]);
    let done_runs = done["runs"].as_array().expect("runs");
    assert_eq!(done_runs[0]["run_id"], runs[0]["run_id"], "the stage was not run again");
    assert!(done_runs.iter().any(|r| r["run_id"].as_i64() == Some(running.0) && r["status"] == "completed"), "the stopped run was resumed: {done}");
    assert!(text(&again).contains("1 already completed"), "{}", text(&again));
    // The orchestrator's own log holds both sessions, for whoever follows it from elsewhere.
    let id = done["experiment_id"].as_i64().expect("experiment id");
    let journal = std::fs::read_to_string(home.path().join(format!("experiments/{id}/orchestrator.log"))).expect("orchestrator.log");
    assert!(journal.contains("stopped run") && journal.contains("experiment") && journal.contains("completed in"), "{journal}");
    assert_eq!(journal.matches("at a time").count(), 2, "{journal}");
}

/// A fine-tuning sweep from an existing run: every setting of the grid fine-tunes from the
/// run with its own settings, and the report ranks the settings.
#[test]
fn a_sweep_fine_tunes_every_setting_of_its_grid_and_reports_the_best() {
    let home = tempfile::tempdir().expect("tempdir");
    // The run kept its best checkpoint: with learning rate 0 its dev score never moves, so the
    // best is step 1, not its last step, 3; the sweep starts from the best, as
    // `finetune --from-run --step best` would.
    let argv = [
        "prefinetune", "--task", "sarcasm_headlines", "--steps", "3", "--lr", "0", "--warmup", "0", "--batch-size", "4", "--max-len", "32", "--doc-stride", "8", "--dev-size", "8",
        "--eval-every", "1", "--keep-best", "--json",
    ];
    let out = muppet(home.path(), &argv);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(last_json(&out)["best_step"], 1, "{}", text(&out));
    let source = last_json(&out)["run_id"].as_i64().expect("a run id");
    let body = format!("{TINY}\n[sweep]\ntasks = [\"winowhy\"]\nseeds = 2\nstart = \"run:{source}\"\ntrain_size = 16\n\n[sweep.grid]\nlr = [1e-4, 5e-4]\n");
    let result = run_to_completion(home.path(), &write_spec(home.path(), "sweep", &body));
    let runs = result["runs"].as_array().expect("runs");
    // 2 settings x 1 task x 2 seeds, each from the run.
    assert_eq!(runs.len(), 4, "{result}");
    let settings: Vec<&str> = runs.iter().map(|r| r["setting"].as_str().expect("a setting")).collect();
    assert_eq!(settings, ["lr=0.0001", "lr=0.0001", "lr=0.0005", "lr=0.0005"]);
    assert!(runs.iter().all(|r| r["start"] == format!("run {source}")), "{result}");

    // Each fine-tune trained with its setting, from the run's checkpoint.
    let id = result["experiment_id"].as_i64().expect("experiment id");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        let store = muppet_store::Store::open(&home.path().join("muppet.db")).await.expect("store");
        for (row, setting) in store.experiment_runs(muppet_store::ExperimentId(id)).await.expect("runs").iter().zip(&settings) {
            assert_eq!(row.parent, Some(muppet_core::RunId(source)), "{row:?}");
            let spec = store.run_spec(row.id).await.expect("spec");
            let lr = spec["config"]["lr"].as_f64().expect("lr");
            assert_eq!(format!("lr={lr}"), *setting, "{spec}");
            assert_eq!(spec["config"]["train_size"], 16);
            assert_eq!((spec["init"]["from"].as_str(), spec["init"]["step"].as_u64()), (Some("run"), Some(1)), "from the best checkpoint: {spec}");
        }
        store.close().await;
    });

    let report = home.path().join("report");
    let out = muppet(home.path(), &["report", &id.to_string(), "--out", report.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", text(&out));
    let summary = std::fs::read_to_string(report.join("summary.md")).expect("summary.md");
    assert!(summary.contains("Design: **sweep**") && summary.contains("| setting | dev accuracy |"), "{summary}");
    assert!(summary.contains("Best setting: **lr=0.000"), "{summary}");
    for file in ["sweep_winowhy.png", "sweep_winowhy.svg"] {
        assert!(report.join(file).is_file(), "no {file}");
    }
    assert!(!report.join("sweep_parallel_winowhy.svg").exists(), "one setting swept: no parallel coordinates");
    let points = std::fs::read_to_string(report.join("points.csv")).expect("points.csv");
    let rows: Vec<&str> = points.lines().filter(|l| l.starts_with("sweep,winowhy,accuracy,")).collect();
    assert_eq!(rows.len(), 2, "{points}");
    assert!(rows[0].contains(",lr=0.0001,") && rows[1].contains(",lr=0.0005,") && rows.iter().all(|r| r.contains(",2,")), "{points}");

    // Which settings matter: the learning rate's share of the dev accuracy's variance is
    // the ε² of the groups `runs list --group-by` gives (their means, sizes and deviations).
    let figure = "winowhy dev accuracy";
    let out = muppet(home.path(), &["runs", "importance", figure, "--experiment", &id.to_string(), "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let found: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(found["runs"].as_array().map(Vec::len), Some(4), "{found}");
    let weighed = |name: &str| found["settings"].as_array().expect("settings").iter().find(|s| s["name"] == name).cloned().unwrap_or_else(|| panic!("no {name}: {found}"));
    let lr = weighed("learning rate");
    assert_eq!((lr["values"].as_u64(), lr["groups"].as_u64(), lr["binned"].as_bool()), (Some(2), Some(2), Some(false)), "{lr}");
    assert_eq!(weighed("seed")["groups"], 2, "{found}");
    assert!(found["constant"].as_array().expect("constant").iter().any(|c| c == "train size"), "every run fine-tuned on 16 examples: {found}");
    let out = muppet(home.path(), &["runs", "list", "--experiment", &id.to_string(), "--group-by", "learning rate", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let groups: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let stats: Vec<(f64, f64, f64)> = groups
        .as_array()
        .expect("groups")
        .iter()
        .map(|g| {
            let f = &g["figures"][figure];
            (f["n"].as_f64().expect("n"), f["mean"].as_f64().expect("mean"), f["sd"].as_f64().unwrap_or(0.0))
        })
        .collect();
    let n: f64 = stats.iter().map(|s| s.0).sum();
    let mean = stats.iter().map(|s| s.0 * s.1).sum::<f64>() / n;
    let between: f64 = stats.iter().map(|(k, m, _)| k * (m - mean).powi(2)).sum();
    let within: f64 = stats.iter().map(|(k, _, sd)| (k - 1.0) * sd * sd).sum();
    let expected = if between + within > 1e-12 { ((between - within / (n - 2.0)) / (between + within)).max(0.0) } else { 0.0 };
    let actual = lr["importance"].as_f64().expect("an importance");
    assert!((actual - expected).abs() < 1e-9, "importance {actual}, from the groups {expected}: {found} {groups}");
    // The report weighs the swept setting the same way, with the seed beside it.
    assert!(summary.contains("Which settings mattered over its 4 fine-tunes") && summary.contains(&format!("| lr | {actual:.2} |")) && summary.contains("| seed | "), "{summary}");
    assert!(!summary.contains("| start |"), "one start: {summary}");
    // The table names the figure and the runs; two runs say nothing and are refused.
    let out = muppet(home.path(), &["runs", "importance", figure, "--experiment", &id.to_string()]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && table.starts_with("What each setting says of `winowhy dev accuracy` over 4 runs:") && table.contains("\nlearning rate "), "{}", text(&out));
    let out = muppet(home.path(), &["runs", "importance", figure, "--experiment", &id.to_string(), "--where", "learning rate < 3e-4"]);
    assert!(!out.status.success() && text(&out).contains("2 of the 2 runs given have a value of `winowhy dev accuracy`: at least 3 are needed"), "{}", text(&out));
}

/// A random search: the sweep's settings drawn from ranges and values with its seed, each
/// trained with the values its label names, and the report charts the dev figures against
/// each number drawn.
#[test]
fn a_random_sweep_trains_the_settings_it_draws_and_charts_them() {
    let home = tempfile::tempdir().expect("tempdir");
    let body = format!(
        "{TINY}\n[sweep]\ntasks = [\"winowhy\"]\nseeds = 1\ntrain_size = 16\ncount = 3\nrandom_seed = 11\n\n[sweep.random]\nlr = {{ min = 1e-5, max = 1e-3, distribution = \"log_uniform_values\" }}\nbatch_size = {{ values = [4, 8] }}\n"
    );
    let result = run_to_completion(home.path(), &write_spec(home.path(), "random", &body));
    let runs = result["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 3, "{result}");
    let settings: Vec<&str> = runs.iter().map(|r| r["setting"].as_str().expect("a setting")).collect();
    assert_eq!(settings.iter().collect::<std::collections::BTreeSet<_>>().len(), 3, "three different settings: {settings:?}");

    let id = result["experiment_id"].as_i64().expect("experiment id");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let lrs = rt.block_on(async {
        let store = muppet_store::Store::open(&home.path().join("muppet.db")).await.expect("store");
        let mut lrs = Vec::new();
        for (row, setting) in store.experiment_runs(muppet_store::ExperimentId(id)).await.expect("runs").iter().zip(&settings) {
            let spec = store.run_spec(row.id).await.expect("spec");
            let (batch, lr) = (spec["config"]["batch_size"].as_u64().expect("batch size"), spec["config"]["lr"].as_f64().expect("lr"));
            assert_eq!(format!("batch_size={batch}, lr={}", serde_json::Value::from(lr)), *setting, "{spec}");
            assert!([4, 8].contains(&batch) && (1e-5..=1e-3).contains(&lr), "{spec}");
            lrs.push(lr);
        }
        store.close().await;
        lrs
    });
    assert_eq!(lrs.len(), 3);

    // The same spec run again draws the same settings: nothing new is trained.
    let again = run_to_completion(home.path(), &write_spec(home.path(), "random", &body));
    assert_eq!(again["experiment_id"], result["experiment_id"], "{again}");
    assert_eq!(again["runs"].as_array().map(|r| r.iter().map(|r| r["setting"].clone()).collect::<Vec<_>>()), Some(runs.iter().map(|r| r["setting"].clone()).collect()));

    let report = home.path().join("report");
    let out = muppet(home.path(), &["report", &id.to_string(), "--out", report.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", text(&out));
    let summary = std::fs::read_to_string(report.join("summary.md")).expect("summary.md");
    assert!(
        summary.contains("Settings: 3 drawn at random (seed 11): `batch_size` one of 4, 8; `lr` log-uniform from 0.00001 to 0.001."),
        "{summary}"
    );
    assert!(summary.contains("## Dev figures against lr") && summary.contains("## Dev figures against batch_size"), "{summary}");
    assert!(summary.contains("| | settings | rank correlation (Spearman) with lr |") && summary.contains("| winowhy | 3 | "), "{summary}");
    let svg = std::fs::read_to_string(report.join("sweep_by_lr.svg")).expect("sweep_by_lr.svg");
    assert!(svg.contains("winowhy&apos;s dev figure against lr"), "{svg}");
    // A log axis, its ticks written as powers of ten.
    assert!(svg.contains("e-4<") || svg.contains("e-5<") || svg.contains("e-4\n") || svg.contains("e-5\n"), "{svg}");
    assert!(report.join("sweep_by_batch_size.png").is_file());
    // Every setting as parallel coordinates: an axis per swept number and the dev figure.
    let parallel = std::fs::read_to_string(report.join("sweep_parallel_winowhy.svg")).expect("sweep_parallel_winowhy.svg");
    assert!(parallel.contains("lr (log)") && parallel.contains("batch_size") && parallel.contains("dev accuracy"), "{parallel}");
    assert!(summary.contains("![winowhy: every setting](sweep_parallel_winowhy.png)"), "{summary}");

    // More settings drawn: the three drawn so far stay, and only the new ones train; the
    // spec with a larger count does the same.
    let out = muppet(home.path(), &["experiment", "resume", &id.to_string(), "--more", "1", "--parallel", "2", "--json"]);
    assert!(out.status.success() && text(&out).contains(&format!("experiment {id}: drawing 1 more setting (3 to 4)")), "{}", text(&out));
    let more = last_json(&out);
    let drawn: Vec<&str> = more["runs"].as_array().expect("runs").iter().map(|r| r["setting"].as_str().expect("setting")).collect();
    assert_eq!((drawn.len(), &drawn[..3]), (4, &settings[..]), "{more}");
    let bigger = body.replace("count = 3", "count = 5");
    let out = muppet(home.path(), &["experiment", "run", "--spec", write_spec(home.path(), "random", &bigger).to_str().expect("utf-8"), "--parallel", "2", "--json"]);
    assert!(out.status.success() && text(&out).contains("drawing 1 more setting (4 to 5)"), "{}", text(&out));
    let five = last_json(&out);
    assert_eq!(five["experiment_id"], result["experiment_id"]);
    let drawn5: Vec<&str> = five["runs"].as_array().expect("runs").iter().map(|r| r["setting"].as_str().expect("setting")).collect();
    assert_eq!(&drawn5[..4], &drawn[..], "{five}");
    // Another change to the spec is another experiment.
    let other = body.replace("random_seed = 11", "random_seed = 12");
    let out = muppet(home.path(), &["experiment", "run", "--spec", write_spec(home.path(), "random", &other).to_str().expect("utf-8")]);
    assert!(!out.status.success() && text(&out).contains("already exists") && text(&out).contains("with a different spec"), "{}", text(&out));

    // Guided by the scores: two settings proposed from the five scored, trained after them
    // and kept in the stored spec; the spec file run again goes on with them.
    let out = muppet(home.path(), &["experiment", "resume", &id.to_string(), "--more", "2", "--guided", "--parallel", "2", "--json"]);
    assert!(out.status.success() && text(&out).contains(&format!("experiment {id}: proposing 2 more settings from the scores of 5 (TPE): ")), "{}", text(&out));
    let guided = last_json(&out);
    let all: Vec<&str> = guided["runs"].as_array().expect("runs").iter().map(|r| r["setting"].as_str().expect("setting")).collect();
    assert_eq!((all.len(), &all[..5]), (7, &drawn5[..]), "{guided}");
    assert!(guided["runs"].as_array().expect("runs").iter().all(|r| r["status"] == "completed"), "{guided}");
    let stored = rt.block_on(async {
        let store = muppet_store::Store::open(&home.path().join("muppet.db")).await.expect("store");
        let e = store.experiment(muppet_store::ExperimentId(id)).await.expect("experiment");
        store.close().await;
        e.spec
    });
    let proposed = stored["sweep"]["proposed"].as_array().expect("proposed").clone();
    assert_eq!(proposed.len(), 2, "{stored}");
    for (p, label) in proposed.iter().zip(&all[5..]) {
        let (batch, lr) = (p["batch_size"].as_u64().expect("batch size"), p["lr"].as_f64().expect("lr"));
        assert!([4, 8].contains(&batch) && (1e-5..=1e-3).contains(&lr), "{p}");
        assert_eq!(format!("batch_size={batch}, lr={}", serde_json::Value::from(lr)), *label);
    }
    let out = muppet(home.path(), &["experiment", "run", "--spec", write_spec(home.path(), "random", &bigger).to_str().expect("utf-8"), "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(last_json(&out)["runs"].as_array().map(Vec::len), Some(7), "the file run again keeps the proposals");
    let out = muppet(home.path(), &["report", &id.to_string(), "--out", report.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", text(&out));
    let summary = std::fs::read_to_string(report.join("summary.md")).expect("summary.md");
    assert!(summary.contains(&format!("Then 2 proposed from the scores so far (a tree-structured Parzen estimator: `guided` in the spec, or `--more N --guided`): `{}`, `{}`.", all[5], all[6])), "{summary}");
}

/// A guided random search in one run: the four settings drawn are trained, then two more are
/// proposed from their scores, a round of two (two train at a time) trained after them; the
/// experiment's log says what was proposed from how many, and running it again trains nothing.
#[test]
fn a_guided_random_search_proposes_settings_from_the_scores_round_after_round() {
    let home = tempfile::tempdir().expect("tempdir");
    let body = format!(
        "{TINY}\n[sweep]\ntasks = [\"winowhy\"]\nseeds = 1\ntrain_size = 16\ncount = 4\nguided = 3\nrandom_seed = 5\n\n[sweep.random]\nlr = {{ min = 1e-5, max = 1e-3, distribution = \"log_uniform_values\" }}\n"
    );
    let result = run_to_completion(home.path(), &write_spec(home.path(), "guided", &body));
    let runs = result["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 7, "4 drawn, then 2 and 1 proposed: {result}");
    let id = result["experiment_id"].as_i64().expect("experiment id");
    let log = std::fs::read_to_string(home.path().join("experiments").join(id.to_string()).join(muppet_core::home::EXPERIMENT_LOG)).expect("experiment log");
    assert!(log.contains(&format!("experiment {id}: proposing 2 more settings from the scores of 4 (TPE): lr=")), "{log}");
    assert!(log.contains(&format!("experiment {id}: proposing 1 more setting from the scores of 6 (TPE): lr=")), "{log}");
    let settings: std::collections::BTreeSet<&str> = runs.iter().map(|r| r["setting"].as_str().expect("setting")).collect();
    assert_eq!(settings.len(), 7, "no setting twice: {settings:?}");
    // The file again: everything is trained, nothing more is proposed.
    let again = run_to_completion(home.path(), &write_spec(home.path(), "guided", &body));
    assert_eq!((again["experiment_id"].as_i64(), again["runs"].as_array().map(Vec::len)), (Some(id), Some(7)), "{again}");
    let out = muppet(home.path(), &["experiment", "status", &id.to_string()]);
    assert!(out.status.success() && text(&out).contains("settings: 4 drawn at random, 3 of 3 proposed from the scores"), "{}", text(&out));
}

/// A sweep with early termination, its runs trained one at a time: the learning rate 1e-3
/// setting starts from the same weights as the finished learning rate 0 one (one seed), whose
/// dev correlation stays where both began; one update at 1e-3 on 40 examples moves it below
/// that, so the run is stopped at its first evaluation, completed, tagged and noted. The
/// report counts it; running the experiment again trains nothing.
#[test]
fn a_sweep_stops_the_runs_that_fall_behind_the_median_of_the_finished_ones() {
    let home = tempfile::tempdir().expect("tempdir");
    let spec = write_spec(home.path(), "pruned", muppet_tests::experiments::PRUNED_SWEEP);
    let out = muppet(home.path(), &["experiment", "run", "--spec", spec.to_str().expect("utf-8"), "--parallel", "1", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let result = last_json(&out);
    let runs = result["runs"].as_array().expect("runs");
    assert_eq!(runs.iter().map(|r| (r["setting"].as_str(), r["status"].as_str(), r["pruned"].as_bool())).collect::<Vec<_>>(), [
        (Some("lr=0.0"), Some("completed"), None),
        (Some("lr=0.001"), Some("completed"), Some(true)),
    ], "{result}");
    let (kept, stopped) = (runs[0]["run_id"].as_i64().expect("id"), runs[1]["run_id"].as_i64().expect("id"));

    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let (finished, mine, note, tags) = rt.block_on(async {
        let store = muppet_store::Store::open(&home.path().join("muppet.db")).await.expect("store");
        let series = |run: i64| store.series(muppet_core::RunId(run), Some("vader_tweets"), "dev", "pearson");
        let (finished, mine) = (series(kept).await.expect("series"), series(stopped).await.expect("series"));
        let notes = store.notes(muppet_store::NoteTarget::Run(muppet_core::RunId(stopped))).await.expect("notes");
        let tags = store.run_tags(muppet_core::RunId(stopped)).await.expect("tags");
        assert!(store.run_tags(muppet_core::RunId(kept)).await.expect("tags").is_empty());
        store.close().await;
        (finished, mine, notes.into_iter().map(|n| n.body).collect::<Vec<_>>().join("\n"), tags)
    });
    // Both begin at the same score, where the finished run stays; the other's first update
    // moved it below.
    assert_eq!(finished.iter().map(|p| p.0).collect::<Vec<_>>(), [0, 1, 2, 3, 4], "{finished:?}");
    assert!(mine[0] == finished[0] && finished.iter().all(|p| p.1 == finished[0].1) && mine[1].1 < finished[1].1, "{finished:?} {mine:?}");
    // Stopped once the rule judged step 1: after the update running when the signal came.
    let last = mine.last().expect("scores").0;
    assert!((1..4).contains(&last), "stopped before its 4 steps: {mine:?}");
    assert_eq!(tags, ["pruned"]);
    let want = format!(
        "Stopped early by the sweep's median rule: after step 1 its best dev score so far, {:.4}, was below {:.4}, the median of the 1 finished run of its task and start at that step",
        mine[1].1, finished[1].1
    );
    assert!(note.contains(&want), "{note}\nwanted: {want}");
    assert!(note.contains(&format!("Stopped early on request (SIGUSR1) at step {last} of 4.")), "the worker's own note: {note}");
    let journal = std::fs::read_to_string(home.path().join(format!("experiments/{}/orchestrator.log", result["experiment_id"]))).expect("log");
    assert!(journal.contains(&format!("stopping run {stopped} ")) && journal.contains(&format!("pruned run {stopped} ")), "{journal}");

    let id = result["experiment_id"].as_i64().expect("experiment id").to_string();
    let report = home.path().join("report");
    let out = muppet(home.path(), &["report", &id, "--out", report.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", text(&out));
    let summary = std::fs::read_to_string(report.join("summary.md")).expect("summary.md");
    assert!(summary.contains("Early termination (the median rule)") && summary.contains("from its 1st dev evaluation on, against at least 1 run)"), "{summary}");
    assert!(summary.contains("| setting | dev pearson | stopped early |"), "{summary}");
    assert!(summary.contains("![vader_tweets: dev pearson during fine-tuning](sweep_curves_vader_tweets.png)") && summary.contains("a run the rule stopped ends where it stopped"), "{summary}");
    let curves = std::fs::read_to_string(report.join("sweep_curves_vader_tweets.svg")).expect("the dev curves");
    assert!(curves.contains("\nlr=0.001\n") && curves.contains("\nlr=0.0\n"), "{curves:.2000}");
    let saved = format!("It stopped 1 of the 2 completed fine-tunes: they trained {} of their 8 planned updates ({:.0}% saved).", 4 + last, 100.0 * (4 - last) as f64 / 8.0);
    assert!(summary.contains(&saved), "{summary}\nwanted: {saved}");
    assert!(summary.contains(" | 0 of 1 |") && summary.lines().any(|l| l.starts_with("| lr=0.001 |") && l.ends_with(" | 1 of 1 |")), "{summary}");

    let status = muppet(home.path(), &["experiment", "status", &id]);
    assert!(text(&status).contains("(sweep): 2 completed (1 stopped early by the sweep's rule)"), "{}", text(&status));
    assert!(text(&status).lines().any(|l| l.contains(&format!("{stopped}  completed")) && l.ends_with("(stopped early by the sweep's rule: see its notes)")), "{}", text(&status));

    // Nothing to train again: the stopped run is done.
    let again = muppet(home.path(), &["experiment", "resume", &id, "--json"]);
    assert!(again.status.success() && text(&again).contains("2 already completed"), "{}", text(&again));
}

/// A sweep compared with the base model: every setting fine-tuned from the stage and from the
/// base model, and the report puts each start's best side by side, with the starts as an axis
/// of the settings' parallel coordinates.
#[test]
fn a_sweep_compared_with_the_base_model_reports_each_starts_best() {
    let home = tempfile::tempdir().expect("tempdir");
    let body = format!(
        "{TINY}\n[[stages]]\nname = \"pft\"\ntasks = [\"strategyqa\", \"fever_claims\"]\n\n[sweep]\ntasks = [\"winowhy\"]\nseeds = 1\nstart = \"pft\"\ncompare_base = true\ntrain_size = 16\n\n[sweep.grid]\nlr = [1e-4, 5e-4]\n"
    );
    let result = run_to_completion(home.path(), &write_spec(home.path(), "compared", &body));
    let runs = result["runs"].as_array().expect("runs");
    // The stage, then 2 settings from the base model and 2 from the stage.
    assert_eq!(runs.len(), 5, "{result}");
    let fine: Vec<(&str, &str)> = runs[1..].iter().map(|r| (r["start"].as_str().expect("start"), r["setting"].as_str().expect("setting"))).collect();
    assert_eq!(fine, [("base", "base, lr=0.0001"), ("base", "base, lr=0.0005"), ("pft", "pft, lr=0.0001"), ("pft", "pft, lr=0.0005")]);
    let id = result["experiment_id"].as_i64().expect("experiment id");
    let report = home.path().join("report");
    let out = muppet(home.path(), &["report", &id.to_string(), "--out", report.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", text(&out));
    let summary = std::fs::read_to_string(report.join("summary.md")).expect("summary.md");
    assert!(summary.contains("| base, lr=0.0001 ") && summary.contains("pft, lr=0.0005"), "each setting names its start: {summary}");
    assert!(summary.contains("Each start's best setting:") && summary.contains("| start | best setting | dev accuracy | − base's best |"), "{summary}");
    let pft_row = summary.lines().find(|l| l.starts_with("| pft | lr=")).expect("the stage's best");
    assert!(pft_row.ends_with(" |") && (pft_row.contains("| +") || pft_row.contains("| -")), "the difference from the base model's best: {pft_row}");
    let parallel = std::fs::read_to_string(report.join("sweep_parallel_winowhy.svg")).expect("parallel coordinates with an axis of starts");
    assert!(parallel.contains("start") && parallel.contains("\nbase\n") && parallel.contains("\npft\n") && parallel.contains("dev accuracy"), "{parallel:.3000}");
}

#[test]
fn a_stage_grid_sweeps_pre_finetuning_and_reports_each_setting() {
    let home = tempfile::tempdir().expect("tempdir");
    let body = format!(
        "{TINY}\n[[stages]]\nname = \"pft\"\ntasks = [\"strategyqa\", \"fever_claims\"]\n\n[sweep]\ntasks = [\"winowhy\"]\nseeds = 1\nstart = \"pft\"\ntrain_size = 16\n\n[sweep.stage_grid]\ntasks_per_update = [1, 2]\n"
    );
    let result = run_to_completion(home.path(), &write_spec(home.path(), "stage_sweep", &body));
    let runs = result["runs"].as_array().expect("runs");
    // One pre-finetuning run per setting of the stage, then a fine-tune from each.
    assert_eq!(runs.len(), 4, "{result}");
    let arms: Vec<&str> = runs[..2].iter().map(|r| r["arm"].as_str().expect("arm")).collect();
    assert_eq!(arms, ["pft (tasks_per_update=1)", "pft (tasks_per_update=2)"]);
    let settings: Vec<&str> = runs[2..].iter().map(|r| r["setting"].as_str().expect("setting")).collect();
    assert_eq!(settings, arms, "each fine-tune is its stage's setting");

    let id = result["experiment_id"].as_i64().expect("experiment id");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        let store = muppet_store::Store::open(&home.path().join("muppet.db")).await.expect("store");
        let rows = store.experiment_runs(muppet_store::ExperimentId(id)).await.expect("runs");
        for (i, k) in [1, 2].into_iter().enumerate() {
            let stage = &rows[i];
            let spec = store.run_spec(stage.id).await.expect("spec");
            assert_eq!((spec["config"]["tasks_per_update"].as_u64(), spec["config"]["steps"].as_u64()), (Some(k), Some(3)), "{spec}");
            // Each fine-tune is stored as its stage ends, so either may come first.
            let fine = rows.iter().find(|r| r.kind == muppet_core::RunKind::Finetune && r.name.contains(&format!("(tasks_per_update={k})"))).expect("the setting's fine-tune");
            assert_eq!(fine.parent, Some(stage.id), "the fine-tune of setting {k} starts from its own stage");
        }
        store.close().await;
    });

    // Each pre-finetuned model scored directly on one of its tasks' dev examples.
    let out = muppet(home.path(), &["experiment", "score", &id.to_string(), "--task", "fever_claims", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let scored: serde_json::Value = serde_json::from_slice(&out.stdout).expect("score JSON");
    let scored = scored.as_array().expect("one result per model");
    assert_eq!(scored.iter().map(|r| r["run"].as_i64()).collect::<Vec<_>>(), runs[..2].iter().map(|r| r["run_id"].as_i64()).collect::<Vec<_>>(), "every stage, in order");
    assert!(scored.iter().all(|r| r["examples"] == "dev" && r["step"] == 3 && r["split"] == "eval-dev"), "{scored:?}");
    // A grid draws nothing more.
    let out = muppet(home.path(), &["experiment", "resume", &id.to_string(), "--more", "2"]);
    assert!(!out.status.success() && text(&out).contains("--more draws more settings of a random search"), "{}", text(&out));
    let missing = muppet(home.path(), &["experiment", "score", "999", "--task", "fever_claims"]);
    assert!(!missing.status.success() && text(&missing).contains("experiment 999") && text(&missing).contains("muppet experiment list"), "{}", text(&missing));

    let report = home.path().join("report");
    let out = muppet(home.path(), &["report", &id.to_string(), "--out", report.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", text(&out));
    let summary = std::fs::read_to_string(report.join("summary.md")).expect("summary.md");
    assert!(summary.contains("| setting | dev accuracy |") && summary.contains("pft (tasks_per_update=1)") && summary.contains("pft (tasks_per_update=2)"), "{summary}");
    assert!(summary.contains("### fever_claims (eval-dev)") && summary.contains("| pft (tasks_per_update=2) |"), "the models scored directly: {summary}");
    assert!(summary.contains("Best setting: **pft (tasks_per_update="), "{summary}");
    let charts: Vec<String> = std::fs::read_dir(&report).expect("report").map(|e| e.expect("entry").file_name().to_string_lossy().to_string()).filter(|n| n.starts_with("prefinetune_") && n.ends_with(".png")).collect();
    assert_eq!(charts.len(), 2, "a loss chart per pre-finetuning run: {charts:?}");
}
