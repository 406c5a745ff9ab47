//! From records to examples: the field map and the family decide the shape
//! (see the table on [`Example`]); labels are collected or checked; every
//! example passes [`Example::check`]; exact duplicates are dropped.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use muppet_core::{TaskFamily, TaskSpec};

use super::options::Resolved;
use super::transform::Outcome;
use super::{ImportOptions, Location, Record, Value};
use crate::{Answer, DataError, Example, LabeledTask};

/// A task read from files, with what was left out on the way.
#[derive(Debug, Clone)]
pub struct Imported {
    pub task: LabeledTask,
    /// Records read from the files.
    pub records: usize,
    /// Records a `Drop` transform left out on purpose.
    pub dropped: usize,
    /// Invalid records left out under [`super::OnInvalid::Skip`].
    pub skipped: usize,
    /// The first few reasons for skipping, as full error messages.
    pub skip_reasons: Vec<String>,
    /// Exact duplicates left out (same texts, choices and target).
    pub duplicates: usize,
    /// Span answers moved to where their text really is (see `repair_spans`).
    pub repaired_answers: usize,
    /// Span answers dropped because their text was not near their offset.
    pub dropped_answers: usize,
}

impl Imported {
    /// How a local file was imported, as stored with the task: the file, the options and
    /// the counts.
    pub fn description(&self, opts: &super::ImportOptions) -> serde_json::Value {
        serde_json::json!({
            "file": opts.source,
            "options": opts,
            "records": self.records,
            "duplicates": self.duplicates,
            "skipped": self.skipped,
        })
    }
}

/// One field of one record is wrong: `(field, message)`.
type FieldError = (String, String);

/// Where a label index comes from.
enum Labels {
    Declared(HashMap<String, usize>, Vec<String>),
    Collected(HashMap<String, usize>, Vec<String>),
}

impl Labels {
    fn index(&mut self, label: &str) -> Result<usize, String> {
        match self {
            Labels::Declared(map, names) => map.get(label).copied().ok_or_else(|| {
                // Hugging Face `datasets` marks an unlabeled example (a test split with its
                // labels withheld) with the class -1.
                let unlabeled = if label == "-1" { " (-1 is how Hugging Face datasets mark an unlabeled example: test splits often withhold their labels, so import a labeled split)" } else { "" };
                format!("the label {label:?} is not one of the declared labels ({}){unlabeled}: add it to the labels or fix the record", names.join(", "))
            }),
            Labels::Collected(map, names) => Ok(*map.entry(label.to_string()).or_insert_with(|| {
                names.push(label.to_string());
                names.len() - 1
            })),
        }
    }
    fn names(self) -> Vec<String> {
        match self {
            Labels::Declared(_, n) | Labels::Collected(_, n) => n,
        }
    }
}

#[derive(Default)]
struct SpanStats {
    repaired: usize,
    dropped: usize,
}

/// Map the records of each file (`files[i]` read from `paths[i]`) to one task.
pub fn build(paths: &[&Path], files: Vec<Vec<Record>>, opts: &ImportOptions) -> Result<Imported, DataError> {
    let fields = super::resolve(&opts.fields, opts.family, opts.format);
    if matches!(opts.format, super::Format::Csv | super::Format::Tsv) {
        for (path, records) in paths.iter().zip(&files) {
            check_columns(path, records, &fields, opts)?;
        }
    }
    let Some(first_path) = paths.first() else {
        return Err(DataError::Options("no input file given".into()));
    };
    let mut labels = match &opts.labels {
        Some(names) => {
            let mut map = HashMap::new();
            for (i, n) in names.iter().enumerate() {
                if map.insert(n.clone(), i).is_some() {
                    return Err(DataError::Options(format!("the label {n:?} is declared twice")));
                }
            }
            Labels::Declared(map, names.clone())
        }
        None => Labels::Collected(HashMap::new(), Vec::new()),
    };
    let n_records = files.iter().map(Vec::len).sum();
    let mut out = Imported {
        task: LabeledTask {
            spec: TaskSpec { fields: fields.to_field_map(), split: opts.split.clone(), ..TaskSpec::new(&opts.name, opts.family, Vec::new(), &opts.source, &opts.license) },
            examples: Vec::new(),
        },
        records: n_records,
        dropped: 0,
        skipped: 0,
        skip_reasons: Vec::new(),
        duplicates: 0,
        repaired_answers: 0,
        dropped_answers: 0,
    };
    let mut built: Vec<(&Path, Location, Example)> = Vec::with_capacity(n_records);
    let mut spans = SpanStats::default();
    for (path, mut record) in paths.iter().zip(files).flat_map(|(p, records)| records.into_iter().map(move |r| (*p, r))) {
        let result = transform(&mut record, opts).and_then(|keep| match keep {
            Outcome::Dropped => Ok(None),
            Outcome::Keep => example(&record, &fields, opts, &mut labels, &mut spans).map(Some),
        });
        match result {
            Ok(Some(ex)) => built.push((path, record.at, ex)),
            Ok(None) => out.dropped += 1,
            Err((field, message)) => {
                let err = DataError::Field { path: path.to_path_buf(), at: record.at, field, message };
                skip_or_fail(&mut out, opts, err)?;
            }
        }
    }
    out.repaired_answers = spans.repaired;
    out.dropped_answers = spans.dropped;
    out.task.spec.labels = labels.names();
    let check_field = match opts.family {
        TaskFamily::Single | TaskFamily::Pair | TaskFamily::Regression => "label",
        TaskFamily::MultipleChoice => "choices",
        TaskFamily::Span => "answer_start",
        TaskFamily::Generation => fields.target.as_deref().unwrap_or("target"),
    };
    let mut seen = HashSet::new();
    for (path, at, ex) in built {
        if let Err(message) = ex.check(&out.task.spec) {
            let err = DataError::Field { path: path.to_path_buf(), at, field: check_field.into(), message };
            skip_or_fail(&mut out, opts, err)?;
            continue;
        }
        if opts.dedup && !seen.insert(ex.canonical_json()) {
            out.duplicates += 1;
            continue;
        }
        out.task.examples.push(ex);
    }
    if out.task.examples.is_empty() {
        return Err(DataError::Malformed {
            path: first_path.to_path_buf(),
            at: Location::File,
            message: format!("no usable examples among {n_records} records"),
        });
    }
    Ok(out)
}

fn skip_or_fail(out: &mut Imported, opts: &ImportOptions, err: DataError) -> Result<(), DataError> {
    match opts.on_invalid {
        super::OnInvalid::Fail => Err(err),
        super::OnInvalid::Skip => {
            out.skipped += 1;
            if out.skip_reasons.len() < 5 {
                out.skip_reasons.push(err.to_string());
            }
            Ok(())
        }
    }
}

fn transform(record: &mut Record, opts: &ImportOptions) -> Result<Outcome, FieldError> {
    for t in &opts.transforms {
        if let Outcome::Dropped = t.apply(record)? {
            return Ok(Outcome::Dropped);
        }
    }
    Ok(Outcome::Keep)
}

/// CSV/TSV columns are the same for every row: a mapped column that is not in
/// the header is reported once, against the header.
fn check_columns(path: &Path, records: &[Record], fields: &Resolved, opts: &ImportOptions) -> Result<(), DataError> {
    let columns = super::delimited::columns(records);
    let made: Vec<&str> = opts
        .transforms
        .iter()
        .flat_map(|t| match t {
            super::Transform::Split { before, after, .. } => vec![before.as_str(), after.as_str()],
            super::Transform::Join { into, .. } => vec![into.as_str()],
            _ => Vec::new(),
        })
        .collect();
    let wanted = [
        &fields.text,
        &fields.text_b,
        &fields.label,
        &fields.question,
        &fields.context,
        &fields.answer_start,
        &fields.answer_text,
        &fields.target,
    ]
        .into_iter()
        .flatten()
        .chain(fields.choices.iter().filter(|_| opts.family == TaskFamily::MultipleChoice));
    for field in wanted {
        if !columns.iter().any(|c| c == field) && !made.contains(&field.as_str()) {
            let at = if opts.header { Location::Line(1) } else { Location::File };
            return Err(DataError::Field {
                path: path.to_path_buf(),
                at,
                field: field.clone(),
                message: format!("no such column; the columns are: {}. Map the right column with the field options", columns.join(", ")),
            });
        }
    }
    Ok(())
}

fn example(record: &Record, f: &Resolved, opts: &ImportOptions, labels: &mut Labels, spans: &mut SpanStats) -> Result<Example, FieldError> {
    match opts.family {
        TaskFamily::Single | TaskFamily::Pair => {
            let a = text(record, req(&f.text)?)?;
            let b = f.text_b.as_deref().map(|b| text(record, b)).transpose()?;
            let field = req(&f.label)?;
            let label = scalar(record, field)?;
            let index = labels.index(&label).map_err(|m| (field.to_string(), m))?;
            Ok(Example::class(a, b, index))
        }
        TaskFamily::Regression => {
            let a = text(record, req(&f.text)?)?;
            let b = f.text_b.as_deref().map(|b| text(record, b)).transpose()?;
            let field = req(&f.label)?;
            let v = get(record, field)?;
            let value = v.as_f64().ok_or_else(|| (field.to_string(), format!("expected a number, found {}", shown(v))))?;
            let value = value as f32;
            if !value.is_finite() {
                return Err((field.to_string(), format!("the value {value} is not a finite 32-bit number")));
            }
            Ok(Example::value(a, b, value))
        }
        TaskFamily::MultipleChoice => multiple_choice(record, f),
        TaskFamily::Span => span(record, f, opts.repair_spans, spans),
        TaskFamily::Generation => {
            let source = text(record, req(&f.text)?)?;
            let target = text(record, req(&f.target)?)?;
            Ok(Example::generation(source, target))
        }
    }
}

fn multiple_choice(record: &Record, f: &Resolved) -> Result<Example, FieldError> {
    let mut text_a = match (&f.text, &f.question) {
        (Some(t), _) => text(record, t)?,
        (None, Some(q)) => text(record, q)?,
        (None, None) => return Err(("question".into(), "no field is mapped to the question or text".into())),
    };
    if let Some(c) = &f.context {
        text_a = format!("{}\n{text_a}", text(record, c)?);
    }
    let mut choices = Vec::new();
    let choice_field = f.choices.join(",");
    if f.choices.len() == 1 {
        let field = &f.choices[0];
        let v = get(record, field)?;
        let items = match v {
            Value::Array(items) => items.clone(),
            Value::String(s) if s.trim_start().starts_with('[') => match Value::from_json(s) {
                Ok(Value::Array(items)) => items,
                _ => return Err((field.clone(), "expected a JSON list of choices".into())),
            },
            other => return Err((field.clone(), format!("expected a list of choices, found {}", shown(other)))),
        };
        for (k, item) in items.iter().enumerate() {
            let c = item.scalar_text().ok_or_else(|| (format!("{field}[{k}]"), format!("expected a string, found {}", item.kind())))?;
            choices.push(c.trim().to_string());
        }
    } else {
        for field in &f.choices {
            choices.push(scalar(record, field)?.trim().to_string());
        }
    }
    if choices.len() < 2 {
        return Err((choice_field, format!("a multiple-choice example needs at least 2 choices, it has {}", choices.len())));
    }
    if let Some(k) = choices.iter().position(String::is_empty) {
        return Err((choice_field, format!("choice {k} is empty")));
    }
    let field = req(&f.label)?;
    let answer = match get(record, field)? {
        Value::Int(i) => usize::try_from(*i).ok().filter(|i| *i < choices.len()),
        v => {
            let s = v.scalar_text().unwrap_or_default();
            let s = s.trim();
            choices.iter().position(|c| c == s).or_else(|| s.parse::<usize>().ok().filter(|i| *i < choices.len()))
        }
    };
    let answer = answer.ok_or_else(|| {
        let v = get(record, field).map(shown).unwrap_or_default();
        (field.to_string(), format!("{v} is neither one of the {} choices nor an index below {}", choices.len(), choices.len()))
    })?;
    Ok(Example::choice(text_a, choices, answer))
}

fn span(record: &Record, f: &Resolved, repair: bool, stats: &mut SpanStats) -> Result<Example, FieldError> {
    let question = text(record, req(&f.question)?)?;
    let cfield = req(&f.context)?;
    let context = match get(record, cfield)? {
        Value::String(s) if !s.trim().is_empty() => s.clone(),
        Value::String(_) => return Err((cfield.to_string(), "the context is empty".into())),
        other => return Err((cfield.to_string(), format!("expected a string, found {}", shown(other)))),
    };
    let tfield = req(&f.answer_text)?;
    let texts: Vec<String> = match get(record, tfield)? {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(k, v)| v.as_str().map(str::to_string).ok_or_else(|| (format!("{tfield}[{k}]"), format!("expected a string, found {}", v.kind()))))
            .collect::<Result<_, _>>()?,
        other => return Err((tfield.to_string(), format!("expected a string or a list of strings, found {}", shown(other)))),
    };
    if texts.is_empty() {
        return Err((tfield.to_string(), "no answer: a span example needs at least one".into()));
    }
    let starts: Option<Vec<i64>> = match &f.answer_start {
        None => None,
        Some(sfield) => {
            let v = get(record, sfield)?;
            let list = match v {
                Value::Array(items) => items.clone(),
                other => vec![other.clone()],
            };
            let mut starts = Vec::with_capacity(list.len());
            for (k, item) in list.iter().enumerate() {
                let n = match item {
                    Value::Int(i) => Some(*i),
                    Value::String(s) => s.trim().parse().ok(),
                    _ => None,
                };
                match n {
                    Some(n) if n >= 0 => starts.push(n),
                    _ => return Err((indexed(sfield, k, list.len()), format!("expected a character offset (an integer >= 0), found {}", shown(item)))),
                }
            }
            if starts.len() != texts.len() {
                return Err((sfield.clone(), format!("{} offsets for {} answers: give one offset per answer", starts.len(), texts.len())));
            }
            Some(starts)
        }
    };
    let chars: Vec<char> = context.chars().collect();
    let mut answers = Vec::with_capacity(texts.len());
    for (k, raw) in texts.iter().enumerate() {
        let text = if repair { raw.trim() } else { raw.as_str() };
        let tf = indexed(tfield, k, texts.len());
        if text.is_empty() {
            return Err((tf, "the answer text is empty".into()));
        }
        let want: Vec<char> = text.chars().collect();
        let at = |s: usize| chars.get(s..s + want.len()).is_some_and(|w| w == want.as_slice());
        match &starts {
            None => match context.find(text) {
                Some(b) => answers.push(Answer { start: context[..b].chars().count(), text: text.to_string() }),
                None => return Err((tf, format!("the answer {text:?} does not occur in the context"))),
            },
            Some(starts) => {
                let start = usize::try_from(starts[k]).unwrap_or(usize::MAX);
                if at(start) {
                    if text.len() != raw.len() {
                        stats.repaired += 1;
                    }
                    answers.push(Answer { start, text: text.to_string() });
                } else if repair {
                    let near = (1..=16).flat_map(|d| [start.checked_sub(d), start.checked_add(d)]).flatten().find(|s| at(*s));
                    match near {
                        Some(s) => {
                            stats.repaired += 1;
                            answers.push(Answer { start: s, text: text.to_string() });
                        }
                        None => stats.dropped += 1,
                    }
                } else {
                    let found: String = chars.iter().skip(start).take(want.len()).collect();
                    let sf = indexed(req(&f.answer_start)?, k, texts.len());
                    return Err((sf, format!(
                        "the answer {text:?} is not at character {start} of the context (found {found:?}); offsets count Unicode characters from 0"
                    )));
                }
            }
        }
    }
    if answers.is_empty() {
        return Err((req(&f.answer_start)?.to_string(), "no answer is found at or near its offset".into()));
    }
    Ok(Example::span(question, context, answers))
}

fn indexed(field: &str, k: usize, n: usize) -> String {
    if n > 1 { format!("{field}[{k}]") } else { field.to_string() }
}

fn req(field: &Option<String>) -> Result<&str, FieldError> {
    field.as_deref().ok_or_else(|| ("(unmapped)".into(), "a field the family needs is not mapped".into()))
}

fn get<'r>(record: &'r Record, field: &str) -> Result<&'r Value, FieldError> {
    match record.get(field) {
        Some(Value::Null) => Err((field.to_string(), "is null: give it a value, or leave the record out".into())),
        Some(v) => Ok(v),
        None => Err((field.to_string(), record.problem(field).map(str::to_string).unwrap_or_else(|| missing(record)))),
    }
}

/// "missing", with the fields the record does have, so the user can map the right one.
fn missing(record: &Record) -> String {
    let Value::Object(pairs) = &record.fields else {
        return "missing".into();
    };
    let mut names: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).take(12).collect();
    if pairs.len() > names.len() {
        names.push("...");
    }
    format!("missing; the record has {}: map the field that holds it with the field options", names.join(", "))
}

/// A text field: a non-empty string (numbers are taken as written), trimmed.
fn text(record: &Record, field: &str) -> Result<String, FieldError> {
    let v = get(record, field)?;
    let s = match v {
        Value::String(s) => s.trim().to_string(),
        Value::Int(_) | Value::Float(_) => v.scalar_text().unwrap_or_default(),
        other => return Err((field.to_string(), format!("expected a string, found {}", shown(other)))),
    };
    if s.is_empty() {
        return Err((field.to_string(), "the text is empty".into()));
    }
    Ok(s)
}

fn scalar(record: &Record, field: &str) -> Result<String, FieldError> {
    let v = get(record, field)?;
    match v.scalar_text() {
        Some(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        Some(_) => Err((field.to_string(), "is empty".into())),
        None => Err((field.to_string(), format!("expected a string or a number, found {}", shown(v)))),
    }
}

/// A value as shown in a message: scalars quoted and cut, others by kind.
fn shown(v: &Value) -> String {
    match v.scalar_text() {
        Some(s) if s.chars().count() > 60 => format!("{:?}...", s.chars().take(60).collect::<String>()),
        Some(s) => format!("{s:?}"),
        None => v.kind().to_string(),
    }
}
