//! Seeded mutation fuzzing of every importer: valid inputs get a few thousand
//! random byte flips, insertions, deletions and truncations. No input may
//! panic, and every import that succeeds must give examples that pass
//! `Example::check`. Plain `#[test]`s (no nightly), each well under 3 s.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use muppet_core::TaskFamily;
use muppet_data::import::{import_bytes, import_file, FieldMap, Format, ImportOptions};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Bytes that matter to the formats: quotes, brackets, separators, line ends,
/// a UTF-8 BOM, invalid UTF-8 and multi-byte characters.
const SPECIAL: &[&[u8]] = &[
    b"\"", b"{", b"}", b"[", b"]", b",", b":", b"\t", b"\n", b"\r\n", b"\\", b"-1", b"1e999", b"null",
    b"\xEF\xBB\xBF", b"\xFF", b"\xC3", b"\xC3\xA9", b"\xE2\x80\x93", b"\x00",
];

fn mutate(rng: &mut StdRng, seed: &[u8]) -> Vec<u8> {
    let mut data = seed.to_vec();
    for _ in 0..rng.random_range(1..=4) {
        let len = data.len();
        let at = if len == 0 { 0 } else { rng.random_range(0..len) };
        match rng.random_range(0..7) {
            0 if len > 0 => data[at] ^= 1 << rng.random_range(0..8),
            1 => data.insert(at, rng.random()),
            2 if len > 0 => {
                let end = (at + rng.random_range(1..=16)).min(len);
                data.drain(at..end);
            }
            3 => data.truncate(at),
            4 => {
                let s = SPECIAL[rng.random_range(0..SPECIAL.len())];
                data.splice(at..at, s.iter().copied());
            }
            5 if len > 0 => {
                let end = (at + rng.random_range(1..=64)).min(len);
                let chunk = data[at..end].to_vec();
                let to = rng.random_range(0..=data.len());
                data.splice(to..to, chunk);
            }
            _ if len > 0 => data[at] = rng.random(),
            _ => {}
        }
    }
    data
}

/// Import `iterations` mutants of `seed` with `opts`, in memory (the file
/// system would dominate the time); returns how many imported.
fn fuzz(name: &str, seed: &[u8], opts: &ImportOptions, iterations: usize) -> usize {
    quiet_parquet_panics();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(name);
    // The seed itself must import from a file, or the fuzzing would only ever test errors.
    std::fs::write(&path, seed).expect("write seed");
    let first = import_file(&path, opts).unwrap_or_else(|e| panic!("{name}: the unmutated seed must import: {e}"));
    assert!(!first.task.examples.is_empty());
    let mut rng = StdRng::seed_from_u64(0x5eed ^ name.len() as u64);
    let mut ok = 0;
    let started = std::time::Instant::now();
    for i in 0..iterations {
        let data = mutate(&mut rng, seed);
        let result = std::panic::catch_unwind(|| import_bytes(&path, data.clone(), opts));
        let Ok(result) = result else {
            let kept = std::env::temp_dir().join(format!("muppet-fuzz-{name}-{i}"));
            let _ = std::fs::write(&kept, &data);
            panic!("{name}: mutant {i} panicked; input kept at {}", kept.display());
        };
        match result {
            Ok(imported) => {
                ok += 1;
                let task = &imported.task;
                assert!(!task.examples.is_empty(), "{name}: mutant {i} imported no examples");
                for ex in &task.examples {
                    if let Err(m) = ex.check(&task.spec) {
                        panic!("{name}: mutant {i} gave an example that fails its check: {m}");
                    }
                }
            }
            Err(e) => {
                let msg = e.to_string();
                assert!(msg.contains(name), "{name}: mutant {i}: the error does not name the file: {msg}");
            }
        }
    }
    println!("{name}: {ok} of {iterations} mutants imported in {:?}", started.elapsed());
    assert!(started.elapsed().as_secs_f64() < 3.0, "{name}: {iterations} mutants took {:?}", started.elapsed());
    ok
}

/// The Parquet importer catches panics of the Parquet decoder (and reports
/// a malformed file); keep their messages out of the test output. Panics
/// anywhere else are printed as usual.
fn quiet_parquet_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !info.location().is_some_and(|l| l.file().contains("/parquet-")) {
                default(info);
            }
        }));
    });
}

fn opts(family: TaskFamily, format: Format) -> ImportOptions {
    ImportOptions::new("fuzz", family, format)
}

#[test]
fn jsonl_mutants_never_panic() {
    let seed = "{\"text\": \"a fine film\", \"label\": \"pos\"}\n{\"text\": \"Zoë's café – dull\", \"label\": \"neg\"}\n\
                {\"text\": \"x\", \"label\": 1}\n{\"question\": \"q\", \"text\": \"more\", \"label\": \"pos\"}\n";
    let ok = fuzz("seed.jsonl", seed.as_bytes(), &opts(TaskFamily::Single, Format::Jsonl), 10_000);
    // Some mutants leave the file valid: the Ok path is exercised too.
    assert!(ok > 100, "{ok}");

    let mut o = opts(TaskFamily::Span, Format::Jsonl);
    o.fields.answer_start = Some("answer_start".into());
    let seed = "{\"question\": \"where?\", \"context\": \"Zoë lives in Paris.\", \"answer_text\": \"Paris\", \"answer_start\": 13}\n\
                {\"question\": \"who?\", \"context\": \"Ann met Bob.\", \"answer_text\": [\"Bob\", \"Ann\"], \"answer_start\": [8, 0]}\n";
    assert!(fuzz("span.jsonl", seed.as_bytes(), &o, 5000) > 10);
    let seed = "{\"question\": \"q?\", \"choices\": [\"a\", \"b\", \"c\"], \"label\": 2}\n{\"question\": \"r?\", \"choices\": [\"x\", \"y\"], \"label\": \"y\"}\n";
    assert!(fuzz("mc.jsonl", seed.as_bytes(), &opts(TaskFamily::MultipleChoice, Format::Jsonl), 5000) > 10);
}

#[test]
fn csv_and_tsv_mutants_never_panic() {
    let seed = "text,label\n\"great, fun\",fresh\ndull,rotten\n\"said \"\"meh\"\"\",rotten\ncafé,fresh\n";
    assert!(fuzz("seed.csv", seed.as_bytes(), &opts(TaskFamily::Single, Format::Csv), 10_000) > 100);
    let mut o = opts(TaskFamily::Regression, Format::Tsv);
    o.header = false;
    o.fields = FieldMap { text: Some("3".into()), label: Some("2".into()), ..FieldMap::default() };
    let seed = "1\t2.5\tgood \"movie\"\n2\t-1.25\tbad\n3\t0\tZoë\n";
    assert!(fuzz("seed.tsv", seed.as_bytes(), &o, 10_000) > 100);
}

#[test]
fn squad_mutants_never_panic() {
    let seed = r#"{"version": "1.1", "data": [{"title": "t", "paragraphs": [{"context": "Zoë met Bob in Paris – twice.", "qas": [
        {"id": "a", "question": "Where?", "answers": [{"text": "Paris", "answer_start": 15}, {"text": "Paris", "answer_start": 15}]},
        {"id": "b", "question": "Who?", "answers": [{"text": "Zoë", "answer_start": 0}]}]}]}]}"#;
    let mut o = opts(TaskFamily::Span, Format::Squad);
    fuzz("seed.json", seed.as_bytes(), &o, 5000);
    o.repair_spans = true;
    assert!(fuzz("repair.json", seed.as_bytes(), &o, 5000) > 10);
}

#[test]
fn bigbench_mutants_never_panic() {
    let seed = r#"{"examples": [{"input": "Is the sky blue?", "target_scores": {"yes": 1, "no": 0}},
        {"input": "Is grass red?", "target_scores": {"yes": 0, "no": 1}, "target": "no"},
        {"input": "Passage: Ann met Bob.\nQuestion: Who met Bob?", "target": ["Ann."]}]}"#;
    assert!(fuzz("task.json", seed.as_bytes(), &opts(TaskFamily::Single, Format::Bigbench), 5000) > 10);
    let mc = r#"{"examples": [{"input": "Pick", "target_scores": {"a": 0, "b": 1, "c": 0}}, {"input": "Again", "target_scores": {"x": 1, "y": 0}}]}"#;
    assert!(fuzz("mc.json", mc.as_bytes(), &opts(TaskFamily::MultipleChoice, Format::Bigbench), 5000) > 10);
}

/// A small Parquet file with string columns `text` and `label`.
fn parquet_bytes(rows: &[(&str, &str)], compression: parquet::basic::Compression) -> Vec<u8> {
    use parquet::data_type::{ByteArray, ByteArrayType};
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    let schema = Arc::new(
        parquet::schema::parser::parse_message_type("message t { REQUIRED BYTE_ARRAY text (UTF8); REQUIRED BYTE_ARRAY label (UTF8); }")
            .expect("schema"),
    );
    let props = Arc::new(WriterProperties::builder().set_compression(compression).build());
    let mut out = Vec::new();
    {
        let mut writer = SerializedFileWriter::new(&mut out, schema, props).expect("writer");
        let mut group = writer.next_row_group().expect("row group");
        let mut column = 0;
        while let Some(mut col) = group.next_column().expect("column") {
            let values: Vec<ByteArray> =
                rows.iter().map(|r| ByteArray::from(if column == 0 { r.0 } else { r.1 })).collect();
            col.typed::<ByteArrayType>().write_batch(&values, None, None).expect("write");
            col.close().expect("close column");
            column += 1;
        }
        group.close().expect("close group");
        writer.close().expect("close");
    }
    out
}

#[test]
fn parquet_mutants_never_panic() {
    let rows = [("a fine film", "pos"), ("Zoë – dull", "neg"), ("ok", "pos")];
    for (name, compression) in [("plain.parquet", parquet::basic::Compression::UNCOMPRESSED), ("snappy.parquet", parquet::basic::Compression::SNAPPY)] {
        let seed = parquet_bytes(&rows, compression);
        fuzz(name, &seed, &opts(TaskFamily::Single, Format::Parquet), 5000);
    }
    // The committed fixture used by the CLI tests is such a file.
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/valid/small.parquet");
    if std::env::var_os("MUPPET_WRITE_FIXTURES").is_some() {
        let mut f = std::fs::File::create(&fixture).expect("fixture");
        f.write_all(&parquet_bytes(&rows, parquet::basic::Compression::SNAPPY)).expect("write fixture");
    }
    let task = import_file(&fixture, &opts(TaskFamily::Single, Format::Parquet)).expect("fixture imports").task;
    assert_eq!(task.examples.len(), 3);
    assert_eq!(task.examples[1].text_a, "Zoë – dull");
    assert_eq!(task.spec.labels, ["pos", "neg"]);
}
