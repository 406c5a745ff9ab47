//! Experiment specs small enough for a test.

/// The `[prefinetune]` and `[finetune]` settings of a test experiment: a few updates of 4
/// examples of 32 tokens, 16 dev examples, no checkpoints or evaluation in between.
pub const TINY_SETTINGS: &str = r#"
[prefinetune]
steps = 3
batch_size = 4
tasks_per_update = 2
max_len = 32
doc_stride = 8
dev_size = 16
warmup = 1
eval_every = 0
checkpoint_every = 0

[finetune]
steps = 2
batch_size = 4
max_len = 32
doc_stride = 8
dev_size = 16
warmup = 0
"#;
