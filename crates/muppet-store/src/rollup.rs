//! Folding a batch of points into a series' summary and its multi-resolution
//! rollup, in memory, before the ingest writes both in the points' transaction.
//!
//! The rollup has one level per shift in [`SHIFTS`]: at shift `s`, bucket `b`
//! covers the steps with `step >> s == b`. Each level folds eight buckets of the
//! level below, so the whole rollup is about 1/7 of the raw row count and a chart
//! of B buckets reads at most about 8*B rows (see `fetch`).

use crate::series::{MetricGoal, Summary};

/// Bucket widths are 2^3 .. 2^24 steps. The migration that created the rollup
/// backfills the same levels.
pub(crate) const SHIFTS: [u32; 8] = [3, 6, 9, 12, 15, 18, 21, 24];
/// Each level's shift minus the one below.
pub(crate) const FANOUT_SHIFT: u32 = 3;

/// One bucket of one level, or the part of it that a batch adds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RollupRow {
    pub shift: u32,
    pub bucket: u64,
    pub count: u64,
    pub first_step: u64,
    pub last_step: u64,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub last: f64,
}

impl RollupRow {
    fn start(shift: u32, bucket: u64) -> Self {
        Self { shift, bucket, count: 0, first_step: u64::MAX, last_step: 0, min: None, max: None, last: f64::NAN }
    }

    /// Add later points (or a later bucket) to this one.
    fn absorb(&mut self, count: u64, first_step: u64, last_step: u64, min: Option<f64>, max: Option<f64>, last: f64) {
        self.count += count;
        self.first_step = self.first_step.min(first_step);
        if last_step >= self.last_step {
            self.last_step = last_step;
            self.last = last;
        }
        self.min = lesser(self.min, min);
        self.max = greater(self.max, max);
    }
}

fn finite(v: f64) -> Option<f64> {
    (!v.is_nan()).then_some(v)
}

fn lesser(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

fn greater(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

/// The rollup rows that `points` (one series, strictly increasing steps) add, every level.
pub(crate) fn fold_rollups(points: &[(u64, f64)]) -> Vec<RollupRow> {
    let mut all = Vec::new();
    let mut level: Vec<RollupRow> = Vec::new();
    for &(step, value) in points {
        let bucket = step >> SHIFTS[0];
        if level.last().is_none_or(|r| r.bucket != bucket) {
            level.push(RollupRow::start(SHIFTS[0], bucket));
        }
        if let Some(row) = level.last_mut() {
            let v = finite(value);
            row.absorb(1, step, step, v, v, value);
        }
    }
    for &shift in &SHIFTS[1..] {
        let mut upper: Vec<RollupRow> = Vec::new();
        for r in &level {
            let bucket = r.bucket >> FANOUT_SHIFT;
            if upper.last().is_none_or(|u| u.bucket != bucket) {
                upper.push(RollupRow::start(shift, bucket));
            }
            if let Some(u) = upper.last_mut() {
                u.absorb(r.count, r.first_step, r.last_step, r.min, r.max, r.last);
            }
        }
        all.append(&mut level);
        level = upper;
    }
    all.append(&mut level);
    all
}

/// The summary after appending `points` (strictly increasing steps, all after
/// `old.last_step`) to a series whose summary was `old`.
pub(crate) fn fold_summary(old: Option<&Summary>, goal: MetricGoal, points: &[(u64, f64)]) -> Option<Summary> {
    let (&(first_step, _), &(last_step, last)) = (points.first()?, points.last()?);
    let mut s = old.cloned().unwrap_or(Summary {
        count: 0,
        first_step,
        last_step,
        last,
        min: None,
        min_step: None,
        max: None,
        max_step: None,
        best: None,
        best_step: None,
    });
    for &(step, value) in points {
        s.count += 1;
        s.first_step = s.first_step.min(step);
        if step >= s.last_step {
            s.last_step = step;
            s.last = value;
        }
        if value.is_nan() {
            continue;
        }
        // Strict comparisons: on a tie the earliest step stays the argmin/argmax.
        if s.min.is_none_or(|m| value < m) {
            s.min = Some(value);
            s.min_step = Some(step);
        }
        if s.max.is_none_or(|m| value > m) {
            s.max = Some(value);
            s.max_step = Some(step);
        }
    }
    (s.best, s.best_step) = match goal {
        MetricGoal::Min => (s.min, s.min_step),
        MetricGoal::Max => (s.max, s.max_step),
    };
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_level_counts_every_point_once() {
        let points: Vec<(u64, f64)> = (5..1000).map(|s| (s, (s % 17) as f64)).collect();
        let rows = fold_rollups(&points);
        for shift in SHIFTS {
            let level: Vec<&RollupRow> = rows.iter().filter(|r| r.shift == shift).collect();
            assert_eq!(level.iter().map(|r| r.count).sum::<u64>(), 995, "shift {shift}");
            for r in &level {
                assert_eq!(r.first_step >> shift, r.bucket);
                assert_eq!(r.last_step >> shift, r.bucket);
            }
        }
        let b = rows.iter().find(|r| r.shift == 3 && r.bucket == 2).expect("bucket 16..23");
        assert_eq!((b.first_step, b.last_step, b.count), (16, 23, 8));
        assert_eq!((b.min, b.max, b.last), (Some(0.0), Some(16.0), 6.0));
        let top = rows.iter().find(|r| r.shift == 24).expect("top level");
        assert_eq!((top.first_step, top.last_step, top.last), (5, 999, (999 % 17) as f64));
    }

    #[test]
    fn nan_is_last_but_never_min_or_max() {
        let rows = fold_rollups(&[(0, 2.0), (1, f64::NAN)]);
        assert_eq!((rows[0].min, rows[0].max), (Some(2.0), Some(2.0)));
        assert!(rows[0].last.is_nan());
        let s = fold_summary(None, MetricGoal::Min, &[(0, 2.0), (1, f64::NAN)]).expect("summary");
        assert_eq!((s.count, s.min, s.best_step), (2, Some(2.0), Some(0)));
        assert!(s.last.is_nan());
    }

    #[test]
    fn appending_extends_the_summary_and_best_follows_the_goal() {
        let first = fold_summary(None, MetricGoal::Max, &[(1, 0.5), (2, 0.7), (3, 0.6)]).expect("first");
        assert_eq!((first.best, first.best_step), (Some(0.7), Some(2)));
        let next = fold_summary(Some(&first), MetricGoal::Max, &[(4, 0.7), (5, 0.2)]).expect("next");
        assert_eq!((next.count, next.first_step, next.last_step, next.last), (5, 1, 5, 0.2));
        assert_eq!((next.min, next.min_step), (Some(0.2), Some(5)));
        assert_eq!((next.max, next.max_step), (Some(0.7), Some(2)), "a tie keeps the earliest step");
        assert_eq!(fold_summary(None, MetricGoal::Min, &[]), None);
    }
}
