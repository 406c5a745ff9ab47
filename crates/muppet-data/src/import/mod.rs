//! Importers with field mapping: JSONL, CSV/TSV, Parquet, SQuAD v1.1 JSON,
//! BIG-bench `task.json` and class folders. Each reader turns a file into
//! [`Record`]s; the [`FieldMap`] and the task family turn records into
//! [`Example`](crate::Example)s. Every problem is an error naming the file,
//! the record and the field; nothing here panics on user data.

mod bigbench;
mod build;
mod delimited;
mod folder;
mod jsonl;
mod options;
mod parquet;
mod read;
mod record;
pub mod source;
mod squad;
mod transform;
mod value;

pub use build::Imported;
pub use options::{Encoding, FieldMap, Format, ImportOptions, OnInvalid, Resolved, resolve};
pub use read::{import_bytes, import_file, import_files, read_records, records_from_bytes};
pub use record::{Location, Record};
pub use transform::Transform;
pub use value::Value;
