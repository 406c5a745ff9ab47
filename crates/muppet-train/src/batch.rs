//! From tokenized items to tensors: one micro-batch of one task, padded to its longest
//! sequence, with what its head's loss needs.

use burn::prelude::*;
use muppet_core::TaskFamily;
use muppet_data::tokenize::{pad, Item, ItemTarget, TokenSeq};
use muppet_model::EncoderInput;

/// Added to the logit of an outcome that does not exist for a row (a missing choice, a
/// token outside the passage).
pub const MASKED: f32 = -1e4;

/// A micro-batch on the device.
pub struct Batch<B: Backend> {
    pub input: EncoderInput<B>,
    pub target: BatchTarget<B>,
    /// Examples (not sequences) in the batch.
    pub size: usize,
}

/// Targets of a micro-batch, by family.
pub enum BatchTarget<B: Backend> {
    Class { targets: Tensor<B, 1, Int>, n_classes: usize },
    Value { targets: Tensor<B, 1> },
    /// `input` holds `size * k` sequences, row `i * k + j` being choice j of example i.
    Choice { targets: Tensor<B, 1, Int>, bias: Tensor<B, 2>, k: usize, n_choices: Vec<usize> },
    Span { start: Tensor<B, 1, Int>, end: Tensor<B, 1, Int>, bias: Tensor<B, 2>, n_positions: Vec<usize> },
}

/// Build the tensors of `items` (all of one task of `family` with `n_classes` labels).
pub fn collate<B: Backend>(family: TaskFamily, n_classes: usize, items: &[&Item], pad_id: u32, device: &B::Device) -> Batch<B> {
    let size = items.len();
    let ints = |v: Vec<i64>| Tensor::<B, 1, Int>::from_data(TensorData::new(v, [size]), device);
    match family {
        TaskFamily::Generation => unreachable!("{}", crate::model::REFUSED),
        TaskFamily::MultipleChoice => {
            let k = items.iter().map(|i| i.seqs.len()).max().unwrap_or(1);
            // Absent choices repeat the first one and are masked out of the softmax.
            let seqs: Vec<&TokenSeq> = items.iter().flat_map(|i| (0..k).map(|j| i.seqs.get(j).unwrap_or(&i.seqs[0]))).collect();
            let bias: Vec<f32> =
                items.iter().flat_map(|i| (0..k).map(move |j| if j < i.seqs.len() { 0.0 } else { MASKED })).collect();
            let targets = items.iter().map(|i| match i.target {
                ItemTarget::Choice(c) => c as i64,
                _ => 0,
            });
            Batch {
                input: encoder_input(&seqs, pad_id, device),
                target: BatchTarget::Choice {
                    targets: ints(targets.collect()),
                    bias: Tensor::from_data(TensorData::new(bias, [size, k]), device),
                    k,
                    n_choices: items.iter().map(|i| i.seqs.len()).collect(),
                },
                size,
            }
        }
        TaskFamily::Span => {
            let seqs: Vec<&TokenSeq> = items.iter().map(|i| &i.seqs[0]).collect();
            let input = encoder_input(&seqs, pad_id, device);
            let seq = input.input_ids.dims()[1];
            // The answer may be any passage token, or the first token ("not in this window").
            let mut bias = vec![MASKED; size * seq];
            let mut n_positions = Vec::with_capacity(size);
            for (row, item) in items.iter().enumerate() {
                bias[row * seq] = 0.0;
                let mut n = 1;
                for (col, o) in item.context_offsets.iter().enumerate() {
                    if o.is_some() {
                        bias[row * seq + col] = 0.0;
                        n += 1;
                    }
                }
                n_positions.push(n);
            }
            let (start, end): (Vec<i64>, Vec<i64>) = items
                .iter()
                .map(|i| match i.target {
                    ItemTarget::Span { start, end } => (start as i64, end as i64),
                    _ => (0, 0),
                })
                .unzip();
            Batch {
                input,
                target: BatchTarget::Span {
                    start: ints(start),
                    end: ints(end),
                    bias: Tensor::from_data(TensorData::new(bias, [size, seq]), device),
                    n_positions,
                },
                size,
            }
        }
        TaskFamily::Regression => {
            let seqs: Vec<&TokenSeq> = items.iter().map(|i| &i.seqs[0]).collect();
            let values: Vec<f32> = items
                .iter()
                .map(|i| match i.target {
                    ItemTarget::Value(v) => v,
                    _ => 0.0,
                })
                .collect();
            Batch {
                input: encoder_input(&seqs, pad_id, device),
                target: BatchTarget::Value { targets: Tensor::from_data(TensorData::new(values, [size]), device) },
                size,
            }
        }
        TaskFamily::Single | TaskFamily::Pair => {
            let seqs: Vec<&TokenSeq> = items.iter().map(|i| &i.seqs[0]).collect();
            let targets = items.iter().map(|i| match i.target {
                ItemTarget::Class(c) => c as i64,
                _ => 0,
            });
            Batch {
                input: encoder_input(&seqs, pad_id, device),
                target: BatchTarget::Class { targets: ints(targets.collect()), n_classes },
                size,
            }
        }
    }
}

/// Pad `seqs` and move them to the device.
pub fn encoder_input<B: Backend>(seqs: &[&TokenSeq], pad_id: u32, device: &B::Device) -> EncoderInput<B> {
    let p = pad(seqs, pad_id);
    let shape = [p.batch, p.seq];
    let int2 = |v: Vec<i64>| Tensor::<B, 2, Int>::from_data(TensorData::new(v, shape), device);
    EncoderInput { input_ids: int2(p.input_ids), token_type_ids: int2(p.type_ids), attention_mask: int2(p.attention_mask) }
}
