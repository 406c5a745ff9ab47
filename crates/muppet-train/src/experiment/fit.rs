//! The task-count fit: a continuous piecewise-linear (hinge) model of the downstream gain
//! against the number of pre-finetuning tasks,
//!
//!     gain(k) = a + b·k + c·max(0, k − τ),
//!
//! fitted by least squares with the knot τ chosen on a grid, and the critical point: the
//! number of tasks from which on the fitted gain is positive (MUPPET.md: below a critical
//! number of tasks pre-finetuning hurts, above it the gain grows about linearly). Its
//! uncertainty comes from a bootstrap over seeds, drawn with a fixed seed.

use serde::Serialize;

use super::stats::SplitMix64;

/// A fitted hinge; `knot` is NaN when the data allowed only a straight line.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HingeFit {
    pub intercept: f64,
    pub slope: f64,
    /// Change of slope after the knot.
    pub slope_change: f64,
    pub knot: f64,
    /// Residual sum of squares.
    pub sse: f64,
    /// The x range the fit covers.
    pub x_min: f64,
    pub x_max: f64,
}

impl HingeFit {
    pub fn at(&self, x: f64) -> f64 {
        let hinge = if self.knot.is_finite() { (x - self.knot).max(0.0) } else { 0.0 };
        self.intercept + self.slope * x + self.slope_change * hinge
    }

    /// Ends of the fitted segments, left to right (two or three points).
    pub fn vertices(&self) -> Vec<(f64, f64)> {
        let mut xs = vec![self.x_min];
        if self.knot.is_finite() && self.knot > self.x_min && self.knot < self.x_max {
            xs.push(self.knot);
        }
        xs.push(self.x_max);
        xs.into_iter().map(|x| (x, self.at(x))).collect()
    }
}

/// Least-squares hinge fit of `(x, y)` points; `None` with fewer than two distinct x.
/// With two distinct x a straight line is fitted.
pub fn fit_hinge(points: &[(f64, f64)]) -> Option<HingeFit> {
    let pts: Vec<(f64, f64)> = points.iter().copied().filter(|(x, y)| x.is_finite() && y.is_finite()).collect();
    let mut xs: Vec<f64> = pts.iter().map(|p| p.0).collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    if xs.len() < 2 {
        return None;
    }
    let (x_min, x_max) = (xs[0], xs[xs.len() - 1]);
    if xs.len() == 2 {
        let [a, b] = least_squares::<2>(&pts, |x| [1.0, x])?;
        let sse = pts.iter().map(|&(x, y)| (y - a - b * x).powi(2)).sum();
        return Some(HingeFit { intercept: a, slope: b, slope_change: 0.0, knot: f64::NAN, sse, x_min, x_max });
    }
    // Knots: the inner data x and a fine even grid between them, so that each segment
    // spans at least two distinct x (a knot next to an end would fit one point exactly).
    let (lo, hi) = (xs[1], xs[xs.len() - 2]);
    let mut knots: Vec<f64> = xs[1..xs.len() - 1].to_vec();
    knots.extend((1..200).map(|i| lo + (hi - lo) * f64::from(i) / 200.0));
    knots.sort_by(f64::total_cmp);
    knots.dedup();
    let mut best: Option<HingeFit> = None;
    for tau in knots {
        let Some([a, b, c]) = least_squares::<3>(&pts, |x| [1.0, x, (x - tau).max(0.0)]) else { continue };
        let fit = HingeFit { intercept: a, slope: b, slope_change: c, knot: tau, sse: 0.0, x_min, x_max };
        let sse = pts.iter().map(|&(x, y)| (y - fit.at(x)).powi(2)).sum::<f64>();
        // Strictly better by more than rounding: ties keep the smallest knot.
        if best.is_none_or(|b| sse < b.sse - 1e-12 * (1.0 + b.sse)) {
            best = Some(HingeFit { sse, ..fit });
        }
    }
    best
}

/// Ordinary least squares with the design row `row(x)`; `None` when singular.
fn least_squares<const P: usize>(points: &[(f64, f64)], row: impl Fn(f64) -> [f64; P]) -> Option<[f64; P]> {
    let mut m = [[0.0; P]; P];
    let mut v = [0.0; P];
    for &(x, y) in points {
        let r = row(x);
        for i in 0..P {
            v[i] += r[i] * y;
            for j in 0..P {
                m[i][j] += r[i] * r[j];
            }
        }
    }
    // Gaussian elimination with partial pivoting.
    let scale = (0..P).map(|i| m[i][i].abs()).fold(0.0, f64::max).max(1.0);
    for col in 0..P {
        let pivot = (col..P).max_by(|&a, &b| m[a][col].abs().total_cmp(&m[b][col].abs()))?;
        if m[pivot][col].abs() < 1e-10 * scale {
            return None;
        }
        m.swap(col, pivot);
        v.swap(col, pivot);
        let pivot_row = m[col];
        for r in col + 1..P {
            let f = m[r][col] / pivot_row[col];
            for (x, p) in m[r].iter_mut().zip(pivot_row).skip(col) {
                *x -= f * p;
            }
            v[r] -= f * v[col];
        }
    }
    let mut out = [0.0; P];
    for i in (0..P).rev() {
        let s: f64 = (i + 1..P).map(|j| m[i][j] * out[j]).sum();
        out[i] = (v[i] - s) / m[i][i];
    }
    Some(out)
}

/// Where the fitted gain turns positive, looking at task counts from `from` (the smallest
/// pre-finetuned size) to the fit's end.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Crossing {
    /// The fitted gain is positive from `k` on (and not before, within the data).
    At { k: f64 },
    /// Positive at every task count in the data: the critical point is at or below the smallest.
    AlwaysPositive,
    /// Not positive at the largest task count: no critical point in the data.
    NeverPositive,
}

/// The crossing of a fit over `[from, fit.x_max]`.
pub fn crossing(fit: &HingeFit, from: f64) -> Crossing {
    let end = fit.x_max;
    if fit.at(end) <= 0.0 {
        return Crossing::NeverPositive;
    }
    // Walk the segments from the right; the last one that starts at or below zero holds the root.
    let mut xs: Vec<f64> = fit.vertices().into_iter().map(|v| v.0).filter(|&x| x > from && x < end).collect();
    xs.insert(0, from);
    xs.push(end);
    for w in xs.windows(2).rev() {
        let (x0, x1) = (w[0], w[1]);
        let (y0, y1) = (fit.at(x0), fit.at(x1));
        if y0 <= 0.0 {
            // y1 > 0 here: the root lies in (x0, x1].
            let k = x0 + (x1 - x0) * (0.0 - y0) / (y1 - y0);
            return Crossing::At { k };
        }
    }
    Crossing::AlwaysPositive
}

/// One gain observation: `k` tasks (0 for the base model), the seed, the gain.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GainPoint {
    pub k: f64,
    pub seed: u64,
    pub gain: f64,
}

/// The fit on all seeds, its crossing, and the bootstrap over seeds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CriticalPoint {
    pub fit: HingeFit,
    pub crossing: Crossing,
    /// Bootstrap resamples drawn (0 with a single seed).
    pub resamples: usize,
    /// Share of resamples whose fit crosses within the data, is positive throughout, never positive.
    pub share_crossing: f64,
    pub share_always_positive: f64,
    pub share_never_positive: f64,
    /// 2.5% and 97.5% percentiles of the resampled critical point, where a resample
    /// positive throughout counts as the smallest task count and one never positive as
    /// +infinity (beyond the data); NaN without resamples.
    pub ci_low: f64,
    pub ci_high: f64,
}

impl CriticalPoint {
    /// Share of the bootstrap resamples that agree with the verdict (NaN without resamples).
    pub fn agreement(&self) -> f64 {
        match self.crossing {
            Crossing::At { .. } => self.share_crossing,
            Crossing::AlwaysPositive => self.share_always_positive,
            Crossing::NeverPositive => self.share_never_positive,
        }
    }

    /// One sentence for people.
    pub fn verdict(&self) -> String {
        let interval = if self.resamples == 0 {
            " (one seed: no interval)".to_string()
        } else {
            let hi = if self.ci_high.is_finite() { format!("{:.1}", self.ci_high) } else { "beyond the data".into() };
            format!(
                " (95% bootstrap interval over seeds {:.1} to {hi}; {:.0}% of {} resamples cross)",
                self.ci_low,
                self.share_crossing * 100.0,
                self.resamples
            )
        };
        let settled = self.agreement();
        let doubt = if settled < 0.95 {
            format!("; only {:.0}% of the resamples agree, so the data do not settle it", settled * 100.0)
        } else {
            String::new()
        };
        let sentence = match self.crossing {
            Crossing::At { k } => format!("critical point at {k:.1} tasks: the fitted gain is positive from there on{interval}"),
            Crossing::AlwaysPositive => {
                format!("no critical point in the data: the fitted gain is positive at every task count tried{interval}")
            }
            Crossing::NeverPositive => {
                format!("no critical point in the data: the fitted gain is not positive even at the largest task count{interval}")
            }
        };
        format!("{sentence}{doubt}")
    }
}

/// Fit the gains (all seeds), find the crossing from the smallest positive k, and
/// bootstrap over seeds (`resamples` times, drawn with `seed`). `None` when the points do
/// not allow a fit (fewer than two task counts).
pub fn critical_point(points: &[GainPoint], resamples: usize, seed: u64) -> Option<CriticalPoint> {
    let xy: Vec<(f64, f64)> = points.iter().map(|p| (p.k, p.gain)).collect();
    let fit = fit_hinge(&xy)?;
    let from = points.iter().map(|p| p.k).filter(|&k| k > 0.0).fold(f64::INFINITY, f64::min);
    let from = if from.is_finite() { from } else { fit.x_min };
    let found = crossing(&fit, from);
    let mut seeds: Vec<u64> = points.iter().map(|p| p.seed).collect();
    seeds.sort_unstable();
    seeds.dedup();
    let resamples = if seeds.len() < 2 { 0 } else { resamples };
    let mut rng = SplitMix64::new(seed);
    let mut values = Vec::with_capacity(resamples);
    let (mut crossing_n, mut always_n, mut never_n) = (0usize, 0usize, 0usize);
    for _ in 0..resamples {
        let mut sample = Vec::with_capacity(xy.len());
        for _ in 0..seeds.len() {
            let s = seeds[rng.below(seeds.len())];
            sample.extend(points.iter().filter(|p| p.seed == s).map(|p| (p.k, p.gain)));
        }
        let value = match fit_hinge(&sample).map(|f| crossing(&f, from)) {
            Some(Crossing::At { k }) => {
                crossing_n += 1;
                k
            }
            Some(Crossing::AlwaysPositive) => {
                always_n += 1;
                from
            }
            // A resample with too few task counts tells nothing of where the gain turns.
            Some(Crossing::NeverPositive) | None => {
                never_n += 1;
                f64::INFINITY
            }
        };
        values.push(value);
    }
    values.sort_by(f64::total_cmp);
    let pct = |q: f64| super::stats::nearest_rank(&values, q);
    let share = |n: usize| if resamples == 0 { f64::NAN } else { n as f64 / resamples as f64 };
    Some(CriticalPoint {
        fit,
        crossing: found,
        resamples,
        share_crossing: share(crossing_n),
        share_always_positive: share(always_n),
        share_never_positive: share(never_n),
        ci_low: pct(0.025),
        ci_high: pct(0.975),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Gains on an exact hinge: -0.5 per task up to 4 tasks, then +1 per task:
    /// g(0..10 step 2) = 0, -1, -2, 0, 2, 4. Zero again at k = 6 (4 + 2 / 1).
    fn hinge_points() -> Vec<(f64, f64)> {
        vec![(0.0, 0.0), (2.0, -1.0), (4.0, -2.0), (6.0, 0.0), (8.0, 2.0), (10.0, 4.0)]
    }

    #[test]
    fn an_exact_hinge_is_recovered() {
        let fit = fit_hinge(&hinge_points()).expect("fit");
        assert!((fit.knot - 4.0).abs() < 1e-9, "{fit:?}");
        assert!(fit.intercept.abs() < 1e-9 && (fit.slope + 0.5).abs() < 1e-9 && (fit.slope_change - 1.5).abs() < 1e-9, "{fit:?}");
        assert!(fit.sse < 1e-18);
        match crossing(&fit, 2.0) {
            Crossing::At { k } => assert!((k - 6.0).abs() < 1e-9, "{k}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(fit.vertices().len(), 3);
    }

    #[test]
    fn noisy_seeds_give_the_same_fit_and_an_interval_around_it() {
        // Two seeds at +-0.1 around the hinge (k = 2..10): the least-squares fit equals the
        // fit of the means, each seed alone is the hinge shifted by 0.1.
        let mut points = Vec::new();
        for (k, g) in hinge_points().into_iter().skip(1) {
            points.push(GainPoint { k, seed: 1, gain: g + 0.1 });
            points.push(GainPoint { k, seed: 2, gain: g - 0.1 });
        }
        let cp = critical_point(&points, 200, 9).expect("fit");
        let Crossing::At { k } = cp.crossing else { panic!("{:?}", cp.crossing) };
        assert!((k - 6.0).abs() < 1e-6, "{k}");
        assert_eq!(cp.resamples, 200);
        assert!(cp.ci_low <= k && k <= cp.ci_high, "{cp:?}");
        // Seed 1 alone crosses at 5.9, seed 2 alone at 6.1: every resample lies between.
        assert!(cp.ci_low >= 5.9 - 1e-6 && cp.ci_high <= 6.1 + 1e-6, "{cp:?}");
        assert_eq!(cp.share_crossing, 1.0);
        assert!(cp.verdict().starts_with("critical point at 6.0 tasks"), "{}", cp.verdict());
        assert!(!cp.verdict().contains("do not settle"), "{}", cp.verdict());
        // Same seed, same interval.
        assert_eq!(critical_point(&points, 200, 9), Some(cp));
    }

    #[test]
    fn verdicts_without_a_crossing() {
        let up: Vec<GainPoint> = [(0.0, 0.0), (2.0, 0.5), (4.0, 1.0), (8.0, 2.0)].iter().map(|&(k, gain)| GainPoint { k, seed: 1, gain }).collect();
        let cp = critical_point(&up, 100, 1).expect("fit");
        assert_eq!(cp.crossing, Crossing::AlwaysPositive);
        assert_eq!(cp.resamples, 0, "one seed: no bootstrap");
        assert!(cp.verdict().contains("positive at every task count"), "{}", cp.verdict());

        let down: Vec<GainPoint> = [(0.0, 0.0), (2.0, -0.5), (4.0, -1.0), (8.0, -0.2)].iter().map(|&(k, gain)| GainPoint { k, seed: 1, gain }).collect();
        let cp = critical_point(&down, 100, 1).expect("fit");
        assert_eq!(cp.crossing, Crossing::NeverPositive);
        assert!(cp.verdict().contains("not positive even at the largest"), "{}", cp.verdict());
    }

    #[test]
    fn noise_around_zero_is_not_settled() {
        // Seeds disagree on the sign at every k: the verdict says the data do not settle it.
        let mut points = Vec::new();
        for (i, k) in [0.0, 1.0, 2.0, 4.0, 6.0].into_iter().enumerate() {
            for (seed, sign) in [(1, 1.0), (2, -1.0), (3, 0.5)] {
                let gain = if k == 0.0 { 0.0 } else { sign * 0.02 * (1.0 + i as f64 % 2.0) };
                points.push(GainPoint { k, seed, gain });
            }
        }
        let cp = critical_point(&points, 500, 3).expect("fit");
        assert!(cp.agreement() < 0.95, "{cp:?}");
        assert!(cp.verdict().contains("do not settle"), "{}", cp.verdict());
        // The knot stays between the second and the second-to-last task count.
        assert!(cp.fit.knot >= 1.0 && cp.fit.knot <= 4.0, "{:?}", cp.fit);
    }

    #[test]
    fn two_task_counts_fit_a_line_and_one_does_not_fit() {
        // Line through (0, 0) and (4, -1): slope -0.25.
        let fit = fit_hinge(&[(0.0, 0.0), (4.0, -1.0), (4.0, -1.0)]).expect("line");
        assert!(fit.knot.is_nan());
        assert!((fit.slope + 0.25).abs() < 1e-12);
        assert!(fit_hinge(&[(3.0, 1.0), (3.0, 2.0)]).is_none());
    }
}
