//! Span tokenization with the real MiniLM tokenizer: long passages become overlapping
//! windows, the answer's token positions read back the answer, and questions longer than
//! the window never make the tokenizer fail.

use std::path::{Path, PathBuf};

use muppet_core::{MuppetHome, TaskFamily, TaskSpec};
use muppet_data::tokenize::{ItemTarget, TextEncoder};
use muppet_data::{Answer, Example, LabeledTask};

fn tokenizer() -> PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("..");
    let path = muppet_data::assets::model_dir(MuppetHome::from_env(|| repo.join(".muppet")).assets()).join("tokenizer.json");
    assert!(path.is_file(), "{} is missing: run `muppet assets fetch` (make test does)", path.display());
    path
}

fn span_task(question: &str, context: &str, answer: &str) -> LabeledTask {
    let start = context.find(answer).expect("answer in context");
    let start = context[..start].chars().count();
    let spec = TaskSpec::new("spans", TaskFamily::Span, vec![], "test", "none");
    LabeledTask { spec, examples: vec![Example::span(question, context, vec![Answer { start, text: answer.into() }])] }
}

#[test]
fn long_passages_become_windows_that_locate_the_answer() {
    let filler: String = (0..60).map(|i| format!("Sentence number {i} says nothing at all. ")).collect();
    let context = format!("{filler}The treaty was signed in Utrecht in 1713. {filler}");
    let task = span_task("Where was the treaty signed?", &context, "Utrecht");
    let encoder = TextEncoder::with_doc_stride(&tokenizer(), 64, 16).expect("tokenizer");
    let items = encoder.encode_task(&task).expect("encode");
    assert!(items.len() > 10, "a long passage gives many windows, got {}", items.len());
    let mut found = 0;
    for item in &items {
        assert!(item.max_len() <= 64);
        if let ItemTarget::Span { start, end } = item.target
            && start > 0
        {
            let (from, _) = item.context_offsets[start].expect("a passage token");
            let (_, to) = item.context_offsets[end].expect("a passage token");
            let text: String = context.chars().skip(from).take(to - from).collect();
            assert_eq!(text, "Utrecht");
            found += 1;
        }
    }
    // Windows overlap, so the answer may sit in one or two of them.
    assert!((1..=2).contains(&found), "{found}");
}

#[test]
fn a_question_longer_than_the_window_is_cut_not_fatal() {
    let question = "why ".repeat(80);
    let task = span_task(&question, "The answer is here in this short passage.", "here");
    let encoder = TextEncoder::with_doc_stride(&tokenizer(), 48, 8).expect("tokenizer");
    let items = encoder.encode_task(&task).expect("long question");
    assert!(items.iter().all(|i| i.max_len() <= 48));
    assert!(items.iter().any(|i| matches!(i.target, ItemTarget::Span { start, .. } if start > 0)));
}

#[test]
fn the_token_cache_returns_what_tokenizing_returns_and_misses_on_new_data() {
    use muppet_data::token_cache::{Lookup, TokenCache};
    let dir = tempfile::tempdir().expect("tempdir");
    let cache = TokenCache::new(dir.path());
    let encoder = TextEncoder::with_doc_stride(&tokenizer(), 64, 16).expect("tokenizer");
    let mut task = span_task("Where?", "It happened in Utrecht, long ago.", "Utrecht");
    let (fresh, first) = cache.load_or_encode(&task, &encoder).expect("miss");
    let (cached, second) = cache.load_or_encode(&task, &encoder).expect("hit");
    assert_eq!((first, second), (Lookup::Miss, Lookup::Hit));
    assert_eq!(cached, fresh);
    assert_eq!(fresh, encoder.encode_task(&task).expect("encode"));
    // Other data, or another maximum length, is another entry.
    task.examples[0].text_a = "Where did it happen?".into();
    assert_eq!(cache.load_or_encode(&task, &encoder).expect("new data").1, Lookup::Miss);
    let shorter = TextEncoder::with_doc_stride(&tokenizer(), 32, 8).expect("tokenizer");
    assert_eq!(cache.load_or_encode(&task, &shorter).expect("new length").1, Lookup::Miss);
}

#[test]
fn a_stride_longer_than_the_window_is_shortened_not_refused() {
    // --max-len 32 with the default stride of 32: classification tasks never use the
    // stride, and spans get half of the room.
    let encoder = TextEncoder::with_doc_stride(&tokenizer(), 32, 32).expect("a short window");
    assert!(encoder.doc_stride() < 16, "{}", encoder.doc_stride());
    let task = span_task("Where?", "It happened in Utrecht, long ago, in a town by the river.", "Utrecht");
    assert!(!encoder.encode_task(&task).expect("encode").is_empty());
}
