//! `muppet tasks list | import | add | show | preview`: the demo catalog (tasks
//! made from the fetched assets), the Muppet catalog (the paper's datasets on the
//! Hugging Face hub), and tasks imported from local files or hub datasets, which
//! are stored in the database with a fingerprint of their data.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use muppet_core::{MuppetHome, TaskFamily};
use muppet_data::fingerprint::{example_lines, fingerprint, from_lines};
use muppet_data::hub::{HubAccess, HubDataset, Shown, hub_origin, import_hub};
use muppet_data::import::{import_file, Encoding, FieldMap, Format, ImportOptions, Imported, OnInvalid};
use muppet_data::stats::{TaskStats, TokenLengths, COMMON_MAX_LENS};
use muppet_data::{catalog, muppet_catalog, LabeledTask, Target};
use muppet_store::{NewTaskData, Store};

#[derive(Subcommand)]
pub enum TasksCommand {
    /// Catalog tasks whose assets are present, and imported tasks.
    List {
        /// Print a JSON array of {name, family, examples, labels, origin, ...}.
        #[arg(long)]
        json: bool,
        /// Only imported tasks (fast: the catalog tasks are not loaded).
        #[arg(long, conflicts_with = "catalog")]
        imported: bool,
        /// List a catalog of hub datasets instead: `muppet` (the paper's public
        /// datasets; `muppet tasks add NAME` imports one).
        #[arg(long, value_parser = ["muppet"])]
        catalog: Option<String>,
    },
    /// Import a local file or a Hugging Face hub dataset as a task (stored in the
    /// database, all or nothing).
    Import(Box<ImportArgs>),
    /// Import a dataset of the Muppet catalog by name, from the hub or the local
    /// Hugging Face cache.
    Add(AddArgs),
    /// Counts, label distribution and text lengths of a task: in characters, and in the
    /// model's tokens with the share of examples longer than each maximum length.
    Show {
        name: String,
        /// A maximum length to weigh the token lengths against (repeat; default 64, 128,
        /// 256 and 512).
        #[arg(long = "max-len")]
        max_lens: Vec<usize>,
        /// The model whose tokenizer counts the tokens (default: the assets' model, when
        /// fetched).
        #[arg(long)]
        model: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Check every available task against every other for inputs they share
    /// (normalised text), print the pairs and store the check for the app.
    Overlaps {
        /// Print the check as JSON: {checked_at, tasks: [{task, fingerprint, inputs}],
        /// overlaps: [{task, other, shared, inputs, percent}]}.
        #[arg(long)]
        json: bool,
    },
    /// Delete imported tasks (their examples and overlap-check results), all or none. A
    /// task another task is scored on goes only with it; runs that trained on them keep
    /// their records.
    Delete {
        #[arg(required = true)]
        names: Vec<String>,
        /// Print what was deleted as JSON.
        #[arg(long)]
        json: bool,
    },
    /// The first examples of a task.
    Preview {
        name: String,
        /// How many examples.
        #[arg(short = 'n', long = "count", default_value_t = 5)]
        n: usize,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
pub struct ImportArgs {
    /// The file (a folder for --format folder).
    #[arg(required_unless_present = "hub", conflicts_with = "hub")]
    path: Option<PathBuf>,
    /// jsonl, csv, tsv, parquet, squad, bigbench or folder.
    #[arg(long, required_unless_present = "hub", conflicts_with = "hub")]
    format: Option<String>,
    /// A Hugging Face hub dataset id (`org/name`) instead of a file: its Parquet
    /// files are downloaded (or read from the local Hugging Face cache when
    /// offline or HF_HUB_OFFLINE=1).
    #[arg(long)]
    hub: Option<String>,
    /// The hub dataset's config (needed when it has several).
    #[arg(long)]
    config: Option<String>,
    /// The hub dataset's split (default: train); several separated by commas are
    /// read in order as one task.
    #[arg(long)]
    split: Option<String>,
    /// The task's name (letters, digits, `_`, `-`, `.`).
    #[arg(long)]
    name: String,
    /// single, pair, regression, mc, span or generation (imported and checked, not trained).
    #[arg(long)]
    family: String,
    /// Field holding the text (multiple choice: the text the choices answer).
    #[arg(long)]
    text: Option<String>,
    /// Field holding the second text (pair; optional for regression).
    #[arg(long)]
    text_b: Option<String>,
    /// Field holding the class, the value, or the correct choice (index or text).
    #[arg(long)]
    label: Option<String>,
    /// Field holding the question (span, multiple choice).
    #[arg(long)]
    question: Option<String>,
    /// Field holding the list of choices, or several fields separated by commas.
    #[arg(long)]
    choices: Option<String>,
    /// Field holding the passage (span).
    #[arg(long)]
    context: Option<String>,
    /// Field holding the answer's character offset (span; unset: found in the passage).
    #[arg(long)]
    answer_start: Option<String>,
    /// Field holding the answer text or a list of accepted answers (span).
    #[arg(long)]
    answer_text: Option<String>,
    /// Field holding the text to write (generation, e.g. the summary).
    #[arg(long)]
    target: Option<String>,
    /// Examples this task holds out for dev in every run (default: the run's --dev-size).
    #[arg(long)]
    dev_size: Option<usize>,
    /// Seed of this task's train/dev split (default: the run's split seed).
    #[arg(long)]
    split_seed: Option<u64>,
    /// Score this task on the examples of that (imported) task, e.g. the dataset's
    /// validation split, instead of holding out part of its own; all of its own then train.
    #[arg(long)]
    dev_task: Option<String>,
    /// The class labels in index order, separated by commas; other labels are errors.
    /// Without it, labels are collected in the order they first appear.
    #[arg(long, value_delimiter = ',')]
    labels: Option<Vec<String>>,
    /// utf8 (default), latin1, or auto (UTF-8, else Latin-1 per file).
    #[arg(long, default_value = "utf8")]
    encoding: String,
    /// CSV/TSV without a header line: columns are named 1, 2, 3 ...
    #[arg(long)]
    no_header: bool,
    /// Keep exact duplicates (default: dropped).
    #[arg(long)]
    keep_duplicates: bool,
    /// Replace an imported task of the same name.
    #[arg(long)]
    replace: bool,
    /// Leave out records that cannot become valid examples (counted) instead of failing.
    #[arg(long)]
    skip_invalid: bool,
    /// License note recorded with the task (default: unknown, or for a hub
    /// dataset: see its dataset card).
    #[arg(long)]
    license: Option<String>,
}

#[derive(Args)]
pub struct AddArgs {
    /// The catalog name (`muppet tasks list --catalog muppet` lists them).
    dataset: String,
    /// The split(s) to import, separated by commas (default: the entry's training split).
    #[arg(long)]
    split: Option<String>,
    /// The task name (default: the catalog name, plus `_<split>` for another split).
    #[arg(long)]
    name: Option<String>,
    /// Replace an imported task of the same name.
    #[arg(long)]
    replace: bool,
    /// Leave out records that cannot become valid examples (counted) instead of failing.
    #[arg(long)]
    skip_invalid: bool,
    /// The split the task is scored on, imported too as the task `<name>_<split>`, instead of
    /// holding out part of its training examples (the paper's dev figures are on it).
    /// Default: the dataset's validation split, when it has one and the training split is
    /// added. Both tasks are stored together or not at all.
    #[arg(long, conflicts_with = "no_dev_split")]
    dev_split: Option<String>,
    /// Import only the training split (or --split): runs hold out part of it for dev.
    #[arg(long)]
    no_dev_split: bool,
}

pub fn run(command: TasksCommand) -> anyhow::Result<()> {
    let home = crate::home();
    match command {
        TasksCommand::List { json, catalog: Some(_), .. } => list_muppet_catalog(&home, json),
        TasksCommand::List { json, imported, catalog: None } => list(&home, json, imported),
        TasksCommand::Import(args) => import(&home, *args),
        TasksCommand::Add(args) => add(&home, args),
        TasksCommand::Show { name, max_lens, model, json } => show(&home, &name, &max_lens, model, json),
        TasksCommand::Preview { name, n, json } => preview(&home, &name, n, json),
        TasksCommand::Overlaps { json } => crate::overlaps::run(&home, json),
        TasksCommand::Delete { names, json } => delete(&names, json),
    }
}

/// Delete imported tasks; a demo catalog task is named as such (it comes with the assets).
fn delete(names: &[String], json: bool) -> anyhow::Result<()> {
    let deleted = crate::with_store(async |store, _| {
        for name in names {
            if catalog::recipe(name).is_some() && store.imported_task(name).await?.is_none() {
                anyhow::bail!("`{name}` is a task of the demo catalog: it comes with the assets (`muppet assets fetch`), not from an import, and is not deleted; nothing was deleted");
            }
        }
        Ok(store.delete_imported_tasks(names).await?)
    })?;
    if json {
        println!("{}", serde_json::to_string(&deleted)?);
    } else {
        println!("{deleted}");
    }
    Ok(())
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?)
}

fn open_store(home: &MuppetHome, rt: &tokio::runtime::Runtime) -> anyhow::Result<Store> {
    home.ensure().with_context(|| format!("creating the data folder {}", home.root().display()))?;
    Ok(rt.block_on(Store::open(&home.db()))?)
}

/// Load a task by name: an imported task from the database (its fingerprint
/// checked), else a catalog task from the assets.
pub fn load(home: &MuppetHome, name: &str) -> anyhow::Result<LabeledTask> {
    let rt = runtime()?;
    let store = open_store(home, &rt)?;
    let found = rt.block_on(async {
        let Some(stored) = store.imported_task(name).await? else {
            return anyhow::Ok(None);
        };
        let lines = store.task_examples(name, None).await?;
        anyhow::Ok(Some((stored, lines)))
    })?;
    rt.block_on(store.close());
    match found {
        Some((stored, lines)) => Ok(from_lines(stored.spec, &lines, Some(&stored.fingerprint))?),
        None => Ok(catalog::load_task(home.assets(), name)?),
    }
}

fn list(home: &MuppetHome, json: bool, imported_only: bool) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    if !imported_only {
        for recipe in catalog::recipes().into_iter().filter(|r| r.is_present(home.assets())) {
            let task = catalog::load_task(home.assets(), recipe.name)?;
            rows.push(serde_json::json!({
                "name": recipe.name,
                "family": task.spec.family.as_str(),
                "examples": task.examples.len(),
                "labels": task.spec.labels,
                "metric": task.spec.metric.as_str(),
                "origin": "catalog",
                "downstream": recipe.downstream,
                "source": task.spec.source,
                "license": task.spec.license,
            }));
        }
    }
    let rt = runtime()?;
    let store = open_store(home, &rt)?;
    let imported = rt.block_on(store.imported_tasks())?;
    rt.block_on(store.close());
    for t in imported {
        rows.push(serde_json::json!({
            "name": t.spec.name,
            "family": t.spec.family.as_str(),
            "examples": t.examples,
            "labels": t.spec.labels,
            "metric": t.spec.metric.as_str(),
            "origin": "imported",
            "downstream": false,
            "source": t.spec.source,
            "license": t.spec.license,
            "fingerprint": t.fingerprint,
            "imported_at": t.imported_at,
        }));
    }
    if json {
        println!("{}", serde_json::Value::Array(rows));
        return Ok(());
    }
    if rows.is_empty() {
        println!("No tasks: run `muppet assets fetch --tasks` for the demo catalog, or `muppet tasks import`.");
        return Ok(());
    }
    println!("{:<28} {:<10} {:>8}  {:<9} labels", "name", "family", "examples", "origin");
    for r in rows {
        let labels: Vec<&str> = r["labels"].as_array().into_iter().flatten().filter_map(|l| l.as_str()).collect();
        let origin = if r["downstream"] == true { "downstream" } else { r["origin"].as_str().unwrap_or_default() };
        println!(
            "{:<28} {:<10} {:>8}  {:<9} {}",
            r["name"].as_str().unwrap_or_default(),
            r["family"].as_str().unwrap_or_default(),
            r["examples"].as_u64().unwrap_or_default(),
            origin,
            labels.join(", ")
        );
    }
    Ok(())
}

fn check_name(name: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        !name.is_empty() && name.len() <= 100 && name.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c)),
        "task name `{name}`: use 1 to 100 letters, digits, `_`, `-` or `.`"
    );
    anyhow::ensure!(
        catalog::recipe(name).is_none(),
        "`{name}` is a demo catalog task: import under another name (e.g. `my_{name}`)"
    );
    Ok(())
}

fn import(home: &MuppetHome, args: ImportArgs) -> anyhow::Result<()> {
    check_name(&args.name)?;
    let format: Format = match (&args.hub, &args.format) {
        (Some(_), _) => Format::Parquet,
        (None, Some(f)) => f.parse().map_err(anyhow::Error::msg)?,
        (None, None) => anyhow::bail!("give a file and its --format, or a hub dataset with --hub"),
    };
    anyhow::ensure!(args.hub.is_some() || (args.config.is_none() && args.split.is_none()), "--config and --split apply to a hub dataset (--hub)");
    let family: TaskFamily = args.family.parse()?;
    let encoding: Encoding = args.encoding.parse().map_err(anyhow::Error::msg)?;
    if let Some(labels) = &args.labels {
        anyhow::ensure!(family.is_classification(), "--labels applies to single and pair tasks, not {}", family.as_str());
        anyhow::ensure!(labels.iter().all(|l| !l.trim().is_empty()), "--labels has an empty label");
    }
    let mut opts = ImportOptions::new(&args.name, family, format);
    opts.fields = FieldMap {
        text: args.text,
        text_b: args.text_b,
        label: args.label,
        question: args.question,
        choices: args.choices,
        context: args.context,
        answer_start: args.answer_start,
        answer_text: args.answer_text,
        target: args.target,
    };
    opts.split = muppet_core::SplitPolicy { dev_size: args.dev_size, seed: args.split_seed, dev_task: args.dev_task };
    opts.labels = args.labels.map(|ls| ls.into_iter().map(|l| l.trim().to_string()).collect());
    opts.encoding = encoding;
    opts.header = !args.no_header;
    opts.dedup = !args.keep_duplicates;
    if args.skip_invalid {
        opts.on_invalid = OnInvalid::Skip;
    }

    if let Some(id) = args.hub {
        anyhow::ensure!(muppet_data::hub::is_hub_id(&id), "--hub `{id}`: a hub dataset id has the form `org/name` (e.g. `nyu-mll/glue`)");
        opts.license = args.license.unwrap_or_else(|| format!("see the dataset card of {id} on the Hugging Face hub"));
        let ds = HubDataset { id, config: args.config, splits: split_list(args.split.as_deref().unwrap_or("train"))? };
        return import_from_hub(home, &ds, &opts, args.replace, None);
    }
    let Some(path) = args.path else { anyhow::bail!("give the file to import (or --hub)") };
    let path = std::path::absolute(&path).unwrap_or(path);
    opts.source = path.display().to_string();
    opts.license = args.license.unwrap_or_else(|| "unknown (imported from a local file)".into());
    let imported = import_file(&path, &opts)?;
    let fp = store_task(home, &imported, &imported.description(&opts), args.replace)?;
    report_import(&imported, &fp, &format!("from {}", opts.source));
    Ok(())
}

fn split_list(splits: &str) -> anyhow::Result<Vec<String>> {
    let list: Vec<String> = splits.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
    anyhow::ensure!(!list.is_empty(), "--split is empty: name a split such as `train`");
    Ok(list)
}

/// Fetch a hub dataset's split, import it with `opts`, store it; `metric` overrides
/// the family's default metric.
fn import_from_hub(home: &MuppetHome, ds: &HubDataset, opts: &ImportOptions, replace: bool, metric: Option<muppet_core::Metric>) -> anyhow::Result<()> {
    let (mut imported, fetched) = import_hub(&HubAccess::from_env(), ds, opts, &mut terminal_bars())?;
    if let Some(m) = metric {
        imported.task.spec.metric = m;
    }
    let description = muppet_data::hub::hub_description(ds, &fetched, opts, &imported);
    let fp = store_task(home, &imported, &description, replace)?;
    report_import(&imported, &fp, &hub_origin(ds, &fetched));
    Ok(())
}

/// Store an imported task in one transaction; returns its fingerprint.
fn store_task(home: &MuppetHome, imported: &Imported, description: &serde_json::Value, replace: bool) -> anyhow::Result<String> {
    Ok(store_tasks(home, &[(imported, description)], replace)?.remove(0))
}

/// Store imported tasks in one transaction; returns their fingerprints.
fn store_tasks(home: &MuppetHome, tasks: &[(&Imported, &serde_json::Value)], replace: bool) -> anyhow::Result<Vec<String>> {
    let lines: Vec<Vec<String>> = tasks.iter().map(|(i, _)| example_lines(&i.task.examples)).collect();
    let fps: Vec<String> = tasks.iter().zip(&lines).map(|((i, _), l)| fingerprint(&i.task.spec, l)).collect();
    let data: Vec<NewTaskData> = tasks
        .iter()
        .zip(&lines)
        .zip(&fps)
        .map(|(((i, description), lines), fp)| NewTaskData { spec: &i.task.spec, fingerprint: fp, import: description, examples: lines })
        .collect();
    let rt = runtime()?;
    let store = open_store(home, &rt)?;
    let checked = tasks.iter().try_for_each(|(i, _)| check_dev_task(home, &rt, &store, &i.task.spec, tasks));
    let stored = checked.map(|()| rt.block_on(store.import_tasks(&data, replace)));
    rt.block_on(store.close());
    let stored = stored?;
    if let Err(muppet_store::StoreError::TaskExists(name)) = &stored {
        anyhow::bail!("a task named `{name}` is already imported: pick another --name, or pass --replace to replace it");
    }
    stored?;
    Ok(fps)
}

/// A task that names a dev task (`--dev-task`, `--dev-split`) can be scored on it: the dev
/// task is imported with it, imported already, or in the demo catalog, of the same family
/// and labels.
fn check_dev_task(home: &MuppetHome, rt: &tokio::runtime::Runtime, store: &Store, spec: &muppet_core::TaskSpec, batch: &[(&Imported, &serde_json::Value)]) -> anyhow::Result<()> {
    let Some(name) = &spec.split.dev_task else { return Ok(()) };
    let dev = match batch.iter().find(|(i, _)| &i.task.spec.name == name) {
        Some((i, _)) => i.task.spec.clone(),
        None => match rt.block_on(store.imported_task(name))? {
            Some(stored) => stored.spec,
            None if catalog::recipe(name).is_some_and(|r| r.is_present(home.assets())) => catalog::load_task(home.assets(), name)?.spec,
            None => anyhow::bail!(
                "--dev-task `{name}`: no task of that name; import the split to score `{}` on first (`muppet tasks add DATASET --split validation`, or `muppet tasks import`), or use `muppet tasks add DATASET --dev-split validation`",
                spec.name
            ),
        },
    };
    spec.check_scored_on(&dev).map_err(anyhow::Error::msg)
}

fn report_import(imported: &Imported, fp: &str, origin: &str) {
    let task = &imported.task;
    let skipped = if imported.skipped > 0 {
        format!("; {} invalid records left out (first: {})", imported.skipped, imported.skip_reasons.first().map_or("", String::as_str))
    } else {
        String::new()
    };
    println!(
        "imported `{}`: {} examples ({} task{}) {origin}: {} records; {} exact duplicates dropped{skipped}; fingerprint {}",
        task.spec.name,
        task.examples.len(),
        task.spec.family.as_str(),
        if task.spec.labels.is_empty() { String::new() } else { format!(", labels {}", task.spec.labels.join(", ")) },
        imported.records,
        imported.duplicates,
        &fp[..16]
    );
}

/// Download bars on a terminal, nothing otherwise.
fn terminal_bars() -> Shown<'static> {
    if std::io::stderr().is_terminal() { Shown::Bars } else { Shown::Quiet }
}

fn add(home: &MuppetHome, args: AddArgs) -> anyhow::Result<()> {
    let name = args.name.unwrap_or_else(|| muppet_catalog::task_name(&args.dataset, args.split.as_deref()));
    check_name(&name)?;
    // The dataset's validation split scores the task, unless told otherwise or another
    // split than the training split is added.
    let default_dev = || {
        let entry = muppet_catalog::dataset(&args.dataset)?;
        entry.dev_split().filter(|_| args.split.as_deref().is_none_or(|s| s == entry.train_split))
    };
    let dev_split = if args.no_dev_split { None } else { args.dev_split.as_deref().or_else(default_dev) };
    if let Some(split) = dev_split {
        check_name(&muppet_catalog::task_name(&name, Some(split)))?;
    }
    let access = HubAccess::from_env();
    let (added, dev) = muppet_catalog::add_scored(&access, &args.dataset, args.split.as_deref(), &name, dev_split, args.skip_invalid, &mut terminal_bars())?;
    let Some(dev) = dev else {
        let fp = store_task(home, &added.imported, &added.description, args.replace)?;
        report_import(&added.imported, &fp, &hub_origin(&added.hub, &added.fetched));
        return Ok(());
    };
    let fps = store_tasks(home, &[(&dev.imported, &dev.description), (&added.imported, &added.description)], args.replace)?;
    report_import(&dev.imported, &fps[0], &hub_origin(&dev.hub, &dev.fetched));
    report_import(&added.imported, &fps[1], &hub_origin(&added.hub, &added.fetched));
    println!("`{name}` is scored on `{}` (its dev task) in every run; --no-dev-split imports the training split alone", dev.imported.task.spec.name);
    Ok(())
}

fn list_muppet_catalog(home: &MuppetHome, json: bool) -> anyhow::Result<()> {
    let rt = runtime()?;
    let store = open_store(home, &rt)?;
    let imported = rt.block_on(store.imported_tasks());
    rt.block_on(store.close());
    let imported: Vec<String> = imported?.into_iter().map(|t| t.spec.name).collect();
    let mut rows = Vec::new();
    for d in muppet_catalog::datasets() {
        // Imported under its name, or under `<name>_<split>` by `tasks add --split`.
        let imported_as: Vec<&String> = imported.iter().filter(|n| *n == d.name || n.strip_prefix(d.name).is_some_and(|r| r.starts_with('_') && d.splits.iter().any(|s| r.contains(s)))).collect();
        rows.push(serde_json::json!({
            "name": d.name,
            "title": d.title,
            "family": d.family.as_str(),
            "labels": d.labels,
            "metric": d.metric.as_str(),
            "hub": d.hub,
            "config": d.config,
            "splits": d.splits,
            "train_split": d.train_split,
            "columns": d.columns,
            "fields": d.fields,
            "transforms": d.transforms,
            "license": d.license,
            "note": d.note,
            "pickable": d.unpickable.is_none(),
            "unpickable": d.unpickable,
            "imported": !imported_as.is_empty(),
            "imported_as": imported_as,
        }));
    }
    if json {
        println!("{}", serde_json::Value::Array(rows));
        return Ok(());
    }
    println!("{:<16} {:<10} {:<11} {:<46} {:<8} labels / license", "name", "family", "metric", "hub (config)", "imported");
    for r in &rows {
        let s = |k: &str| r[k].as_str().unwrap_or_default().to_string();
        let hub = match r["config"].as_str() {
            Some(c) => format!("{} ({c})", s("hub")),
            None => s("hub"),
        };
        let labels: Vec<&str> = r["labels"].as_array().into_iter().flatten().filter_map(|l| l.as_str()).collect();
        let imported = if r["imported"] == true { "yes" } else if r["pickable"] == true { "" } else { "n/a" };
        let detail = if labels.is_empty() { s("license") } else { format!("{} / {}", labels.join(", "), s("license")) };
        println!("{:<16} {:<10} {:<11} {:<46} {:<8} {detail}", s("name"), s("family"), s("metric"), hub, imported);
        if let Some(why) = r["unpickable"].as_str() {
            println!("{:<16} not importable here: {why}", "");
        }
    }
    println!("Import one with `muppet tasks add NAME [--split S]` (online, or offline from the Hugging Face cache).");
    Ok(())
}

/// Names of every task that can be loaded: the demo tasks whose assets are present, then
/// the imported ones.
pub fn available(home: &MuppetHome) -> anyhow::Result<Vec<String>> {
    let mut names: Vec<String> = catalog::recipes().into_iter().filter(|r| r.is_present(home.assets())).map(|r| r.name.to_string()).collect();
    let rt = runtime()?;
    let store = open_store(home, &rt)?;
    let imported = rt.block_on(store.imported_tasks());
    rt.block_on(store.close());
    names.extend(imported?.into_iter().map(|t| t.spec.name));
    Ok(names)
}

/// Every other available task that shares inputs with `task`.
pub fn overlaps_with_others(home: &MuppetHome, task: &LabeledTask) -> anyhow::Result<Vec<muppet_data::overlap::Overlap>> {
    let others: Vec<LabeledTask> = available(home)?.iter().filter(|n| **n != task.spec.name).map(|n| load(home, n)).collect::<anyhow::Result<_>>()?;
    Ok(muppet_data::overlap::overlaps(task, &others))
}

/// The token lengths of `task` by `model`'s tokenizer (or the assets' model's, when it is
/// fetched: `None` when it is not), weighed against `max_lens` (or the common ones).
fn token_lengths(home: &MuppetHome, task: &LabeledTask, max_lens: &[usize], model: Option<PathBuf>) -> anyhow::Result<Option<(PathBuf, TokenLengths)>> {
    let dir = match model {
        Some(given) => crate::train_cmd::model_dir(home, Some(given))?,
        None => match muppet_data::assets::model_dir(home.assets()) {
            dir if dir.join("tokenizer.json").is_file() => dir,
            _ => return Ok(None),
        },
    };
    let limits = if max_lens.is_empty() { COMMON_MAX_LENS.to_vec() } else { max_lens.to_vec() };
    // No truncation is applied when measuring; the encoder's own length is never reached.
    let encoder = muppet_data::tokenize::TextEncoder::from_file(&dir.join("tokenizer.json"), usize::MAX / 2)?;
    Ok(TokenLengths::measure(&encoder, task, &limits)?.map(|t| (dir, t)))
}

fn show(home: &MuppetHome, name: &str, max_lens: &[usize], model: Option<PathBuf>, json: bool) -> anyhow::Result<()> {
    let task = load(home, name)?;
    let stats = TaskStats::of(&task);
    let overlaps = overlaps_with_others(home, &task)?;
    let tokens = token_lengths(home, &task, max_lens, model)?;
    if json {
        println!(
            "{}",
            serde_json::json!({
                "name": task.spec.name, "family": task.spec.family.as_str(), "metric": task.spec.metric.as_str(),
                "source": task.spec.source, "license": task.spec.license, "fields": task.spec.fields, "split": task.spec.split,
                "trains": task.spec.family.trains(), "stats": stats, "overlaps": overlaps,
                "tokens": tokens.as_ref().map(|(_, t)| t), "tokenizer": tokens.as_ref().map(|(dir, _)| dir.join("tokenizer.json")),
            })
        );
        return Ok(());
    }
    println!("{} ({} task, metric {})", task.spec.name, task.spec.family.as_str(), task.spec.metric.as_str());
    println!("source:   {}", task.spec.source);
    println!("license:  {}", task.spec.license);
    let fields = task.spec.fields.pairs();
    if !fields.is_empty() {
        println!("fields:   {}", fields.iter().map(|(role, f)| format!("{role} <- {f}")).collect::<Vec<_>>().join(", "));
    }
    if let Some(dev_task) = &task.spec.split.dev_task {
        println!("dev:      scored on task `{dev_task}` (its dev task); every example of this task trains");
    }
    if task.spec.split.dev_size.is_some() || task.spec.split.seed.is_some() {
        let (dev, seed) = (task.spec.split.dev_size, task.spec.split.seed);
        println!(
            "split:    {} dev examples, seed {} (the task's own; unset parts are the run's)",
            dev.map_or("the run's".into(), |d| d.to_string()),
            seed.map_or("the run's".into(), |s| s.to_string())
        );
    }
    if let Some(why) = task.spec.family.why_not_trained() {
        println!("training: refused ({why})");
    }
    println!("examples: {}", stats.examples);
    let pct = |n: usize| 100.0 * n as f64 / stats.examples.max(1) as f64;
    if !stats.labels.is_empty() {
        println!("labels:");
        for (label, n) in &stats.labels {
            println!("  {label:<24} {n:>8} {:>6.1}%", pct(*n));
        }
    }
    for (title, hist) in [("choices per example", &stats.choices), ("answers per question", &stats.answers)] {
        if !hist.is_empty() {
            println!("{title}:");
            for (k, n) in hist {
                println!("  {k:<24} {n:>8} {:>6.1}%", pct(*n));
            }
        }
    }
    println!("length in characters: {:>8} {:>6} {:>6} {:>6} {:>6} {:>7}", "count", "min", "p50", "p90", "p99", "max");
    for l in &stats.lengths {
        println!("  {:<19} {:>8} {:>6} {:>6} {:>6} {:>6} {:>7}", l.field, l.count, l.min, l.p50, l.p90, l.p99, l.max);
    }
    match &tokens {
        Some((dir, t)) => {
            let sample = match t.measured < t.examples {
                true => format!("; a seeded sample of {} of the {} examples", t.measured, t.examples),
                false => String::new(),
            };
            let name = dir.file_name().map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into_owned());
            println!("length in tokens ({name}'s tokenizer, special tokens included, the longest sequence of each example{sample}):");
            let l = &t.lengths;
            println!("  {:<19} {:>8} {:>6} {:>6} {:>6} {:>6} {:>7}", "", "count", "min", "p50", "p90", "p99", "max");
            println!("  {:<19} {:>8} {:>6} {:>6} {:>6} {:>6} {:>7}", "tokens", l.count, l.min, l.p50, l.p90, l.p99, l.max);
            let over: Vec<String> = t.over.iter().map(|(m, share)| format!("{m}: {:.1}%", 100.0 * share)).collect();
            let what = match task.spec.family {
                TaskFamily::Span => "read in several windows at that --max-len",
                _ => "cut at that --max-len",
            };
            println!("  longer than {} ({what})", over.join(", "));
        }
        None => println!("length in tokens: the model is not fetched (muppet assets fetch --model), or give --model DIR"),
    }
    if overlaps.is_empty() {
        println!("overlaps: no other task shares an input (normalised text) with it");
    } else {
        println!("overlaps (inputs also in another task; keep them apart when one is downstream):");
        for o in &overlaps {
            println!("  {:<24} {:>8} {:>6.1}%", o.other, o.shared, o.percent());
        }
    }
    Ok(())
}

/// A text cut to `max` characters for display.
pub fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max { s.to_string() } else { format!("{}…", s.chars().take(max).collect::<String>()) }
}

fn preview(home: &MuppetHome, name: &str, n: usize, json: bool) -> anyhow::Result<()> {
    let task = load(home, name)?;
    let shown = &task.examples[..n.min(task.examples.len())];
    if json {
        let rows: Vec<_> = shown.iter().map(|e| serde_json::to_value(e).unwrap_or_default()).collect();
        println!("{}", serde_json::json!({ "name": task.spec.name, "labels": task.spec.labels, "examples": rows }));
        return Ok(());
    }
    println!("{} ({} task): first {} of {} examples", task.spec.name, task.spec.family.as_str(), shown.len(), task.examples.len());
    for (i, e) in shown.iter().enumerate() {
        println!("[{i}]");
        let (a, b) = match task.spec.family {
            TaskFamily::Span => ("question", "context"),
            TaskFamily::Generation => ("source", "text_b"),
            TaskFamily::MultipleChoice => ("text", "text_b"),
            _ => ("text", "text_b"),
        };
        println!("  {a}: {}", cut(&e.text_a, 300));
        if let Some(tb) = &e.text_b {
            println!("  {b}: {}", cut(tb, 300));
        }
        for (k, c) in e.choices.iter().enumerate() {
            let mark = if e.target == Target::Choice(k) { "*" } else { " " };
            println!("  {mark} choice {k}: {}", cut(c, 120));
        }
        match &e.target {
            Target::Class(l) => println!("  label: {}", task.spec.labels.get(*l).map_or("?", String::as_str)),
            Target::Value(v) => println!("  value: {v}"),
            Target::Choice(k) => println!("  answer: choice {k}"),
            Target::Span(answers) => {
                for a in answers {
                    println!("  answer: {:?} at character {}", a.text, a.start);
                }
            }
            Target::Text(t) => println!("  target: {}", cut(t, 300)),
        }
    }
    Ok(())
}

