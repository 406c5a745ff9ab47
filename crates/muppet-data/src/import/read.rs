//! The entry points: read one file (or several, concatenated) in its format
//! and map it to a task.

use std::path::Path;

use super::build::{build, Imported};
use super::{bigbench, delimited, folder, jsonl, parquet, source, squad, Format, ImportOptions, Record};
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
    build(paths, files, opts)
}
