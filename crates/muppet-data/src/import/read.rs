//! The entry points: read one file (or several, concatenated) in its format
//! and map it to a task.

use std::path::Path;

use super::build::{build, Imported};
use super::{bigbench, delimited, folder, jsonl, parquet, squad, Format, ImportOptions, Record};
use crate::DataError;

/// Read the records of one file (a folder for [`Format::Folder`]).
pub fn read_records(path: &Path, opts: &ImportOptions) -> Result<Vec<Record>, DataError> {
    if opts.format != Format::Folder && !path.is_file() {
        let why = if path.is_dir() { "is a folder, not a file (the folder format reads <folder>/<label>/<file>)" } else { "no such file" };
        return Err(DataError::Io { path: path.to_path_buf(), source: std::io::Error::new(std::io::ErrorKind::NotFound, why) });
    }
    match opts.format {
        Format::Jsonl => jsonl::read(path, opts.encoding),
        Format::Csv => delimited::read(path, opts.encoding, false, opts.header),
        Format::Tsv => delimited::read(path, opts.encoding, true, opts.header),
        Format::Parquet => parquet::read(path),
        Format::Squad => squad::read(path, opts.encoding),
        Format::Bigbench => bigbench::read(path, opts.encoding),
        Format::Folder => folder::read(path, opts.encoding),
    }
}

/// Import one file as a task.
pub fn import_file(path: &Path, opts: &ImportOptions) -> Result<Imported, DataError> {
    import_files(&[path], opts)
}

/// Import several files of the same format as one task, in the order given:
/// label indices are shared and duplicates are dropped across files.
pub fn import_files(paths: &[&Path], opts: &ImportOptions) -> Result<Imported, DataError> {
    let files = paths.iter().map(|p| read_records(p, opts)).collect::<Result<Vec<_>, _>>()?;
    build(paths, files, opts)
}
