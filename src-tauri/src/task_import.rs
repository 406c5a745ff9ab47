//! Importing a local file as a task from the Tasks page, as `muppet tasks import` does:
//! the request is checked (name, path, options), the importer reads the file, and the
//! task is described and fingerprinted for the store (which stores it in one transaction,
//! see `TaskCatalog::import`).

use std::path::PathBuf;

use muppet_core::TaskFamily;
use muppet_data::catalog;
use muppet_data::fingerprint::{example_lines, fingerprint};
use muppet_data::import::{Encoding, FieldMap, Format, ImportOptions, Imported, import_file};
use serde::{Deserialize, Serialize};

use crate::error::CommandError;
use crate::paths;

/// What the import form sends.
#[derive(Debug, Clone, Deserialize)]
pub struct ImportRequest {
    /// The file, or the folder for the `folder` format (absolute).
    pub path: String,
    pub format: Format,
    pub name: String,
    pub family: TaskFamily,
    /// Unset fields take the importer's defaults for the family and format.
    #[serde(default)]
    pub fields: FieldMap,
    /// Class labels in index order; other labels are errors. `None`: collected in the
    /// order they first appear.
    #[serde(default)]
    pub labels: Option<Vec<String>>,
    #[serde(default)]
    pub license: Option<String>,
    /// CSV/TSV without a header line: the columns are named 1, 2, 3 ...
    #[serde(default)]
    pub no_header: bool,
    /// Text files: UTF-8 (the default), Latin-1, or UTF-8 else Latin-1 per file.
    #[serde(default)]
    pub encoding: Encoding,
    /// Replace an imported task of the same name.
    #[serde(default)]
    pub replace: bool,
    /// The task's own dev size and split seed (unset: each run's).
    #[serde(default)]
    pub split: muppet_core::SplitPolicy,
}

/// A file read and mapped to a task, ready to store.
pub struct PreparedImport {
    pub imported: Imported,
    /// The examples as canonical JSON lines.
    pub lines: Vec<String>,
    pub fingerprint: String,
    /// How it was imported, kept with the task.
    pub description: serde_json::Value,
}

/// What the form shows after an import.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportReport {
    pub name: String,
    pub examples: usize,
    pub records: usize,
    pub duplicates: usize,
    pub skipped: usize,
    pub labels: Vec<String>,
    pub fingerprint: String,
}

impl ImportRequest {
    /// The file and the importer's options, or what is wrong with the request.
    pub fn options(&self) -> Result<(PathBuf, ImportOptions), CommandError> {
        check_name(&self.name)?;
        let path = if self.format == Format::Folder {
            paths::existing_folder(&self.path, "folder to import")?
        } else {
            paths::existing_file(&self.path, "file to import")?
        };
        let mut opts = ImportOptions::new(&self.name, self.family, self.format);
        opts.fields = trimmed(&self.fields);
        opts.split = self.split.clone();
        opts.header = !self.no_header;
        opts.encoding = self.encoding;
        if let Some(labels) = &self.labels {
            let labels: Vec<String> = labels.iter().map(|l| l.trim().to_string()).collect();
            if !labels.is_empty() {
                if !self.family.is_classification() {
                    return Err(CommandError::Invalid(format!(
                        "labels apply to single and pair tasks, not {}: leave the labels empty",
                        self.family.as_str()
                    )));
                }
                if labels.iter().any(String::is_empty) {
                    return Err(CommandError::Invalid(
                        "the labels hold an empty label: separate the labels with single commas"
                            .into(),
                    ));
                }
                opts.labels = Some(labels);
            }
        }
        opts.source = path.display().to_string();
        opts.license = self
            .license
            .as_deref()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .unwrap_or("unknown (imported from a local file)")
            .to_string();
        Ok((path, opts))
    }
}

/// Read `path` with `opts` (seconds for a large file: call it off the async threads).
pub fn read(path: &std::path::Path, opts: &ImportOptions) -> Result<PreparedImport, CommandError> {
    let imported = import_file(path, opts)?;
    let description = imported.description(opts);
    Ok(PreparedImport::new(imported, description))
}

impl PreparedImport {
    /// An imported task, described by `description`, with its lines and fingerprint.
    pub fn new(imported: Imported, description: serde_json::Value) -> Self {
        let lines = example_lines(&imported.task.examples);
        let fingerprint = fingerprint(&imported.task.spec, &lines);
        Self {
            imported,
            lines,
            fingerprint,
            description,
        }
    }

    pub fn report(&self) -> ImportReport {
        let task = &self.imported.task;
        ImportReport {
            name: task.spec.name.clone(),
            examples: task.examples.len(),
            records: self.imported.records,
            duplicates: self.imported.duplicates,
            skipped: self.imported.skipped,
            labels: task.spec.labels.clone(),
            fingerprint: self.fingerprint.clone(),
        }
    }
}

/// The rules of `muppet tasks import --name`.
pub(crate) fn check_name(name: &str) -> Result<(), CommandError> {
    let plain = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
    if name.is_empty() || name.len() > 100 || !plain {
        return Err(CommandError::Invalid(format!(
            "task name `{name}`: use 1 to 100 letters, digits, `_`, `-` or `.`"
        )));
    }
    if catalog::recipe(name).is_some() {
        return Err(CommandError::Invalid(format!(
            "`{name}` is a demo catalog task: import under another name (e.g. `my_{name}`)"
        )));
    }
    Ok(())
}

/// The field map with blank entries unset (an empty text box means "the default").
fn trimmed(fields: &FieldMap) -> FieldMap {
    let f = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    FieldMap {
        text: f(&fields.text),
        text_b: f(&fields.text_b),
        label: f(&fields.label),
        question: f(&fields.question),
        choices: f(&fields.choices),
        context: f(&fields.context),
        answer_start: f(&fields.answer_start),
        answer_text: f(&fields.answer_text),
        target: f(&fields.target),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::path::PathBuf;

    use muppet_data::fingerprint::task_fingerprint;

    use super::*;

    /// The demo assets (`muppet assets fetch --tasks`): `MUPPET_ASSETS`, else the
    /// workspace's `.muppet/assets`.
    pub(crate) fn assets() -> PathBuf {
        let dir = std::env::var_os("MUPPET_ASSETS")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.muppet/assets"));
        assert!(
            dir.join("raw/vader/.muppet-asset").is_file(),
            "no task assets in {}: run `muppet assets fetch --tasks` with MUPPET_ASSETS pointing there (make test does)",
            dir.display()
        );
        // The form takes plain absolute paths (no `..`).
        dir.canonicalize().expect("the asset folder resolves")
    }

    /// VADER's movie snippets as the form would import them: headerless TSV of id,
    /// rating and text.
    pub(crate) fn vader_movies_request(name: &str) -> ImportRequest {
        let path = assets().join("raw/vader/movieReviewSnippets_GroundTruth.txt");
        ImportRequest {
            path: path.display().to_string(),
            format: Format::Tsv,
            name: name.into(),
            family: TaskFamily::Regression,
            fields: FieldMap {
                text: Some(" 3 ".into()),
                label: Some("2".into()),
                text_b: Some(String::new()),
                ..FieldMap::default()
            },
            labels: None,
            license: Some("MIT (vaderSentiment)".into()),
            no_header: true,
            encoding: Encoding::Utf8,
            replace: false,
            split: Default::default(),
        }
    }

    #[test]
    fn a_file_imports_as_the_catalog_reads_it() {
        let request = vader_movies_request("my_vader_movies");
        let (path, options) = request.options().expect("a valid request");
        assert_eq!(options.fields.text.as_deref(), Some("3"), "trimmed");
        assert_eq!(options.fields.text_b, None, "blank is unset");
        assert!(!options.header);
        let prepared = read(&path, &options).expect("imports");
        let catalog = catalog::load_task(&assets(), "vader_movies").expect("catalog task");
        assert_eq!(prepared.report().examples, catalog.examples.len());
        // Same family, labels and examples: the same fingerprint (the name is not in it).
        assert_eq!(prepared.fingerprint, task_fingerprint(&catalog));
        assert_eq!(prepared.imported.task.spec.license, "MIT (vaderSentiment)");
        assert_eq!(prepared.description["file"], path.display().to_string());
    }

    #[test]
    fn the_importers_error_names_the_file_the_record_and_the_field() {
        let mut request = vader_movies_request("vader_bad");
        request.fields.label = Some("3".into());
        let (path, options) = request.options().expect("a valid request");
        let Err(error) = read(&path, &options) else {
            panic!("a text is not a rating")
        };
        let message = error.message();
        assert_eq!(error.kind(), "task", "{message}");
        assert!(
            message.contains("movieReviewSnippets_GroundTruth.txt"),
            "{message}"
        );
        assert!(message.contains("line 1"), "{message}");
        assert!(message.contains('3'), "{message}");
    }

    #[test]
    fn bad_requests_say_what_to_change() {
        let good = vader_movies_request("fine");
        let cases: Vec<(ImportRequest, &str)> = vec![
            (
                ImportRequest {
                    name: "has space".into(),
                    ..good.clone()
                },
                "letters, digits",
            ),
            (
                ImportRequest {
                    name: "vader_movies".into(),
                    ..good.clone()
                },
                "demo catalog task",
            ),
            (
                ImportRequest {
                    path: "raw/vader/x.txt".into(),
                    ..good.clone()
                },
                "absolute path",
            ),
            (
                ImportRequest {
                    path: format!("{}.missing", good.path),
                    ..good.clone()
                },
                "does not exist",
            ),
            (
                ImportRequest {
                    format: Format::Folder,
                    ..good.clone()
                },
                "is a file",
            ),
            (
                ImportRequest {
                    labels: Some(vec!["a".into()]),
                    ..good.clone()
                },
                "not regression",
            ),
            (
                ImportRequest {
                    family: TaskFamily::Single,
                    labels: Some(vec!["a".into(), " ".into()]),
                    ..good.clone()
                },
                "empty label",
            ),
        ];
        for (request, expected) in cases {
            let error = request.options().expect_err(expected);
            assert_eq!(error.kind(), "invalid");
            assert!(error.message().contains(expected), "{expected}: {error}");
        }
        let blank_labels = ImportRequest {
            labels: Some(vec![]),
            ..good
        };
        assert_eq!(blank_labels.options().expect("no labels").1.labels, None);
    }
}
