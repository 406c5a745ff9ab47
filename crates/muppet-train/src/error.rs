//! Errors of the training crate.

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Model(#[from] muppet_model::ModelError),
    #[error(transparent)]
    Data(#[from] muppet_data::DataError),
    #[error("invalid training configuration: {0}")]
    Config(String),
    #[error("{0}")]
    Backend(String),
    /// A checkpoint cannot score what was asked (`crate::score`).
    #[error("{0}")]
    Score(String),
    #[error("cannot write the checkpoint {path}: {message}. Check the free space and permissions of the run folder")]
    Checkpoint { path: std::path::PathBuf, message: String },
    #[error("cannot read {path}: {message}")]
    RunFolder { path: std::path::PathBuf, message: String },
    #[error("training diverged at step {step} on task `{task}`: the loss is {loss}. Lower the learning rate or enable gradient clipping")]
    Diverged { step: u64, task: String, loss: f64 },
    /// Another peer of a data-parallel run failed; its own error says why.
    #[error("another device of this data-parallel run failed")]
    PeerFailed,
}
