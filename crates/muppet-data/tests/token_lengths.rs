//! Token lengths with the real MiniLM tokenizer (BERT's uncased WordPiece): counted by hand
//! for common words that are one token each, with [CLS] and [SEP] around a text and one
//! more [SEP] between the two texts of a pair; never truncated.

use std::path::{Path, PathBuf};

use muppet_core::{MuppetHome, TaskFamily, TaskSpec};
use muppet_data::stats::TokenLengths;
use muppet_data::tokenize::TextEncoder;
use muppet_data::{Example, LabeledTask};

fn tokenizer() -> PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("..");
    let path = muppet_data::assets::model_dir(MuppetHome::from_env(|| repo.join(".muppet")).assets()).join("tokenizer.json");
    assert!(path.is_file(), "{} is missing: run `muppet assets fetch` (make test does)", path.display());
    path
}

#[test]
fn each_example_counts_its_longest_sequence_with_the_special_tokens() {
    // A short maximum length: the lengths are measured before any truncation.
    let encoder = TextEncoder::from_file(&tokenizer(), 16).expect("tokenizer");
    let long = "word ".repeat(600);
    let spec = TaskSpec::new("pairs", TaskFamily::Pair, vec!["no".into(), "yes".into()], "test", "none");
    let task = LabeledTask {
        spec,
        examples: vec![
            Example::class("hello world", None, 0),
            Example::class("hello world", Some("good morning".into()), 1),
            Example::class(long.trim(), None, 0),
        ],
    };
    assert_eq!(encoder.sequence_lengths(&task, &[0, 1, 2]).expect("lengths"), [4, 7, 602]);
    assert_eq!(encoder.sequence_lengths(&task, &[1]).expect("lengths"), [7]);
    let measured = TokenLengths::measure(&encoder, &task, &[4, 64, 1000]).expect("measured").expect("examples");
    assert_eq!((measured.measured, measured.examples), (3, 3));
    assert_eq!((measured.lengths.min, measured.lengths.p50, measured.lengths.max), (4, 7, 602));
    assert_eq!(measured.over, [(4, 2.0 / 3.0), (64, 1.0 / 3.0), (1000, 0.0)]);

    // Multiple choice: the context with its longest choice.
    let spec = TaskSpec::new("choices", TaskFamily::MultipleChoice, vec![], "test", "none");
    let task = LabeledTask { spec, examples: vec![Example::choice("hello", vec!["world".into(), "good morning friend".into()], 0)] };
    assert_eq!(encoder.sequence_lengths(&task, &[0]).expect("lengths"), [7]);
    assert!(encoder.sequence_lengths(&task, &[1]).expect_err("no example 1").to_string().contains("no example 1"));
}
