//! SQuAD v1.1 JSON: `{"data": [{"title", "paragraphs": [{"context", "qas":
//! [{"id", "question", "answers": [{"text", "answer_start"}]}]}]}]}`. One
//! record per question with fields `id`, `title`, `question`, `context`,
//! `answer_text` and `answer_start` (lists, one entry per answer).

use std::path::Path;

use super::{Location, Record, Value};
use crate::DataError;

/// Every question of the file, in file order.
pub fn read(path: &Path, text: &str) -> Result<Vec<Record>, DataError> {
    let file_err = |message: String| DataError::Malformed { path: path.to_path_buf(), at: Location::File, message };
    if text.trim().is_empty() {
        return Err(file_err("the file is empty: expected SQuAD JSON ({\"data\": [...]})".into()));
    }
    let root = Value::from_json(text).map_err(|e| file_err(format!("not valid JSON: {e}")))?;
    let field_err = |at: Location, field: String, message: String| DataError::Field { path: path.to_path_buf(), at, field, message };
    let Some(data) = root.get("data") else {
        return Err(field_err(Location::File, "data".into(), "missing: a SQuAD file is {\"data\": [{\"title\", \"paragraphs\": [...]}]}".into()));
    };
    let Value::Array(articles) = data else {
        return Err(field_err(Location::File, "data".into(), format!("expected a list of articles, found {}", data.kind())));
    };
    let mut records = Vec::new();
    let mut index = 0;
    for (a, article) in articles.iter().enumerate() {
        let title = article.get("title").and_then(Value::scalar_text).unwrap_or_default();
        let at_article = Location::Paragraph { article: a + 1, paragraph: 0 };
        let paragraphs = list(article.get("paragraphs")).map_err(|m| field_err(at_article, "paragraphs".into(), m))?;
        for (p, paragraph) in paragraphs.iter().enumerate() {
            let at_par = || Location::Paragraph { article: a + 1, paragraph: p + 1 };
            let context = match paragraph.get("context") {
                Some(Value::String(s)) => s.clone(),
                Some(v) => return Err(field_err(at_par(), "context".into(), format!("expected a string, found {}", v.kind()))),
                None => return Err(field_err(at_par(), "context".into(), "missing".into())),
            };
            let qas = list(paragraph.get("qas")).map_err(|m| field_err(at_par(), "qas".into(), m))?;
            for qa in qas {
                index += 1;
                let id = qa.get("id").and_then(Value::scalar_text).unwrap_or_default();
                let at = Location::Question { index, id: id.clone() };
                let Value::Object(_) = qa else {
                    return Err(DataError::Malformed { path: path.to_path_buf(), at, message: format!("expected a question object, found {}", qa.kind()) });
                };
                let answers = list(qa.get("answers")).map_err(|m| field_err(at.clone(), "answers".into(), m))?;
                let mut texts = Vec::with_capacity(answers.len());
                let mut starts = Vec::with_capacity(answers.len());
                for (k, answer) in answers.iter().enumerate() {
                    match answer.get("text") {
                        Some(Value::String(s)) => texts.push(Value::String(s.clone())),
                        other => {
                            let found = other.map_or("nothing", Value::kind);
                            return Err(field_err(at, format!("answers[{k}].text"), format!("expected a string, found {found}")));
                        }
                    }
                    match answer.get("answer_start") {
                        Some(v @ Value::Int(i)) if *i >= 0 => starts.push(v.clone()),
                        other => {
                            let found = match other {
                                None => "nothing".to_string(),
                                Some(Value::String(s)) => format!("the string {s:?}"),
                                Some(v) => v.scalar_text().unwrap_or_else(|| v.kind().to_string()),
                            };
                            return Err(field_err(at, format!("answers[{k}].answer_start"), format!("expected a character offset (an integer >= 0), found {found}")));
                        }
                    }
                }
                let question = qa.get("question").cloned().unwrap_or(Value::Null);
                records.push(Record::new(
                    at,
                    vec![
                        ("id".into(), Value::String(id)),
                        ("title".into(), Value::String(title.clone())),
                        ("question".into(), question),
                        ("context".into(), Value::String(context.clone())),
                        ("answer_text".into(), Value::Array(texts)),
                        ("answer_start".into(), Value::Array(starts)),
                    ],
                ));
            }
        }
    }
    if records.is_empty() {
        return Err(file_err("no questions: `data` holds no paragraph with `qas`".into()));
    }
    Ok(records)
}

fn list(v: Option<&Value>) -> Result<&[Value], String> {
    match v {
        Some(Value::Array(items)) => Ok(items),
        Some(other) => Err(format!("expected a list, found {}", other.kind())),
        None => Err("missing".into()),
    }
}
