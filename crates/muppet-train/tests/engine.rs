//! The training loop on the real all-MiniLM-L6-v2 and real demo tasks (one per family:
//! classification, multiple choice, span): resume, fine-tuning from a checkpoint, and the
//! bad inputs that must fail with a clear error. The asset folder is `MUPPET_ASSETS`, else
//! `$MUPPET_HOME/assets`, else `.muppet/assets` at the repository root (`make test` fills it).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use burn::backend::{Autodiff, Flex};
use muppet_core::{MetricPoint, MuppetHome, RunEvent, RunId, RunObserver};
use muppet_data::{Example, LabeledTask};
use muppet_train::{train, Init, Outcome, TrainConfig, TrainError, TrainJob, TrainSummary};

type B = Autodiff<Flex>;

fn assets() -> PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("..");
    MuppetHome::from_env(|| repo.join(".muppet")).assets().to_path_buf()
}

fn model_dir() -> PathBuf {
    let dir = muppet_data::assets::model_dir(&assets());
    assert!(dir.join("model.safetensors").is_file(), "no model in {}: run `muppet assets fetch` (make test does)", dir.display());
    dir
}

/// The first `n` examples of a demo task.
fn task(name: &str, n: usize) -> LabeledTask {
    let mut t = muppet_data::catalog::load_task(&assets(), name).unwrap_or_else(|e| panic!("loading {name}: {e}"));
    t.examples.truncate(n);
    t
}

fn mixture() -> Vec<LabeledTask> {
    vec![task("sarcasm_headlines", 200), task("strategyqa", 200), task("squad_dev", 120)]
}

fn config() -> TrainConfig {
    TrainConfig {
        steps: 4,
        batch_size: 2,
        tasks_per_update: 3,
        max_len: 96,
        doc_stride: 24,
        dev_size: 6,
        lr: 1e-4,
        warmup: 1,
        checkpoint_every: 2,
        ..TrainConfig::default()
    }
}

/// Keeps the points and, optionally, asks to stop after a given step.
#[derive(Default)]
struct Recorder<'a> {
    points: Vec<MetricPoint>,
    stop_after: Option<(u64, &'a AtomicBool)>,
}

impl RunObserver for Recorder<'_> {
    fn on_event(&mut self, event: &RunEvent) {
        match event {
            RunEvent::Metrics { points, .. } => self.points.extend(points.iter().cloned()),
            RunEvent::Step { step, .. } => {
                if let Some((at, flag)) = self.stop_after
                    && *step == at
                {
                    flag.store(true, Ordering::SeqCst);
                }
            }
            _ => {}
        }
    }
}

impl Recorder<'_> {
    /// (step, task, loss) of every training loss point.
    fn losses(&self) -> Vec<(u64, Option<String>, f64)> {
        self.points.iter().filter(|p| p.split == "train" && p.name == "loss").map(|p| (p.step, p.task.clone(), p.value)).collect()
    }
}

/// What a run returned, and its training losses as (step, task, loss).
type Trained = (Result<TrainSummary, TrainError>, Vec<(u64, Option<String>, f64)>);

/// Train; `stop_after` cancels the run once that step is done.
fn run(tasks: &[LabeledTask], cfg: &TrainConfig, dir: Option<&Path>, init: Init, resume: bool, stop_after: Option<u64>) -> Trained {
    run_model(&model_dir(), tasks, cfg, dir, init, resume, stop_after)
}

/// [`run`] with the base model in `model`.
fn run_model(model: &Path, tasks: &[LabeledTask], cfg: &TrainConfig, dir: Option<&Path>, init: Init, resume: bool, stop_after: Option<u64>) -> Trained {
    let model = model.to_path_buf();
    let cancel = AtomicBool::new(false);
    let mut recorder = Recorder { points: Vec::new(), stop_after: stop_after.map(|s| (s, &cancel)) };
    let job = TrainJob { model_dir: &model, tasks, dev_tasks: &[], cfg, run: RunId(1), run_dir: dir, init, resume, cancel: Some(&cancel), stop: None, cache_dir: None, nodes: None };
    let result = train::<B>(&job, &Default::default(), &mut recorder);
    let losses = recorder.losses();
    (result, losses)
}

#[test]
fn a_stopped_and_resumed_run_computes_the_same_losses_as_an_uninterrupted_one() {
    let tasks = mixture();
    let cfg = config();
    let straight_dir = tempfile::tempdir().expect("tempdir");
    let (full, expected) = run(&tasks, &cfg, Some(straight_dir.path()), Init::Base, false, None);
    let full = full.expect("uninterrupted run");
    assert_eq!(full.outcome, Outcome::Completed);

    let dir = tempfile::tempdir().expect("tempdir");
    let (stopped, mut joined) = run(&tasks, &cfg, Some(dir.path()), Init::Base, false, Some(2));
    let stopped = stopped.expect("first half");
    assert_eq!((stopped.outcome, stopped.steps), (Outcome::Cancelled, 2));
    // Resuming on other data, or with another split, is refused before any update.
    let mut fewer = tasks.clone();
    fewer[0].examples.pop();
    let mut own_split = tasks.clone();
    own_split[1].spec.split.dev_size = Some(3);
    for (other, want) in [(fewer, "task `sarcasm_headlines` has other data (199 examples"), (own_split, "task `strategyqa` has another split policy")] {
        let err = run(&other, &cfg, Some(dir.path()), Init::Base, true, None).0.expect_err(want).to_string();
        assert!(err.contains("run 1 cannot resume") && err.contains(want), "{err}");
    }
    let (resumed, rest) = run(&tasks, &cfg, Some(dir.path()), Init::Base, true, None);
    let resumed = resumed.expect("resumed half");
    assert_eq!((resumed.outcome, resumed.steps, resumed.resumed_from), (Outcome::Completed, 4, Some(2)));

    joined.extend(rest);
    assert_eq!(joined.len(), expected.len(), "{joined:?}\n{expected:?}");
    // Same data, same dropout masks, same weights: the losses agree to float rounding.
    for (a, b) in joined.iter().zip(&expected) {
        assert_eq!((a.0, &a.1), (b.0, &b.1));
        assert!((a.2 - b.2).abs() <= 1e-6 * b.2.abs().max(1.0), "step {} {:?}: resumed {} vs straight {}", a.0, a.1, a.2, b.2);
    }
    // Every task of every family was trained and scored.
    for t in &full.tasks {
        assert!(t.loss_first.is_finite() && t.loss_last.is_finite(), "{t:?}");
        assert!(t.dev_before.is_finite() && t.dev_after.is_finite(), "{t:?}");
    }
    assert_eq!(resumed.tasks, full.tasks);

    // The run folder records each task's split: a seeded partition of the task's examples
    // into train and dev, tied to the data by its fingerprint; the resumed run kept it.
    let splits = muppet_train::splits::read(straight_dir.path()).expect("splits.json");
    assert_eq!(muppet_train::splits::read(dir.path()).expect("resumed splits.json"), splits);
    assert_eq!(splits.iter().map(|s| s.task.as_str()).collect::<Vec<_>>(), ["sarcasm_headlines", "strategyqa", "squad_dev"]);
    for (split, t) in splits.iter().zip(&tasks) {
        assert_eq!((split.examples, split.fingerprint.as_str()), (t.examples.len(), muppet_data::fingerprint::task_fingerprint(t).as_str()));
        assert_eq!(split.dev.len(), cfg.dev_size, "{}", split.task);
        let mut all: Vec<usize> = split.train.iter().chain(&split.dev).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..t.examples.len()).collect::<Vec<_>>(), "{}: train and dev partition the examples", split.task);
        let summary = full.tasks.iter().find(|s| s.name == split.task).expect("summary");
        assert_eq!(summary.train_examples, split.train.len(), "{}", split.task);
    }

    // Fine-tuning from the checkpoint with its heads reused starts where the run ended: the
    // dev split of a task depends only on the seed and the task, so the score before
    // fine-tuning equals the pre-finetuned run's final score.
    let checkpoint = full.checkpoint.as_ref().expect("final checkpoint").path.clone();
    let downstream = vec![task("strategyqa", 200)];
    let ft_cfg = TrainConfig { steps: 1, tasks_per_update: 1, train_size: Some(16), checkpoint_every: 0, ..config() };
    let from = |reuse_heads| Init::Checkpoint { run_dir: straight_dir.path().to_path_buf(), checkpoint: checkpoint.clone(), reuse_heads };
    let ft_dir = tempfile::tempdir().expect("tempdir");
    let reused = run(&downstream, &ft_cfg, Some(ft_dir.path()), from(true), false, None).0.expect("fine-tune");
    let pre = full.tasks.iter().find(|t| t.name == "strategyqa").expect("strategyqa");
    assert_eq!(reused.tasks[0].dev_before, pre.dev_after);
    assert_eq!(reused.tasks[0].train_examples, 16);
    // The fine-tune records its 16 training examples, drawn outside the same dev split.
    let ft_split = &muppet_train::splits::read(ft_dir.path()).expect("fine-tune splits.json")[0];
    let pre_split = splits.iter().find(|s| s.task == "strategyqa").expect("strategyqa split");
    assert_eq!((ft_split.dev.as_slice(), ft_split.train.len()), (pre_split.dev.as_slice(), 16));
    assert!(ft_split.train.iter().all(|i| pre_split.train.contains(i)), "{:?}", ft_split.train);
    let too_many = TrainConfig { train_size: Some(100_000), ..ft_cfg.clone() };
    let err = run(&downstream, &too_many, None, from(false), false, None).0.expect_err("subset too large");
    assert!(err.to_string().contains("fewer than the 100000"), "{err}");
}

#[test]
fn zero_tasks_per_update_is_refused() {
    let cfg = TrainConfig { tasks_per_update: 0, ..config() };
    let err = run(&[task("sarcasm_headlines", 20)], &cfg, None, Init::Base, false, None).0.expect_err("K = 0");
    assert!(err.to_string().contains("--tasks-per-update must be at least 1"), "{err}");
}

#[test]
fn a_minimum_gain_needs_early_stopping_and_a_number_of_at_least_0() {
    let refused = |cfg: TrainConfig| run(&[task("sarcasm_headlines", 20)], &cfg, None, Init::Base, false, None).0.expect_err("refused").to_string();
    let err = refused(TrainConfig { eval_every: 1, early_stopping_threshold: 0.01, ..config() });
    assert!(err.contains("--early-stopping-threshold only applies to early stopping: set --early-stopping N too"), "{err}");
    let err = refused(TrainConfig { eval_every: 1, early_stopping: Some(2), early_stopping_threshold: -0.5, ..config() });
    assert!(err.contains("--early-stopping-threshold -0.5 must be a number of at least 0"), "{err}");
}

#[test]
fn more_devices_than_micro_batches_per_update_is_refused() {
    let cfg = TrainConfig { devices: 4, ..config() };
    let err = run(&[task("sarcasm_headlines", 20)], &cfg, None, Init::Base, false, None).0.expect_err("4 devices, K = 3");
    assert!(err.to_string().contains("4 devices but 3 micro-batches per update"), "{err}");
}

/// The base model with every dropout at 0 (its config.json rewritten, its weights and
/// tokenizer linked), in `dir`: two runs then compute the same numbers up to float rounding.
fn model_without_dropout(dir: &Path) -> PathBuf {
    let src = model_dir();
    let text = std::fs::read_to_string(src.join("config.json")).expect("config");
    let mut config: serde_json::Value = serde_json::from_str(&text).expect("json");
    config["hidden_dropout_prob"] = 0.0.into();
    config["attention_probs_dropout_prob"] = 0.0.into();
    std::fs::write(dir.join("config.json"), config.to_string()).expect("write");
    for name in ["model.safetensors", "tokenizer.json"] {
        std::os::unix::fs::symlink(src.join(name), dir.join(name)).expect("link");
    }
    dir.to_path_buf()
}

/// Two peers on the CPU (the collective of burn-collective, one thread per peer), the three
/// micro-batches of each update dealt 2 + 1, each peer holding heads the other does not
/// update: the losses are those of the run on one device, step by step, within float
/// rounding of the gradients' summation order (1e-4 relative over 4 AdamW updates). Cancelled
/// after step 2 and resumed, the data-parallel run ends where the uninterrupted one does.
#[test]
fn a_data_parallel_run_makes_the_updates_of_one_device() {
    let folder = tempfile::tempdir().expect("tempdir");
    let model = model_without_dropout(folder.path());
    let tasks = mixture();
    let one = TrainConfig { head_dropout: 0.0, ..config() };
    let (single, expected) = run_model(&model, &tasks, &one, None, Init::Base, false, None);
    let single = single.expect("one device");
    let two = TrainConfig { devices: 2, ..one.clone() };
    let dir = tempfile::tempdir().expect("tempdir");
    let (parallel, losses) = run_model(&model, &tasks, &two, Some(dir.path()), Init::Base, false, None);
    let parallel = parallel.expect("two peers");
    assert_eq!((parallel.outcome, parallel.steps, parallel.examples), (Outcome::Completed, single.steps, single.examples));
    assert_eq!(losses.len(), expected.len(), "{losses:?}\n{expected:?}");
    let mut worst = 0.0f64;
    for (a, b) in losses.iter().zip(&expected) {
        assert_eq!((a.0, &a.1), (b.0, &b.1));
        let rel = (a.2 - b.2).abs() / b.2.abs().max(1e-3);
        worst = worst.max(rel);
        assert!(rel <= 1e-4, "step {} {:?}: two peers {} vs one device {}", a.0, a.1, a.2, b.2);
    }
    println!("two peers vs one device: worst relative loss difference {worst:e} over {} points", losses.len());
    for (p, s) in parallel.tasks.iter().zip(&single.tasks) {
        assert_eq!((p.name.as_str(), p.dev_before), (s.name.as_str(), s.dev_before));
        assert!((p.dev_after - s.dev_after).abs() <= 1e-3, "{p:?}\n{s:?}");
    }
    assert_eq!(parallel.checkpoint.as_ref().map(|c| c.step), Some(4));

    let resumed_dir = tempfile::tempdir().expect("tempdir");
    let (stopped, mut joined) = run_model(&model, &tasks, &two, Some(resumed_dir.path()), Init::Base, false, Some(2));
    assert_eq!(stopped.map(|s| (s.outcome, s.steps)).expect("first half"), (Outcome::Cancelled, 2));
    let (resumed, rest) = run_model(&model, &tasks, &two, Some(resumed_dir.path()), Init::Base, true, None);
    assert_eq!(resumed.map(|s| (s.outcome, s.steps, s.resumed_from)).expect("resumed"), (Outcome::Completed, 4, Some(2)));
    joined.extend(rest);
    assert_eq!(joined.len(), losses.len());
    for (a, b) in joined.iter().zip(&losses) {
        assert!((a.2 - b.2).abs() <= 1e-6 * b.2.abs().max(1.0), "step {} {:?}: resumed {} vs straight {}", a.0, a.1, a.2, b.2);
    }
}

#[test]
fn a_label_outside_the_head_is_refused_with_the_task_and_example() {
    let mut t = task("sarcasm_headlines", 20);
    t.examples[7] = Example::class("a headline", None, 5);
    let err = run(&[t], &config(), None, Init::Base, false, None).0.expect_err("label 5 of 2");
    let msg = err.to_string();
    assert!(msg.contains("sarcasm_headlines") && msg.contains("example 8") && msg.contains("label index 5"), "{msg}");
}

#[test]
fn a_diverging_loss_names_the_step_and_the_task() {
    let spec = muppet_core::TaskSpec::new("huge_targets", muppet_core::TaskFamily::Regression, vec![], "test", "none");
    let examples = (0..20).map(|i| Example::value(format!("sentence number {i}"), None, 3.0e38)).collect();
    let t = LabeledTask { spec, examples };
    let err = run(&[t], &config(), None, Init::Base, false, None).0.expect_err("inf loss");
    let msg = err.to_string();
    assert!(matches!(err, TrainError::Diverged { step: 1, .. }), "{msg}");
    assert!(msg.contains("step 1") && msg.contains("huge_targets"), "{msg}");
}

#[test]
fn a_tokenizer_larger_than_the_embeddings_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = model_dir();
    let text = std::fs::read_to_string(src.join("config.json")).expect("config");
    let mut config: serde_json::Value = serde_json::from_str(&text).expect("json");
    config["vocab_size"] = 1000.into();
    std::fs::write(dir.path().join("config.json"), config.to_string()).expect("write");
    std::fs::copy(src.join("tokenizer.json"), dir.path().join("tokenizer.json")).expect("copy");
    let model = dir.path().to_path_buf();
    let tasks = [task("sarcasm_headlines", 20)];
    let cfg = TrainConfig { steps: 1, ..self::config() };
    let job = TrainJob { model_dir: &model, tasks: &tasks, dev_tasks: &[], cfg: &cfg, run: RunId(1), run_dir: None, init: Init::Base, resume: false, cancel: None, stop: None, cache_dir: None, nodes: None };
    let err = train::<B>(&job, &Default::default(), &mut Recorder::default()).expect_err("vocab mismatch");
    let msg = err.to_string();
    assert!(msg.contains("30522 tokens") && msg.contains("1000 rows"), "{msg}");
}

/// A task's own split policy wins over the run's: its dev size and its seed draw its dev
/// split (recorded in splits.json), and the run's other tasks keep the run's. A generation
/// task is refused before anything is read, with the reason.
#[test]
fn a_task_split_policy_overrides_the_run_and_generation_is_refused() {
    let mut own = task("sarcasm_headlines", 200);
    own.spec.split = muppet_core::SplitPolicy { dev_size: Some(11), seed: Some(5), dev_task: None };
    let tasks = vec![own, task("strategyqa", 200)];
    let cfg = TrainConfig { steps: 1, tasks_per_update: 2, checkpoint_every: 0, ..config() };
    let dir = tempfile::tempdir().expect("tempdir");
    let (summary, _) = run(&tasks, &cfg, Some(dir.path()), Init::Base, false, None);
    summary.expect("run");
    let splits = muppet_train::splits::read(dir.path()).expect("splits.json");
    assert_eq!((splits[0].dev.len(), splits[1].dev.len()), (11, cfg.dev_size));
    let other_seed = TrainConfig { split_seed: Some(99), ..cfg.clone() };
    let dir2 = tempfile::tempdir().expect("tempdir");
    run(&tasks, &other_seed, Some(dir2.path()), Init::Base, false, None).0.expect("run");
    let splits2 = muppet_train::splits::read(dir2.path()).expect("splits.json");
    assert_eq!(splits2[0], splits[0], "the task's own seed: the run's split seed does not move its dev split");
    assert_ne!(splits2[1].dev, splits[1].dev, "the other task follows the run's split seed");

    let generation = LabeledTask {
        spec: muppet_core::TaskSpec::new("summaries", muppet_core::TaskFamily::Generation, vec![], "s", "l"),
        examples: vec![Example::generation("a long text", "short"), Example::generation("another text", "brief")],
    };
    let (err, _) = run(&[generation], &cfg, None, Init::Base, false, None);
    let err = err.expect_err("refused").to_string();
    assert!(err.contains("task `summaries`: generation tasks are not trained"), "{err}");
}

/// Mixed precision (bf16 products over f32 weights) on every family: the same run's
/// losses stay within bf16 rounding of the f32 run's, step by step. Tolerance: 0.5%
/// relative, for 4 updates at lr 1e-4 (the MiniLM parity test bounds the encoder's own
/// error at 2x PyTorch autocast's).
#[test]
fn mixed_precision_losses_follow_the_f32_run() {
    let tasks = mixture();
    let cfg = config();
    let (full, expected) = run(&tasks, &cfg, None, Init::Base, false, None);
    full.expect("f32 run");
    let mixed = TrainConfig { mixed_precision: muppet_model::MixedPrecision::Bf16, ..cfg };
    let (summary, losses) = run(&tasks, &mixed, None, Init::Base, false, None);
    let summary = summary.expect("mixed-precision run");
    assert_eq!(summary.outcome, Outcome::Completed);
    assert_eq!(losses.len(), expected.len());
    let mut worst = 0.0f64;
    let mut identical = true;
    for (a, b) in losses.iter().zip(&expected) {
        assert_eq!((a.0, &a.1), (b.0, &b.1));
        let rel = (a.2 - b.2).abs() / b.2.abs().max(1e-3);
        worst = worst.max(rel);
        identical &= a.2 == b.2;
        assert!(rel <= 5e-3, "step {} {:?}: mixed {} vs f32 {}", a.0, a.1, a.2, b.2);
    }
    println!("mixed vs f32: worst relative loss difference {worst:e} over {} points", losses.len());
    assert!(!identical, "the mixed run computed in bf16, so its losses are not bit-identical to f32");
    for t in &summary.tasks {
        assert!(t.dev_before.is_finite() && t.dev_after.is_finite(), "{t:?}");
    }
}

/// Train `tasks`, scoring those whose split policy names a dev task on `dev_tasks`.
fn run_with_dev(tasks: &[LabeledTask], dev_tasks: &[LabeledTask], cfg: &TrainConfig, dir: Option<&Path>) -> Result<TrainSummary, TrainError> {
    let model = model_dir();
    let job = TrainJob { model_dir: &model, tasks, dev_tasks, cfg, run: RunId(1), run_dir: dir, init: Init::Base, resume: false, cancel: None, stop: None, cache_dir: None, nodes: None };
    train::<B>(&job, &Default::default(), &mut Recorder::default())
}

/// A task scored on another task (its dataset's validation split, imported as its own task)
/// trains on all its examples and scores a seeded sample of the other's, of the dev size,
/// recorded in splits.json. The scores are the other task's: with every dev label flipped
/// the untrained model's accuracy becomes one minus what it was. A dev task that is missing,
/// of another family or with other labels is refused, naming both tasks.
#[test]
fn a_task_scored_on_its_validation_split_trains_on_all_its_examples() {
    let all = task("sarcasm_headlines", 60);
    let mut train_task = all.clone();
    train_task.examples.truncate(40);
    train_task.spec.split.dev_task = Some("sarcasm_validation".into());
    let mut dev = all.clone();
    dev.spec.name = "sarcasm_validation".into();
    dev.examples.drain(..40);
    let cfg = TrainConfig { steps: 1, tasks_per_update: 2, checkpoint_every: 0, dev_size: 12, ..config() };
    let tasks = vec![train_task.clone(), task("strategyqa", 30)];

    let dir = tempfile::tempdir().expect("tempdir");
    let summary = run_with_dev(&tasks, std::slice::from_ref(&dev), &cfg, Some(dir.path())).expect("run");
    assert_eq!((summary.tasks[0].train_examples, summary.tasks[0].dev_examples), (40, 12), "all 40 train; 12 of the 20 validation examples scored");
    assert_eq!(summary.tasks[1].train_examples + summary.tasks[1].dev_examples, 30, "the other task keeps its own held-out split");
    let splits = muppet_train::splits::read(dir.path()).expect("splits.json");
    assert_eq!(splits[0].train, (0..40).collect::<Vec<_>>());
    assert_eq!(splits[0].dev.len(), 12);
    assert!(splits[0].dev.iter().all(|&i| i < 20), "dev indexes the validation task's examples: {:?}", splits[0].dev);
    let recorded = splits[0].dev_task.as_ref().expect("the dev task is recorded");
    assert_eq!((recorded.name.as_str(), recorded.examples), ("sarcasm_validation", 20));
    assert_eq!(recorded.fingerprint, muppet_data::fingerprint::task_fingerprint(&dev));
    assert!(splits[1].dev_task.is_none());

    // All 20 scored (the dev size is larger), with the labels as they are and flipped.
    let whole = TrainConfig { dev_size: 50, ..cfg.clone() };
    let before = run_with_dev(&tasks, std::slice::from_ref(&dev), &whole, None).expect("run").tasks[0].clone();
    assert_eq!(before.dev_examples, 20);
    let mut flipped = dev.clone();
    for e in &mut flipped.examples {
        if let muppet_data::Target::Class(c) = &mut e.target {
            *c = 1 - *c;
        }
    }
    let after_flip = run_with_dev(&tasks, std::slice::from_ref(&flipped), &whole, None).expect("run").tasks[0].clone();
    assert!((before.dev_before + after_flip.dev_before - 1.0).abs() < 1e-9, "accuracy {} and, flipped, {}", before.dev_before, after_flip.dev_before);
    // One half would also be what scoring the task's own examples twice gives.
    assert!((before.dev_before - 0.5).abs() > 0.01, "accuracy {}: the check needs another value", before.dev_before);

    let refused = |dev_tasks: &[LabeledTask], want: &str| {
        let err = run_with_dev(&tasks, dev_tasks, &cfg, None).expect_err(want).to_string();
        assert!(err.contains(want) && err.contains("sarcasm_headlines"), "{err}");
    };
    refused(&[], "is scored on task `sarcasm_validation`, which this run was not given");
    let mut other_labels = dev.clone();
    other_labels.spec.labels.reverse();
    refused(std::slice::from_ref(&other_labels), "whose labels");
    let mut other_family = task("strategyqa", 10);
    other_family.spec.name = "sarcasm_validation".into();
    refused(std::slice::from_ref(&other_family), "they must be of one family");

    // One example trains when another task is scored on; alone it is too few.
    let mut single = train_task.clone();
    single.examples.truncate(1);
    let one_task = TrainConfig { tasks_per_update: 1, ..cfg.clone() };
    let one = run_with_dev(std::slice::from_ref(&single), std::slice::from_ref(&dev), &one_task, None).expect("one example trains");
    assert_eq!((one.tasks[0].train_examples, one.tasks[0].dev_examples), (1, 12));
    single.spec.split.dev_task = None;
    let err = run_with_dev(&[single], &[], &one_task, None).expect_err("one example alone").to_string();
    assert!(err.contains("has 1 examples; it needs at least 2 (one to train, one to evaluate)"), "{err}");
}

/// The model checkpoints a run folder holds, by step.
fn model_steps(dir: &Path) -> Vec<u64> {
    muppet_train::checkpoint::model_steps(dir).expect("run folder")
}

/// A fine-tune whose weights do not move (learning rate 0): every dev score equals the first.
fn still(steps: u64) -> (Vec<LabeledTask>, TrainConfig) {
    let cfg = TrainConfig { steps, batch_size: 2, tasks_per_update: 1, max_len: 64, dev_size: 8, lr: 0.0, warmup: 0, eval_every: 1, ..TrainConfig::default() };
    (vec![task("sarcasm_headlines", 60)], cfg)
}

#[test]
fn early_stopping_ends_the_run_after_its_patience_and_keeps_the_best_checkpoint() {
    let (tasks, cfg) = still(10);
    let cfg = TrainConfig { early_stopping: Some(2), ..cfg };
    let dir = tempfile::tempdir().expect("tempdir");
    let cancel = AtomicBool::new(false);
    let mut recorder = Recorder::default();
    let job = TrainJob { model_dir: &model_dir(), tasks: &tasks, dev_tasks: &[], cfg: &cfg, run: RunId(1), run_dir: Some(dir.path()), init: Init::Base, resume: false, cancel: Some(&cancel), stop: None, cache_dir: None, nodes: None };
    let done = train::<B>(&job, &Default::default(), &mut recorder).expect("run");
    let dev: Vec<(u64, f64)> = recorder.points.iter().filter(|p| p.split == "dev" && p.name == "accuracy").map(|p| (p.step, p.value)).collect();
    // Evaluated before training and after steps 1 to 3; step 1 is the best (a tie never
    // improves), steps 2 and 3 did not beat it, so the run stops after step 3.
    assert_eq!(dev.iter().map(|(s, _)| *s).collect::<Vec<_>>(), [0, 1, 2, 3], "{dev:?}");
    assert!(dev.iter().all(|(_, v)| *v == dev[0].1), "lr 0 leaves the dev score alone: {dev:?}");
    assert_eq!((done.outcome, done.steps, done.stopped_early), (Outcome::Completed, 3, true));
    assert_eq!(done.best, Some(muppet_train::best::BestDev { step: 1, score: dev[1].1 }));
    assert_eq!(done.best, muppet_train::best::best_of(dev.iter().copied()), "the store's rule agrees");
    // The best model, and the resumable checkpoint where the run stopped.
    assert_eq!(model_steps(dir.path()), [1, 3]);
    assert_eq!(muppet_train::checkpoint::resumable_steps(dir.path()), [3]);

    // Stopped at step 2 and resumed: the count of evaluations without a better score goes on.
    let dir = tempfile::tempdir().expect("tempdir");
    let (first, _) = run(&tasks, &cfg, Some(dir.path()), Init::Base, false, Some(2));
    assert_eq!(first.map(|s| (s.outcome, s.steps, s.stopped_early)).expect("first part"), (Outcome::Cancelled, 2, false));
    let (resumed, _) = run(&tasks, &cfg, Some(dir.path()), Init::Base, true, None);
    let resumed = resumed.expect("resumed");
    assert_eq!((resumed.steps, resumed.stopped_early, resumed.best.map(|b| b.step)), (3, true, Some(1)));

    // Without a dev evaluation during training there is nothing to compare.
    let err = run(&tasks, &TrainConfig { eval_every: 0, ..cfg.clone() }, None, Init::Base, false, None).0.expect_err("no evaluations");
    assert!(err.to_string().contains("early stopping compares dev scores during training") && err.to_string().contains("--eval-every"), "{err}");
    let err = run(&tasks, &TrainConfig { early_stopping: Some(0), ..cfg }, None, Init::Base, false, None).0.expect_err("no patience");
    assert!(err.to_string().contains("--early-stopping must be at least 1"), "{err}");
}

/// Asks the run to stop once it reported its dev score after a given step.
struct StopAt<'a> {
    at: u64,
    flag: &'a AtomicBool,
    scores: Vec<(u64, f64)>,
    points: Vec<MetricPoint>,
}

impl RunObserver for StopAt<'_> {
    fn on_event(&mut self, event: &RunEvent) {
        match event {
            RunEvent::Metrics { points, .. } => self.points.extend(points.iter().cloned()),
            RunEvent::DevScore { step, score, .. } => {
                self.scores.push((*step, *score));
                if *step == self.at {
                    self.flag.store(true, Ordering::SeqCst);
                }
            }
            _ => {}
        }
    }
}

/// A stop asked for from outside (a sweep's rule) ends the run after the current update as
/// early stopping does: completed, stopped early, its best kept. Each dev evaluation during
/// training reports the score the run is judged by, the tasks' main metrics' mean.
#[test]
fn a_stop_request_ends_the_run_completed_after_the_update_it_arrives_in() {
    let (mut tasks, cfg) = still(6);
    tasks.push(task("strategyqa", 40));
    let cfg = TrainConfig { keep_best: true, lr: 1e-3, tasks_per_update: 2, ..cfg };
    let dir = tempfile::tempdir().expect("tempdir");
    let stop = AtomicBool::new(false);
    let mut observer = StopAt { at: 2, flag: &stop, scores: Vec::new(), points: Vec::new() };
    let job = TrainJob { model_dir: &model_dir(), tasks: &tasks, dev_tasks: &[], cfg: &cfg, run: RunId(1), run_dir: Some(dir.path()), init: Init::Base, resume: false, cancel: None, stop: Some(&stop), cache_dir: None, nodes: None };
    let done = train::<B>(&job, &Default::default(), &mut observer).expect("run");
    assert_eq!((done.outcome, done.steps, done.stopped_early), (Outcome::Completed, 2, true));
    assert_eq!(observer.scores.iter().map(|s| s.0).collect::<Vec<_>>(), [1, 2], "after each update, not before training");
    for &(step, score) in &observer.scores {
        let main: Vec<f64> = tasks
            .iter()
            .map(|t| observer.points.iter().find(|p| p.split == "dev" && p.step == step && p.task.as_deref() == Some(&t.spec.name) && p.name == t.spec.metric.as_str()).expect("a main metric").value)
            .collect();
        assert!((score - (main[0] + main[1]) / 2.0).abs() < 1e-12, "step {step}: {score} vs {main:?}");
    }
    assert_eq!(done.best, muppet_train::best::best_of(observer.scores.iter().copied()));
    assert_eq!(muppet_train::checkpoint::resumable_steps(dir.path()), [2], "a checkpoint where it stopped");
}

#[test]
fn the_best_checkpoint_outlives_the_checkpoint_limit() {
    let (tasks, cfg) = still(4);
    let cfg = TrainConfig { keep_best: true, checkpoint_every: 1, keep_checkpoints: Some(1), ..cfg };
    let dir = tempfile::tempdir().expect("tempdir");
    let (done, _) = run(&tasks, &cfg, Some(dir.path()), Init::Base, false, None);
    let done = done.expect("run");
    assert_eq!((done.steps, done.stopped_early, done.best.map(|b| b.step)), (4, false, Some(1)));
    assert_eq!(model_steps(dir.path()), [1, 4], "the best and the last");

    // Without the limit or periodic checkpoints, a better score replaces the former best's
    // model: a run whose weights move keeps the best of its evaluations and the last.
    let moving = TrainConfig { keep_best: true, checkpoint_every: 0, keep_checkpoints: None, lr: 1e-3, steps: 6, ..cfg };
    let dir = tempfile::tempdir().expect("tempdir");
    let cancel = AtomicBool::new(false);
    let mut recorder = Recorder::default();
    let job = TrainJob { model_dir: &model_dir(), tasks: &tasks, dev_tasks: &[], cfg: &moving, run: RunId(1), run_dir: Some(dir.path()), init: Init::Base, resume: false, cancel: Some(&cancel), stop: None, cache_dir: None, nodes: None };
    let done = train::<B>(&job, &Default::default(), &mut recorder).expect("run");
    let dev = recorder.points.iter().filter(|p| p.split == "dev" && p.name == "accuracy").map(|p| (p.step, p.value));
    let best = muppet_train::best::best_of(dev).expect("a best");
    assert_eq!(done.best, Some(best));
    let mut want = vec![best.step, 6];
    want.dedup();
    assert_eq!(model_steps(dir.path()), want);
}

/// Copies the run folder as it stands after each checkpoint, into `<into>/<step>`: what a
/// crash right then would leave behind. Keeps the points too.
struct Snapshots<'a> {
    dir: &'a Path,
    into: &'a Path,
    points: Vec<MetricPoint>,
}

impl RunObserver for Snapshots<'_> {
    fn on_event(&mut self, event: &RunEvent) {
        match event {
            RunEvent::Metrics { points, .. } => self.points.extend(points.iter().cloned()),
            RunEvent::Checkpoint { step, .. } => {
                let to = self.into.join(step.to_string());
                std::fs::create_dir_all(&to).expect("snapshot folder");
                for entry in std::fs::read_dir(self.dir).expect("run folder").flatten() {
                    if entry.path().is_file() {
                        std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy");
                    }
                }
            }
            _ => {}
        }
    }
}

#[test]
fn a_run_resumed_after_a_crash_keeps_the_best_model_its_checkpoint_remembers() {
    // Dev scores after steps 2, 4 and 6 (a regression task: a correlation, which training
    // improves step after step); resumable checkpoints after steps 3 and 6.
    let (_, still) = still(6);
    let cfg = TrainConfig { lr: 1e-4, dev_size: 40, eval_every: 2, keep_best: true, checkpoint_every: 3, ..still };
    let tasks = [task("vader_tweets", 200)];
    let dir = tempfile::tempdir().expect("tempdir");
    let snaps = tempfile::tempdir().expect("tempdir");
    let mut observer = Snapshots { dir: dir.path(), into: snaps.path(), points: Vec::new() };
    let job = TrainJob { model_dir: &model_dir(), tasks: &tasks, dev_tasks: &[], cfg: &cfg, run: RunId(1), run_dir: Some(dir.path()), init: Init::Base, resume: false, cancel: None, stop: None, cache_dir: None, nodes: None };
    let done = train::<B>(&job, &Default::default(), &mut observer).expect("run");
    let metric = tasks[0].spec.metric.as_str();
    let dev: Vec<(u64, f64)> = observer.points.iter().filter(|p| p.split == "dev" && p.name == metric).map(|p| (p.step, p.value)).collect();
    let best_at = |step: u64| muppet_train::best::best_of(dev.iter().copied().filter(|(s, _)| *s <= step)).map(|b| b.step);

    // The crash: right after step 4's better score replaced step 2's best, which step 3's
    // resumable checkpoint remembers.
    assert_eq!((best_at(3), best_at(4)), (Some(2), Some(4)), "step 4 improves on step 2: {dev:?}");
    let left = snaps.path().join("4");
    assert_eq!(model_steps(&left), [2, 3, 4], "the model of step 2 stays for a resume from step 3");

    // Resumed from step 3, the run takes step 2 as its best, trains steps 4 to 6 again and
    // ends with the same best and the same models as the run that never stopped.
    let (resumed, _) = run(&tasks, &cfg, Some(&left), Init::Base, true, None);
    let resumed = resumed.expect("resumed");
    assert_eq!(resumed.best, done.best);
    assert_eq!(model_steps(&left), model_steps(dir.path()));
    assert!(!model_steps(dir.path()).contains(&2), "once step 6's checkpoint remembers a newer best, step 2 goes");
}
