//! Errors that cross the IPC boundary. The UI receives `{ kind, message }`: `kind` is
//! stable and machine-readable, `message` is the full text meant for a person.

use std::path::PathBuf;
use std::sync::Arc;

use serde::ser::SerializeStruct;

#[derive(Debug, Clone, thiserror::Error)]
pub enum CommandError {
    #[error("cannot create the data folder {path}: {source}. Set MUPPET_HOME to a writable folder")]
    Home {
        path: PathBuf,
        source: Arc<std::io::Error>,
    },
    /// The store error is shared because a failed open is reported on every call.
    #[error("{0}")]
    Store(Arc<muppet_store::StoreError>),
    /// The request itself is wrong (an unknown task, a path that cannot be written):
    /// the message says what to change.
    #[error("{0}")]
    Invalid(String),
    /// A task of the catalog could not be read from the assets.
    #[error("{0}")]
    Task(Arc<muppet_data::DataError>),
    /// The `muppet` binary could not be found or started, or it reported a failure.
    #[error("{0}")]
    Worker(String),
    /// A chart could not be drawn or written.
    #[error("{0}")]
    Chart(Arc<muppet_charts::ChartError>),
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        source: Arc<std::io::Error>,
    },
}

impl CommandError {
    pub fn kind(&self) -> &'static str {
        match self {
            CommandError::Home { .. } => "home",
            CommandError::Store(error) => match error.as_ref() {
                muppet_store::StoreError::Open { .. }
                | muppet_store::StoreError::Migrate { .. }
                | muppet_store::StoreError::NewerDatabase { .. } => "store_open",
                _ => "store",
            },
            CommandError::Invalid(_) => "invalid",
            CommandError::Task(_) => "task",
            CommandError::Worker(_) => "worker",
            CommandError::Chart(_) => "chart",
            CommandError::Io { .. } => "io",
        }
    }

    pub fn message(&self) -> String {
        self.to_string()
    }

    /// An I/O error on `path` while doing `what` ("reading", "writing" ...).
    pub fn io(what: &'static str, path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.to_path_buf();
        move |source| CommandError::Io {
            what,
            path,
            source: Arc::new(source),
        }
    }
}

impl From<muppet_store::StoreError> for CommandError {
    fn from(error: muppet_store::StoreError) -> Self {
        CommandError::Store(Arc::new(error))
    }
}

impl From<muppet_charts::ChartError> for CommandError {
    fn from(error: muppet_charts::ChartError) -> Self {
        CommandError::Chart(Arc::new(error))
    }
}

impl From<muppet_data::DataError> for CommandError {
    fn from(error: muppet_data::DataError) -> Self {
        CommandError::Task(Arc::new(error))
    }
}

impl serde::Serialize for CommandError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_struct("CommandError", 2)?;
        out.serialize_field("kind", self.kind())?;
        out.serialize_field("message", &self.message())?;
        out.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_as_kind_and_message() {
        let error = CommandError::from(muppet_store::StoreError::NoSuchRun(7));
        let json = serde_json::to_value(&error).expect("serialise");
        assert_eq!(
            json,
            serde_json::json!({ "kind": "store", "message": "run 7 does not exist" })
        );
        let invalid = CommandError::Invalid("pick at least one task".into());
        assert_eq!(
            serde_json::to_value(&invalid).expect("serialise"),
            serde_json::json!({ "kind": "invalid", "message": "pick at least one task" })
        );
    }
}
