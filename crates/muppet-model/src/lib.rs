//! muppet-model: the Burn side of Muppet Studio. A BERT/RoBERTa [`Encoder`] loaded from
//! Hugging Face checkpoints ([`load_pretrained`]), per-task heads ([`ClassificationHead`]) and
//! Muppet's loss scaling ([`scaled_cross_entropy`], [`LossScale`]).

mod activation;
mod attention;
mod classification_head;
mod config;
mod dropout;
mod embeddings;
mod encoder;
mod error;
pub mod export;
mod layer;
mod linear;
mod loader;
mod loss;
mod precision;
mod span_head;

pub use activation::HiddenAct;
pub use classification_head::{ClassificationHead, ClassificationHeadConfig};
pub use config::{EncoderConfig, ModelType};
pub use dropout::{Dropout, DropoutConfig};
pub use encoder::{Encoder, EncoderInput};
pub use error::ModelError;
pub use loader::{CONFIG_FILE, WEIGHTS_FILE, load_pretrained};
pub use loss::{
    LossScale, cross_entropy_per_example, mean_squared_error, scaled_cross_entropy, symmetric_kl,
    weighted_mean,
};
pub use linear::seed_init;
pub use precision::MixedPrecision;
pub use span_head::SpanHead;
