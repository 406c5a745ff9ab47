//! Hub datasets offline: a Hugging Face cache laid out as `huggingface-cli download`
//! leaves it (`datasets--org--name/{refs,blobs,snapshots}`, files linked into
//! `blobs/`) holding Parquet written from the real Rotten Tomatoes snippets of the
//! demo assets, read with HF_HUB_OFFLINE=1 through `muppet tasks import --hub` and
//! `muppet tasks add`. The hub import must match a direct Parquet import of the
//! same rows; failures must say what exists or how to download, and leave neither a
//! task nor a file behind.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Output;

use muppet_tests::cli::{command, text};
use muppet_tests::hub::{COMMIT, Row, cache_repo, parquet, parquet_with, rotten_tomatoes_rows};

fn muppet(home: &Path, cache: &Path, args: &[&str]) -> Output {
    command(home, args).env("HF_HUB_CACHE", cache).env("HF_HUB_OFFLINE", "1").env_remove("HF_HOME").output().expect("start muppet")
}

fn ok(out: Output) -> Output {
    assert!(out.status.success(), "{}", text(&out));
    out
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", text(out)))
}

/// Every file and link under `dir`, for checking that a failure left nothing behind.
fn tree(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir") {
            let p = e.expect("entry").path();
            if p.is_dir() && !p.is_symlink() {
                stack.push(p.clone());
            }
            out.push(p);
        }
    }
    out.sort();
    out
}

fn imported(home: &Path, cache: &Path) -> Vec<serde_json::Value> {
    let out = ok(muppet(home, cache, &["tasks", "list", "--json", "--imported"]));
    json(&out).as_array().expect("array").clone()
}

fn examples(home: &Path, cache: &Path, name: &str) -> serde_json::Value {
    let out = ok(muppet(home, cache, &["tasks", "preview", name, "-n", "1000000", "--json"]));
    json(&out)
}

/// Distinct (text, label) pairs: what an import keeps after dropping exact duplicates.
fn distinct(rows: &[Row]) -> usize {
    rows.iter().map(|r| (r.text.as_str(), r.label)).collect::<HashSet<_>>().len()
}

#[test]
fn a_hub_split_in_the_cache_imports_like_its_parquet_file_and_failures_leave_nothing() {
    let home = tempfile::tempdir().expect("tempdir");
    let cache = tempfile::tempdir().expect("tempdir");
    let rows = rotten_tomatoes_rows(home.path());
    let (train, validation) = rows.split_at(rows.len() - 1_500);
    let half = train.len() / 2;
    let id = "muppet-tests/rt_snippets";
    cache_repo(
        cache.path(),
        id,
        "main",
        COMMIT,
        &[
            ("README.md", b"---\nlicense: apache-2.0\n---\n".to_vec()),
            ("snippets/train-00000-of-00002.parquet", parquet(&train[..half])),
            ("snippets/train-00001-of-00002.parquet", parquet(&train[half..])),
            ("snippets/validation-00000-of-00001.parquet", parquet(validation)),
        ],
    );
    let scratch = tempfile::tempdir().expect("tempdir");
    let whole_train = scratch.path().join("train.parquet");
    std::fs::write(&whole_train, parquet(train)).expect("write");
    let everything = scratch.path().join("all.parquet");
    std::fs::write(&everything, parquet(&rows)).expect("write");

    // The two shards of the split, in order, are the same task as one file of the same rows.
    let direct = whole_train.display().to_string();
    ok(muppet(home.path(), cache.path(), &["tasks", "import", "--format", "parquet", "--family", "single", "--name", "direct", &direct]));
    let out =
        ok(muppet(home.path(), cache.path(), &["tasks", "import", "--hub", id, "--config", "snippets", "--name", "via_hub", "--family", "single"]));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("split train (2 files, revision main") && said.contains("read from the local Hugging Face cache"), "{said}");
    let (a, b) = (examples(home.path(), cache.path(), "direct"), examples(home.path(), cache.path(), "via_hub"));
    assert_eq!(a["labels"], b["labels"]);
    assert_eq!(a["examples"], b["examples"]);
    assert_eq!(b["examples"].as_array().map(Vec::len), Some(distinct(train)));
    // Labels are the hub's integers in first-seen order; each count matches the rows.
    let labels: Vec<String> = b["labels"].as_array().expect("labels").iter().map(|l| l.as_str().expect("label").to_string()).collect();
    let mut want: Vec<String> = Vec::new();
    for r in train {
        if !want.contains(&r.label.to_string()) {
            want.push(r.label.to_string());
        }
    }
    assert_eq!(labels, want);

    // Several splits are read in order as one task: all the rows.
    ok(muppet(
        home.path(),
        cache.path(),
        &["tasks", "import", "--format", "parquet", "--family", "single", "--name", "direct_all", &everything.display().to_string()],
    ));
    ok(muppet(
        home.path(),
        cache.path(),
        &["tasks", "import", "--hub", id, "--config", "snippets", "--split", "train,validation", "--name", "via_hub_all", "--family", "single"],
    ));
    let (a, b) = (examples(home.path(), cache.path(), "direct_all"), examples(home.path(), cache.path(), "via_hub_all"));
    assert_eq!(a["examples"], b["examples"]);
    assert_eq!(b["examples"].as_array().map(Vec::len), Some(distinct(&rows)));
    // Without HF_HUB_OFFLINE, a hub that cannot be reached (nothing listens on the
    // endpoint's port) leaves the cache to answer.
    let out = command(home.path(), &["tasks", "import", "--hub", id, "--config", "snippets", "--name", "unreachable", "--family", "single"])
        .env("HF_HUB_CACHE", cache.path())
        .env("HF_ENDPOINT", "http://127.0.0.1:9")
        .env_remove("HF_HUB_OFFLINE")
        .env_remove("HF_DATASETS_OFFLINE")
        .output()
        .expect("start muppet");
    let said = text(&ok(out));
    assert!(said.contains("read from the local Hugging Face cache"), "{said}");
    assert_eq!(examples(home.path(), cache.path(), "unreachable")["examples"], examples(home.path(), cache.path(), "via_hub")["examples"]);
    let listed = imported(home.path(), cache.path());
    let hub_task = listed.iter().find(|t| t["name"] == "via_hub").expect("listed");
    assert!(hub_task["source"].as_str().is_some_and(|s| s.contains("hf://datasets/muppet-tests/rt_snippets@5a1c3e0d9b7f")), "{hub_task}");

    // Failures: each names what exists or how to get it, and leaves nothing behind.
    let before_cache = tree(cache.path());
    let before = imported(home.path(), cache.path()).len();
    let fail = |args: &[&str], wants: &[&str]| {
        let mut argv = vec!["tasks", "import", "--name", "bad", "--family", "single"];
        argv.extend_from_slice(args);
        let out = muppet(home.path(), cache.path(), &argv);
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(1), "{argv:?}: {}", text(&out));
        for w in wants {
            assert!(stderr.contains(w), "{argv:?}: expected {w:?} in:\n{stderr}");
        }
        assert!(!stderr.contains("panicked"), "{stderr}");
    };
    fail(&["--hub", id, "--config", "snippets", "--split", "test"], &[id, "config `snippets` has no such split; its splits are: train, validation"]);
    fail(&["--hub", id, "--config", "reviews"], &["no such config; its configs are: snippets"]);
    fail(&["--hub", "muppet-tests/absent"], &["HF_HUB_OFFLINE", "huggingface-cli download --repo-type dataset muppet-tests/absent"]);
    fail(
        &["--hub", "muppet-tests/absent", "--config", "c1"],
        &["huggingface-cli download --repo-type dataset muppet-tests/absent --include \"c1/*\""],
    );
    // A bad field names the cached file, the row and the field; the second shard's
    // rows are numbered within that shard.
    fail(
        &["--hub", id, "--config", "snippets", "--label", "category"],
        &["snippets/train-00000-of-00002.parquet, row 1, field `category`", "the record has text, label"],
    );
    fail(&["--hub", id, "--config", "snippets", "--labels", "1"], &["snippets/train-0000", "not one of the declared labels"]);
    fail(&["--hub", "not-an-id"], &["org/name"]);
    assert_eq!(imported(home.path(), cache.path()).len(), before, "a failed hub import left a task behind");
    assert_eq!(tree(cache.path()), before_cache, "a failed hub import changed the cache");
}

/// Parquet written by `datasets` names the classes of a `ClassLabel` column: a hub import
/// takes them as the labels (in their order), and shards that disagree are refused.
#[test]
fn class_names_from_the_datasets_metadata_become_the_labels() {
    let home = tempfile::tempdir().expect("tempdir");
    let cache = tempfile::tempdir().expect("tempdir");
    let rows = rotten_tomatoes_rows(home.path());
    let (train, rest) = rows.split_at(4_000);
    let other = &rest[..2_000];
    let names: &[&str] = &["neg", "pos"];
    cache_repo(
        cache.path(),
        "muppet-tests/rt_classes",
        "main",
        COMMIT,
        &[
            ("plain_text/train-00000-of-00001.parquet", parquet_with(train, Some(names))),
            ("plain_text/validation-00000-of-00002.parquet", parquet_with(other, Some(names))),
            ("plain_text/validation-00001-of-00002.parquet", parquet_with(other, Some(&["pos", "neg"]))),
        ],
    );
    let args = |split: &str, name: &'static str| -> Vec<String> {
        ["tasks", "import", "--hub", "muppet-tests/rt_classes", "--config", "plain_text", "--split", split, "--name", name, "--family", "single"]
            .map(str::to_string)
            .to_vec()
    };
    let argv = args("train", "rt_classes");
    ok(muppet(home.path(), cache.path(), &argv.iter().map(String::as_str).collect::<Vec<_>>()));
    let task = examples(home.path(), cache.path(), "rt_classes");
    assert_eq!(task["labels"], serde_json::json!(["neg", "pos"]), "the dataset's names, not its integers");
    let got = task["examples"].as_array().expect("examples");
    assert_eq!(got.len(), distinct(train));
    // Each class index is the hub's integer (0 = neg), whatever order the rows come in.
    assert_eq!(got[0]["target"]["class"], train[0].label);
    let positives = got.iter().filter(|e| e["target"]["class"] == 1).count();
    assert_eq!(positives, train.iter().filter(|r| r.label == 1).map(|r| r.text.as_str()).collect::<HashSet<_>>().len());

    let before = imported(home.path(), cache.path()).len();
    let argv = args("validation", "rt_classes_val");
    let out = muppet(home.path(), cache.path(), &argv.iter().map(String::as_str).collect::<Vec<_>>());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        stderr.contains("validation-00001-of-00002.parquet")
            && stderr.contains("its `label` classes are [\"pos\", \"neg\"]")
            && stderr.contains("validation-00000-of-00002.parquet names them [\"neg\", \"pos\"]"),
        "{stderr}"
    );
    assert_eq!(imported(home.path(), cache.path()).len(), before, "nothing imported");
}

#[test]
fn the_muppet_catalog_lists_the_paper_datasets_and_adds_one_from_the_cache() {
    let home = tempfile::tempdir().expect("tempdir");
    let cache = tempfile::tempdir().expect("tempdir");
    let out = ok(muppet(home.path(), cache.path(), &["tasks", "list", "--catalog", "muppet", "--json"]));
    let catalog = json(&out);
    let entry =
        |name: &str| catalog.as_array().expect("array").iter().find(|e| e["name"] == name).unwrap_or_else(|| panic!("{name} not listed")).clone();
    let rt = entry("rotten_tomatoes");
    assert_eq!(rt["hub"], "cornell-movie-review-data/rotten_tomatoes");
    assert_eq!(rt["labels"], serde_json::json!(["neg", "pos"]));
    assert_eq!((rt["pickable"].clone(), rt["imported"].clone()), (true.into(), false.into()));
    assert_eq!(entry("sst2")["hub"], "nyu-mll/glue");
    assert_eq!(entry("cola")["metric"], "mcc");
    assert_eq!(entry("stsb")["family"], "regression");
    assert_eq!(entry("squad")["family"], "span");
    assert_eq!(entry("record")["pickable"], false);

    // The hub's Parquet conversion of the dataset, as `huggingface-cli download
    // --revision refs/convert/parquet` caches it: `<config>/<split>/NNNN.parquet`.
    let rows = rotten_tomatoes_rows(home.path());
    let (train, test) = rows.split_at(rows.len() - 1_000);
    let (train, validation) = train.split_at(train.len() - 500);
    cache_repo(
        cache.path(),
        "cornell-movie-review-data/rotten_tomatoes",
        "refs/convert/parquet",
        COMMIT,
        &[("default/train/0000.parquet", parquet(train)), ("default/validation/0000.parquet", parquet(validation)), ("default/test/0000.parquet", parquet(test))],
    );
    // The training split, and the validation split it is scored on.
    let out = ok(muppet(home.path(), cache.path(), &["tasks", "add", "rotten_tomatoes"]));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("revision refs/convert/parquet") && said.contains("labels neg, pos"), "{said}");
    assert!(said.contains("`rotten_tomatoes` is scored on `rotten_tomatoes_validation`"), "{said}");
    assert_eq!(examples(home.path(), cache.path(), "rotten_tomatoes_validation")["examples"].as_array().map(Vec::len), Some(distinct(validation)));
    let task = examples(home.path(), cache.path(), "rotten_tomatoes");
    assert_eq!(task["labels"], serde_json::json!(["neg", "pos"]));
    let got = task["examples"].as_array().expect("examples");
    assert_eq!(got.len(), distinct(train));
    // Label indices are the hub's integers (0 = neg), not first-seen order.
    let positives = got.iter().filter(|e| e["target"]["class"] == 1).count();
    let want_pos = train.iter().filter(|r| r.label == 1).map(|r| r.text.as_str()).collect::<HashSet<_>>().len();
    assert_eq!(positives, want_pos);
    let first = &train[0];
    assert_eq!(got[0]["text_a"], first.text.trim());
    assert_eq!(got[0]["target"]["class"], first.label);

    let listed = imported(home.path(), cache.path());
    let stored = listed.iter().find(|t| t["name"] == "rotten_tomatoes").expect("imported");
    assert_eq!(stored["metric"], "accuracy");
    assert!(stored["license"].as_str().is_some_and(|l| !l.is_empty()));
    let out = ok(muppet(home.path(), cache.path(), &["tasks", "list", "--catalog", "muppet", "--json"]));
    let rt = json(&out).as_array().expect("array").iter().find(|e| e["name"] == "rotten_tomatoes").expect("listed").clone();
    assert_eq!(rt["imported"], true);

    // Another split goes under its own name; an existing name is refused.
    ok(muppet(home.path(), cache.path(), &["tasks", "add", "rotten_tomatoes", "--split", "test"]));
    assert_eq!(examples(home.path(), cache.path(), "rotten_tomatoes_test")["examples"].as_array().map(Vec::len), Some(distinct(test)));
    let refuse = |args: &[&str], want: &str| {
        let out = muppet(home.path(), cache.path(), args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", text(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(want), "{args:?}: expected {want:?} in:\n{stderr}");
    };
    refuse(&["tasks", "add", "rotten_tomatoes"], "--replace");
    refuse(&["tasks", "add", "rotten_tomatoes", "--split", "extra", "--name", "rt_x"], "its splits are: test, train, validation");
    refuse(&["tasks", "add", "record"], "cannot be imported as a task here");
    refuse(&["tasks", "add", "sst3"], "not in the Muppet catalog; its datasets are: cola, sst2");
    refuse(&["tasks", "add", "sst2"], "huggingface-cli download --repo-type dataset nyu-mll/glue --include \"sst2/*\"");
    let names = |home: &Path| -> Vec<String> { imported(home, cache.path()).iter().filter_map(|t| t["name"].as_str().map(str::to_string)).collect() };
    assert_eq!(names(home.path()), ["rotten_tomatoes", "rotten_tomatoes_test", "rotten_tomatoes_validation"]);

    // --dev-split: the test split comes in too, as `rt_test`, and scores `rt` in every run,
    // which then trains on all of `rt`.
    ok(muppet(home.path(), cache.path(), &["tasks", "add", "rotten_tomatoes", "--name", "rt", "--dev-split", "test"]));
    let shown = json(&ok(muppet(home.path(), cache.path(), &["tasks", "show", "rt", "--json"])));
    assert_eq!(shown["split"]["dev_task"], "rt_test", "{shown}");
    let said = String::from_utf8_lossy(&ok(muppet(home.path(), cache.path(), &["tasks", "show", "rt"])).stdout).into_owned();
    assert!(said.contains("scored on task `rt_test`"), "{said}");
    assert_eq!(examples(home.path(), cache.path(), "rt_test")["examples"].as_array().map(Vec::len), Some(distinct(test)));
    let run = ["prefinetune", "--task", "rt", "--steps", "1", "--tasks-per-update", "1", "--batch-size", "2", "--max-len", "32", "--dev-size", "8", "--json"];
    let summary: serde_json::Value = String::from_utf8_lossy(&ok(muppet(home.path(), cache.path(), &run)).stdout)
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .expect("a summary");
    assert_eq!((summary["tasks"][0]["train_examples"].as_u64(), summary["tasks"][0]["dev_examples"].as_u64()), (Some(distinct(train) as u64), Some(8)), "{summary}");
    // Both tasks are stored or neither: `rt3` taken (alone: --no-dev-split), `rt3_test` is
    // not left behind.
    ok(muppet(home.path(), cache.path(), &["tasks", "add", "rotten_tomatoes", "--name", "rt3", "--no-dev-split"]));
    let shown = json(&ok(muppet(home.path(), cache.path(), &["tasks", "show", "rt3", "--json"])));
    assert!(shown["split"].get("dev_task").is_none(), "{shown}");
    refuse(&["tasks", "add", "rotten_tomatoes", "--name", "rt3", "--dev-split", "test"], "a task named `rt3` is already imported");
    assert_eq!(names(home.path()), ["rotten_tomatoes", "rotten_tomatoes_test", "rotten_tomatoes_validation", "rt", "rt3", "rt_test"]);
}
