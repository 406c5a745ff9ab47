//! What a researcher adds to a run (tags, notes) checked before it is stored, and what the
//! worker recorded about its resources (peak memory), read back for the run page.

use muppet_core::RunId;
use muppet_core::observer::{PEAK_MEMORY_NAME, SYSTEM_SPLIT};
use muppet_store::Store;

use crate::error::CommandError;

/// A tag as stored (`muppet_core::annotation::clean_tag`), or why not.
pub fn clean_tag(text: &str) -> Result<String, CommandError> {
    muppet_core::annotation::clean_tag(text).map_err(CommandError::Invalid)
}

/// A note as stored (`muppet_core::annotation::clean_note`), or why not.
pub fn clean_note(text: &str) -> Result<String, CommandError> {
    muppet_core::annotation::clean_note(text).map_err(CommandError::Invalid)
}

/// The tags and note a launch form sends, as stored (a blank note is none), or why not.
pub fn launch_labels(tags: &[String], note: Option<&str>) -> Result<(Vec<String>, Option<String>), CommandError> {
    let tags = muppet_core::annotation::clean_tags(tags).map_err(CommandError::Invalid)?;
    let note = note.filter(|n| !n.trim().is_empty()).map(clean_note).transpose()?;
    Ok((tags, note))
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
    fn a_bad_tag_or_note_is_an_invalid_request() {
        assert_eq!(clean_tag("  paper  fig 3 ").expect("tag"), "paper fig 3");
        let error = clean_tag("a,b").expect_err("comma");
        assert_eq!(error.kind(), "invalid");
        assert!(error.message().contains("comma"), "{error}");
        assert_eq!(clean_note(" \n ").expect_err("empty").kind(), "invalid");
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
