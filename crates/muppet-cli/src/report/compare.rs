//! `muppet report A B ... --out DIR`: experiments of one design side by side. Sample
//! efficiency: each downstream task they share charted with every experiment's curve per
//! starting point (metric by training size). Task count: each shared task's gain over the
//! base model by number of tasks, one curve per experiment. A table per task, every point
//! in `points.csv` with its experiment, and `summary.md`.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use muppet_charts::{BandAxis, BandSeries, SampleEfficiencyChart};
use muppet_core::ExperimentKind;
use muppet_store::ExperimentId;
use muppet_train::experiment::aggregate::{self, Point, ALL_TASKS};

use super::{arms_in_order, band, cell, figure, gain_cell, point_fields, quote, slug, write_file, Results, POINT_HEAD};

/// One experiment's points and how they are named.
struct Compared<'a> {
    id: ExperimentId,
    results: &'a Results,
    points: Vec<Point>,
}

impl Compared<'_> {
    /// `E3` in tables and legends.
    fn tag(&self) -> String {
        format!("E{}", self.id.0)
    }
}

/// Write the comparison into `dir`; returns the number of downstream tasks compared.
pub(super) fn write(dir: &Path, experiments: &[(ExperimentId, Results)]) -> anyhow::Result<usize> {
    let kind = experiments[0].1.plan.kind;
    for (id, r) in experiments {
        anyhow::ensure!(
            matches!(r.plan.kind, ExperimentKind::SampleEfficiency | ExperimentKind::TaskCount),
            "experiment {} is a {} experiment: reports compare sample-efficiency or task-count experiments; report it alone with `muppet report {}`",
            id.0,
            r.plan.kind,
            id.0
        );
        anyhow::ensure!(
            r.plan.kind == kind,
            "experiment {} is a {} experiment and experiment {} a {} one: compare experiments of one design",
            experiments[0].0 .0,
            kind,
            id.0,
            r.plan.kind
        );
        anyhow::ensure!(!r.values.is_empty(), "experiment {} has no completed fine-tunes yet: run it (`muppet experiment resume {}`) before comparing it", id.0, id.0);
    }
    let compared: Vec<Compared> = experiments
        .iter()
        .map(|(id, results)| {
            let obs = aggregate::observations(&results.plan, &results.values);
            let points = match kind {
                ExperimentKind::TaskCount => {
                    let mut all = obs.clone();
                    if obs.iter().map(|o| &o.task).collect::<BTreeSet<_>>().len() > 1 {
                        all.extend(aggregate::mean_over_tasks(&obs));
                    }
                    aggregate::points(kind, &all)
                }
                _ => aggregate::points(kind, &obs),
            };
            Compared { id: *id, results, points }
        })
        .collect();
    // The tasks in every experiment's order of first appearance, and those two or more share.
    let mut tasks: Vec<&str> = Vec::new();
    for c in &compared {
        for p in &c.points {
            if !tasks.contains(&p.task.as_str()) {
                tasks.push(&p.task);
            }
        }
    }
    let holders = |task: &str| compared.iter().filter(|c| c.points.iter().any(|p| p.task == task)).count();
    let shared: Vec<&str> = tasks.iter().copied().filter(|t| holders(t) > 1).collect();
    if shared.is_empty() {
        let each: Vec<String> = compared.iter().map(|c| format!("{}: {}", c.tag(), c.points.iter().map(|p| p.task.as_str()).collect::<BTreeSet<_>>().into_iter().collect::<Vec<_>>().join(", "))).collect();
        anyhow::bail!("the experiments share no downstream task with results, so there is nothing to compare ({})", each.join("; "));
    }

    let mut md = String::new();
    writeln!(md, "# Experiments compared: {kind}\n")?;
    writeln!(md, "| | experiment | runs completed | fine-tunes reported |\n|---|---|---:|---:|")?;
    for c in &compared {
        let r = c.results;
        writeln!(md, "| {} | {} (experiment {}) | {} of {} | {} |", c.tag(), r.spec.name, c.id.0, r.completed, r.plan.runs.len(), r.values.len())?;
    }
    writeln!(
        md,
        "\nEach value is the mean over seeds of the fine-tunes' dev metric with its sample standard deviation and 95% Student-t interval, as each \
         experiment's own report computes it; {}.\n",
        match kind {
            ExperimentKind::TaskCount => "the charts show each experiment's gain over its own base model, paired by seed",
            _ => "the charts show every starting point of every experiment",
        }
    )?;
    let alone: Vec<&str> = tasks.iter().copied().filter(|t| holders(t) == 1).collect();
    if !alone.is_empty() {
        writeln!(md, "Tasks in one experiment only, left out: {}.\n", alone.join(", "))?;
    }

    let mut csv = format!("experiment_id,experiment,kind,{POINT_HEAD}\n");
    let mut figures = Vec::new();
    for task in &shared {
        let metric = compared.iter().find_map(|c| c.results.metrics.get(*task)).cloned().unwrap_or_else(|| "metric".into());
        let mut series = Vec::new();
        let mut columns: Vec<(String, Vec<&Point>)> = Vec::new();
        for c in &compared {
            let mine: Vec<&Point> = c.points.iter().filter(|p| p.task == *task).collect();
            for p in &mine {
                writeln!(csv, "{},{},{kind},{}", c.id.0, quote(&c.results.spec.name), point_fields(p, &metric))?;
            }
            match kind {
                ExperimentKind::TaskCount => {
                    let gains: Vec<_> = mine.iter().filter(|p| p.x > 0.0).filter_map(|p| p.gain.map(|g| band(&g, p.x))).collect();
                    if !gains.is_empty() {
                        series.push(BandSeries { label: format!("{} {}", c.tag(), c.results.spec.name), is_base: false, points: gains });
                    }
                    columns.push((format!("{} gain over base", c.tag()), mine));
                }
                _ => {
                    for arm in arms_in_order(&c.results.plan) {
                        let of_arm: Vec<&Point> = mine.iter().copied().filter(|p| p.arm == arm).collect();
                        if of_arm.is_empty() {
                            continue;
                        }
                        series.push(BandSeries { label: format!("{} {}", c.tag(), arm.label()), is_base: false, points: of_arm.iter().map(|p| band(&p.value, p.x)).collect() });
                        columns.push((format!("{} {}", c.tag(), arm.label()), of_arm));
                    }
                }
            }
        }
        let (title, y_label, axis, x_head) = match kind {
            ExperimentKind::TaskCount => (format!("{task}: gain over the base model by number of tasks"), format!("gain in dev {metric}"), BandAxis::Tasks, "tasks"),
            _ => (format!("{task}: dev {metric} by training size"), format!("dev {metric}"), BandAxis::TrainingExamples, "training examples"),
        };
        let stem = format!("compare_{}", slug(task));
        figure(&SampleEfficiencyChart { title, y_label, series, x_axis: axis }, dir, &stem, &mut figures)?;
        let heading = if *task == ALL_TASKS { task.to_string() } else { format!("{task} (dev {metric})") };
        writeln!(md, "## {heading}\n\n![{task}: experiments compared]({stem}.png)\n")?;
        let mut xs: Vec<f64> = columns.iter().flat_map(|(_, points)| points.iter().map(|p| p.x)).filter(|x| x.is_finite()).collect();
        xs.sort_by(f64::total_cmp);
        xs.dedup();
        writeln!(md, "| {x_head} |{}\n|---:|{}", columns.iter().map(|(h, _)| format!(" {h} |")).collect::<String>(), "---|".repeat(columns.len()))?;
        for x in xs {
            let cells: String = columns
                .iter()
                .map(|(_, points)| {
                    let at = points.iter().find(|p| p.x == x);
                    let text = match kind {
                        ExperimentKind::TaskCount => at.and_then(|p| p.gain).map(|g| gain_cell(&g)),
                        _ => at.map(|p| cell(&p.value)),
                    };
                    format!(" {} |", text.unwrap_or_default())
                })
                .collect();
            writeln!(md, "| {x} |{cells}")?;
        }
        writeln!(md)?;
    }
    writeln!(md, "## Files\n\n- points.csv: every aggregated point of every experiment (one row per experiment, task, starting point and x)")?;
    for f in &figures {
        writeln!(md, "- {f}.png, {f}.svg")?;
    }
    write_file(&dir.join("points.csv"), &csv)?;
    write_file(&dir.join("summary.md"), &md)?;
    Ok(shared.len())
}
