//! The tasks the UI offers: the demo catalog (tasks made from the fetched assets) and the
//! tasks imported into the store. Loading the catalog runs the importers over every asset
//! file (seconds), so it is done once, off the async threads, and kept: only each task's
//! description, fingerprint and first examples stay in memory.
//!
//! Every task's data is in memory once at that load, so the overlap check between all
//! tasks (inputs two tasks share, `muppet_data::overlap`) runs then and is stored, and
//! each catalog task's hashed inputs are kept: an import from the app checks again from
//! them and the imported tasks, without reading the assets again. A task's overlaps are
//! shown only while the stored check covers its current data (same fingerprint).

use muppet_core::TaskSpec;
use muppet_data::fingerprint::from_lines;
use muppet_data::overlap::{self, TaskInputs};
use muppet_data::{Example, catalog};
use muppet_store::{NewTaskData, OverlapCheck, Store, StoredOverlap};
use serde::Serialize;
use tokio::sync::{Mutex, OnceCell};

use crate::error::CommandError;
use crate::task_import::PreparedImport;

/// Examples kept per catalog task for the preview.
pub const PREVIEW_EXAMPLES: usize = 8;

/// A task as the Tasks page and the mixture builder list it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskEntry {
    #[serde(flatten)]
    pub spec: TaskSpec,
    pub examples: usize,
    /// `catalog` or `imported`.
    pub origin: &'static str,
    /// A downstream task of the catalog: kept out of pre-finetuning mixtures.
    pub downstream: bool,
    /// The tasks sharing inputs with this one, most shared first, from the last overlap
    /// check; `None` when that check did not cover this task's current data.
    pub overlaps: Option<Vec<StoredOverlap>>,
    /// Why the task cannot be trained (its family's reason), so that every picker shows
    /// the engine's own words; `None` when it can.
    pub not_trained: Option<&'static str>,
}

/// The first examples of a task.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskPreview {
    pub name: String,
    pub labels: Vec<String>,
    pub examples: Vec<Example>,
}

struct CatalogTask {
    entry: TaskEntry,
    fingerprint: String,
    first: Vec<Example>,
}

/// The loaded catalog (its tasks, and their inputs for the overlap check); imported tasks
/// are read from the store on each call (cheap).
#[derive(Default)]
pub struct TaskCatalog {
    loaded: OnceCell<(Vec<CatalogTask>, Vec<TaskInputs>)>,
    /// Held while an import or an overlap check runs, so that the stored check is always
    /// the one made after the latest import.
    checking: Mutex<()>,
}

impl TaskCatalog {
    async fn catalog(
        &self,
        assets: &std::path::Path,
        store: &Store,
    ) -> Result<&[CatalogTask], CommandError> {
        let assets = assets.to_path_buf();
        let tasks = self
            .loaded
            .get_or_try_init(|| async move {
                let loaded =
                    blocking("loading the task catalog", move || load_catalog(&assets)).await?;
                let (kept, inputs): (Vec<CatalogTask>, Vec<TaskInputs>) = loaded.into_iter().unzip();
                // The app works without the check; its absence shows as "not checked".
                let _checking = self.checking.lock().await;
                if let Err(error) = check_and_store(&inputs, store).await {
                    eprintln!("muppet-studio: the overlap check between tasks failed: {error}");
                }
                Ok::<_, CommandError>((kept, inputs))
            })
            .await?;
        Ok(&tasks.0)
    }

    /// Every task: the catalog's whose assets are present, then the imported ones, each
    /// with its overlaps from the stored check.
    pub async fn list(
        &self,
        assets: &std::path::Path,
        store: &Store,
    ) -> Result<Vec<TaskEntry>, CommandError> {
        let catalog = self.catalog(assets, store).await?;
        let check = store.overlap_check().await?;
        let mut out: Vec<TaskEntry> = catalog
            .iter()
            .map(|t| TaskEntry {
                overlaps: overlaps_of(&check, &t.entry.spec.name, &t.fingerprint),
                ..t.entry.clone()
            })
            .collect();
        for stored in store.imported_tasks().await? {
            out.push(TaskEntry {
                examples: usize::try_from(stored.examples).unwrap_or_default(),
                overlaps: overlaps_of(&check, &stored.spec.name, &stored.fingerprint),
                not_trained: stored.spec.family.why_not_trained(),
                spec: stored.spec,
                origin: "imported",
                downstream: false,
            });
        }
        Ok(out)
    }

    /// Store imported tasks (all or nothing: a dataset's training split with the validation
    /// split it is scored on), then check every task for overlaps again. A task naming the
    /// task it is scored on (its split policy's `dev_task`) is checked against it first.
    pub async fn import(
        &self,
        assets: &std::path::Path,
        store: &Store,
        prepared: Vec<PreparedImport>,
        replace: bool,
    ) -> Result<(), CommandError> {
        let catalog = self.catalog(assets, store).await?;
        for p in &prepared {
            let spec = &p.imported.task.spec;
            let Some(name) = &spec.split.dev_task else { continue };
            let dev = match prepared.iter().find(|d| &d.imported.task.spec.name == name) {
                Some(d) => d.imported.task.spec.clone(),
                None => match store.imported_task(name).await? {
                    Some(stored) => stored.spec,
                    None => catalog.iter().find(|t| &t.entry.spec.name == name).map(|t| t.entry.spec.clone()).ok_or_else(|| {
                        CommandError::Invalid(format!(
                            "\"Scored on task\" names `{name}`, and there is no task of that name: import the split to score `{}` on first, or leave the field empty",
                            spec.name
                        ))
                    })?,
                },
            };
            spec.check_scored_on(&dev).map_err(CommandError::Invalid)?;
        }
        let catalog_inputs = &self.loaded.get().expect("loaded above").1;
        let _checking = self.checking.lock().await;
        let data: Vec<NewTaskData> = prepared
            .iter()
            .map(|p| NewTaskData {
                spec: &p.imported.task.spec,
                fingerprint: &p.fingerprint,
                import: &p.description,
                examples: &p.lines,
            })
            .collect();
        match store.import_tasks(&data, replace).await {
            Err(muppet_store::StoreError::TaskExists(name)) => {
                return Err(CommandError::Invalid(format!(
                    "a task named `{name}` is already imported: pick another name, or tick \"Replace\" to replace it"
                )));
            }
            stored => stored?,
        }
        drop(data);
        drop(prepared);
        check_and_store(catalog_inputs, store).await
    }

    /// Delete imported tasks (all or none; see [`Store::delete_imported_tasks`]). The stored
    /// overlap check loses their rows and stays the check of the tasks left.
    pub async fn delete(&self, store: &Store, names: &[String]) -> Result<muppet_store::DeletedTasks, CommandError> {
        let _checking = self.checking.lock().await;
        Ok(store.delete_imported_tasks(names).await?)
    }

    /// The first `count` examples of a task.
    pub async fn preview(
        &self,
        assets: &std::path::Path,
        store: &Store,
        name: &str,
        count: usize,
    ) -> Result<TaskPreview, CommandError> {
        if let Some(stored) = store.imported_task(name).await? {
            let limit = i64::try_from(count).unwrap_or(i64::MAX);
            let lines = store.task_examples(name, Some(limit)).await?;
            let examples = lines
                .iter()
                .filter_map(|line| serde_json::from_str(line).ok())
                .collect();
            return Ok(TaskPreview {
                name: name.to_string(),
                labels: stored.spec.labels,
                examples,
            });
        }
        let task = self
            .catalog(assets, store)
            .await?
            .iter()
            .find(|t| t.entry.spec.name == name)
            .ok_or_else(|| CommandError::Invalid(format!("there is no task named `{name}`")))?;
        Ok(TaskPreview {
            name: name.to_string(),
            labels: task.entry.spec.labels.clone(),
            examples: task.first.iter().take(count).cloned().collect(),
        })
    }
}

/// Run `work` on the blocking threads.
async fn blocking<T: Send + 'static>(
    what: &'static str,
    work: impl FnOnce() -> Result<T, CommandError> + Send + 'static,
) -> Result<T, CommandError> {
    tauri::async_runtime::spawn_blocking(work)
        .await
        .map_err(|e| CommandError::Worker(format!("{what}: {e}")))?
}

/// Check the catalog tasks (`catalog`, hashed at load) and the imported tasks (read from
/// the store) for shared inputs, and store the result. The caller holds `checking`.
async fn check_and_store(catalog: &[TaskInputs], store: &Store) -> Result<(), CommandError> {
    let mut stored = Vec::new();
    for task in store.imported_tasks().await? {
        let lines = store.task_examples(&task.spec.name, None).await?;
        stored.push((task, lines));
    }
    let imported = blocking("hashing the imported tasks' inputs", move || {
        // A stored task whose data no longer matches its fingerprint is left out: it
        // shows as not checked, and its preview names the problem.
        Ok(stored
            .into_iter()
            .filter_map(|(task, lines)| from_lines(task.spec, &lines, Some(&task.fingerprint)).ok())
            .map(|task| TaskInputs::of(&task))
            .collect::<Vec<_>>())
    })
    .await?;
    let all: Vec<&TaskInputs> = catalog.iter().chain(&imported).collect();
    let (checked, pairs) = overlap::for_store(&overlap::check_inputs(&all));
    store.replace_overlap_check(&checked, &pairs).await?;
    Ok(())
}

/// Every catalog task whose assets are present: what is kept, and its inputs for the
/// overlap check (its data is dropped).
fn load_catalog(assets: &std::path::Path) -> Result<Vec<(CatalogTask, TaskInputs)>, CommandError> {
    let mut out = Vec::new();
    for recipe in catalog::recipes()
        .into_iter()
        .filter(|r| r.is_present(assets))
    {
        let task = catalog::load_task(assets, recipe.name)?;
        let inputs = TaskInputs::of(&task);
        let kept = CatalogTask {
            entry: TaskEntry {
                examples: task.examples.len(),
                spec: task.spec.clone(),
                origin: "catalog",
                downstream: recipe.downstream,
                overlaps: None,
                not_trained: task.spec.family.why_not_trained(),
            },
            fingerprint: inputs.fingerprint.clone(),
            first: task
                .examples
                .iter()
                .take(PREVIEW_EXAMPLES)
                .cloned()
                .collect(),
        };
        out.push((kept, inputs));
    }
    Ok(out)
}

/// The overlaps of `task` when the stored check covered its data as it is now.
fn overlaps_of(check: &OverlapCheck, task: &str, fingerprint: &str) -> Option<Vec<StoredOverlap>> {
    let current = check
        .tasks
        .iter()
        .any(|t| t.task == task && t.fingerprint == fingerprint);
    if !current {
        return None;
    }
    check
        .of(task)
        .map(|found| found.into_iter().cloned().collect())
}

#[cfg(test)]
mod tests {
    use muppet_data::fingerprint::{example_lines, fingerprint};

    use muppet_data::LabeledTask;
    use muppet_data::fingerprint::task_fingerprint;

    use super::*;
    use crate::task_import::{self, tests::assets, tests::vader_movies_request};

    fn overlap<'a>(entry: &'a TaskEntry, other: &str) -> Option<&'a StoredOverlap> {
        entry.overlaps.as_ref()?.iter().find(|o| o.other == other)
    }

    fn entry<'a>(all: &'a [TaskEntry], name: &str) -> &'a TaskEntry {
        all.iter()
            .find(|t| t.spec.name == name)
            .unwrap_or_else(|| panic!("{name} is listed"))
    }

    /// The form's "Scored on task": a task that exists with the same family is stored with
    /// it; no such task, another family or the task itself is refused, and nothing stored.
    #[test]
    fn a_task_scored_on_another_is_checked_against_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let assets = assets();
        tauri::async_runtime::block_on(async {
            let store = Store::open(&dir.path().join("muppet.db")).await.expect("store");
            let catalog = TaskCatalog::default();
            let import = |dev_task: &str| {
                let mut request = vader_movies_request("my_vader");
                request.split.dev_task = Some(dev_task.into());
                let (path, options) = request.options().expect("request");
                task_import::read(&path, &options).expect("read")
            };
            for (dev_task, want) in [
                ("nope", "names `nope`, and there is no task of that name"),
                ("rt_fresh_rotten", "task `my_vader` (regression) is scored on task `rt_fresh_rotten`, a single task"),
                ("my_vader", "is scored on itself"),
            ] {
                let error = catalog.import(&assets, &store, vec![import(dev_task)], false).await.expect_err(dev_task);
                assert!(error.message().contains(want), "{dev_task}: {error}");
            }
            assert!(store.imported_tasks().await.expect("imported").is_empty(), "nothing stored");
            catalog.import(&assets, &store, vec![import("vader_movies")], false).await.expect("scored on the catalog's vader_movies");
            let stored = store.imported_task("my_vader").await.expect("read").expect("stored");
            assert_eq!(stored.spec.split.dev_task.as_deref(), Some("vader_movies"));
            store.close().await;
        });
    }

    /// The catalog as the app loads it (real assets, a real store), an import from the
    /// form, and the overlap check before and after.
    #[test]
    fn imports_are_stored_and_every_task_is_checked_for_overlaps() {
        let dir = tempfile::tempdir().expect("tempdir");
        let assets = assets();
        tauri::async_runtime::block_on(async {
            let store = Store::open(&dir.path().join("muppet.db"))
                .await
                .expect("store");
            let catalog = TaskCatalog::default();

            let before = catalog.list(&assets, &store).await.expect("list");
            let vader = entry(&before, "vader_movies");
            let rt =
                overlap(vader, "rt_fresh_rotten").expect("vader_movies overlaps rt_fresh_rotten");
            assert!(
                (95.0..99.0).contains(&rt.percent),
                "DATA.md: about 97%, got {}",
                rt.percent
            );
            assert_eq!(
                rt.inputs,
                store
                    .overlap_check()
                    .await
                    .expect("check")
                    .tasks
                    .iter()
                    .find(|t| t.task == "vader_movies")
                    .expect("checked")
                    .inputs
            );
            let back = overlap(entry(&before, "rt_fresh_rotten"), "vader_movies")
                .expect("seen from both sides");
            assert_eq!(back.shared, rt.shared);
            assert!(
                back.percent < rt.percent,
                "rt_fresh_rotten is the larger task"
            );
            assert!(
                entry(&before, "squad_dev").overlaps.is_some(),
                "every catalog task is checked"
            );

            let request = vader_movies_request("my_vader_movies");
            let (path, options) = request.options().expect("request");
            let prepared = task_import::read(&path, &options).expect("read");
            catalog
                .import(&assets, &store, vec![prepared], false)
                .await
                .expect("import");

            let after = catalog.list(&assets, &store).await.expect("list");
            assert_eq!(after.len(), before.len() + 1);
            let mine = entry(&after, "my_vader_movies");
            assert_eq!(mine.origin, "imported");
            assert_eq!(mine.examples, vader.examples);
            assert_eq!(mine.spec.license, "MIT (vaderSentiment)");
            let same = overlap(mine, "vader_movies").expect("the same file as vader_movies");
            assert_eq!(same.shared, same.inputs);
            assert!((same.percent - 100.0).abs() < 1e-9);
            let rt_mine = overlap(mine, "rt_fresh_rotten").expect("and rt_fresh_rotten");
            assert_eq!(rt_mine.shared, rt.shared);
            assert!(overlap(entry(&after, "vader_movies"), "my_vader_movies").is_some());

            let again = task_import::read(&path, &options).expect("read");
            let error = catalog
                .import(&assets, &store, vec![again], false)
                .await
                .expect_err("exists");
            assert!(error.message().contains("already imported"), "{error}");

            // Replaced behind the app's back (as `muppet tasks import --replace` would):
            // the stored check no longer covers its data, so no overlaps are shown.
            let spec = mine.spec.clone();
            let lines = example_lines(
                &task_import::read(&path, &options)
                    .expect("read")
                    .imported
                    .task
                    .examples[..10],
            );
            let data = NewTaskData {
                spec: &spec,
                fingerprint: &fingerprint(&spec, &lines),
                import: &serde_json::json!({}),
                examples: &lines,
            };
            store.import_task(data, true).await.expect("replace");
            let stale = catalog.list(&assets, &store).await.expect("list");
            assert_eq!(entry(&stale, "my_vader_movies").overlaps, None);
            assert!(entry(&stale, "vader_movies").overlaps.is_some());
            store.close().await;
        });
    }

    #[test]
    fn the_stored_check_has_both_sides_of_each_pair() {
        let assets = assets();
        let tasks: Vec<LabeledTask> = ["vader_movies", "rt_fresh_rotten", "vader_tweets"]
            .iter()
            .map(|n| catalog::load_task(&assets, n).expect("task"))
            .collect();
        let (checked, pairs) = overlap::for_store(&overlap::check_all(&tasks));
        assert_eq!(checked.len(), 3);
        assert_eq!(checked[0].fingerprint, task_fingerprint(&tasks[0]));
        let shared =
            |a: &str, b: &str| pairs.iter().find(|(t, o, _)| t == a && o == b).map(|p| p.2);
        let vr = shared("vader_movies", "rt_fresh_rotten").expect("pair");
        assert_eq!(shared("rt_fresh_rotten", "vader_movies"), Some(vr));
        let percent = 100.0 * vr as f64 / checked[0].inputs as f64;
        assert!((95.0..99.0).contains(&percent), "{percent}");
        assert!(pairs.iter().all(|p| p.2 > 0 && p.0 != p.1));
    }
}
