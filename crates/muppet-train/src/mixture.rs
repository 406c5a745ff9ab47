//! Which examples each update is made of: the task sampler (task probabilities from a
//! sampling policy, `muppet_data::mixture`; Muppet's default is natural mixing) and the
//! batch plan (MUPPET.md, "Heterogeneous batches"):
//! - heterogeneous: each of the K micro-batches of an update draws its own task;
//! - homogeneous: one task per update, drawn at random;
//! - sequential: the tasks one after another, each for its share of the steps.
//!
//! Inside a task, examples come in shuffled passes (every example once per pass). With
//! length bucketing, each pass is cut into windows of [`BUCKET_BATCHES`] batches, each
//! window sorted by length and cut into batches, and the batches shuffled: batches then
//! hold examples of similar length and carry little padding. Every draw comes from one
//! seeded generator, so replaying the plan for the steps already done puts a resumed run
//! back on the same data order.

use muppet_data::mixture::{probabilities, Sampling};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// How micro-batches are grouped into updates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Batching {
    #[default]
    Heterogeneous,
    Homogeneous,
    Sequential,
}

impl Batching {
    pub fn as_str(self) -> &'static str {
        match self {
            Batching::Heterogeneous => "heterogeneous",
            Batching::Homogeneous => "homogeneous",
            Batching::Sequential => "sequential",
        }
    }
}

impl std::str::FromStr for Batching {
    type Err = muppet_core::ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Batching::Heterogeneous, Batching::Homogeneous, Batching::Sequential]
            .into_iter()
            .find(|b| b.as_str() == s)
            .ok_or_else(|| muppet_core::ParseError::new("batching", s, "heterogeneous, homogeneous, sequential"))
    }
}

/// Batches per length-sorted window when bucketing.
pub const BUCKET_BATCHES: usize = 50;

/// Draws tasks and examples, deterministically for a seed.
#[derive(Clone)]
pub struct TaskSampler {
    cumulative: Vec<f64>,
    /// Per task: the current shuffled pass and the position in it.
    passes: Vec<(Vec<usize>, usize)>,
    /// Per task, the length of each example, when batches are bucketed by length.
    lengths: Option<Vec<Vec<usize>>>,
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
        let passes = sizes.iter().map(|&n| ((0..n).collect(), n)).collect();
        Self { cumulative, passes, lengths: None, rng: StdRng::seed_from_u64(seed) }
    }

    /// Bucket batches by length: `lengths[t][i]` is the length of example i of task t.
    pub fn with_length_buckets(mut self, lengths: Vec<Vec<usize>>) -> Self {
        self.lengths = Some(lengths);
        self
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

    /// A task drawn with the mixture's probabilities.
    pub fn next_task(&mut self) -> usize {
        let u: f64 = self.rng.random();
        // The last task with a non-zero probability takes the rounding remainder.
        self.cumulative
            .iter()
            .position(|&c| u < c)
            .unwrap_or_else(|| self.probabilities().iter().rposition(|&p| p > 0.0).unwrap_or(0))
    }

    /// The next `batch` example indices of `task`, continuing its shuffled pass.
    pub fn examples(&mut self, task: usize, batch: usize) -> Vec<usize> {
        let (order, pos) = &mut self.passes[task];
        let mut out = Vec::with_capacity(batch);
        if order.is_empty() {
            return out;
        }
        while out.len() < batch {
            if *pos == order.len() {
                order.shuffle(&mut self.rng);
                if let Some(lengths) = &self.lengths {
                    bucket(order, &lengths[task], batch, &mut self.rng);
                }
                *pos = 0;
            }
            out.push(order[*pos]);
            *pos += 1;
        }
        out
    }

    /// Next micro-batch: a drawn task and `batch` of its examples.
    pub fn next_batch(&mut self, batch: usize) -> (usize, Vec<usize>) {
        let task = self.next_task();
        (task, self.examples(task, batch))
    }
}

/// Reorder a shuffled pass so that consecutive runs of `batch` examples have similar
/// lengths, in random batch order.
fn bucket(order: &mut Vec<usize>, lengths: &[usize], batch: usize, rng: &mut StdRng) {
    let mut batches: Vec<Vec<usize>> = Vec::with_capacity(order.len() / batch + 1);
    for window in order.chunks(batch * BUCKET_BATCHES) {
        let mut window = window.to_vec();
        window.sort_by_key(|&i| lengths[i]);
        batches.extend(window.chunks(batch).map(<[usize]>::to_vec));
    }
    batches.shuffle(rng);
    *order = batches.concat();
}

/// One micro-batch of an update: a task and example indices into its training items.
pub type MicroBatch = (usize, Vec<usize>);

/// The micro-batches of every update of a run.
#[derive(Clone)]
pub struct BatchPlan {
    sampler: TaskSampler,
    batching: Batching,
    tasks_per_update: usize,
    batch_size: usize,
    /// Sequential batching: the first step after each task's share.
    boundaries: Vec<u64>,
}

impl BatchPlan {
    pub fn new(sampler: TaskSampler, batching: Batching, tasks_per_update: usize, batch_size: usize, steps: u64) -> Self {
        let boundaries = sequential_boundaries(&sampler.probabilities(), steps);
        Self { sampler, batching, tasks_per_update, batch_size, boundaries }
    }

    pub fn probabilities(&self) -> Vec<f64> {
        self.sampler.probabilities()
    }

    /// The K micro-batches of update `step` (0-based). Call it for every step in order.
    pub fn update(&mut self, step: u64) -> Vec<MicroBatch> {
        let k = self.tasks_per_update;
        let b = self.batch_size;
        match self.batching {
            Batching::Heterogeneous => (0..k).map(|_| self.sampler.next_batch(b)).collect(),
            Batching::Homogeneous => {
                let task = self.sampler.next_task();
                (0..k).map(|_| (task, self.sampler.examples(task, b))).collect()
            }
            Batching::Sequential => {
                let task = self.boundaries.iter().position(|&end| step < end).unwrap_or(self.boundaries.len() - 1);
                (0..k).map(|_| (task, self.sampler.examples(task, b))).collect()
            }
        }
    }
}

/// Steps at which each task's share ends when tasks run one after another: shares follow
/// the probabilities, rounded down, the remainder going to the tasks with the largest
/// fractional parts.
fn sequential_boundaries(p: &[f64], steps: u64) -> Vec<u64> {
    let exact: Vec<f64> = p.iter().map(|p| p * steps as f64).collect();
    let mut shares: Vec<u64> = exact.iter().map(|x| x.floor() as u64).collect();
    let mut rest = steps.saturating_sub(shares.iter().sum());
    let mut order: Vec<usize> = (0..p.len()).filter(|&i| p[i] > 0.0).collect();
    order.sort_by(|&a, &b| (exact[b] - exact[b].floor()).total_cmp(&(exact[a] - exact[a].floor())));
    for &i in order.iter().cycle() {
        if rest == 0 {
            break;
        }
        shares[i] += 1;
        rest -= 1;
    }
    let mut acc = 0;
    shares
        .into_iter()
        .map(|s| {
            acc += s;
            acc
        })
        .collect()
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

    #[test]
    fn every_example_once_per_pass() {
        let mut s = TaskSampler::new(&[7], Sampling::Natural, None, 3);
        let mut seen = s.examples(0, 7);
        seen.sort_unstable();
        assert_eq!(seen, (0..7).collect::<Vec<_>>());
    }

    #[test]
    fn batch_plans_group_tasks_as_named() {
        let plan = |batching| BatchPlan::new(TaskSampler::new(&[100, 100, 200], Sampling::Natural, None, 4), batching, 4, 2, 8);
        let mut het = plan(Batching::Heterogeneous);
        let mixed = (0..8).filter(|&s| {
            let u = het.update(s);
            u.iter().any(|(t, _)| *t != u[0].0)
        });
        assert!(mixed.count() > 0, "heterogeneous updates mix tasks");

        let mut hom = plan(Batching::Homogeneous);
        for s in 0..8 {
            let u = hom.update(s);
            assert_eq!(u.len(), 4);
            assert!(u.iter().all(|(t, _)| *t == u[0].0), "homogeneous updates hold one task");
        }

        // Shares of 8 steps at p = [0.25, 0.25, 0.5]: 2, 2, 4, in task order.
        let mut seq = plan(Batching::Sequential);
        let tasks: Vec<usize> = (0..8).map(|s| seq.update(s)[0].0).collect();
        assert_eq!(tasks, vec![0, 0, 1, 1, 2, 2, 2, 2]);
    }

    #[test]
    fn sequential_shares_sum_to_the_budget() {
        assert_eq!(sequential_boundaries(&[1.0 / 3.0; 3], 10), vec![4, 7, 10]);
        assert_eq!(sequential_boundaries(&[0.5, 0.0, 0.5], 3), vec![2, 2, 3]);
    }

    #[test]
    fn bucketed_batches_hold_similar_lengths_and_cover_the_pass() {
        let n = 1000;
        // Lengths 0..100 spread at random over the examples.
        let lengths: Vec<usize> = (0..n).map(|i| (i * 37) % 100).collect();
        let plain_spread = spread(&mut TaskSampler::new(&[n], Sampling::Natural, None, 3), &lengths);
        let mut bucketed = TaskSampler::new(&[n], Sampling::Natural, None, 3).with_length_buckets(vec![lengths.clone()]);
        let bucketed_spread = spread(&mut bucketed, &lengths);
        assert!(bucketed_spread * 5.0 < plain_spread, "bucketed {bucketed_spread} vs plain {plain_spread}");
        let mut seen: Vec<usize> = (0..n / 10).flat_map(|_| bucketed.examples(0, 10)).collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..n).collect::<Vec<_>>(), "every example once per pass");
    }

    /// Mean (max - min) length inside batches of 10 over one pass.
    fn spread(s: &mut TaskSampler, lengths: &[usize]) -> f64 {
        let batches = lengths.len() / 10;
        (0..batches)
            .map(|_| {
                let b = s.examples(0, 10);
                let l: Vec<usize> = b.iter().map(|&i| lengths[i]).collect();
                (l.iter().max().expect("a batch") - l.iter().min().expect("a batch")) as f64
            })
            .sum::<f64>()
            / batches as f64
    }

    #[test]
    fn batching_names_round_trip() {
        for b in [Batching::Heterogeneous, Batching::Homogeneous, Batching::Sequential] {
            assert_eq!(b.as_str().parse::<Batching>().ok(), Some(b));
        }
        assert!("mixed".parse::<Batching>().is_err());
    }
}
