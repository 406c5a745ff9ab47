//! Paths typed by the user (export folders, CSV files), checked before anything is
//! written: absolute, no `..`, an existing parent folder, and the right kind of target.

use std::path::{Component, Path, PathBuf};

use crate::error::CommandError;

fn absolute_plain(text: &str, what: &str) -> Result<PathBuf, CommandError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(CommandError::Invalid(format!("give the {what}")));
    }
    let path = PathBuf::from(text);
    if !path.is_absolute() {
        return Err(CommandError::Invalid(format!(
            "the {what} must be an absolute path (starting with /), not `{text}`"
        )));
    }
    if path.components().any(|c| matches!(c, Component::ParentDir)) {
        return Err(CommandError::Invalid(format!(
            "the {what} `{text}` contains `..`: give the folder itself"
        )));
    }
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
    match parent {
        Some(parent) if parent.is_dir() => Ok(path),
        Some(parent) => Err(CommandError::Invalid(format!(
            "the folder {} does not exist: create it first, or choose another place for the {what}",
            parent.display()
        ))),
        None => Err(CommandError::Invalid(format!(
            "the {what} cannot be the root folder"
        ))),
    }
}

/// A folder to export into: it may not exist yet, or be an empty folder.
pub fn export_folder(text: &str) -> Result<PathBuf, CommandError> {
    let path = absolute_plain(text, "export folder")?;
    if path.exists() {
        if !path.is_dir() {
            return Err(CommandError::Invalid(format!(
                "{} is a file: choose a folder name",
                path.display()
            )));
        }
        let empty = std::fs::read_dir(&path)
            .map_err(CommandError::io("reading", &path))?
            .next()
            .is_none();
        if !empty {
            return Err(CommandError::Invalid(format!(
                "{} is not empty: choose a new or empty folder",
                path.display()
            )));
        }
    }
    Ok(path)
}

/// A `.csv` file to write (replaced if it exists).
pub fn csv_file(text: &str) -> Result<PathBuf, CommandError> {
    new_file(text, "CSV file", "csv")
}

/// `path` unless it is a folder (a file to write must be named).
fn not_a_folder(path: PathBuf) -> Result<PathBuf, CommandError> {
    if path.is_dir() {
        return Err(CommandError::Invalid(format!(
            "{} is a folder: give a file name",
            path.display()
        )));
    }
    Ok(path)
}

/// A new file with extension `extension` to write (replaced if it exists): a saved
/// experiment spec, an exported chart.
pub fn new_file(text: &str, what: &str, extension: &str) -> Result<PathBuf, CommandError> {
    let path = absolute_plain(text, what)?;
    if path.extension().and_then(|e| e.to_str()) != Some(extension) {
        return Err(CommandError::Invalid(format!(
            "the {what} {} must end in .{extension}",
            path.display()
        )));
    }
    not_a_folder(path)
}

/// The format of an exported chart, from its file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartFormat {
    Png,
    Svg,
}

/// A chart file to write (replaced if it exists): `.png` or `.svg`, which says the format.
pub fn chart_file(text: &str) -> Result<(PathBuf, ChartFormat), CommandError> {
    let path = absolute_plain(text, "chart file")?;
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let format = if extension.eq_ignore_ascii_case("png") {
        ChartFormat::Png
    } else if extension.eq_ignore_ascii_case("svg") {
        ChartFormat::Svg
    } else {
        return Err(CommandError::Invalid(format!(
            "the chart file {} must end in .png or .svg (the extension picks the format)",
            path.display()
        )));
    };
    Ok((not_a_folder(path)?, format))
}

/// Write `bytes` to a temporary file beside `path`, then rename it over `path`: a reader
/// sees the old file or the whole new one. The temporary file is removed on failure.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), CommandError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let partial = path.with_file_name(format!(".{name}.partial-{}", std::process::id()));
    if let Err(e) = std::fs::write(&partial, bytes) {
        let _ = std::fs::remove_file(&partial);
        return Err(CommandError::io("writing", &partial)(e));
    }
    std::fs::rename(&partial, path).map_err(|e| {
        let _ = std::fs::remove_file(&partial);
        CommandError::io("replacing", path)(e)
    })
}

/// A file that must exist (an experiment spec, a file to import).
pub fn existing_file(text: &str, what: &str) -> Result<PathBuf, CommandError> {
    existing(text, what, false)
}

/// A folder that must exist (a folder of class sub-folders to import).
pub fn existing_folder(text: &str, what: &str) -> Result<PathBuf, CommandError> {
    existing(text, what, true)
}

/// An existing file, or an existing folder when `folder`; the error says which it is instead.
fn existing(text: &str, what: &str, folder: bool) -> Result<PathBuf, CommandError> {
    let path = absolute_plain(text, what)?;
    if (folder && path.is_dir()) || (!folder && path.is_file()) {
        return Ok(path);
    }
    let why = match folder {
        true if path.is_file() => "is a file: give the folder",
        false if path.is_dir() => "is a folder: give the file",
        _ => "does not exist: check the path",
    };
    Err(CommandError::Invalid(format!("the {what} {} {why}", path.display())))
}

/// The files of a model folder in Hugging Face layout, as the engine loads it.
pub const MODEL_FILES: [&str; 3] = ["config.json", "model.safetensors", "tokenizer.json"];

/// A pretrained model folder in Hugging Face layout: an existing folder holding every file
/// of [`MODEL_FILES`]; the error names the files it lacks.
pub fn model_folder(text: &str) -> Result<PathBuf, CommandError> {
    let path = existing_folder(text, "model folder")?;
    let missing: Vec<&str> = MODEL_FILES.into_iter().filter(|f| !path.join(f).is_file()).collect();
    match missing.as_slice() {
        [] => Ok(path),
        [.., last] => {
            let rest = &missing[..missing.len() - 1];
            let named = if rest.is_empty() { last.to_string() } else { format!("{} and {last}", rest.join(", ")) };
            Err(CommandError::Invalid(format!(
                "{} is not a model folder: it has no {named} (a Hugging Face model folder holds config.json, model.safetensors and tokenizer.json)",
                path.display()
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_folders_are_checked() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().display().to_string();
        assert!(export_folder(&format!("{root}/new")).is_ok());
        assert!(export_folder(&root).is_ok(), "an empty folder is fine");
        std::fs::write(dir.path().join("file"), "x").expect("write");
        for bad in [
            String::new(),
            "relative/out".to_string(),
            format!("{root}/../escape"),
            format!("{root}/missing/out"),
            format!("{root}/file"),
            root.clone(),
            "/".to_string(),
        ] {
            let error = export_folder(&bad).expect_err(&bad);
            assert_eq!(error.kind(), "invalid", "{bad}: {error}");
        }
    }

    #[test]
    fn files_and_folders_to_read_must_exist() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().display().to_string();
        let file = format!("{root}/data.jsonl");
        std::fs::write(&file, "{}").expect("write");
        assert!(existing_file(&file, "file to import").is_ok());
        assert!(existing_folder(&root, "folder to import").is_ok());
        let error = existing_file(&root, "file to import").expect_err("a folder");
        assert!(error.message().contains("is a folder"), "{error}");
        let error = existing_folder(&file, "folder to import").expect_err("a file");
        assert!(error.message().contains("is a file"), "{error}");
        let error =
            existing_file(&format!("{root}/missing.csv"), "file to import").expect_err("missing");
        assert!(error.message().contains("does not exist"), "{error}");
        assert!(existing_file("data.jsonl", "file to import").is_err());
        assert!(existing_folder(&format!("{root}/../x"), "folder to import").is_err());
    }

    #[test]
    fn chart_files_take_their_format_from_the_extension() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().display().to_string();
        assert_eq!(
            chart_file(&format!("{root}/loss.png")).expect("png").1,
            ChartFormat::Png
        );
        assert_eq!(
            chart_file(&format!("{root}/loss.SVG")).expect("svg").1,
            ChartFormat::Svg
        );
        for bad in [format!("{root}/loss.jpg"), format!("{root}/loss")] {
            let error = chart_file(&bad).expect_err(&bad);
            assert!(
                error.message().contains("must end in .png or .svg"),
                "{error}"
            );
        }
        std::fs::create_dir(dir.path().join("d.png")).expect("mkdir");
        assert!(
            chart_file(&format!("{root}/d.png"))
                .expect_err("a folder")
                .message()
                .contains("is a folder")
        );
        assert!(
            chart_file("loss.png")
                .expect_err("relative")
                .message()
                .contains("absolute path")
        );
        assert!(
            chart_file(&format!("{root}/nope/loss.png"))
                .expect_err("no parent")
                .message()
                .contains("does not exist")
        );
    }

    #[test]
    fn model_folders_name_the_files_they_lack() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().display().to_string();
        let error = model_folder(&root).expect_err("empty");
        assert!(error.message().contains("has no config.json, model.safetensors and tokenizer.json"), "{error}");
        std::fs::write(dir.path().join("config.json"), "{}").expect("write");
        std::fs::write(dir.path().join("tokenizer.json"), "{}").expect("write");
        let error = model_folder(&root).expect_err("no weights");
        assert!(error.message().contains("has no model.safetensors ("), "{error}");
        std::fs::write(dir.path().join("model.safetensors"), "x").expect("write");
        assert_eq!(model_folder(&root).expect("complete"), dir.path());
        let file = format!("{root}/config.json");
        assert!(model_folder(&file).expect_err("a file").message().contains("is a file"));
        assert!(model_folder("models/bert").expect_err("relative").message().contains("absolute path"));
    }

    #[test]
    fn csv_files_are_checked() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().display().to_string();
        assert!(csv_file(&format!("{root}/loss.csv")).is_ok());
        assert!(csv_file(&format!("{root}/loss.txt")).is_err());
        assert!(csv_file(&format!("{root}/nope/loss.csv")).is_err());
        assert!(csv_file("loss.csv").is_err());
    }
}
