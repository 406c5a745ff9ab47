//! Evaluation of one task through a head, on the inner (non-autodiff) backend so that
//! dropout is off, scored with the task's metrics (`crate::metrics`): the dev scores of
//! training, and [`crate::score`]'s scoring of a checkpoint with each example's prediction.

use burn::prelude::*;
use muppet_core::{Metric, TaskFamily};
use muppet_data::tokenize::{Item, ItemTarget};
use muppet_data::{LabeledTask, Target};

use crate::batch::{collate, BatchTarget, MASKED};
use crate::metrics;
use crate::model::{HeadRef, MultiTaskModel};

/// Sequences per evaluation batch.
const EVAL_SEQS: usize = 32;
/// Longest answer considered when decoding a span, in tokens (as the SQuAD baselines).
const MAX_ANSWER_TOKENS: usize = 30;

/// Metric values of one task, the task's own metric first.
pub type Scores = Vec<(Metric, f64)>;

/// What the head predicted for one example.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// Index of the example in the task scored (import order).
    pub example: usize,
    pub predicted: Predicted,
}

/// A head's output for one example.
#[derive(Debug, Clone, PartialEq)]
pub enum Predicted {
    /// A class (classification) or a choice (multiple choice), with the softmax of the
    /// head's scores over the classes or the example's choices.
    Class { index: usize, probabilities: Vec<f32> },
    /// Regression.
    Value(f64),
    /// The best answer over the example's windows, with its start + end logit; empty (and
    /// no score) when no window had a passage token.
    Span { text: String, score: Option<f32> },
}

/// Scores of a task, and the prediction behind each.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub scores: Scores,
    /// One per example: by length for classification, multiple choice and regression (the
    /// order they were scored in), in the order of the items given for spans.
    pub predictions: Vec<Prediction>,
}

/// Score `items` (dev items of `task`) with `model`'s `head`.
pub fn evaluate<B: Backend>(
    model: &MultiTaskModel<B>,
    head: HeadRef,
    task: &LabeledTask,
    items: &[&Item],
    pad_id: u32,
    device: &B::Device,
) -> Scores {
    predict(model, head, task, items, pad_id, device, &mut |_, _| {}).scores
}

/// [`evaluate`], keeping each example's prediction; `progress(done, total)` hears after
/// each batch, in items.
pub fn predict<B: Backend>(
    model: &MultiTaskModel<B>,
    head: HeadRef,
    task: &LabeledTask,
    items: &[&Item],
    pad_id: u32,
    device: &B::Device,
    progress: &mut dyn FnMut(usize, usize),
) -> Evaluation {
    let family = task.spec.family;
    let n_classes = task.spec.labels.len();
    // Sorting by length keeps padding low inside each batch.
    let mut sorted: Vec<&Item> = items.to_vec();
    sorted.sort_by_key(|i| i.max_len());
    let per_batch = match family {
        TaskFamily::MultipleChoice => (EVAL_SEQS / sorted.iter().map(|i| i.seqs.len()).max().unwrap_or(1)).max(1),
        _ => EVAL_SEQS,
    };
    // Classification and multiple choice: (prediction, gold) per example.
    let mut classes: Vec<(Prediction, usize)> = Vec::new();
    // Regression: (prediction, gold).
    let mut values: Vec<(Prediction, f64)> = Vec::new();
    // Span: per example, the best (score, answer text) over its windows.
    let mut best: std::collections::BTreeMap<usize, (f32, String)> = Default::default();
    let mut done = 0;
    for chunk in sorted.chunks(per_batch) {
        let batch = collate::<B>(family, n_classes, chunk, pad_id, device);
        match batch.target {
            BatchTarget::Class { .. } => {
                let logits = model.first_token_head(head, model.encode(batch.input));
                for ((index, probabilities), item) in softmax_rows(logits, |_| usize::MAX).into_iter().zip(chunk) {
                    let gold = match item.target {
                        ItemTarget::Class(c) => c,
                        _ => usize::MAX,
                    };
                    classes.push((Prediction { example: item.example, predicted: Predicted::Class { index, probabilities } }, gold));
                }
            }
            BatchTarget::Value { targets } => {
                let out = model.first_token_head(head, model.encode(batch.input)).into_data();
                let golds = targets.into_data();
                for ((value, gold), item) in out.iter::<f32>().zip(golds.iter::<f32>()).zip(chunk) {
                    values.push((Prediction { example: item.example, predicted: Predicted::Value(f64::from(value)) }, f64::from(gold)));
                }
            }
            BatchTarget::Choice { bias, k, targets, n_choices } => {
                let scores = model.first_token_head(HeadRef::Choice, model.encode(batch.input)).reshape([chunk.len(), k]) + bias;
                let golds = targets.into_data();
                let rows = softmax_rows(scores, |row| n_choices[row]);
                for (((index, probabilities), gold), item) in rows.into_iter().zip(golds.iter::<i64>()).zip(chunk) {
                    classes.push((Prediction { example: item.example, predicted: Predicted::Class { index, probabilities } }, gold as usize));
                }
            }
            BatchTarget::Span { .. } => {
                let (s, e) = model.span_logits(model.encode(batch.input));
                let seq = s.dims()[1];
                let s: Vec<f32> = s.into_data().iter::<f32>().collect();
                let e: Vec<f32> = e.into_data().iter::<f32>().collect();
                for (row, item) in chunk.iter().enumerate() {
                    let Some(context) = task.examples[item.example].text_b.as_deref() else { continue };
                    let row_s = &s[row * seq..(row + 1) * seq];
                    let row_e = &e[row * seq..(row + 1) * seq];
                    if let Some((score, text)) = best_span(row_s, row_e, &item.context_offsets, context) {
                        let entry = best.entry(item.example).or_insert((f32::NEG_INFINITY, String::new()));
                        if score > entry.0 {
                            *entry = (score, text);
                        }
                    }
                }
            }
        }
        done += chunk.len();
        progress(done, sorted.len());
    }
    let metric = task.spec.metric;
    match family {
        TaskFamily::Generation => unreachable!("{}", crate::model::REFUSED),
        TaskFamily::Single | TaskFamily::Pair => {
            let (pred, gold) = class_indices(&classes);
            let value = |m: Metric| match m {
                Metric::MacroF1 => metrics::macro_f1(&pred, &gold),
                Metric::Mcc => metrics::mcc(&pred, &gold),
                _ => metrics::accuracy(&pred, &gold),
            };
            let scores = ordered(metric, [Metric::Accuracy, Metric::MacroF1, Metric::Mcc], value);
            Evaluation { scores, predictions: classes.into_iter().map(|(p, _)| p).collect() }
        }
        TaskFamily::MultipleChoice => {
            let (pred, gold) = class_indices(&classes);
            let scores = vec![(Metric::Accuracy, metrics::accuracy(&pred, &gold))];
            Evaluation { scores, predictions: classes.into_iter().map(|(p, _)| p).collect() }
        }
        TaskFamily::Regression => {
            let predicted: Vec<f64> = values.iter().map(|(p, _)| if let Predicted::Value(v) = p.predicted { v } else { f64::NAN }).collect();
            let golds: Vec<f64> = values.iter().map(|(_, g)| *g).collect();
            let value = |m: Metric| match m {
                Metric::Spearman => metrics::spearman(&predicted, &golds),
                _ => metrics::pearson(&predicted, &golds),
            };
            let scores = ordered(metric, [Metric::Pearson, Metric::Spearman, Metric::Pearson], value);
            Evaluation { scores, predictions: values.into_iter().map(|(p, _)| p).collect() }
        }
        TaskFamily::Span => {
            let mut examples: Vec<usize> = items.iter().map(|i| i.example).collect();
            examples.dedup();
            let (mut em, mut f1) = (0.0, 0.0);
            let mut predictions = Vec::with_capacity(examples.len());
            for &ex in &examples {
                let Target::Span(answers) = &task.examples[ex].target else { continue };
                let gold: Vec<&str> = answers.iter().map(|a| a.text.as_str()).collect();
                let found = best.get(&ex);
                let predicted = found.map(|(_, t)| t.as_str()).unwrap_or("");
                em += metrics::exact_match(predicted, &gold);
                f1 += metrics::span_f1(predicted, &gold);
                predictions.push(Prediction { example: ex, predicted: Predicted::Span { text: predicted.to_string(), score: found.map(|(s, _)| *s) } });
            }
            let n = examples.len().max(1) as f64;
            let scores = ordered(metric, [Metric::SpanF1, Metric::SpanExactMatch, Metric::SpanF1], |m| {
                if m == Metric::SpanExactMatch { em / n } else { f1 / n }
            });
            Evaluation { scores, predictions }
        }
    }
}

/// The predicted and gold class of each example.
fn class_indices(classes: &[(Prediction, usize)]) -> (Vec<usize>, Vec<usize>) {
    classes
        .iter()
        .map(|(p, gold)| match p.predicted {
            Predicted::Class { index, .. } => (index, *gold),
            _ => (usize::MAX, *gold),
        })
        .unzip()
}

/// The task's metric first, then the family's other metrics, each once.
fn ordered(first: Metric, all: [Metric; 3], value: impl Fn(Metric) -> f64) -> Scores {
    let mut out = vec![(first, value(first))];
    for m in all {
        if out.iter().all(|(have, _)| *have != m) {
            out.push((m, value(m)));
        }
    }
    out
}

/// Per row of `scores` `[rows, k]`: the first index of its highest score, and the softmax of
/// its first `width(row)` scores (all `k` when `width` says more).
fn softmax_rows<B: Backend>(scores: Tensor<B, 2>, width: impl Fn(usize) -> usize) -> Vec<(usize, Vec<f32>)> {
    let k = scores.dims()[1];
    let data: Vec<f32> = scores.into_data().iter::<f32>().collect();
    data.chunks(k.max(1))
        .enumerate()
        .map(|(row, s)| {
            let s = &s[..width(row).min(k)];
            let (mut index, mut top) = (0, f32::NEG_INFINITY);
            for (i, &v) in s.iter().enumerate() {
                if v > top {
                    (index, top) = (i, v);
                }
            }
            let exp: Vec<f32> = s.iter().map(|&v| (v - top).exp()).collect();
            let sum: f32 = exp.iter().sum();
            (index, exp.into_iter().map(|e| e / sum).collect())
        })
        .collect()
}

/// The highest-scoring answer of one window: start `i` and end `j >= i` among the passage
/// tokens, at most [`MAX_ANSWER_TOKENS`] apart, maximising `start[i] + end[j]`.
fn best_span(start: &[f32], end: &[f32], offsets: &[Option<(usize, usize)>], context: &str) -> Option<(f32, String)> {
    let mut best: Option<(f32, usize, usize)> = None;
    for (i, oi) in offsets.iter().enumerate() {
        if oi.is_none() || start[i] <= MASKED {
            continue;
        }
        for (j, oj) in offsets.iter().enumerate().skip(i).take(MAX_ANSWER_TOKENS) {
            if oj.is_none() {
                continue;
            }
            let score = start[i] + end[j];
            if best.is_none_or(|(b, _, _)| score > b) {
                best = Some((score, i, j));
            }
        }
    }
    let (score, i, j) = best?;
    let (from, to) = (offsets[i]?.0, offsets[j]?.1);
    Some((score, context.chars().skip(from).take(to.saturating_sub(from)).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn best_span_reads_the_passage_text() {
        let context = "Zoë lives in Paris now";
        // Tokens: [CLS] q [SEP] Zoë lives in Paris now [SEP]
        let offsets = vec![None, None, None, Some((0, 3)), Some((4, 9)), Some((10, 12)), Some((13, 18)), Some((19, 22)), None];
        let mut start = vec![0.0f32; 9];
        let mut end = vec![0.0f32; 9];
        start[0] = 50.0; // the first token is not a passage token
        start[6] = 5.5;
        end[6] = 4.0;
        end[5] = 9.0; // with start[3..=5] = 0 this scores 9, below 9.5
        let (score, text) = best_span(&start, &end, &offsets, context).expect("a span");
        assert_eq!(text, "Paris");
        assert_eq!(score, 9.5);
    }
}
