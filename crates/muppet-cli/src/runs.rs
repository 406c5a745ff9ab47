//! `muppet runs list [--json]`, `muppet runs show`, `muppet runs spec`, `muppet runs compare`, `muppet runs importance`, `muppet runs csv`, `muppet runs chart`,
//! `muppet runs rename`, `muppet runs delete`, and `muppet runs
//! bundle` / `muppet runs import`, which carry a run from one data folder to another (a GPU
//! server's to a desktop's).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::Subcommand;
use muppet_core::{RunId, RunKind};

#[derive(Subcommand)]
pub enum RunsCommand {
    /// List runs, newest first.
    List {
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        select: Selection,
        /// Order the runs by this key, highest first (a column such as "sst2 dev accuracy", or
        /// a spec path such as config.lr), shown as a column; runs without it come last.
        #[arg(long, value_name = "KEY")]
        sort: Option<String>,
        /// With --sort: lowest first.
        #[arg(long, requires = "sort")]
        ascending: bool,
        /// Only the first N runs listed.
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
        /// Write the runs listed to this CSV file instead, one row each with every setting
        /// and figure of the runs table (each figure's last and best value), for pandas or a
        /// spreadsheet; atomically.
        #[arg(long, value_name = "FILE")]
        csv: Option<PathBuf>,
        /// Group the runs listed by this key (repeat it for several: one group per combination
        /// of values), as W&B's runs table groups them: each group's runs and each figure's
        /// mean ± sample standard deviation over them (with --csv: mean, sd, min, max and n).
        /// --sort FIGURE then orders the groups by that figure's mean (`FIGURE (best)`: by the
        /// mean of its best values), --limit N keeps N groups.
        #[arg(long = "group-by", value_name = "KEY")]
        group_by: Vec<String>,
        /// With --group-by: the table shows each figure's best value in each run (by its
        /// metric's goal) instead of its last; JSON and CSV have both.
        #[arg(long, requires = "group_by")]
        best: bool,
    },
    /// Plot runs as points by their values of two keys (a setting against a dev figure, as
    /// MLflow's and W&B's scatter plots of runs), as SVG or PNG; each point is labelled with
    /// its run, coloured by its group with --by.
    Scatter {
        /// The key along x: a column ("learning rate") or a spec path (config.lr).
        #[arg(long)]
        x: String,
        /// The key along y, e.g. "sst2 dev accuracy".
        #[arg(long)]
        y: String,
        /// Colour the runs by their values of this key (repeat it for several).
        #[arg(long, value_name = "KEY")]
        by: Vec<String>,
        #[command(flatten)]
        select: Selection,
        /// A logarithmic x axis (runs at or below 0 are left out), e.g. for learning rates.
        #[arg(long)]
        log_x: bool,
        /// A logarithmic y axis.
        #[arg(long)]
        log_y: bool,
        /// The chart file to write, ending in .svg or .png.
        #[arg(long)]
        out: PathBuf,
    },
    /// Draw runs as lines through their values of several keys (W&B's parallel coordinates):
    /// an axis per key (its values as categories when they are not numbers: a batching), the
    /// lines coloured by the last one, as SVG or PNG.
    Parallel {
        /// A key to draw an axis of, in order (two or more; the last colours the lines): a
        /// column ("learning rate", "sst2 dev accuracy (best)") or a spec path (config.lr).
        #[arg(long = "axis", value_name = "KEY", required = true)]
        axes: Vec<String>,
        #[command(flatten)]
        select: Selection,
        /// The chart file to write, ending in .svg or .png.
        #[arg(long)]
        out: PathBuf,
    },
    /// Which settings a figure depends on over the runs (W&B's parameter importance): for
    /// each setting whose values differ among them, the share of the figure's variance its
    /// values explain alone (ε², less what chance explains; more than 5 numbers are put in 5
    /// bins) and the rank correlation of its numbers with the figure, most important first.
    Importance {
        /// The figure, a column such as "sst2 dev accuracy" or "sst2 dev accuracy (best)".
        figure: String,
        /// A setting to look at (repeat for several): a column ("learning rate") or a spec
        /// path (config.warmup). Default: every setting of the runs table.
        #[arg(long = "setting", value_name = "KEY")]
        settings: Vec<String>,
        #[command(flatten)]
        select: Selection,
        /// Print it as JSON.
        #[arg(long)]
        json: bool,
    },
    /// A pre-finetuning run's tasks, model and settings as a run spec file: `muppet prefinetune
    /// --spec FILE` starts a new run with them (flags change any), as the app's "New run from
    /// these settings" does.
    Spec {
        /// The run id.
        id: i64,
        /// Write the file here (atomically) instead of printing it.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// One run: its status, lineage, tasks, settings, dev figures, checkpoints and notes.
    Show {
        /// The run id.
        id: i64,
        /// Print it as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Compare runs side by side: the settings of their specs that differ, and every
    /// metric's last value (or its value at a step), as the app's Compare does.
    Compare {
        /// Two or more run ids.
        #[arg(required = true, num_args = 2..)]
        ids: Vec<i64>,
        /// Each metric's value at this step (its last point at or before it) instead of its last.
        #[arg(long)]
        step: Option<u64>,
        /// Print the comparison as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write every metric point of runs to one CSV file (run, task, split, name, step,
    /// examples, seconds, value), atomically.
    Csv {
        /// The run ids.
        #[arg(required = true)]
        ids: Vec<i64>,
        /// The CSV file to write (replaced whole).
        #[arg(long)]
        out: PathBuf,
    },
    /// Draw runs' curves as SVG and PNG: one run's training loss (the whole update's and
    /// each task's), or one series of one or several runs side by side (`--series`).
    Chart {
        /// The run ids (several: one curve per run, and per task for a name without its task).
        #[arg(required = true)]
        ids: Vec<i64>,
        /// The series, named as the runs table's columns: "sst2 dev accuracy", "train lr",
        /// "system rss_mb"; without its task ("dev accuracy", "train loss") for every task
        /// that has it. Default: the training loss.
        #[arg(long)]
        series: Option<String>,
        /// What x counts.
        #[arg(long, value_enum, default_value = "step")]
        x: crate::chart::XAxis,
        /// Draw each curve faint as measured and bold smoothed with this EMA weight (0 to below 1).
        #[arg(long)]
        smoothing: Option<f64>,
        /// A logarithmic y axis (values at or below 0 are left out).
        #[arg(long)]
        log_y: bool,
        /// A folder for NAME.svg and NAME.png (default: the run's folder; loss.svg and loss.png
        /// for one run's training loss), or one file ending in .svg or .png.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Write runs (their rows, metrics and run folders) as one file, for `muppet runs
    /// import` on another machine or data folder. A fine-tune bundled with the run it
    /// started from keeps that link.
    Bundle {
        /// The run ids.
        #[arg(required = true)]
        ids: Vec<i64>,
        /// The bundle to write (a new file; `.tar` by convention).
        #[arg(long)]
        out: PathBuf,
    },
    /// Import a bundle (`muppet runs bundle`, `muppet experiment bundle`): its runs as new
    /// runs of this data folder, and its experiment.
    Import {
        /// The bundle file.
        bundle: PathBuf,
        /// Print what was imported as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Rename a run (a run of an experiment keeps its name: the experiment finds its runs
    /// by name).
    Rename {
        /// The run id.
        id: i64,
        /// The new name.
        name: String,
    },
    /// Put tags on runs or take them off (`muppet runs list --tag` and the app's runs table
    /// filter by them); prints each run's tags.
    Tag {
        /// The run ids.
        #[arg(required = true)]
        ids: Vec<i64>,
        /// A tag to put on (repeat for several).
        #[arg(long = "add", value_name = "TAG", required_unless_present = "remove")]
        add: Vec<String>,
        /// A tag to take off (repeat for several).
        #[arg(long = "remove", value_name = "TAG")]
        remove: Vec<String>,
    },
    /// Follow a run that another process trains (a worker in the background, the app, an
    /// experiment) until it ends: a progress bar with its step, training loss and dev
    /// figures. Fails when the run fails or its worker is gone.
    Watch {
        /// The run id.
        id: i64,
        /// Seconds between readings of the database.
        #[arg(long, default_value_t = 2.0)]
        every: f64,
    },
    /// Add a note to a run (shown by `muppet runs show` and on the app's run page).
    Note {
        /// The run id.
        id: i64,
        /// The note's text.
        text: String,
    },
    /// Delete runs for good: their metrics, checkpoints, notes and run folders. A run being
    /// trained is refused, and so is a run a fine-tune started from unless it goes too.
    Delete {
        /// The run ids.
        #[arg(required = true)]
        ids: Vec<i64>,
        /// Print what was deleted as JSON.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(command: RunsCommand) -> anyhow::Result<()> {
    match command {
        RunsCommand::List { json, select, sort, ascending, limit, csv, group_by, best } => {
            let (query, filter) = select.parse()?;
            let order = match &sort {
                Some(key) => Some(Order { key: muppet_store::RunKey::parse(key).map_err(|e| anyhow::anyhow!("--sort: {e}"))?, name: key.trim().to_string(), ascending }),
                None => None,
            };
            let group = group_by
                .iter()
                .map(|key| Ok((key.trim().to_string(), muppet_store::RunKey::parse(key).map_err(|e| anyhow::anyhow!("--group-by: {e}"))?)))
                .collect::<anyhow::Result<Vec<_>>>()?;
            list(json, Listing { query, filter, order, limit, csv, group, best })
        }
        RunsCommand::Scatter { x, y, by, select, log_x, log_y, out } => {
            let key = |flag: &str, text: &str| muppet_store::RunKey::parse(text).map(|k| (text.trim().to_string(), k)).map_err(|e| anyhow::anyhow!("{flag}: {e}"));
            let (x, y) = (key("--x", &x)?, key("--y", &y)?);
            let by = by.iter().map(|b| key("--by", b)).collect::<anyhow::Result<Vec<_>>>()?;
            let (query, filter) = select.parse()?;
            crate::chart::scatter(crate::chart::ScatterRequest { x, y, by, query, filter, log: (log_x, log_y), out })
        }
        RunsCommand::Parallel { axes, select, out } => {
            let axes = axes.iter().map(|a| muppet_store::RunKey::parse(a).map(|k| (a.trim().to_string(), k)).map_err(|e| anyhow::anyhow!("--axis: {e}"))).collect::<anyhow::Result<Vec<_>>>()?;
            let (query, filter) = select.parse()?;
            crate::chart::parallel(axes, (query, filter), &out)
        }
        RunsCommand::Importance { figure, settings, select, json } => {
            let figure = muppet_store::RunKey::parse(&figure).map(|k| (figure.trim().to_string(), k)).map_err(|e| anyhow::anyhow!("FIGURE: {e}"))?;
            let settings = settings.iter().map(|k| muppet_store::RunKey::parse(k).map(|key| (k.trim().to_string(), key)).map_err(|e| anyhow::anyhow!("--setting: {e}"))).collect::<anyhow::Result<Vec<_>>>()?;
            importance(figure, &settings, select, json)
        }
        RunsCommand::Chart { ids, series, x, smoothing, log_y, out } => {
            crate::chart::chart(crate::chart::ChartRequest { runs: ids.into_iter().map(RunId).collect(), series, x, smoothing, log_y, out })
        }
        RunsCommand::Spec { id, out } => spec_file(RunId(id), out.as_deref()),
        RunsCommand::Show { id, json } => show(RunId(id), json),
        RunsCommand::Compare { ids, step, json } => compare(&ids.into_iter().map(RunId).collect::<Vec<_>>(), step, json),
        RunsCommand::Csv { ids, out } => csv(&ids.into_iter().map(RunId).collect::<Vec<_>>(), &out),
        RunsCommand::Bundle { ids, out } => bundle(&ids.into_iter().map(RunId).collect::<Vec<_>>(), None, &out),
        RunsCommand::Import { bundle, json } => import(&bundle, json),
        RunsCommand::Rename { id, name } => rename(RunId(id), &name),
        RunsCommand::Tag { ids, add, remove } => tag(&ids.into_iter().map(RunId).collect::<Vec<_>>(), &add, &remove),
        RunsCommand::Note { id, text } => note(RunId(id), &text),
        RunsCommand::Watch { id, every } => {
            anyhow::ensure!(every.is_finite() && every > 0.0, "--every {every}: give a number of seconds above 0");
            crate::watch::watch(RunId(id), std::time::Duration::from_secs_f64(every))
        }
        RunsCommand::Delete { ids, json } => delete(&ids.into_iter().map(RunId).collect::<Vec<_>>(), json),
    }
}

fn rename(run: RunId, name: &str) -> anyhow::Result<()> {
    crate::with_store(async |store, _| Ok(store.rename_run(run, name).await?))?;
    println!("run {run} is now \"{}\"", name.trim());
    Ok(())
}

/// Tag runs: every tag and every run is checked before any is changed.
fn tag(runs: &[RunId], add: &[String], remove: &[String]) -> anyhow::Result<()> {
    let clean = |tags: &[String]| muppet_core::annotation::clean_tags(tags).map_err(anyhow::Error::msg);
    let (add, remove) = (clean(add)?, clean(remove)?);
    let tags = crate::with_store(async |store, _| {
        for &run in runs {
            store.run(run).await?;
        }
        let mut tags = Vec::new();
        for &run in runs {
            for tag in &add {
                store.tag_run(run, tag).await?;
            }
            for tag in &remove {
                store.untag_run(run, tag).await?;
            }
            tags.push((run, store.run_tags(run).await?));
        }
        Ok(tags)
    })?;
    for (run, tags) in tags {
        println!("run {run}: {}", if tags.is_empty() { "no tags".to_string() } else { format!("tags {}", tags.join(", ")) });
    }
    Ok(())
}

/// Add a note to a run.
fn note(run: RunId, text: &str) -> anyhow::Result<()> {
    let text = muppet_core::annotation::clean_note(text).map_err(anyhow::Error::msg)?;
    let count = crate::with_store(async |store, _| {
        store.run(run).await?;
        let target = muppet_store::NoteTarget::Run(run);
        store.add_note(target, &text).await?;
        Ok(store.notes(target).await?.len())
    })?;
    println!("run {run}: note added ({count} in all)");
    Ok(())
}

/// Delete runs with their rows and folders, or nothing.
fn delete(runs: &[RunId], json: bool) -> anyhow::Result<()> {
    let deleted = crate::with_store(async |store, home| Ok(muppet_store::delete::delete_runs(store, home, runs).await?))?;
    crate::print_deleted(&deleted, json)
}

/// Bundle runs (with their experiment when it is given, and then all of its runs); the
/// bundle writer holds their locks meanwhile, so a run being trained is refused.
pub fn bundle(runs: &[RunId], experiment: Option<muppet_store::ExperimentId>, out: &std::path::Path) -> anyhow::Result<()> {
    let (runs, files) = crate::with_store(async |store, home| {
        let runs = match experiment {
            Some(e) => store.experiment_runs(e).await?.iter().map(|r| r.id).collect(),
            None => runs.to_vec(),
        };
        let files = muppet_store::bundle::write_bundle(store, home, &runs, experiment, out).await?;
        Ok((runs, files))
    })?;
    let ids = runs.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
    let what = match (experiment, runs.len()) {
        (Some(e), _) => format!("experiment {e} with its runs {ids}", e = e.0),
        (None, 1) => format!("run {ids}"),
        (None, _) => format!("runs {ids}"),
    };
    println!("{what} bundled with {files} files of their folders: {}", out.display());
    Ok(())
}

fn import(bundle: &std::path::Path, json: bool) -> anyhow::Result<()> {
    let imported = crate::with_store(async |store, home| {
        let hub = muppet_data::hub::cache_root();
        let models_here = |elsewhere: &std::path::Path| muppet_data::assets::model_here(home.assets(), &hub, elsewhere);
        Ok(muppet_store::bundle::import_bundle(store, home, bundle, &models_here).await?)
    })?;
    if json {
        println!("{}", serde_json::to_string(&imported)?);
        return Ok(());
    }
    if let Some(e) = &imported.experiment {
        println!("imported experiment {} \"{}\" of {} ({}) as experiment {}", e.source_id, e.name, imported.source_host, imported.source_home, e.id.0);
    }
    for r in &imported.runs {
        println!("imported run {} of {} as run {}: \"{}\", {} metric points, {} checkpoints", r.source_run, imported.source_host, r.run, r.name, r.points, r.checkpoints);
    }
    println!("{} runs, {} files, from {}", imported.runs.len(), imported.files, imported.source_home);
    Ok(())
}

fn compare(runs: &[RunId], step: Option<u64>, json: bool) -> anyhow::Result<()> {
    let comparison = crate::with_store(async |store, _| Ok(store.compare_runs(runs, step).await?))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&comparison)?);
        return Ok(());
    }
    // One column per run, as wide as its widest value.
    let header: Vec<String> = runs.iter().map(|r| format!("run {r}")).collect();
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    rows.push((String::new(), header));
    rows.push(("settings that differ".into(), Vec::new()));
    for p in &comparison.params {
        let value = |v: &Option<serde_json::Value>| v.as_ref().map_or("-".to_string(), |v| v.as_str().map_or_else(|| v.to_string(), str::to_string));
        rows.push((format!("  {}", p.path), p.values.iter().map(value).collect()));
    }
    let label = match step {
        Some(step) => format!("metrics at step {step} (step of the value)"),
        None => "metrics, last value (its step)".into(),
    };
    rows.push((label, Vec::new()));
    for m in &comparison.metrics {
        let name = muppet_store::metric_column(m.key.task.as_deref(), &m.key.split, &m.key.name);
        rows.push((format!("  {name}"), m.values.iter().map(|v| v.map_or("-".to_string(), |v| format!("{} ({})", figure(v.value), v.step))).collect()));
    }
    let first = rows.iter().map(|(l, _)| l.chars().count()).max().unwrap_or(0);
    let widths: Vec<usize> = (0..runs.len()).map(|i| rows.iter().filter_map(|(_, v)| v.get(i)).map(|c| c.chars().count()).max().unwrap_or(0)).collect();
    for (label, values) in &rows {
        let cells: Vec<String> = values.iter().zip(&widths).map(|(v, w)| format!("{v:>w$}")).collect();
        println!("{}", format!("{label:<first$}  {}", cells.join("  ")).trim_end());
    }
    Ok(())
}

/// A metric's value in four decimals, or in scientific notation when that would hide it
/// (a learning rate of 2e-5).
fn figure(v: f64) -> String {
    if v != 0.0 && v.abs() < 1e-3 { format!("{v:.3e}") } else { format!("{v:.4}") }
}

/// A run as `runs show` prints it.
#[derive(serde::Serialize)]
struct Shown {
    #[serde(flatten)]
    run: muppet_store::RunRow,
    tasks: Vec<String>,
    tags: Vec<String>,
    /// Dev figures by series, and settings from the spec.
    columns: muppet_store::RunColumns,
    checkpoints: Vec<muppet_store::Checkpoint>,
    /// The checkpoint with the best dev score (`--step best`).
    best_checkpoint: Option<muppet_train::best::BestDev>,
    notes: Vec<muppet_store::Note>,
}

fn show(run: RunId, json: bool) -> anyhow::Result<()> {
    let shown = crate::with_store(async |store, home| {
        let row = store.run(run).await?;
        Ok(Shown {
            // None for a run without a manifest or a scored checkpoint.
            best_checkpoint: crate::best::best_checkpoint(home, store, run).await.ok(),
            tasks: store.run_tasks(run).await?,
            tags: store.run_tags(run).await?,
            columns: store.run_columns(Some(run)).await?.remove(&run).unwrap_or_default(),
            checkpoints: store.checkpoints(run).await?,
            notes: store.notes(muppet_store::NoteTarget::Run(run)).await?,
            run: row,
        })
    })?;
    if json {
        println!("{}", serde_json::to_string_pretty(&shown)?);
        return Ok(());
    }
    let r = &shown.run;
    println!("run {} \"{}\": {}, {}", r.id, r.name, r.kind.as_str(), r.status.as_str());
    let on = [r.backend.as_deref(), r.device.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" on ");
    println!("  started {}{}{}", r.started_at, r.ended_at.as_ref().map(|e| format!(", ended {e}")).unwrap_or_default(), if on.is_empty() { String::new() } else { format!(", {on}") });
    if let Some(failure) = &r.failure {
        println!("  failure: {failure}");
    }
    if let Some(parent) = r.parent {
        println!("  started from run {parent}");
    }
    if let Some(experiment) = r.experiment {
        println!("  experiment {}", experiment.0);
    }
    println!("  tasks: {}", shown.tasks.join(", "));
    if !shown.tags.is_empty() {
        println!("  tags: {}", shown.tags.join(", "));
    }
    if let Some(loss) = r.last_loss {
        println!("  last training loss: {loss:.4} ({} metric points)", r.points);
    }
    if !shown.columns.params.is_empty() {
        println!("settings:");
        for (name, value) in &shown.columns.params {
            println!("  {name:<18} {value}");
        }
    }
    if !shown.columns.metrics.is_empty() {
        println!("figures (dev, and scores of muppet eval):");
        for (name, m) in &shown.columns.metrics {
            let figure = |v: Option<f64>| v.map(|v| format!("{v:.4}")).unwrap_or_else(|| "-".into());
            println!("  {name:<40} last {} (step {})  best {}", figure(m.last), m.step, figure(m.best));
        }
    }
    if !shown.checkpoints.is_empty() {
        println!("checkpoints:");
        for c in &shown.checkpoints {
            let best = shown.best_checkpoint.filter(|b| b.step == c.step).map(|b| format!("  best dev {:.4}", b.score)).unwrap_or_default();
            println!("  step {:<6} {:>10}  {}{best}", c.step, muppet_store::delete::bytes_text(c.bytes), c.path.display());
        }
    }
    if !shown.notes.is_empty() {
        println!("notes:");
        for n in &shown.notes {
            println!("  {}  {}", n.created_at, n.body);
        }
    }
    Ok(())
}

/// Every point of every series of `runs`, in one CSV file.
fn csv(runs: &[RunId], out: &std::path::Path) -> anyhow::Result<()> {
    let written = crate::with_store(async |store, _| {
        let mut series = Vec::new();
        let mut runs = runs.to_vec();
        runs.dedup();
        for &run in &runs {
            store.run(run).await?;
            series.extend(store.list_series(run).await?.into_iter().map(|s| s.id));
        }
        Ok(store.export_csv(&series, out).await?)
    })?;
    let ids = runs.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
    println!("{written} metric points of run{} {ids} written to {}", if runs.len() == 1 { "" } else { "s" }, out.display());
    Ok(())
}

/// Draw the training-loss curves of a run (run-wide and per task) as SVG and PNG.
/// Which runs `muppet runs list` shows, in which order.
struct Listing {
    query: muppet_store::RunQuery,
    filter: Option<muppet_store::RunFilter>,
    order: Option<Order>,
    limit: Option<usize>,
    /// Write the runs listed here as a CSV table instead of printing them.
    csv: Option<PathBuf>,
    /// Group the runs listed by these keys (as written, and parsed).
    group: Vec<(String, muppet_store::RunKey)>,
    /// The groups' table shows each figure's best instead of its last value.
    best: bool,
}

/// Which runs a listing or a plot takes: all, or those of a status, tag, task or
/// experiment whose settings and figures match a filter.
#[derive(clap::Args)]
pub struct Selection {
    /// Only runs of this status (queued, running, completed, failed, cancelled).
    #[arg(long)]
    status: Option<muppet_core::RunStatus>,
    /// Only runs with this tag.
    #[arg(long)]
    tag: Option<String>,
    /// Only runs that train on this task.
    #[arg(long)]
    task: Option<String>,
    /// Only the runs of this experiment.
    #[arg(long)]
    experiment: Option<i64>,
    /// Only runs whose settings and figures match, as MLflow's search filter: conditions
    /// joined by `and`, e.g. "learning rate < 1e-4 and sst2 dev accuracy > 0.8" (a key is
    /// a column of the runs table, a figure by its last value, or a spec path such as
    /// `config.sampling.kind`).
    #[arg(long = "where", value_name = "FILTER")]
    filter: Option<String>,
}

impl Selection {
    fn parse(self) -> anyhow::Result<(muppet_store::RunQuery, Option<muppet_store::RunFilter>)> {
        let Selection { status, tag, task, experiment, filter } = self;
        let query = muppet_store::RunQuery { status, tag, task, experiment: experiment.map(muppet_store::ExperimentId), ..Default::default() };
        let filter = filter.as_deref().map(muppet_store::RunFilter::parse).transpose().map_err(|e| anyhow::anyhow!("--where: {e}"))?;
        Ok((query, filter))
    }
}

/// `muppet runs spec ID [--out FILE]`: a pre-finetuning run as the spec file that starts a new
/// run with its settings, named after it; the default model is left out, as the app's saved
/// specs leave it out.
fn spec_file(run: RunId, out: Option<&Path>) -> anyhow::Result<()> {
    let (row, value) = crate::with_store(async |store, _| Ok((store.run(run).await?, store.run_spec(run).await?)))?;
    if row.kind != RunKind::PreFinetune {
        bail!("run {run} is a fine-tune: a spec file holds a pre-finetuning run; start another fine-tune with `muppet finetune --task TASK [--from-run ID]`, its settings as flags");
    }
    let spec: muppet_train::spec::RunSpec = serde_json::from_value(value).with_context(|| format!("run {run}'s stored spec is not one `muppet prefinetune` made"))?;
    let home = crate::home();
    let file = muppet_train::spec::SpecFile::of_prefinetune(&spec, &muppet_data::assets::model_dir(home.assets()), Some(&format!("{} (again)", row.name)));
    let text = format!("# The settings of run {run} \"{}\": `muppet prefinetune --spec FILE` starts a new run with them.\n\n{}", row.name, file.to_toml()?);
    let Some(path) = out else {
        print!("{text}");
        return Ok(());
    };
    // Written beside the file under a temporary name, then renamed: never half a file.
    let partial = path.with_extension("toml.partial");
    let written = std::fs::write(&partial, &text).and_then(|()| std::fs::rename(&partial, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&partial);
        return Err(e).with_context(|| format!("writing {}", path.display()));
    }
    eprintln!("run {run}'s settings written to {}: `muppet prefinetune --spec {}` starts a new run with them", path.display(), path.display());
    Ok(())
}

/// Every run's figure columns and spec, as the filter, sort, grouping and plots read them.
pub(crate) type ColumnsAndSpecs = (HashMap<RunId, muppet_store::RunColumns>, HashMap<RunId, serde_json::Value>);

/// The runs `query` and `filter` keep, newest first, and every run's columns and spec when
/// the filter read them (`read` asks for them in any case), so a sort or a plot reads them once.
pub(crate) async fn select_runs(
    store: &muppet_store::Store,
    query: muppet_store::RunQuery,
    filter: Option<&muppet_store::RunFilter>,
    read: bool,
) -> anyhow::Result<(Vec<muppet_store::RunRow>, Option<ColumnsAndSpecs>)> {
    let queried = query.status.is_some() || query.tag.is_some() || query.task.is_some() || query.experiment.is_some();
    let mut runs = store.list_runs().await?;
    if queried {
        let kept: std::collections::HashSet<RunId> = store.query_runs(&muppet_store::RunQuery { limit: u64::MAX, ..query }).await?.rows.into_iter().map(|r| r.run.id).collect();
        runs.retain(|r| kept.contains(&r.id));
    }
    if filter.is_none() && !read {
        return Ok((runs, None));
    }
    let (columns, specs) = store.run_columns_and_specs().await?;
    if let Some(filter) = filter {
        let kept = filter.select(&columns, &specs).map_err(|e| anyhow::anyhow!("--where: {e}"))?;
        runs.retain(|r| kept.contains(&r.id));
    }
    Ok((runs, Some((columns, specs))))
}

/// `muppet runs importance FIGURE`: what each setting says of the figure over the runs
/// selected, as a table with a bar per setting, or JSON.
fn importance(figure: (String, muppet_store::RunKey), settings: &[(String, muppet_store::RunKey)], select: Selection, json: bool) -> anyhow::Result<()> {
    let (query, filter) = select.parse()?;
    let found = crate::with_store(async |store, _| {
        let (runs, read) = select_runs(store, query, filter.as_ref(), true).await?;
        let (columns, specs) = read.context("the runs' columns were read")?;
        let ids: Vec<RunId> = runs.iter().map(|r| r.id).collect();
        Ok(muppet_store::importance((&figure.0, &figure.1), settings, &ids, &columns, &specs)?)
    })?;
    if json {
        println!("{}", serde_json::to_string_pretty(&found)?);
        return Ok(());
    }
    print!("{}", importance_table(&found));
    Ok(())
}

/// Columns of a bar of importance 1.
const BAR: usize = 24;

/// [`muppet_store::RunImportance`] as the terminal shows it.
fn importance_table(found: &muppet_store::RunImportance) -> String {
    let n = found.runs.len();
    let mut out = format!("What each setting says of `{}` over {n} runs", found.figure);
    if !found.left_out.is_empty() {
        out += &format!(" ({} left out: no value of it)", found.left_out.len());
    }
    out += ":\n";
    if found.settings.is_empty() {
        out += "no setting differs among these runs.\n";
    }
    let width = found.settings.iter().map(|s| s.name.chars().count()).chain([7]).max().unwrap_or(7);
    if !found.settings.is_empty() {
        out += &format!("{:<width$}  {:<w$}  {:>16}  values\n", "setting", "importance", "rank correlation", w = BAR + 6);
    }
    for s in &found.settings {
        let (share, bar) = match s.importance {
            Some(i) => (format!("{i:.2}"), "█".repeat((i * BAR as f64).round() as usize)),
            None => ("-".into(), String::new()),
        };
        let correlation = s.correlation.map_or_else(|| "-".to_string(), |c| format!("{c:+.2}"));
        let mut values = s.values.to_string();
        if s.binned {
            values += &format!(" (in {} bins)", s.groups - usize::from(s.missing > 0));
        }
        if s.missing > 0 {
            values += &format!(", {} run{} without", s.missing, if s.missing == 1 { "" } else { "s" });
        }
        out += &format!("{:<width$}  {share:>4}  {bar:<BAR$}  {correlation:>16}  {values}\n", s.name);
    }
    if !found.constant.is_empty() {
        out += &format!("The same in every run: {}.\n", found.constant.join(", "));
    }
    out += "importance: the share of the figure's variance the setting's values explain alone, less what chance explains (ε²); - when every run has a value of its own. rank correlation: Spearman's, of its numbers with the figure.\n";
    out
}

/// `--sort KEY [--ascending]`.
struct Order {
    key: muppet_store::RunKey,
    /// As given, for the column's head.
    name: String,
    ascending: bool,
}

fn list(json: bool, listing: Listing) -> anyhow::Result<()> {
    let home = crate::home();
    let Listing { query, filter, order, limit, csv, group, best } = listing;
    let queried = query.status.is_some() || query.tag.is_some() || query.task.is_some() || query.experiment.is_some();
    let filtered = queried || filter.is_some();
    let (mut runs, values) = crate::with_store(async |store, _| {
        let (runs, read) = select_runs(store, query, filter.as_ref(), order.is_some()).await?;
        let values = match (&order, read) {
            (Some(order), Some((columns, specs))) => Some(order.key.values(&columns, &specs).map_err(|e| anyhow::anyhow!("--sort: {e}"))?),
            _ => None,
        };
        Ok((runs, values))
    })?;
    if !group.is_empty() {
        return list_groups(json, csv, (&group, best), &runs, order.as_ref(), limit);
    }
    if let (Some(order), Some(values)) = (&order, &values) {
        // Stable: runs of equal values stay newest first; runs without a value go last.
        runs.sort_by(|a, b| match (values.get(&a.id), values.get(&b.id)) {
            (Some(x), Some(y)) if order.ascending => muppet_store::value_order(x, y),
            (Some(x), Some(y)) => muppet_store::value_order(y, x),
            (x, y) => y.is_some().cmp(&x.is_some()),
        });
    }
    if let Some(n) = limit {
        runs.truncate(n);
    }
    if let Some(path) = csv {
        let ids: Vec<RunId> = runs.iter().map(|r| r.id).collect();
        let written = crate::with_store(async |store, _| Ok(store.export_runs_table(&ids, &path).await?))?;
        println!("{written} run{} written to {}", if written == 1 { "" } else { "s" }, path.display());
        return Ok(());
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&runs)?);
        return Ok(());
    }
    if runs.is_empty() && filtered {
        println!("No run in {} matches.", home.db().display());
        return Ok(());
    }
    if runs.is_empty() {
        println!("No runs in {} yet. Try `muppet demo`.", home.db().display());
        return Ok(());
    }
    // The sort key's values as a column of their own, before the start time.
    let sorted = |r: &muppet_store::RunRow| -> String { values.as_ref().and_then(|v| v.get(&r.id)).map_or_else(|| "-".to_string(), muppet_store::value_text) };
    let key_head = order.as_ref().map(|o| format!("{:>14}  ", o.name)).unwrap_or_default();
    println!("{:>5}  {:<44} {:<13} {:<10} {:>7}  {:>9}  {key_head}started", "id", "name", "kind", "status", "points", "last loss");
    for r in &runs {
        let loss = r.last_loss.map(|l| format!("{l:.4}")).unwrap_or_else(|| "-".into());
        let key = if order.is_some() { format!("{:>14}  ", sorted(r)) } else { String::new() };
        println!(
            "{:>5}  {:<44} {:<13} {:<10} {:>7}  {:>9}  {key}{}",
            r.id.0,
            r.name,
            r.kind.as_str(),
            r.status.as_str(),
            r.points,
            loss,
            r.started_at
        );
    }
    // A run the store says is running whose lock no process holds lost its process.
    for r in runs_gone(&home, &runs) {
        println!("run {r}: no process trains it any more (killed or crashed); `muppet resume {r}` continues it from its last checkpoint");
    }
    Ok(())
}

/// `muppet runs list --group-by`: the runs listed, grouped by `keys`, as a table (each figure
/// but the worker's system readings, as mean ± sd (n): its last value in each run, or with
/// `best` its best), JSON or a CSV file (both).
fn list_groups(
    json: bool,
    csv: Option<PathBuf>,
    (keys, best): (&[(String, muppet_store::RunKey)], bool),
    runs: &[muppet_store::RunRow],
    order: Option<&Order>,
    limit: Option<usize>,
) -> anyhow::Result<()> {
    let ids: Vec<RunId> = runs.iter().map(|r| r.id).collect();
    let parsed: Vec<muppet_store::RunKey> = keys.iter().map(|(_, k)| k.clone()).collect();
    let mut groups = crate::with_store(async |store, _| store.group_runs(&parsed, &ids).await.map_err(|e| anyhow::anyhow!("--group-by: {e}")))?;
    if let Some(order) = order {
        sort_groups(&mut groups, &order.name, order.ascending)?;
    }
    if let Some(n) = limit {
        groups.truncate(n);
    }
    let names: Vec<String> = keys.iter().map(|(name, _)| name.clone()).collect();
    if let Some(path) = csv {
        let written = muppet_store::export_groups(&names, &groups, &path)?;
        println!("{written} group{} of {} run{} written to {}", if written == 1 { "" } else { "s" }, ids.len(), if ids.len() == 1 { "" } else { "s" }, path.display());
        return Ok(());
    }
    if json {
        let out: Vec<serde_json::Value> = groups
            .iter()
            .map(|g| {
                let values: serde_json::Map<String, serde_json::Value> = names.iter().cloned().zip(g.values.iter().cloned()).collect();
                serde_json::json!({ "values": values, "runs": g.runs, "figures": g.figures })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    if groups.is_empty() {
        println!("No run to group.");
        return Ok(());
    }
    // Ordered by a figure's best: its best values are what the table shows.
    let is_best = |f: &str| f.ends_with(muppet_store::BEST_SUFFIX);
    let best = best || order.is_some_and(|o| is_best(&o.name));
    let mut figures: Vec<&String> = groups.iter().flat_map(|g| g.figures.keys()).filter(|f| !f.starts_with("system ") && is_best(f) == best).collect();
    figures.sort();
    figures.dedup();
    let head: Vec<String> = names.iter().cloned().chain(["runs".into(), "run ids".into()]).chain(figures.iter().map(|f| f.to_string())).collect();
    let rows: Vec<Vec<String>> = groups
        .iter()
        .map(|g| {
            let ids: Vec<String> = g.runs.iter().map(|r| r.0.to_string()).collect();
            g.values
                .iter()
                .map(muppet_store::value_text)
                .chain([g.runs.len().to_string(), ids.join(",")])
                .chain(figures.iter().map(|f| match g.figures.get(*f) {
                    Some(x) => match x.sd {
                        Some(sd) => format!("{:.4} ± {sd:.4} ({})", x.mean, x.n),
                        None => format!("{:.4} ({})", x.mean, x.n),
                    },
                    None => "-".into(),
                }))
                .collect()
        })
        .collect();
    let widths: Vec<usize> = (0..head.len()).map(|i| std::iter::once(&head[i]).chain(rows.iter().map(|r| &r[i])).map(|c| c.chars().count()).max().unwrap_or(0)).collect();
    let line = |cells: &[String]| cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect::<Vec<_>>().join("  ").trim_end().to_string();
    println!("{}", line(&head));
    for row in &rows {
        println!("{}", line(row));
    }
    Ok(())
}

/// Order groups by the mean of figure `name` (as the runs table's columns name it, in any
/// case), highest first unless `ascending`; groups without it go last.
fn sort_groups(groups: &mut [muppet_store::RunGroup], name: &str, ascending: bool) -> anyhow::Result<()> {
    let wanted = name.split_whitespace().collect::<Vec<_>>().join(" ");
    let Some(figure) = groups.iter().flat_map(|g| g.figures.keys()).find(|f| f.eq_ignore_ascii_case(&wanted)).cloned() else {
        let mut figures: Vec<&String> = groups.iter().flat_map(|g| g.figures.keys()).collect();
        figures.sort();
        figures.dedup();
        let figures: Vec<&str> = figures.iter().map(|f| f.as_str()).collect();
        anyhow::bail!("--sort with --group-by orders the groups by a figure's mean, and no group has `{wanted}`: the figures are {}", figures.join(", "));
    };
    groups.sort_by(|a, b| match (a.figures.get(&figure), b.figures.get(&figure)) {
        (Some(x), Some(y)) if ascending => x.mean.total_cmp(&y.mean),
        (Some(x), Some(y)) => y.mean.total_cmp(&x.mean),
        (x, y) => y.is_some().cmp(&x.is_some()),
    });
    Ok(())
}

/// The runs of `runs` marked running whose lock was left by a process that ended.
fn runs_gone(home: &muppet_core::MuppetHome, runs: &[muppet_store::RunRow]) -> Vec<muppet_core::RunId> {
    runs.iter().filter(|r| lost_its_process(home, r)).map(|r| r.id).collect()
}

/// Whether `run` is marked running but no process holds its lock: its worker was killed or
/// crashed.
pub(crate) fn lost_its_process(home: &muppet_core::MuppetHome, run: &muppet_store::RunRow) -> bool {
    use muppet_core::lock::{abandoned, run_lock_path};
    run.status == muppet_core::RunStatus::Running && abandoned(&run_lock_path(home, run.id))
}
