//! The stored overlap check: a new check replaces the old one whole, and a pair that
//! names a task the check did not cover is refused with nothing written.

use muppet_store::{CheckedTask, Store};

fn checked(task: &str, fingerprint: &str, inputs: i64) -> CheckedTask {
    CheckedTask { task: task.into(), fingerprint: fingerprint.into(), inputs }
}

#[tokio::test]
async fn a_check_replaces_the_previous_one_and_a_bad_one_leaves_it_intact() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("muppet.db")).await.expect("open");
    let empty = store.overlap_check().await.expect("read");
    assert!(empty.tasks.is_empty() && empty.checked_at.is_none());
    assert_eq!(empty.of("a"), None, "an unchecked task has no result, not an empty one");

    let tasks = [checked("a", "fa", 8), checked("b", "fb", 4), checked("c", "fc", 10)];
    let pairs = [("a".to_string(), "b".to_string(), 2), ("b".into(), "a".into(), 2), ("a".into(), "c".into(), 6), ("c".into(), "a".into(), 6)];
    store.replace_overlap_check(&tasks, &pairs).await.expect("store");
    let check = store.overlap_check().await.expect("read");
    assert!(check.checked_at.is_some());
    let of_a: Vec<(&str, i64, f64)> = check.of("a").expect("a checked").iter().map(|o| (o.other.as_str(), o.shared, o.percent)).collect();
    assert_eq!(of_a, vec![("c", 6, 75.0), ("b", 2, 25.0)], "most shared first, percent of a's own inputs");
    assert_eq!(check.of("b").expect("b checked")[0].percent, 50.0);
    assert_eq!(check.of("d"), None);

    // A pair naming a task outside the check is refused, and the stored check stays.
    let bad = [("a".to_string(), "zzz".to_string(), 1)];
    assert!(store.replace_overlap_check(&[checked("a", "fa2", 8)], &bad).await.is_err());
    assert_eq!(store.overlap_check().await.expect("read"), check);

    // A new check replaces everything: c is gone, a and b no longer overlap.
    store.replace_overlap_check(&[checked("a", "fa2", 8), checked("b", "fb", 4)], &[]).await.expect("replace");
    let check = store.overlap_check().await.expect("read");
    assert_eq!(check.tasks, vec![checked("a", "fa2", 8), checked("b", "fb", 4)]);
    assert!(check.overlaps.is_empty());
    assert_eq!(check.of("a"), Some(vec![]));
}
