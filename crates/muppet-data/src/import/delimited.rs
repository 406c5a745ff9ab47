//! CSV (RFC 4180 quoting) and TSV (no quoting). Each row is a record whose
//! fields are the columns of the header (or `1`, `2`, ... without one).

use std::path::Path;

use super::{Location, Record, Value};
use crate::DataError;

/// Every row of the file, with its line number (the header is line 1).
pub fn read(path: &Path, text: &str, tab: bool, header: bool) -> Result<Vec<Record>, DataError> {
    let malformed = |at, message| DataError::Malformed { path: path.to_path_buf(), at, message };
    if text.trim().is_empty() {
        return Err(malformed(Location::File, "the file is empty: expected a header line and rows".into()));
    }
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(if tab { b'\t' } else { b',' })
        .quoting(!tab)
        .has_headers(false)
        .flexible(false)
        .from_reader(text.as_bytes());
    let mut rows = reader.records();
    let mut names: Vec<String> = Vec::new();
    let mut records = Vec::new();
    let what = if tab { "tab" } else { "comma" };
    if header {
        let Some(first) = rows.next() else {
            return Err(malformed(Location::File, "the file is empty: expected a header line".into()));
        };
        let first = first.map_err(|e| malformed(Location::Line(1), format!("cannot read the header: {e}")))?;
        for (i, h) in first.iter().enumerate() {
            let h = h.trim().to_string();
            if h.is_empty() {
                return Err(malformed(Location::Line(1), format!("column {} of the header has no name", i + 1)));
            }
            if names.contains(&h) {
                return Err(malformed(Location::Line(1), format!("the header names column `{h}` twice")));
            }
            names.push(h);
        }
    }
    for row in rows {
        let row = row.map_err(|e| {
            let line = e.position().map(|p| p.line() as usize).unwrap_or(0);
            let at = if line > 0 { Location::Line(line) } else { Location::File };
            let hint = match e.kind() {
                csv::ErrorKind::UnequalLengths { expected_len, len, .. } => format!(
                    "the row has {len} {what}-separated fields, the header has {expected_len}{}",
                    if tab { "" } else { "; quote fields that contain commas" }
                ),
                _ => e.to_string(),
            };
            malformed(at, hint)
        })?;
        let line = row.position().map(|p| p.line() as usize).unwrap_or(0);
        if names.is_empty() {
            names = (1..=row.len()).map(|i| i.to_string()).collect();
        }
        if row.len() == 1 && row.get(0).is_some_and(|c| c.trim().is_empty()) {
            continue; // a blank line
        }
        let fields = names.iter().cloned().zip(row.iter().map(|c| Value::String(c.to_string()))).collect();
        records.push(Record::new(Location::Line(line), fields));
    }
    if records.is_empty() {
        return Err(malformed(Location::File, "no rows after the header".into()));
    }
    Ok(records)
}

/// The column names a CSV/TSV file offers, for "no such column" errors.
pub fn columns(records: &[Record]) -> Vec<String> {
    match records.first().map(|r| &r.fields) {
        Some(Value::Object(pairs)) => pairs.iter().map(|(k, _)| k.clone()).collect(),
        _ => Vec::new(),
    }
}
