//! A run's best dev score, and early stopping on it: Hugging Face Trainer's
//! `load_best_model_at_end` (with `metric_for_best_model`) and `EarlyStoppingCallback`.
//!
//! A run's dev score at an evaluation is the mean over its tasks of each task's main metric
//! (every metric is higher-is-better). The best is the first evaluation after training began
//! whose score is strictly above every earlier one: the starting weights (step 0) are never
//! the best, since no checkpoint holds them.

use serde::{Deserialize, Serialize};

/// The best dev score so far and the update it was measured after.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BestDev {
    pub step: u64,
    pub score: f64,
}

/// The best dev score of a run as its evaluations come, and how many evaluations have gone
/// by without beating it. Saved with each checkpoint, so a resumed run keeps counting.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BestTracker {
    pub best: Option<BestDev>,
    /// Evaluations since the best (or since training began, while there is none).
    pub evals_since: u64,
}

impl BestTracker {
    /// Record the dev score of the evaluation after update `step`; whether it is the new best.
    /// A score that is not a number (a correlation of constant predictions) never is.
    /// `threshold`: by how much a score must beat the best to restart the count toward
    /// early stopping (Hugging Face's `early_stopping_threshold`); a smaller gain is still
    /// the new best, but counts as an evaluation without improvement.
    pub fn offer(&mut self, step: u64, score: f64, threshold: f64) -> bool {
        if step == 0 {
            return false;
        }
        let better = !score.is_nan() && self.best.is_none_or(|b| score > b.score);
        let enough = better && self.best.is_none_or(|b| score - b.score > threshold);
        if better {
            self.best = Some(BestDev { step, score });
        }
        if enough {
            self.evals_since = 0;
        } else {
            self.evals_since += 1;
        }
        better
    }

    /// Whether `patience` evaluations in a row have not beaten the best (never without one).
    pub fn exhausted(&self, patience: Option<u64>) -> bool {
        patience.is_some_and(|p| self.evals_since >= p)
    }
}

/// The run's dev score from each task's main metric: their mean (NaN if one is NaN).
pub fn dev_score(primary: &[f64]) -> f64 {
    if primary.is_empty() {
        return f64::NAN;
    }
    primary.iter().sum::<f64>() / primary.len() as f64
}

/// The run's dev score at each step where every task was scored, from each task's series of
/// its main dev metric as (step, value); ascending by step.
pub fn scores_by_step(series: &[Vec<(u64, f64)>]) -> Vec<(u64, f64)> {
    let mut by_step: std::collections::BTreeMap<u64, Vec<f64>> = std::collections::BTreeMap::new();
    for points in series {
        for &(step, value) in points {
            by_step.entry(step).or_default().push(value);
        }
    }
    by_step.into_iter().filter(|(_, values)| values.len() == series.len()).map(|(step, values)| (step, dev_score(&values))).collect()
}

/// The best of `scores` among the steps that have a model checkpoint (`kept`).
pub fn best_kept(scores: &[(u64, f64)], kept: &[u64]) -> Option<BestDev> {
    best_of(scores.iter().copied().filter(|(step, _)| kept.contains(step)))
}

/// The best of a run's dev scores by step, by the rule training follows.
pub fn best_of(scores: impl IntoIterator<Item = (u64, f64)>) -> Option<BestDev> {
    let mut scores: Vec<(u64, f64)> = scores.into_iter().collect();
    scores.sort_by_key(|(step, _)| *step);
    let mut tracker = BestTracker::default();
    for (step, score) in scores {
        tracker.offer(step, score, 0.0);
    }
    tracker.best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_strict_maximum_after_step_zero_is_the_best() {
        let mut t = BestTracker::default();
        assert!(!t.offer(0, 0.9, 0.0), "the starting weights are never the best");
        assert_eq!(t.evals_since, 0, "step 0 does not count against patience");
        assert!(t.offer(10, 0.5, 0.0));
        assert!(t.offer(20, 0.6, 0.0));
        assert!(!t.offer(30, 0.6, 0.0), "a tie does not improve");
        assert!(!t.offer(40, f64::NAN, 0.0));
        assert_eq!((t.best, t.evals_since), (Some(BestDev { step: 20, score: 0.6 }), 2));
        assert!(!t.exhausted(None));
        assert!(!t.exhausted(Some(3)));
        assert!(t.exhausted(Some(2)));
        assert!(t.offer(50, 0.61, 0.0));
        assert!(!t.exhausted(Some(1)));
    }

    #[test]
    fn gains_under_the_threshold_are_the_best_but_count_against_patience() {
        let mut t = BestTracker::default();
        assert!(t.offer(10, 0.50, 0.01), "the first score is the best whatever the threshold");
        assert_eq!(t.evals_since, 0);
        assert!(t.offer(20, 0.505, 0.01), "a smaller gain is still the best");
        assert_eq!((t.best, t.evals_since), (Some(BestDev { step: 20, score: 0.505 }), 1));
        assert!(t.offer(30, 0.512, 0.01), "measured from the latest best, 0.007 is under the threshold");
        assert_eq!(t.evals_since, 2);
        assert!(t.exhausted(Some(2)));
        assert!(!t.offer(40, 0.40, 0.01));
        assert!(t.offer(50, 0.53, 0.01), "a gain of 0.018 restarts the count");
        assert_eq!((t.best, t.evals_since), (Some(BestDev { step: 50, score: 0.53 }), 0));
        assert_eq!(best_of([(10, 0.5), (20, 0.505), (30, 0.512)]), Some(BestDev { step: 30, score: 0.512 }), "the best ignores the threshold");
    }

    #[test]
    fn a_run_with_no_number_yet_counts_against_patience() {
        let mut t = BestTracker::default();
        assert!(!t.offer(5, f64::NAN, 0.0));
        assert_eq!((t.best, t.evals_since), (None, 1));
        assert!(t.exhausted(Some(1)));
    }

    #[test]
    fn best_of_follows_the_tracker_whatever_the_order() {
        let scores = [(30, 0.7), (0, 0.95), (10, 0.7), (20, 0.65)];
        assert_eq!(best_of(scores), Some(BestDev { step: 10, score: 0.7 }));
        assert_eq!(best_of([(0, 0.5)]), None);
        assert_eq!(dev_score(&[0.5, 0.7]), 0.6);
        assert!(dev_score(&[0.5, f64::NAN]).is_nan());
        assert!(dev_score(&[]).is_nan());
    }

    #[test]
    fn scores_are_means_at_the_steps_every_task_was_scored() {
        let a = vec![(0, 0.2), (10, 0.4), (20, 0.8)];
        let b = vec![(0, 0.4), (10, 0.6), (15, 0.9), (20, 0.2)];
        assert_eq!(scores_by_step(&[a, b]), [(0, 0.30000000000000004), (10, 0.5), (20, 0.5)]);
        let scores = [(10, 0.5), (20, 0.7), (30, 0.6)];
        assert_eq!(best_kept(&scores, &[10, 30]), Some(BestDev { step: 30, score: 0.6 }));
        assert_eq!(best_kept(&scores, &[]), None);
    }
}
