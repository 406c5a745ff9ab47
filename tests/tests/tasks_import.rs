//! `muppet tasks import` on the malformed corpus (tests/data/malformed, see
//! its manifest.json) plus inputs generated here (a 10 MB line, broken
//! Parquet): every one fails with exit code 1 and a message naming the
//! file, the record and the field at fault, and none is left behind in
//! `muppet tasks list --json`. A valid file then imports and lists.

use std::path::{Path, PathBuf};
use std::process::Output;

use muppet_tests::cli::command;
use muppet_tests::workspace::workspace_root;

fn muppet(home: &Path, args: &[String]) -> Output {
    command(home, &[]).args(args).output().expect("start muppet")
}

/// One malformed input and what its error must say.
struct Case {
    path: PathBuf,
    args: Vec<String>,
    /// The record as the message names it (`line 3`, `example 2`, `whole file` ...).
    at: String,
    /// The field at fault, where one is.
    field: Option<String>,
    /// A phrase of the explanation.
    hint: Option<String>,
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array().into_iter().flatten().filter_map(|s| s.as_str().map(str::to_string)).collect()
}

fn corpus() -> Vec<Case> {
    let dir = workspace_root().join("tests/data/malformed");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).expect("manifest.json")).expect("manifest JSON");
    manifest["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| Case {
            path: dir.join(c["file"].as_str().expect("file")),
            args: strings(&c["args"]),
            at: c["at"].as_str().expect("at").to_string(),
            field: c["field"].as_str().map(str::to_string),
            hint: c["hint"].as_str().map(str::to_string),
        })
        .collect()
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// Inputs too big to commit, or derived from the committed Parquet fixture.
fn generated(dir: &Path) -> Vec<Case> {
    let ten_mb = "a".repeat(10 * 1024 * 1024);
    let good = "{\"text\": \"fine\", \"label\": \"pos\"}\n";
    let missing_label = dir.join("ten_mb_line_missing_label.jsonl");
    std::fs::write(&missing_label, format!("{good}{{\"text\": \"{ten_mb}\"}}\n{good}")).expect("write");
    let unterminated = dir.join("ten_mb_line_unterminated.jsonl");
    std::fs::write(&unterminated, format!("{good}{{\"text\": \"{ten_mb}\n")).expect("write");
    let fixture = std::fs::read(workspace_root().join("tests/data/valid/small.parquet")).expect("parquet fixture");
    let truncated = dir.join("truncated.parquet");
    std::fs::write(&truncated, &fixture[..fixture.len() / 2]).expect("write");
    let parquet = workspace_root().join("tests/data/valid/small.parquet");
    let single = |format: &str| args(&["--format", format, "--family", "single"]);
    vec![
        Case { path: missing_label, args: single("jsonl"), at: "line 2".into(), field: Some("label".into()), hint: Some("missing".into()) },
        Case { path: unterminated, args: single("jsonl"), at: "line 2".into(), field: None, hint: Some("not valid JSON".into()) },
        Case { path: truncated, args: single("parquet"), at: "whole file".into(), field: None, hint: Some("Parquet".into()) },
        Case {
            path: parquet.clone(),
            args: args(&["--format", "parquet", "--family", "single", "--label", "sentiment"]),
            at: "row 1".into(),
            field: Some("sentiment".into()),
            hint: Some("missing".into()),
        },
        Case {
            path: parquet,
            args: args(&["--format", "parquet", "--family", "single", "--labels", "pos"]),
            at: "row 2".into(),
            field: Some("label".into()),
            hint: Some("not one of the declared labels".into()),
        },
    ]
}

fn imported_names(home: &Path) -> Vec<String> {
    let out = muppet(home, &args(&["tasks", "list", "--json"]));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).expect("tasks list --json prints JSON");
    let list = list.as_array().expect("a JSON array");
    // The demo catalog is listed too (its assets are present).
    assert!(list.iter().any(|t| t["name"] == "squad_dev" && t["origin"] == "catalog"), "{list:?}");
    list.iter().filter(|t| t["origin"] == "imported").filter_map(|t| t["name"].as_str().map(str::to_string)).collect()
}

#[test]
fn malformed_imports_fail_naming_file_record_and_field_and_leave_nothing() {
    let home = tempfile::tempdir().expect("tempdir");
    let scratch = tempfile::tempdir().expect("tempdir");
    let corpus = corpus();
    assert!(corpus.len() >= 40, "the corpus has {} cases", corpus.len());
    let mut failures = Vec::new();
    for (i, case) in corpus.iter().chain(&generated(scratch.path())).enumerate() {
        let file = case.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let mut argv = args(&["tasks", "import", "--name"]);
        argv.push(format!("bad_{i}"));
        argv.extend(case.args.iter().cloned());
        argv.push(case.path.display().to_string());
        let out = muppet(home.path(), &argv);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let mut wrong = Vec::new();
        if out.status.code() != Some(1) {
            wrong.push(format!("exit code {:?}", out.status.code()));
        }
        if !stderr.contains(&file) {
            wrong.push("does not name the file".into());
        }
        if !stderr.contains(&format!(", {}", case.at)) {
            wrong.push(format!("does not name the record ({})", case.at));
        }
        if let Some(field) = &case.field
            && !stderr.contains(&format!("field `{field}`"))
        {
            wrong.push(format!("does not name the field `{field}`"));
        }
        if let Some(hint) = &case.hint
            && !stderr.contains(hint.as_str())
        {
            wrong.push(format!("does not say {hint:?}"));
        }
        if stderr.contains("panicked") || stderr.len() > 2_000 {
            wrong.push("panicked or printed too much".into());
        }
        if !wrong.is_empty() {
            failures.push(format!("{file} ({}): {}\n    {}", case.args.join(" "), wrong.join("; "), stderr.trim()));
        }
    }
    assert!(failures.is_empty(), "{} of the malformed imports misbehaved:\n{}", failures.len(), failures.join("\n"));
    assert_eq!(imported_names(home.path()), Vec::<String>::new(), "a failed import left a task behind");

    // The same binary and data folder import a valid file.
    let good = scratch.path().join("good.jsonl");
    std::fs::write(&good, "{\"text\": \"fine\", \"label\": \"pos\"}\n{\"text\": \"dull\", \"label\": \"neg\"}\n").expect("write");
    let out = muppet(home.path(), &args(&["tasks", "import", "--format", "jsonl", "--family", "single", "--name", "good", &good.display().to_string()]));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(imported_names(home.path()), ["good"]);
}

#[test]
fn an_imported_task_reads_back_through_show_and_preview_and_replaces_atomically() {
    let home = tempfile::tempdir().expect("tempdir");
    let scratch = tempfile::tempdir().expect("tempdir");
    let squad = scratch.path().join("mini.json");
    let context = "Zoë met Bob in Paris – twice.";
    let data = serde_json::json!({"version": "1.1", "data": [{"title": "t", "paragraphs": [{"context": context, "qas": [
        {"id": "a", "question": "Where?", "answers": [{"text": "Paris", "answer_start": 15}]},
        {"id": "b", "question": "Who?", "answers": [{"text": "Zoë", "answer_start": 0}, {"text": "Bob", "answer_start": 8}]}]}]}]});
    std::fs::write(&squad, data.to_string()).expect("write");
    let import = |extra: &[&str]| {
        let mut argv = args(&["tasks", "import", "--format", "squad", "--family", "span", "--name", "mini"]);
        argv.extend(args(extra));
        argv.push(squad.display().to_string());
        muppet(home.path(), &argv)
    };
    let out = import(&[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let out = muppet(home.path(), &args(&["tasks", "preview", "mini", "-n", "5", "--json"]));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let preview: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let examples = preview["examples"].as_array().expect("examples");
    assert_eq!(examples.len(), 2);
    assert_eq!(examples[0]["text_a"], "Where?");
    assert_eq!(examples[0]["text_b"], context);
    assert_eq!(examples[0]["target"]["span"][0], serde_json::json!({"start": 15, "text": "Paris"}));
    assert_eq!(examples[1]["target"]["span"][1]["start"], 8);

    let out = muppet(home.path(), &args(&["tasks", "show", "mini", "--json"]));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let show: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(show["family"], "span");
    assert_eq!(show["stats"]["examples"], 2);
    assert_eq!(show["stats"]["answers"], serde_json::json!([[1, 1], [2, 1]]));
    // Lengths in characters: the context has 29 (ë and – are one each).
    let text_b = show["stats"]["lengths"].as_array().expect("lengths").iter().find(|l| l["field"] == "text_b").expect("text_b").clone();
    assert_eq!((text_b["min"].as_u64(), text_b["max"].as_u64()), (Some(29), Some(29)));

    // A second import of the name is refused; a failed --replace keeps the old data.
    let out = import(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--replace"));
    std::fs::write(&squad, data.to_string().replace("\"answer_start\": 15", "\"answer_start\": 14").replace("\"answer_start\":15", "\"answer_start\":14")).expect("write");
    let out = import(&["--replace"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stderr).contains("question 1 (id a), field `answer_start`"));
    let out = muppet(home.path(), &args(&["tasks", "list", "--json", "--imported"]));
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(list[0]["examples"], 2);

    // A catalog task shows its DATA.md size less exact duplicates.
    let out = muppet(home.path(), &args(&["tasks", "show", "strategyqa", "--json"]));
    let show: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(show["stats"]["examples"], 2_289);
    assert_eq!(show["stats"]["choices"], serde_json::json!([[2, 2_289]]));
}

/// A generation task on real data: BIG-bench's Quoref answer generation (`input` ->
/// `target`) imports with its field map and its own split policy recorded, previews
/// its target, shows target lengths, and is refused by training before any run is
/// made, with the reason.
#[test]
fn a_generation_task_imports_with_its_fields_and_split_and_training_refuses_it() {
    let home = tempfile::tempdir().expect("tempdir");
    let file = muppet_tests::cli::shared_assets().join("raw/bigbench/natural_instructions/subtask002_quoref_answer_generation/task.json");
    let argv = args(&["tasks", "import", "--format", "bigbench", "--family", "generation", "--name", "quoref_gen", "--dev-size", "300", "--split-seed", "9"]);
    let out = muppet(home.path(), &[argv, vec![file.display().to_string()]].concat());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let out = muppet(home.path(), &args(&["tasks", "show", "quoref_gen", "--json"]));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let show: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!((show["family"].as_str(), show["metric"].as_str(), show["trains"].as_bool()), (Some("generation"), Some("rouge_l"), Some(false)));
    assert_eq!(show["fields"], serde_json::json!({"text": "input", "target": "target"}));
    assert_eq!(show["split"], serde_json::json!({"dev_size": 300, "seed": 9}));
    // DATA.md: 6,500 examples in the file; exact duplicates are dropped.
    let examples = show["stats"]["examples"].as_u64().expect("examples");
    assert!((6_000..=6_500).contains(&examples), "{examples}");
    let target = show["stats"]["lengths"].as_array().expect("lengths").iter().find(|l| l["field"] == "target").expect("target lengths").clone();
    assert_eq!(target["count"].as_u64(), Some(examples));

    let out = muppet(home.path(), &args(&["tasks", "preview", "quoref_gen", "-n", "2", "--json"]));
    let preview: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let first = &preview["examples"][0];
    assert!(first["text_a"].as_str().expect("source").starts_with("Passage:"), "{first}");
    assert!(!first["target"]["text"].as_str().expect("a text target").is_empty());

    let out = muppet(home.path(), &args(&["prefinetune", "--task", "quoref_gen", "--steps", "1", "--queue", "--json"]));
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("task `quoref_gen`: generation tasks are not trained") && err.contains("decoder"), "{err}");
    let out = muppet(home.path(), &args(&["runs", "list", "--json"]));
    let runs: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(runs.as_array().map(Vec::len), Some(0), "no run is made for a refused mixture: {runs}");
}

/// `--dev-task`: a task imported with the task it is scored on; a name that is no task, a
/// task of another family or with other labels is refused naming both and stores nothing.
#[test]
fn a_task_names_the_task_it_is_scored_on_and_a_wrong_one_is_refused() {
    let home = tempfile::tempdir().expect("tempdir");
    let scratch = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, rows: &[(&str, &str)]| {
        let path = scratch.path().join(name);
        let lines: Vec<String> = rows.iter().map(|(text, label)| serde_json::json!({"text": text, "label": label}).to_string()).collect();
        std::fs::write(&path, lines.join("\n")).expect("write");
        path.display().to_string()
    };
    let train = write("train.jsonl", &[("a fine film", "pos"), ("dull", "neg"), ("great fun", "pos"), ("a mess", "neg")]);
    let dev = write("dev.jsonl", &[("lovely", "pos"), ("boring", "neg"), ("dull", "neg")]);
    let flipped = write("flipped.jsonl", &[("boring", "neg"), ("lovely", "pos")]);
    let import = |name: &str, file: &str, extra: &[&str]| {
        let mut argv = args(&["tasks", "import", "--format", "jsonl", "--family", "single", "--text", "text", "--label", "label", "--name", name]);
        argv.extend(args(extra));
        argv.push(file.to_string());
        muppet(home.path(), &argv)
    };
    let refused = |out: Output, want: &str| {
        assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(want), "expected {want:?} in:\n{stderr}");
    };
    refused(import("reviews", &train, &["--dev-task", "reviews_dev"]), "--dev-task `reviews_dev`: no task of that name");
    let out = import("reviews_dev", &dev, &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // First-seen labels: neg before pos here, pos before neg in the training file.
    let out = import("reviews_flipped", &flipped, &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    refused(import("reviews", &train, &["--dev-task", "reviews_flipped"]), "whose labels (neg, pos) are not its own (pos, neg): import `reviews_flipped` again with --labels pos,neg");
    refused(import("reviews", &train, &["--dev-task", "strategyqa"]), "task `reviews` (single) is scored on task `strategyqa`, a mc task");
    assert_eq!(imported_names(home.path()), ["reviews_dev", "reviews_flipped"]);

    let out = import("reviews", &train, &["--dev-task", "reviews_dev"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = muppet(home.path(), &args(&["tasks", "show", "reviews", "--json"]));
    let show: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(show["split"], serde_json::json!({"dev_task": "reviews_dev"}));

    // A run scores it on all three dev examples, and warns that one of them is a training input.
    let run = args(&["prefinetune", "--task", "reviews", "--steps", "1", "--tasks-per-update", "1", "--batch-size", "2", "--max-len", "16", "--json"]);
    let out = muppet(home.path(), &run);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: serde_json::Value = serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().last().expect("a summary")).expect("JSON");
    assert_eq!((summary["tasks"][0]["train_examples"].as_u64(), summary["tasks"][0]["dev_examples"].as_u64()), (Some(4), Some(3)), "{summary}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let warning = "1 of the 3 inputs of `reviews_dev` (33.3%), on which `reviews` is scored, are also in `reviews`, a task this run trains on";
    assert!(stderr.contains(&format!("warning: {warning}")), "{stderr}");
    // The warning is kept with the run, where the app's run page shows its notes.
    let run = muppet_core::RunId(summary["run_id"].as_i64().expect("run id"));
    let notes = tokio::runtime::Runtime::new().expect("runtime").block_on(async {
        let store = muppet_store::Store::open(&home.path().join("muppet.db")).await.expect("store");
        let notes = store.notes(muppet_store::NoteTarget::Run(run)).await.expect("notes");
        store.close().await;
        notes
    });
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].body.starts_with("Warning when the run started: ") && notes[0].body.contains(warning), "{notes:?}");

    // Deleting: the dev task goes only with the task scored on it; a demo catalog task is
    // not deleted; a refusal deletes nothing; the run that trained on it is named.
    refused(muppet(home.path(), &args(&["tasks", "delete", "reviews_dev"])), "task `reviews` is scored on `reviews_dev`: delete them together (`muppet tasks delete reviews reviews_dev`)");
    refused(muppet(home.path(), &args(&["tasks", "delete", "reviews_flipped", "strategyqa"])), "`strategyqa` is a task of the demo catalog");
    assert_eq!(imported_names(home.path()), ["reviews", "reviews_dev", "reviews_flipped"]);
    let out = muppet(home.path(), &args(&["tasks", "delete", "reviews", "reviews_dev", "--json"]));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let deleted: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(deleted, serde_json::json!({"tasks": ["reviews", "reviews_dev"], "examples": 7, "runs": [run.0]}));
    assert_eq!(imported_names(home.path()), ["reviews_flipped"]);
}
