//! `muppet report ID --out DIR`: an experiment's charts (PNG and SVG), a CSV of every
//! aggregated point and of every fine-tune, and a Markdown summary with the figures.
//! The folder is written under a temporary name beside DIR and renamed into place.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use muppet_charts::{write_both, Bar, BarsChart, BandPoint, BandSeries, Curve, CurvesChart, ParallelAxis, ParallelChart, ParallelLine, SampleEfficiencyChart, ScatterChart, ScatterPoint, ScatterSeries, TaskCountChart};
use muppet_core::experiment::Distribution;
use muppet_core::{ExperimentKind, ExperimentSpec, MuppetHome, RunId, RunStatus};
use muppet_store::{ExperimentId, Store};
use muppet_train::experiment::aggregate::{self, Observation, Point, ALL_TASKS};
use muppet_train::experiment::fit::{self, CriticalPoint, Crossing};
use muppet_train::experiment::stats::Summary;
use muppet_train::experiment::{Arm, Plan, Role};

mod compare;

/// Seed of the task-count bootstrap (fixed: the same data gives the same interval).
pub const BOOTSTRAP_SEED: u64 = 0x5EED;

#[derive(Args)]
pub struct ReportArgs {
    /// The experiment id (see `muppet experiment list`); several ids of one design (sample
    /// efficiency, or task count) compare them: each downstream task they share charted with
    /// every experiment's curves.
    #[arg(required = true)]
    ids: Vec<i64>,
    /// Output folder (replaced if it exists).
    #[arg(long)]
    out: PathBuf,
}

/// What the store holds of an experiment's results.
struct Results {
    spec: ExperimentSpec,
    plan: Plan,
    /// Final dev metric of every completed fine-tune, by run name.
    values: BTreeMap<String, f64>,
    run_ids: BTreeMap<String, RunId>,
    /// The dev metric of each downstream task.
    metrics: BTreeMap<String, String>,
    /// What each downstream task's dev scores were computed on, from a fine-tune's
    /// `splits.json`: a held-out part of its own examples, or the task it is scored on.
    dev_sources: BTreeMap<String, String>,
    completed: usize,
    failed: usize,
    /// Per completed pre-finetuning run: its label and its per-task training loss.
    curves: Vec<(String, RunId, Vec<Curve>)>,
    /// Scores of the pre-finetuned models themselves (`muppet eval` on their checkpoints).
    scored: Vec<ScoredModel>,
    /// The fine-tunes a sweep's rule stopped early, by run name (a sweep with `early_terminate`).
    pruned: BTreeSet<String>,
    /// The updates the completed fine-tunes trained and those they were planned to (a sweep
    /// with `early_terminate`).
    updates: (u64, u64),
    /// A sweep's fine-tunes that were scored during training: each one's main dev metric
    /// by step, labelled with its setting, by task.
    dev_curves: BTreeMap<String, Vec<Curve>>,
}

/// A pre-finetuning run of the experiment scored on a task with `muppet eval`.
struct ScoredModel {
    arm: String,
    run: RunId,
    task: String,
    /// `eval-all`, `eval-dev@TASK`, ...
    split: String,
    /// Each metric's last value and its step, by name.
    figures: BTreeMap<String, (f64, u64)>,
}

fn gather(home: &MuppetHome, id: ExperimentId) -> anyhow::Result<Results> {
    let (spec, plan) = crate::experiment::stored(home, id)?;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let store = rt.block_on(Store::open(&home.db()))?;
    let rows: BTreeMap<String, muppet_store::RunRow> = rt.block_on(store.experiment_runs(id))?.into_iter().map(|r| (r.name.clone(), r)).collect();
    let mut out = Results {
        spec,
        plan: plan.clone(),
        values: BTreeMap::new(),
        run_ids: BTreeMap::new(),
        metrics: BTreeMap::new(),
        dev_sources: BTreeMap::new(),
        completed: 0,
        failed: 0,
        curves: Vec::new(),
        scored: Vec::new(),
        pruned: BTreeSet::new(),
        updates: (0, 0),
        dev_curves: BTreeMap::new(),
    };
    let terminates = out.spec.sweep.as_ref().is_some_and(|s| s.early_terminate.is_some());
    for run in &plan.runs {
        let Some(row) = rows.get(&run.name) else { continue };
        out.run_ids.insert(run.name.clone(), row.id);
        match row.status {
            RunStatus::Completed => out.completed += 1,
            RunStatus::Failed => out.failed += 1,
            _ => {}
        }
        if row.status != RunStatus::Completed {
            continue;
        }
        match &run.role {
            Role::Finetune { task, arm, .. } => {
                if let Some((metric, value, series)) = crate::experiment::final_metric_and_series(home, &store, &rt, row.id, task) {
                    if plan.kind == ExperimentKind::Sweep && run.config.eval_every > 0 {
                        let points = series.into_iter().map(|(step, v)| (step as f64, v)).collect();
                        out.dev_curves.entry(task.clone()).or_default().push(Curve { label: arm.label(), points, color: None });
                    }
                    out.metrics.insert(task.clone(), metric);
                    out.values.insert(run.name.clone(), value);
                }
                if terminates {
                    if rt.block_on(store.run_tags(row.id))?.iter().any(|t| t == crate::pruner::PRUNED_TAG) {
                        out.pruned.insert(run.name.clone());
                    }
                    if let Some(progress) = rt.block_on(store.run_progress_of(row.id))? {
                        out.updates.0 += progress.last_step.unwrap_or(0);
                        out.updates.1 += progress.total_steps.unwrap_or(run.config.steps);
                    }
                }
                if !out.dev_sources.contains_key(task)
                    && let Some(source) = dev_source(&home.run_dir(row.id), task)
                {
                    out.dev_sources.insert(task.clone(), source);
                }
            }
            Role::PreFinetune { arm } => {
                let mut curves = Vec::new();
                for task in &run.tasks {
                    let points = rt.block_on(store.series(row.id, Some(task), "train", "loss"))?;
                    if !points.is_empty() {
                        curves.push(Curve { label: task.clone(), points: points.into_iter().map(|(s, v)| (s as f64, v)).collect(), color: None });
                    }
                }
                if !curves.is_empty() {
                    out.curves.push((arm.label(), row.id, curves));
                }
                let mut scored: BTreeMap<(String, String), BTreeMap<String, (f64, u64)>> = BTreeMap::new();
                for series in rt.block_on(store.list_series(row.id))? {
                    if let (Some(task), Some(summary)) = (series.key.task, series.summary)
                        && series.key.split.starts_with("eval-")
                    {
                        scored.entry((task, series.key.split)).or_default().insert(series.key.name, (summary.last, summary.last_step));
                    }
                }
                out.scored.extend(scored.into_iter().map(|((task, split), figures)| ScoredModel { arm: arm.label(), run: row.id, task, split, figures }));
            }
        }
    }
    rt.block_on(store.close());
    Ok(out)
}

/// What a fine-tune in `run_dir` scored `task` on, in words, from its `splits.json`.
fn dev_source(run_dir: &std::path::Path, task: &str) -> Option<String> {
    let splits = muppet_train::splits::read(run_dir).ok()?;
    let split = splits.into_iter().find(|s| s.task == task)?;
    Some(match &split.dev_task {
        Some(d) => format!("{} of the {} examples of `{}`, the task it is scored on (its validation split); all of its own examples train", split.dev.len(), d.examples, d.name),
        None => format!("{} of its {} examples, held out (a seeded draw; the training subsets come from the rest)", split.dev.len(), split.examples),
    })
}

pub fn run(args: ReportArgs) -> anyhow::Result<()> {
    let home = crate::home();
    if args.ids.len() > 1 {
        let mut ids: Vec<ExperimentId> = Vec::new();
        for &id in &args.ids {
            anyhow::ensure!(!ids.contains(&ExperimentId(id)), "experiment {id} is named twice: name each experiment to compare once");
            ids.push(ExperimentId(id));
        }
        let compared: Vec<(ExperimentId, Results)> = ids.iter().map(|&id| Ok((id, gather(&home, id)?))).collect::<anyhow::Result<_>>()?;
        let out = absolute(&args.out)?;
        let tasks = into_folder(&out, |dir| compare::write(dir, &compared))?;
        println!("experiments {} compared on {tasks} downstream task{} in {}", args.ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", "), if tasks == 1 { "" } else { "s" }, out.display());
        println!("{}", out.join("summary.md").display());
        return Ok(());
    }
    let id = ExperimentId(args.ids[0]);
    let results = gather(&home, id)?;
    anyhow::ensure!(
        !results.values.is_empty(),
        "experiment {} has no completed fine-tunes yet: run it (`muppet experiment resume {}`) before reporting",
        id.0,
        id.0
    );
    let out = absolute(&args.out)?;
    into_folder(&out, |dir| write_report(dir, id, &results))?;
    println!("report of experiment {} written to {} ({} fine-tunes)", id.0, out.display(), results.values.len());
    println!("{}", out.join("summary.md").display());
    Ok(())
}

/// Write a report through `write` into a temporary folder beside `out`, then rename it into
/// place (an older report there is replaced); nothing is left half-written.
fn into_folder<T>(out: &Path, write: impl FnOnce(&Path) -> anyhow::Result<T>) -> anyhow::Result<T> {
    let parent = out.parent().context("the output folder needs a parent folder")?;
    std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    let name = out.file_name().context("the output folder needs a name")?.to_string_lossy().to_string();
    let partial = parent.join(format!(".{name}.partial-{}", std::process::id()));
    if partial.exists() {
        std::fs::remove_dir_all(&partial)?;
    }
    std::fs::create_dir(&partial).with_context(|| format!("creating {}", partial.display()))?;
    match write(&partial) {
        Ok(value) => {
            publish(&partial, out)?;
            Ok(value)
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&partial);
            Err(e)
        }
    }
}

fn absolute(p: &Path) -> anyhow::Result<PathBuf> {
    Ok(if p.is_absolute() { p.to_path_buf() } else { std::env::current_dir()?.join(p) })
}

/// Move the finished folder into place; an older report there is replaced.
fn publish(partial: &Path, out: &Path) -> anyhow::Result<()> {
    if out.exists() {
        let old = out.with_file_name(format!(".{}.old-{}", out.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default(), std::process::id()));
        std::fs::rename(out, &old).with_context(|| format!("moving the old report {} aside", out.display()))?;
        std::fs::rename(partial, out).with_context(|| format!("renaming {} to {}", partial.display(), out.display()))?;
        std::fs::remove_dir_all(&old).with_context(|| format!("removing the old report {}", old.display()))?;
    } else {
        std::fs::rename(partial, out).with_context(|| format!("renaming {} to {}", partial.display(), out.display()))?;
    }
    Ok(())
}

/// A file-name-safe form of a label.
fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_string()
}

fn num(v: f64) -> String {
    if v.is_finite() { format!("{v}") } else { String::new() }
}

fn quote(s: &str) -> String {
    if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

/// The columns of a point in `points.csv`, from its task on.
const POINT_HEAD: &str = "task,metric,arm,x,train_size,n,mean,sd,ci_low,ci_high,gain_n,gain_mean,gain_sd,gain_ci_low,gain_ci_high";

/// A point's fields under [`POINT_HEAD`]: its task, metric, starting point, x and training
/// size, its value over seeds (n, mean, sd, interval) and its gain over base (empty without).
fn point_fields(p: &Point, metric: &str) -> String {
    let g = p.gain;
    let gain = |f: fn(&Summary) -> String| g.as_ref().map(f).unwrap_or_default();
    [
        quote(&p.task),
        quote(metric),
        quote(&p.arm.label()),
        num(p.x),
        p.size.map(|n| n.to_string()).unwrap_or_default(),
        p.value.n.to_string(),
        num(p.value.mean),
        num(p.value.sd),
        num(p.value.ci_low),
        num(p.value.ci_high),
        gain(|g| g.n.to_string()),
        gain(|g| num(g.mean)),
        gain(|g| num(g.sd)),
        gain(|g| num(g.ci_low)),
        gain(|g| num(g.ci_high)),
    ]
    .join(",")
}

/// `mean ± sd [low, high]` for tables.
fn cell(s: &Summary) -> String {
    if s.n < 2 {
        return format!("{:.3} (n=1)", s.mean);
    }
    format!("{:.3} ± {:.3} [{:.3}, {:.3}]", s.mean, s.sd, s.ci_low, s.ci_high)
}

/// The section on the pre-finetuned models scored with `muppet eval` (say, each one's shared
/// multiple-choice head on a held-out task): per task and example set, a table of every
/// metric and bars of the main one. One run per model: no interval.
fn write_scored_models(md: &mut String, dir: &Path, figures: &mut Vec<String>, scored: &[ScoredModel]) -> anyhow::Result<()> {
    if scored.is_empty() {
        return Ok(());
    }
    writeln!(md, "## The pre-finetuned models scored directly\n")?;
    writeln!(md, "Each pre-finetuning run's checkpoint as `muppet eval` scored it (no fine-tuning; one run per model, so no interval).\n")?;
    let mut groups: Vec<(&str, &str)> = scored.iter().map(|m| (m.task.as_str(), m.split.as_str())).collect();
    groups.sort_unstable();
    groups.dedup();
    for (task, split) in groups {
        let models: Vec<&ScoredModel> = scored.iter().filter(|m| m.task == task && m.split == split).collect();
        let names: Vec<&String> = models.iter().flat_map(|m| m.figures.keys()).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
        let main = ["accuracy", "f1", "pearson"].into_iter().find(|m| names.iter().any(|n| n == m)).or(names.first().map(|n| n.as_str())).unwrap_or_default();
        let bars: Vec<Bar> =
            models.iter().filter_map(|m| m.figures.get(main).map(|&(v, _)| Bar { label: m.arm.clone(), mean: v, low: v, high: v, is_base: false })).collect();
        let stem = format!("scored_{}_{}", slug(task), slug(split));
        figure(&BarsChart { title: format!("{task} ({split}): the pre-finetuned models"), x_label: main.to_string(), bars }, dir, &stem, figures)?;
        writeln!(md, "### {task} ({split})\n\n![{task}: pre-finetuned models]({stem}.png)\n")?;
        let header: Vec<&str> = names.iter().map(|n| n.as_str()).collect();
        writeln!(md, "| pre-finetuning | run | step | {} |\n|---|---|---|{}", header.join(" | "), "---|".repeat(header.len()))?;
        for m in models {
            let step = m.figures.values().map(|&(_, s)| s).max().unwrap_or(0);
            let cells: Vec<String> = names.iter().map(|n| m.figures.get(*n).map_or_else(|| "-".into(), |&(v, _)| format!("{v:.3}"))).collect();
            writeln!(md, "| {} | {} | {step} | {} |", m.arm, m.run.0, cells.join(" | "))?;
        }
        writeln!(md)?;
    }
    Ok(())
}

/// What a sweep's charts by setting read, worked out once per report.
struct Swept<'a> {
    /// Each fine-tuning arm's training settings as JSON, from a run of it.
    configs: BTreeMap<&'a Arm, serde_json::Value>,
    /// [`swept_numbers`].
    numbers: Vec<(String, bool)>,
    /// [`Swept::keys`].
    keys: Vec<String>,
}

impl<'a> Swept<'a> {
    /// The fine-tuning settings the sweep varies: its grid's with two values or more, and
    /// those it draws.
    fn keys(spec: &ExperimentSpec) -> Vec<String> {
        let Some(sweep) = &spec.sweep else { return Vec::new() };
        sweep.grid.iter().filter(|(_, v)| v.len() > 1).map(|(k, _)| k.clone()).chain(sweep.random.keys().cloned()).collect()
    }

    fn of(r: &'a Results) -> Self {
        let configs = r
            .plan
            .runs
            .iter()
            .filter_map(|run| match &run.role {
                Role::Finetune { arm, .. } => Some((arm, serde_json::to_value(&run.config).ok()?)),
                Role::PreFinetune { .. } => None,
            })
            .collect();
        Swept { configs, numbers: swept_numbers(&r.spec), keys: Swept::keys(&r.spec) }
    }
}

/// Which settings a sweep's fine-tunes of one task (or their mean over tasks) depend on, as
/// `muppet runs importance` weighs them (W&B's parameter importance): each setting swept, the
/// start when there are several, and the seed, the noise's own measure; a table, most
/// important first, or nothing for fewer than three fine-tunes.
fn settings_that_mattered(md: &mut String, swept: &Swept, metric: &str, fine_tunes: &[&Observation]) -> std::fmt::Result {
    if fine_tunes.len() < muppet_store::MIN_RUNS {
        return Ok(());
    }
    let ys: Vec<f64> = fine_tunes.iter().map(|o| o.value).collect();
    let mut factors: Vec<(String, Vec<Option<serde_json::Value>>)> =
        swept.keys.iter().map(|key| (key.clone(), fine_tunes.iter().map(|o| swept.configs.get(&o.arm).and_then(|c| c.get(key)).cloned()).collect())).collect();
    factors.push(("start".into(), fine_tunes.iter().map(|o| Some(o.arm.model_arm().label().into())).collect()));
    factors.push(("seed".into(), fine_tunes.iter().map(|o| Some(o.seed.into())).collect()));
    let mut weighed: Vec<muppet_store::SettingImportance> =
        factors.iter().map(|(name, values)| muppet_store::weigh(name, values.iter().map(Option::as_ref).collect(), &ys)).filter(|s| s.groups > 1).collect();
    if weighed.is_empty() {
        return Ok(());
    }
    muppet_store::rank(&mut weighed);
    writeln!(
        md,
        "Which settings mattered over its {} fine-tunes: each one's share of the dev {metric}'s variance that its values explain alone, less what chance explains (ε², as `muppet runs importance`; more than {} numbers in as many bins), and the rank correlation of its numbers with it; the seed measures the noise.\n",
        fine_tunes.len(),
        muppet_store::MAX_GROUPS
    )?;
    writeln!(md, "| setting | importance | rank correlation | values |\n|---|---|---|---|")?;
    for s in &weighed {
        let importance = s.importance.map_or_else(|| "-".to_string(), |i| format!("{i:.2}"));
        let correlation = s.correlation.map_or_else(|| "-".to_string(), |c| format!("{c:+.2}"));
        writeln!(md, "| {} | {importance} | {correlation} | {} |", s.name, s.values)?;
    }
    writeln!(md)
}

/// The numeric settings a sweep varies across its fine-tunes, each with whether it is shown
/// on a log scale (drawn log-uniformly, or a grid of positive values spanning a decade).
fn swept_numbers(spec: &ExperimentSpec) -> Vec<(String, bool)> {
    let Some(sweep) = &spec.sweep else { return Vec::new() };
    let numbers = |values: &[serde_json::Value]| values.iter().map(serde_json::Value::as_f64).collect::<Option<Vec<f64>>>();
    let mut out = Vec::new();
    for (key, draw) in &sweep.random {
        let numeric = match &draw.values {
            Some(values) => numbers(values).is_some(),
            None => true,
        };
        if numeric {
            out.push((key.clone(), drawn_on_log(draw)));
        }
    }
    for (key, values) in sweep.grid.iter().filter(|(_, v)| v.len() > 1) {
        if let Some(v) = numbers(values) {
            let (lo, hi) = v.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
            out.push((key.clone(), muppet_store::log_scale(lo, hi)));
        }
    }
    out
}

/// A sweep's settings as parallel coordinates (W&B's sweep chart) for one task: an axis per
/// numeric setting swept and one for the dev figure, a line per setting (its mean over
/// seeds); when the stage was swept too, a first axis of the starting points, as categories.
/// Drawn when that makes two axes of settings or more.
fn parallel_settings(md: &mut String, (dir, figures): (&Path, &mut Vec<String>), swept: &Swept, (task, metric): (&str, &str), mine: &[&Point]) -> anyhow::Result<()> {
    let Some(chart) = parallel_chart(swept, (task, metric), mine) else { return Ok(()) };
    let stem = format!("sweep_parallel_{}", slug(task));
    figure(&chart, dir, &stem, figures)?;
    writeln!(md, "![{task}: every setting]({stem}.png)\n")?;
    Ok(())
}

/// The chart [`parallel_settings`] draws, or none.
fn parallel_chart(swept: &Swept, (task, metric): (&str, &str), mine: &[&Point]) -> Option<ParallelChart> {
    let Swept { configs, numbers: keys, .. } = swept;
    let starts: Vec<String> = mine.iter().filter(|p| configs.contains_key(&p.arm)).map(|p| p.arm.model_arm().label()).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    let several = starts.len() > 1;
    if keys.len() + usize::from(several) < 2 {
        return None;
    }
    let lines: Vec<ParallelLine> = mine
        .iter()
        .filter(|p| p.value.mean.is_finite())
        .filter_map(|p| {
            let config = configs.get(&p.arm)?;
            let start = several.then(|| starts.iter().position(|s| *s == p.arm.model_arm().label()).map(|at| at as f64));
            let mut values: Vec<f64> = start.into_iter().collect::<Option<Vec<f64>>>()?;
            values.extend(keys.iter().map(|(k, _)| config.get(k)?.as_f64()).collect::<Option<Vec<f64>>>()?);
            values.push(p.value.mean);
            Some(ParallelLine { values })
        })
        .collect();
    if lines.is_empty() {
        return None;
    }
    let start_axis = several.then(|| ParallelAxis { label: "start".into(), categories: starts, ..ParallelAxis::default() });
    let mut axes: Vec<ParallelAxis> = start_axis.into_iter().chain(keys.iter().map(|(label, log)| ParallelAxis { label: label.clone(), log: *log, ..ParallelAxis::default() })).collect();
    axes.push(ParallelAxis { label: format!("dev {metric}"), ..ParallelAxis::default() });
    Some(ParallelChart { title: format!("Sweep: {task}, every setting (darker: a higher dev {metric})"), axes, lines })
}

/// Where a drawn setting took its values, in words.
fn draw_text(d: &muppet_core::experiment::Draw) -> String {
    let text = muppet_train::experiment::setting_text;
    match (&d.values, &d.min, &d.max, d.range_distribution()) {
        (Some(values), ..) => format!("one of {}", values.iter().map(text).collect::<Vec<_>>().join(", ")),
        (None, Some(min), Some(max), Some(how)) => {
            let how = match how {
                Distribution::LogUniformValues => "log-uniform",
                Distribution::IntUniform => "a whole number",
                Distribution::Uniform => "uniform",
            };
            format!("{how} from {} to {}", text(min), text(max))
        }
        _ => String::new(),
    }
}

/// Whether a drawn setting is shown on a log axis: it was drawn log-uniformly.
fn drawn_on_log(d: &muppet_core::experiment::Draw) -> bool {
    d.range_distribution() == Some(Distribution::LogUniformValues)
}

/// A random sweep's dev figures against each number it drew (W&B's scatter of a sweep's
/// runs by one parameter): one point per setting and task (its mean over seeds), a series
/// per task (and starting point, when the stage was swept too), on a log axis where the
/// number was drawn log-uniformly.
fn drawn_settings(md: &mut String, (dir, figures): (&Path, &mut Vec<String>), r: &Results, configs: &BTreeMap<&Arm, serde_json::Value>, points: &[Point]) -> anyhow::Result<()> {
    let Some(sweep) = r.spec.sweep.as_ref().filter(|s| !s.random.is_empty()) else { return Ok(()) };
    let several_starts = points.iter().map(|p| p.arm.model_arm()).collect::<std::collections::BTreeSet<_>>().len() > 1;
    for (key, draw) in &sweep.random {
        let mut series: BTreeMap<String, Vec<ScatterPoint>> = BTreeMap::new();
        for p in points.iter().filter(|p| p.value.mean.is_finite()) {
            let Some(x) = configs.get(&p.arm).and_then(|c| c.get(key)).and_then(serde_json::Value::as_f64) else { continue };
            let label = if several_starts { format!("{}, {}", p.task, p.arm.model_arm().label()) } else { p.task.clone() };
            series.entry(label).or_default().push(ScatterPoint { x, y: p.value.mean, label: String::new() });
        }
        if series.is_empty() {
            continue;
        }
        let title = match series.keys().collect::<Vec<_>>()[..] {
            [one] => format!("Sweep: {one}'s dev figure against {key}"),
            _ => format!("Sweep: dev figures against {key}"),
        };
        let chart = ScatterChart {
            title,
            x_label: key.clone(),
            y_label: "dev metric (mean over seeds)".into(),
            log_x: drawn_on_log(draw),
            log_y: false,
            series: series.into_iter().map(|(label, points)| ScatterSeries { label, points }).collect(),
            ..ScatterChart::default()
        };
        let stem = format!("sweep_by_{}", slug(key));
        figure(&chart, dir, &stem, figures)?;
        writeln!(md, "## Dev figures against {key}\n\n![against {key}]({stem}.png)\n")?;
        // How the figure moves with the setting (W&B's parameter correlation), by rank: a
        // log scale or any other monotone one gives the same value.
        writeln!(md, "| | settings | rank correlation (Spearman) with {key} |\n|---|---|---|")?;
        for s in &chart.series {
            let (x, y): (Vec<f64>, Vec<f64>) = s.points.iter().map(|p| (p.x, p.y)).unzip();
            let rho = muppet_train::metrics::spearman(&x, &y);
            writeln!(md, "| {} | {} | {} |", s.label, x.len(), if rho.is_finite() { format!("{rho:+.2}") } else { "-".into() })?;
        }
        writeln!(md)?;
    }
    Ok(())
}

/// When a sweep fine-tunes from several starts (the base model beside a stage, or each
/// setting of a swept stage): each start's best setting and its mean, with its difference from
/// the base model's best when the base model is one of them (each start tuned, then compared,
/// as the Muppet paper compares models). The first of equal means wins, in the grid's order.
fn best_per_start(mine: &[&Point], metric: &str) -> Option<String> {
    let mut best: Vec<(&Arm, &Point)> = Vec::new();
    for p in mine.iter().copied().filter(|p| p.value.mean.is_finite()) {
        let start = p.arm.model_arm();
        match best.iter_mut().find(|(s, _)| *s == start) {
            Some((_, b)) if p.value.mean > b.value.mean => *b = p,
            Some(_) => {}
            None => best.push((start, p)),
        }
    }
    // One setting per start: the sweep's own table says it all.
    let tuned = best.iter().any(|(start, _)| mine.iter().filter(|p| p.arm.model_arm() == *start).count() > 1);
    if best.len() < 2 || !tuned {
        return None;
    }
    let base = best.iter().find(|(s, _)| **s == Arm::Base).map(|(_, p)| p.value.mean);
    let mut table = format!("Each start's best setting:\n\n| start | best setting | dev {metric} |{}\n|---|---|---|{}\n", if base.is_some() { " − base's best |" } else { "" }, if base.is_some() { "---|" } else { "" });
    for (start, p) in &best {
        let setting = match &p.arm {
            Arm::Setting { values, .. } => values.clone(),
            other => other.label(),
        };
        let gain = base.map(|b| if **start == Arm::Base { " |".to_string() } else { format!(" {:+.3} |", p.value.mean - b) }).unwrap_or_default();
        table.push_str(&format!("| {} | {setting} | {} |{gain}\n", start.label(), cell(&p.value)));
    }
    Some(table)
}

/// How many of a setting's reported fine-tunes on `task` (on every task, for the mean over
/// the tasks) the sweep's rule stopped early: `1 of 3`.
fn stopped_cell(r: &Results, task: &str, arm: &Arm) -> String {
    let runs: Vec<&str> = r
        .plan
        .runs
        .iter()
        .filter(|p| matches!(&p.role, Role::Finetune { task: t, arm: a, .. } if a == arm && (t == task || task == aggregate::ALL_TASKS)))
        .map(|p| p.name.as_str())
        .filter(|name| r.values.contains_key(*name))
        .collect();
    format!("{} of {}", runs.iter().filter(|name| r.pruned.contains(**name)).count(), runs.len())
}

/// `1st`, `2nd`, `3rd`, `4th`...
fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// The best setting of a sweep, and which others it is not told apart from: those whose 95%
/// interval reaches the best one's (more seeds would be needed to rank them).
fn sweep_verdict(best: &Point, all: &[&Point]) -> String {
    let mut text = format!("Best setting: **{}**, {}.", best.arm.label(), cell(&best.value));
    if best.value.n < 2 {
        text.push_str(" With one seed there is no interval: add seeds to tell the settings apart.");
        return text;
    }
    let close: Vec<String> = all.iter().filter(|p| p.arm != best.arm && p.value.n >= 2 && p.value.ci_high >= best.value.ci_low).map(|p| p.arm.label()).collect();
    if close.is_empty() {
        text.push_str(" Every other setting's 95% interval lies below the best one's.");
    } else {
        text.push_str(&format!(" Not told apart from it at this number of seeds (their 95% intervals overlap): {}.", close.join("; ")));
    }
    text
}

fn gain_cell(s: &Summary) -> String {
    if s.n < 2 {
        return format!("{:+.3} (n=1)", s.mean);
    }
    format!("{:+.3} [{:+.3}, {:+.3}]", s.mean, s.ci_low, s.ci_high)
}

/// Arms in plan order, base first.
fn arms_in_order(plan: &Plan) -> Vec<Arm> {
    let mut arms = vec![Arm::Base];
    for run in &plan.runs {
        if let Role::Finetune { arm, .. } = &run.role
            && !arms.contains(arm)
        {
            arms.push(arm.clone());
        }
    }
    arms
}

/// Draw `chart` as `<stem>.png` and `<stem>.svg` in `dir`, listed among the report's figures.
fn figure<C: muppet_charts::Chart>(chart: &C, dir: &Path, stem: &str, figures: &mut Vec<String>) -> anyhow::Result<()> {
    write_both(chart, dir, stem)?;
    figures.push(stem.to_string());
    Ok(())
}

fn band(s: &Summary, x: f64) -> BandPoint {
    BandPoint { x, mean: s.mean, low: s.ci_low, high: s.ci_high }
}

fn write_report(dir: &Path, id: ExperimentId, r: &Results) -> anyhow::Result<()> {
    let obs = aggregate::observations(&r.plan, &r.values);
    let tasks: Vec<String> = {
        let mut t: Vec<String> = Vec::new();
        for o in &obs {
            if !t.contains(&o.task) {
                t.push(o.task.clone());
            }
        }
        t
    };
    let arms = arms_in_order(&r.plan);
    let mut md = String::new();
    let total = r.plan.runs.len();
    writeln!(md, "# Experiment {}: {}\n", id.0, r.spec.name)?;
    if !r.spec.description.is_empty() {
        writeln!(md, "{}\n", r.spec.description.trim())?;
    }
    writeln!(
        md,
        "Design: **{}**. Runs: {total} planned, {} completed, {} failed, {} not done. Fine-tunes reported: {}.\n",
        r.plan.kind,
        r.completed,
        r.failed,
        total - r.completed - r.failed,
        obs.len()
    )?;
    writeln!(
        md,
        "Each value is a fine-tune's {}. Over seeds: the mean, the sample standard deviation and the 95% Student-t \
         interval of the mean (n − 1 degrees of freedom).{}\n",
        if r.plan.runs.iter().any(|p| p.kind == muppet_core::RunKind::Finetune && p.config.keeps_best()) {
            "dev metric at its best checkpoint (each fine-tune kept the best of its dev evaluations, as its settings ask)"
        } else {
            "final dev metric"
        },
        match r.plan.kind {
            ExperimentKind::Sweep => " Every setting scores the same dev examples, and each seed draws the same training subset for every setting.",
            _ => " Gains are paired: each seed's value minus the base model's with the same seed, which draws the same dev split and training subset.",
        }
    )?;
    if let Some(sw) = r.spec.sweep.as_ref().filter(|s| !s.random.is_empty()) {
        let fields: Vec<String> = sw.random.iter().map(|(key, d)| format!("`{key}` {}", draw_text(d))).collect();
        writeln!(md, "Settings: {} drawn at random (seed {}): {}.\n", sw.count.unwrap_or(0), sw.random_seed.unwrap_or(0), fields.join("; "))?;
        if !sw.proposed.is_empty() {
            let labels: Vec<String> = sw.proposed.iter().map(|p| format!("`{}`", muppet_train::experiment::setting_label(p))).collect();
            writeln!(md, "Then {} proposed from the scores so far (a tree-structured Parzen estimator: `guided` in the spec, or `--more N --guided`): {}.\n", sw.proposed.len(), labels.join(", "))?;
        }
    }
    if let Some(rule) = r.spec.sweep.as_ref().and_then(|s| s.early_terminate.as_ref()) {
        writeln!(
            md,
            "Early termination (the median rule): a fine-tune stopped once its best dev score so far fell below the median of the finished runs of its task and start at the same step (from its {} dev evaluation on, against at least {} run{}). \
             A stopped run (tagged `{}`) counts with the dev metric it reached, so a setting with stopped runs has a pessimistic mean; the tables say how many each setting had. \
             It stopped {} of the {} completed fine-tunes: they trained {} of their {} planned updates{}.\n",
            ordinal(rule.grace_evals),
            rule.min_runs,
            if rule.min_runs == 1 { "" } else { "s" },
            crate::pruner::PRUNED_TAG,
            r.pruned.len(),
            r.values.len(),
            r.updates.0,
            r.updates.1,
            match r.updates {
                (trained, planned) if planned > trained => format!(" ({:.0}% saved)", 100.0 * (planned - trained) as f64 / planned as f64),
                _ => String::new(),
            }
        )?;
    }
    if !r.dev_sources.is_empty() {
        writeln!(md, "Dev examples of each downstream task, as its fine-tunes' `splits.json` records them:\n")?;
        for (task, source) in &r.dev_sources {
            writeln!(md, "- `{task}`: {source}")?;
        }
        writeln!(md)?;
    }

    let mut csv = format!("kind,{POINT_HEAD}\n");
    let push_points = |csv: &mut String, points: &[Point]| {
        for p in points {
            let metric = r.metrics.get(&p.task).cloned().unwrap_or_else(|| "mean of the tasks' metrics".into());
            let _ = writeln!(csv, "{},{}", r.plan.kind, point_fields(p, &metric));
        }
    };
    let mut figures: Vec<String> = Vec::new();

    match r.plan.kind {
        ExperimentKind::SampleEfficiency => {
            let points = aggregate::points(ExperimentKind::SampleEfficiency, &obs);
            push_points(&mut csv, &points);
            for task in &tasks {
                let metric = r.metrics.get(task).cloned().unwrap_or_default();
                let mine: Vec<&Point> = points.iter().filter(|p| &p.task == task).collect();
                let series: Vec<BandSeries> = arms
                    .iter()
                    .filter_map(|arm| {
                        let pts: Vec<BandPoint> = mine.iter().filter(|p| &p.arm == arm).map(|p| band(&p.value, p.x)).collect();
                        (!pts.is_empty()).then(|| BandSeries { label: arm.label(), is_base: *arm == Arm::Base, points: pts })
                    })
                    .collect();
                let chart = SampleEfficiencyChart { title: format!("{task}: dev {metric} by training size"), y_label: format!("dev {metric}"), series, x_axis: Default::default() };
                let stem = format!("sample_efficiency_{}", slug(task));
                figure(&chart, dir, &stem, &mut figures)?;
                writeln!(md, "## {task} (dev {metric})\n\n![{task}: sample efficiency]({stem}.png)\n")?;
                let present: Vec<&Arm> = arms.iter().filter(|a| mine.iter().any(|p| &p.arm == *a)).collect();
                let mut header = String::from("| training examples |");
                let mut rule = String::from("|---:|");
                for a in &present {
                    write!(header, " {} |", a.label())?;
                    rule.push_str("---|");
                }
                for a in present.iter().filter(|a| ***a != Arm::Base) {
                    write!(header, " gain {} − base |", a.label())?;
                    rule.push_str("---|");
                }
                writeln!(md, "{header}\n{rule}")?;
                let mut sizes: Vec<usize> = mine.iter().filter_map(|p| p.size).collect();
                sizes.sort_unstable();
                sizes.dedup();
                for size in sizes {
                    let mut line = format!("| {size} |");
                    for a in &present {
                        let c = mine.iter().find(|p| p.size == Some(size) && &p.arm == *a).map(|p| cell(&p.value)).unwrap_or_default();
                        write!(line, " {c} |")?;
                    }
                    for a in present.iter().filter(|a| ***a != Arm::Base) {
                        let c = mine.iter().find(|p| p.size == Some(size) && &p.arm == *a).and_then(|p| p.gain).map(|g| gain_cell(&g)).unwrap_or_default();
                        write!(line, " {c} |")?;
                    }
                    writeln!(md, "{line}")?;
                }
                writeln!(md)?;
            }
        }
        ExperimentKind::TaskCount => {
            let resamples = r.spec.task_count.as_ref().map_or(1000, |t| t.bootstrap);
            let mut all = obs.clone();
            let mut names = tasks.clone();
            if tasks.len() > 1 {
                all.extend(aggregate::mean_over_tasks(&obs));
                names.push(ALL_TASKS.to_string());
            }
            let points = aggregate::points(ExperimentKind::TaskCount, &all);
            push_points(&mut csv, &points);
            let mut fits = String::from("task,verdict,critical_k,ci_low,ci_high,resamples,share_crossing,share_always_positive,share_never_positive,intercept,slope,slope_change,knot,sse\n");
            if let Some(order) = &r.plan.pool_order {
                writeln!(md, "Pool in subset order: {}.\n", order.join(", "))?;
            }
            for task in &names {
                let metric = r.metrics.get(task).cloned().unwrap_or_else(|| "metric".into());
                let gains = aggregate::task_count_gains(&all, task);
                let cp = fit::critical_point(&gains, resamples, BOOTSTRAP_SEED);
                let means: Vec<BandPoint> = points.iter().filter(|p| &p.task == task).filter_map(|p| p.gain.map(|g| band(&g, p.x))).collect();
                let verdict = cp.as_ref().map(CriticalPoint::verdict).unwrap_or_else(|| "no fit: fewer than two task counts have results".into());
                let chart = TaskCountChart {
                    title: format!("{task}: gain over the base model by number of tasks"),
                    y_label: format!("gain in dev {metric}"),
                    seeds: gains.iter().map(|g| (g.k, g.gain)).collect(),
                    means,
                    fit: cp.as_ref().map(|c| c.fit.vertices()).unwrap_or_default(),
                    critical: cp.as_ref().and_then(|c| if let Crossing::At { k } = c.crossing { Some(k) } else { None }),
                    interval: cp.as_ref().filter(|c| c.resamples > 0).map(|c| (c.ci_low, c.ci_high)),
                    verdict: verdict.clone(),
                };
                let stem = format!("task_count_{}", slug(task));
                figure(&chart, dir, &stem, &mut figures)?;
                writeln!(md, "## {task}\n\n![{task}: task count]({stem}.png)\n\n**{verdict}.**\n")?;
                writeln!(md, "| tasks | dev {metric} | gain over base |\n|---:|---|---|")?;
                for p in points.iter().filter(|p| &p.task == task) {
                    writeln!(md, "| {} | {} | {} |", p.x, cell(&p.value), p.gain.map(|g| gain_cell(&g)).unwrap_or_default())?;
                }
                writeln!(md)?;
                if let Some(c) = cp {
                    let (kind, k) = match c.crossing {
                        Crossing::At { k } => ("crossing", k),
                        Crossing::AlwaysPositive => ("always_positive", f64::NAN),
                        Crossing::NeverPositive => ("never_positive", f64::NAN),
                    };
                    writeln!(
                        fits,
                        "{},{kind},{},{},{},{},{},{},{},{},{},{},{},{}",
                        quote(task),
                        num(k),
                        num(c.ci_low),
                        if c.ci_high.is_infinite() { "inf".into() } else { num(c.ci_high) },
                        c.resamples,
                        num(c.share_crossing),
                        num(c.share_always_positive),
                        num(c.share_never_positive),
                        num(c.fit.intercept),
                        num(c.fit.slope),
                        num(c.fit.slope_change),
                        num(c.fit.knot),
                        num(c.fit.sse)
                    )?;
                }
            }
            write_file(&dir.join("fit.csv"), &fits)?;
            writeln!(
                md,
                "The fit is gain(k) = a + b·k + c·max(0, k − τ) by least squares (τ on a grid), the base model as k = 0. The critical point is where the \
                 fitted gain turns positive for good; its interval is the 2.5–97.5% range over {resamples} bootstrap resamples of the seeds (seed {BOOTSTRAP_SEED:#x}). \
                 Details in fit.csv.\n"
            )?;
        }
        ExperimentKind::BatchingAblation => {
            let points = aggregate::points(ExperimentKind::BatchingAblation, &obs);
            push_points(&mut csv, &points);
            for task in &tasks {
                let metric = r.metrics.get(task).cloned().unwrap_or_default();
                let bars: Vec<Bar> = arms
                    .iter()
                    .filter_map(|arm| points.iter().find(|p| &p.task == task && &p.arm == arm))
                    .map(|p| Bar { label: p.arm.label(), mean: p.value.mean, low: p.value.ci_low, high: p.value.ci_high, is_base: p.arm == Arm::Base })
                    .collect();
                let chart = BarsChart { title: format!("Batching and loss scaling: {task}"), x_label: format!("dev {metric} (mean over seeds, 95% CI)"), bars };
                let stem = format!("ablation_{}", slug(task));
                figure(&chart, dir, &stem, &mut figures)?;
                writeln!(md, "## {task} (dev {metric})\n\n![{task}: ablation]({stem}.png)\n")?;
                writeln!(md, "| pre-finetuning | dev {metric} | gain over base |\n|---|---|---|")?;
                for p in points.iter().filter(|p| &p.task == task) {
                    writeln!(md, "| {} | {} | {} |", p.arm.label(), cell(&p.value), p.gain.map(|g| gain_cell(&g)).unwrap_or_default())?;
                }
                writeln!(md)?;
            }
        }
        ExperimentKind::Sweep => {
            let swept = Swept::of(r);
            let points = aggregate::points(ExperimentKind::Sweep, &obs);
            push_points(&mut csv, &points);
            // Over several tasks, the setting that fine-tunes best on average too.
            let mean_obs = if tasks.len() > 1 { aggregate::mean_over_tasks(&obs) } else { Vec::new() };
            let means = if mean_obs.is_empty() { Vec::new() } else { aggregate::points(ExperimentKind::Sweep, &mean_obs) };
            push_points(&mut csv, &means);
            let mean_label = aggregate::ALL_TASKS.to_string();
            let sections = tasks.iter().map(|t| (t, &points)).chain((!means.is_empty()).then_some((&mean_label, &means)));
            for (task, points) in sections {
                let metric = r.metrics.get(task).cloned().unwrap_or_else(|| "metric".into());
                let mine: Vec<&Point> = arms.iter().filter_map(|arm| points.iter().find(|p| &p.task == task && &p.arm == arm)).collect();
                let bars: Vec<Bar> =
                    mine.iter().map(|p| Bar { label: p.arm.label(), mean: p.value.mean, low: p.value.ci_low, high: p.value.ci_high, is_base: false }).collect();
                let chart = BarsChart { title: format!("Sweep: {task}"), x_label: format!("dev {metric} (mean over seeds, 95% CI)"), bars };
                let stem = format!("sweep_{}", slug(task));
                figure(&chart, dir, &stem, &mut figures)?;
                writeln!(md, "## {task} (dev {metric})\n\n![{task}: sweep]({stem}.png)\n")?;
                let terminates = r.spec.sweep.as_ref().is_some_and(|s| s.early_terminate.is_some());
                if terminates {
                    writeln!(md, "| setting | dev {metric} | stopped early |\n|---|---|---|")?;
                } else {
                    writeln!(md, "| setting | dev {metric} |\n|---|---|")?;
                }
                // The first of equal means: the settings in the grid's order.
                let best = mine.iter().copied().filter(|p| p.value.mean.is_finite()).reduce(|a, b| if b.value.mean > a.value.mean { b } else { a });
                for p in &mine {
                    let label = if best.is_some_and(|b| b.arm == p.arm) { format!("**{}**", p.arm.label()) } else { p.arm.label() };
                    let stopped = if terminates { format!(" {} |", stopped_cell(r, task, &p.arm)) } else { String::new() };
                    writeln!(md, "| {label} | {} |{stopped}", cell(&p.value))?;
                }
                writeln!(md)?;
                if let Some(best) = best {
                    writeln!(md, "{}\n", sweep_verdict(best, &mine))?;
                }
                if let Some(table) = best_per_start(&mine, &metric) {
                    writeln!(md, "{table}")?;
                }
                let fine_tunes: Vec<&Observation> = obs.iter().chain(&mean_obs).filter(|o| &o.task == task).collect();
                settings_that_mattered(&mut md, &swept, &metric, &fine_tunes)?;
                if let Some(curves) = r.dev_curves.get(task.as_str()).filter(|c| c.iter().any(|c| c.points.len() > 1)) {
                    let chart = CurvesChart {
                        title: format!("Sweep: {task}, dev {metric} during fine-tuning"),
                        x_label: "step".into(),
                        y_label: format!("dev {metric}"),
                        curves: curves.clone(),
                        ..CurvesChart::default()
                    };
                    let stem = format!("sweep_curves_{}", slug(task));
                    figure(&chart, dir, &stem, &mut figures)?;
                    let stopped = if terminates { "; a run the rule stopped ends where it stopped" } else { "" };
                    writeln!(md, "Each fine-tune's dev {metric} at its evaluations (a line per seed, one colour per setting{stopped}):\n\n![{task}: dev {metric} during fine-tuning]({stem}.png)\n")?;
                }
                parallel_settings(&mut md, (dir, &mut figures), &swept, (task, &metric), &mine)?;
            }
            drawn_settings(&mut md, (dir, &mut figures), r, &swept.configs, &points)?;
        }
    }

    write_scored_models(&mut md, dir, &mut figures, &r.scored)?;
    if !r.curves.is_empty() {
        writeln!(md, "## Pre-finetuning runs\n")?;
    }
    for (label, run, curves) in &r.curves {
        let chart = CurvesChart {
            title: format!("Pre-finetuning {label} (run {run}): training loss per task"),
            x_label: "step".into(),
            y_label: "scaled loss".into(),
            curves: curves.clone(),
            smoothing: Some(0.85),
            ..CurvesChart::default()
        };
        let stem = format!("prefinetune_{}", slug(label));
        figure(&chart, dir, &stem, &mut figures)?;
        writeln!(md, "![{label}: training loss]({stem}.png)\n\nFaint: as measured; bold: smoothed (EMA 0.85).\n")?;
    }

    let mut runs_csv = String::from("name,run_id,task,arm,train_size,seed,value\n");
    for o in &obs {
        let name = run_name(&r.plan, o);
        writeln!(
            runs_csv,
            "{},{},{},{},{},{},{}",
            quote(&name),
            r.run_ids.get(&name).map(|i| i.0.to_string()).unwrap_or_default(),
            quote(&o.task),
            quote(&o.arm.label()),
            o.size.map(|n| n.to_string()).unwrap_or_default(),
            o.seed,
            num(o.value)
        )?;
    }
    writeln!(md, "## Files\n\n- points.csv: every aggregated point (one row per task, starting point and x)\n- runs.csv: every fine-tune's final dev metric")?;
    for f in &figures {
        writeln!(md, "- {f}.png, {f}.svg")?;
    }
    write_file(&dir.join("points.csv"), &csv)?;
    write_file(&dir.join("runs.csv"), &runs_csv)?;
    write_file(&dir.join("summary.md"), &md)?;
    Ok(())
}

fn run_name(plan: &Plan, o: &Observation) -> String {
    plan.runs
        .iter()
        .find(|r| matches!(&r.role, Role::Finetune { task, seed, size, arm } if *task == o.task && *seed == o.seed && *size == o.size && *arm == o.arm))
        .map(|r| r.name.clone())
        .unwrap_or_default()
}

fn write_file(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_from_several_starts_are_drawn_with_an_axis_of_starts() {
        let stage = |k: usize| Arm::StageSetting { name: "pft".into(), values: format!("tasks_per_update={k}") };
        let setting = |k: usize, lr: &str| Arm::Setting { start: Box::new(stage(k)), values: format!("lr={lr}"), named_start: false };
        let arms = [setting(1, "0.0001"), setting(1, "0.001"), setting(2, "0.0001"), setting(2, "0.001")];
        let configs: BTreeMap<&Arm, serde_json::Value> = arms.iter().zip([1e-4, 1e-3, 1e-4, 1e-3]).map(|(a, lr)| (a, serde_json::json!({"lr": lr, "batch_size": 8}))).collect();
        let nothing = Summary { n: 0, mean: f64::NAN, sd: f64::NAN, ci_low: f64::NAN, ci_high: f64::NAN };
        let point = |arm: &Arm, mean: f64| Point { task: "winowhy".into(), arm: arm.clone(), x: 0.0, size: None, value: muppet_train::experiment::stats::summarize(&[mean]).unwrap_or(nothing), gain: None };
        let points: Vec<Point> = arms.iter().zip([0.5, 0.6, 0.55, f64::NAN]).map(|(a, m)| point(a, m)).collect();
        let mine: Vec<&Point> = points.iter().collect();
        let swept = Swept { configs, numbers: vec![("lr".into(), true)], keys: vec!["lr".into()] };
        let chart = parallel_chart(&swept, ("winowhy", "accuracy"), &mine).expect("a start axis and lr make two");
        let labels: Vec<&str> = chart.axes.iter().map(|a| a.label.as_str()).collect();
        assert_eq!(labels, ["start", "lr", "dev accuracy"]);
        assert_eq!(chart.axes[0].categories, ["pft (tasks_per_update=1)", "pft (tasks_per_update=2)"]);
        assert!(chart.axes[1].log && chart.axes[0].categories.len() == 2);
        let lines: Vec<Vec<f64>> = chart.lines.iter().map(|l| l.values.clone()).collect();
        assert_eq!(lines, [vec![0.0, 1e-4, 0.5], vec![0.0, 1e-3, 0.6], vec![1.0, 1e-4, 0.55]], "a setting without a figure draws no line");
        // From one start, one number swept is not enough; two are.
        let one: Vec<&Point> = mine[..2].to_vec();
        assert!(parallel_chart(&swept, ("winowhy", "accuracy"), &one).is_none());
        let two = Swept { numbers: vec![("lr".into(), true), ("batch_size".into(), false)], ..swept };
        let chart = parallel_chart(&two, ("winowhy", "accuracy"), &one).expect("two numbers");
        assert_eq!(chart.axes.iter().map(|a| a.label.as_str()).collect::<Vec<_>>(), ["lr", "batch_size", "dev accuracy"]);
    }

    #[test]
    fn a_sweep_from_several_starts_names_each_ones_best() {
        let setting = |start: Arm, lr: &str| Arm::Setting { start: Box::new(start), values: format!("lr={lr}"), named_start: true };
        let pft = Arm::Stage { name: "pft".into() };
        let point = |arm: Arm, values: &[f64]| Point { task: "winowhy".into(), arm, x: 0.0, size: None, value: muppet_train::experiment::stats::summarize(values).expect("summary"), gain: None };
        let points = [
            point(setting(Arm::Base, "0.0001"), &[0.50, 0.52]),
            point(setting(Arm::Base, "0.001"), &[0.55, 0.57]),
            point(setting(pft.clone(), "0.0001"), &[0.61, 0.63]),
            point(setting(pft.clone(), "0.001"), &[0.58, 0.60]),
        ];
        let mine: Vec<&Point> = points.iter().collect();
        let table = best_per_start(&mine, "accuracy").expect("two starts");
        let rows: Vec<&str> = table.lines().filter(|l| l.starts_with("| ") && !l.starts_with("| start")).collect();
        assert_eq!(rows.len(), 2, "{table}");
        assert!(rows[0].starts_with("| base | lr=0.001 | 0.560 ± ") && rows[0].ends_with("| |"), "{table}");
        assert!(rows[1].starts_with("| pft | lr=0.0001 | 0.620 ± ") && rows[1].ends_with("| +0.060 |"), "{table}");
        assert!(table.contains("| start | best setting | dev accuracy | − base's best |"), "{table}");
        assert!(best_per_start(&mine[..2], "accuracy").is_none(), "one start: no table");
        assert!(best_per_start(&[mine[0], mine[2]], "accuracy").is_none(), "one setting per start: the sweep's table says it");
    }

    #[test]
    fn slugs_and_csv_fields() {
        assert_eq!(slug("heterogeneous, scaling on"), "heterogeneous_scaling_on");
        assert_eq!(slug("mean of downstream tasks"), "mean_of_downstream_tasks");
        assert_eq!(quote("a,b"), "\"a,b\"");
        assert_eq!(quote("say \"hi\", ok"), "\"say \"\"hi\"\", ok\"");
        assert_eq!(quote("plain"), "plain");
        assert_eq!(num(f64::NAN), "");
        let ordinals: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 112].into_iter().map(ordinal).collect();
        assert_eq!(ordinals, ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st", "112th"]);
    }

    /// The summary's words for a task's dev examples: held out of its own, or the task it
    /// is scored on; nothing for a run without `splits.json` or without the task.
    #[test]
    fn dev_sources_read_from_splits() {
        use muppet_train::splits::{DevTask, TaskSplit};
        let dir = std::env::temp_dir().join(format!("muppet-report-dev-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("folder");
        assert_eq!(dev_source(&dir, "rt"), None);
        let split = |task: &str, dev_task: Option<DevTask>| TaskSplit {
            task: task.into(),
            fingerprint: "f".into(),
            examples: 40,
            split_seed: 1,
            train: (0..30).collect(),
            dev: (0..10).collect(),
            dev_task,
        };
        let validation = DevTask { name: "rt_validation".into(), fingerprint: "g".into(), examples: 1066 };
        muppet_train::splits::write(&dir, &[split("rt", Some(validation)), split("own", None)]).expect("splits.json");
        assert_eq!(
            dev_source(&dir, "rt").as_deref(),
            Some("10 of the 1066 examples of `rt_validation`, the task it is scored on (its validation split); all of its own examples train")
        );
        assert_eq!(dev_source(&dir, "own").as_deref(), Some("10 of its 40 examples, held out (a seeded draw; the training subsets come from the rest)"));
        assert_eq!(dev_source(&dir, "absent"), None);
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}
