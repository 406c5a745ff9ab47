//! The task sampler: which task each micro-batch comes from, and which
//! examples it holds, with task probabilities from a sampling policy
//! (`muppet_data::mixture`; Muppet's default is natural mixing).

use muppet_data::mixture::{probabilities, Sampling};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Draws (task, example indices) for micro-batches, deterministically for a seed.
pub struct TaskSampler {
    cumulative: Vec<f64>,
    sizes: Vec<usize>,
    rng: StdRng,
}

impl TaskSampler {
    /// Draw among tasks of the given sizes with `sampling`, sizes capped at `cap`.
    pub fn new(sizes: &[usize], sampling: Sampling, cap: Option<usize>, seed: u64) -> Self {
        let mut acc = 0.0;
        let cumulative = probabilities(sizes, sampling, cap)
            .into_iter()
            .map(|p| {
                acc += p;
                acc
            })
            .collect();
        Self { cumulative, sizes: sizes.to_vec(), rng: StdRng::seed_from_u64(seed) }
    }

    /// Probability of each task.
    pub fn probabilities(&self) -> Vec<f64> {
        let mut prev = 0.0;
        self.cumulative
            .iter()
            .map(|&c| {
                let p = c - prev;
                prev = c;
                p
            })
            .collect()
    }

    /// Next micro-batch: a task index and `batch` example indices drawn with replacement.
    pub fn next_batch(&mut self, batch: usize) -> (usize, Vec<usize>) {
        let u: f64 = self.rng.random();
        // The last task with a non-zero probability takes the rounding remainder.
        let task = self
            .cumulative
            .iter()
            .position(|&c| u < c)
            .unwrap_or_else(|| self.probabilities().iter().rposition(|&p| p > 0.0).unwrap_or(0));
        let n = self.sizes[task];
        let examples = (0..batch).map(|_| self.rng.random_range(0..n)).collect();
        (task, examples)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_probabilities_follow_sizes_and_draws_follow_probabilities() {
        let mut s = TaskSampler::new(&[300, 100], Sampling::Natural, None, 1);
        let p = s.probabilities();
        assert!((p[0] - 0.75).abs() < 1e-12 && (p[1] - 0.25).abs() < 1e-12, "{p:?}");
        let draws = 4000;
        let first = (0..draws).filter(|_| s.next_batch(1).0 == 0).count() as f64 / draws as f64;
        assert!((first - 0.75).abs() < 0.03, "{first}");
    }

    #[test]
    fn temperature_sampling_is_followed() {
        // T = 2 over sizes 100 and 1600: sqrt 10 and 40, so p = 0.2 and 0.8.
        let mut s = TaskSampler::new(&[100, 1600], Sampling::Temperature { t: 2.0 }, None, 5);
        let draws = 4000;
        let first = (0..draws).filter(|_| s.next_batch(1).0 == 0).count() as f64 / draws as f64;
        assert!((first - 0.2).abs() < 0.03, "{first}");
    }

    #[test]
    fn same_seed_same_batches() {
        let mut a = TaskSampler::new(&[10, 20, 30], Sampling::Natural, None, 9);
        let mut b = TaskSampler::new(&[10, 20, 30], Sampling::Natural, None, 9);
        for _ in 0..20 {
            assert_eq!(a.next_batch(4), b.next_batch(4));
        }
    }
}
