//! What a researcher adds to a run (tags, notes) checked before it is stored, and what the
//! worker recorded about its resources (peak memory), read back for the run page.

use muppet_core::RunId;
use muppet_core::observer::{PEAK_MEMORY_NAME, SYSTEM_SPLIT};
use muppet_store::Store;

use crate::error::CommandError;

/// Longest tag accepted: tags are short labels shown as chips in the runs table.
pub const MAX_TAG_CHARS: usize = 40;
/// Longest note accepted.
pub const MAX_NOTE_CHARS: usize = 10_000;

/// A tag as stored: trimmed, inner runs of spaces made one, non-empty, short, no commas.
pub fn clean_tag(text: &str) -> Result<String, CommandError> {
    let tag = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if tag.is_empty() {
        return Err(CommandError::Invalid("type a tag first".into()));
    }
    if tag.chars().count() > MAX_TAG_CHARS {
        return Err(CommandError::Invalid(format!(
            "the tag `{tag}` is longer than {MAX_TAG_CHARS} characters: shorten it, and keep the details for a note"
        )));
    }
    if tag.contains(',') {
        return Err(CommandError::Invalid(format!(
            "the tag `{tag}` holds a comma: add one tag at a time"
        )));
    }
    Ok(tag)
}

/// A note as stored: trimmed, non-empty.
pub fn clean_note(text: &str) -> Result<String, CommandError> {
    let note = text.trim();
    if note.is_empty() {
        return Err(CommandError::Invalid("write the note first".into()));
    }
    if note.chars().count() > MAX_NOTE_CHARS {
        return Err(CommandError::Invalid(format!(
            "the note is longer than {MAX_NOTE_CHARS} characters: split it into several notes"
        )));
    }
    Ok(note.to_string())
}

/// The highest peak memory the run's workers recorded, in MB.
pub async fn peak_rss_mb(store: &Store, run: RunId) -> Result<Option<f64>, CommandError> {
    let points = store
        .series(run, None, SYSTEM_SPLIT, PEAK_MEMORY_NAME)
        .await?;
    Ok(points.into_iter().map(|(_, mb)| mb).reduce(f64::max))
}

#[cfg(test)]
mod tests {
    use muppet_core::MetricPoint;

    use crate::test_support::new_run;

    use super::*;

    #[test]
    fn tags_are_short_single_labels() {
        assert_eq!(clean_tag("  paper  fig 3 ").expect("tag"), "paper fig 3");
        for (bad, why) in [
            ("   ", "type a tag"),
            ("a,b", "comma"),
            (&"x".repeat(41) as &str, "longer than 40"),
        ] {
            let error = clean_tag(bad).expect_err(why);
            assert_eq!(error.kind(), "invalid");
            assert!(error.message().contains(why), "{error}");
        }
        assert_eq!(
            clean_tag(&"é".repeat(40))
                .expect("40 characters")
                .chars()
                .count(),
            40
        );
    }

    #[test]
    fn notes_are_trimmed_and_not_empty() {
        assert_eq!(
            clean_note("\n diverged at 3k \n").expect("note"),
            "diverged at 3k"
        );
        assert!(clean_note(" \n ").is_err());
        assert!(clean_note(&"x".repeat(MAX_NOTE_CHARS + 1)).is_err());
    }

    #[test]
    fn peak_memory_is_the_highest_over_worker_sessions() {
        let dir = tempfile::tempdir().expect("tempdir");
        tauri::async_runtime::block_on(async {
            let store = Store::open(&dir.path().join("muppet.db"))
                .await
                .expect("store");
            let run = store.create_run(&new_run("r", "flex")).await.expect("run");
            assert_eq!(peak_rss_mb(&store, run).await.expect("read"), None);
            let point = |step, value| MetricPoint {
                task: None,
                split: SYSTEM_SPLIT.into(),
                name: PEAK_MEMORY_NAME.into(),
                step,
                examples: step * 4,
                wall_s: 1.0,
                value,
            };
            store
                .record_points(run, &[point(10, 812.5)])
                .await
                .expect("record");
            store
                .record_points(run, &[point(20, 640.0)])
                .await
                .expect("record");
            assert_eq!(peak_rss_mb(&store, run).await.expect("read"), Some(812.5));
            store.close().await;
        });
    }
}
