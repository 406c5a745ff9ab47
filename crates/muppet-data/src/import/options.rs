//! What an import is asked to do: the file format, which fields hold what
//! (the [`FieldMap`]), the family that decides the example shape, and the
//! policies for labels, bad records and duplicates.

use std::str::FromStr;

use muppet_core::TaskFamily;
use serde::{Deserialize, Serialize};

use super::Transform;

/// An input file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// One JSON object per line.
    Jsonl,
    /// Comma-separated, RFC 4180 quoting, a header line unless told otherwise.
    Csv,
    /// Tab-separated, no quoting (a `"` is an ordinary character), a header line unless told otherwise.
    Tsv,
    /// Apache Parquet; each row is a record, each column a field.
    Parquet,
    /// SQuAD v1.1 JSON: one record per question, with fields `id`, `title`,
    /// `question`, `context`, `answer_text` and `answer_start` (arrays, one per answer).
    Squad,
    /// BIG-bench `task.json`: one record per example, with fields `input`,
    /// `target` (the first target), `targets` (all of them), and where the
    /// example has `target_scores`, `choices` (its keys in file order) and
    /// `label` (the key with the highest score).
    Bigbench,
    /// A folder with one sub-folder per class (`<dir>/<label>/<file>`). Each
    /// `.txt` file is a record with fields `text`, `folder` (its sub-folder)
    /// and `file`; each `.json` file is its own object plus `folder` and `file`.
    Folder,
}

impl Format {
    pub const ALL: [Format; 7] =
        [Format::Jsonl, Format::Csv, Format::Tsv, Format::Parquet, Format::Squad, Format::Bigbench, Format::Folder];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Jsonl => "jsonl",
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Parquet => "parquet",
            Format::Squad => "squad",
            Format::Bigbench => "bigbench",
            Format::Folder => "folder",
        }
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| format!("unknown format `{s}`: expected one of jsonl, csv, tsv, parquet, squad, bigbench, folder"))
    }
}

/// The character encoding of a text file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    /// UTF-8 (a leading byte-order mark is skipped). Invalid bytes are an error.
    #[default]
    Utf8,
    /// ISO-8859-1: every byte is a character.
    Latin1,
    /// UTF-8, except that a file which is not valid UTF-8 is read as Latin-1
    /// (for folders of files collected from several sources).
    Auto,
}

impl FromStr for Encoding {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().replace(['-', '_'], "").as_str() {
            "utf8" => Ok(Encoding::Utf8),
            "latin1" | "iso88591" => Ok(Encoding::Latin1),
            "auto" => Ok(Encoding::Auto),
            _ => Err(format!("unknown encoding `{s}`: expected utf8, latin1 or auto")),
        }
    }
}

/// Which field of a record holds what: the task spec's own field map (see
/// [`muppet_core::FieldMap`]); [`resolve`] fills in the family's defaults.
pub use muppet_core::FieldMap;

/// A field map with every field the family needs filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    pub text: Option<String>,
    pub text_b: Option<String>,
    pub label: Option<String>,
    pub question: Option<String>,
    pub choices: Vec<String>,
    pub context: Option<String>,
    pub answer_start: Option<String>,
    pub answer_text: Option<String>,
    pub target: Option<String>,
}

impl Resolved {
    /// The resolved fields as a field map, recorded in the task spec.
    pub fn to_field_map(&self) -> FieldMap {
        FieldMap {
            text: self.text.clone(),
            text_b: self.text_b.clone(),
            label: self.label.clone(),
            question: self.question.clone(),
            choices: (!self.choices.is_empty()).then(|| self.choices.join(",")),
            context: self.context.clone(),
            answer_start: self.answer_start.clone(),
            answer_text: self.answer_text.clone(),
            target: self.target.clone(),
        }
    }
}

/// Fill the fields `family` needs with the defaults of `format`.
///
/// | family | needs | defaults (BIG-bench; SQuAD; others) |
/// |---|---|---|
/// | single | text, label | `input`, `label`; -; `text`, `label` |
/// | pair | text, text_b, label | `text`, `text_b`, `label` |
/// | regression | text, label (text_b optional) | `text`, `label` |
/// | mc | text or question, choices, label | `input`, `choices`, `label`; -; `question`, `choices`, `label` |
/// | span | question, context, answer_text (answer_start optional) | -; `question`, `context`, `answer_text`, `answer_start`; same names |
/// | generation | text, target | `input`, `target`; -; `text`, `target` |
pub fn resolve(fields: &FieldMap, family: TaskFamily, format: Format) -> Resolved {
    let or = |f: &Option<String>, d: &str| Some(f.clone().unwrap_or_else(|| d.to_string()));
    let text_default = if format == Format::Bigbench { "input" } else { "text" };
    let choices = |f: &Option<String>| {
        f.as_deref().unwrap_or("choices").split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
    };
    let none = Resolved {
        text: None,
        text_b: None,
        label: None,
        question: None,
        choices: Vec::new(),
        context: None,
        answer_start: None,
        answer_text: None,
        target: None,
    };
    match family {
        TaskFamily::Single => Resolved { text: or(&fields.text, text_default), label: or(&fields.label, "label"), ..none },
        TaskFamily::Pair | TaskFamily::Regression => Resolved {
            text: or(&fields.text, text_default),
            text_b: if family == TaskFamily::Pair { or(&fields.text_b, "text_b") } else { fields.text_b.clone() },
            label: or(&fields.label, "label"),
            ..none
        },
        TaskFamily::MultipleChoice => {
            let (text, question) = match (&fields.text, &fields.question, format) {
                (Some(t), _, _) => (Some(t.clone()), None),
                (None, Some(q), _) => (None, Some(q.clone())),
                (None, None, Format::Bigbench) => (Some("input".to_string()), None),
                (None, None, _) => (None, Some("question".to_string())),
            };
            Resolved {
                text,
                label: or(&fields.label, "label"),
                question,
                choices: choices(&fields.choices),
                context: fields.context.clone(),
                ..none
            }
        }
        TaskFamily::Span => Resolved {
            question: or(&fields.question, "question"),
            context: or(&fields.context, "context"),
            answer_start: match (&fields.answer_start, format) {
                (Some(f), _) => Some(f.clone()),
                (None, Format::Squad) => Some("answer_start".into()),
                (None, _) => None,
            },
            answer_text: or(&fields.answer_text, if format == Format::Bigbench { "targets" } else { "answer_text" }),
            ..none
        },
        TaskFamily::Generation => Resolved { text: or(&fields.text, text_default), target: or(&fields.target, "target"), ..none },
    }
}

/// What to do with a record that cannot become a valid example.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnInvalid {
    /// Stop with an error naming the file, the record and the field (the default:
    /// nothing is imported from a file with a bad record).
    #[default]
    Fail,
    /// Leave the record out and count it (used by catalog recipes whose source
    /// is known to hold a few unusable records; the count is checked by a test).
    Skip,
}

/// Everything an import needs besides the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportOptions {
    /// The task's name.
    pub name: String,
    pub family: TaskFamily,
    pub format: Format,
    pub fields: FieldMap,
    /// Class labels in index order. `None`: collected in first-seen order.
    /// When set, a label outside the set is an error.
    pub labels: Option<Vec<String>>,
    pub encoding: Encoding,
    /// CSV/TSV: whether line 1 names the columns. Without a header the
    /// columns are named `1`, `2`, ... (counted from 1).
    pub header: bool,
    /// Applied in order to each record before the field map reads it.
    pub transforms: Vec<Transform>,
    pub on_invalid: OnInvalid,
    /// Span tasks: answers whose text has surrounding spaces, or whose offset
    /// is off by a few characters, are moved to where the text really is
    /// (within 16 characters); an answer not found there is dropped, and a
    /// question left with none is invalid. Off: any mismatch is invalid.
    pub repair_spans: bool,
    /// Drop exact duplicates (same texts, choices and target), keeping the first.
    pub dedup: bool,
    /// The task's own train/dev split, recorded in its spec (unset: the run's).
    #[serde(default)]
    pub split: muppet_core::SplitPolicy,
    /// Where the data came from, recorded in the task spec.
    pub source: String,
    pub license: String,
}

impl ImportOptions {
    /// Options with defaults: UTF-8, a header, no transforms, fail on bad
    /// records, no span repair, duplicates dropped.
    pub fn new(name: impl Into<String>, family: TaskFamily, format: Format) -> Self {
        Self {
            name: name.into(),
            family,
            format,
            fields: FieldMap::default(),
            labels: None,
            encoding: Encoding::Utf8,
            header: true,
            transforms: Vec::new(),
            on_invalid: OnInvalid::Fail,
            repair_spans: false,
            split: muppet_core::SplitPolicy::default(),
            dedup: true,
            source: String::new(),
            license: String::new(),
        }
    }
}
