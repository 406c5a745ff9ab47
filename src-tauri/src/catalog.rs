//! The tasks the UI offers: the demo catalog (tasks made from the fetched assets) and the
//! tasks imported into the store. Loading the catalog runs the importers over every asset
//! file (seconds), so it is done once, off the async threads, and kept: only each task's
//! description and its first examples stay in memory.

use muppet_core::TaskSpec;
use muppet_data::{Example, catalog};
use muppet_store::Store;
use serde::Serialize;
use tokio::sync::OnceCell;

use crate::error::CommandError;

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
    first: Vec<Example>,
}

/// The loaded catalog; imported tasks are read from the store on each call (cheap).
#[derive(Default)]
pub struct TaskCatalog {
    loaded: OnceCell<Vec<CatalogTask>>,
}

impl TaskCatalog {
    async fn catalog(&self, assets: &std::path::Path) -> Result<&[CatalogTask], CommandError> {
        let assets = assets.to_path_buf();
        let tasks = self
            .loaded
            .get_or_try_init(|| async move {
                tauri::async_runtime::spawn_blocking(move || load_catalog(&assets))
                    .await
                    .map_err(|e| CommandError::Worker(format!("loading the task catalog: {e}")))?
            })
            .await?;
        Ok(tasks)
    }

    /// Every task: the catalog's whose assets are present, then the imported ones.
    pub async fn list(
        &self,
        assets: &std::path::Path,
        store: &Store,
    ) -> Result<Vec<TaskEntry>, CommandError> {
        let mut out: Vec<TaskEntry> = self
            .catalog(assets)
            .await?
            .iter()
            .map(|t| t.entry.clone())
            .collect();
        for stored in store.imported_tasks().await? {
            out.push(TaskEntry {
                examples: usize::try_from(stored.examples).unwrap_or_default(),
                spec: stored.spec,
                origin: "imported",
                downstream: false,
            });
        }
        Ok(out)
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
            .catalog(assets)
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

fn load_catalog(assets: &std::path::Path) -> Result<Vec<CatalogTask>, CommandError> {
    let mut out = Vec::new();
    for recipe in catalog::recipes()
        .into_iter()
        .filter(|r| r.is_present(assets))
    {
        let task = catalog::load_task(assets, recipe.name)?;
        out.push(CatalogTask {
            entry: TaskEntry {
                examples: task.examples.len(),
                spec: task.spec,
                origin: "catalog",
                downstream: recipe.downstream,
            },
            first: task.examples.into_iter().take(PREVIEW_EXAMPLES).collect(),
        });
    }
    Ok(out)
}
