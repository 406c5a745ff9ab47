//! What a task is: its family (which head and loss it uses) and its label space.

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
    MultipleChoice,
    /// Extractive reading comprehension; one shared span head.
    Span,
}

impl TaskFamily {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskFamily::Single => "single",
            TaskFamily::Pair => "pair",
            TaskFamily::Regression => "regression",
            TaskFamily::MultipleChoice => "mc",
            TaskFamily::Span => "span",
        }
    }
}

/// A task as the engine sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskSpec {
    /// Unique name, e.g. `rt_fresh_rotten`.
    pub name: String,
    pub family: TaskFamily,
    /// Label names in class-index order (empty for regression and span).
    pub labels: Vec<String>,
    /// Where the data came from (package and member, or a path).
    pub source: String,
    /// License note shown to the user.
    pub license: String,
}

impl TaskSpec {
    /// Number of outcomes the head chooses among, for loss scaling (Muppet §3.2).
    /// `None` for regression, which has no such n.
    pub fn n_outcomes(&self) -> Option<usize> {
        match self.family {
            TaskFamily::Single | TaskFamily::Pair => Some(self.labels.len()),
            _ => None,
        }
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
