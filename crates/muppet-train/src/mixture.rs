//! The task sampler: which task each micro-batch comes from, and which
//! examples it holds. Muppet draws tasks in proportion to their size
//! ("natural" mixing, MUPPET.md "Sampling").

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Draws (task, example indices) for micro-batches, deterministically for a seed.
pub struct TaskSampler {
    cumulative: Vec<f64>,
    sizes: Vec<usize>,
    rng: StdRng,
}

impl TaskSampler {
    /// Natural mixing over tasks of the given sizes.
    pub fn natural(sizes: &[usize], seed: u64) -> Self {
        let total: usize = sizes.iter().sum();
        let mut acc = 0.0;
        let cumulative = sizes
            .iter()
            .map(|&n| {
                acc += n as f64 / total.max(1) as f64;
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
        let task = self.cumulative.iter().position(|&c| u < c).unwrap_or(self.cumulative.len() - 1);
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
        let mut s = TaskSampler::natural(&[300, 100], 1);
        let p = s.probabilities();
        assert!((p[0] - 0.75).abs() < 1e-12 && (p[1] - 0.25).abs() < 1e-12, "{p:?}");
        let draws = 4000;
        let first = (0..draws).filter(|_| s.next_batch(1).0 == 0).count() as f64 / draws as f64;
        assert!((first - 0.75).abs() < 0.03, "{first}");
    }

    #[test]
    fn same_seed_same_batches() {
        let mut a = TaskSampler::natural(&[10, 20, 30], 9);
        let mut b = TaskSampler::natural(&[10, 20, 30], 9);
        for _ in 0..20 {
            assert_eq!(a.next_batch(4), b.next_batch(4));
        }
    }
}
