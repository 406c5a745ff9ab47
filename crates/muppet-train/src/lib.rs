//! Training loops on Burn: Muppet pre-finetuning over a task mixture with
//! heterogeneous batches (K single-task micro-batches per update) and loss
//! scaling, reported through [`muppet_core::RunObserver`].

pub mod backend;
pub mod bench;
pub mod checkpoint;
pub mod error;
pub mod evaluate;
pub mod export;
pub mod manifest;
pub mod mixture;
pub mod model;
pub mod prefinetune;
pub mod schedule;

pub use error::TrainError;
pub use prefinetune::{prefinetune, PreFinetuneConfig, SavedCheckpoint, TaskSummary, TrainSummary};
