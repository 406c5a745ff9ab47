//! The Muppet paper's public datasets (`muppet_data::muppet_catalog`) as the Tasks page
//! lists them, read-only: importing one reads the Hugging Face hub (or its local cache),
//! which the CLI does, so each entry carries the `muppet tasks add` command to run.

use muppet_data::muppet_catalog::{self, PaperDataset};
use serde::Serialize;

/// One dataset of the paper's mixture.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PaperEntry {
    pub name: &'static str,
    pub title: &'static str,
    pub family: &'static str,
    pub labels: Vec<String>,
    pub metric: &'static str,
    pub hub: &'static str,
    pub config: Option<&'static str>,
    pub license: &'static str,
    pub note: &'static str,
    /// Why it cannot be imported as a task here, if it cannot.
    pub unpickable: Option<&'static str>,
    /// The imported tasks made from it (its name, or `<name>_<split>`).
    pub imported_as: Vec<String>,
    /// The command that imports it; `None` when it cannot be imported.
    pub command: Option<String>,
}

/// Every dataset of the catalog, with the imported tasks among `imported` made from it.
pub fn entries(imported: &[String]) -> Vec<PaperEntry> {
    muppet_catalog::datasets()
        .into_iter()
        .map(|d| entry(&d, imported))
        .collect()
}

fn entry(d: &PaperDataset, imported: &[String]) -> PaperEntry {
    // `muppet tasks add NAME --split S` names the task `NAME_S`.
    let made_from = |task: &str| {
        task == d.name
            || task.strip_prefix(d.name).is_some_and(|rest| {
                rest.starts_with('_') && d.splits.iter().any(|s| rest.contains(s))
            })
    };
    PaperEntry {
        name: d.name,
        title: d.title,
        family: d.family.as_str(),
        labels: d.labels.clone(),
        metric: d.metric.as_str(),
        hub: d.hub,
        config: d.config,
        license: d.license,
        note: d.note,
        unpickable: d.unpickable,
        imported_as: imported.iter().filter(|t| made_from(t)).cloned().collect(),
        command: d
            .unpickable
            .is_none()
            .then(|| format!("muppet tasks add {}", d.name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_the_paper_datasets_with_what_is_imported() {
        let imported = vec![
            "sst2".to_string(),
            "mnli_validation_matched".to_string(),
            "sst2x".to_string(),
        ];
        let all = entries(&imported);
        assert_eq!(all.len(), muppet_catalog::datasets().len());
        let sst2 = all
            .iter()
            .find(|e| e.name == "sst2")
            .expect("sst2 is listed");
        assert_eq!(sst2.imported_as, vec!["sst2".to_string()]);
        assert_eq!(sst2.hub, "nyu-mll/glue");
        assert_eq!(sst2.labels, vec!["negative", "positive"]);
        assert_eq!(sst2.command.as_deref(), Some("muppet tasks add sst2"));
        let mnli = all
            .iter()
            .find(|e| e.name == "mnli")
            .expect("mnli is listed");
        assert_eq!(
            mnli.imported_as,
            vec!["mnli_validation_matched".to_string()]
        );
        let cola = all
            .iter()
            .find(|e| e.name == "cola")
            .expect("cola is listed");
        assert!(cola.imported_as.is_empty());
        assert_eq!(cola.metric, "mcc");
        for e in &all {
            assert_eq!(e.command.is_none(), e.unpickable.is_some(), "{}", e.name);
        }
    }
}
