//! JSON Lines: one JSON object per line; blank lines are skipped.

use std::path::Path;

use super::{Location, Record, Value};
use crate::DataError;

/// Every object of the file, with its line number.
pub fn read(path: &Path, text: &str) -> Result<Vec<Record>, DataError> {
    let malformed = |line, message| DataError::Malformed { path: path.to_path_buf(), at: Location::Line(line), message };
    let mut records = Vec::new();
    for (i, line) in text.split('\n').enumerate() {
        let line_no = i + 1;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            continue;
        }
        let value = Value::from_json(line).map_err(|e| {
            malformed(line_no, format!("not valid JSON ({e}); each line must be one complete JSON object"))
        })?;
        match value {
            Value::Object(fields) => records.push(Record::new(Location::Line(line_no), fields)),
            other => return Err(malformed(line_no, format!("expected a JSON object, found {}", other.kind()))),
        }
    }
    if records.is_empty() {
        return Err(DataError::Malformed {
            path: path.to_path_buf(),
            at: Location::File,
            message: "no records: the file is empty or holds only blank lines".into(),
        });
    }
    Ok(records)
}
