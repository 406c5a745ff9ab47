//! The multi-task model (MUPPET.md, "Task families and heads"): one shared encoder;
//! one classification head per classification task; one regression head (one output) per
//! regression task; one multiple-choice head shared by every MC task, scoring each
//! (context, choice) sequence; one span head shared by every span task.

use burn::prelude::*;
use muppet_core::{TaskFamily, TaskSpec};
use muppet_model::{ClassificationHead, ClassificationHeadConfig, Encoder, EncoderInput, SpanHead};
use serde::{Deserialize, Serialize};

/// Which head a task uses: the field of [`MultiTaskModel`] and, for per-task heads, the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "index", rename_all = "snake_case")]
pub enum HeadRef {
    /// `classifiers[i]`.
    Classifier(usize),
    /// `regressors[i]`.
    Regressor(usize),
    /// `choice`, shared.
    Choice,
    /// `span`, shared.
    Span,
}

impl HeadRef {
    /// The Burn module path of the head's parameters (`classifiers.0`, `choice`, ...).
    pub fn module_path(self) -> String {
        match self {
            HeadRef::Classifier(i) => format!("classifiers.{i}"),
            HeadRef::Regressor(i) => format!("regressors.{i}"),
            HeadRef::Choice => "choice".into(),
            HeadRef::Span => "span".into(),
        }
    }
}

/// Generation tasks never reach the training code: `validate` refuses them first.
pub(crate) const REFUSED: &str = "a generation task reached training: `validate` refuses them first";

/// Assign heads to tasks, in task order (no generation task: see [`REFUSED`]).
pub fn head_layout(tasks: &[TaskSpec]) -> Vec<HeadRef> {
    let (mut c, mut r) = (0, 0);
    tasks
        .iter()
        .map(|t| match t.family {
            TaskFamily::Single | TaskFamily::Pair => {
                c += 1;
                HeadRef::Classifier(c - 1)
            }
            TaskFamily::Regression => {
                r += 1;
                HeadRef::Regressor(r - 1)
            }
            TaskFamily::MultipleChoice => HeadRef::Choice,
            TaskFamily::Span => HeadRef::Span,
            TaskFamily::Generation => unreachable!("{}", REFUSED),
        })
        .collect()
}

/// Shared encoder plus the heads of a mixture.
#[derive(Module, Debug)]
pub struct MultiTaskModel<B: Backend> {
    pub encoder: Encoder<B>,
    pub classifiers: Vec<ClassificationHead<B>>,
    pub regressors: Vec<ClassificationHead<B>>,
    pub choice: Option<ClassificationHead<B>>,
    pub span: Option<SpanHead<B>>,
}

impl<B: Backend> MultiTaskModel<B> {
    /// Wrap `encoder` with fresh heads for `tasks` (see [`head_layout`]).
    pub fn new(encoder: Encoder<B>, tasks: &[TaskSpec], dropout: f64, device: &B::Device) -> Self {
        let d_model = encoder.d_model();
        let head = |n: usize| ClassificationHeadConfig::new(d_model, n).with_dropout(dropout).init(device);
        let of = |f: TaskFamily| tasks.iter().filter(move |t| t.family == f);
        let classifiers = tasks.iter().filter(|t| t.family.is_classification()).map(|t| head(t.labels.len())).collect();
        let regressors = of(TaskFamily::Regression).map(|_| head(1)).collect();
        let choice = of(TaskFamily::MultipleChoice).next().map(|_| head(1));
        let span = of(TaskFamily::Span).next().map(|_| SpanHead::new(d_model, device));
        Self { encoder, classifiers, regressors, choice, span }.materialized()
    }

    /// Draw every lazily initialised parameter now. Burn initialises a fresh parameter the
    /// first time it is read, and cloning an unread one copies its initialiser, not its
    /// values: a checkpoint (a clone) of a head never used yet would hold other values than
    /// the model. Reading every parameter once at creation makes clones exact.
    pub fn materialized(self) -> Self {
        struct Touch;
        impl<B: Backend> burn::module::ModuleVisitor<B> for Touch {
            fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<B, D>>) {
                let _ = param.val();
            }
        }
        self.visit(&mut Touch);
        self
    }

    /// Hidden states of a batch.
    pub fn encode(&self, input: EncoderInput<B>) -> Tensor<B, 3> {
        self.encoder.forward(input)
    }

    /// Output of a first-token head (classifier, regressor or choice scorer) `[batch, n]`.
    pub fn first_token_head(&self, head: HeadRef, hidden: Tensor<B, 3>) -> Tensor<B, 2> {
        match head {
            HeadRef::Classifier(i) => self.classifiers[i].forward(hidden),
            HeadRef::Regressor(i) => self.regressors[i].forward(hidden),
            HeadRef::Choice => self.choice.as_ref().expect("the mixture has a multiple-choice task").forward(hidden),
            HeadRef::Span => panic!("the span head reads every token; use `span_logits`"),
        }
    }

    /// Start and end logits of the shared span head.
    pub fn span_logits(&self, hidden: Tensor<B, 3>) -> (Tensor<B, 2>, Tensor<B, 2>) {
        self.span.as_ref().expect("the mixture has a span task").forward(hidden)
    }
}
