//! Downsampled series for charts: at most B buckets over a step window, read
//! from the rollup level that fits, so drawing never scans the raw points of a
//! long series.

use std::ops::RangeInclusive;

use serde::Serialize;

use crate::rollup::SHIFTS;
use crate::series::SeriesId;
use crate::{Store, StoreError};

/// One bucket of a downsampled series. `min` and `max` are NaN when every point
/// in the bucket is NaN; `last` is the value at `step_hi`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bucket {
    /// First step with a point in the bucket.
    pub step_lo: u64,
    /// Last step with a point in the bucket.
    pub step_hi: u64,
    pub min: f64,
    pub max: f64,
    pub last: f64,
    /// Points in the bucket.
    pub count: u64,
}

/// Fold rollup rows in SQL when at least this many fall in one output bucket;
/// below that the GROUP BY costs more than it saves.
const FOLD_IN_SQL_FROM: u64 = 4;

/// A piece read from the store: one raw point or one rollup bucket.
struct Piece {
    first_step: u64,
    last_step: u64,
    count: u64,
    min: Option<f64>,
    max: Option<f64>,
    last: f64,
}

/// How a window is cut: output buckets are `width` steps wide, aligned on
/// multiples of `width`; whole rollup buckets at `shift` (if any) fill the
/// inside and raw points the ragged edges.
#[derive(Debug, PartialEq)]
struct Plan {
    width: u64,
    shift: Option<u32>,
}

fn plan(lo: u64, hi: u64, buckets: usize) -> Plan {
    let span = hi - lo + 1;
    let buckets = buckets as u64;
    if span <= buckets {
        return Plan { width: 1, shift: None };
    }
    let level = |width: u64| SHIFTS.iter().rev().find(|&&s| 1u64 << s <= width).copied();
    if buckets == 1 {
        // One bucket holds everything, aligned or not.
        return Plan { width: u64::MAX, shift: level(span) };
    }
    // floor(hi/w) - floor(lo/w) <= ceil((span-1)/w), so w >= span/(B-1) gives at most B buckets.
    let width = span.div_ceil(buckets - 1);
    // A level up to a quarter wider than asked is taken: at least 4/5 of the
    // buckets for up to 8 times fewer rows read (1M steps in 2,000 buckets wants
    // 501 steps a bucket and reads 1,954 rows of 512 instead of 15,625 of 64).
    match level(width + width / 4) {
        Some(shift) => Plan { width: width.div_ceil(1 << shift) << shift, shift: Some(shift) },
        None => Plan { width, shift: None },
    }
}

impl Store {
    /// Series `series` over the steps in `steps`, cut into at most `buckets`
    /// buckets of equal step width (empty ones left out), in step order.
    pub async fn fetch_series(&self, series: SeriesId, steps: RangeInclusive<u64>, buckets: usize) -> Result<Vec<Bucket>, StoreError> {
        let bounds: Option<(Option<i64>, Option<i64>)> = sqlx::query_as(
            "SELECT m.first_step, m.last_step FROM metric_series s LEFT JOIN metric_summaries m ON m.series_id = s.id
              WHERE s.id = ?",
        )
        .bind(series.0)
        .fetch_optional(&self.pool)
        .await?;
        let Some(bounds) = bounds else { return Err(StoreError::NoSuchSeries(series.0)) };
        let (Some(first), Some(last)) = bounds else { return Ok(Vec::new()) };
        let lo = (*steps.start()).max(first as u64);
        let hi = (*steps.end()).min(last as u64);
        if lo > hi || buckets == 0 {
            return Ok(Vec::new());
        }
        let plan = plan(lo, hi, buckets);
        let mut pieces = Vec::new();
        match plan.shift {
            None => self.raw_pieces(series, lo, hi, &mut pieces).await?,
            Some(shift) => {
                let b_lo = lo.div_ceil(1 << shift);
                let b_end = (hi + 1) >> shift; // one past the last whole bucket
                if b_lo >= b_end {
                    self.raw_pieces(series, lo, hi, &mut pieces).await?;
                } else {
                    if b_lo << shift > lo {
                        self.raw_pieces(series, lo, (b_lo << shift) - 1, &mut pieces).await?;
                    }
                    self.rollup_pieces(series, shift, b_lo, b_end - 1, plan.width, &mut pieces).await?;
                    if b_end << shift <= hi {
                        self.raw_pieces(series, b_end << shift, hi, &mut pieces).await?;
                    }
                }
            }
        }
        Ok(merge(&pieces, plan.width))
    }

    async fn raw_pieces(&self, series: SeriesId, lo: u64, hi: u64, out: &mut Vec<Piece>) -> Result<(), StoreError> {
        let rows: Vec<(i64, Option<f64>)> =
            sqlx::query_as("SELECT step, value FROM metric_points WHERE series_id = ? AND step BETWEEN ? AND ? ORDER BY step")
                .bind(series.0)
                .bind(lo as i64)
                .bind(hi as i64)
                .fetch_all(&self.pool)
                .await?;
        out.extend(rows.into_iter().map(|(step, value)| Piece {
            first_step: step as u64,
            last_step: step as u64,
            count: 1,
            min: value,
            max: value,
            last: value.unwrap_or(f64::NAN),
        }));
        Ok(())
    }

    /// The rollup buckets `b_lo..=b_hi` at `shift`. When several fall in one
    /// output bucket of `width` steps, SQLite folds them first, so that a few
    /// thousand rows cross into Rust instead of up to eight times as many (a row
    /// costs more to decode than to aggregate). A rollup bucket never straddles
    /// two output buckets, as `width` is a multiple of its size.
    async fn rollup_pieces(&self, series: SeriesId, shift: u32, b_lo: u64, b_hi: u64, width: u64, out: &mut Vec<Piece>) -> Result<(), StoreError> {
        let per_output = width >> shift;
        let query = if per_output >= FOLD_IN_SQL_FROM {
            sqlx::query_as(
                "SELECT a.lo, a.hi, a.n, a.mn, a.mx,
                        (SELECT r.last_value FROM metric_rollups r
                          WHERE r.series_id = a.series_id AND r.shift = a.shift AND r.bucket = a.hi >> a.shift)
                   FROM (SELECT series_id, shift, first_step / ? AS g, min(first_step) AS lo, max(last_step) AS hi,
                                sum(count) AS n, min(min_value) AS mn, max(max_value) AS mx
                           FROM metric_rollups WHERE series_id = ? AND shift = ? AND bucket BETWEEN ? AND ?
                          GROUP BY g) a
                  ORDER BY a.g",
            )
            .bind(width.min(i64::MAX as u64) as i64)
        } else {
            sqlx::query_as(
                "SELECT first_step, last_step, count, min_value, max_value, last_value FROM metric_rollups
                  WHERE series_id = ? AND shift = ? AND bucket BETWEEN ? AND ? ORDER BY bucket",
            )
        };
        let rows: Vec<RollupTuple> =
            query.bind(series.0).bind(i64::from(shift)).bind(b_lo as i64).bind(b_hi as i64).fetch_all(&self.pool).await?;
        out.extend(rows.into_iter().map(|(first, last, count, min, max, last_value)| Piece {
            first_step: first as u64,
            last_step: last as u64,
            count: count as u64,
            min,
            max,
            last: last_value.unwrap_or(f64::NAN),
        }));
        Ok(())
    }
}

/// first_step, last_step, count, min, max, last of a `metric_rollups` row.
type RollupTuple = (i64, i64, i64, Option<f64>, Option<f64>, Option<f64>);

/// Fold step-ordered pieces into buckets `width` steps wide.
fn merge(pieces: &[Piece], width: u64) -> Vec<Bucket> {
    let mut out: Vec<Bucket> = Vec::new();
    let mut current: Option<(u64, Bucket)> = None;
    for p in pieces {
        let index = p.first_step / width;
        match &mut current {
            Some((i, b)) if *i == index => {
                b.step_hi = p.last_step;
                b.last = p.last;
                b.count += p.count;
                b.min = nan_min(b.min, p.min);
                b.max = nan_max(b.max, p.max);
            }
            _ => {
                if let Some((_, done)) = current.take() {
                    out.push(done);
                }
                let bucket = Bucket {
                    step_lo: p.first_step,
                    step_hi: p.last_step,
                    min: p.min.unwrap_or(f64::NAN),
                    max: p.max.unwrap_or(f64::NAN),
                    last: p.last,
                    count: p.count,
                };
                current = Some((index, bucket));
            }
        }
    }
    out.extend(current.map(|(_, b)| b));
    out
}

/// `f64::min` already prefers the number over NaN.
fn nan_min(a: f64, b: Option<f64>) -> f64 {
    b.map_or(a, |b| a.min(b))
}

fn nan_max(a: f64, b: Option<f64>) -> f64 {
    b.map_or(a, |b| a.max(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_never_exceeds_the_bucket_count_and_reads_few_rows() {
        for (lo, hi, b) in [(0u64, 999_999u64, 2000usize), (17, 1_000_016, 2000), (5, 100, 10), (0, 7, 100), (3, 1 << 30, 1), (1, 50, 7)] {
            let p = plan(lo, hi, b);
            let count = hi / p.width - lo / p.width + 1;
            assert!(count <= b as u64, "{lo}..{hi} in {b}: {p:?} gives {count}");
            if let Some(s) = p.shift {
                if b > 1 {
                    assert_eq!(p.width % (1 << s), 0, "a rollup bucket must fall in one output bucket: {p:?}");
                }
                let rows = (hi - lo + 1) >> s;
                // Past the top level (2^24 steps a bucket) the row count grows with the span.
                assert!(rows <= 8 * b as u64 + 8 || s == 24, "{lo}..{hi} in {b}: {rows} rows");
            }
        }
        assert_eq!(plan(0, 7, 100), Plan { width: 1, shift: None });
        assert_eq!(plan(0, 999_999, 2000), Plan { width: 512, shift: Some(9) });
        assert_eq!(plan(0, 999_999, 1000), Plan { width: 1024, shift: Some(9) }, "1,001 is too far from 512");
    }

    #[test]
    fn merging_keeps_extremes_and_the_latest_last() {
        let piece = |s: u64, v: f64| Piece { first_step: s, last_step: s, count: 1, min: Some(v), max: Some(v), last: v };
        let nan = Piece { first_step: 2, last_step: 2, count: 1, min: None, max: None, last: f64::NAN };
        let out = merge(&[piece(0, 3.0), piece(1, -1.0), nan, piece(5, 9.0)], 4);
        assert_eq!(out.len(), 2);
        assert_eq!((out[0].step_lo, out[0].step_hi, out[0].min, out[0].max, out[0].count), (0, 2, -1.0, 3.0, 3));
        assert!(out[0].last.is_nan());
        assert_eq!((out[1].step_lo, out[1].last), (5, 9.0));
    }
}
