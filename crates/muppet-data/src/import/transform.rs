//! Small rewrites of a record before the field map reads it, for sources whose
//! fields are packed together (BIG-bench inputs that hold a passage and a
//! question) or spelled differently from the labels we want.

use serde::{Deserialize, Serialize};

use super::{Record, Value};

/// One rewrite of a record. Each names the field it reads, so that its error
/// names the field too.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Transform {
    /// Split the string `field` at the first `sep` into `before` and `after`
    /// (the separator itself is dropped). A missing separator is an error.
    Split { field: String, sep: String, before: String, after: String },
    /// Remove `prefix` from the start of the string `field` where it is there.
    StripPrefix { field: String, prefix: String },
    /// Remove `suffix` from the end of the string `field` (or of each string of
    /// the list `field`) where it is there.
    StripSuffix { field: String, suffix: String },
    /// Replace the scalar value of `field` by its mapping in `map`; values not
    /// in the map are kept.
    Map { field: String, map: Vec<(String, String)> },
    /// Leave out the whole record when the scalar `field` is one of `values`.
    Drop { field: String, values: Vec<String> },
    /// Set `into` to the strings (or numbers) of `fields` joined with `sep`
    /// (SuperGLUE WiC: the target word before its sentence).
    Join { fields: Vec<String>, sep: String, into: String },
    /// Replace the scalar `field` by its position (an integer) in `values`
    /// (an answer given as `A`..`D`, or 1-based as `1`..`3`). A value not
    /// among them is an error.
    Index { field: String, values: Vec<String> },
    /// Replace the scalar `field` by its position (an integer) in the record's
    /// own list `list` (an answer key `B` among the choice keys `choices.label`,
    /// which are `A`..`E` in some records and `1`..`4` in others).
    IndexIn { field: String, list: String },
}

/// What a transform made of a record.
pub enum Outcome {
    Keep,
    /// The record is left out on purpose (not an error).
    Dropped,
}

impl Transform {
    /// Apply to `record`; an error is `(field, message)`.
    pub fn apply(&self, record: &mut Record) -> Result<Outcome, (String, String)> {
        match self {
            Transform::Split { field, sep, before, after } => {
                let text = string(record, field)?;
                let Some((a, b)) = text.split_once(sep.as_str()) else {
                    return Err((field.clone(), format!("expected the separator {sep:?} in the text, it is not there")));
                };
                let (a, b) = (a.to_string(), b.to_string());
                record.fields.set(before, Value::String(a));
                record.fields.set(after, Value::String(b));
            }
            Transform::StripPrefix { field, prefix } => {
                let text = string(record, field)?;
                if let Some(rest) = text.strip_prefix(prefix.as_str()) {
                    let rest = rest.to_string();
                    record.fields.set(field, Value::String(rest));
                }
            }
            Transform::StripSuffix { field, suffix } => {
                let strip = |s: &str| s.strip_suffix(suffix.as_str()).unwrap_or(s).to_string();
                let new = match record.get(field) {
                    Some(Value::String(s)) => Value::String(strip(s)),
                    Some(Value::Array(items)) => Value::Array(
                        items.iter().map(|v| v.as_str().map(|s| Value::String(strip(s))).unwrap_or_else(|| v.clone())).collect(),
                    ),
                    Some(other) => return Err((field.clone(), format!("expected a string or a list of strings, found {}", other.kind()))),
                    None => return Err((field.clone(), "missing".into())),
                };
                record.fields.set(field, new);
            }
            Transform::Map { field, map } => {
                let value = scalar(record, field)?;
                if let Some((_, to)) = map.iter().find(|(from, _)| *from == value) {
                    record.fields.set(field, Value::String(to.clone()));
                }
            }
            Transform::Drop { field, values } => {
                let value = scalar(record, field)?;
                if values.contains(&value) {
                    return Ok(Outcome::Dropped);
                }
            }
            Transform::Join { fields, sep, into } => {
                let parts = fields.iter().map(|f| scalar(record, f)).collect::<Result<Vec<_>, _>>()?;
                record.fields.set(into, Value::String(parts.join(sep)));
            }
            Transform::Index { field, values } => {
                let value = scalar(record, field)?;
                let Some(k) = values.iter().position(|v| *v == value.trim()) else {
                    return Err((field.clone(), format!("{value:?} is not one of {}", values.join(", "))));
                };
                record.fields.set(field, Value::Int(k as i64));
            }
            Transform::IndexIn { field, list } => {
                let value = scalar(record, field)?;
                let keys: Vec<String> = match record.get(list) {
                    Some(Value::Array(items)) => items.iter().map(|v| v.scalar_text().unwrap_or_default()).collect(),
                    Some(other) => return Err((list.clone(), format!("expected a list, found {}", other.kind()))),
                    None => return Err((list.clone(), "missing".into())),
                };
                let Some(k) = keys.iter().position(|v| v.trim() == value.trim()) else {
                    return Err((field.clone(), format!("{value:?} is not one of the keys in `{list}` ({})", keys.join(", "))));
                };
                record.fields.set(field, Value::Int(k as i64));
            }
        }
        Ok(Outcome::Keep)
    }
}

fn string<'r>(record: &'r Record, field: &str) -> Result<&'r str, (String, String)> {
    match record.get(field) {
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err((field.to_string(), format!("expected a string, found {}", other.kind()))),
        None => Err((field.to_string(), "missing".into())),
    }
}

fn scalar(record: &Record, field: &str) -> Result<String, (String, String)> {
    match record.get(field) {
        Some(v) => v.scalar_text().ok_or_else(|| (field.to_string(), format!("expected a string or a number, found {}", v.kind()))),
        None => Err((field.to_string(), "missing".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::Location;

    fn rec(input: &str) -> Record {
        Record::new(Location::Line(1), vec![("input".into(), Value::String(input.into()))])
    }

    #[test]
    fn split_strip_map_and_drop() {
        let mut r = rec("Passage: P here\nQuestion: Q?");
        let split = Transform::Split { field: "input".into(), sep: "\nQuestion:".into(), before: "p".into(), after: "q".into() };
        assert!(matches!(split.apply(&mut r), Ok(Outcome::Keep)));
        Transform::StripPrefix { field: "p".into(), prefix: "Passage: ".into() }.apply(&mut r).ok();
        assert_eq!(r.get("p").and_then(Value::as_str), Some("P here"));
        assert_eq!(r.get("q").and_then(Value::as_str), Some(" Q?"));

        let mut bad = rec("no separator");
        let (field, msg) = split.apply(&mut bad).err().expect("error");
        assert_eq!(field, "input");
        assert!(msg.contains("\\nQuestion:"), "{msg}");

        let mut r = rec("1");
        Transform::Map { field: "input".into(), map: vec![("1".into(), "yes".into())] }.apply(&mut r).ok();
        assert_eq!(r.get("input").and_then(Value::as_str), Some("yes"));
        let drop = Transform::Drop { field: "input".into(), values: vec!["yes".into()] };
        assert!(matches!(drop.apply(&mut r), Ok(Outcome::Dropped)));
    }

    #[test]
    fn join_and_answer_keys_to_indices() {
        let mut r = Record::new(
            Location::Row(1),
            vec![
                ("word".into(), Value::String("bank".into())),
                ("s1".into(), Value::String("The river bank.".into())),
                ("key".into(), Value::String("C".into())),
                ("keys".into(), Value::Array(["1", "2", "3", "4"].map(|k| Value::String(k.into())).to_vec())),
                ("num".into(), Value::String("3".into())),
            ],
        );
        Transform::Join { fields: vec!["word".into(), "s1".into()], sep: ": ".into(), into: "text".into() }.apply(&mut r).ok();
        assert_eq!(r.get("text").and_then(Value::as_str), Some("bank: The river bank."));
        let letters = Transform::Index { field: "key".into(), values: ["A", "B", "C", "D"].map(String::from).to_vec() };
        assert!(matches!(letters.apply(&mut r), Ok(Outcome::Keep)));
        assert_eq!(r.get("key"), Some(&Value::Int(2)));
        // The key is looked up among the record's own keys: "3" is the third of 1..4.
        Transform::IndexIn { field: "num".into(), list: "keys".into() }.apply(&mut r).ok();
        assert_eq!(r.get("num"), Some(&Value::Int(2)));
        let (field, msg) = Transform::IndexIn { field: "word".into(), list: "keys".into() }.apply(&mut r).err().expect("not a key");
        assert_eq!(field, "word");
        assert!(msg.contains("\"bank\" is not one of the keys in `keys` (1, 2, 3, 4)"), "{msg}");
        assert!(Transform::Index { field: "word".into(), values: vec!["x".into()] }.apply(&mut r).is_err());
    }
}
