//! `muppet eval`: a real (short) pre-finetuning run of MiniLM on four real tasks of four
//! families, then its checkpoint scored again: on the run's own dev examples it must give
//! the dev figures the run stored, its predictions must add up to those figures, and other
//! tasks are scored through the shared or a borrowed head. `muppet predict` on the texts of
//! the predictions written must give the same predictions. Plus what both refuse.

use std::path::Path;

use muppet_core::RunId;
use muppet_store::Store;
use muppet_tests::cli::{last_json, muppet, text};

/// The same checkpoint, the same dev items and batches: only float summation order could
/// differ between the run's evaluation and this one.
const TOLERANCE: f64 = 1e-6;

/// One task per family with a head: classification, multiple choice, regression, span.
const TASKS: [(&str, &str); 4] = [("sarcasm_headlines", "accuracy"), ("wikihow_goal_step", "accuracy"), ("vader_movies", "pearson"), ("squad_dev", "f1")];

const DEV: usize = 24;

fn eval(home: &Path, args: &[&str]) -> serde_json::Value {
    let mut argv = vec!["eval"];
    argv.extend_from_slice(args);
    argv.push("--json");
    let out = muppet(home, &argv);
    assert!(out.status.success(), "muppet {argv:?} failed:\n{}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("eval --json ({e}):\n{}", text(&out)))
}

fn refused(home: &Path, args: &[&str], says: &[&str]) {
    let mut argv = vec!["eval"];
    argv.extend_from_slice(args);
    let out = muppet(home, &argv);
    assert!(!out.status.success(), "muppet {argv:?} should be refused:\n{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    for s in says {
        assert!(err.contains(s), "the refusal of {argv:?} should say `{s}`:\n{err}");
    }
}

fn score(result: &serde_json::Value, metric: &str) -> f64 {
    let scores = result["scores"].as_array().expect("scores");
    let found = scores.iter().find(|s| s["metric"] == metric).unwrap_or_else(|| panic!("no {metric} in {result}"));
    found["value"].as_f64().expect("a value")
}

fn lines(path: &serde_json::Value) -> Vec<serde_json::Value> {
    let path = path.as_str().expect("a predictions path");
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{path}: {e}: {l}")))
        .collect()
}

fn mean(rows: &[serde_json::Value], f: impl Fn(&serde_json::Value) -> f64) -> f64 {
    rows.iter().map(f).sum::<f64>() / rows.len() as f64
}

#[test]
fn eval_scores_a_checkpoint_as_the_run_did_and_writes_each_prediction() {
    let home = tempfile::tempdir().expect("tempdir");
    let dev = DEV.to_string();
    let mut args = vec!["prefinetune", "--steps", "2", "--tasks-per-update", "4", "--batch-size", "4", "--max-len", "96", "--doc-stride", "32", "--dev-size", &dev, "--json"];
    for (task, _) in TASKS {
        args.extend(["--task", task]);
    }
    let out = muppet(home.path(), &args);
    assert!(out.status.success(), "muppet prefinetune failed:\n{}", text(&out));
    let run = last_json(&out)["run_id"].as_i64().expect("a run id");
    let run_arg = run.to_string();

    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let store = rt.block_on(Store::open(&home.path().join("muppet.db"))).expect("store");
    let mut written_files = Vec::new();
    for (task, metric) in TASKS {
        let result = eval(home.path(), &[&run_arg, "--task", task]);
        written_files.push((task, result["predictions"].as_str().expect("a predictions path").to_string()));
        assert_eq!(result["step"], 2, "{result}");
        assert_eq!(result["examples"], "dev");
        assert_eq!(result["scored"], DEV, "{result}");
        assert_eq!(result["head_task"], task);
        assert_eq!(result["split"], "eval-dev");
        let value = score(&result, metric);
        // The main figure's bootstrap interval holds it.
        let interval = &result["interval"];
        assert_eq!((&interval["metric"], interval["examples"].as_u64()), (&serde_json::Value::from(metric), Some(DEV as u64)), "{task}: {interval}");
        assert!((interval["value"].as_f64().expect("value") - value).abs() < 1e-12, "{task}: {interval}");
        let (low, high) = (interval["low"].as_f64().expect("low"), interval["high"].as_f64().expect("high"));
        assert!(low <= value && value <= high, "{task}: {interval}");
        let stored_dev = rt.block_on(store.series(RunId(run), Some(task), "dev", metric)).expect("dev series");
        let (step, dev_value) = *stored_dev.last().expect("a dev point");
        assert_eq!(step, 2);
        assert!((value - dev_value).abs() <= TOLERANCE, "{task}: eval {metric} {value} vs the run's dev {dev_value}");
        // Stored with the run's metrics at the checkpoint's step.
        let stored = rt.block_on(store.series(RunId(run), Some(task), "eval-dev", metric)).expect("eval series");
        assert_eq!(stored, vec![(2, value)], "{task}");

        // Every scored example's prediction, in example order, adding up to the score.
        let rows = lines(&result["predictions"]);
        assert_eq!(rows.len(), DEV, "{task}");
        let ids: Vec<u64> = rows.iter().map(|r| r["example"].as_u64().expect("example")).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{task}: {ids:?}");
        // Classification: the confusion matrix adds up to the examples and the accuracy.
        let classes = &result["classes"];
        if task == "sarcasm_headlines" {
            let matrix: Vec<Vec<u64>> = serde_json::from_value(classes["matrix"].clone()).expect("a matrix");
            assert_eq!(matrix.len(), 2);
            let total: u64 = matrix.iter().flatten().sum();
            let right: u64 = (0..2).map(|i| matrix[i][i]).sum();
            assert_eq!(total, DEV as u64);
            assert!((right as f64 / total as f64 - value).abs() < 1e-12, "{classes}");
            let support: u64 = classes["per_class"].as_array().expect("per class").iter().map(|k| k["support"].as_u64().expect("support")).sum();
            assert_eq!(support, DEV as u64);
        } else {
            assert!(classes.is_null(), "{task}: {classes}");
        }
        match metric {
            "accuracy" => {
                let right = mean(&rows, |r| f64::from(u8::from(r["correct"].as_bool().expect("correct"))));
                assert!((right - value).abs() <= 1e-12, "{task}: {right} vs {value}");
                // Calibration, recomputed from the predictions: ten bins of confidence (the
                // largest probability), each bin's |accuracy - mean confidence| weighted by its share.
                let calibration = &result["calibration"];
                let mut bins = [(0usize, 0.0f64, 0usize); 10];
                for r in &rows {
                    let confidence = numbers(&r["probabilities"]).into_iter().fold(0.0, f64::max);
                    let bin = ((confidence * 10.0).ceil() as usize).clamp(1, 10) - 1;
                    bins[bin].0 += 1;
                    bins[bin].1 += confidence;
                    bins[bin].2 += usize::from(r["correct"] == true);
                }
                let ece: f64 = bins.iter().filter(|b| b.0 > 0).map(|&(n, c, k)| n as f64 / DEV as f64 * (k as f64 / n as f64 - c / n as f64).abs()).sum();
                // The file holds each float32 probability in its shortest decimal form, a few
                // 1e-8 away from its exact value.
                assert!((calibration["ece"].as_f64().expect("ece") - ece).abs() < 1e-6, "{task}: {calibration} vs ECE {ece}");
                assert!((calibration["accuracy"].as_f64().expect("accuracy") - value).abs() < 1e-12, "{task}: {calibration}");
                let shown: u64 = calibration["bins"].as_array().expect("bins").iter().map(|b| b["examples"].as_u64().expect("examples")).sum();
                assert_eq!(shown, DEV as u64, "{task}: {calibration}");
                for r in &rows {
                    let p: f64 = r["probabilities"].as_array().expect("probabilities").iter().map(|p| p.as_f64().expect("p")).sum();
                    assert!((p - 1.0).abs() < 1e-5, "{task}: probabilities sum to {p}: {r}");
                }
            }
            "f1" => {
                assert!(result["calibration"].is_null(), "{task}: {}", result["calibration"]);
                let f1 = mean(&rows, |r| r["f1"].as_f64().expect("f1"));
                assert!((f1 - value).abs() <= 1e-12, "{task}: {f1} vs {value}");
            }
            _ => {
                assert!(result["calibration"].is_null(), "{task}: {}", result["calibration"]);
                for r in &rows {
                    let (p, gold, error) = (r["predicted"].as_f64().expect("predicted"), r["label"].as_f64().expect("label"), r["error"].as_f64().expect("error"));
                    assert!((p - gold - error).abs() < 1e-9, "{r}");
                }
            }
        }
    }

    // The texts of the predictions fed to `muppet predict` (the file's lines hold the fields
    // an input reads): each task's head says the same of them.
    for (task, file) in &written_files {
        let written = lines(&serde_json::Value::from(file.as_str()));
        let predicted = predict(home.path(), &[&run_arg, "--task", task, "--input", file]);
        assert_eq!(predicted["step"], 2);
        let answers = predicted["answers"].as_array().expect("answers");
        assert_eq!(answers.len(), written.len(), "{task}");
        for (row, answer) in written.iter().zip(answers) {
            same_prediction(task, row, answer);
        }
    }

    // A multiple-choice task the run did not train on: the shared head, all its examples.
    let other = eval(home.path(), &[&run_arg, "--task", "strategyqa"]);
    assert_eq!(other["examples"], "all");
    assert_eq!(other["head"], "choice");
    assert_eq!(other["head_task"], serde_json::Value::Null);
    assert_eq!(other["scored"], 2289);
    assert_eq!(lines(&other["predictions"]).len(), 2289);
    // A classification task through the classifier of a task of as many classes.
    let borrowed = eval(home.path(), &[&run_arg, "--task", "winowhy", "--head", "sarcasm_headlines", "--step", "2"]);
    assert_eq!(borrowed["split"], "eval-all@sarcasm_headlines");
    assert_eq!(borrowed["scored"], 2862);
    let stored = rt.block_on(store.series(RunId(run), Some("winowhy"), "eval-all@sarcasm_headlines", "accuracy")).expect("series");
    assert_eq!(stored, vec![(2, score(&borrowed, "accuracy"))]);
    rt.block_on(store.close());

    // `runs show` lists the scores beside the dev figures.
    let out = muppet(home.path(), &["runs", "show", &run_arg, "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).expect("runs show --json");
    let metrics = &shown["columns"]["metrics"];
    for column in ["sarcasm_headlines eval-dev accuracy", "strategyqa eval-all accuracy", "winowhy eval-all@sarcasm_headlines mcc"] {
        assert!(metrics.get(column).is_some(), "no `{column}` in {metrics}");
    }
}

/// Batches of other inputs pad to other lengths: the masked padding leaves the numbers
/// equal but for float summation order.
const PREDICT_TOLERANCE: f64 = 1e-5;

fn predict(home: &Path, args: &[&str]) -> serde_json::Value {
    let mut argv = vec!["predict"];
    argv.extend_from_slice(args);
    argv.push("--json");
    let out = muppet(home, &argv);
    assert!(out.status.success(), "muppet {argv:?} failed:\n{}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("predict --json ({e}):\n{}", text(&out)))
}

fn numbers(v: &serde_json::Value) -> Vec<f64> {
    v.as_array().expect("numbers").iter().map(|x| x.as_f64().expect("a number")).collect()
}

/// `answer` of `muppet predict` is what `muppet eval` wrote in `row` for the same input.
fn same_prediction(task: &str, row: &serde_json::Value, answer: &serde_json::Value) {
    let close = |a: f64, b: f64| (a - b).abs() <= PREDICT_TOLERANCE;
    match answer["kind"].as_str().expect("kind") {
        "class" => {
            let labels = answer["labels"].as_array().expect("labels");
            let predicted = answer["predicted"].as_u64().expect("predicted") as usize;
            assert_eq!(labels[predicted], row["predicted"], "{task}: {row} vs {answer}");
            let (p, q) = (numbers(&answer["probabilities"]), numbers(&row["probabilities"]));
            assert!(p.len() == q.len() && p.iter().zip(&q).all(|(a, b)| close(*a, *b)), "{task}: {row} vs {answer}");
        }
        "choice" => {
            assert_eq!(answer["predicted"], row["predicted"], "{task}: {row} vs {answer}");
            let (p, q) = (numbers(&answer["probabilities"]), numbers(&row["probabilities"]));
            assert!(p.len() == q.len() && p.iter().zip(&q).all(|(a, b)| close(*a, *b)), "{task}: {row} vs {answer}");
        }
        "value" => {
            let (p, q) = (answer["value"].as_f64().expect("value"), row["predicted"].as_f64().expect("predicted"));
            assert!(close(p, q), "{task}: {row} vs {answer}");
        }
        "span" => {
            assert_eq!(answer["answer"], row["predicted"], "{task}: {row} vs {answer}");
            let (p, q) = (answer["score"].as_f64().expect("score"), row["score"].as_f64().expect("score"));
            assert!(close(p, q), "{task}: {row} vs {answer}");
        }
        other => panic!("{task}: an answer of kind {other}: {answer}"),
    }
}

fn import_tiny(home: &Path, n: usize, replace: bool) {
    import_task(home, "tiny", n, replace);
}

fn import_task(home: &Path, name: &str, n: usize, replace: bool) {
    let file = home.join(format!("{name}.jsonl"));
    let rows: Vec<String> = (0..n)
        .map(|i| serde_json::json!({"text": format!("example number {i} is {}", if i % 2 == 0 { "good" } else { "bad" }), "label": if i % 2 == 0 { "good" } else { "bad" }}).to_string())
        .collect();
    std::fs::write(&file, rows.join("\n")).expect("write");
    let path = file.display().to_string();
    let mut args = vec!["tasks", "import", "--format", "jsonl", "--family", "single", "--name", name, "--text", "text", "--label", "label"];
    if replace {
        args.push("--replace");
    }
    args.push(&path);
    let out = muppet(home, &args);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn eval_refuses_what_it_cannot_score_and_says_what_to_do() {
    let home = tempfile::tempdir().expect("tempdir");
    import_tiny(home.path(), 40, false);
    let out = muppet(home.path(), &["prefinetune", "--task", "tiny", "--steps", "1", "--batch-size", "4", "--dev-size", "10", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let run = last_json(&out)["run_id"].as_i64().expect("a run id").to_string();

    refused(home.path(), &[&run, "--task", "winowhy"], &["did not train on task `winowhy`", "--head TASK", "`tiny` (single)"]);
    refused(home.path(), &[&run, "--task", "bbc_news", "--head", "tiny"], &["the head of `tiny`", "2 classes", "5 classes"]);
    refused(home.path(), &[&run, "--task", "winowhy", "--head", "tiny", "--examples", "dev"], &["did not train on task `winowhy`", "--examples all"]);
    refused(home.path(), &[&run, "--task", "tiny", "--head", "nothing"], &["no task `nothing`"]);
    refused(home.path(), &[&run, "--task", "tiny", "--step", "7"], &["no checkpoint at step 7", "it has steps 1"]);
    refused(home.path(), &["99", "--task", "tiny"], &["no run 99"]);

    // What `muppet predict` refuses, naming the input and what to give.
    let refuse = |args: &[&str], says: &[&str]| {
        let mut argv = vec!["predict", run.as_str()];
        argv.extend_from_slice(args);
        let out = muppet(home.path(), &argv);
        assert!(!out.status.success(), "muppet {argv:?} should be refused:\n{}", text(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        for s in says {
            assert!(err.contains(s), "the refusal of {argv:?} should say `{s}`:\n{err}");
        }
    };
    refuse(&["--task", "nothing", "--text", "a"], &["no task `nothing`", "`tiny` (single)"]);
    refuse(&["--task", "tiny", "--text", "a", "--text-b", "b"], &["input 1: a second text was given", "reads one text"]);
    refuse(&["--task", "tiny", "--text", " "], &["input 1: the text is empty"]);
    refuse(&["--task", "tiny", "--text", "a", "--choice", "x", "--choice", "y"], &["input 1: choices were given"]);
    refuse(&["--task", "tiny", "--text", "a", "--step", "7"], &["no checkpoint at step 7"]);
    let inputs = home.path().join("inputs.jsonl");
    std::fs::write(&inputs, "{\"text\": \"fine\"}\n\n{\"text\": 3}\n").expect("write");
    refuse(&["--task", "tiny", "--input", &inputs.display().to_string()], &["inputs.jsonl line 3", "each line is a JSON object"]);
    // Read for people: the predicted class, then each class with its probability.
    let out = muppet(home.path(), &["predict", &run, "--task", "tiny", "--text", "example number 4 is good"]);
    assert!(out.status.success(), "{}", text(&out));
    let said = String::from_utf8_lossy(&out.stdout);
    let shown = predict(home.path(), &[&run, "--task", "tiny", "--text", "example number 4 is good"]);
    let labels = shown["answers"][0]["labels"].as_array().expect("labels").clone();
    assert_eq!(labels, ["good", "bad"].map(serde_json::Value::from).to_vec());
    let predicted = labels[shown["answers"][0]["predicted"].as_u64().expect("predicted") as usize].as_str().expect("a label").to_string();
    let first_lines: Vec<&str> = said.lines().collect();
    assert!(first_lines[0].starts_with(&format!("run {run} step 1: the head of `tiny` (single, classifiers.0)")), "{said}");
    assert_eq!(first_lines[1].trim(), predicted, "{said}");
    assert!(first_lines[2].trim_start().starts_with(&predicted), "{said}");

    // The examples the run trained on, before the data changed.
    let train = eval(home.path(), &[&run, "--task", "tiny", "--examples", "train"]);
    assert_eq!(train["scored"], 30, "{train}");
    assert_eq!(train["split"], "eval-train");

    // Two runs scored in one call on a task neither trained on, through their classifiers
    // (2 classes each): an array, each run's scores stored with its own metrics.
    let out = muppet(home.path(), &["prefinetune", "--task", "tiny", "--steps", "2", "--batch-size", "4", "--dev-size", "10", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let second = last_json(&out)["run_id"].as_i64().expect("a run id").to_string();
    import_task(home.path(), "other", 24, false);
    let both = eval(home.path(), &[&run, &second, "--task", "other", "--head", "tiny"]);
    let both = both.as_array().expect("one result per run");
    assert_eq!(both.iter().map(|r| r["run"].to_string()).collect::<Vec<_>>(), [run.clone(), second.clone()]);
    assert!(both.iter().all(|r| r["scored"] == 24 && r["split"] == "eval-all@tiny"), "{both:?}");
    let out = muppet(home.path(), &["runs", "compare", &run, &second, "--json"]);
    let compared: serde_json::Value = serde_json::from_slice(&out.stdout).expect("runs compare JSON");
    let side_by_side = compared["metrics"].as_array().expect("metrics").iter().find(|m| m["key"]["task"] == "other" && m["key"]["name"] == "accuracy").expect("the scores of `other`");
    assert!(side_by_side["values"].as_array().expect("values").iter().all(|v| v["value"].is_number()), "{side_by_side}");
    refused(home.path(), &[&run, &second, "--task", "tiny", "--step", "1"], &["--step N picks a checkpoint of one run"]);

    // The two compared example by example: each one's accuracy on the 24 shared examples is
    // its own score, the right-and-wrong table adds up to the predictions files.
    let paired = eval(home.path(), &[&run, &second, "--task", "other", "--head", "tiny", "--paired", "--resamples", "300"]);
    let (runs, p) = (paired["runs"].as_array().expect("both runs"), &paired["paired"]);
    assert_eq!((p["examples"].as_u64(), p["only_in_a"].as_u64(), p["resamples"].as_u64()), (Some(24), Some(0), Some(300)), "{p}");
    assert_eq!(p["metric"], "accuracy");
    let (a, b) = (p["a"].as_f64().expect("a"), p["b"].as_f64().expect("b"));
    assert!((a - score(&runs[0], "accuracy")).abs() < 1e-12 && (b - score(&runs[1], "accuracy")).abs() < 1e-12, "{paired}");
    assert!((p["difference"].as_f64().expect("difference") - (b - a)).abs() < 1e-12);
    let (low, high) = (p["interval"][0].as_f64().expect("low"), p["interval"][1].as_f64().expect("high"));
    assert!(low <= b - a && b - a <= high, "{p}");
    let right = |r: &serde_json::Value| lines(&r["predictions"]).iter().filter(|row| row["correct"] == true).count() as u64;
    let g = &p["agreement"];
    let count = |k: &str| g[k].as_u64().expect("a count");
    assert_eq!(count("both_right") + count("only_a"), right(&runs[0]), "{g}");
    assert_eq!(count("both_right") + count("only_b"), right(&runs[1]), "{g}");
    assert_eq!(count("both_right") + count("only_a") + count("only_b") + count("both_wrong"), 24);
    // McNemar's exact p from the counts: twice the smaller binomial tail, at most 1.
    let (b, c) = (count("only_a"), count("only_b"));
    let choose = |n: u64, k: u64| (0..k).fold(1u128, |acc, i| acc * u128::from(n - i) / u128::from(i + 1));
    let tail: u128 = (0..=b.min(c)).map(|k| choose(b + c, k)).sum();
    let expected = (2.0 * tail as f64 / 2f64.powi((b + c) as i32)).min(1.0);
    assert!((g["mcnemar_p"].as_f64().expect("p") - expected).abs() < 1e-12, "{g}: McNemar's p should be {expected}");
    assert!(p["shown"].as_array().expect("shown").len() as u64 <= p["differing"].as_u64().expect("differing"));
    // The same predictions give the same interval (a fixed seed).
    let again = eval(home.path(), &[&run, &second, "--task", "other", "--head", "tiny", "--paired", "--resamples", "300"]);
    assert_eq!(again["paired"]["interval"], p["interval"]);
    refused(home.path(), &[&run, "--task", "other", "--head", "tiny", "--paired"], &["--paired compares two runs", "1 given"]);

    // The task imported again with one example fewer: the run's dev ids would point at
    // other examples. All of them can still be scored.
    import_tiny(home.path(), 39, true);
    refused(home.path(), &[&run, "--task", "tiny"], &["task `tiny` has other data", "39 examples", "the run saw 40", "--examples all"]);
    let all = eval(home.path(), &[&run, "--task", "tiny", "--examples", "all"]);
    assert_eq!(all["scored"], 39);
    assert_eq!(all["split"], "eval-all");
}
