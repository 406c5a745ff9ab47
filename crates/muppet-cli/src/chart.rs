//! `muppet runs chart`: runs' curves as SVG and PNG, as the app's charts show them. One run
//! without `--series`: its training loss, for the whole update and per task. Otherwise one
//! series, named as the runs table's columns (`sst2 dev accuracy`, `train lr`, `system
//! rss_mb`), of one or several runs side by side; a name without its task (`dev accuracy`)
//! draws it for every task that has it.

use std::path::{Path, PathBuf};

use anyhow::Context;
use muppet_charts::{render_png, write_svg, Chart, Curve, CurvesChart, ParallelAxis, ParallelChart, ScatterChart};
use muppet_core::RunId;
use muppet_store::{metric_column, SeriesPoint, Store};

/// What the x axis of a chart counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum XAxis {
    /// Updates.
    Step,
    /// Training examples seen.
    Examples,
    /// Seconds since the run started.
    Seconds,
}

impl XAxis {
    fn label(self) -> &'static str {
        match self {
            XAxis::Step => "step",
            XAxis::Examples => "examples seen",
            XAxis::Seconds => "seconds",
        }
    }

    fn of(self, p: &SeriesPoint) -> f64 {
        match self {
            XAxis::Step => p.step as f64,
            XAxis::Examples => p.examples as f64,
            XAxis::Seconds => p.wall_s,
        }
    }
}

/// How `muppet runs chart` draws.
pub struct ChartRequest {
    pub runs: Vec<RunId>,
    /// A series by its column name; `None`: the training loss.
    pub series: Option<String>,
    pub x: XAxis,
    pub smoothing: Option<f64>,
    pub log_y: bool,
    /// A folder for `<name>.svg` and `<name>.png`, or one `.svg` or `.png` file.
    pub out: Option<PathBuf>,
}

/// The training loss's column name, the default series of several runs.
const TRAINING_LOSS: &str = "train loss";

pub fn chart(request: ChartRequest) -> anyhow::Result<()> {
    if let Some(w) = request.smoothing {
        anyhow::ensure!((0.0..1.0).contains(&w), "--smoothing {w}: give an EMA weight of at least 0 and below 1 (0.6 is the app's default)");
    }
    let home = crate::home();
    let chart = crate::with_store(async |store, _| curves(store, &request).await)?;
    let stem = match (&request.series, request.runs.as_slice()) {
        (None, [_]) => "loss".to_string(),
        (series, runs) => {
            let ids: Vec<String> = runs.iter().map(|r| r.to_string()).collect();
            let what = slug(series.as_deref().unwrap_or(TRAINING_LOSS));
            if runs.len() == 1 { what } else { format!("runs-{}-{what}", ids.join("-")) }
        }
    };
    let files = match request.out {
        Some(out) if is_chart_file(&out) => vec![out],
        out => {
            let dir = match (out, request.runs.as_slice()) {
                (Some(dir), _) => dir,
                (None, [run]) => home.run_dir(*run),
                (None, _) => anyhow::bail!("several runs: give the folder or the .svg/.png file to write with --out"),
            };
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            vec![dir.join(format!("{stem}.svg")), dir.join(format!("{stem}.png"))]
        }
    };
    for file in &files {
        write(&chart, file)?;
        println!("{}", file.display());
    }
    Ok(())
}

/// Whether `path` names a chart file (`.svg` or `.png`) rather than a folder.
fn is_chart_file(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| e.eq_ignore_ascii_case("svg") || e.eq_ignore_ascii_case("png"))
}

fn write<C: Chart>(chart: &C, path: &Path) -> anyhow::Result<()> {
    let svg = path.extension().and_then(|e| e.to_str()).is_some_and(|e| e.eq_ignore_ascii_case("svg"));
    if svg { write_svg(chart, path) } else { render_png(chart, path) }.with_context(|| format!("writing the chart {}", path.display()))
}

/// How `muppet runs scatter` plots.
pub struct ScatterRequest {
    /// The keys along x and y, each as written and parsed.
    pub x: (String, muppet_store::RunKey),
    pub y: (String, muppet_store::RunKey),
    /// Colour by these keys' values.
    pub by: Vec<(String, muppet_store::RunKey)>,
    pub query: muppet_store::RunQuery,
    pub filter: Option<muppet_store::RunFilter>,
    /// Logarithmic x and y axes.
    pub log: (bool, bool),
    pub out: PathBuf,
}

pub fn scatter(request: ScatterRequest) -> anyhow::Result<()> {
    let ScatterRequest { x, y, by, query, filter, log, out } = request;
    anyhow::ensure!(is_chart_file(&out), "--out {}: give the chart file to write, ending in .svg or .png", out.display());
    let plot = crate::with_store(async |store, _| {
        let (runs, read) = crate::runs::select_runs(store, query, filter.as_ref(), true).await?;
        let (columns, specs) = read.context("the runs' columns were not read")?;
        let ids: Vec<RunId> = runs.iter().map(|r| r.id).collect();
        Ok(muppet_store::plot_runs((&x.1, &y.1), &by, &ids, &columns, &specs)?)
    })?;
    let plot = plot.on_axes(log, (&x.0, &y.0))?;
    let plotted = plot.plotted();
    anyhow::ensure!(
        plotted > 0,
        "no run listed has a value for both `{}` and `{}`{}",
        x.0,
        y.0,
        if log.0 || log.1 { " above 0 on a log axis" } else { "" }
    );
    write(&ScatterChart::of_runs(&x.0, &y.0, log, plot.series()).categorical(plot.x_categories.clone(), plot.y_categories.clone()), &out)?;
    println!("{}", out.display());
    let ids: Vec<String> = plot.left_out.iter().map(|r| format!("#{r}")).collect();
    println!(
        "{plotted} run{} plotted{}",
        if plotted == 1 { "" } else { "s" },
        if ids.is_empty() { String::new() } else { format!("; left out, without a value for both keys{}: {}", if log.0 || log.1 { " above 0 on a log axis" } else { "" }, ids.join(", ")) }
    );
    Ok(())
}

/// `muppet runs parallel`: the runs listed as lines through their values of `axes`.
pub fn parallel(axes: Vec<(String, muppet_store::RunKey)>, (query, filter): (muppet_store::RunQuery, Option<muppet_store::RunFilter>), out: &Path) -> anyhow::Result<()> {
    anyhow::ensure!(is_chart_file(out), "--out {}: give the chart file to write, ending in .svg or .png", out.display());
    let lines = crate::with_store(async |store, _| {
        let (runs, read) = crate::runs::select_runs(store, query, filter.as_ref(), true).await?;
        let (columns, specs) = read.context("the runs' columns were not read")?;
        let ids: Vec<RunId> = runs.iter().map(|r| r.id).collect();
        Ok(muppet_store::run_lines(&axes, &ids, &columns, &specs)?)
    })?;
    let names: Vec<String> = axes.iter().map(|(name, _)| format!("`{name}`")).collect();
    anyhow::ensure!(!lines.lines.is_empty(), "no run listed has a value for every key: {}", names.join(", "));
    let drawn = lines.lines.len();
    write(&ParallelChart::of_runs(lines.axes.into_iter().map(parallel_axis).collect(), lines.lines.into_iter().map(|(_, l)| l).collect()), out)?;
    println!("{}", out.display());
    let ids: Vec<String> = lines.left_out.iter().map(|r| format!("#{r}")).collect();
    println!(
        "{drawn} run{} drawn{}",
        if drawn == 1 { "" } else { "s" },
        if ids.is_empty() { String::new() } else { format!("; left out, without a value for every key: {}", ids.join(", ")) }
    );
    Ok(())
}

/// A key's axis as the chart draws it.
fn parallel_axis(axis: muppet_store::LineAxis) -> ParallelAxis {
    ParallelAxis { label: axis.name, log: axis.log, categories: axis.categories }
}

/// A series name as a file name: `sst2 dev accuracy` → `sst2-dev-accuracy`.
fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

/// The chart `request` asks for, read from the store.
async fn curves(store: &Store, request: &ChartRequest) -> anyhow::Result<CurvesChart> {
    let several = request.runs.len() > 1;
    let key = request.series.as_deref().unwrap_or(TRAINING_LOSS);
    // One run's training loss: the whole update's and each task's, as before.
    let per_task_loss = request.series.is_none() && !several;
    let mut curves = Vec::new();
    for &run in &request.runs {
        let row = store.run(run).await?;
        let series = store.list_series(run).await?;
        let column = |s: &muppet_store::SeriesInfo| metric_column(s.key.task.as_deref(), &s.key.split, &s.key.name);
        let exact: Vec<_> = series.iter().filter(|s| column(s) == key).collect();
        let chosen: Vec<_> = if per_task_loss {
            series.iter().filter(|s| s.key.split == "train" && s.key.name == "loss").collect()
        } else if !exact.is_empty() {
            exact
        } else {
            // A name without its task: every task's series of that name.
            series.iter().filter(|s| s.key.task.as_deref().is_some_and(|t| !t.is_empty() && column(s) == format!("{t} {key}"))).collect()
        };
        if chosen.is_empty() {
            let mut names: Vec<String> = series.iter().map(column).collect();
            names.sort();
            names.dedup();
            anyhow::bail!(
                "run {run} has no series {key:?}{}",
                if names.is_empty() { " (it has recorded no metric yet)".to_string() } else { format!("; its series: {}", names.join(", ")) }
            );
        }
        for s in chosen {
            let task = s.key.task.as_deref().filter(|t| !t.is_empty());
            let label = match (several, task, per_task_loss) {
                (false, None, true) => muppet_charts::RUN_WIDE_LOSS_LABEL.to_string(),
                (false, None, false) => key.to_string(),
                (false, Some(task), _) => task.to_string(),
                (true, None, _) => format!("#{} {}", run, row.name),
                (true, Some(task), _) => format!("#{} {} · {task}", run, row.name),
            };
            let points = store.series_points(s.id).await?.iter().map(|p| (request.x.of(p), p.value)).collect();
            curves.push(Curve { label, points, color: None });
        }
    }
    let title = match request.runs.as_slice() {
        [run] if per_task_loss => format!("Run {run}: training loss"),
        [run] => format!("Run {run}: {key}"),
        runs => format!("Runs {}: {key}", runs.iter().map(|r| r.to_string()).collect::<Vec<_>>().join(", ")),
    };
    let y_label = if key == TRAINING_LOSS { "scaled loss".to_string() } else { key.to_string() };
    let chart = CurvesChart { title, x_label: request.x.label().into(), y_label, curves, smoothing: request.smoothing.filter(|w| *w > 0.0), log_y: request.log_y, x_range: None };
    anyhow::ensure!(chart.has_points(), "{} has no point to draw yet{}", chart.title, if chart.log_y { " above 0 (--log-y leaves out the others)" } else { "" });
    Ok(chart)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_names_become_file_names() {
        assert_eq!(slug("sst2 dev accuracy"), "sst2-dev-accuracy");
        assert_eq!(slug("system rss_mb"), "system-rss_mb");
        assert_eq!(slug("eval-dev@mnli accuracy"), "eval-dev-mnli-accuracy");
        assert!(is_chart_file(Path::new("/tmp/a.SVG")) && is_chart_file(Path::new("b.png")));
        assert!(!is_chart_file(Path::new("/tmp/charts")) && !is_chart_file(Path::new("c.jpg")));
    }
}
