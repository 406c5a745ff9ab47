//! Predictions of a checkpoint's head for new inputs, as Hugging Face `pipeline` gives them:
//! the classes of a text (or a pair) with their probabilities, a regression value, the
//! choice picked among several with their probabilities, or the answer span in a passage.
//! The inputs go through the run's own tokenization and the same forward pass that scores
//! dev examples ([`crate::evaluate::predict`]), so a dev example typed in gets the
//! prediction `muppet eval` wrote for it.

use std::path::Path;

use burn::prelude::*;
use muppet_core::{TaskFamily, TaskSpec};
use muppet_data::tokenize::TextEncoder;
use muppet_data::{Answer, Example, LabeledTask};
use serde::{Deserialize, Serialize};

use crate::evaluate::{predict, Predicted};
use crate::manifest::{load_checkpoint, RunManifest};
use crate::TrainError;

/// One input: the fields a task's family reads (`text` alone, a pair, a context and its
/// choices, a question and its passage).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Input {
    /// The text; the question of a span task, the context of a multiple-choice one.
    pub text: String,
    /// The second text of a pair (optional for regression); the passage of a span task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_b: Option<String>,
    /// A multiple-choice task's choices.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
}

/// What to predict with.
pub struct InferJob<'a> {
    /// The run folder (`run.json`, checkpoints).
    pub run_dir: &'a Path,
    /// A model checkpoint of the run (`model-step<N>.mpk`).
    pub checkpoint: &'a Path,
    /// The run task whose head predicts.
    pub task: &'a str,
    /// Tokens per sequence and overlap of span windows (the run's own).
    pub max_len: usize,
    pub doc_stride: usize,
}

/// A head's answer for one input.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum HeadOutput {
    /// Classification: every label with its probability, in the task's label order, and the
    /// index of the one predicted.
    Class { predicted: usize, labels: Vec<String>, probabilities: Vec<f32> },
    /// Regression.
    Value { value: f64 },
    /// Multiple choice: the choice picked, with the softmax over the input's choices.
    Choice { predicted: usize, probabilities: Vec<f32> },
    /// Span: the answer read from the passage and its score (start + end logit); empty with
    /// no score when no window held a passage token.
    Span { answer: String, score: Option<f32> },
}

/// The predictions of [`infer`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Inferred {
    /// The run task whose head answered, its family and the head's module path.
    pub task: String,
    pub family: TaskFamily,
    pub head: String,
    /// One per input, in input order.
    pub answers: Vec<HeadOutput>,
    /// Seconds of the forward passes (not loading the model or tokenizing).
    pub seconds: f64,
}

/// Check `input` (number `n`, from 1) against what a task of `spec`'s family reads; the
/// error says which field to give or leave out.
pub fn check_input(spec: &TaskSpec, n: usize, input: &Input) -> Result<(), String> {
    let task = &spec.name;
    let blank = |s: &str| s.trim().is_empty();
    if blank(&input.text) {
        return Err(format!("input {n}: the text is empty; task `{task}` needs {}", reads(spec.family)));
    }
    let has_b = input.text_b.as_deref().is_some_and(|b| !blank(b));
    let wrong = |what: &str| Err(format!("input {n}: {what}; task `{task}` ({}) reads {}", spec.family.as_str(), reads(spec.family)));
    match spec.family {
        TaskFamily::Single if has_b => wrong("a second text was given"),
        TaskFamily::Pair | TaskFamily::Span if !has_b => wrong(if spec.family == TaskFamily::Span { "the passage is missing" } else { "the second text is missing" }),
        TaskFamily::MultipleChoice if input.choices.iter().filter(|c| !blank(c)).count() < 2 => wrong("fewer than two choices were given"),
        TaskFamily::MultipleChoice if input.choices.iter().any(|c| blank(c)) => wrong("a choice is empty"),
        TaskFamily::MultipleChoice if has_b => wrong("a second text was given"),
        f if f != TaskFamily::MultipleChoice && !input.choices.is_empty() => wrong("choices were given"),
        TaskFamily::Generation => Err(format!("task `{task}`: {}", spec.family.why_not_trained().unwrap_or("generation tasks are not trained"))),
        _ => Ok(()),
    }
}

/// What a task of `family` reads, for the errors.
fn reads(family: TaskFamily) -> &'static str {
    match family {
        TaskFamily::Single => "one text",
        TaskFamily::Pair => "a text and a second text",
        TaskFamily::Regression => "a text and, for a pair, a second text",
        TaskFamily::MultipleChoice => "a context or question and at least two choices",
        TaskFamily::Span => "a question and the passage to answer it from",
        TaskFamily::Generation => "a text to write from",
    }
}

/// The run task `name`, or an error listing the run's tasks.
pub fn run_task<'m>(manifest: &'m RunManifest, name: &str) -> Result<(usize, &'m TaskSpec), TrainError> {
    manifest.task_index(name).map(|i| (i, &manifest.tasks[i])).ok_or_else(|| {
        TrainError::Score(format!("the run has no task `{name}` whose head could predict; its tasks are {}", manifest.tasks_text()))
    })
}

/// The head of `job.task` on each of `inputs`.
pub fn infer<B: Backend>(job: &InferJob, inputs: &[Input], device: &B::Device) -> Result<Inferred, TrainError> {
    let manifest = RunManifest::read(job.run_dir)?;
    let (index, spec) = run_task(&manifest, job.task)?;
    if inputs.is_empty() {
        return Err(TrainError::Score("no input to predict: give a text".into()));
    }
    for (n, input) in inputs.iter().enumerate() {
        check_input(spec, n + 1, input).map_err(TrainError::Score)?;
    }
    let head = manifest.heads[index];
    // The gold targets are placeholders: the forward pass reads the inputs alone.
    let examples = inputs
        .iter()
        .map(|i| {
            let b = i.text_b.clone().filter(|b| !b.trim().is_empty());
            match spec.family {
                TaskFamily::Regression => Example::value(i.text.clone(), b, 0.0),
                TaskFamily::MultipleChoice => Example::choice(i.text.clone(), i.choices.clone(), 0),
                TaskFamily::Span => Example::span(i.text.clone(), b.unwrap_or_default(), vec![Answer { start: 0, text: String::new() }]),
                _ => Example::class(i.text.clone(), b, 0),
            }
        })
        .collect();
    let task = LabeledTask { spec: spec.clone(), examples };
    let text = TextEncoder::with_doc_stride(&manifest.model_dir.join("tokenizer.json"), job.max_len, job.doc_stride)?;
    let items = text.encode_task(&task)?;
    let (model, _) = load_checkpoint::<B>(job.run_dir, job.checkpoint, device)?;
    let started = std::time::Instant::now();
    let picked: Vec<_> = items.iter().collect();
    let evaluation = predict(&model, head, &task, &picked, text.pad_id(), device, &mut |_, _| {});
    let seconds = started.elapsed().as_secs_f64();
    let mut answers: Vec<Option<HeadOutput>> = vec![None; inputs.len()];
    for p in evaluation.predictions {
        answers[p.example] = Some(match (p.predicted, spec.family) {
            (Predicted::Class { index, probabilities }, TaskFamily::MultipleChoice) => HeadOutput::Choice { predicted: index, probabilities },
            (Predicted::Class { index, probabilities }, _) => HeadOutput::Class { predicted: index, labels: spec.labels.clone(), probabilities },
            (Predicted::Value(value), _) => HeadOutput::Value { value },
            (Predicted::Span { text, score }, _) => HeadOutput::Span { answer: text, score },
        });
    }
    let answers = answers
        .into_iter()
        .enumerate()
        .map(|(n, a)| a.ok_or_else(|| TrainError::Score(format!("input {}: the head gave no answer (no window of it held a token of the passage)", n + 1))))
        .collect::<Result<_, _>>()?;
    Ok(Inferred { task: spec.name.clone(), family: spec.family, head: head.module_path(), answers, seconds })
}

#[cfg(test)]
mod tests {
    use super::*;
    use muppet_core::Metric;

    fn spec(family: TaskFamily) -> TaskSpec {
        TaskSpec {
            name: "t".into(),
            family,
            labels: if family.is_classification() { vec!["no".into(), "yes".into()] } else { Vec::new() },
            metric: Metric::Accuracy,
            source: String::new(),
            license: String::new(),
            fields: Default::default(),
            split: Default::default(),
        }
    }

    fn input(text: &str, text_b: Option<&str>, choices: &[&str]) -> Input {
        Input { text: text.into(), text_b: text_b.map(Into::into), choices: choices.iter().map(|c| c.to_string()).collect() }
    }

    #[test]
    fn each_family_takes_what_it_reads() {
        let ok = |family, i: Input| check_input(&spec(family), 1, &i);
        assert_eq!(ok(TaskFamily::Single, input("a", None, &[])), Ok(()));
        // A blank second text is no second text.
        assert_eq!(ok(TaskFamily::Single, input("a", Some("  "), &[])), Ok(()));
        assert_eq!(ok(TaskFamily::Pair, input("a", Some("b"), &[])), Ok(()));
        assert_eq!(ok(TaskFamily::Regression, input("a", None, &[])), Ok(()));
        assert_eq!(ok(TaskFamily::Regression, input("a", Some("b"), &[])), Ok(()));
        assert_eq!(ok(TaskFamily::MultipleChoice, input("q", None, &["x", "y"])), Ok(()));
        assert_eq!(ok(TaskFamily::Span, input("q", Some("passage"), &[])), Ok(()));
    }

    #[test]
    fn what_is_missing_or_extra_is_named_with_the_input() {
        let said = |family, n, i: Input| check_input(&spec(family), n, &i).expect_err("refused");
        assert_eq!(said(TaskFamily::Single, 3, input(" ", None, &[])), "input 3: the text is empty; task `t` needs one text");
        assert_eq!(said(TaskFamily::Single, 1, input("a", Some("b"), &[])), "input 1: a second text was given; task `t` (single) reads one text");
        assert_eq!(said(TaskFamily::Pair, 2, input("a", None, &[])), "input 2: the second text is missing; task `t` (pair) reads a text and a second text");
        assert_eq!(said(TaskFamily::Span, 1, input("q", None, &[])), "input 1: the passage is missing; task `t` (span) reads a question and the passage to answer it from");
        assert!(said(TaskFamily::MultipleChoice, 1, input("q", None, &["x"])).starts_with("input 1: fewer than two choices were given"));
        assert!(said(TaskFamily::MultipleChoice, 1, input("q", None, &["x", "", "y"])).starts_with("input 1: a choice is empty"));
        assert!(said(TaskFamily::MultipleChoice, 1, input("q", Some("b"), &["x", "y"])).starts_with("input 1: a second text was given"));
        assert!(said(TaskFamily::Pair, 1, input("a", Some("b"), &["x"])).starts_with("input 1: choices were given"));
        assert!(said(TaskFamily::Generation, 1, input("a", None, &[])).contains("generation tasks are not trained"));
    }
}
