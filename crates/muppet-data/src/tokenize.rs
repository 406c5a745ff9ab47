//! Tokenization with the model's own `tokenizer.json` (the `tokenizers` crate), for every
//! task family:
//!
//! | family | sequences per item | target |
//! |---|---|---|
//! | single, pair, regression | one: `text_a` [+ `text_b`] | class / value |
//! | multiple choice | one per choice: (`text_a`, choice) | index of the right choice |
//! | span | one window of (question, context); long contexts give several windows that overlap by the doc stride | start and end token of the answer in the window, or the first token (`[CLS]`) when the window does not hold it |

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use tokenizers::{EncodeInput, Encoding, PostProcessor, Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

use crate::{DataError, Example, LabeledTask, Target};

/// One tokenized sequence, unpadded, specials included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSeq {
    pub ids: Vec<u32>,
    pub type_ids: Vec<u32>,
}

impl TokenSeq {
    pub fn len(&self) -> usize {
        self.ids.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// The target of one tokenized item.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ItemTarget {
    Class(usize),
    Value(f32),
    Choice(usize),
    /// Token positions of the answer in the window (both 0 when it is not inside).
    Span { start: usize, end: usize },
}

/// What a model is trained on and evaluated with: one example, or one window of a span
/// example.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Index of the example in its task.
    pub example: usize,
    /// One sequence, or one per choice for multiple choice.
    pub seqs: Vec<TokenSeq>,
    pub target: ItemTarget,
    /// Span windows only: for each token, the characters `[start, end)` of the context it
    /// covers; `None` for the question, the specials and anything outside the context.
    pub context_offsets: Vec<Option<(usize, usize)>>,
}

impl Item {
    /// Longest sequence of the item, in tokens.
    pub fn max_len(&self) -> usize {
        self.seqs.iter().map(TokenSeq::len).max().unwrap_or(0)
    }
}

/// Default overlap, in tokens, between consecutive windows of a long span context.
pub const DEFAULT_DOC_STRIDE: usize = 64;

/// The model's tokenizer with our own truncation and no padding: the MiniLM
/// `tokenizer.json` ships with padding and truncation to 128 built in, which would
/// silently pad every example.
pub struct TextEncoder {
    tokenizer: Tokenizer,
    /// Same tokenizer, truncating only the context and keeping the overflow as windows.
    span_tokenizer: Tokenizer,
    /// Same tokenizer without truncation or specials, to measure questions.
    plain: Tokenizer,
    doc_stride: usize,
    /// SHA-256 of `tokenizer.json`: part of the tokenized cache's key.
    hash: String,
    path: PathBuf,
    pad_id: u32,
    max_len: usize,
}

impl TextEncoder {
    /// Load `tokenizer.json`, truncating to `max_len` tokens (specials included).
    pub fn from_file(path: &Path, max_len: usize) -> Result<Self, DataError> {
        Self::with_doc_stride(path, max_len, DEFAULT_DOC_STRIDE.min(max_len / 4))
    }

    /// As [`TextEncoder::from_file`], with span windows overlapping by `doc_stride` tokens.
    pub fn with_doc_stride(path: &Path, max_len: usize, doc_stride: usize) -> Result<Self, DataError> {
        if !path.is_file() {
            return Err(DataError::AssetMissing { path: path.to_path_buf(), flag: "--model" });
        }
        let err = |message: String| DataError::Tokenizer { path: path.to_path_buf(), message };
        let mut tokenizer = Tokenizer::from_file(path).map_err(|e| err(e.to_string()))?;
        let pad_id = tokenizer.get_padding().map(|p| p.pad_id).unwrap_or(0);
        tokenizer.with_padding(None);
        // The tokenizer refuses a stride as long as the room for the passage; spans get at
        // most half of it (other families never use the stride).
        let specials = tokenizer.get_post_processor().map_or(3, |p| p.added_tokens(true));
        let doc_stride = doc_stride.min(max_len.saturating_sub(specials) / 2);
        let mut span_tokenizer = tokenizer.clone();
        let mut plain = tokenizer.clone();
        plain.with_truncation(None).map_err(|e| err(e.to_string()))?;
        let truncation = |strategy, stride| TruncationParams { max_length: max_len, strategy, stride, direction: TruncationDirection::Right };
        tokenizer.with_truncation(Some(truncation(TruncationStrategy::LongestFirst, 0))).map_err(|e| err(e.to_string()))?;
        span_tokenizer
            .with_truncation(Some(truncation(TruncationStrategy::OnlySecond, doc_stride)))
            .map_err(|e| err(e.to_string()))?;
        let hash = crate::assets::sha256_file(path)?;
        Ok(Self { tokenizer, span_tokenizer, plain, doc_stride, hash, path: path.to_path_buf(), pad_id, max_len })
    }

    /// Id used for padding.
    pub fn pad_id(&self) -> u32 {
        self.pad_id
    }

    /// Longest sequence produced, specials included.
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// Overlap of span windows, in tokens.
    pub fn doc_stride(&self) -> usize {
        self.doc_stride
    }

    /// SHA-256 of the `tokenizer.json` file.
    pub fn tokenizer_hash(&self) -> &str {
        &self.hash
    }

    /// Size of the tokenizer's vocabulary, specials included.
    pub fn vocab_size(&self) -> usize {
        self.tokenizer.get_vocab_size(true)
    }

    fn error(&self, message: String) -> DataError {
        DataError::Tokenizer { path: self.path.clone(), message }
    }

    /// Tokenize every example of `task`, on every core (span examples here, the others
    /// inside `tokenizers`).
    pub fn encode_task(&self, task: &LabeledTask) -> Result<Vec<Item>, DataError> {
        let examples = &task.examples;
        let record = |i: usize, message: String| DataError::Record {
            path: PathBuf::from(&task.spec.source),
            record: i + 1,
            message: format!("task `{}`: {message}", task.spec.name),
        };
        if let Some(why) = task.spec.family.why_not_trained() {
            return Err(DataError::Options(format!("task `{}`: {why}", task.spec.name)));
        }
        if examples.iter().any(|e| matches!(e.target, Target::Span(_))) {
            // Each example is windowed on its own, so examples go to every core; the
            // windows come back in example order, and a failure names the first bad record.
            let windows: Vec<Result<Vec<Item>, String>> =
                examples.par_iter().enumerate().map(|(i, e)| self.span_windows(i, e)).collect();
            let mut items = Vec::with_capacity(windows.iter().map(|w| w.as_ref().map_or(0, Vec::len)).sum());
            for (i, w) in windows.into_iter().enumerate() {
                items.extend(w.map_err(|m| record(i, m))?);
            }
            return Ok(items);
        }
        if examples.iter().any(|e| matches!(e.target, Target::Choice(_))) {
            let inputs: Vec<EncodeInput> =
                examples.iter().flat_map(|e| e.choices.iter().map(|c| pair(&e.text_a, Some(c)))).collect();
            let mut encodings = self.tokenizer.encode_batch(inputs, true).map_err(|e| self.error(e.to_string()))?.into_iter();
            return examples
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    let Target::Choice(answer) = e.target else { return Err(record(i, "not a multiple-choice example".into())) };
                    let seqs = encodings.by_ref().take(e.choices.len()).map(|enc| seq(&enc)).collect();
                    Ok(Item { example: i, seqs, target: ItemTarget::Choice(answer), context_offsets: Vec::new() })
                })
                .collect();
        }
        let inputs: Vec<EncodeInput> = examples.iter().map(|e| pair(&e.text_a, e.text_b.as_deref())).collect();
        let encodings = self.tokenizer.encode_batch(inputs, true).map_err(|e| self.error(e.to_string()))?;
        encodings
            .iter()
            .zip(examples)
            .enumerate()
            .map(|(i, (enc, e))| {
                let target = match e.target {
                    Target::Class(c) => ItemTarget::Class(c),
                    Target::Value(v) => ItemTarget::Value(v),
                    _ => return Err(record(i, "the task mixes example kinds".into())),
                };
                Ok(Item { example: i, seqs: vec![seq(enc)], target, context_offsets: Vec::new() })
            })
            .collect()
    }

    /// Per example of `ids`, the tokens of its longest sequence before any truncation,
    /// special tokens included: the text (and second text) of a classification or
    /// regression example, the context with each choice of a multiple-choice one, the
    /// question with the whole passage of a span one (which training reads in windows).
    pub fn sequence_lengths(&self, task: &LabeledTask, ids: &[usize]) -> Result<Vec<usize>, DataError> {
        let mut inputs: Vec<EncodeInput> = Vec::with_capacity(ids.len());
        let mut owners: Vec<usize> = Vec::with_capacity(ids.len());
        for (n, &i) in ids.iter().enumerate() {
            let e = task.examples.get(i).ok_or_else(|| DataError::Options(format!("task `{}` has no example {i}", task.spec.name)))?;
            if e.choices.is_empty() {
                inputs.push(pair(&e.text_a, e.text_b.as_deref()));
                owners.push(n);
            } else {
                for c in &e.choices {
                    inputs.push(pair(&e.text_a, Some(c)));
                    owners.push(n);
                }
            }
        }
        let encodings = self.plain.encode_batch(inputs, true).map_err(|e| self.error(e.to_string()))?;
        let mut longest = vec![0; ids.len()];
        for (enc, n) in encodings.iter().zip(owners) {
            longest[n] = longest[n].max(enc.len());
        }
        Ok(longest)
    }

    /// The windows of one span example, each with its answer positions.
    fn span_windows(&self, example: usize, e: &Example) -> Result<Vec<Item>, String> {
        let Target::Span(answers) = &e.target else { return Err("not a span example".into()) };
        let context = e.text_b.as_deref().ok_or("a span example needs a context")?;
        let answer = answers.first().ok_or("a span example needs an answer")?;
        let (a_start, a_end) = (answer.start, answer.start + answer.text.chars().count());
        // The question keeps at most half of the room; the passage windows get the rest and
        // overlap by the doc stride, or by half their length when that is smaller (the
        // tokenizer refuses a stride as long as the window).
        let specials = self.span_tokenizer.get_post_processor().map_or(3, |p| p.added_tokens(true));
        let budget = self.max_len.saturating_sub(specials);
        let question = self.plain.encode_char_offsets(e.text_a.as_str(), false).map_err(|err| format!("cannot tokenize the question: {err}"))?;
        let max_question = budget / 2;
        let question_text: String = match question.get_offsets().get(max_question) {
            Some(&(cut, _)) => e.text_a.chars().take(cut).collect(),
            None => e.text_a.clone(),
        };
        let room = budget - question.len().min(max_question);
        if room < 2 {
            return Err(format!("the maximum length {} leaves no room for the passage; raise --max-len", self.max_len));
        }
        let stride = self.doc_stride.min(room / 2);
        let tokenizer = if stride == self.doc_stride {
            std::borrow::Cow::Borrowed(&self.span_tokenizer)
        } else {
            let mut t = self.span_tokenizer.clone();
            let params = TruncationParams { max_length: self.max_len, strategy: TruncationStrategy::OnlySecond, stride, direction: TruncationDirection::Right };
            t.with_truncation(Some(params)).map_err(|err| err.to_string())?;
            std::borrow::Cow::Owned(t)
        };
        let mut encoding = tokenizer
            .encode_char_offsets(pair(&question_text, Some(context)), true)
            .map_err(|err| format!("cannot tokenize the question and context: {err}"))?;
        let overflow = encoding.take_overflowing();
        Ok(std::iter::once(encoding)
            .chain(overflow)
            .map(|window| {
                let context_offsets: Vec<Option<(usize, usize)>> = window
                    .get_sequence_ids()
                    .iter()
                    .zip(window.get_offsets())
                    .map(|(s, &(a, b))| (*s == Some(1) && b > a).then_some((a, b)))
                    .collect();
                let start = context_offsets.iter().position(|o| o.is_some_and(|(s, e)| s <= a_start && a_start < e));
                let end = context_offsets.iter().rposition(|o| o.is_some_and(|(s, e)| s < a_end && a_end <= e));
                let target = match (start, end) {
                    (Some(s), Some(e)) if s <= e => ItemTarget::Span { start: s, end: e },
                    _ => ItemTarget::Span { start: 0, end: 0 },
                };
                Item { example, seqs: vec![seq(&window)], target, context_offsets }
            })
            .collect())
    }
}

fn pair<'s>(a: &'s str, b: Option<&'s str>) -> EncodeInput<'s> {
    match b {
        Some(b) => EncodeInput::Dual(a.into(), b.into()),
        None => EncodeInput::Single(a.into()),
    }
}

fn seq(enc: &Encoding) -> TokenSeq {
    TokenSeq { ids: enc.get_ids().to_vec(), type_ids: enc.get_type_ids().to_vec() }
}

/// Sequences padded to the longest one (dynamic padding), row-major `[batch, seq]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Padded {
    pub batch: usize,
    pub seq: usize,
    pub input_ids: Vec<i64>,
    pub type_ids: Vec<i64>,
    pub attention_mask: Vec<i64>,
}

/// Pad `seqs` to the longest of them with `pad_id`.
pub fn pad(seqs: &[&TokenSeq], pad_id: u32) -> Padded {
    let seq = seqs.iter().map(|s| s.len()).max().unwrap_or(0);
    let batch = seqs.len();
    let mut out = Padded {
        batch,
        seq,
        input_ids: vec![pad_id as i64; batch * seq],
        type_ids: vec![0; batch * seq],
        attention_mask: vec![0; batch * seq],
    };
    for (row, s) in seqs.iter().enumerate() {
        for (col, (&id, &ty)) in s.ids.iter().zip(&s.type_ids).enumerate() {
            out.input_ids[row * seq + col] = id as i64;
            out.type_ids[row * seq + col] = ty as i64;
            out.attention_mask[row * seq + col] = 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_to_longest_with_mask() {
        let a = TokenSeq { ids: vec![101, 7, 102], type_ids: vec![0, 0, 0] };
        let b = TokenSeq { ids: vec![101, 102], type_ids: vec![0, 0] };
        let p = pad(&[&a, &b], 0);
        assert_eq!((p.batch, p.seq), (2, 3));
        assert_eq!(p.input_ids, vec![101, 7, 102, 101, 102, 0]);
        assert_eq!(p.attention_mask, vec![1, 1, 1, 1, 1, 0]);
    }
}
