//! A JSON value that keeps the order of object keys as written.
//!
//! `serde_json::Value` sorts keys (without its `preserve_order` feature, which
//! would change JSON output across the whole workspace). Order matters here:
//! the choices of a BIG-bench example are the keys of `target_scores`, and
//! their order is the order the answer index refers to.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// A JSON (or Parquet, or CSV cell) value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    /// A number, kept as written where it is an integer.
    Int(i64),
    Float(f64),
    String(String),
    Array(Vec<Value>),
    /// Key/value pairs in file order.
    Object(Vec<(String, Value)>),
}

impl Value {
    /// What kind of value this is, for error messages ("a string", "an array" ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) | Value::Float(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        }
    }

    /// The value of `key` in an object.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(pairs) => pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Follow a dotted path: object keys, and array indices (negative from the end),
    /// e.g. `input.-1.content` is the content of the last element of `input`.
    pub fn path(&self, path: &str) -> Option<&Value> {
        if let Some(v) = self.get(path) {
            return Some(v);
        }
        let mut cur = self;
        for seg in path.split('.') {
            cur = match cur {
                Value::Object(_) => cur.get(seg)?,
                Value::Array(items) => {
                    let i: i64 = seg.parse().ok()?;
                    let i = if i < 0 { items.len() as i64 + i } else { i };
                    items.get(usize::try_from(i).ok()?)?
                }
                _ => return None,
            };
        }
        Some(cur)
    }

    /// Set `key` in an object (replacing it, or appending it); no effect on other values.
    pub fn set(&mut self, key: &str, value: Value) {
        if let Value::Object(pairs) = self {
            match pairs.iter_mut().find(|(k, _)| k == key) {
                Some(slot) => slot.1 = value,
                None => pairs.push((key.to_string(), value)),
            }
        }
    }

    /// The string inside, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// A scalar written as text: strings as they are, numbers and booleans in
    /// their JSON spelling. `None` for null, arrays and objects.
    pub fn scalar_text(&self) -> Option<String> {
        match self {
            Value::String(s) => Some(s.clone()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => Some(format!("{}", *f as i64)),
            Value::Float(f) => Some(f.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// A number, or a string holding one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// Parse JSON text, keeping key order.
    pub fn from_json(text: &str) -> Result<Value, serde_json::Error> {
        serde_json::from_str(text)
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(i64::try_from(v).map(Value::Int).unwrap_or(Value::Float(v as f64)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(v) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut pairs: Vec<(String, Value)> = Vec::with_capacity(map.size_hint().unwrap_or(0).min(4096));
        while let Some((k, v)) = map.next_entry::<String, Value>()? {
            // A repeated key keeps its last value, as most JSON readers do.
            match pairs.iter_mut().find(|(key, _)| *key == k) {
                Some(slot) => slot.1 = v,
                None => pairs.push((k, v)),
            }
        }
        Ok(Value::Object(pairs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_key_order_and_follows_paths() {
        let v = Value::from_json(r#"{"b": 1, "a": {"z": 2, "y": [10, 20, {"c": "x"}]}}"#).expect("json");
        let Value::Object(pairs) = &v else { panic!("object") };
        assert_eq!(pairs[0].0, "b");
        let Some(Value::Object(inner)) = v.get("a") else { panic!("a") };
        assert_eq!(inner.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), ["z", "y"]);
        assert_eq!(v.path("a.y.1"), Some(&Value::Int(20)));
        assert_eq!(v.path("a.y.-1.c").and_then(Value::as_str), Some("x"));
        assert_eq!(v.path("a.y.3"), None);
        assert_eq!(v.path("a.y.-4"), None);
        assert_eq!(Value::Float(2.0).scalar_text().as_deref(), Some("2"));
        assert_eq!(Value::String(" 1.5".into()).as_f64(), Some(1.5));
    }
}
