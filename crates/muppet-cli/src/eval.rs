//! `muppet eval RUN... --task NAME [--step N|best] [--examples dev|train|all] [--head TASK]`: score a
//! checkpoint of each run on a task (Hugging Face Trainer's `evaluate` and `predict`), store
//! the scores with the run's metrics at the checkpoint's step (split `eval-<examples>`,
//! `@TASK` when another task's head scored) and write each example's prediction as JSON
//! lines (`runs/<id>/predictions/`, or `--predictions FILE`).

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use muppet_core::{MetricPoint, RunId};
use muppet_data::LabeledTask;
use muppet_train::backend::OnBackend;
use muppet_train::export::{find_checkpoint, ExportError};
use muppet_train::manifest::RunManifest;
use muppet_train::score::{predictions_file, score, split_name, write_predictions, Examples, ScoreJob, Scored};
use muppet_train::TrainError;
use serde::Serialize;

#[derive(Args)]
pub struct EvalArgs {
    /// The run ids (see `muppet runs list`): each run's checkpoint scores the task in turn,
    /// e.g. every pre-finetuned model of an experiment on a held-out task through the
    /// shared head, then `muppet runs compare` lists them side by side.
    #[arg(required = true)]
    runs: Vec<i64>,
    #[command(flatten)]
    what: ScoringFlags,
    /// The checkpoint of this step, or `best`: the one with the best dev score (default:
    /// the latest). With several runs, `best` takes each run's best.
    #[arg(long)]
    step: Option<crate::best::StepArg>,
    /// Where to write each example's prediction as JSON lines (default:
    /// runs/<id>/predictions/<task>-<split>-step<N>.jsonl).
    #[arg(long)]
    predictions: Option<PathBuf>,
    /// With two runs: compare their predictions example by example: the task's metric of
    /// each on the examples both scored, the difference with a paired bootstrap interval,
    /// and (right-or-wrong predictions) McNemar's exact test; then the examples where they
    /// differ.
    #[arg(long)]
    paired: bool,
    /// Bootstrap resamples of the paired comparison.
    #[arg(long, default_value_t = muppet_train::paired::DEFAULT_RESAMPLES, requires = "paired")]
    resamples: usize,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
    /// Print the progress (`{"done": N, "total": M}` after each batch) and then the result
    /// as JSON lines on stdout, for the app.
    #[arg(long)]
    json_lines: bool,
}

/// What is scored, and how: the flags `muppet eval` and `muppet experiment score` share.
#[derive(Args, Clone)]
pub struct ScoringFlags {
    /// The task to score: one of the run's, or any other task (demo catalog or imported).
    #[arg(long)]
    pub task: String,
    /// Which examples: `dev` (those the run scored the task on), `train` (those it trained
    /// on) or `all`. Default: `dev` for a task of the run, `all` for another.
    #[arg(long)]
    pub examples: Option<Examples>,
    /// The task of the run whose head scores (default: the task's own head, else the shared
    /// multiple-choice or span head). A classifier scores a task of as many classes.
    #[arg(long)]
    pub head: Option<String>,
    /// Backend to score on (cpu, cuda, ...).
    #[arg(long, default_value = "cpu")]
    pub backend: String,
}

/// One metric's value.
#[derive(Serialize)]
struct Score {
    metric: &'static str,
    value: f64,
}

/// What `muppet eval --json` prints.
#[derive(Serialize)]
pub struct Evaluated {
    run: i64,
    step: u64,
    checkpoint: PathBuf,
    task: String,
    /// The task whose examples were read (the task, or the one it is scored on).
    examples_of: String,
    examples: Examples,
    scored: usize,
    head: String,
    head_task: Option<String>,
    /// The split the scores are stored under.
    split: String,
    /// The task's metric first.
    scores: Vec<Score>,
    predictions: PathBuf,
    predictions_bytes: u64,
    /// Seconds of the forward passes and scoring (not loading the model or tokenizing), and
    /// the examples scored per second in them.
    scoring_s: f64,
    examples_per_s: f64,
    /// Classification: the confusion matrix and each class's precision, recall and F1.
    classes: Option<muppet_train::score::Confusion>,
    /// Classification and multiple choice: confidence against accuracy (ECE, MCE, Brier, bins).
    calibration: Option<muppet_train::score::Calibration>,
    /// The task's metric with its 95% bootstrap interval over the examples scored, and the
    /// seconds reading the predictions back and resampling took.
    interval: Option<muppet_train::paired::Interval>,
    interval_s: f64,
}

struct Scoring<'a> {
    job: ScoreJob<'a>,
    bar: &'a ProgressBar,
    json_lines: bool,
}

impl OnBackend for Scoring<'_> {
    type Output = Result<Scored, TrainError>;
    fn run<B: burn::tensor::backend::AutodiffBackend>(self, device: B::Device) -> Self::Output {
        // The inner backend: no autodiff graph, no dropout.
        score::<B::InnerBackend>(&self.job, &device, &mut |done, total| {
            if self.json_lines {
                use std::io::Write;
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{}", serde_json::json!({ "done": done, "total": total }));
                let _ = out.flush();
            } else {
                self.bar.set_length(total as u64);
                self.bar.set_position(done as u64);
            }
        })
    }
}

pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    if args.paired && args.runs.len() != 2 {
        anyhow::bail!("--paired compares two runs: give two run ids ({} given)", args.runs.len());
    }
    let all = evaluate(&args)?;
    let paired = match args.paired {
        true => Some(pair(&all, &args.what.task, args.resamples)?),
        false => None,
    };
    match (&paired, args.json, args.json_lines) {
        (Some(p), _, true) => println!("{}", serde_json::to_string(&serde_json::json!({ "paired": p }))?),
        (Some(p), true, false) => println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "runs": all, "paired": p }))?),
        (Some(p), false, false) => print_paired(&all, p),
        (None, true, false) => match all.as_slice() {
            [one] => println!("{}", serde_json::to_string_pretty(one)?),
            many => println!("{}", serde_json::to_string_pretty(many)?),
        },
        (None, _, _) => {}
    }
    Ok(())
}

/// The paired comparison of the two runs' predictions just written.
fn pair(all: &[Evaluated], task: &str, resamples: usize) -> anyhow::Result<muppet_train::paired::Paired> {
    let [a, b] = all else { anyhow::bail!("--paired compares two runs") };
    // The task's own metric comes first in its scores.
    let metric: muppet_core::Metric = a.scores.first().map(|s| s.metric).unwrap_or_default().parse()?;
    let rows = |e: &Evaluated| muppet_train::paired::read_rows(&e.predictions).map_err(anyhow::Error::msg);
    let paired = muppet_train::paired::compare(&rows(a)?, &rows(b)?, metric, resamples).map_err(|e| anyhow::anyhow!("runs {} and {} on `{task}`: {e}", a.run, b.run))?;
    Ok(paired)
}

/// The paired comparison for people: each run's figure, the difference and its interval,
/// who is right where, and the first examples where they differ.
fn print_paired(all: &[Evaluated], p: &muppet_train::paired::Paired) {
    let [a, b] = all else { return };
    let left_out = match (p.only_in_a, p.only_in_b) {
        (0, 0) => String::new(),
        (x, y) => format!(" ({x} scored by run {} only and {y} by run {} only left out)", a.run, b.run),
    };
    println!();
    println!("paired: runs {} (step {}) and {} (step {}) on the {} examples both scored{left_out}", a.run, a.step, b.run, b.step, p.examples);
    let metric = p.metric.as_str();
    println!("  {metric:<16} run {}: {:.4}   run {}: {:.4}", a.run, p.a, b.run, p.b);
    let reversed = match p.difference != 0.0 && p.bootstrap_p.is_finite() {
        true => format!("; the sign reversed (or 0) in {:.1}% of them", 100.0 * p.bootstrap_p),
        false => String::new(),
    };
    println!(
        "  difference       {:+.4} (run {} - run {}), 95% interval [{:+.4}, {:+.4}] over {} paired bootstrap resamples (seed {:#x}){reversed}",
        p.difference, b.run, a.run, p.interval.0, p.interval.1, p.resamples, p.seed
    );
    if let Some(g) = &p.agreement {
        let right = match p.metric {
            muppet_core::Metric::SpanF1 | muppet_core::Metric::SpanExactMatch => " (right: an exact match)",
            _ => "",
        };
        println!("  both right {}, only run {} right {}, only run {} right {}, both wrong {}{right}", g.both_right, a.run, g.only_a, b.run, g.only_b, g.both_wrong);
        let split = g.only_a + g.only_b;
        println!("  McNemar's exact test: p = {:.4} ({split} example{} where one is right and the other wrong)", g.mcnemar_p, if split == 1 { "" } else { "s" });
    }
    if p.differing == 0 {
        println!("  the two predict the same on every example");
        return;
    }
    println!("  {} examples predicted differently; the first {}:", p.differing, p.shown.len());
    for d in &p.shown {
        let mark = |right: Option<bool>| match right {
            Some(true) => " (right)",
            Some(false) => " (wrong)",
            None => "",
        };
        let input = match &d.text_b {
            // A span's second text is its passage: the question says what was asked.
            Some(_) if d.gold.is_array() => d.text.clone(),
            Some(b) => format!("{} / {b}", d.text),
            None => d.text.clone(),
        };
        println!("    #{:<6} {}", d.example, crate::tasks::cut(&input, 90));
        println!("            gold {}   run {}: {}{}   run {}: {}{}", crate::tasks::cut(&shown(&d.gold), 40), a.run, crate::tasks::cut(&shown(&d.a), 40), mark(d.a_right), b.run, crate::tasks::cut(&shown(&d.b), 40), mark(d.b_right));
    }
}

/// A label, value or answer of a predictions file as text: a list of answers once each, a
/// value to 4 decimals.
fn shown(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) => {
            let mut seen: Vec<String> = Vec::new();
            for item in items {
                let text = shown(item);
                if !seen.contains(&text) {
                    seen.push(text);
                }
            }
            seen.join(" | ")
        }
        serde_json::Value::Number(n) if !(n.is_i64() || n.is_u64()) => n.as_f64().map_or_else(|| n.to_string(), |x| format!("{x:.4}")),
        other => other.to_string(),
    }
}

impl EvalArgs {
    /// Score with each of `runs` (at `step`, or each one's latest) as `what` says (`json`: no
    /// table for people; the caller prints the results).
    pub fn of_runs(runs: Vec<i64>, what: ScoringFlags, step: Option<crate::best::StepArg>, json: bool, json_lines: bool) -> Self {
        Self { runs, what, step, predictions: None, paired: false, resamples: muppet_train::paired::DEFAULT_RESAMPLES, json, json_lines }
    }
}

/// Score the task with each run in turn: a table for people after each one (unless `--json`),
/// or its progress and result as JSON lines (`--json-lines`); what each run scored.
pub fn evaluate(args: &EvalArgs) -> anyhow::Result<Vec<Evaluated>> {
    if args.runs.len() > 1 {
        if let Some(crate::best::StepArg::At(_)) = args.step {
            anyhow::bail!("--step N picks a checkpoint of one run: give one run with it, `--step best` for each run's best, or leave it out to score each run's latest");
        }
        if args.predictions.is_some() {
            anyhow::bail!("--predictions names one file: give one run with it, or leave it out (each run's predictions go into its own folder)");
        }
    }
    let home = crate::home();
    let task = crate::tasks::load(&home, &args.what.task)?;
    let mut all = Vec::with_capacity(args.runs.len());
    for &run in &args.runs {
        let (evaluated, manifest) = score_run(args, &home, &task, RunId(run))?;
        if args.json_lines {
            println!("{}", serde_json::to_string(&evaluated)?);
        } else if !args.json {
            print(&evaluated, &task, &manifest);
        }
        all.push(evaluated);
    }
    Ok(all)
}

/// Score `task` with a checkpoint of `run`, store the scores with its metrics and write its
/// predictions.
fn score_run(args: &EvalArgs, home: &muppet_core::MuppetHome, task: &LabeledTask, run: RunId) -> anyhow::Result<(Evaluated, RunManifest)> {
    let run_dir = home.run_dir(run);
    let step = crate::best::resolve(home, run, args.step)?;
    let (step, checkpoint) = find_checkpoint(&run_dir, step).map_err(|e| match e {
        ExportError::NoRunFolder(_) => anyhow::anyhow!("no run {run} in {}: {e}", home.root().display()),
        e => e.into(),
    })?;
    let manifest = RunManifest::read(&run_dir)?;
    let (max_len, doc_stride) = tokenization(home, run, &run_dir)?;

    let in_run = manifest.task_index(&args.what.task).is_some();
    let examples = args.what.examples.unwrap_or(if in_run { Examples::Dev } else { Examples::All });
    // The task the run scored it on, as its splits.json records it (the task's policy may
    // have changed since).
    let recorded = match (examples, in_run) {
        (Examples::Dev, true) => muppet_train::splits::read(&run_dir).ok().and_then(|splits| splits.into_iter().find(|s| s.task == args.what.task)).and_then(|s| s.dev_task),
        _ => None,
    };
    let dev_task: Option<LabeledTask> = match recorded {
        Some(dev) => Some(crate::tasks::load(home, &dev.name).with_context(|| format!("run {run} scored task `{}` on task `{}`, which could not be loaded: import it again, or score all the examples (--examples all)", args.what.task, dev.name))?),
        None => None,
    };
    let backend: muppet_train::backend::BackendKind = args.what.backend.parse()?;
    let bar = ProgressBar::new(0).with_style(ProgressStyle::with_template("{spinner} scoring {pos}/{len} [{bar:30}] {elapsed_precise} eta {eta}")?.progress_chars("=> "));
    let job = ScoreJob {
        run_dir: &run_dir,
        checkpoint: &checkpoint,
        task,
        dev_task: dev_task.as_ref(),
        head: args.what.head.as_deref(),
        examples,
        max_len,
        doc_stride,
        cache_dir: Some(&home.token_cache()),
    };
    let scored = crate::on_backend(home, backend, Scoring { job, bar: &bar, json_lines: args.json_lines })??;
    bar.finish_and_clear();

    let split = split_name(examples, &args.what.task, scored.head_task.as_deref());
    let path = args.predictions.clone().unwrap_or_else(|| predictions_file(&run_dir, &args.what.task, &split, step));
    let bytes = write_predictions(&path, &job, &scored)?;
    crate::with_store(async |store, _| {
        let (seen, wall_s) = store.progress_at(run, step).await?.unwrap_or((0, 0.0));
        let points: Vec<MetricPoint> = scored
            .scores
            .iter()
            .map(|(metric, value)| MetricPoint {
                task: Some(args.what.task.clone()),
                split: split.clone(),
                name: metric.as_str().into(),
                step,
                examples: seen,
                wall_s,
                value: *value,
            })
            .collect();
        store.record_points(run, &points).await?;
        Ok(())
    })?;

    // How far the main figure could move on other examples of the same kind.
    let started = std::time::Instant::now();
    let interval = muppet_train::paired::read_rows(&path)
        .and_then(|rows| muppet_train::paired::interval(&rows, task.spec.metric, muppet_train::paired::DEFAULT_RESAMPLES))
        .ok();
    let interval_s = started.elapsed().as_secs_f64();
    let evaluated = Evaluated {
        run: run.0,
        step,
        checkpoint,
        task: args.what.task.clone(),
        examples_of: scored.examples_of.clone(),
        examples,
        scored: scored.examples,
        head: scored.head.clone(),
        head_task: scored.head_task.clone(),
        split,
        scores: scored.scores.iter().map(|&(m, value)| Score { metric: m.as_str(), value }).collect(),
        predictions: path,
        predictions_bytes: bytes,
        scoring_s: scored.seconds,
        examples_per_s: scored.examples as f64 / scored.seconds.max(1e-9),
        classes: scored.classes.clone(),
        calibration: scored.calibration.clone(),
        interval,
        interval_s,
    };
    Ok((evaluated, manifest))
}

/// The run's own tokenization: its max length and span windows' overlap (a run not made by
/// `prefinetune`/`finetune`, with no readable spec: its manifest's length).
pub fn tokenization(home: &muppet_core::MuppetHome, run: RunId, run_dir: &std::path::Path) -> anyhow::Result<(usize, usize)> {
    Ok(match crate::train_cmd::stored_spec(home, run) {
        Ok(s) => (s.config.max_len, s.config.doc_stride),
        Err(_) => (RunManifest::read(run_dir)?.max_len, muppet_data::tokenize::DEFAULT_DOC_STRIDE),
    })
}

fn print(e: &Evaluated, task: &LabeledTask, manifest: &RunManifest) {
    let of = if e.examples_of == e.task { String::new() } else { format!(" of `{}`", e.examples_of) };
    let head = match &e.head_task {
        Some(t) if *t == e.task => format!("its head ({})", e.head),
        Some(t) => format!("the head of `{t}` ({})", e.head),
        None => format!("the shared {} head", e.head),
    };
    let which = match e.examples {
        Examples::Dev => "the run's dev examples",
        Examples::Train => "the run's training examples",
        Examples::All => "all its examples",
    };
    println!("run {} step {}: task `{}`, {} examples ({which}{of}), through {head}", e.run, e.step, e.task, e.scored);
    for Score { metric, value } in &e.scores {
        match e.interval.filter(|i| i.metric.as_str() == *metric) {
            Some(i) => println!("  {metric:<16} {value:.4}  95% interval {:.4} to {:.4} ({} bootstrap resamples of the {} examples)", i.low, i.high, i.resamples, i.examples),
            None => println!("  {metric:<16} {value:.4}"),
        }
    }
    // A borrowed classifier's classes are read in order: say so when their names differ.
    if let Some(owner) = e.head_task.as_deref().filter(|t| *t != e.task).and_then(|t| manifest.tasks.iter().find(|s| s.name == t))
        && owner.family.is_classification()
        && owner.labels != task.spec.labels
    {
        println!("  classes read in order: {} as {}", owner.labels.join(", "), task.spec.labels.join(", "));
    }
    if let Some(c) = &e.classes {
        print_classes(c);
    }
    if let Some(c) = &e.calibration {
        print_calibration(c);
    }
    println!("  scored in {:.1} s ({:.0} examples/s)", e.scoring_s, e.examples_per_s);
    println!("stored with the run's metrics as `{} {} <metric>`", e.task, e.split);
    println!("predictions: {} ({})", e.predictions.display(), muppet_store::delete::bytes_text(e.predictions_bytes));
}

/// The calibration's figures, then each confidence bin with examples.
fn print_calibration(c: &muppet_train::score::Calibration) {
    println!(
        "  calibration: ECE {:.4}, MCE {:.4} ({} confidence bins), Brier {:.4}; mean confidence {:.4} against accuracy {:.4}",
        c.ece,
        c.mce,
        muppet_train::score::CALIBRATION_BINS,
        c.brier,
        c.confidence,
        c.accuracy
    );
    println!("  {:<12} {:>8} {:>10} {:>9}", "confidence", "examples", "mean conf.", "accuracy");
    for b in &c.bins {
        println!("  {:<12} {:>8} {:>10.4} {:>9.4}", format!("({:.1}, {:.1}]", b.low, b.high), b.examples, b.confidence, b.accuracy);
    }
}

/// Each class's figures, then the confusion matrix (rows: the gold class).
fn print_classes(c: &muppet_train::score::Confusion) {
    let width = c.labels.iter().map(|l| l.chars().count()).max().unwrap_or(0).max(9);
    println!("  {:<width$}  precision  recall     f1  support", "class");
    for k in &c.per_class {
        println!("  {:<width$}  {:>9.4}  {:>6.4}  {:>6.4}  {:>7}", k.label, k.precision, k.recall, k.f1, k.support);
    }
    println!("  confusion (rows: gold, columns: predicted, in the order above):");
    for (label, row) in c.labels.iter().zip(&c.matrix) {
        let cells: Vec<String> = row.iter().map(|n| format!("{n:>7}")).collect();
        println!("  {label:<width$}  {}", cells.join(""));
    }
}
