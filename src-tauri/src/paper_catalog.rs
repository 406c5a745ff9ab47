//! The Muppet paper's public datasets (`muppet_data::muppet_catalog`) as the Tasks page
//! lists them, and adding one as a task: read from the Hugging Face hub (or its local
//! cache) as `muppet tasks add` does, which each entry also names for a terminal.

use muppet_data::hub::{HubAccess, Shown, hub_origin};
use muppet_data::muppet_catalog::{self, PaperDataset};
use serde::Serialize;

use crate::error::CommandError;
use crate::task_import::{ImportReport, PreparedImport, check_name};

/// What adding a catalog dataset did: the import's report and where the files came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PaperAdded {
    #[serde(flatten)]
    pub report: ImportReport,
    /// "from hub dataset ORG/NAME config C split S (N files, revision R, ...)".
    pub origin: String,
    /// The dataset's validation split, imported with it as the task it is scored on.
    pub dev: Option<ImportReport>,
}

/// Import catalog dataset `dataset`'s training split from the hub through `access`, as a
/// task of its own name, with its validation split (if it has one) as the task it is scored
/// on, as `muppet tasks add NAME` does: ready to store together (the dev task first), with
/// what was read and from where. The errors are the CLI's: an unknown or unimportable
/// dataset, or one neither reachable nor cached (naming the `huggingface-cli download`
/// command).
pub fn prepare_add(access: &HubAccess, dataset: &str, shown: &mut Shown<'_>) -> Result<(Vec<PreparedImport>, PaperAdded), CommandError> {
    let name = muppet_catalog::task_name(dataset, None);
    check_name(&name)?;
    let dev_split = muppet_catalog::dataset(dataset).and_then(|d| d.dev_split());
    let (added, dev) = muppet_catalog::add_scored(access, dataset, None, &name, dev_split, false, shown)?;
    let origin = hub_origin(&added.hub, &added.fetched);
    let mut prepared = Vec::new();
    let dev = dev.map(|d| {
        let p = PreparedImport::new(d.imported, d.description);
        let report = p.report();
        prepared.push(p);
        report
    });
    let main = PreparedImport::new(added.imported, added.description);
    let report = main.report();
    prepared.push(main);
    Ok((prepared, PaperAdded { report, origin, dev }))
}

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

    /// The hub's Parquet conversion of Rotten Tomatoes, written from the real snippets of
    /// the demo assets into a cache laid out as `huggingface-cli download --revision
    /// refs/convert/parquet` leaves it: added from the app as a task, stored, and found
    /// to share its inputs with the demo's rt_fresh_rotten.
    #[test]
    fn a_catalog_dataset_is_added_from_the_cache_and_its_overlap_found() {
        use crate::catalog::TaskCatalog;
        let assets = crate::task_import::tests::assets();
        let rt = muppet_data::catalog::load_task(&assets, "rt_fresh_rotten").expect("rt_fresh_rotten");
        assert_eq!(rt.spec.labels, ["fresh", "rotten"]);
        // The hub's encoding: 0 = neg (rotten), 1 = pos (fresh).
        let rows: Vec<(String, i64)> = rt
            .examples
            .iter()
            .map(|e| match &e.target {
                muppet_data::Target::Class(c) => (e.text_a.clone(), i64::from(*c == 0)),
                other => panic!("not a class: {other:?}"),
            })
            .collect();
        let cache = tempfile::tempdir().expect("tempdir");
        let repo = cache.path().join("datasets--cornell-movie-review-data--rotten_tomatoes");
        let commit = "0123456789abcdef0123456789abcdef01234567";
        // The last 100 snippets as the validation split.
        let (train, validation) = rows.split_at(rows.len() - 100);
        for (split, rows) in [("train", train), ("validation", validation)] {
            let file = repo.join("snapshots").join(commit).join(format!("default/{split}/0000.parquet"));
            std::fs::create_dir_all(file.parent().expect("folder")).expect("snapshot");
            std::fs::write(&file, parquet(rows)).expect("parquet");
        }
        std::fs::create_dir_all(repo.join("refs/refs/convert")).expect("refs");
        std::fs::write(repo.join("refs/refs/convert/parquet"), commit).expect("ref");
        let access = HubAccess { root: cache.path().to_path_buf(), offline: true };

        let mut steps = Vec::new();
        let (prepared, added) = prepare_add(&access, "rotten_tomatoes", &mut Shown::To(&mut |s| steps.push(s))).expect("added");
        // Read from the cache: nothing to download, one file to import per split.
        assert_eq!(steps, [muppet_data::hub::HubStep::Import { files: 1 }, muppet_data::hub::HubStep::Import { files: 1 }]);
        let origin = &added.origin;
        assert!(origin.contains("cornell-movie-review-data/rotten_tomatoes") && origin.contains("read from the local Hugging Face cache"), "{origin}");
        let report = added.report.clone();
        assert_eq!(report.name, "rotten_tomatoes");
        assert_eq!(report.labels, ["neg", "pos"]);
        assert_eq!(report.examples + report.duplicates, train.len());
        let dev = added.dev.clone().expect("the validation split");
        assert_eq!((dev.name.as_str(), dev.examples + dev.duplicates), ("rotten_tomatoes_validation", validation.len()));
        assert_eq!(prepared[1].imported.task.spec.split.dev_task.as_deref(), Some("rotten_tomatoes_validation"));

        let dir = tempfile::tempdir().expect("tempdir");
        tauri::async_runtime::block_on(async {
            let store = muppet_store::Store::open(&dir.path().join("muppet.db")).await.expect("store");
            let catalog = TaskCatalog::default();
            catalog.import(&assets, &store, prepared, false).await.expect("stored");
            let tasks = catalog.list(&assets, &store).await.expect("list");
            let added = tasks.iter().find(|t| t.spec.name == "rotten_tomatoes").expect("listed");
            assert_eq!((added.origin, added.examples), ("imported", report.examples));
            let shared = added.overlaps.as_ref().expect("checked").iter().find(|o| o.other == "rt_fresh_rotten").expect("an imported copy of the snippets is found");
            assert!(shared.percent > 99.0, "{shared:?}");
            let imported: Vec<String> = store.imported_tasks().await.expect("imported").into_iter().map(|t| t.spec.name).collect();
            let entry = entries(&imported).into_iter().find(|e| e.name == "rotten_tomatoes").expect("entry");
            assert_eq!(entry.imported_as, ["rotten_tomatoes", "rotten_tomatoes_validation"]);
            let (again, _) = prepare_add(&access, "rotten_tomatoes", &mut Shown::Quiet).expect("read again");
            let error = catalog.import(&assets, &store, again, false).await.expect_err("exists");
            assert!(error.message().contains("already imported"), "{error}");
            store.close().await;
        });

        for (dataset, want) in [
            ("sst2", "huggingface-cli download --repo-type dataset nyu-mll/glue --include \"sst2/*\""),
            ("record", "cannot be imported as a task here"),
            ("sst3", "not in the Muppet catalog; its datasets are: cola, sst2"),
        ] {
            let Err(error) = prepare_add(&access, dataset, &mut Shown::Quiet) else { panic!("{dataset} was added") };
            assert!(error.message().contains(want), "{dataset}: {error}");
        }
    }

    /// Parquet with the hub's columns `text` and `label` (int64).
    fn parquet(rows: &[(String, i64)]) -> Vec<u8> {
        use parquet::data_type::{ByteArray, ByteArrayType, Int64Type};
        use parquet::file::properties::WriterProperties;
        use parquet::file::writer::SerializedFileWriter;
        use std::sync::Arc;
        let schema = Arc::new(
            parquet::schema::parser::parse_message_type("message schema { REQUIRED BYTE_ARRAY text (UTF8); REQUIRED INT64 label; }").expect("schema"),
        );
        let mut out = Vec::new();
        let mut writer = SerializedFileWriter::new(&mut out, schema, Arc::new(WriterProperties::builder().build())).expect("writer");
        let mut group = writer.next_row_group().expect("row group");
        let mut column = 0;
        while let Some(mut col) = group.next_column().expect("column") {
            if column == 0 {
                let values: Vec<ByteArray> = rows.iter().map(|(t, _)| ByteArray::from(t.as_str())).collect();
                col.typed::<ByteArrayType>().write_batch(&values, None, None).expect("text");
            } else {
                let values: Vec<i64> = rows.iter().map(|(_, l)| *l).collect();
                col.typed::<Int64Type>().write_batch(&values, None, None).expect("label");
            }
            col.close().expect("close column");
            column += 1;
        }
        group.close().expect("close group");
        writer.close().expect("close");
        out
    }

}
