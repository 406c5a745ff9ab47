//! Dev evaluation of one task through its head, on the inner (non-autodiff) backend so
//! that dropout is off, scored with the task's metrics (`crate::metrics`).

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

/// Score `items` (dev items of `task`) with `model`'s `head`.
pub fn evaluate<B: Backend>(
    model: &MultiTaskModel<B>,
    head: HeadRef,
    task: &LabeledTask,
    items: &[&Item],
    pad_id: u32,
    device: &B::Device,
) -> Scores {
    let family = task.spec.family;
    let n_classes = task.spec.labels.len();
    // Sorting by length keeps padding low inside each batch.
    let mut sorted: Vec<&Item> = items.to_vec();
    sorted.sort_by_key(|i| i.max_len());
    let per_batch = match family {
        TaskFamily::MultipleChoice => (EVAL_SEQS / sorted.iter().map(|i| i.seqs.len()).max().unwrap_or(1)).max(1),
        _ => EVAL_SEQS,
    };
    let mut class_pred = Vec::new();
    let mut class_gold = Vec::new();
    let mut values = Vec::new();
    let mut golds = Vec::new();
    // Span: per example, the best (score, answer text) over its windows.
    let mut best: std::collections::BTreeMap<usize, (f32, String)> = Default::default();
    for chunk in sorted.chunks(per_batch) {
        let batch = collate::<B>(family, n_classes, chunk, pad_id, device);
        match batch.target {
            BatchTarget::Class { .. } => {
                let logits = model.first_token_head(head, model.encode(batch.input));
                class_pred.extend(argmax_rows(logits));
                class_gold.extend(chunk.iter().map(|i| match i.target {
                    ItemTarget::Class(c) => c,
                    _ => usize::MAX,
                }));
            }
            BatchTarget::Value { targets } => {
                let out = model.first_token_head(head, model.encode(batch.input)).into_data();
                values.extend(out.iter::<f32>().map(f64::from));
                golds.extend(targets.into_data().iter::<f32>().map(f64::from));
            }
            BatchTarget::Choice { bias, k, targets, .. } => {
                let scores = model.first_token_head(HeadRef::Choice, model.encode(batch.input)).reshape([chunk.len(), k]) + bias;
                class_pred.extend(argmax_rows(scores));
                class_gold.extend(targets.into_data().iter::<i64>().map(|t| t as usize));
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
    }
    let metric = task.spec.metric;
    match family {
        TaskFamily::Generation => unreachable!("{}", crate::model::REFUSED),
        TaskFamily::Single | TaskFamily::Pair => {
            let value = |m: Metric| match m {
                Metric::MacroF1 => metrics::macro_f1(&class_pred, &class_gold),
                Metric::Mcc => metrics::mcc(&class_pred, &class_gold),
                _ => metrics::accuracy(&class_pred, &class_gold),
            };
            ordered(metric, [Metric::Accuracy, Metric::MacroF1, Metric::Mcc], value)
        }
        TaskFamily::MultipleChoice => vec![(Metric::Accuracy, metrics::accuracy(&class_pred, &class_gold))],
        TaskFamily::Regression => {
            let value = |m: Metric| match m {
                Metric::Spearman => metrics::spearman(&values, &golds),
                _ => metrics::pearson(&values, &golds),
            };
            ordered(metric, [Metric::Pearson, Metric::Spearman, Metric::Pearson], value)
        }
        TaskFamily::Span => {
            let mut examples: Vec<usize> = items.iter().map(|i| i.example).collect();
            examples.dedup();
            let (mut em, mut f1) = (0.0, 0.0);
            for &ex in &examples {
                let Target::Span(answers) = &task.examples[ex].target else { continue };
                let gold: Vec<&str> = answers.iter().map(|a| a.text.as_str()).collect();
                let predicted = best.get(&ex).map(|(_, t)| t.as_str()).unwrap_or("");
                em += metrics::exact_match(predicted, &gold);
                f1 += metrics::span_f1(predicted, &gold);
            }
            let n = examples.len().max(1) as f64;
            ordered(metric, [Metric::SpanF1, Metric::SpanExactMatch, Metric::SpanF1], |m| {
                if m == Metric::SpanExactMatch { em / n } else { f1 / n }
            })
        }
    }
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

fn argmax_rows<B: Backend>(logits: Tensor<B, 2>) -> Vec<usize> {
    logits.argmax(1).into_data().iter::<i64>().map(|i| i as usize).collect()
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
