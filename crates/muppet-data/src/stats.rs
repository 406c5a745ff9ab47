//! What `muppet tasks show` reports about a task: label distribution, choice
//! counts, text lengths in characters (Unicode scalar values) and in a model's tokens.

use serde::Serialize;

use crate::{LabeledTask, Target};

/// Length percentiles of one text field, in characters.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Lengths {
    /// Which field: `text_a`, `text_b` or `choices`.
    pub field: &'static str,
    /// How many texts were measured.
    pub count: usize,
    pub min: usize,
    pub p50: usize,
    pub p90: usize,
    pub p99: usize,
    pub max: usize,
}

impl Lengths {
    /// Nearest-rank percentiles of `lengths`; `None` when there are none.
    pub fn of(field: &'static str, mut lengths: Vec<usize>) -> Option<Self> {
        if lengths.is_empty() {
            return None;
        }
        lengths.sort_unstable();
        let n = lengths.len();
        // Nearest rank: the smallest value with at least p% of the values at or below it.
        let rank = |p: usize| lengths[(p * n).div_ceil(100).clamp(1, n) - 1];
        Some(Self { field, count: n, min: lengths[0], p50: rank(50), p90: rank(90), p99: rank(99), max: lengths[n - 1] })
    }
}

/// Summary of a task's examples.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskStats {
    pub examples: usize,
    /// `(label, count)` in label order (classification only).
    pub labels: Vec<(String, usize)>,
    /// `(number of choices, examples)` ascending (multiple choice only).
    pub choices: Vec<(usize, usize)>,
    /// `(number of answers, examples)` ascending (span only).
    pub answers: Vec<(usize, usize)>,
    pub lengths: Vec<Lengths>,
}

impl TaskStats {
    pub fn of(task: &LabeledTask) -> Self {
        let chars = |s: &str| s.chars().count();
        let text_a = task.examples.iter().map(|e| chars(&e.text_a)).collect();
        let text_b = task.examples.iter().filter_map(|e| e.text_b.as_deref().map(chars)).collect();
        let choice_texts = task.examples.iter().flat_map(|e| e.choices.iter().map(|c| chars(c))).collect();
        let targets = task
            .examples
            .iter()
            .filter_map(|e| match &e.target {
                Target::Text(t) => Some(chars(t)),
                _ => None,
            })
            .collect();
        let lengths = [
            Lengths::of("text_a", text_a),
            Lengths::of("text_b", text_b),
            Lengths::of("choices", choice_texts),
            Lengths::of("target", targets),
        ]
            .into_iter()
            .flatten()
            .collect();
        let histogram = |sizes: Vec<usize>| {
            let mut h = std::collections::BTreeMap::new();
            for s in sizes {
                *h.entry(s).or_insert(0) += 1;
            }
            h.into_iter().collect::<Vec<_>>()
        };
        let choices = histogram(task.examples.iter().filter(|e| matches!(e.target, Target::Choice(_))).map(|e| e.choices.len()).collect());
        let answers = histogram(
            task.examples
                .iter()
                .filter_map(|e| match &e.target {
                    Target::Span(a) => Some(a.len()),
                    _ => None,
                })
                .collect(),
        );
        let labels = task.spec.labels.iter().cloned().zip(task.label_counts()).collect();
        Self { examples: task.examples.len(), labels, choices, answers, lengths }
    }
}

/// Examples measured in tokens at most: a larger task is measured on a seeded sample of
/// this many (a share read from it has a standard error below 0.71 points).
pub const TOKEN_SAMPLE: usize = 5000;
/// Seed of that sample.
pub const TOKEN_SAMPLE_SEED: u64 = 0x70C5;
/// Maximum lengths a task's token lengths are weighed against unless told otherwise.
pub const COMMON_MAX_LENS: [usize; 4] = [64, 128, 256, 512];

/// A task's sequence lengths in a model's tokens (untruncated, special tokens included; per
/// example its longest sequence), and the share of examples longer than each maximum
/// length: cut at that length, or for a span task read in several windows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenLengths {
    /// Examples measured, and of how many (fewer: a seeded sample).
    pub measured: usize,
    pub examples: usize,
    pub lengths: Lengths,
    /// `(max length, share of the examples measured longer than it)`.
    pub over: Vec<(usize, f64)>,
}

impl TokenLengths {
    /// Measure `task` with `encoder`, on all its examples or a seeded sample of
    /// [`TOKEN_SAMPLE`]; weigh the lengths against each of `max_lens`. `None` without examples.
    pub fn measure(encoder: &crate::tokenize::TextEncoder, task: &LabeledTask, max_lens: &[usize]) -> Result<Option<Self>, crate::DataError> {
        let ids = crate::split::sample(task.examples.len(), TOKEN_SAMPLE, TOKEN_SAMPLE_SEED);
        let tokens = encoder.sequence_lengths(task, &ids)?;
        let over = max_lens
            .iter()
            .map(|&m| (m, tokens.iter().filter(|&&t| t > m).count() as f64 / tokens.len().max(1) as f64))
            .collect();
        Ok(Lengths::of("tokens", tokens).map(|lengths| Self { measured: ids.len(), examples: task.examples.len(), lengths, over }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Example;
    use muppet_core::{TaskFamily, TaskSpec};

    #[test]
    fn nearest_rank_percentiles_and_label_counts() {
        let l = Lengths::of("text_a", (1..=100).rev().collect()).expect("lengths");
        assert_eq!((l.min, l.p50, l.p90, l.p99, l.max), (1, 50, 90, 99, 100));
        let l = Lengths::of("text_a", vec![7]).expect("one");
        assert_eq!((l.p50, l.p99), (7, 7));
        assert!(Lengths::of("x", vec![]).is_none());

        let spec = TaskSpec::new("t", TaskFamily::Single, vec!["a".into(), "b".into()], "s", "l");
        let examples = vec![Example::class("héllo", None, 1), Example::class("hi", None, 1), Example::class("x", None, 0)];
        let stats = TaskStats::of(&LabeledTask { spec, examples });
        assert_eq!(stats.labels, [("a".to_string(), 1), ("b".to_string(), 2)]);
        // Characters, not bytes: "héllo" is 5.
        assert_eq!(stats.lengths[0].max, 5);
        assert_eq!(stats.lengths.len(), 1);
    }
}
