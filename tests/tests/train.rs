//! Training from the CLI on the real MiniLM and real demo tasks: `muppet prefinetune`
//! and `muppet finetune` with `--json`, a queued run executed by `muppet worker`,
//! cancelled with SIGTERM and continued with `muppet resume`, and the errors of bad input.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use muppet_tests::cli::{command, last_json, muppet, text};

/// Small enough to run in seconds on 2 cores.
const SMALL: [&str; 10] = ["--batch-size", "2", "--max-len", "48", "--dev-size", "8", "--warmup", "1", "--eval-every", "0"];

fn args<'a>(head: &[&'a str], tail: &[&'a str]) -> Vec<&'a str> {
    head.iter().chain(SMALL.iter()).chain(tail).copied().collect()
}

#[test]
fn prefinetune_then_finetune_from_its_checkpoint_print_json_summaries() {
    let home = tempfile::tempdir().expect("tempdir");
    let pre = args(&["prefinetune", "--task", "sarcasm_headlines", "--task", "strategyqa", "--steps", "3", "--tasks-per-update", "2"], &["--sampling", "uniform", "--json"]);
    let out = muppet(home.path(), &pre);
    assert!(out.status.success(), "{}", text(&out));
    let json = last_json(&out);
    assert_eq!(json["status"], "completed", "{json}");
    let run = json["run_id"].as_i64().expect("run_id");
    let tasks = json["tasks"].as_array().expect("tasks");
    assert_eq!(tasks.len(), 2);
    for t in tasks {
        for key in ["loss_first", "loss_last", "dev_metric_before", "dev_metric"] {
            assert!(t[key].is_number(), "{key} of {t}");
        }
    }
    assert_eq!(tasks[1]["metric"], "accuracy");

    let run_s = run.to_string();
    // No --max-len: the source run's (48) is taken.
    let mut ft = args(&["finetune", "--from-run", &run_s, "--reuse-head", "--task", "strategyqa", "--train-size", "16", "--steps", "2"], &["--json"]);
    let at = ft.iter().position(|a| *a == "--max-len").expect("SMALL sets it");
    ft.drain(at..at + 2);
    let out = muppet(home.path(), &ft);
    assert!(out.status.success(), "{}", text(&out));
    let fine = last_json(&out);
    assert_eq!(fine["status"], "completed", "{fine}");
    assert_eq!(fine["tasks"][0]["train_examples"], 16);
    // The reused head and encoder score the dev split as the pre-finetuned run left them.
    assert_eq!(fine["tasks"][0]["dev_metric_before"], tasks[1]["dev_metric"], "{fine}");

    let out = muppet(home.path(), &["runs", "list", "--json"]);
    let runs: serde_json::Value = serde_json::from_slice(&out.stdout).expect("runs list JSON");
    let finetune = runs.as_array().expect("array").iter().find(|r| r["kind"] == "finetune").expect("the fine-tune run");
    assert_eq!(finetune["parent"], run, "{finetune}");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let spec = rt.block_on(async {
        let store = muppet_store::Store::open(&home.path().join("muppet.db")).await.expect("store");
        let spec = store.run_spec(muppet_core::RunId(finetune["id"].as_i64().expect("id"))).await.expect("spec");
        store.close().await;
        spec
    });
    assert_eq!(spec["config"]["max_len"], 48, "{spec}");

    // The two side by side: the settings that differ, and each metric's last value.
    let fine_id = finetune["id"].as_i64().expect("id").to_string();
    let out = muppet(home.path(), &["runs", "compare", &run_s, &fine_id, "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let compared: serde_json::Value = serde_json::from_slice(&out.stdout).expect("runs compare JSON");
    let param = |path: &str| compared["params"].as_array().expect("params").iter().find(|p| p["path"] == path).map(|p| p["values"].clone());
    assert_eq!(param("$.config.train_size"), Some(serde_json::json!([null, 16])), "{compared}");
    assert_eq!(param("$.config.max_len"), None, "the same max length is no difference: {compared}");
    let dev = compared["metrics"].as_array().expect("metrics").iter().find(|m| m["key"]["task"] == "strategyqa" && m["key"]["split"] == "dev" && m["key"]["name"] == "accuracy").expect("strategyqa's dev accuracy");
    assert!(dev["values"][0]["value"].is_number() && dev["values"][1]["value"].is_number(), "{dev}");
    let out = muppet(home.path(), &["runs", "compare", &run_s, &fine_id]);
    assert!(out.status.success() && text(&out).contains("$.config.train_size") && text(&out).contains("strategyqa dev accuracy"), "{}", text(&out));

    // One series of both runs charted side by side, as one SVG file; a series a run lacks
    // is refused, listing the series it has.
    let file = home.path().join("compare.svg");
    let out = muppet(home.path(), &["runs", "chart", &run_s, &fine_id, "--series", "strategyqa dev accuracy", "--out", file.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", text(&out));
    let svg = std::fs::read_to_string(&file).expect("compare.svg");
    for label in [format!("Runs {run_s}, {fine_id}: strategyqa dev accuracy"), format!("#{run_s} "), format!("#{fine_id} fine-tune")] {
        assert!(svg.contains(&label), "{label} missing from the chart");
    }
    assert!(svg.matches("<polyline").count() >= 2, "a line per run");
    assert!(!home.path().join("compare.png").exists(), "only the file asked for");
    let out = muppet(home.path(), &["runs", "chart", &run_s, &fine_id, "--series", "strategyqa dev nothing", "--out", file.to_str().expect("utf-8")]);
    assert!(!out.status.success() && text(&out).contains(&format!("run {run_s} has no series \"strategyqa dev nothing\"; its series: ")) && text(&out).contains("strategyqa dev accuracy"), "{}", text(&out));

    // Runs picked by their settings and figures.
    let picked = |filter: &str| -> Vec<i64> {
        let out = muppet(home.path(), &["runs", "list", "--where", filter, "--json"]);
        assert!(out.status.success(), "{}", text(&out));
        let runs: serde_json::Value = serde_json::from_slice(&out.stdout).expect("runs list JSON");
        runs.as_array().expect("array").iter().map(|r| r["id"].as_i64().expect("id")).collect()
    };
    let fine_run = finetune["id"].as_i64().expect("id");
    assert_eq!(picked("config.train_size = 16"), [fine_run]);
    assert_eq!(picked("train size < 100 and strategyqa dev accuracy >= 0"), [fine_run], "the pre-finetuning run has no train size");
    assert_eq!(picked("strategyqa dev accuracy >= 0 and max length = 48"), [fine_run, run], "newest first");
    assert_eq!(picked("sarcasm_headlines dev accuracy > 1"), Vec::<i64>::new());
    // A figure's best: never below its last value (accuracy's goal is the highest).
    assert_eq!(picked("strategyqa dev accuracy (best) >= 0 and max length = 48"), [fine_run, run]);
    // Ordered by a key, highest first (or lowest), the key's values shown as a column.
    let ordered = |extra: &[&str]| -> Vec<i64> {
        let out = muppet(home.path(), &[&["runs", "list", "--json"], extra].concat());
        assert!(out.status.success(), "{}", text(&out));
        let runs: serde_json::Value = serde_json::from_slice(&out.stdout).expect("runs list JSON");
        runs.as_array().expect("array").iter().map(|r| r["id"].as_i64().expect("id")).collect()
    };
    assert_eq!(ordered(&["--sort", "config.steps"]), [run, fine_run], "3 updates before 2");
    assert_eq!(ordered(&["--sort", "updates", "--ascending"]), [fine_run, run]);
    assert_eq!(ordered(&["--sort", "train size", "--ascending"]), [fine_run, run], "a run without the key comes last");
    assert_eq!(ordered(&["--sort", "updates", "--limit", "1"]), [run]);
    let best = ordered(&["--sort", "strategyqa dev accuracy (best)"]);
    assert_eq!(best.len(), 2, "both runs have a best strategyqa dev accuracy");
    let table = text(&muppet(home.path(), &["runs", "list", "--sort", "updates"]));
    assert!(table.lines().next().is_some_and(|head| head.contains("updates")), "{table}");
    let out = muppet(home.path(), &["runs", "list", "--sort", "strategyqa test accuracy"]);
    assert!(!out.status.success() && text(&out).contains("--sort: no run has `strategyqa test accuracy`"), "{}", text(&out));
    // The runs listed, as a CSV table: one row each, in the order listed.
    let table = home.path().join("runs.csv");
    let out = muppet(home.path(), &["runs", "list", "--where", "strategyqa dev accuracy >= 0", "--sort", "updates", "--csv", table.to_str().expect("path")]);
    assert!(out.status.success() && text(&out).contains("2 runs written to"), "{}", text(&out));
    let csv = std::fs::read_to_string(&table).expect("csv");
    let mut lines = csv.lines();
    let head: Vec<&str> = lines.next().expect("head").split(',').collect();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let at = |name: &str| head.iter().position(|h| *h == name).unwrap_or_else(|| panic!("no {name} in {head:?}"));
    assert_eq!(rows.iter().map(|r| r[0].parse::<i64>().expect("id")).collect::<Vec<_>>(), [run, fine_run]);
    assert_eq!((rows[0][at("train size")], rows[1][at("train size")]), ("", "16"));
    assert_eq!(rows[1][at("parent_run_id")], run.to_string());
    assert!(rows.iter().all(|r| r[at("strategyqa dev accuracy")].parse::<f64>().is_ok()), "{csv}");
    let out = muppet(home.path(), &["runs", "list", "--where", "learning rate 1e-4"]);
    assert!(!out.status.success() && text(&out).contains("--where: `learning rate 1e-4` has no comparison"), "{}", text(&out));
    // Grouped by a key: one group per value (a run without it in its own, last), each
    // figure over the group's runs; as a table, JSON and CSV.
    let out = muppet(home.path(), &["runs", "list", "--group-by", "train size", "--group-by", "max length", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let groups: serde_json::Value = serde_json::from_slice(&out.stdout).expect("groups JSON");
    let groups = groups.as_array().expect("array");
    assert_eq!(groups.len(), 2, "{groups:?}");
    assert_eq!((&groups[0]["values"]["train size"], &groups[0]["values"]["max length"], &groups[0]["runs"]), (&serde_json::json!(16), &serde_json::json!(48), &serde_json::json!([fine_run])));
    assert_eq!((&groups[1]["values"]["train size"], &groups[1]["runs"]), (&serde_json::Value::Null, &serde_json::json!([run])));
    let dev = &groups[0]["figures"]["strategyqa dev accuracy"];
    assert_eq!((dev["n"].as_u64(), dev["sd"].is_null()), (Some(1), true), "{dev}");
    let table = text(&muppet(home.path(), &["runs", "list", "--group-by", "max length"]));
    let row = table.lines().nth(1).expect("one group");
    assert!(table.starts_with("max length") && row.starts_with("48") && row.contains(" ± ") && row.contains("(2)") && !table.contains("system "), "{table}");
    // Each figure's best instead of its last value, shown with --best or when the groups are
    // ordered by it.
    let best = text(&muppet(home.path(), &["runs", "list", "--group-by", "max length", "--best"]));
    let head: Vec<&str> = best.lines().next().unwrap_or_default().split("  ").map(str::trim).filter(|c| !c.is_empty()).collect();
    assert!(head.contains(&"strategyqa dev accuracy (best)") && !head.contains(&"strategyqa dev accuracy"), "{best}");
    let sorted = muppet(home.path(), &["runs", "list", "--group-by", "train size", "--sort", "strategyqa dev accuracy (best)"]);
    assert!(sorted.status.success() && text(&sorted).lines().next().is_some_and(|h| h.contains("(best)")), "{}", text(&sorted));
    assert!(groups[0]["figures"]["strategyqa dev accuracy (best)"]["n"].as_u64() == Some(1), "JSON has the best too: {groups:?}");
    let grouped = home.path().join("groups.csv");
    let out = muppet(home.path(), &["runs", "list", "--group-by", "max length", "--csv", grouped.to_str().expect("path")]);
    assert!(out.status.success() && text(&out).contains("1 group of 2 runs written to"), "{}", text(&out));
    let csv = std::fs::read_to_string(&grouped).expect("groups csv");
    assert!(csv.starts_with("max length,runs,run_ids,") && csv.contains("strategyqa dev accuracy sd") && csv.contains("strategyqa dev accuracy (best) sd"), "{csv}");
    // Both runs plotted by their learning rate and dev accuracy (a run without a figure is
    // left out and named).
    let plot = home.path().join("lr.svg");
    let out = muppet(home.path(), &["runs", "scatter", "--x", "learning rate", "--y", "strategyqa dev accuracy", "--by", "train size", "--log-x", "--out", plot.to_str().expect("path")]);
    assert!(out.status.success() && text(&out).contains("2 runs plotted"), "{}", text(&out));
    let svg = std::fs::read_to_string(&plot).expect("plot");
    assert!(svg.contains(&format!("#{run}")) && svg.contains(&format!("#{fine_run}")) && svg.contains("strategyqa dev accuracy against learning rate"), "the plot");
    let out = muppet(home.path(), &["runs", "scatter", "--x", "learning rate", "--y", "strategyqa test accuracy", "--out", plot.to_str().expect("path")]);
    assert!(!out.status.success() && text(&out).contains("no run has `strategyqa test accuracy`"), "{}", text(&out));
    // A setting that is no number places its runs by category (a strip plot), on no log axis.
    let out = muppet(home.path(), &["runs", "scatter", "--x", "backend", "--y", "strategyqa dev accuracy", "--out", plot.to_str().expect("path")]);
    assert!(out.status.success() && text(&out).contains("2 runs plotted"), "{}", text(&out));
    let svg = std::fs::read_to_string(&plot).expect("plot");
    assert!(svg.contains("\ncpu\n</text>"), "the category named on its axis: {svg:.2000}");
    let out = muppet(home.path(), &["runs", "scatter", "--x", "backend", "--log-x", "--y", "strategyqa dev accuracy", "--out", plot.to_str().expect("path")]);
    assert!(!out.status.success() && text(&out).contains("`backend` is not a number"), "{}", text(&out));
    // Both runs as lines through three columns (parallel coordinates): the pre-finetuning run
    // has no train size, so a line through it is left out and named.
    let lines = home.path().join("lines.svg");
    let draw = |axes: &[&str]| muppet(home.path(), &[&["runs", "parallel"], &axes.iter().flat_map(|a| ["--axis", a]).collect::<Vec<_>>()[..], &["--out", lines.to_str().expect("path")]].concat());
    let out = draw(&["learning rate", "max length", "strategyqa dev accuracy (best)"]);
    assert!(out.status.success() && text(&out).contains("2 runs drawn"), "{}", text(&out));
    let svg = std::fs::read_to_string(&lines).expect("lines");
    assert!(svg.contains("Runs, darker for a higher strategyqa dev accuracy (best)") && svg.contains("max length") && svg.matches("stroke-width=\"2\"").count() == 2, "{svg}");
    let out = draw(&["train size", "strategyqa dev accuracy"]);
    assert!(out.status.success() && text(&out).contains(&format!("1 run drawn; left out, without a value for every key: #{run}")), "{}", text(&out));
    // A setting that is no number is a categorical axis.
    let out = draw(&["sampling", "strategyqa dev accuracy"]);
    assert!(out.status.success() && text(&out).contains("2 runs drawn"), "{}", text(&out));
    let out = draw(&["learning rate"]);
    assert!(!out.status.success() && text(&out).contains("name two keys or more"), "{}", text(&out));
    // Groups ordered by a figure's mean (the pre-finetuning run has no train size: a group
    // of its own), highest first or lowest, and the first kept; a key that is no figure is
    // refused listing the figures.
    let grouped = |extra: &[&str]| -> Vec<(i64, f64)> {
        let out = muppet(home.path(), &[&["runs", "list", "--group-by", "train size", "--json"], extra].concat());
        assert!(out.status.success(), "{}", text(&out));
        let groups: serde_json::Value = serde_json::from_slice(&out.stdout).expect("groups JSON");
        let first = |g: &serde_json::Value| (g["runs"][0].as_i64().expect("a run"), g["figures"]["strategyqa dev accuracy"]["mean"].as_f64().expect("a mean"));
        groups.as_array().expect("array").iter().map(first).collect()
    };
    let plain = grouped(&[]);
    let (mut high_first, mut low_first) = (plain.clone(), plain.clone());
    high_first.sort_by(|a, b| b.1.total_cmp(&a.1));
    low_first.sort_by(|a, b| a.1.total_cmp(&b.1));
    assert_eq!(grouped(&["--sort", "StrategyQA  dev accuracy"]), high_first);
    assert_eq!(grouped(&["--sort", "strategyqa dev accuracy", "--ascending", "--limit", "1"]), low_first[..1]);
    let out = muppet(home.path(), &["runs", "list", "--group-by", "max length", "--sort", "updates"]);
    assert!(!out.status.success() && text(&out).contains("no group has `updates`: the figures are ") && text(&out).contains("strategyqa dev accuracy"), "{}", text(&out));
    let out = muppet(home.path(), &["runs", "list", "--where", "strategyqa test accuracy > 0"]);
    assert!(!out.status.success() && text(&out).contains("no run has `strategyqa test accuracy`"), "{}", text(&out));

    // The pre-finetuning run's settings as a spec file: a new run from it trains the same
    // tasks with the same settings, a flag changing one; a fine-tune has no such file.
    let again = home.path().join("again.toml");
    let out = muppet(home.path(), &["runs", "spec", &run_s, "--out", again.to_str().expect("path")]);
    assert!(out.status.success() && text(&out).contains("muppet prefinetune --spec"), "{}", text(&out));
    let file = std::fs::read_to_string(&again).expect("spec file");
    assert!(file.contains(" (again)\"") && !file.contains("model ="), "named after the run, the default model left out:\n{file}");
    let out = muppet(home.path(), &["prefinetune", "--spec", again.to_str().expect("path"), "--steps", "1", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let copy = last_json(&out)["run_id"].as_i64().expect("run_id");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let (original, copied) = rt.block_on(async {
        let store = muppet_store::Store::open(&home.path().join("muppet.db")).await.expect("store");
        let specs = (store.run_spec(muppet_core::RunId(run)).await.expect("spec"), store.run_spec(muppet_core::RunId(copy)).await.expect("spec"));
        store.close().await;
        specs
    });
    assert_eq!((&copied["tasks"], &copied["model"], &copied["backend"]), (&original["tasks"], &original["model"], &original["backend"]));
    let mut expected = original["config"].clone();
    expected["steps"] = 1.into();
    assert_eq!(copied["config"], expected, "every setting but the one the flag changed");
    let out = muppet(home.path(), &["runs", "spec", &fine_run.to_string()]);
    assert!(!out.status.success() && text(&out).contains("is a fine-tune"), "{}", text(&out));
}

/// `--devices 2` on the CPU: a queued run whose spec carries it is trained by the worker on
/// two data-parallel peers, stored with its devices; more devices than micro-batches per
/// update is refused with what to change.
#[test]
fn a_run_on_two_devices_is_queued_and_trained_by_the_worker() {
    let home = tempfile::tempdir().expect("tempdir");
    let queue = args(&["prefinetune", "--task", "sarcasm_headlines", "--task", "strategyqa", "--steps", "2", "--tasks-per-update", "3", "--devices", "2"], &["--queue", "--json"]);
    let out = muppet(home.path(), &queue);
    assert!(out.status.success(), "{}", text(&out));
    let run = last_json(&out)["run_id"].as_i64().expect("run_id").to_string();
    let out = muppet(home.path(), &["worker", "--run", &run]);
    assert!(out.status.success(), "{}", text(&out));
    let events: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout).lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let steps: Vec<u64> = events.iter().filter(|e| e["event"] == "step").filter_map(|e| e["step"].as_u64()).collect();
    assert_eq!(steps, [1, 2], "{}", text(&out));
    assert!(events.iter().any(|e| e["event"] == "finished"), "{}", text(&out));

    let out = muppet(home.path(), &["runs", "list", "--json"]);
    let runs: serde_json::Value = serde_json::from_slice(&out.stdout).expect("runs list JSON");
    let row = &runs.as_array().expect("array")[0];
    assert_eq!((row["status"].as_str(), row["device"].as_str()), (Some("completed"), Some("cpu x2")), "{row}");

    let refused = args(&["prefinetune", "--task", "sarcasm_headlines", "--steps", "1", "--tasks-per-update", "2", "--devices", "3"], &[]);
    let out = muppet(home.path(), &refused);
    assert!(!out.status.success());
    assert!(text(&out).contains("3 devices but 2 micro-batches per update"), "{}", text(&out));
}

/// Free TCP ports on this machine, for a coordinator and the nodes of a run.
fn free_ports(n: usize) -> Vec<u16> {
    let listeners: Vec<std::net::TcpListener> = (0..n).map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("bind")).collect();
    listeners.iter().map(|l| l.local_addr().expect("address").port()).collect()
}

/// The demo model with its dropout at 0 (config.json rewritten, weights and tokenizer
/// linked): runs laid out differently then compute the same numbers up to float rounding.
fn model_without_dropout(dir: &std::path::Path) -> String {
    let src = muppet_tests::cli::shared_assets().join("models/all-MiniLM-L6-v2");
    let mut config: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(src.join("config.json")).expect("config")).expect("json");
    config["hidden_dropout_prob"] = 0.0.into();
    config["attention_probs_dropout_prob"] = 0.0.into();
    std::fs::write(dir.join("config.json"), config.to_string()).expect("write");
    for name in ["model.safetensors", "tokenizer.json"] {
        std::os::unix::fs::symlink(src.join(name), dir.join(name)).expect("link");
    }
    dir.display().to_string()
}

/// Wait for `child` at most `secs` seconds; kill it and fail past that.
fn finish(mut child: std::process::Child, secs: u64, what: &str) -> std::process::Output {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while child.try_wait().expect("wait").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!("{what} did not finish within {secs} s:\n{}", text(&out));
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    child.wait_with_output().expect("output")
}

/// `muppet coordinator` on a free port, and its ws:// address.
fn coordinator(home: &std::path::Path) -> (std::process::Child, String) {
    let port = free_ports(1)[0];
    let server = command(home, &["coordinator", "--port", &port.to_string()]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("coordinator");
    (server, format!("ws://127.0.0.1:{port}"))
}

/// `muppet` with `args`, as node `rank` of two, serving its sums on `data`.
fn node(home: &std::path::Path, args: &[&str], rank: &str, coordinator: &str, data: u16) -> std::process::Child {
    let me = format!("ws://127.0.0.1:{data}");
    let nodes = ["--nodes", "2", "--node-rank", rank, "--coordinator", coordinator, "--node-address", &me, "--json"];
    command(home, &[args, &nodes].concat()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("node")
}

/// Whether `a` is `b` within 1e-4 relative (the sums of peers are ordered differently).
fn close(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    let (a, b) = (a.as_f64().expect("number"), b.as_f64().expect("number"));
    (a - b).abs() <= 1e-4 * b.abs().max(1e-3)
}

/// The summaries of node 0 (`kept`) and node 1 (`follower`) against the same run on one
/// machine: the run-wide and per-task losses within [`close`], node 1's equal to node 0's.
fn same_losses(kept: &serde_json::Value, follower: &serde_json::Value, reference: &serde_json::Value, what: &str) {
    for key in ["loss_first", "loss_last"] {
        assert!(close(&kept[key], &reference[key]), "{key}: {what} {} vs one machine {}", kept[key], reference[key]);
        assert_eq!(follower[key], kept[key], "{key}: node 1 and node 0 agree ({what})");
    }
    for (a, b) in kept["tasks"].as_array().expect("tasks").iter().zip(reference["tasks"].as_array().expect("tasks")) {
        assert!(close(&a["loss_last"], &b["loss_last"]), "{what}: {a}\n{b}");
        assert_eq!(a["dev_metric_before"], b["dev_metric_before"], "{what}");
    }
}

/// Two nodes of two devices each (four peers, two processes on this machine, through
/// `muppet coordinator`): node 0 keeps the run and computes the losses of the same run on
/// one machine and one device (within 1e-4 relative: the sums are ordered differently);
/// node 1 reports the same losses and stores nothing.
#[test]
fn a_run_on_two_nodes_makes_the_updates_of_one_machine() {
    let model_folder = tempfile::tempdir().expect("tempdir");
    let model = model_without_dropout(model_folder.path());
    let [data0, data1] = free_ports(2)[..] else { unreachable!() };
    let (home0, home1, alone) = (tempfile::tempdir().expect("tempdir"), tempfile::tempdir().expect("tempdir"), tempfile::tempdir().expect("tempdir"));
    let run = args(&["prefinetune", "--model", &model, "--task", "sarcasm_headlines", "--task", "strategyqa", "--steps", "3", "--tasks-per-update", "4", "--head-dropout", "0"], &[]);

    let (mut server, address) = coordinator(home0.path());
    let two = [&run[..], &["--devices", "2"]].concat();
    let second = node(home1.path(), &two, "1", &address, data1);
    let first = node(home0.path(), &two, "0", &address, data0);
    let (first, second) = (finish(first, 300, "node 0"), finish(second, 60, "node 1"));
    let _ = server.kill();
    let _ = server.wait();
    assert!(first.status.success(), "node 0:\n{}\nnode 1:\n{}", text(&first), text(&second));
    assert!(second.status.success(), "node 1:\n{}", text(&second));
    // The network layer's messages go to stderr, not to the output programs parse.
    for out in [&first, &second] {
        assert!(!String::from_utf8_lossy(&out.stdout).contains("onnect"), "{}", text(out));
    }

    let reference = muppet(alone.path(), &[&run[..], &["--json"]].concat());
    assert!(reference.status.success(), "{}", text(&reference));
    let (kept, follower, reference) = (last_json(&first), last_json(&second), last_json(&reference));
    assert_eq!((kept["status"].as_str(), kept["steps"].as_u64(), follower["node"].as_u64()), (Some("completed"), Some(3), Some(1)), "{kept}\n{follower}");
    assert_eq!(kept["examples"], reference["examples"]);
    same_losses(&kept, &follower, &reference, "two nodes");

    // Node 0 stored the run, with its devices; node 1 stored nothing.
    let runs: serde_json::Value = serde_json::from_slice(&muppet(home0.path(), &["runs", "list", "--json"]).stdout).expect("runs list JSON");
    assert_eq!(runs[0]["device"].as_str(), Some("cpu x2"), "{runs}");
    let none: serde_json::Value = serde_json::from_slice(&muppet(home1.path(), &["runs", "list", "--json"]).stdout).expect("runs list JSON");
    assert_eq!(none.as_array().map(Vec::len), Some(0), "{none}");
}

/// A two-node run stopped by a SIGTERM on node 1 is resumed on both nodes: `muppet resume`
/// on node 0, the first command again on node 1, which takes node 0's checkpoint and ends
/// with the losses of the run trained on one machine without a stop. Nodes whose runs
/// differ refuse to start, each saying which.
#[test]
fn a_two_node_run_stopped_on_one_node_resumes_on_both() {
    let model_folder = tempfile::tempdir().expect("tempdir");
    let model = model_without_dropout(model_folder.path());
    let [data0, data1] = free_ports(2)[..] else { unreachable!() };
    let (home0, home1, alone) = (tempfile::tempdir().expect("tempdir"), tempfile::tempdir().expect("tempdir"), tempfile::tempdir().expect("tempdir"));
    let run = args(
        &["prefinetune", "--model", &model, "--task", "sarcasm_headlines", "--task", "strategyqa", "--steps", "8", "--tasks-per-update", "4", "--head-dropout", "0"],
        &["--checkpoint-every", "1"],
    );
    let (mut server, address) = coordinator(home0.path());
    let two = [&run[..], &["--devices", "2"]].concat();

    // Another learning rate on node 1: neither node trains.
    let other = [&two[..], &["--lr", "3e-4"]].concat();
    let scratch = tempfile::tempdir().expect("tempdir");
    let (first, second) = (node(scratch.path(), &two, "0", &address, data0), node(home1.path(), &other, "1", &address, data1));
    let (first, second) = (finish(first, 120, "node 0"), finish(second, 120, "node 1"));
    assert!(!first.status.success() && text(&first).contains("another node would train another run than node 0"), "{}", text(&first));
    assert!(!second.status.success() && text(&second).contains("node 1 would train another run than node 0"), "{}", text(&second));

    // Stopped once node 0 has written its first checkpoint.
    let (first, mut second) = (node(home0.path(), &two, "0", &address, data0), node(home1.path(), &two, "1", &address, data1));
    let checkpoint = home0.path().join("runs/1/state-step1.json");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(240);
    while !checkpoint.exists() && std::time::Instant::now() < deadline && second.try_wait().expect("wait").is_none() {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let status = std::process::Command::new("kill").args(["-TERM", &second.id().to_string()]).status().expect("kill");
    assert!(status.success());
    let (first, second) = (finish(first, 120, "node 0"), finish(second, 120, "node 1"));
    assert!(first.status.success(), "node 0:\n{}\nnode 1:\n{}", text(&first), text(&second));
    let stopped = last_json(&first);
    let stopped_at = stopped["steps"].as_u64().expect("steps");
    assert_eq!(stopped["status"], "cancelled", "{stopped}");
    assert!((1..8).contains(&stopped_at), "{stopped}");
    assert!(text(&second).contains("node 1 cancelled"), "{}", text(&second));

    // A node other than 0 has no run to resume.
    let out = muppet(home1.path(), &["resume", "1", "--nodes", "2", "--node-rank", "1", "--coordinator", &address, "--node-address", "ws://127.0.0.1:1"]);
    assert!(!out.status.success() && text(&out).contains("on this node run the command that started it"), "{}", text(&out));

    let resume = ["resume", "1"];
    let (first, second) = (node(home0.path(), &resume, "0", &address, data0), node(home1.path(), &two, "1", &address, data1));
    let (first, second) = (finish(first, 300, "node 0"), finish(second, 120, "node 1"));
    assert!(first.status.success(), "node 0:\n{}\nnode 1:\n{}", text(&first), text(&second));
    assert!(second.status.success(), "node 1:\n{}", text(&second));
    let (kept, follower) = (last_json(&first), last_json(&second));
    assert_eq!((kept["status"].as_str(), kept["steps"].as_u64(), kept["resumed_from"].as_u64()), (Some("completed"), Some(8), Some(stopped_at)), "{kept}");
    assert_eq!(follower["steps"], 8, "{follower}");

    let reference = muppet(alone.path(), &[&run[..], &["--json"]].concat());
    assert!(reference.status.success(), "{}", text(&reference));
    let reference = last_json(&reference);
    assert_eq!(kept["examples"], reference["examples"]);
    same_losses(&kept, &follower, &reference, "resumed on two nodes");

    // A fine-tune of its checkpoint on both nodes: --from-run on node 0, which sends the model
    // (its encoder and the reused head); node 1 gives the settings node 0 takes from the run.
    let tail = ["--task", "strategyqa", "--steps", "2", "--train-size", "16", "--tasks-per-update", "4", "--head-dropout", "0", "--doc-stride", "16"];
    let from_run = args(&[&["finetune", "--from-run", "1", "--reuse-head"][..], &tail].concat(), &[]);
    let elsewhere = args(&[&["finetune", "--model", &model][..], &tail].concat(), &["--devices", "2"]);
    let out = muppet(home1.path(), &[&from_run[..], &["--nodes", "2", "--node-rank", "1", "--coordinator", &address, "--node-address", "ws://127.0.0.1:1"]].concat());
    assert!(!out.status.success() && text(&out).contains("give --from-run on node 0 only"), "{}", text(&out));
    let on_two = [&from_run[..], &["--devices", "2"]].concat();
    let (first, second) = (node(home0.path(), &on_two, "0", &address, data0), node(home1.path(), &elsewhere, "1", &address, data1));
    let (first, second) = (finish(first, 300, "node 0"), finish(second, 120, "node 1"));
    let _ = server.kill();
    let _ = server.wait();
    assert!(first.status.success(), "node 0:\n{}\nnode 1:\n{}", text(&first), text(&second));
    assert!(second.status.success(), "node 1:\n{}", text(&second));
    let reference = muppet(home0.path(), &[&from_run[..], &["--json"]].concat());
    assert!(reference.status.success(), "{}", text(&reference));
    let (kept, follower, reference) = (last_json(&first), last_json(&second), last_json(&reference));
    assert_eq!(kept["status"], "completed", "{kept}");
    same_losses(&kept, &follower, &reference, "fine-tuned on two nodes");
}

#[test]
fn a_worker_cancelled_with_sigterm_resumes_to_completion() {
    let home = tempfile::tempdir().expect("tempdir");
    let queue = args(&["prefinetune", "--task", "sarcasm_headlines", "--task", "squad_dev", "--steps", "6", "--tasks-per-update", "2"], &["--checkpoint-every", "1", "--doc-stride", "8", "--queue", "--json"]);
    let out = muppet(home.path(), &queue);
    assert!(out.status.success(), "{}", text(&out));
    let queued = last_json(&out);
    assert_eq!(queued["status"], "queued");
    let run = queued["run_id"].as_i64().expect("run_id").to_string();

    let mut worker = command(home.path(), &["worker", "--run", &run]).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("worker");
    let mut lines = BufReader::new(worker.stdout.take().expect("stdout")).lines();
    // Stop as soon as the first checkpoint is announced.
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.expect("line");
        let event: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        seen.push(event["event"].as_str().unwrap_or_default().to_string());
        if event["event"] == "checkpoint" {
            let status = std::process::Command::new("kill").args(["-TERM", &worker.id().to_string()]).status().expect("kill");
            assert!(status.success());
            break;
        }
    }
    let rest: Vec<String> = lines.map(|l| l.expect("line")).collect();
    assert!(worker.wait().expect("wait").success(), "the worker exits cleanly after a SIGTERM");
    assert_eq!(seen.first().map(String::as_str), Some("started"), "{seen:?}");
    let summary: serde_json::Value = serde_json::from_str(rest.last().expect("a summary line")).expect("JSON");
    assert_eq!(summary["event"], "summary");
    assert_eq!(summary["status"], "cancelled", "{summary}");
    let stopped_at = summary["steps"].as_u64().expect("steps");
    assert!((1..6).contains(&stopped_at), "{summary}");

    let out = muppet(home.path(), &["runs", "list", "--json"]);
    let runs: serde_json::Value = serde_json::from_slice(&out.stdout).expect("runs list JSON");
    assert_eq!(runs[0]["status"], "cancelled", "{runs}");

    let out = muppet(home.path(), &["resume", &run, "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let resumed = last_json(&out);
    assert_eq!(resumed["status"], "completed", "{resumed}");
    assert_eq!(resumed["steps"], 6);
    assert_eq!(resumed["resumed_from"], stopped_at);
    let out = muppet(home.path(), &["resume", &run]);
    assert!(!out.status.success() && text(&out).contains("already completed"), "{}", text(&out));

    // The worker's memory, read after the last update at least (and every few seconds).
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let memory = rt.block_on(async {
        let store = muppet_store::Store::open(&home.path().join("muppet.db")).await.expect("store");
        let id = muppet_core::RunId(run.parse().expect("id"));
        let memory = store.series(id, None, "system", "rss_mb").await.expect("series");
        store.close().await;
        memory
    });
    let (step, mb) = *memory.last().expect("a memory reading");
    assert!(step == 6 && (50.0..24_000.0).contains(&mb), "{memory:?}");
}

/// A queued 400-step run (minutes: it is stopped long before its end) and its worker,
/// events on a pipe.
fn long_worker(home: &std::path::Path) -> (String, std::process::Child) {
    let queue = args(&["prefinetune", "--task", "sarcasm_headlines", "--steps", "400"], &["--queue", "--json"]);
    let out = muppet(home, &queue);
    assert!(out.status.success(), "{}", text(&out));
    let run = last_json(&out)["run_id"].as_i64().expect("run_id").to_string();
    let worker = command(home, &["worker", "--run", &run]).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("worker");
    (run, worker)
}

#[test]
fn a_run_that_a_worker_trains_is_refused_to_a_second_writer() {
    let home = tempfile::tempdir().expect("tempdir");
    let (run, mut worker) = long_worker(home.path());
    let pid = worker.id().to_string();
    let mut lines = BufReader::new(worker.stdout.take().expect("stdout")).lines();
    let started = lines.by_ref().map(|l| l.expect("line")).find(|l| l.contains("\"started\""));
    assert!(started.is_some(), "the worker starts the run");

    // While it trains, neither a resume nor a second worker may write the run.
    for second in [vec!["resume", run.as_str()], vec!["worker", "--run", run.as_str()]] {
        let out = muppet(home.path(), &second);
        let said = text(&out);
        assert!(!out.status.success(), "{second:?} must be refused: {said}");
        assert!(out.stdout.is_empty(), "a refused worker prints no event: {said}");
        assert!(said.contains(&format!("run {run} is being trained by another process (pid {pid})")) && said.contains("run.lock"), "{second:?}: {said}");
    }
    let out = muppet(home.path(), &["runs", "list", "--json"]);
    let runs: serde_json::Value = serde_json::from_slice(&out.stdout).expect("runs list JSON");
    assert_eq!(runs[0]["status"], "running", "the refused writers leave the run to its worker: {runs}");

    let status = std::process::Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
    assert!(status.success());
    let rest: Vec<String> = lines.map(|l| l.expect("line")).collect();
    assert!(worker.wait().expect("wait").success(), "the worker exits cleanly after a SIGTERM");
    let summary: serde_json::Value = serde_json::from_str(rest.last().expect("a summary line")).expect("JSON");
    assert_eq!(summary["status"], "cancelled", "{summary}");
    let out = muppet(home.path(), &["runs", "list", "--json"]);
    let runs: serde_json::Value = serde_json::from_slice(&out.stdout).expect("runs list JSON");
    assert_eq!(runs[0]["status"], "cancelled", "{runs}");
}

#[test]
fn a_spec_file_names_its_run_and_flags_override_it() {
    let home = tempfile::tempdir().expect("tempdir");
    let spec = home.path().join("mixture.toml");
    std::fs::write(
        &spec,
        "name = \"sarcasm, two steps\"\ntasks = [\"sarcasm_headlines\"]\n[config]\nsteps = 2\nbatch_size = 2\nmax_len = 32\ndev_size = 8\neval_every = 0\n",
    )
    .expect("spec");
    let path = spec.to_str().expect("utf-8");
    let out = muppet(home.path(), &["prefinetune", "--spec", path, "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(last_json(&out)["steps"], 2);
    let out = muppet(home.path(), &["prefinetune", "--spec", path, "--name", "renamed", "--steps", "1", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(last_json(&out)["steps"], 1, "a flag overrides the file");
    let out = muppet(home.path(), &["runs", "list", "--json"]);
    let runs: serde_json::Value = serde_json::from_slice(&out.stdout).expect("runs list JSON");
    let mut names: Vec<&str> = runs.as_array().expect("array").iter().filter_map(|r| r["name"].as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["renamed", "sarcasm, two steps"], "{runs}");
    // Mixed precision trains on the CPU too, with a word on its speed there.
    let out = muppet(home.path(), &["prefinetune", "--spec", path, "--steps", "1", "--mixed-precision", "bf16", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("warning: mixed precision on the CPU"), "{}", text(&out));
    assert!(last_json(&out)["loss_last"].as_f64().is_some_and(f64::is_finite), "{}", text(&out));

    std::fs::write(&spec, "tasks = [\"sarcasm_headlines\"]\nsteps = 2\n").expect("spec");
    let out = muppet(home.path(), &["prefinetune", "--spec", path]);
    let said = text(&out);
    assert!(!out.status.success() && said.contains(path) && said.contains("is not a valid run spec") && said.contains("steps"), "{said}");
}

#[test]
fn only_the_last_checkpoints_are_kept_on_disk_and_in_the_store() {
    let home = tempfile::tempdir().expect("tempdir");
    let argv = args(&["prefinetune", "--task", "sarcasm_headlines", "--steps", "4"], &["--checkpoint-every", "1", "--keep-checkpoints", "2", "--json"]);
    let out = muppet(home.path(), &argv);
    assert!(out.status.success(), "{}", text(&out));
    let run = last_json(&out)["run_id"].as_i64().expect("run_id");
    let dir = home.path().join("runs").join(run.to_string());
    let mut models: Vec<String> = std::fs::read_dir(&dir)
        .expect("run folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with("model-step"))
        .collect();
    models.sort();
    assert_eq!(models, ["model-step3.mpk", "model-step4.mpk"]);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let steps: Vec<u64> = rt.block_on(async {
        let store = muppet_store::Store::open(&home.path().join("muppet.db")).await.expect("store");
        let c = store.checkpoints(muppet_core::RunId(run)).await.expect("checkpoints");
        store.close().await;
        c.into_iter().map(|c| c.step).collect()
    });
    assert_eq!(steps, [3, 4], "the store forgets the deleted ones");
    let out = muppet(home.path(), &["prefinetune", "--task", "sarcasm_headlines", "--steps", "1", "--keep-checkpoints", "0"]);
    assert!(!out.status.success() && text(&out).contains("--keep-checkpoints must be at least 1"), "{}", text(&out));
}

#[test]
fn early_stopping_keeps_the_best_checkpoint_and_step_best_takes_it() {
    let home = tempfile::tempdir().expect("tempdir");
    // Learning rate 0: the dev score never moves, so the first evaluation after training
    // began stays the best and two more without a better score end the run.
    let argv = [
        "finetune", "--task", "sarcasm_headlines", "--steps", "10", "--lr", "0", "--batch-size", "2", "--max-len", "48", "--dev-size", "8", "--warmup", "0",
        "--eval-every", "1", "--early-stopping", "2", "--early-stopping-threshold", "0.001", "--json",
    ];
    let out = muppet(home.path(), &argv);
    assert!(out.status.success(), "{}", text(&out));
    let json = last_json(&out);
    assert_eq!((json["status"].as_str(), json["steps"].as_u64(), json["stopped_early"].as_bool(), json["best_step"].as_u64()), (Some("completed"), Some(3), Some(true), Some(1)), "{json}");
    let best_score = json["best_score"].as_f64().expect("best_score");
    assert_eq!(json["tasks"][0]["dev_metric"].as_f64(), Some(best_score), "every evaluation scored the same");
    assert!(text(&out).contains("Stopped early at step 3 of 10: 2 dev evaluations in a row did not beat the best score by more than 0.001"), "{}", text(&out));
    let run = json["run_id"].as_i64().expect("run_id");
    let run_s = run.to_string();
    let dir = home.path().join("runs").join(&run_s);
    let mut models: Vec<String> = std::fs::read_dir(&dir).expect("run folder").map(|e| e.expect("entry").file_name().to_string_lossy().to_string()).filter(|n| n.starts_with("model-step")).collect();
    models.sort();
    assert_eq!(models, ["model-step1.mpk", "model-step3.mpk"], "the best and where it stopped");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let store = rt.block_on(muppet_store::Store::open(&home.path().join("muppet.db"))).expect("store");
    let notes = rt.block_on(store.notes(muppet_store::NoteTarget::Run(muppet_core::RunId(run)))).expect("notes");
    assert!(notes.iter().any(|n| n.body.starts_with("Stopped early at step 3 of 10") && n.body.contains("after step 1")), "{notes:?}");

    // --step best: scoring, export and a fine-tune from the run take step 1.
    let out = muppet(home.path(), &["eval", &run_s, "--task", "sarcasm_headlines", "--step", "best", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let scored: serde_json::Value = serde_json::from_slice(&out.stdout).expect("eval json");
    assert_eq!(scored["step"], 1, "{scored}");
    let accuracy = scored["scores"].as_array().expect("scores").iter().find(|s| s["metric"] == "accuracy").and_then(|s| s["value"].as_f64()).expect("accuracy");
    assert!((accuracy - best_score).abs() < 1e-6, "{accuracy} vs {best_score}");
    let hf = home.path().join("hf");
    let out = muppet(home.path(), &["export", &run_s, "--out", hf.to_str().expect("utf-8"), "--step", "best", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let exported: serde_json::Value = serde_json::from_slice(&out.stdout).expect("export json");
    assert_eq!(exported["step"], 1, "{exported}");
    let card = std::fs::read_to_string(hf.join("README.md")).expect("the model card");
    assert!(card.contains("exported at step 1 of 10, the checkpoint with the best dev score."), "{card}");
    let out = muppet(home.path(), &["finetune", "--from-run", &run_s, "--step", "best", "--task", "strategyqa", "--queue", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let queued = last_json(&out)["run_id"].as_i64().expect("queued run");
    let spec = rt.block_on(store.run_spec(muppet_core::RunId(queued))).expect("spec");
    assert_eq!(spec["init"]["step"], 1, "{spec}");
    let out = muppet(home.path(), &["runs", "show", &run_s, "--json"]);
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).expect("runs show json");
    assert_eq!(shown["best_checkpoint"]["step"], 1, "{shown}");
    rt.block_on(store.close());

    let out = muppet(home.path(), &["eval", &run_s, "--task", "sarcasm_headlines", "--step", "last"]);
    assert!(!out.status.success() && text(&out).contains("`last` is not a step"), "{}", text(&out));
    let out = muppet(home.path(), &["finetune", "--task", "sarcasm_headlines", "--steps", "2", "--early-stopping", "2"]);
    assert!(!out.status.success() && text(&out).contains("early stopping compares dev scores during training") && text(&out).contains("--eval-every"), "{}", text(&out));
}

#[test]
fn a_run_whose_process_was_killed_is_named_by_runs_list() {
    let home = tempfile::tempdir().expect("tempdir");
    let (run, mut worker) = long_worker(home.path());
    let started = BufReader::new(worker.stdout.take().expect("stdout")).lines().map(|l| l.expect("line")).find(|l| l.contains("\"step\""));
    assert!(started.is_some(), "the worker trains");
    let listed = muppet(home.path(), &["runs", "list"]);
    assert!(!text(&listed).contains("no process trains it"), "it still trains: {}", text(&listed));
    worker.kill().expect("SIGKILL");
    worker.wait().expect("wait");
    let listed = muppet(home.path(), &["runs", "list"]);
    let said = String::from_utf8_lossy(&listed.stdout);
    assert!(said.contains(&format!("run {run}: no process trains it any more")) && said.contains(&format!("`muppet resume {run}`")), "{said}");
}

#[test]
fn bad_training_input_fails_with_a_clear_message() {
    let home = tempfile::tempdir().expect("tempdir");
    let cases: [(&[&str], &str); 5] = [
        (&["prefinetune", "--task", "sarcasm_headlines", "--tasks-per-update", "0", "--steps", "1"], "--tasks-per-update must be at least 1"),
        (&["prefinetune", "--task", "no_such_task", "--steps", "1"], "no_such_task"),
        (&["prefinetune", "--task", "sarcasm_headlines", "--backend", "tpu"], "tpu"),
        (
            &["prefinetune", "--task", "sarcasm_headlines", "--backend", "cuda-bf16", "--mixed-precision", "bf16"],
            "use --backend cuda with --mixed-precision bf16",
        ),
        (&["finetune", "--from-run", "999", "--task", "strategyqa"], "999"),
    ];
    for (argv, expected) in cases {
        let out = muppet(home.path(), argv);
        assert_eq!(out.status.code(), Some(1), "{argv:?}: {}", text(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "{argv:?}: expected `{expected}` in:\n{stderr}");
    }
    // f16 mixed precision would need loss scaling: refused when the arguments are read.
    let out = muppet(home.path(), &["prefinetune", "--task", "sarcasm_headlines", "--mixed-precision", "fp16"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("needs loss scaling"), "{}", text(&out));
    // A missing model folder says what a model folder is.
    let missing = home.path().join("nowhere");
    let out = muppet(home.path(), &["prefinetune", "--task", "sarcasm_headlines", "--model", missing.to_str().expect("utf-8")]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a model folder"), "{}", text(&out));
}

#[test]
fn a_model_is_found_by_hub_id_in_the_local_hugging_face_cache() {
    let home = tempfile::tempdir().expect("tempdir");
    let cache = tempfile::tempdir().expect("cache");
    let repo = cache.path().join("models--sentence-transformers--all-MiniLM-L6-v2");
    let snapshot = repo.join("snapshots/0123abcd");
    std::fs::create_dir_all(&snapshot).expect("snapshot");
    std::fs::create_dir_all(repo.join("refs")).expect("refs");
    std::fs::write(repo.join("refs/main"), "0123abcd").expect("ref");
    let model = muppet_tests::cli::shared_assets().join("models/all-MiniLM-L6-v2");
    for file in ["config.json", "model.safetensors", "tokenizer.json"] {
        std::os::unix::fs::symlink(model.join(file), snapshot.join(file)).expect("link");
    }
    let run = |id: &str| {
        let argv = args(&["prefinetune", "--model", id, "--task", "sarcasm_headlines", "--steps", "1"], &["--json"]);
        command(home.path(), &argv).env("HF_HUB_CACHE", cache.path()).output().expect("muppet")
    };
    let out = run("sentence-transformers/all-MiniLM-L6-v2");
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(last_json(&out)["status"], "completed");
    let out = run("facebook/muppet-roberta-base");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not in the Hugging Face cache") && stderr.contains("huggingface-cli download facebook/muppet-roberta-base"), "{stderr}");
}

#[test]
fn tasks_that_share_inputs_are_reported() {
    let home = tempfile::tempdir().expect("tempdir");
    // DATA.md: VADER's movie snippets are largely the Rotten Tomatoes sentences.
    let out = muppet(home.path(), &["tasks", "show", "vader_movies", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let json = last_json(&out);
    let overlaps = json["overlaps"].as_array().expect("overlaps");
    let rt = overlaps.iter().find(|o| o["other"] == "rt_fresh_rotten").unwrap_or_else(|| panic!("{json}"));
    assert!(rt["shared"].as_u64().expect("shared") > 5000, "{rt}");
    // Fine-tuning on it from a run that pre-finetuned on rt_fresh_rotten warns.
    let pre = args(&["prefinetune", "--task", "rt_fresh_rotten", "--steps", "1"], &["--json"]);
    let out = muppet(home.path(), &pre);
    assert!(out.status.success(), "{}", text(&out));
    let run = last_json(&out)["run_id"].as_i64().expect("run").to_string();
    let ft = args(&["finetune", "--from-run", &run, "--task", "vader_movies", "--steps", "1", "--train-size", "8"], &["--json"]);
    let out = muppet(home.path(), &ft);
    assert!(out.status.success(), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("are also in `rt_fresh_rotten`"), "{stderr}");
}

/// Tags and a note given when a run starts (`--tag`, `--note`), then changed with `muppet runs
/// tag` and `muppet runs note`; bad ones are refused, saying which flag and why, before any
/// run is created or changed.
#[test]
fn runs_are_tagged_and_noted_at_launch_and_after() {
    let home = tempfile::tempdir().expect("tempdir");
    let launch = |extra: &[&str]| {
        let queue = args(&["prefinetune", "--task", "sarcasm_headlines", "--steps", "2"], &[&["--queue", "--json"], extra].concat());
        muppet(home.path(), &queue)
    };
    let out = launch(&["--tag", "baseline", "--tag", "  paper   fig 3 ", "--note", "\n first try \n"]);
    assert!(out.status.success(), "{}", text(&out));
    let run = last_json(&out)["run_id"].as_i64().expect("run_id").to_string();
    let show = || -> serde_json::Value {
        let out = muppet(home.path(), &["runs", "show", &run, "--json"]);
        assert!(out.status.success(), "{}", text(&out));
        serde_json::from_slice(&out.stdout).expect("runs show JSON")
    };
    let shown = show();
    assert_eq!(shown["tags"], serde_json::json!(["baseline", "paper fig 3"]), "{shown}");
    assert_eq!(shown["notes"][0]["body"], "first try", "{shown}");
    let listed = muppet(home.path(), &["runs", "list", "--tag", "paper fig 3", "--json"]);
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("runs list JSON");
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");

    for (extra, want) in [(&["--tag", "a,b"][..], "--tag: the tag `a,b` holds a comma"), (&["--note", "  "][..], "--note: write the note first")] {
        let out = launch(extra);
        assert!(!out.status.success() && text(&out).contains(want), "{}", text(&out));
    }
    let listed = muppet(home.path(), &["runs", "list", "--json"]);
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("runs list JSON");
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "a refused launch creates no run: {listed}");

    let out = muppet(home.path(), &["runs", "tag", &run, "--add", "best-so-far", "--remove", "baseline"]);
    assert!(out.status.success() && text(&out).contains(&format!("run {run}: tags best-so-far, paper fig 3")), "{}", text(&out));
    let out = muppet(home.path(), &["runs", "note", &run, "diverged at step 2"]);
    assert!(out.status.success() && text(&out).contains("2 in all"), "{}", text(&out));
    let shown = show();
    assert_eq!(shown["tags"], serde_json::json!(["best-so-far", "paper fig 3"]), "{shown}");
    assert_eq!(shown["notes"][1]["body"], "diverged at step 2", "{shown}");

    // A missing run or a bad tag changes nothing, on any run.
    let out = muppet(home.path(), &["runs", "tag", &run, "999", "--add", "x"]);
    assert!(!out.status.success() && text(&out).contains("999"), "{}", text(&out));
    let out = muppet(home.path(), &["runs", "tag", &run, "--add", "ok", "--add", &"x".repeat(41)]);
    assert!(!out.status.success() && text(&out).contains("longer than 40 characters"), "{}", text(&out));
    let out = muppet(home.path(), &["runs", "tag", &run]);
    assert!(!out.status.success(), "a tag to add or remove is asked for");
    assert_eq!(show()["tags"], serde_json::json!(["best-so-far", "paper fig 3"]));
}

/// `muppet runs watch` follows a run a worker trains in the background until it ends, and
/// says how it ended; a run that failed makes it fail with the reason.
#[test]
fn runs_watch_follows_a_background_worker_to_the_end() {
    let home = tempfile::tempdir().expect("tempdir");
    let queue = args(&["prefinetune", "--task", "sarcasm_headlines", "--steps", "4"], &["--queue", "--json"]);
    let out = muppet(home.path(), &queue);
    assert!(out.status.success(), "{}", text(&out));
    let run = last_json(&out)["run_id"].as_i64().expect("run_id").to_string();
    let worker = command(home.path(), &["worker", "--run", &run]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("worker");
    let watched = muppet(home.path(), &["runs", "watch", &run, "--every", "0.2"]);
    let worker = finish(worker, 120, "the worker");
    assert!(worker.status.success());
    assert!(watched.status.success(), "{}", text(&watched));
    let said = String::from_utf8_lossy(&watched.stdout);
    assert!(said.contains(&format!("run {run} completed: step 4/4, loss ")), "{said}");

    // A run whose model folder went missing fails in its worker; watching it says why.
    let model_folder = tempfile::tempdir().expect("tempdir");
    let model = model_without_dropout(model_folder.path());
    let queue = args(&["prefinetune", "--model", &model, "--task", "sarcasm_headlines", "--steps", "2"], &["--queue", "--json"]);
    let out = muppet(home.path(), &queue);
    assert!(out.status.success(), "{}", text(&out));
    let failing = last_json(&out)["run_id"].as_i64().expect("run_id").to_string();
    std::fs::remove_file(model_folder.path().join("model.safetensors")).expect("remove");
    let out = muppet(home.path(), &["worker", "--run", &failing]);
    assert!(!out.status.success());
    let watched = muppet(home.path(), &["runs", "watch", &failing]);
    assert!(!watched.status.success() && text(&watched).contains(&format!("run {failing} failed: ")) && text(&watched).contains("model.safetensors"), "{}", text(&watched));
    let out = muppet(home.path(), &["runs", "watch", "99"]);
    assert!(!out.status.success() && text(&out).contains("99"), "{}", text(&out));
}
