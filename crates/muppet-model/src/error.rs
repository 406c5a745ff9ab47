//! The error type of muppet-model.

use std::path::PathBuf;

/// What to run when the default model is not on disk.
const FETCH_HINT: &str = "run `muppet assets fetch --model` to download the default model, or \
                          point to a folder holding a Hugging Face config.json and model.safetensors";

/// Everything that can go wrong while building or loading a model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A file the model needs is not there.
    #[error("{} not found: {FETCH_HINT}", path.display())]
    MissingFile {
        /// The file that was looked for.
        path: PathBuf,
    },

    /// A file exists but could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file being read.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// `config.json` is not a BERT/RoBERTa configuration we understand.
    #[error(
        "{} is not a supported Hugging Face BERT/RoBERTa config (model_type must be \
         \"bert\" or \"roberta\", hidden_act one of gelu, gelu_new, relu)",
        path.display()
    )]
    ParseConfig {
        /// The config file.
        path: PathBuf,
        /// The parse error, with line and column.
        #[source]
        source: serde_json::Error,
    },

    /// `config.json` parsed but its numbers do not describe a valid encoder.
    #[error("{}: {reason}", path.display())]
    InvalidConfig {
        /// The config file.
        path: PathBuf,
        /// Which constraint failed.
        reason: String,
    },

    /// The weights file could not be applied to the encoder: missing tensors, wrong shapes,
    /// or an unreadable safetensors file.
    #[error(
        "cannot load weights from {}: {source}. Check that it belongs to the config.json beside it \
         (re-download with `muppet assets fetch --model` if it is the default model)",
        path.display()
    )]
    LoadWeights {
        /// The safetensors file.
        path: PathBuf,
        /// The store error, listing the tensors concerned.
        #[source]
        source: burn_store::SafetensorsStoreError,
    },

    /// A file of an export could not be written.
    #[error("cannot write {}: check the free space and permissions of the folder", path.display())]
    Write {
        /// The file being written.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// Tensors could not be written as safetensors.
    #[error("cannot write the tensors to {}", path.display())]
    SaveWeights {
        /// The safetensors file.
        path: PathBuf,
        /// The store error.
        #[source]
        source: burn_store::SafetensorsStoreError,
    },

    /// A pattern of the Hugging Face to Burn key table did not compile (a bug in this crate).
    #[error("invalid key remapping pattern `{pattern}`: {message}")]
    KeyTable {
        /// The offending pattern.
        pattern: &'static str,
        /// The regex error's text: burn-store builds `regex` without `std`, so its error
        /// type does not implement `std::error::Error` and cannot be kept as a source.
        message: String,
    },
}
