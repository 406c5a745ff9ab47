//! Hugging Face round trip: a real (short) pre-finetuning run of MiniLM on two real tasks, `muppet export --format hf`, then
//! transformers loads the folder (`AutoModel`/`AutoTokenizer.from_pretrained`) and its hidden
//! states must match `muppet encode` on the same sentences. Plus the export's and encode's
//! errors on bad input.
//!
//! Python comes from `MUPPET_PYTHON`, else `<repo>/.venv/bin/python`; `make reference-env`
//! installs it. Without it the round trip fails (it never skips).

use std::path::{Path, PathBuf};
use std::process::Command;

use muppet_tests::cli::{last_json, muppet, shared_assets, text};
use muppet_tests::workspace::workspace_root;

/// Largest allowed difference between Burn's and transformers' hidden states.
const TOLERANCE: f32 = 1e-4;

/// Real sentences, single and pairs (a tab separates the two texts), of different lengths.
const SENTENCES: [&str; 8] = [
    "The cat sat on the mat.",
    "Pre-finetuning trains one encoder on about fifty labeled tasks before fine-tuning.",
    "Hello!",
    "A man is playing a guitar on a small stage while the audience claps along.",
    "A soccer game with multiple males playing.\tSome men are playing a sport.",
    "Is the sky blue?\tRayleigh scattering makes the daytime sky look blue to us.",
    "The movie was terrible.\tI loved every minute of it, best film of the year.",
    "How do I learn Rust?\tWhat is the best way to learn the Rust programming language?",
];

/// Python with torch and transformers: `MUPPET_PYTHON`, else `<repo>/.venv/bin/python`.
fn python() -> PathBuf {
    let python = match std::env::var_os("MUPPET_PYTHON").filter(|v| !v.is_empty()) {
        Some(p) => workspace_root().join(p),
        None => workspace_root().join(".venv/bin/python"),
    };
    assert!(
        python.is_file(),
        "no Python with transformers at {}: run `make reference-env` (creates .venv from scripts/reference/requirements.txt), or set MUPPET_PYTHON",
        python.display()
    );
    python
}

/// One encoded text: token ids, `[1, seq, hidden]`, values.
struct Hidden {
    input_ids: Vec<i64>,
    shape: Vec<usize>,
    values: Vec<f32>,
}

fn parse_lines(stdout: &[u8], what: &str) -> Vec<Hidden> {
    String::from_utf8_lossy(stdout)
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {line:.200}"));
            let ints = |k: &str| -> Vec<i64> {
                v[k].as_array().unwrap_or_else(|| panic!("{what}: no {k}")).iter().map(|x| x.as_i64().expect("integer")).collect()
            };
            Hidden {
                input_ids: ints("input_ids"),
                shape: ints("shape").into_iter().map(|x| x as usize).collect(),
                values: v["hidden"].as_array().expect("hidden").iter().map(|x| x.as_f64().expect("number") as f32).collect(),
            }
        })
        .collect()
}

fn encode_with_muppet(home: &Path, model: &Path, input: &Path) -> Vec<Hidden> {
    let out = muppet(home, &["encode", "--model", model.to_str().expect("utf-8"), "--input", input.to_str().expect("utf-8")]);
    assert!(out.status.success(), "muppet encode failed:\n{}", text(&out));
    parse_lines(&out.stdout, "muppet encode")
}

/// Largest absolute difference between two encodings of the same sentences (same tokens).
fn max_abs_diff(a: &[Hidden], b: &[Hidden]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .enumerate()
        .map(|(i, (x, y))| {
            assert_eq!(x.input_ids, y.input_ids, "sentence {i}: different tokens");
            assert_eq!(x.shape, y.shape, "sentence {i}");
            assert_eq!(x.values.len(), x.shape.iter().product::<usize>(), "sentence {i}");
            x.values.iter().zip(&y.values).map(|(p, q)| (p - q).abs()).fold(0f32, f32::max)
        })
        .fold(0f32, f32::max)
}

/// The two real tasks the run trains on (the demo's).
const TASKS: [&str; 2] = ["rt_fresh_rotten", "sarcasm_headlines"];

/// Pre-finetune the real MiniLM for 2 steps in `home` and return the run id.
fn trained_run(home: &Path) -> (String, serde_json::Value) {
    let args = ["prefinetune", "--task", TASKS[0], "--task", TASKS[1], "--steps", "2", "--batch-size", "4", "--json"];
    let out = muppet(home, &args);
    assert!(out.status.success(), "muppet prefinetune failed:\n{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let summary: serde_json::Value =
        serde_json::from_str(stdout.lines().last().unwrap_or_default()).unwrap_or_else(|e| panic!("--json summary ({e}):\n{stdout}"));
    assert!(summary["checkpoint"].is_string(), "the run saved no checkpoint: {summary}");
    (summary["run_id"].as_i64().unwrap_or_else(|| panic!("no run id: {summary}")).to_string(), summary)
}

/// The model card of an export as huggingface_hub reads it (`hf_card_check.py`).
fn read_card(python: &Path, folder: &Path) -> serde_json::Value {
    let script = workspace_root().join("scripts/reference/hf_card_check.py");
    let out = Command::new(python).arg(&script).arg(folder).env("HF_HUB_OFFLINE", "1").output().expect("start python");
    assert!(out.status.success(), "{} {} failed:\n{}", python.display(), script.display(), text(&out));
    serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().last().unwrap_or_default()).expect("card JSON")
}

#[test]
fn exported_run_loads_in_transformers_with_the_same_hidden_states() {
    let python = python();
    let home = tempfile::tempdir().expect("tempdir");
    let (run, trained) = trained_run(home.path());
    let export = home.path().join("exports/hf");
    let out = muppet(home.path(), &["export", &run, "--format", "hf", "--out", export.to_str().expect("utf-8"), "--json"]);
    assert!(out.status.success(), "muppet export failed:\n{}", text(&out));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("export --json prints JSON");
    assert_eq!(summary["step"], 2, "{summary}");
    for file in ["config.json", "model.safetensors", "tokenizer.json", "vocab.txt", "heads.safetensors", "heads.json", "README.md"] {
        assert!(export.join(file).is_file(), "{file} missing from the export: {summary}");
    }

    // The model card, as the hub's own parser reads it: the dev accuracy of each task at the
    // exported step (the run's last, where it scored dev) to the card's 4 decimals.
    let card = read_card(&python, &export);
    assert_eq!((card["library_name"].as_str(), card["pipeline_tag"].as_str(), card["license"].as_str()), (Some("transformers"), Some("feature-extraction"), Some("apache-2.0")), "{card}");
    assert!(card["tags"].as_array().is_some_and(|t| t.contains(&"pre-finetuning".into()) && t.contains(&"multi-task".into())), "{card}");
    let results = card["eval_results"].as_array().expect("eval results");
    for task in TASKS {
        let stored = trained["tasks"].as_array().expect("tasks").iter().find(|t| t["name"] == task).expect("the task's summary");
        assert_eq!(stored["metric"], "accuracy", "{stored}");
        let stored = stored["dev_metric"].as_f64().expect("dev metric");
        let carded = results.iter().find(|r| r["dataset_name"] == task && r["metric_type"] == "accuracy").unwrap_or_else(|| panic!("no {task} accuracy in {card}"));
        assert_eq!((carded["task_type"].as_str(), carded["dataset_split"].as_str()), (Some("text-classification"), Some("dev")), "{carded}");
        let value = carded["metric_value"].as_f64().expect("value");
        assert!((value - stored).abs() <= 5e-5, "{task}: card {value}, stored {stored}");
    }
    let prose = card["text"].as_str().expect("text");
    assert!(prose.contains(&format!("run {run} of Muppet Studio, exported at step 2 of 2.")) && prose.contains("AutoModel.from_pretrained"), "{prose}");
    assert!(!prose.contains("best dev score"), "a run that kept no best has none to name: {prose}");

    // heads.json lists the run's tasks, each with its own classifier's tensors.
    let heads: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(export.join("heads.json")).expect("heads.json")).expect("JSON");
    let tasks = heads["tasks"].as_array().expect("tasks");
    let names: Vec<&str> = tasks.iter().map(|t| t["name"].as_str().expect("name")).collect();
    assert_eq!(names, TASKS, "{heads}");
    for (i, t) in tasks.iter().enumerate() {
        assert_eq!(t["family"], "single");
        assert_eq!(t["module"], format!("classifiers.{i}"));
        assert_eq!(t["labels"].as_array().expect("labels").len(), 2, "{t}");
        assert_eq!(t["tensors"].as_array().expect("tensors").len(), 4, "dense and out_proj, weight and bias: {t}");
    }

    check_existing_folder_and_steps(&home, &run);

    let input = home.path().join("sentences.txt");
    std::fs::write(&input, SENTENCES.join("\n") + "\n").expect("sentences");
    let ours = encode_with_muppet(home.path(), &export, &input);
    assert_eq!(ours.len(), SENTENCES.len());
    assert!(ours.iter().any(|h| h.shape[1] > 20) && ours.iter().any(|h| h.shape[1] < 8), "lengths vary");

    let script = workspace_root().join("scripts/reference/hf_roundtrip.py");
    let out = Command::new(&python).arg(&script).arg(&export).arg("--input").arg(&input).output().expect("start python");
    assert!(out.status.success(), "{} {} failed:\n{}", python.display(), script.display(), text(&out));
    let theirs = parse_lines(&out.stdout, "hf_roundtrip.py");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("MISSING") && !stderr.contains("newly initialized"), "transformers found weights missing:\n{stderr}");

    let diff = max_abs_diff(&ours, &theirs);
    println!("max abs difference, muppet encode vs transformers on the export: {diff:e}");
    assert!(diff < TOLERANCE, "hidden states differ by {diff} (tolerance {TOLERANCE})");

    // One task's model: transformers' sequence classifier with the task's labels, whose logits
    // are that task's head in heads.safetensors over the full export's encoder, and which
    // pipeline() runs.
    let task_dir = home.path().join("exports/task");
    let task_arg = task_dir.to_str().expect("utf-8");
    let out = muppet(home.path(), &["export", &run, "--format", "hf", "--task", TASKS[0], "--out", task_arg, "--json"]);
    assert!(out.status.success(), "muppet export --task failed:\n{}", text(&out));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("export --json prints JSON");
    assert_eq!((summary["architecture"].as_str(), summary["task"].as_str()), (Some("BertForSequenceClassification"), Some(TASKS[0])), "{summary}");
    assert!(!task_dir.join("heads.safetensors").exists(), "the head is in model.safetensors");
    let card = read_card(&python, &task_dir);
    assert_eq!(card["pipeline_tag"], "text-classification", "{card}");
    assert!(card["eval_results"].as_array().is_some_and(|r| !r.is_empty() && r.iter().all(|r| r["dataset_name"] == TASKS[0])), "only the exported task: {card}");
    let unknown = muppet(home.path(), &["export", &run, "--format", "hf", "--task", "nope", "--out", task_arg, "--force"]);
    assert!(!unknown.status.success() && text(&unknown).contains("the run has no task `nope`; its tasks are `rt_fresh_rotten`, `sarcasm_headlines`"), "{}", text(&unknown));
    let script = workspace_root().join("scripts/reference/hf_task_check.py");
    let out = Command::new(&python).arg(&script).arg(&export).arg(&task_dir).args(["--task", TASKS[0]]).output().expect("start python");
    assert!(out.status.success(), "{} {} failed:\n{}", python.display(), script.display(), text(&out));
    let checked: serde_json::Value = serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().last().unwrap_or_default()).expect("check JSON");
    let diff = checked["max_abs_diff"].as_f64().expect("difference");
    println!("max abs difference, task model logits vs heads.safetensors over the encoder: {diff:e}");
    assert!(diff < f64::from(TOLERANCE), "the task model's logits differ by {diff}: {checked}");
    assert_eq!(checked["labels"], tasks[0]["labels"], "id2label is the task's labels in order: {checked}");
    assert!(tasks[0]["labels"].as_array().expect("labels").contains(&checked["pipeline"]["label"]), "pipeline() answers a label: {checked}");

    // Training changed the encoder: the export is not the base model.
    let base = shared_assets().join("models/all-MiniLM-L6-v2");
    let before = encode_with_muppet(home.path(), &base, &input);
    let moved = max_abs_diff(&before, &ours);
    println!("max abs difference, base model vs export: {moved:e}");
    assert!(moved > 1e-3, "the exported encoder equals the base model (difference {moved})");

    // The run's folder copied by hand into a data folder without a database: exported without
    // a model card, and no database is made there.
    let bare = tempfile::tempdir().expect("tempdir");
    copy_folder(&home.path().join("runs").join(&run), &bare.path().join("runs").join(&run));
    let hf = bare.path().join("hf");
    let out = muppet(bare.path(), &["export", &run, "--format", "hf", "--out", hf.to_str().expect("utf-8")]);
    assert!(out.status.success() && text(&out).contains("warning: no model card (README.md): no database at"), "{}", text(&out));
    assert!(hf.join("model.safetensors").is_file() && !hf.join("README.md").exists(), "exported without a card");
    assert!(!bare.path().join("muppet.db").exists(), "no database made by an export");
}

/// `from` and everything in it, copied to `to`.
fn copy_folder(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read folder") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_folder(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

#[test]
fn export_errors_name_the_run_and_what_to_do() {
    let home = tempfile::tempdir().expect("tempdir");
    let out_dir = home.path().join("out");
    let out_arg = out_dir.to_str().expect("utf-8");

    // An unknown run id.
    let out = muppet(home.path(), &["export", "4242", "--format", "hf", "--out", out_arg]);
    assert!(!out.status.success());
    let msg = text(&out);
    assert!(msg.contains("no run 4242") && msg.contains("muppet runs list"), "{msg}");
    assert!(!out_dir.exists());

    // A run folder whose run has not saved a checkpoint yet.
    let run_dir = home.path().join("runs/7");
    std::fs::create_dir_all(&run_dir).expect("run folder");
    let manifest = serde_json::json!({ "model_dir": shared_assets().join("models/all-MiniLM-L6-v2"), "tasks": [], "heads": [], "max_len": 128 });
    std::fs::write(run_dir.join("run.json"), manifest.to_string()).expect("run.json");
    let out = muppet(home.path(), &["export", "7", "--format", "hf", "--out", out_arg]);
    assert!(!out.status.success());
    let msg = text(&out);
    assert!(msg.contains("has no checkpoint") && msg.contains(&run_dir.display().to_string()), "{msg}");
    assert!(!out_dir.exists());

    // An unknown format is refused by the argument parser.
    let out = muppet(home.path(), &["export", "7", "--format", "onnx", "--out", out_arg]);
    assert!(!out.status.success());
    assert!(text(&out).contains("hf"), "{}", text(&out));
}

#[test]
fn encode_needs_the_weights_file() {
    let home = tempfile::tempdir().expect("tempdir");
    let model = home.path().join("half-model");
    std::fs::create_dir_all(&model).expect("folder");
    let base = shared_assets().join("models/all-MiniLM-L6-v2");
    for file in ["config.json", "tokenizer.json"] {
        std::fs::copy(base.join(file), model.join(file)).expect("copy");
    }
    let out = muppet(home.path(), &["encode", "--model", model.to_str().expect("utf-8"), "--text", "Hello!"]);
    assert!(!out.status.success());
    let msg = text(&out);
    assert!(msg.contains(&model.join("model.safetensors").display().to_string()) && msg.contains("not found"), "{msg}");

    // The base model itself encodes, as JSON with the documented fields.
    let out = muppet(home.path(), &["encode", "--model", base.to_str().expect("utf-8"), "--text", "Hello!", "--text-b", "Hi there.", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let hidden = parse_lines(&out.stdout, "muppet encode");
    assert_eq!(hidden.len(), 1);
    let h = &hidden[0];
    assert_eq!(h.shape, [1, h.input_ids.len(), 384]);
    assert_eq!(h.values.len(), h.input_ids.len() * 384);
    assert_eq!(h.input_ids[0], 101, "starts with [CLS]");
}

/// A non-empty folder is refused without --force and replaced with it; a missing step is named.
fn check_existing_folder_and_steps(home: &tempfile::TempDir, run: &str) {
    let out_dir = home.path().join("taken");
    std::fs::create_dir_all(&out_dir).expect("folder");
    std::fs::write(out_dir.join("notes.txt"), "mine").expect("file");
    let out_arg = out_dir.to_str().expect("utf-8");

    let out = muppet(home.path(), &["export", run, "--format", "hf", "--out", out_arg]);
    assert!(!out.status.success());
    let msg = text(&out);
    assert!(msg.contains("not empty") && msg.contains("--force") && msg.contains(out_arg), "{msg}");
    assert_eq!(std::fs::read_to_string(out_dir.join("notes.txt")).expect("untouched"), "mine");

    // A step the run does not have.
    let out = muppet(home.path(), &["export", run, "--format", "hf", "--out", out_arg, "--step", "99", "--force"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("no checkpoint at step 99"), "{}", text(&out));

    let out = muppet(home.path(), &["export", run, "--format", "hf", "--out", out_arg, "--force"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!out_dir.join("notes.txt").exists() && out_dir.join("model.safetensors").is_file());
    // Nothing is left beside it.
    let names: Vec<String> = std::fs::read_dir(home.path()).expect("list").flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    assert!(!names.iter().any(|n| n.contains("partial") || n.ends_with(".old")), "{names:?}");
}

/// A run bundled in one data folder (a GPU server's) and imported into another (the
/// desktop's) comes back whole: a new run with its status, metrics and checkpoints, which
/// exports there as a Hugging Face folder. A bundle whose checkpoint was damaged on the way
/// is refused, naming the checkpoint, and leaves nothing behind.
#[test]
fn a_bundled_run_is_imported_into_another_data_folder_and_exports_there() {
    let (server, desktop, files) = (tempfile::tempdir().expect("tempdir"), tempfile::tempdir().expect("tempdir"), tempfile::tempdir().expect("tempdir"));
    // The server keeps its base model elsewhere than this machine: its own copy of MiniLM,
    // gone once the run is bundled.
    let server_model = server.path().join("models/all-MiniLM-L6-v2");
    std::fs::create_dir_all(&server_model).expect("model dir");
    for entry in std::fs::read_dir(shared_assets().join("models/all-MiniLM-L6-v2")).expect("the shared model") {
        let entry = entry.expect("entry");
        std::os::unix::fs::symlink(entry.path(), server_model.join(entry.file_name())).expect("link");
    }
    let model_arg = server_model.to_str().expect("utf-8").to_string();
    let args = ["prefinetune", "--task", TASKS[0], "--task", TASKS[1], "--steps", "2", "--batch-size", "4", "--model", &model_arg, "--json"];
    let out = muppet(server.path(), &args);
    assert!(out.status.success(), "muppet prefinetune failed:\n{}", text(&out));
    let run = last_json(&out)["run_id"].as_i64().expect("a run id").to_string();
    let bundle = files.path().join("run.tar");
    let bundle_arg = bundle.to_str().expect("utf-8 path");
    let out = muppet(server.path(), &["runs", "bundle", &run, "--out", bundle_arg]);
    assert!(out.status.success(), "{}", text(&out));
    let again = muppet(server.path(), &["runs", "bundle", &run, "--out", bundle_arg]);
    assert!(!again.status.success() && text(&again).contains("already exists"), "{}", text(&again));

    let list = |home: &Path| -> Vec<serde_json::Value> {
        serde_json::from_slice::<serde_json::Value>(&muppet(home, &["runs", "list", "--json"]).stdout).expect("runs list JSON").as_array().expect("array").clone()
    };
    std::fs::remove_dir_all(server.path().join("models")).expect("the server's model goes");
    let out = muppet(desktop.path(), &["runs", "import", bundle_arg, "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let imported: serde_json::Value = serde_json::from_slice(&out.stdout).expect("import JSON");
    let source = &list(server.path())[0];
    let here = &list(desktop.path())[0];
    assert_eq!(imported["runs"][0]["run"], here["id"], "{imported}");
    assert_eq!(imported["runs"][0]["source_run"].to_string(), run);
    for key in ["name", "status", "points", "last_loss", "device"] {
        assert_eq!(here[key], source[key], "{key}");
    }
    let new_id = here["id"].to_string();
    // Its base model is this machine's copy of MiniLM, and its note says so.
    let shown = muppet(desktop.path(), &["runs", "show", &new_id, "--json"]);
    let shown: serde_json::Value = serde_json::from_slice(&shown.stdout).expect("runs show JSON");
    let relocated = format!("its base model {} is {} on this machine", server_model.display(), shared_assets().join("models/all-MiniLM-L6-v2").display());
    assert!(shown["notes"].as_array().expect("notes").iter().any(|n| n["body"].as_str().is_some_and(|b| b.contains(&relocated))), "{shown}");
    let hf = desktop.path().join("exported");
    let out = muppet(desktop.path(), &["export", &new_id, "--format", "hf", "--out", hf.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(hf.join("model.safetensors").is_file() && hf.join("heads.json").is_file());

    // One byte of the checkpoint changed on the way.
    let mut bytes = std::fs::read(&bundle).expect("bundle");
    let name = format!("files/{run}/model-step2.mpk").into_bytes();
    let at = bytes.windows(name.len()).position(|w| w == name.as_slice()).expect("the checkpoint's entry");
    bytes[at + 512 + 100] ^= 0xff;
    let damaged = files.path().join("damaged.tar");
    std::fs::write(&damaged, bytes).expect("write");
    let out = muppet(desktop.path(), &["runs", "import", damaged.to_str().expect("utf-8")]);
    assert!(!out.status.success());
    let message = text(&out);
    assert!(message.contains("damaged.tar") && message.contains(&format!("checkpoint `model-step2.mpk` (step 2) of run {run} is damaged")), "{message}");
    assert_eq!(list(desktop.path()).len(), 1, "nothing stored");
    let leftovers: Vec<_> = std::fs::read_dir(desktop.path().join("runs")).expect("runs").flatten().map(|e| e.file_name()).collect();
    assert_eq!(leftovers.len(), 1, "only the imported run's folder: {leftovers:?}");

    // Shown there, and its points written as CSV.
    let out = muppet(desktop.path(), &["runs", "show", &new_id, "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).expect("show JSON");
    assert_eq!(shown["id"].to_string(), new_id);
    assert_eq!(shown["checkpoints"][0]["step"], 2, "{shown}");
    assert!(shown["notes"].as_array().is_some_and(|n| n.iter().any(|n| n["body"].as_str().is_some_and(|b| b.starts_with("Imported from run")))), "{shown}");
    assert_eq!(shown["columns"]["params"]["updates"], 2, "{shown}");
    let human = text(&muppet(desktop.path(), &["runs", "show", &new_id]));
    assert!(human.contains("checkpoints:") && human.contains("step 2") && human.contains("updates"), "{human}");
    let csv_path = files.path().join("points.csv");
    let out = muppet(desktop.path(), &["runs", "csv", &new_id, "--out", csv_path.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", text(&out));
    let csv = std::fs::read_to_string(&csv_path).expect("csv");
    assert!(csv.starts_with("run_id,run_name,task,split,name,step,examples,wall_s,value\n"), "{csv}");
    assert_eq!(csv.lines().count() as u64 - 1, here["points"].as_u64().expect("points"), "one line per point");

    // Renamed there.
    let out = muppet(desktop.path(), &["runs", "rename", &new_id, "from the GPU server"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(list(desktop.path())[0]["name"], "from the GPU server");

    // Deleted there, the imported run goes with its folder; an unknown run is named.
    let out = muppet(desktop.path(), &["runs", "delete", &new_id]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).starts_with(&format!("deleted run {new_id}: ")) && text(&out).contains(" checkpoint"), "{}", text(&out));
    assert!(list(desktop.path()).is_empty());
    assert_eq!(std::fs::read_dir(desktop.path().join("runs")).expect("runs").count(), 0);
    let out = muppet(desktop.path(), &["runs", "delete", &new_id]);
    assert!(!out.status.success() && text(&out).contains(&format!("run {new_id} does not exist")), "{}", text(&out));
}
