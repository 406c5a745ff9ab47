//! Dev evaluation: accuracy of each task's head on its dev examples, computed
//! without dropout on the inner (non-autodiff) backend.

use burn::prelude::*;
use muppet_data::tokenize::{pad_batch, Encoded, PaddedBatch};
use muppet_model::EncoderInput;

use crate::model::MultiTaskModel;

/// Examples per evaluation batch.
const EVAL_BATCH: usize = 32;

/// Accuracy of head `task` on `examples`.
pub fn accuracy<B: Backend>(model: &MultiTaskModel<B>, task: usize, examples: &[&Encoded], pad_id: u32, device: &B::Device) -> f64 {
    if examples.is_empty() {
        return f64::NAN;
    }
    let mut correct = 0usize;
    // Sorting by length keeps padding low inside each batch.
    let mut sorted: Vec<&Encoded> = examples.to_vec();
    sorted.sort_by_key(|e| e.input_ids.len());
    for chunk in sorted.chunks(EVAL_BATCH) {
        let batch = pad_batch(chunk, pad_id);
        let (input, _) = tensors::<B>(&batch, device);
        let predicted = model.first_token_head(crate::model::HeadRef::Classifier(task), model.encode(input)).argmax(1).into_data();
        let predicted: Vec<i64> = predicted.iter::<i64>().collect();
        correct += predicted.iter().zip(&batch.labels).filter(|(p, l)| p == l).count();
    }
    correct as f64 / examples.len() as f64
}

/// Tensors of a padded batch: the encoder input and the class targets.
pub fn tensors<B: Backend>(batch: &PaddedBatch, device: &B::Device) -> (EncoderInput<B>, Tensor<B, 1, Int>) {
    let shape = [batch.batch, batch.seq];
    let int2 = |v: &[i64]| Tensor::<B, 2, Int>::from_data(TensorData::new(v.to_vec(), shape), device);
    let input = EncoderInput {
        input_ids: int2(&batch.input_ids),
        token_type_ids: int2(&batch.type_ids),
        attention_mask: int2(&batch.attention_mask),
    };
    let targets = Tensor::<B, 1, Int>::from_data(TensorData::new(batch.labels.clone(), [batch.batch]), device);
    (input, targets)
}
