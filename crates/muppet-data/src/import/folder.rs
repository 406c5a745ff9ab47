//! A folder with one sub-folder per class: `<dir>/<label>/<file>`. Files are
//! read in sorted order so the result does not depend on the file system.

use std::fs;
use std::path::Path;

use super::{source, Encoding, Location, Record, Value};
use crate::DataError;

/// Every `.txt` or `.json` file one level below the sub-folders of `dir`.
pub fn read(dir: &Path, encoding: Encoding) -> Result<Vec<Record>, DataError> {
    let malformed = |at, message| DataError::Malformed { path: dir.to_path_buf(), at, message };
    if !dir.is_dir() {
        return Err(malformed(Location::File, "not a folder: the folder format reads <folder>/<label>/<file>.txt|.json".into()));
    }
    let mut records = Vec::new();
    for sub in sorted_entries(dir)? {
        if !sub.is_dir() {
            continue;
        }
        let folder = sub.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        for file in sorted_entries(&sub)? {
            let ext = file.extension().map(|e| e.to_string_lossy().to_lowercase()).unwrap_or_default();
            if !file.is_file() || !(ext == "txt" || ext == "json") {
                continue;
            }
            let rel = format!("{folder}/{}", file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
            let at = Location::Member(rel.clone());
            let text = source::read_text(&file, encoding)?;
            let mut fields = if ext == "json" {
                match Value::from_json(&text) {
                    Ok(Value::Object(fields)) => fields,
                    Ok(other) => return Err(malformed(at, format!("expected a JSON object, found {}", other.kind()))),
                    Err(e) => return Err(malformed(at, format!("not valid JSON: {e}"))),
                }
            } else {
                vec![("text".to_string(), Value::String(text))]
            };
            fields.push(("folder".into(), Value::String(folder.clone())));
            fields.push(("file".into(), Value::String(rel)));
            records.push(Record::new(at, fields));
        }
    }
    if records.is_empty() {
        return Err(malformed(Location::File, "no .txt or .json files in sub-folders: expected <folder>/<label>/<file>".into()));
    }
    Ok(records)
}

fn sorted_entries(dir: &Path) -> Result<Vec<std::path::PathBuf>, DataError> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(DataError::io(dir))? {
        out.push(entry.map_err(DataError::io(dir))?.path());
    }
    out.sort();
    Ok(out)
}
