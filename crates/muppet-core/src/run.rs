//! Run identity, kind and life cycle.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Database id of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RunId(pub i64);

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What a run trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunKind {
    /// Multi-task pre-finetuning on a mixture (Muppet §3).
    PreFinetune,
    /// Fine-tuning on one downstream task.
    Finetune,
}

impl RunKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RunKind::PreFinetune => "pre_finetune",
            RunKind::Finetune => "finetune",
        }
    }
}

impl std::str::FromStr for RunKind {
    type Err = crate::task::ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "pre_finetune" => Ok(RunKind::PreFinetune),
            "finetune" => Ok(RunKind::Finetune),
            other => Err(crate::task::ParseError::new("run kind", other, "pre_finetune, finetune")),
        }
    }
}

/// Life cycle of a run. `Failed` runs carry a reason in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Queued,
    Running,
    Completed,
    Failed,
    Cancelled,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "queued",
            RunStatus::Running => "running",
            RunStatus::Completed => "completed",
            RunStatus::Failed => "failed",
            RunStatus::Cancelled => "cancelled",
        }
    }
}

impl std::str::FromStr for RunStatus {
    type Err = crate::task::ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "queued" => RunStatus::Queued,
            "running" => RunStatus::Running,
            "completed" => RunStatus::Completed,
            "failed" => RunStatus::Failed,
            "cancelled" => RunStatus::Cancelled,
            other => {
                return Err(crate::task::ParseError::new(
                    "run status",
                    other,
                    "queued, running, completed, failed, cancelled",
                ));
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_round_trips_through_text() {
        for s in [RunStatus::Queued, RunStatus::Running, RunStatus::Completed, RunStatus::Failed, RunStatus::Cancelled] {
            assert_eq!(s.as_str().parse::<RunStatus>().ok(), Some(s));
        }
        assert!("done".parse::<RunStatus>().is_err());
        assert_eq!("finetune".parse::<RunKind>().ok(), Some(RunKind::Finetune));
    }
}
