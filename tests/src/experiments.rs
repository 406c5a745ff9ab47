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

/// A sweep that stops a run that falls behind (without its `name`): two learning rates on
/// vader_tweets from the same weights, one seed, a dev evaluation after every update, each
/// run compared once one has finished. Trained one at a time, the learning rate 0 run
/// finishes first, its dev correlation where both began; one update at 1e-3 moves the other
/// below that, so the rule stops it at its first evaluation.
pub const PRUNED_SWEEP: &str = r#"
[finetune]
steps = 4
batch_size = 2
max_len = 64
dev_size = 40
warmup = 0
eval_every = 1

[sweep]
tasks = ["vader_tweets"]
seeds = 1
train_size = 40
early_terminate = { rule = "median", min_runs = 1 }

[sweep.grid]
lr = [0.0, 1e-3]
"#;
