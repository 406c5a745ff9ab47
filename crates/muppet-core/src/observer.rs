//! How the engine reports: a [`RunObserver`] receives [`RunEvent`]s. The store,
//! the CLI's progress bar and the worker's JSON-line stdout are observers; the
//! engine never knows which.

use serde::{Deserialize, Serialize};

use crate::RunId;

/// One value of one metric series at one step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricPoint {
    /// Task the value belongs to; `None` for run-wide series (total loss, learning rate).
    pub task: Option<String>,
    /// `train`, `dev`, or `system` (the worker's own resources, e.g. `peak_rss_mb`).
    pub split: String,
    /// Metric name: `loss`, `accuracy`, `lr` ...
    pub name: String,
    /// Optimizer step.
    pub step: u64,
    /// Training examples seen so far.
    pub examples: u64,
    /// Seconds since the run started.
    pub wall_s: f64,
    pub value: f64,
}

/// The split of the series of a worker's own resources (no task).
pub const SYSTEM_SPLIT: &str = "system";
/// A worker's peak resident memory in MB: one point per worker session, at its last step.
pub const PEAK_MEMORY_NAME: &str = "peak_rss_mb";
/// A worker's resident memory in MB while it trains, read every few seconds.
pub const MEMORY_NAME: &str = "rss_mb";
/// A worker's CPU use while it trains, in percent of one core (above 100 on several).
pub const CPU_NAME: &str = "cpu_percent";
/// The GPU memory a CUDA worker's tensors hold while it trains, in MB.
pub const GPU_MEMORY_NAME: &str = "gpu_mb";

/// Progress of a run, in the order the engine produces it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum RunEvent {
    Started { run: RunId, total_steps: u64 },
    Metrics { run: RunId, points: Vec<MetricPoint> },
    Step { run: RunId, step: u64, total_steps: u64 },
    /// The run's dev score at an evaluation after `step` updates: the mean of its tasks' main
    /// dev metrics, as keep-best and early stopping judge it (NaN, written `null`, when a
    /// task has no score). Emitted before that step's `Step`.
    DevScore { run: RunId, step: u64, score: f64 },
    /// A checkpoint file was written (a resumable one, or the final model).
    Checkpoint { run: RunId, step: u64, path: String },
    Finished { run: RunId },
    /// Stopped on request after `step` updates, with a checkpoint to resume from.
    Cancelled { run: RunId, step: u64 },
    Failed { run: RunId, reason: String },
}

/// Receives the engine's events. Implementations must be cheap to call from the
/// training loop; batching and I/O are theirs to arrange.
pub trait RunObserver {
    fn on_event(&mut self, event: &RunEvent);
}

/// Hands each event to several observers, in order.
pub struct Fanout<'a>(pub Vec<&'a mut dyn RunObserver>);

impl RunObserver for Fanout<'_> {
    fn on_event(&mut self, event: &RunEvent) {
        for o in self.0.iter_mut() {
            o.on_event(event);
        }
    }
}
