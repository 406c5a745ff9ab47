//! The entry points: read one file (or several, concatenated) in its format
//! and map it to a task.

use std::path::Path;

use super::build::{build, Imported};
use super::{bigbench, delimited, folder, jsonl, parquet, source, squad, Format, ImportOptions, Location, Record, Transform};
use crate::DataError;

/// Read the records of one file (a folder for [`Format::Folder`]).
pub fn read_records(path: &Path, opts: &ImportOptions) -> Result<Vec<Record>, DataError> {
    if opts.format == Format::Folder {
        return folder::read(path, opts.encoding);
    }
    if !path.is_file() {
        let why = if path.is_dir() { "is a folder, not a file (the folder format reads <folder>/<label>/<file>)" } else { "no such file" };
        return Err(DataError::Io { path: path.to_path_buf(), source: std::io::Error::new(std::io::ErrorKind::NotFound, why) });
    }
    let raw = std::fs::read(path).map_err(DataError::io(path))?;
    records_from_bytes(path, raw, opts)
}

/// Read the records of a file's content `raw`; `path` names it in errors
/// and its extension says whether it is compressed. Not for [`Format::Folder`].
pub fn records_from_bytes(path: &Path, raw: Vec<u8>, opts: &ImportOptions) -> Result<Vec<Record>, DataError> {
    let bytes = source::decompress(path, raw)?;
    let text = |bytes| source::decode(path, bytes, opts.encoding);
    match opts.format {
        Format::Jsonl => jsonl::read(path, &text(bytes)?),
        Format::Csv => delimited::read(path, &text(bytes)?, false, opts.header),
        Format::Tsv => delimited::read(path, &text(bytes)?, true, opts.header),
        Format::Parquet => parquet::read(path, bytes),
        Format::Squad => squad::read(path, &text(bytes)?),
        Format::Bigbench => bigbench::read(path, &text(bytes)?),
        Format::Folder => Err(DataError::Options("the folder format reads a folder, not the bytes of one file".into())),
    }
}

/// Import the content `raw` of one file named `path` as a task.
pub fn import_bytes(path: &Path, raw: Vec<u8>, opts: &ImportOptions) -> Result<Imported, DataError> {
    let records = records_from_bytes(path, raw, opts)?;
    build(&[path], vec![records], opts)
}

/// Import one file as a task.
pub fn import_file(path: &Path, opts: &ImportOptions) -> Result<Imported, DataError> {
    import_files(&[path], opts)
}

/// Import several files of the same format as one task, in the order given:
/// label indices are shared and duplicates are dropped across files.
pub fn import_files(paths: &[&Path], opts: &ImportOptions) -> Result<Imported, DataError> {
    let files = paths.iter().map(|p| read_records(p, opts)).collect::<Result<Vec<_>, _>>()?;
    match hub_class_names(paths, opts)? {
        Some(named) => build(paths, files, &named),
        None => build(paths, files, opts),
    }
}

/// A classification import of Parquet written by Hugging Face `datasets`, whose label
/// column is a `ClassLabel`: the options with its class names as the labels and its
/// integers mapped to them (the catalog's recipes do the same by hand). `None` where the
/// files do not say, or the options already name the labels or transform the records.
/// Files that disagree on the names are an error naming both.
fn hub_class_names(paths: &[&Path], opts: &ImportOptions) -> Result<Option<ImportOptions>, DataError> {
    if opts.format != Format::Parquet
        || !matches!(opts.family, muppet_core::TaskFamily::Single | muppet_core::TaskFamily::Pair)
        || opts.labels.is_some()
        || !opts.transforms.is_empty()
    {
        return Ok(None);
    }
    let Some(column) = super::resolve(&opts.fields, opts.family, opts.format).label else { return Ok(None) };
    let Some((first, rest)) = paths.split_first() else { return Ok(None) };
    let Some(names) = parquet::class_labels(first).remove(&column) else { return Ok(None) };
    for path in rest {
        let other = parquet::class_labels(path).remove(&column);
        if other.as_ref() != Some(&names) {
            return Err(DataError::Malformed {
                path: path.to_path_buf(),
                at: Location::File,
                message: format!(
                    "its `{column}` classes are {}, but {} names them {names:?}: import files of one dataset version together",
                    other.map_or("not named (no Hugging Face ClassLabel metadata)".to_string(), |n| format!("{n:?}")),
                    first.display(),
                ),
            });
        }
    }
    let mut named = opts.clone();
    named.transforms = vec![Transform::Map { field: column, map: names.iter().enumerate().map(|(i, n)| (i.to_string(), n.clone())).collect() }];
    named.labels = Some(names);
    Ok(Some(named))
}
