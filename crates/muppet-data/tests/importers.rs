//! The importers on small valid inputs: what each field map and family makes
//! of a record (the malformed inputs are in tests/data/malformed).

use std::path::Path;

use muppet_core::TaskFamily;
use muppet_data::import::{import_bytes, FieldMap, Format, ImportOptions, OnInvalid};
use muppet_data::{Answer, Example, Target};

fn import(name: &str, data: &str, opts: &ImportOptions) -> muppet_data::import::Imported {
    import_bytes(Path::new(name), data.as_bytes().to_vec(), opts).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn field(s: &str) -> Option<String> {
    Some(s.to_string())
}

#[test]
fn labels_are_collected_in_first_seen_order_unless_declared() {
    let data = "{\"text\": \"a\", \"label\": \"neg\"}\n{\"text\": \"b\", \"label\": \"pos\"}\n{\"text\": \"c\", \"label\": 1}\n";
    let mut o = ImportOptions::new("t", TaskFamily::Single, Format::Jsonl);
    let got = import("a.jsonl", data, &o);
    assert_eq!(got.task.spec.labels, ["neg", "pos", "1"]);
    assert_eq!(got.task.examples.iter().map(|e| e.label().expect("class")).collect::<Vec<_>>(), [0, 1, 2]);
    o.labels = Some(vec!["1".into(), "pos".into(), "neg".into()]);
    let got = import("a.jsonl", data, &o);
    assert_eq!(got.task.examples.iter().map(|e| e.label().expect("class")).collect::<Vec<_>>(), [2, 1, 0]);
    // A hub test split's -1 (no label) is named for what it is.
    let unlabeled = "{\"text\": \"a\", \"label\": 1}\n{\"text\": \"b\", \"label\": -1}\n";
    o.labels = Some(vec!["0".into(), "1".into()]);
    let err = import_bytes(Path::new("test.jsonl"), unlabeled.as_bytes().to_vec(), &o).expect_err("-1 is no class").to_string();
    assert!(err.contains("test.jsonl") && err.contains("line 2") && err.contains("-1 is how Hugging Face datasets mark an unlabeled example"), "{err}");
}

#[test]
fn csv_multiple_choice_from_columns_with_the_answer_as_text() {
    let data = "q,a,b,c,answer\n\"Which, of these?\",red,green,blue,green\nAnd now?,x,y,z,0\n";
    let mut o = ImportOptions::new("t", TaskFamily::MultipleChoice, Format::Csv);
    o.fields = FieldMap { question: field("q"), choices: field("a, b, c"), label: field("answer"), ..FieldMap::default() };
    let got = import("mc.csv", data, &o).task;
    assert_eq!(got.examples[0], Example::choice("Which, of these?", vec!["red".into(), "green".into(), "blue".into()], 1));
    assert_eq!(got.examples[1].target, Target::Choice(0));
}

#[test]
fn regression_pairs_and_headerless_tsv_with_quotes_kept() {
    let data = "1\t0.5\t\"quoted\" start\tsecond\n2\t-1\tplain\tother\n";
    let mut o = ImportOptions::new("t", TaskFamily::Regression, Format::Tsv);
    o.header = false;
    o.fields = FieldMap { text: field("3"), text_b: field("4"), label: field("2"), ..FieldMap::default() };
    let got = import("r.tsv", data, &o).task;
    assert_eq!(got.examples[0], Example::value("\"quoted\" start", Some("second".into()), 0.5));
    assert_eq!(got.examples[1].target, Target::Value(-1.0));
}

#[test]
fn spans_found_verbatim_or_at_their_offsets_in_characters() {
    let data = "{\"q\": \"Where?\", \"c\": \"Zoë lives in Paris.\", \"a\": \"Paris\"}\n\
                {\"q\": \"Who?\", \"c\": \"Zoë lives in Paris.\", \"a\": [\"Zoë\", \"Zoë lives\"], \"s\": [0, 0]}\n";
    let mut o = ImportOptions::new("t", TaskFamily::Span, Format::Jsonl);
    o.fields = FieldMap { question: field("q"), context: field("c"), answer_text: field("a"), ..FieldMap::default() };
    // Without offsets: the first occurrence, counted in characters (ë is one).
    let got = import("s.jsonl", data, &o).task;
    assert_eq!(got.examples[0], Example::span("Where?", "Zoë lives in Paris.", vec![Answer { start: 13, text: "Paris".into() }]));
    o.fields.answer_start = field("s");
    // With offsets, the first record has none: it is skipped when asked to.
    o.on_invalid = OnInvalid::Skip;
    let got = import("s.jsonl", data, &o);
    assert_eq!(got.skipped, 1);
    assert!(got.skip_reasons[0].contains("line 1, field `s`"), "{:?}", got.skip_reasons);
    let Target::Span(answers) = &got.task.examples[0].target else { panic!("span") };
    assert_eq!(answers.len(), 2);
}

#[test]
fn squad_repair_moves_answers_with_spaces_and_counts_them() {
    let data = r#"{"data": [{"title": "t", "paragraphs": [{"context": "Won 23–16, by far.", "qas": [
        {"id": "a", "question": "Score?", "answers": [{"text": " 23–16", "answer_start": 2}, {"text": "23–16", "answer_start": 4}]}]}]}]}"#;
    let mut o = ImportOptions::new("t", TaskFamily::Span, Format::Squad);
    let err = import_bytes(Path::new("s.json"), data.as_bytes().to_vec(), &o).expect_err("strict").to_string();
    assert!(err.contains("question 1 (id a), field `answer_start[0]`"), "{err}");
    o.repair_spans = true;
    let got = import("s.json", data, &o);
    assert_eq!(got.repaired_answers, 1);
    let Target::Span(answers) = &got.task.examples[0].target else { panic!("span") };
    assert_eq!(answers, &[Answer { start: 4, text: "23–16".into() }, Answer { start: 4, text: "23–16".into() }]);
}

#[test]
fn bigbench_input_and_target_make_single_labels_and_duplicates_are_counted() {
    let data = r#"{"examples": [{"input": "2+2", "target": "4"}, {"input": "3+3", "target": ["6", "six"]}, {"input": "2+2", "target": "4"}]}"#;
    let got = import("task.json", data, &ImportOptions::new("t", TaskFamily::Single, Format::Bigbench));
    assert_eq!(got.task.spec.labels, ["4", "6"]);
    assert_eq!((got.task.examples.len(), got.duplicates), (2, 1));
    let mut o = ImportOptions::new("t", TaskFamily::Single, Format::Bigbench);
    o.dedup = false;
    assert_eq!(import("task.json", data, &o).task.examples.len(), 3);
}

#[test]
fn utf8_bom_latin1_and_gzip_inputs() {
    let o = ImportOptions::new("t", TaskFamily::Single, Format::Csv);
    let got = import("bom.csv", "\u{feff}text,label\ncafé,a\n", &o).task;
    assert_eq!(got.examples[0].text_a, "café");
    let mut latin = o.clone();
    latin.encoding = muppet_data::import::Encoding::Latin1;
    let got = import_bytes(Path::new("l.csv"), b"text,label\ncaf\xe9,a\n".to_vec(), &latin).expect("latin1").task;
    assert_eq!(got.examples[0].text_a, "café");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, b"{\"text\": \"z\", \"label\": \"a\"}\n").expect("gz");
    let bytes = gz.finish().expect("gz");
    let got = import_bytes(Path::new("x.jsonl.gz"), bytes, &ImportOptions::new("t", TaskFamily::Single, Format::Jsonl)).expect("gz");
    assert_eq!(got.task.examples[0].text_a, "z");
}
