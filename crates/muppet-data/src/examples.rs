//! Labeled examples in memory, as importers produce them.

use muppet_core::TaskSpec;

/// One classification example: one or two texts and a class index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    pub text_a: String,
    pub text_b: Option<String>,
    /// Index into the task's `labels`.
    pub label: usize,
}

/// A task and its examples, in file order.
#[derive(Debug, Clone)]
pub struct LabeledTask {
    pub spec: TaskSpec,
    pub examples: Vec<Example>,
}

impl LabeledTask {
    /// Count of examples per label, in label order.
    pub fn label_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.spec.labels.len()];
        for e in &self.examples {
            counts[e.label] += 1;
        }
        counts
    }
}
