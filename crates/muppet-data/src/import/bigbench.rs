//! BIG-bench `task.json`: `{"examples": [{"input", "target_scores": {choice:
//! score}} | {"input", "target": str | [str]}]}`. One record per example.

use std::path::Path;

use super::{Location, Record, Value};
use crate::DataError;

/// Every example of the file, in file order, with the derived fields
/// `target`, `targets`, `choices` and `label` (see [`super::Format::Bigbench`]).
pub fn read(path: &Path, text: &str) -> Result<Vec<Record>, DataError> {
    let file_err = |message: String| DataError::Malformed { path: path.to_path_buf(), at: Location::File, message };
    if text.trim().is_empty() {
        return Err(file_err("the file is empty: expected a BIG-bench task.json ({\"examples\": [...]})".into()));
    }
    let root = Value::from_json(text).map_err(|e| file_err(format!("not valid JSON: {e}")))?;
    let field_err = |at: Location, field: &str, message: String| DataError::Field { path: path.to_path_buf(), at, field: field.into(), message };
    let examples = match root.get("examples") {
        Some(Value::Array(items)) => items,
        Some(other) => return Err(field_err(Location::File, "examples", format!("expected a list, found {}", other.kind()))),
        None => return Err(field_err(Location::File, "examples", "missing: a BIG-bench task.json is {\"examples\": [...]}".into())),
    };
    let mut records = Vec::with_capacity(examples.len());
    for (i, example) in examples.iter().enumerate() {
        let at = Location::Example(i + 1);
        let Value::Object(fields) = example else {
            return Err(DataError::Malformed { path: path.to_path_buf(), at, message: format!("expected an example object, found {}", example.kind()) });
        };
        let mut record = Record::new(at.clone(), fields.clone());
        let targets = match example.get("target") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        Value::String(s) => out.push(s.clone()),
                        other => return Err(field_err(at, "target", format!("expected strings in the list, found {}", other.kind()))),
                    }
                }
                out
            }
            Some(other) => return Err(field_err(at, "target", format!("expected a string or a list of strings, found {}", other.kind()))),
        };
        let scores = match example.get("target_scores") {
            None | Some(Value::Null) => None,
            Some(Value::Object(pairs)) => {
                let mut out = Vec::with_capacity(pairs.len());
                for (choice, score) in pairs {
                    match score {
                        Value::Int(_) | Value::Float(_) | Value::Bool(_) => {
                            let s = match score {
                                Value::Bool(b) => f64::from(u8::from(*b)),
                                v => v.as_f64().unwrap_or(f64::NAN),
                            };
                            out.push((choice.clone(), s));
                        }
                        other => {
                            return Err(field_err(at, &format!("target_scores.{choice}"), format!("expected a number, found {}", other.kind())));
                        }
                    }
                }
                Some(out)
            }
            Some(other) => return Err(field_err(at, "target_scores", format!("expected an object {{choice: score}}, found {}", other.kind()))),
        };
        if targets.is_empty() && scores.as_ref().is_none_or(|s| s.is_empty()) {
            return Err(field_err(
                at,
                "target_scores",
                "the example has neither `target` nor `target_scores`: every BIG-bench example needs one of them".into(),
            ));
        }
        if let Some(first) = targets.first() {
            record.fields.set("target", Value::String(first.clone()));
        }
        record.fields.set("targets", Value::Array(targets.iter().cloned().map(Value::String).collect()));
        match scores {
            Some(scores) if !scores.is_empty() => {
                record.fields.set("choices", Value::Array(scores.iter().map(|(c, _)| Value::String(c.clone())).collect()));
                let best = scores.iter().map(|(_, s)| *s).fold(f64::NEG_INFINITY, f64::max);
                let top: Vec<&str> = scores.iter().filter(|(_, s)| *s == best).map(|(c, _)| c.as_str()).collect();
                if top.len() == 1 {
                    record.fields.set("label", Value::String(top[0].to_string()));
                } else {
                    record.problems.push((
                        "label".into(),
                        format!("`target_scores` has no single best choice: {} share the top score {best}", top.join(", ")),
                    ));
                }
            }
            _ => {
                if let Some(first) = targets.first() {
                    record.fields.set("label", Value::String(first.clone()));
                }
            }
        }
        records.push(record);
    }
    if records.is_empty() {
        return Err(field_err(Location::File, "examples", "the list is empty".into()));
    }
    Ok(records)
}
