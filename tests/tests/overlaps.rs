//! `muppet tasks overlaps`: every available task against every other, on the real demo
//! data plus an imported task made of rewritten Rotten Tomatoes snippets; the check is
//! printed and stored for the app, and a re-import changes it.

use muppet_store::Store;
use muppet_tests::cli::{last_json, muppet, text};

fn import_jsonl(home: &std::path::Path, file: &std::path::Path, lines: &[String], replace: bool) {
    std::fs::write(file, lines.join("\n")).expect("write");
    let mut args = vec!["tasks", "import", "--format", "jsonl", "--family", "single", "--name", "leaky", "--text", "text", "--label", "label"];
    if replace {
        args.push("--replace");
    }
    let path = file.display().to_string();
    args.push(&path);
    let out = muppet(home, &args);
    assert!(out.status.success(), "{}", text(&out));
}

/// (other, shared, percent) of `task` in a check printed by `--json`.
fn overlaps_of(check: &serde_json::Value, task: &str) -> Vec<(String, u64, f64)> {
    check["overlaps"]
        .as_array()
        .expect("overlaps")
        .iter()
        .filter(|o| o["task"] == task)
        .map(|o| (o["other"].as_str().expect("other").to_string(), o["shared"].as_u64().expect("shared"), o["percent"].as_f64().expect("percent")))
        .collect()
}

#[test]
fn the_overlap_check_finds_rewritten_copies_and_is_stored_for_the_app() {
    let home = tempfile::tempdir().expect("tempdir");
    let scratch = tempfile::tempdir().expect("tempdir");
    // 40 real snippets, rewritten in case and punctuation, and 10 lines of our own.
    let out = muppet(home.path(), &["tasks", "preview", "rt_fresh_rotten", "-n", "40", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let preview: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let snippets: Vec<String> = preview["examples"].as_array().expect("examples").iter().map(|e| e["text_a"].as_str().expect("text").to_string()).collect();
    assert_eq!(snippets.len(), 40);
    let mut lines: Vec<String> =
        snippets.iter().map(|s| serde_json::json!({"text": format!("  {}!!", s.to_uppercase()), "label": "copied"}).to_string()).collect();
    lines.extend((0..10).map(|i| serde_json::json!({"text": format!("a sentence no dataset has, number {i} of ten"), "label": "own"}).to_string()));
    let file = scratch.path().join("leaky.jsonl");
    import_jsonl(home.path(), &file, &lines, false);

    let out = muppet(home.path(), &["tasks", "overlaps", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let check = last_json(&out);
    // The distinct snippets among the 40 (the demo set is deduplicated, so all of them).
    // Most shared first; VADER's movie set holds some of the same snippets, nothing else does.
    let leaky = overlaps_of(&check, "leaky");
    assert_eq!((leaky[0].0.as_str(), leaky[0].1), ("rt_fresh_rotten", 40), "{leaky:?}");
    assert!((leaky[0].2 - 80.0).abs() < 1e-9, "40 of 50 inputs: {leaky:?}");
    assert!(leaky[1..].iter().all(|o| o.0 == "vader_movies" && o.1 <= 40), "{leaky:?}");
    let rt = overlaps_of(&check, "rt_fresh_rotten");
    assert!(rt.iter().any(|o| o.0 == "leaky" && o.1 == 40), "{rt:?}");
    // The real data: VADER's movie snippets are Rotten Tomatoes' (DATA.md).
    let vader = overlaps_of(&check, "vader_movies");
    assert_eq!(vader[0].0, "rt_fresh_rotten", "{vader:?}");
    assert!(vader[0].2 > 95.0, "{vader:?}");
    let checked = check["tasks"].as_array().expect("tasks");
    assert!(checked.len() >= 23 && checked.iter().any(|t| t["task"] == "leaky" && t["inputs"] == 50), "{checked:?}");

    // The app reads the same check from the store.
    let rt_runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let stored = rt_runtime.block_on(async {
        let store = Store::open(&home.path().join("muppet.db")).await.expect("open");
        let check = store.overlap_check().await.expect("read");
        store.close().await;
        check
    });
    let of = stored.of("leaky").expect("leaky was checked");
    assert_eq!((of.len(), of[0].other.as_str(), of[0].shared), (leaky.len(), "rt_fresh_rotten", 40));

    // Re-imported without the copies, the next check finds nothing for it.
    import_jsonl(home.path(), &file, &lines[40..], true);
    let out = muppet(home.path(), &["tasks", "overlaps", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let check = last_json(&out);
    assert!(overlaps_of(&check, "leaky").is_empty(), "{check}");
    assert!(!overlaps_of(&check, "rt_fresh_rotten").iter().any(|o| o.0 == "leaky"));
}
