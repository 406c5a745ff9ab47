//! Labeled examples in memory, as importers produce them, for every task family.

use muppet_core::{TaskFamily, TaskSpec};
use serde::{Deserialize, Serialize};

/// One answer of an extractive reading-comprehension example.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    /// Offset of the answer's first character in the context, in Unicode scalar values
    /// (SQuAD's `answer_start`, as Python counts).
    pub start: usize,
    pub text: String,
}

/// What an example is labelled with; the variant follows the task's family.
/// Serialised as `{"class": 1}`, `{"value": 0.5}`, `{"choice": 2}`,
/// `{"span": [{"start": 3, "text": "..."}]}` or `{"text": "..."}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// Single and pair classification: index into the task's `labels`.
    Class(usize),
    /// Regression.
    Value(f32),
    /// Multiple choice: index into the example's `choices`.
    Choice(usize),
    /// Span: the accepted answers, found in `text_b` (the context). The first one trains.
    Span(Vec<Answer>),
    /// Generation: the text to write (e.g. the summary of `text_a`).
    Text(String),
}

/// One labeled example.
///
/// | family | `text_a` | `text_b` | `choices` |
/// |---|---|---|---|
/// | single | the text | `None` | empty |
/// | pair, regression | first text | second text (regression: optional) | empty |
/// | multiple choice | the context or question | `None` | the choices |
/// | span | the question | the context (passage) | empty |
/// | generation | the source text | `None` | empty |
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Example {
    pub text_a: String,
    pub text_b: Option<String>,
    pub choices: Vec<String>,
    pub target: Target,
}

impl Example {
    /// A classification example.
    pub fn class(text_a: impl Into<String>, text_b: Option<String>, label: usize) -> Self {
        Self { text_a: text_a.into(), text_b, choices: Vec::new(), target: Target::Class(label) }
    }

    /// A regression example.
    pub fn value(text_a: impl Into<String>, text_b: Option<String>, value: f32) -> Self {
        Self { text_a: text_a.into(), text_b, choices: Vec::new(), target: Target::Value(value) }
    }

    /// A multiple-choice example.
    pub fn choice(context: impl Into<String>, choices: Vec<String>, answer: usize) -> Self {
        Self { text_a: context.into(), text_b: None, choices, target: Target::Choice(answer) }
    }

    /// A span example.
    pub fn span(question: impl Into<String>, context: impl Into<String>, answers: Vec<Answer>) -> Self {
        Self { text_a: question.into(), text_b: Some(context.into()), choices: Vec::new(), target: Target::Span(answers) }
    }

    /// A generation example: the source text and the text to write.
    pub fn generation(source: impl Into<String>, target: impl Into<String>) -> Self {
        Self { text_a: source.into(), text_b: None, choices: Vec::new(), target: Target::Text(target.into()) }
    }

    /// The example as one line of JSON with a fixed field order; equal
    /// examples give equal lines (duplicates, fingerprints, stored tasks).
    pub fn canonical_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The class index of a classification example.
    pub fn label(&self) -> Option<usize> {
        match self.target {
            Target::Class(l) => Some(l),
            _ => None,
        }
    }

    /// Check that the example fits a task of `spec`'s family and label set; the error says
    /// which field is wrong.
    pub fn check(&self, spec: &TaskSpec) -> Result<(), String> {
        match (spec.family, &self.target) {
            (TaskFamily::Single | TaskFamily::Pair, Target::Class(l)) => {
                if *l >= spec.labels.len() {
                    return Err(format!("label index {l} is outside the task's {} labels", spec.labels.len()));
                }
                if spec.family == TaskFamily::Pair && self.text_b.is_none() {
                    return Err("a pair task needs a second text".into());
                }
                Ok(())
            }
            (TaskFamily::Regression, Target::Value(v)) if v.is_finite() => Ok(()),
            (TaskFamily::Regression, Target::Value(v)) => Err(format!("the target {v} is not a finite number")),
            (TaskFamily::MultipleChoice, Target::Choice(a)) => {
                if self.choices.len() < 2 {
                    Err(format!("a multiple-choice example needs at least 2 choices, it has {}", self.choices.len()))
                } else if *a >= self.choices.len() {
                    Err(format!("answer index {a} is outside the {} choices", self.choices.len()))
                } else {
                    Ok(())
                }
            }
            (TaskFamily::Span, Target::Span(answers)) => {
                let context = self.text_b.as_deref().ok_or("a span example needs a context")?;
                if answers.is_empty() {
                    return Err("a span example needs at least one answer".into());
                }
                for a in answers {
                    let found: String = context.chars().skip(a.start).take(a.text.chars().count()).collect();
                    if found != a.text || a.text.is_empty() {
                        return Err(format!(
                            "the answer {:?} is not at character {} of the context (found {:?})",
                            a.text, a.start, found
                        ));
                    }
                }
                Ok(())
            }
            (TaskFamily::Generation, Target::Text(t)) if t.trim().is_empty() => Err("the target text is empty".into()),
            (TaskFamily::Generation, Target::Text(_)) => Ok(()),
            (family, target) => Err(format!("a {} task cannot take a {target:?} target", family.as_str())),
        }
    }
}

/// A task and its examples, in file order.
#[derive(Debug, Clone)]
pub struct LabeledTask {
    pub spec: TaskSpec,
    pub examples: Vec<Example>,
}

impl LabeledTask {
    /// Count of examples per label, in label order (classification tasks; empty otherwise).
    pub fn label_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.spec.labels.len()];
        for l in self.examples.iter().filter_map(Example::label) {
            if let Some(c) = counts.get_mut(l) {
                *c += 1;
            }
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(family: TaskFamily, labels: &[&str]) -> TaskSpec {
        TaskSpec::new("t", family, labels.iter().map(|s| s.to_string()).collect(), "test", "none")
    }

    #[test]
    fn check_names_the_wrong_field() {
        let cls = spec(TaskFamily::Single, &["a", "b"]);
        assert!(Example::class("x", None, 1).check(&cls).is_ok());
        assert!(Example::class("x", None, 2).check(&cls).err().is_some_and(|e| e.contains("label index 2")));
        assert!(Example::value("x", None, 1.0).check(&cls).is_err());

        let mc = spec(TaskFamily::MultipleChoice, &[]);
        assert!(Example::choice("q", vec!["a".into(), "b".into()], 1).check(&mc).is_ok());
        assert!(Example::choice("q", vec!["a".into()], 0).check(&mc).err().is_some_and(|e| e.contains("at least 2")));

        let span = spec(TaskFamily::Span, &[]);
        let ctx = "Zoë lives in Paris.";
        let ok = Example::span("where?", ctx, vec![Answer { start: 13, text: "Paris".into() }]);
        assert!(ok.check(&span).is_ok());
        let off = Example::span("where?", ctx, vec![Answer { start: 12, text: "Paris".into() }]);
        assert!(off.check(&span).err().is_some_and(|e| e.contains("not at character 12")));

        let reg = spec(TaskFamily::Regression, &[]);
        assert!(Example::value("x", None, f32::NAN).check(&reg).err().is_some_and(|e| e.contains("finite")));
    }
}
