//! One record of an input file, before it is mapped to an [`Example`](crate::Example):
//! its fields as an ordered object and where it was found.

use std::fmt;

use super::Value;

/// Where a record sits in its file, in the file format's own terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// The whole file (a problem with no better place).
    File,
    /// A line of a text file, counted from 1 (JSONL, CSV/TSV; the header is line 1).
    Line(usize),
    /// A row of a Parquet file, counted from 1.
    Row(usize),
    /// An example of a BIG-bench `task.json`, counted from 1.
    Example(usize),
    /// A paragraph of a SQuAD file: article and paragraph, counted from 1
    /// (paragraph 0: the article itself).
    Paragraph { article: usize, paragraph: usize },
    /// A question of a SQuAD file, counted from 1 in file order, with its `id`.
    Question { index: usize, id: String },
    /// A file inside a folder import, relative to the folder.
    Member(String),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File => write!(f, "whole file"),
            Location::Line(n) => write!(f, "line {n}"),
            Location::Row(n) => write!(f, "row {n}"),
            Location::Example(n) => write!(f, "example {n}"),
            Location::Paragraph { article, paragraph: 0 } => write!(f, "article {article}"),
            Location::Paragraph { article, paragraph } => write!(f, "article {article}, paragraph {paragraph}"),
            Location::Question { index, id } if id.is_empty() => write!(f, "question {index}"),
            Location::Question { index, id } => write!(f, "question {index} (id {id})"),
            Location::Member(m) => write!(f, "file {m}"),
        }
    }
}

/// A record: named fields and where it came from. Readers may attach a
/// per-field problem they found while deriving a field (a BIG-bench
/// `target_scores` with a tie has no `label`); it is reported only if the
/// field mapping asks for that field.
#[derive(Debug, Clone)]
pub struct Record {
    pub at: Location,
    /// Always a [`Value::Object`].
    pub fields: Value,
    pub problems: Vec<(String, String)>,
}

impl Record {
    /// A record with the given fields (an object).
    pub fn new(at: Location, fields: Vec<(String, Value)>) -> Self {
        Self { at, fields: Value::Object(fields), problems: Vec::new() }
    }

    /// The value at `path` (see [`Value::path`]).
    pub fn get(&self, path: &str) -> Option<&Value> {
        self.fields.path(path)
    }

    /// Why `field` could not be derived, if a reader said so.
    pub fn problem(&self, field: &str) -> Option<&str> {
        self.problems.iter().find(|(f, _)| f == field).map(|(_, m)| m.as_str())
    }
}
