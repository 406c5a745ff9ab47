//! Training loops on Burn: Muppet pre-finetuning over a task mixture (heterogeneous,
//! homogeneous or sequential batches, loss scaling, R3F) and fine-tuning, with dev metrics,
//! resumable checkpoints and cancellation, reported through [`muppet_core::RunObserver`].

pub mod backend;
pub mod batch;
pub mod bench;
pub mod best;
pub mod checkpoint;
pub mod clip;
pub mod config;
pub mod error;
pub mod evaluate;
pub mod experiment;
pub mod export;
pub mod infer;
pub mod manifest;
pub mod metrics;
pub mod mixture;
pub mod model;
pub mod objective;
pub mod paired;
pub mod parallel;
pub mod schedule;
pub mod score;
pub mod spec;
pub mod splits;
mod start;
pub mod train;

pub use config::TrainConfig;
pub use error::TrainError;
pub use mixture::Batching;
pub use objective::{NoiseKind, R3f};
pub use train::{train, Init, Outcome, SavedCheckpoint, TaskSummary, TrainJob, TrainSummary};

/// The configuration of a pre-finetuning run (the same knobs as any run).
pub type PreFinetuneConfig = TrainConfig;
