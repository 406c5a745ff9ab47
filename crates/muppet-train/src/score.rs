//! Scoring a checkpoint of a run on a task, outside training (Hugging Face Trainer's
//! `evaluate` and `predict`): a task the run trained on, on the dev or training examples
//! the run drew for it (`splits.json`), or any task on all its examples (nothing of a task
//! the run did not train on was trained on); through the task's own head, or one the run
//! trained for another task (a classifier with as many classes, the regression head of a
//! regression task, the shared multiple-choice or span head). Each example's prediction is
//! returned beside the scores.

use std::path::Path;

use burn::prelude::*;
use muppet_core::TaskFamily;
use muppet_data::fingerprint::task_fingerprint;
use muppet_data::token_cache::TokenCache;
use muppet_data::tokenize::{Item, TextEncoder};
use muppet_data::LabeledTask;
use serde::{Deserialize, Serialize};

use crate::evaluate::{predict, Prediction, Scores};
use crate::manifest::{load_checkpoint, RunManifest};
use crate::model::HeadRef;
use crate::splits::{self, TaskSplit};
use crate::TrainError;

/// Which examples of the task are scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Examples {
    /// The dev examples the run scored the task on (of its dev task when it has one).
    Dev,
    /// The examples the run trained on.
    Train,
    /// Every example of the task.
    All,
}

impl Examples {
    pub fn as_str(self) -> &'static str {
        match self {
            Examples::Dev => "dev",
            Examples::Train => "train",
            Examples::All => "all",
        }
    }
}

impl std::str::FromStr for Examples {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "dev" => Ok(Examples::Dev),
            "train" => Ok(Examples::Train),
            "all" => Ok(Examples::All),
            other => Err(format!("unknown example set `{other}`: use dev, train or all")),
        }
    }
}

/// What to score.
#[derive(Clone, Copy)]
pub struct ScoreJob<'a> {
    /// The run folder (`run.json`, `splits.json`, checkpoints).
    pub run_dir: &'a Path,
    /// A model checkpoint of the run (`model-step<N>.mpk`).
    pub checkpoint: &'a Path,
    pub task: &'a LabeledTask,
    /// The task `task` is scored on (its split policy's `dev_task`), for [`Examples::Dev`]
    /// of a task the run trained on.
    pub dev_task: Option<&'a LabeledTask>,
    /// The run task whose head scores `task`; `None`: `task`'s own, else the shared head of
    /// its family.
    pub head: Option<&'a str>,
    pub examples: Examples,
    /// Tokens per sequence and overlap of span windows (the run's own, as a rule).
    pub max_len: usize,
    pub doc_stride: usize,
    /// Folder of the tokenized cache; `None` tokenizes every time.
    pub cache_dir: Option<&'a Path>,
}

/// The scores of a task at a checkpoint, with each example's prediction.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    /// The run task whose head scored (`None`: the shared multiple-choice or span head of a
    /// task the run did not train on).
    pub head_task: Option<String>,
    /// The head's module path (`classifiers.0`, `choice`, `span`).
    pub head: String,
    /// The task whose examples were read: the task, or the one it is scored on.
    pub examples_of: String,
    /// Examples scored.
    pub examples: usize,
    pub scores: Scores,
    /// Indices into the examples of `examples_of`.
    pub predictions: Vec<Prediction>,
    /// Seconds the forward passes and the scoring took (not the loading or tokenizing).
    pub seconds: f64,
    /// Classification: the confusion matrix and each class's figures.
    pub classes: Option<Confusion>,
    /// Classification and multiple choice: how far the head's confidence is from its accuracy.
    pub calibration: Option<Calibration>,
}

/// Confidence bins of a [`Calibration`]: ten of equal width, as Guo et al. 2017 ("On
/// Calibration of Modern Neural Networks") and Desai & Durrett 2020 for pre-trained
/// transformers.
pub const CALIBRATION_BINS: usize = 10;

/// How well the probabilities of a classifier (or a multiple-choice head) match how often it
/// is right: the predictions binned by confidence (the probability of the class predicted),
/// each bin's mean confidence against its accuracy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Calibration {
    /// Expected calibration error: the bins' |accuracy − confidence|, weighted by their share
    /// of the examples.
    pub ece: f64,
    /// Maximum calibration error: the largest gap of a bin with examples.
    pub mce: f64,
    /// Brier score: the mean over examples of Σ_k (p_k − [k is gold])² (0 is perfect).
    pub brier: f64,
    /// Mean confidence and accuracy over all the examples.
    pub confidence: f64,
    pub accuracy: f64,
    /// The bins with examples, lowest confidence first.
    pub bins: Vec<CalibrationBin>,
}

/// One confidence bin: `(low, high]` (the first also holds 0).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CalibrationBin {
    pub low: f64,
    pub high: f64,
    pub examples: usize,
    pub confidence: f64,
    pub accuracy: f64,
}

impl Calibration {
    /// The calibration of `predictions`: per example, the gold index, the index predicted
    /// and the probabilities. `None` without an example.
    pub fn of<'p>(predictions: impl IntoIterator<Item = (usize, usize, &'p [f32])>) -> Option<Self> {
        let (mut sums, mut brier, mut n) = (vec![(0usize, 0.0f64, 0usize); CALIBRATION_BINS], 0.0f64, 0usize);
        let (mut all_confidence, mut all_right) = (0.0f64, 0usize);
        for (gold, predicted, probabilities) in predictions {
            let Some(&top) = probabilities.get(predicted) else { continue };
            let confidence = f64::from(top);
            let right = usize::from(predicted == gold);
            // (low, high]: a confidence of 0.1 is in the first bin.
            let bin = ((confidence * CALIBRATION_BINS as f64).ceil() as usize).clamp(1, CALIBRATION_BINS) - 1;
            let s = &mut sums[bin];
            s.0 += 1;
            s.1 += confidence;
            s.2 += right;
            brier += probabilities.iter().enumerate().map(|(k, &p)| (f64::from(p) - f64::from(u8::from(k == gold))).powi(2)).sum::<f64>();
            all_confidence += confidence;
            all_right += right;
            n += 1;
        }
        if n == 0 {
            return None;
        }
        let bins: Vec<CalibrationBin> = sums
            .iter()
            .enumerate()
            .filter(|(_, s)| s.0 > 0)
            .map(|(i, &(count, confidence, right))| CalibrationBin {
                low: i as f64 / CALIBRATION_BINS as f64,
                high: (i + 1) as f64 / CALIBRATION_BINS as f64,
                examples: count,
                confidence: confidence / count as f64,
                accuracy: right as f64 / count as f64,
            })
            .collect();
        let gap = |b: &CalibrationBin| (b.accuracy - b.confidence).abs();
        Some(Calibration {
            ece: bins.iter().map(|b| b.examples as f64 / n as f64 * gap(b)).sum(),
            mce: bins.iter().map(gap).fold(0.0, f64::max),
            brier: brier / n as f64,
            confidence: all_confidence / n as f64,
            accuracy: all_right as f64 / n as f64,
            bins,
        })
    }
}

/// A classification task's confusion matrix over the examples scored, and per class its
/// precision, recall, F1 and support (scikit-learn's `classification_report`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Confusion {
    /// The task's labels, in head order.
    pub labels: Vec<String>,
    /// `matrix[gold][predicted]`: examples of class `gold` predicted as `predicted`.
    pub matrix: Vec<Vec<usize>>,
    /// Per label, in the same order.
    pub per_class: Vec<ClassFigures>,
}

/// One class's figures; precision is 0 for a class never predicted (as scikit-learn's
/// `zero_division=0`), recall 0 for one with no example.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassFigures {
    pub label: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Examples of the class.
    pub support: usize,
}

impl Confusion {
    /// The matrix of `pairs` (gold, predicted) over `labels`; pairs outside them are left out.
    pub fn of(labels: &[String], pairs: impl IntoIterator<Item = (usize, usize)>) -> Self {
        let n = labels.len();
        let mut matrix = vec![vec![0; n]; n];
        for (gold, predicted) in pairs {
            if gold < n && predicted < n {
                matrix[gold][predicted] += 1;
            }
        }
        let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let per_class = (0..n)
            .map(|c| {
                let right = matrix[c][c];
                let support: usize = matrix[c].iter().sum();
                let predicted: usize = matrix.iter().map(|row| row[c]).sum();
                let (precision, recall) = (ratio(right, predicted), ratio(right, support));
                let f1 = if precision + recall == 0.0 { 0.0 } else { 2.0 * precision * recall / (precision + recall) };
                ClassFigures { label: labels[c].clone(), precision, recall, f1, support }
            })
            .collect();
        Confusion { labels: labels.to_vec(), matrix, per_class }
    }
}

/// Score `job.task` with the checkpoint; `progress(done, total)` hears after each batch.
pub fn score<B: Backend>(job: &ScoreJob, device: &B::Device, progress: &mut dyn FnMut(usize, usize)) -> Result<Scored, TrainError> {
    let manifest = RunManifest::read(job.run_dir)?;
    let task = job.task;
    if let Some(why) = task.spec.family.why_not_trained() {
        return Err(TrainError::Score(format!("task `{}`: {why}", task.spec.name)));
    }
    let (head, head_task) = pick_head(&manifest, task, job.head)?;
    let (source, ids) = examples(job, &manifest)?;
    if ids.is_empty() {
        return Err(TrainError::Score(format!("task `{}` has no {} examples to score", task.spec.name, job.examples.as_str())));
    }
    let text = TextEncoder::with_doc_stride(&manifest.model_dir.join("tokenizer.json"), job.max_len, job.doc_stride)?;
    let items = match job.cache_dir {
        Some(dir) => TokenCache::new(dir).load_or_encode(source, &text)?.0,
        None => text.encode_task(source)?,
    };
    let wanted: std::collections::HashSet<usize> = ids.iter().copied().collect();
    let picked: Vec<&Item> = items.iter().filter(|i| wanted.contains(&i.example)).collect();
    let (model, _) = load_checkpoint::<B>(job.run_dir, job.checkpoint, device)?;
    // Scored as the task (its labels and metric), on the examples read.
    let scored_as = LabeledTask { spec: task.spec.clone(), examples: source.examples.clone() };
    let started = std::time::Instant::now();
    let evaluation = predict(&model, head, &scored_as, &picked, text.pad_id(), device, progress);
    let seconds = started.elapsed().as_secs_f64();
    let classes = task.spec.family.is_classification().then(|| {
        let pairs = evaluation.predictions.iter().filter_map(|p| match (&source.examples[p.example].target, &p.predicted) {
            (muppet_data::Target::Class(gold), crate::evaluate::Predicted::Class { index, .. }) => Some((*gold, *index)),
            _ => None,
        });
        Confusion::of(&task.spec.labels, pairs)
    });
    let calibration = Calibration::of(evaluation.predictions.iter().filter_map(|p| match (&source.examples[p.example].target, &p.predicted) {
        (muppet_data::Target::Class(gold) | muppet_data::Target::Choice(gold), crate::evaluate::Predicted::Class { index, probabilities }) => Some((*gold, *index, probabilities.as_slice())),
        _ => None,
    }));
    Ok(Scored {
        head_task,
        head: head.module_path(),
        examples_of: source.spec.name.clone(),
        examples: ids.len(),
        scores: evaluation.scores,
        predictions: evaluation.predictions,
        seconds,
        classes,
        calibration,
    })
}

/// The head that scores `task`, and the run task it belongs to.
fn pick_head(manifest: &RunManifest, task: &LabeledTask, named: Option<&str>) -> Result<(HeadRef, Option<String>), TrainError> {
    let spec = &task.spec;
    let run_tasks = || manifest.tasks_text();
    let Some(name) = named.or_else(|| manifest.task_index(&spec.name).map(|_| spec.name.as_str())) else {
        // A task the run did not train on: the shared head of its family, if the run has one.
        let shared = match spec.family {
            TaskFamily::MultipleChoice => HeadRef::Choice,
            TaskFamily::Span => HeadRef::Span,
            _ => {
                return Err(TrainError::Score(format!(
                    "the run did not train on task `{}` and has no shared head for {} tasks: name a task of the run whose head scores it (--head TASK); the run's tasks are {}",
                    spec.name,
                    spec.family.as_str(),
                    run_tasks()
                )))
            }
        };
        return match manifest.heads.contains(&shared) {
            true => Ok((shared, None)),
            false => Err(TrainError::Score(format!(
                "the run trained no {} task, so it has no {} head for task `{}`; its tasks are {}",
                spec.family.as_str(),
                spec.family.as_str(),
                spec.name,
                run_tasks()
            ))),
        };
    };
    let i = manifest.task_index(name).ok_or_else(|| TrainError::Score(format!("the run has no task `{name}` whose head could score `{}`; its tasks are {}", spec.name, run_tasks())))?;
    let (head, owner) = (manifest.heads[i], &manifest.tasks[i]);
    let fits = match head {
        HeadRef::Classifier(_) => spec.family.is_classification() && owner.labels.len() == spec.labels.len(),
        HeadRef::Regressor(_) => spec.family == TaskFamily::Regression,
        HeadRef::Choice => spec.family == TaskFamily::MultipleChoice,
        HeadRef::Span => spec.family == TaskFamily::Span,
    };
    if !fits {
        let shape = |t: &muppet_core::TaskSpec| match t.family.is_classification() {
            true => format!("{} task of {} classes", t.family.as_str(), t.labels.len()),
            false => format!("{} task", t.family.as_str()),
        };
        return Err(TrainError::Score(format!(
            "the head of `{name}` ({}) cannot score `{}` ({}): a classifier scores a classification task of as many classes, the other heads a task of their family",
            shape(owner),
            spec.name,
            shape(spec)
        )));
    }
    Ok((head, Some(name.to_string())))
}

/// The task whose examples are read, and which of them.
fn examples<'t>(job: &ScoreJob<'t>, manifest: &RunManifest) -> Result<(&'t LabeledTask, Vec<usize>), TrainError> {
    let task = job.task;
    if job.examples == Examples::All {
        return Ok((task, (0..task.examples.len()).collect()));
    }
    let name = &task.spec.name;
    if manifest.task_index(name).is_none() {
        return Err(TrainError::Score(format!(
            "the run did not train on task `{name}`, so it has no {} examples of it: score all its examples (--examples all)",
            job.examples.as_str()
        )));
    }
    let path = job.run_dir.join(splits::SPLITS_FILE);
    if !path.is_file() {
        return Err(TrainError::Score(format!(
            "{} is missing: the run's examples of `{name}` are not recorded (a run folder from before splits.json); score all its examples (--examples all)",
            path.display()
        )));
    }
    let recorded = splits::read(job.run_dir)?;
    let split = recorded.iter().find(|s| &s.task == name).ok_or_else(|| TrainError::RunFolder { path: path.clone(), message: format!("it has no split of task `{name}`") })?;
    let stale = |what: &str, t: &LabeledTask, fingerprint: &str, examples: usize| {
        TrainError::Score(format!(
            "task `{}` has other data than when the run drew its {what} examples ({} examples, fingerprint {:.12}; the run saw {examples}, {fingerprint:.12}), so the ids {} records would point at other examples: import the data the run trained on again, or score all the examples (--examples all)",
            t.spec.name,
            t.examples.len(),
            task_fingerprint(t),
            path.display()
        ))
    };
    let check = |t: &LabeledTask, fingerprint: &str, examples: usize, what: &str| match task_fingerprint(t) == fingerprint {
        true => Ok(()),
        false => Err(stale(what, t, fingerprint, examples)),
    };
    match job.examples {
        Examples::Train => {
            check(task, &split.fingerprint, split.examples, "training")?;
            Ok((task, split.train.clone()))
        }
        _ => dev_examples(job, split, check),
    }
}

/// The dev examples `split` records: of the task, or of the task it was scored on.
fn dev_examples<'t>(
    job: &ScoreJob<'t>,
    split: &TaskSplit,
    check: impl Fn(&LabeledTask, &str, usize, &str) -> Result<(), TrainError>,
) -> Result<(&'t LabeledTask, Vec<usize>), TrainError> {
    let Some(recorded) = &split.dev_task else {
        check(job.task, &split.fingerprint, split.examples, "dev")?;
        return Ok((job.task, split.dev.clone()));
    };
    let dev = job.dev_task.filter(|d| d.spec.name == recorded.name).ok_or_else(|| {
        TrainError::Score(format!("the run scored task `{}` on task `{}`, which was not loaded: import it, or score all the examples (--examples all)", split.task, recorded.name))
    })?;
    check(dev, &recorded.fingerprint, recorded.examples, "dev")?;
    Ok((dev, split.dev.clone()))
}

/// Write `scored`'s predictions (of `job`) as JSON lines at `path`, atomically (a partial
/// file renamed into place): per example scored, its index in the task whose examples were
/// read, its texts, the gold target and the prediction, named with the task's labels, and
/// whether it is right (classification, multiple choice; exact match and F1 for spans; the
/// error for regression). Returns the bytes written.
pub fn write_predictions(path: &Path, job: &ScoreJob, scored: &Scored) -> Result<u64, TrainError> {
    use crate::evaluate::Predicted;
    use muppet_data::Target;
    use serde_json::{json, Value};

    let source = match job.dev_task {
        Some(dev) if dev.spec.name == scored.examples_of => dev,
        _ => job.task,
    };
    let labels = &job.task.spec.labels;
    let label = |i: usize| labels.get(i).cloned().map_or(Value::from(i), Value::from);
    let mut predictions: Vec<&Prediction> = scored.predictions.iter().collect();
    predictions.sort_by_key(|p| p.example);
    let mut out = Vec::new();
    for p in predictions {
        let example = &source.examples[p.example];
        let mut row = json!({ "example": p.example, "text": example.text_a });
        if let Some(b) = &example.text_b {
            row["text_b"] = Value::from(b.as_str());
        }
        match (&example.target, &p.predicted) {
            (Target::Class(gold), Predicted::Class { index, probabilities }) => {
                row["label"] = label(*gold);
                row["predicted"] = label(*index);
                row["probabilities"] = json!(probabilities);
                row["correct"] = Value::from(gold == index);
            }
            (Target::Choice(gold), Predicted::Class { index, probabilities }) => {
                row["choices"] = json!(example.choices);
                row["label"] = Value::from(*gold);
                row["predicted"] = Value::from(*index);
                row["probabilities"] = json!(probabilities);
                row["correct"] = Value::from(gold == index);
            }
            (Target::Value(gold), Predicted::Value(value)) => {
                row["label"] = json!(gold);
                row["predicted"] = json!(value);
                row["error"] = json!(value - f64::from(*gold));
            }
            (Target::Span(answers), Predicted::Span { text, score }) => {
                let gold: Vec<&str> = answers.iter().map(|a| a.text.as_str()).collect();
                row["answers"] = json!(gold);
                row["predicted"] = Value::from(text.as_str());
                row["score"] = json!(score);
                row["exact_match"] = Value::from(crate::metrics::exact_match(text, &gold) == 1.0);
                row["f1"] = json!(crate::metrics::span_f1(text, &gold));
            }
            _ => {}
        }
        out.extend(row.to_string().into_bytes());
        out.push(b'\n');
    }
    let failed = |e: std::io::Error| TrainError::Score(format!("cannot write {}: {e}. Check the free space and permissions of its folder", path.display()));
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(failed)?;
    let name = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    let partial = dir.join(format!(".partial-{}-{name}", std::process::id()));
    std::fs::write(&partial, &out).and_then(|()| std::fs::rename(&partial, path)).map_err(|e| {
        let _ = std::fs::remove_file(&partial);
        failed(e)
    })?;
    Ok(out.len() as u64)
}

/// The split a score is stored under with the run's metrics: `eval-dev`, `eval-train`,
/// `eval-all`, and `@TASK` after it when another task's head scored (`eval-all@mnli`).
pub fn split_name(examples: Examples, task: &str, head_task: Option<&str>) -> String {
    match head_task {
        Some(head) if head != task => format!("eval-{}@{head}", examples.as_str()),
        _ => format!("eval-{}", examples.as_str()),
    }
}

/// Where a scoring's predictions go by default: `<run>/predictions/<task>-<split>-step<N>.jsonl`.
pub fn predictions_file(run_dir: &Path, task: &str, split: &str, step: u64) -> std::path::PathBuf {
    run_dir.join("predictions").join(format!("{task}-{split}-step{step}.jsonl"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference numbers computed in Python on the same float32 probabilities.
    #[test]
    fn calibration_bins_confidence_against_accuracy() {
        let data: [(&[f32], usize); 6] = [
            (&[0.7, 0.2, 0.1], 0),
            (&[0.55, 0.45, 0.0], 1),
            (&[0.25, 0.35, 0.4], 2),
            (&[0.05, 0.9, 0.05], 1),
            (&[0.3, 0.65, 0.05], 0),
            (&[0.96, 0.02, 0.02], 0),
        ];
        let argmax = |p: &[f32]| (0..p.len()).fold(0, |b, i| if p[i] > p[b] { i } else { b });
        let c = Calibration::of(data.iter().map(|&(p, gold)| (gold, argmax(p), p))).expect("examples");
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        assert!(close(c.ece, 0.27333333591620124) && close(c.mce, 0.5999999940395355) && close(c.brier, 0.37039999708881016), "{c:?}");
        assert!(close(c.confidence, 0.6933333228031794) && close(c.accuracy, 4.0 / 6.0), "{c:?}");
        let bins: Vec<(f64, usize, f64)> = c.bins.iter().map(|b| (b.low, b.examples, b.accuracy)).collect();
        assert_eq!(bins, [(0.4, 1, 1.0), (0.5, 1, 0.0), (0.6, 2, 0.5), (0.8, 1, 1.0), (0.9, 1, 1.0)]);
        assert!(close(c.bins[2].confidence, 1.3499999642372131 / 2.0));
        assert!(Calibration::of(std::iter::empty()).is_none());
    }

    #[test]
    fn confusion_and_class_figures_by_hand() {
        let labels = vec!["neg".to_string(), "neu".to_string(), "pos".to_string()];
        // gold neg: 3 (2 right, 1 as pos); gold neu: 1 (as neg); gold pos: 2 (right).
        let pairs = [(0, 0), (0, 0), (0, 2), (1, 0), (2, 2), (2, 2)];
        let c = Confusion::of(&labels, pairs);
        assert_eq!(c.matrix, vec![vec![2, 0, 1], vec![1, 0, 0], vec![0, 0, 2]]);
        let neg = &c.per_class[0];
        // precision 2/3, recall 2/3, F1 2/3.
        assert!((neg.precision - 2.0 / 3.0).abs() < 1e-12 && (neg.recall - 2.0 / 3.0).abs() < 1e-12 && (neg.f1 - 2.0 / 3.0).abs() < 1e-12, "{neg:?}");
        assert_eq!(neg.support, 3);
        // Never predicted, one example: all zero.
        assert_eq!((c.per_class[1].precision, c.per_class[1].recall, c.per_class[1].f1, c.per_class[1].support), (0.0, 0.0, 0.0, 1));
        // pos: precision 2/3, recall 1, F1 0.8.
        let pos = &c.per_class[2];
        assert!((pos.precision - 2.0 / 3.0).abs() < 1e-12 && pos.recall == 1.0 && (pos.f1 - 0.8).abs() < 1e-12, "{pos:?}");
        // The macro F1 of the metrics module is the mean of the per-class F1s.
        let (gold, pred): (Vec<usize>, Vec<usize>) = pairs.iter().copied().unzip();
        let macro_f1 = c.per_class.iter().map(|k| k.f1).sum::<f64>() / 3.0;
        assert!((crate::metrics::macro_f1(&pred, &gold) - macro_f1).abs() < 1e-12);
    }
}
