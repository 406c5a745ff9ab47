//! Seeded train/dev splits. Most demo sets have no official split, so the
//! split is drawn from a seed and its ids can be recorded with the run.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

/// Example indices of each side of a split, in ascending order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    pub train: Vec<usize>,
    pub dev: Vec<usize>,
}

/// The ids `0..n` in the order `seed` shuffles them.
fn shuffled(n: usize, seed: u64) -> Vec<usize> {
    let mut ids: Vec<usize> = (0..n).collect();
    ids.shuffle(&mut StdRng::seed_from_u64(seed));
    ids
}

/// Put `dev_size` of `n` examples (at most half of them) in dev, drawn with `seed`.
pub fn train_dev(n: usize, dev_size: usize, seed: u64) -> Split {
    let ids = shuffled(n, seed);
    let dev_size = dev_size.min(n / 2);
    let mut dev = ids[..dev_size].to_vec();
    let mut train = ids[dev_size..].to_vec();
    dev.sort_unstable();
    train.sort_unstable();
    Split { train, dev }
}

/// `size` of the ids `0..n` (all of them when `n` is not larger), drawn with `seed`,
/// ascending: the examples of another task a task is scored on.
pub fn sample(n: usize, size: usize, seed: u64) -> Vec<usize> {
    let mut ids = shuffled(n, seed);
    ids.truncate(size);
    ids.sort_unstable();
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_a_seeded_partition() {
        let s = train_dev(100, 10, 3);
        assert_eq!(s.dev.len(), 10);
        assert_eq!(s.train.len(), 90);
        let mut all: Vec<usize> = s.train.iter().chain(&s.dev).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..100).collect::<Vec<_>>());
        assert_eq!(train_dev(100, 10, 3), s);
        assert_ne!(train_dev(100, 10, 4).dev, s.dev);
        assert_eq!(train_dev(5, 10, 1).dev.len(), 2, "dev never exceeds half");
        assert_eq!(sample(100, 10, 3), s.dev, "the same draw");
        assert_eq!(sample(5, 10, 1), (0..5).collect::<Vec<_>>(), "a sample takes all when asked for more");
    }
}
