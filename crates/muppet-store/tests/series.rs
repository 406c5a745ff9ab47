//! Summaries, rollups and downsampled fetches checked against brute force over
//! the raw points, for appended, replayed and out-of-order batches.

use muppet_core::{MetricPoint, RunId, RunKind};
use muppet_store::{MetricGoal, NewRun, SeriesId, SeriesKey, Store};

fn point(name: &str, step: u64, value: f64) -> MetricPoint {
    MetricPoint { task: Some("rte".into()), split: "dev".into(), name: name.into(), step, examples: step * 8, wall_s: step as f64, value }
}

async fn store_with_run() -> (tempfile::TempDir, Store, RunId) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("muppet.db")).await.expect("open");
    let run = store
        .create_run(&NewRun { name: "r".into(), kind: RunKind::Finetune, spec: serde_json::json!({}), seed: None, backend: "flex".into(), device: "cpu".into() })
        .await
        .expect("run");
    (dir, store, run)
}

/// A deterministic value with dips and NaNs, so min/max/last are all exercised.
fn value(step: u64) -> f64 {
    if step % 97 == 13 { f64::NAN } else { ((step * 7919) % 1000) as f64 / 1000.0 - (step as f64) * 1e-6 }
}

fn same(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a == b
}

/// Check every bucket against the raw points it claims to cover.
async fn check_fetch(store: &Store, id: SeriesId, raw: &[(u64, f64)], lo: u64, hi: u64, buckets: usize) {
    let got = store.fetch_series(id, lo..=hi, buckets).await.expect("fetch");
    let inside: Vec<&(u64, f64)> = raw.iter().filter(|(s, _)| (lo..=hi).contains(s)).collect();
    assert!(got.len() <= buckets, "{lo}..={hi} in {buckets}: {} buckets", got.len());
    assert_eq!(got.iter().map(|b| b.count).sum::<u64>(), inside.len() as u64, "{lo}..={hi} in {buckets}: every point once");
    if inside.len() >= 4 * buckets {
        assert!(got.len() >= buckets / 4, "{lo}..={hi} in {buckets}: only {} buckets", got.len());
    }
    for pair in got.windows(2) {
        assert!(pair[0].step_hi < pair[1].step_lo, "buckets overlap: {pair:?}");
    }
    for b in &got {
        let pts: Vec<&(u64, f64)> = inside.iter().copied().filter(|(s, _)| (b.step_lo..=b.step_hi).contains(s)).collect();
        assert_eq!(pts.len() as u64, b.count, "{b:?}");
        assert_eq!(pts.first().map(|p| p.0), Some(b.step_lo));
        assert_eq!(pts.last().map(|p| p.0), Some(b.step_hi));
        let min = pts.iter().map(|p| p.1).fold(f64::NAN, f64::min);
        let max = pts.iter().map(|p| p.1).fold(f64::NAN, f64::max);
        assert!(same(b.min, min) && same(b.max, max), "{b:?} vs min {min} max {max}");
        assert!(same(b.last, pts[pts.len() - 1].1), "{b:?}");
    }
}

async fn check_summary(store: &Store, id: SeriesId, raw: &[(u64, f64)], goal: MetricGoal) {
    let info = store.series_info(id).await.expect("info");
    assert_eq!(info.goal, goal);
    let s = info.summary.expect("summary");
    assert_eq!(s.count, raw.len() as u64);
    assert_eq!((s.first_step, s.last_step), (raw[0].0, raw[raw.len() - 1].0));
    assert!(same(s.last, raw[raw.len() - 1].1));
    let finite: Vec<&(u64, f64)> = raw.iter().filter(|p| !p.1.is_nan()).collect();
    let min = finite.iter().copied().fold(None::<(u64, f64)>, |m, &(st, v)| if m.is_none_or(|m| v < m.1) { Some((st, v)) } else { m });
    let max = finite.iter().copied().fold(None::<(u64, f64)>, |m, &(st, v)| if m.is_none_or(|m| v > m.1) { Some((st, v)) } else { m });
    assert_eq!((s.min_step, s.min), (min.map(|m| m.0), min.map(|m| m.1)));
    assert_eq!((s.max_step, s.max), (max.map(|m| m.0), max.map(|m| m.1)));
    let best = if goal == MetricGoal::Max { max } else { min };
    assert_eq!((s.best_step, s.best), (best.map(|m| m.0), best.map(|m| m.1)));
}

#[tokio::test]
async fn appended_batches_keep_summary_and_rollup_exact() {
    let (_dir, store, run) = store_with_run().await;
    let steps: Vec<u64> = (3..20_000).step_by(3).collect();
    for chunk in steps.chunks(777) {
        let batch: Vec<MetricPoint> = chunk.iter().map(|&s| point("accuracy", s, value(s))).collect();
        store.record_points(run, &batch).await.expect("ingest");
    }
    let raw: Vec<(u64, f64)> = steps.iter().map(|&s| (s, value(s))).collect();
    let id = store.find_series(run, &SeriesKey::new(Some("rte"), "dev", "accuracy")).await.expect("find").expect("series");
    check_summary(&store, id, &raw, MetricGoal::Max).await;
    for (lo, hi, b) in [(0, u64::MAX, 2000), (0, u64::MAX, 100), (0, u64::MAX, 1), (1234, 5678, 50), (100, 130, 1000), (9_000, 19_999, 7), (5, 4, 10)] {
        check_fetch(&store, id, &raw, lo, hi, b).await;
    }
}

#[tokio::test]
async fn replayed_and_late_points_rebuild_summary_and_rollup() {
    let (_dir, store, run) = store_with_run().await;
    let mut raw: std::collections::BTreeMap<u64, f64> = Default::default();
    let first: Vec<MetricPoint> = (0..5_000).map(|s| point("loss", s * 2, value(s))).collect();
    store.record_points(run, &first).await.expect("first");
    raw.extend(first.iter().map(|p| (p.step, p.value)));
    // A replay with changed values, late odd steps inside, and new steps after.
    let mut second: Vec<MetricPoint> = (4_000..6_000).map(|s| point("loss", s, -(s as f64))).collect();
    second.push(point("loss", 1, 42.0));
    store.record_points(run, &second).await.expect("second");
    raw.extend(second.iter().map(|p| (p.step, p.value)));
    // Then a plain append again.
    let third: Vec<MetricPoint> = (10_000..10_500).map(|s| point("loss", s, value(s))).collect();
    store.record_points(run, &third).await.expect("third");
    raw.extend(third.iter().map(|p| (p.step, p.value)));

    let raw: Vec<(u64, f64)> = raw.into_iter().collect();
    let id = store.find_series(run, &SeriesKey::new(Some("rte"), "dev", "loss")).await.expect("find").expect("series");
    let stored = store.series(run, Some("rte"), "dev", "loss").await.expect("raw");
    assert_eq!(stored.len(), raw.len());
    check_summary(&store, id, &raw, MetricGoal::Min).await;
    for (lo, hi, b) in [(0, u64::MAX, 2000), (0, u64::MAX, 64), (3_999, 6_001, 30), (0, 10, 3)] {
        check_fetch(&store, id, &raw, lo, hi, b).await;
    }
}

#[tokio::test]
async fn unknown_series_and_runs_are_named() {
    let (_dir, store, run) = store_with_run().await;
    let err = store.fetch_series(SeriesId(999), 0..=10, 10).await.expect_err("no series");
    assert!(err.to_string().contains("999"), "{err}");
    let err = store.record_points(RunId(run.0 + 100), &[point("loss", 1, 1.0)]).await.expect_err("no run");
    assert!(matches!(err, muppet_store::StoreError::NoSuchRun(id) if id == run.0 + 100), "{err:?}");
}
