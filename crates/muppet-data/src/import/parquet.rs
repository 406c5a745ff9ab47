//! Apache Parquet through the crate's row API (no Arrow). Each row is a
//! record; nested groups, lists and maps become objects and arrays.

use std::path::Path;

use bytes::Bytes;

use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::{Field, Row};

use super::{Location, Record, Value};
use crate::DataError;

/// Every row of the file (its bytes `data`), numbered from 1.
///
/// The Parquet decoder is third-party code fed with user files; a panic inside
/// it (a malformed file it does not anticipate) is caught and reported as a
/// malformed file rather than taking the process down.
pub fn read(path: &Path, data: Vec<u8>) -> Result<Vec<Record>, DataError> {
    let owned = path.to_path_buf();
    let data = Bytes::from(data);
    match std::panic::catch_unwind(move || read_rows(&owned, data)) {
        Ok(result) => result,
        Err(_) => Err(DataError::Malformed {
            path: path.to_path_buf(),
            at: Location::File,
            message: "the Parquet decoder could not read this file (it is corrupt or uses an unsupported layout)".into(),
        }),
    }
}

fn read_rows(path: &Path, file: Bytes) -> Result<Vec<Record>, DataError> {
    let malformed = |at, message| DataError::Malformed { path: path.to_path_buf(), at, message };
    let reader = SerializedFileReader::new(file)
        .map_err(|e| malformed(Location::File, format!("not a readable Parquet file: {e}")))?;
    let rows = reader.get_row_iter(None).map_err(|e| malformed(Location::File, format!("cannot read rows: {e}")))?;
    let mut records = Vec::new();
    for (i, row) in rows.enumerate() {
        let at = Location::Row(i + 1);
        let row = row.map_err(|e| {
            let hint = if e.to_string().contains("codec") { "; rewrite it uncompressed or with Snappy" } else { "" };
            malformed(at.clone(), format!("cannot decode the row: {e}{hint}"))
        })?;
        records.push(Record::new(at, fields(&row)));
    }
    if records.is_empty() {
        return Err(malformed(Location::File, "the file has no rows".into()));
    }
    Ok(records)
}

fn fields(row: &Row) -> Vec<(String, Value)> {
    row.get_column_iter().map(|(name, field)| (name.clone(), value(field))).collect()
}

fn value(field: &Field) -> Value {
    match field {
        Field::Null => Value::Null,
        Field::Bool(b) => Value::Bool(*b),
        Field::Byte(v) => Value::Int(i64::from(*v)),
        Field::Short(v) => Value::Int(i64::from(*v)),
        Field::Int(v) => Value::Int(i64::from(*v)),
        Field::Long(v) => Value::Int(*v),
        Field::UByte(v) => Value::Int(i64::from(*v)),
        Field::UShort(v) => Value::Int(i64::from(*v)),
        Field::UInt(v) => Value::Int(i64::from(*v)),
        Field::ULong(v) => i64::try_from(*v).map(Value::Int).unwrap_or(Value::Float(*v as f64)),
        Field::Float(v) => Value::Float(f64::from(*v)),
        Field::Double(v) => Value::Float(*v),
        Field::Float16(v) => Value::Float(f64::from(f32::from(*v))),
        Field::Str(s) => Value::String(s.clone()),
        Field::Bytes(b) => match b.as_utf8() {
            Ok(s) => Value::String(s.to_string()),
            Err(_) => Value::String(field.to_string()),
        },
        Field::Group(row) => Value::Object(fields(row)),
        Field::ListInternal(list) => Value::Array(list.elements().iter().map(value).collect()),
        Field::MapInternal(map) => Value::Object(
            map.entries().iter().map(|(k, v)| (value(k).scalar_text().unwrap_or_else(|| k.to_string()), value(v))).collect(),
        ),
        other => Value::String(other.to_string()),
    }
}

/// The class names of `ClassLabel` columns, as Hugging Face `datasets` records them in a
/// Parquet file's key-value metadata (`huggingface`: `{"info": {"features": {"label":
/// {"_type": "ClassLabel", "names": [...]}}}}`): the integer in such a column is an index
/// into its names. Empty when the file has no such metadata (or is not plain Parquet).
pub fn class_labels(path: &Path) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut out = std::collections::BTreeMap::new();
    let Ok(file) = std::fs::File::open(path) else { return out };
    // The footer only; a file the decoder cannot read has no class names to give.
    let Ok(Ok(reader)) = std::panic::catch_unwind(|| SerializedFileReader::new(file)) else { return out };
    let metadata = reader.metadata().file_metadata().key_value_metadata();
    let Some(text) = metadata.and_then(|kv| kv.iter().find(|k| k.key == "huggingface")).and_then(|k| k.value.as_deref()) else {
        return out;
    };
    let Ok(json) = serde_json::from_str::<serde_json::Value>(text) else { return out };
    let Some(features) = json["info"]["features"].as_object() else { return out };
    for (column, feature) in features {
        if feature["_type"] == "ClassLabel"
            && let Some(names) = feature["names"].as_array()
            && let Some(names) = names.iter().map(|n| n.as_str().map(str::to_string)).collect::<Option<Vec<_>>>()
        {
            out.insert(column.clone(), names);
        }
    }
    out
}
