//! Everything between a file and a batch: the demo assets and how they are
//! fetched, task importers (local files and hub datasets), the catalogs,
//! tokenization and the task sampler.

pub mod assets;
pub mod catalog;
pub mod demo_tasks;
pub mod error;
pub mod examples;
pub mod fingerprint;
pub mod hub;
pub mod import;
pub mod mixture;
pub mod muppet_catalog;
pub mod overlap;
pub mod split;
pub mod stats;
pub mod token_cache;
pub mod tokenize;

pub use error::DataError;
pub use examples::{Answer, Example, LabeledTask, Target};
