//! A split of a hub dataset, as local Parquet files: downloaded through
//! `hf-hub` when the hub is reachable (its file list tells which files hold the
//! split), else read from the local hub cache. The repository's own files
//! (revision `main`) are tried first, then the hub's Parquet conversion
//! (revision `refs/convert/parquet`), which exists for datasets stored in
//! other formats.

use std::path::{Path, PathBuf};

use hf_hub::api::sync::{ApiBuilder, ApiError};
use hf_hub::{Cache, Repo, RepoType};
use serde::Serialize;

use super::cache::{RepoKind, cache_root, repo_folder, snapshot, snapshot_files};
use super::split_files::{Unresolved, split_files};
use crate::DataError;
use crate::import::{Format, ImportOptions, Imported, import_files};

/// The revisions read, in order of preference.
const REVISIONS: [&str; 2] = ["main", "refs/convert/parquet"];

/// One or more splits of one config of a hub dataset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HubDataset {
    /// `org/name`.
    pub id: String,
    /// The config (a top-level folder of the repository); `None`: its only one.
    pub config: Option<String>,
    /// Splits read in this order and concatenated (e.g. ANLI's three rounds).
    pub splits: Vec<String>,
}

/// The local files of a [`HubDataset`] and where they came from.
#[derive(Debug, Clone, Serialize)]
pub struct FetchedSplit {
    /// Local paths, in the order they are imported (split by split, shard by shard).
    pub files: Vec<PathBuf>,
    /// The same files as repository paths.
    pub repo_files: Vec<String>,
    /// `main` or `refs/convert/parquet`.
    pub revision: String,
    /// The commit the files belong to (as the cache records it).
    pub commit: String,
    /// Whether the file list came from the hub (else from the cache alone).
    pub online: bool,
}

impl FetchedSplit {
    /// A source note for the task spec: `hf://datasets/<id>@<commit>/<config>:<splits>`.
    pub fn source(&self, ds: &HubDataset) -> String {
        // `dataset_of_source` reads the id back from this.
        let short = &self.commit[..self.commit.len().min(12)];
        format!(
            "hf://datasets/{}@{short} ({}), config {}, split {}",
            ds.id,
            self.revision,
            ds.config.as_deref().unwrap_or("(the only one)"),
            ds.splits.join("+")
        )
    }
}

/// The hub id of the dataset a task was imported from, read from its source note
/// ([`FetchedSplit::source`]); `None` for a task from elsewhere.
pub fn dataset_of_source(source: &str) -> Option<&str> {
    let rest = source.strip_prefix("hf://datasets/")?;
    let id = &rest[..rest.find(['@', ' ']).unwrap_or(rest.len())];
    super::cache::is_hub_id(id).then_some(id)
}

/// Whether the environment asks for no network (`HF_HUB_OFFLINE` or
/// `HF_DATASETS_OFFLINE` set to 1, true, yes or on).
pub fn is_offline() -> bool {
    ["HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"]
        .iter()
        .filter_map(std::env::var_os)
        .any(|v| matches!(v.to_string_lossy().trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on"))
}

/// The command that puts the dataset's files into the cache.
pub fn download_command(ds: &HubDataset, revision: &str) -> String {
    let mut cmd = format!("huggingface-cli download --repo-type dataset {}", ds.id);
    if revision != "main" {
        cmd.push_str(&format!(" --revision {revision}"));
    }
    if let Some(c) = &ds.config {
        cmd.push_str(&format!(" --include \"{c}/*\""));
    }
    cmd
}

fn error(ds: &HubDataset, message: String) -> DataError {
    DataError::HubDataset { id: ds.id.clone(), message }
}

/// Where hub files are read from: a cache folder, and whether the hub may be asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubAccess {
    /// The hub cache (`HF_HUB_CACHE` layout).
    pub root: PathBuf,
    /// Read the cache only.
    pub offline: bool,
}

impl HubAccess {
    /// As the environment says: [`cache_root`] and [`is_offline`].
    pub fn from_env() -> Self {
        Self { root: cache_root(), offline: is_offline() }
    }
}

/// A step of a hub import, for a progress display.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum HubStep {
    /// `file` (the `index`-th of `files`, from 1) is downloading: `bytes` of `total`.
    Download { file: String, index: usize, files: usize, bytes: u64, total: u64 },
    /// The files are local; `files` are being read and imported.
    Import { files: usize },
}

/// How a fetch shows its progress.
pub enum Shown<'a> {
    Quiet,
    /// hf-hub's progress bars on the terminal.
    Bars,
    /// Every step to a callback (a UI); downloads at most every percent.
    To(&'a mut dyn FnMut(HubStep)),
}

impl Shown<'_> {
    fn report(&mut self, step: HubStep) {
        if let Shown::To(f) = self {
            f(step);
        }
    }
}

/// hf-hub's download progress, as [`HubStep::Download`] events (one per percent at most).
struct Reporter<'s, 'a> {
    to: &'s mut Shown<'a>,
    file: String,
    index: usize,
    files: usize,
    bytes: u64,
    total: u64,
    reported: u64,
}

impl Reporter<'_, '_> {
    fn send(&mut self) {
        self.reported = self.bytes;
        let step = HubStep::Download { file: self.file.clone(), index: self.index, files: self.files, bytes: self.bytes, total: self.total };
        self.to.report(step);
    }
}

impl hf_hub::api::Progress for Reporter<'_, '_> {
    fn init(&mut self, size: usize, _filename: &str) {
        self.total = size as u64;
        self.send();
    }
    fn update(&mut self, size: usize) {
        self.bytes += size as u64;
        if (self.bytes - self.reported) * 100 >= self.total.max(1) {
            self.send();
        }
    }
    fn finish(&mut self) {
        self.bytes = self.total.max(self.bytes);
        self.send();
    }
}

/// The local files of `ds` through `access`: through the hub when it is reachable and
/// allowed, else from the cache; its downloads shown as `shown` says.
pub fn fetch(access: &HubAccess, ds: &HubDataset, shown: &mut Shown<'_>) -> Result<FetchedSplit, DataError> {
    if ds.splits.is_empty() {
        return Err(error(ds, "no split given".into()));
    }
    let root = access.root.clone();
    if access.offline {
        return from_cache(&root, ds, "HF_HUB_OFFLINE is set, so only the local Hugging Face cache is read");
    }
    match online(&root, ds, shown) {
        Ok(found) => Ok(found),
        Err(Online::Unreachable(why)) => {
            from_cache(&root, ds, &format!("the hub is not reachable ({why}), so only the local Hugging Face cache is read"))
        }
        Err(Online::Failed(err)) => Err(err),
    }
}

/// Fetch `ds` through `access` and import its files as one task with `opts` (the format
/// is Parquet; an empty source becomes the hub source); its steps shown as `shown` says.
pub fn import_hub(access: &HubAccess, ds: &HubDataset, opts: &ImportOptions, shown: &mut Shown<'_>) -> Result<(Imported, FetchedSplit), DataError> {
    let fetched = fetch(access, ds, shown)?;
    shown.report(HubStep::Import { files: fetched.files.len() });
    let mut opts = opts.clone();
    opts.format = Format::Parquet;
    if opts.source.is_empty() {
        opts.source = fetched.source(ds);
    }
    let paths: Vec<&Path> = fetched.files.iter().map(PathBuf::as_path).collect();
    let imported = import_files(&paths, &opts)?;
    Ok((imported, fetched))
}

/// How a hub split was imported, as stored with the task: the dataset, the revision and
/// commit, its files, the options and the counts.
pub fn hub_description(ds: &HubDataset, fetched: &FetchedSplit, opts: &ImportOptions, imported: &Imported) -> serde_json::Value {
    serde_json::json!({
        "hub": ds,
        "revision": fetched.revision,
        "commit": fetched.commit,
        "files": fetched.repo_files,
        "from_cache_only": !fetched.online,
        "options": opts,
        "records": imported.records,
        "duplicates": imported.duplicates,
        "skipped": imported.skipped,
    })
}

/// "from hub dataset ORG/NAME config C split S (N files, revision R, commit C…)", for
/// the line an import prints.
pub fn hub_origin(ds: &HubDataset, fetched: &FetchedSplit) -> String {
    let files = fetched.files.len();
    format!(
        "from hub dataset {}{} split {} ({} file{}, revision {}, commit {}{})",
        ds.id,
        ds.config.as_deref().map(|c| format!(" config {c}")).unwrap_or_default(),
        ds.splits.join("+"),
        files,
        if files == 1 { "" } else { "s" },
        fetched.revision,
        &fetched.commit[..fetched.commit.len().min(12)],
        if fetched.online { "" } else { ", read from the local Hugging Face cache" }
    )
}

/// The files of every split of `ds` in a repository's file list.
fn resolve(files: &[String], ds: &HubDataset) -> Result<Vec<String>, Unresolved> {
    let mut out = Vec::new();
    for split in &ds.splits {
        out.extend(split_files(files, ds.config.as_deref(), split)?);
    }
    Ok(out)
}

fn from_cache(root: &Path, ds: &HubDataset, why: &str) -> Result<FetchedSplit, DataError> {
    let repo = repo_folder(root, RepoKind::Dataset, &ds.id);
    let mut first_problem: Option<(String, PathBuf, Unresolved)> = None;
    for revision in REVISIONS {
        let Some(dir) = snapshot(root, RepoKind::Dataset, &ds.id, revision) else { continue };
        let files = snapshot_files(&dir)?;
        match resolve(&files, ds) {
            Ok(found) => {
                let commit = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                return Ok(FetchedSplit {
                    files: found.iter().map(|f| dir.join(f)).collect(),
                    repo_files: found,
                    revision: revision.to_string(),
                    commit,
                    online: false,
                });
            }
            Err(problem) => {
                if first_problem.is_none() {
                    first_problem = Some((revision.to_string(), dir, problem));
                }
            }
        }
    }
    let message = match first_problem {
        None => format!(
            "{why}, and it has no snapshot of this dataset ({} holds no `refs/main` or `refs/refs/convert/parquet` with its snapshot). \
             Download it where the hub is reachable: `{}` (it fills {}), then run this again",
            repo.display(),
            download_command(ds, "main"),
            root.display()
        ),
        Some((revision, dir, problem)) => {
            let hint = match &problem {
                Unresolved::NoParquet => format!(
                    "; datasets stored in another format have Parquet files on the converted revision: `{}`",
                    download_command(ds, "refs/convert/parquet")
                ),
                _ => format!(". Only cached files are seen: to fetch the rest, run `{}`", download_command(ds, &revision)),
            };
            format!("{why}; the cached snapshot {} (revision {revision}): {problem}{hint}", dir.display())
        }
    };
    Err(error(ds, message))
}

enum Online {
    /// No connection could be made: the cache may still have it.
    Unreachable(String),
    Failed(DataError),
}

fn online(root: &Path, ds: &HubDataset, shown: &mut Shown<'_>) -> Result<FetchedSplit, Online> {
    let bars = matches!(shown, Shown::Bars);
    let mut builder = ApiBuilder::from_cache(Cache::new(root.to_path_buf())).with_progress(bars).with_retries(2);
    if let Some(token) = std::env::var("HF_TOKEN").ok().filter(|t| !t.trim().is_empty()) {
        builder = builder.with_token(Some(token.trim().to_string()));
    }
    if let Ok(endpoint) = std::env::var("HF_ENDPOINT") {
        builder = builder.with_endpoint(endpoint);
    }
    let api = builder.build().map_err(|e| Online::Failed(error(ds, format!("cannot set up the hub client: {e}"))))?;
    let mut first_problem: Option<(&str, Unresolved)> = None;
    for revision in REVISIONS {
        let repo = api.repo(Repo::with_revision(ds.id.clone(), RepoType::Dataset, revision.to_string()));
        let info = match repo.info() {
            Ok(info) => info,
            Err(e) => match classify(&e) {
                Failure::Transport(why) => return Err(Online::Unreachable(why)),
                // No converted revision: what `main` said stands.
                Failure::Status(404) if revision != "main" => continue,
                Failure::Status(404) => {
                    return Err(Online::Failed(error(ds, "the hub has no such dataset (HTTP 404): check the id, e.g. `nyu-mll/glue`".into())));
                }
                Failure::Status(code @ (401 | 403)) => {
                    return Err(Online::Failed(error(
                        ds,
                        format!(
                            "the hub refused access (HTTP {code}): the dataset is gated or private; accept its terms on huggingface.co and set HF_TOKEN"
                        ),
                    )));
                }
                _ => return Err(Online::Failed(error(ds, format!("listing its files on revision {revision} failed: {e}")))),
            },
        };
        let files: Vec<String> = info.siblings.into_iter().map(|s| s.rfilename).collect();
        let found = match resolve(&files, ds) {
            Ok(found) => found,
            Err(problem) => {
                first_problem.get_or_insert((revision, problem));
                continue;
            }
        };
        // Files already cached for the listed commit are not downloaded again; the
        // others are (hf-hub's `get` would trust whatever commit the ref last named).
        let cached = snapshot(root, RepoKind::Dataset, &ds.id, &info.sha);
        let mut local = Vec::with_capacity(found.len());
        for (i, file) in found.iter().enumerate() {
            if let Some(path) = cached.as_ref().map(|dir| dir.join(file)).filter(|p| p.is_file()) {
                local.push(path);
                continue;
            }
            let downloaded = match shown {
                Shown::To(_) => {
                    let reporter = Reporter { to: &mut *shown, file: file.clone(), index: i + 1, files: found.len(), bytes: 0, total: 0, reported: 0 };
                    repo.download_with_progress(file, reporter)
                }
                _ => repo.download(file),
            };
            let path = downloaded.map_err(|e| match classify(&e) {
                Failure::Transport(why) => Online::Unreachable(why),
                _ => Online::Failed(error(ds, format!("downloading {file} (revision {revision}) failed: {e}"))),
            })?;
            local.push(path);
        }
        return Ok(FetchedSplit { files: local, repo_files: found, revision: revision.to_string(), commit: info.sha, online: true });
    }
    let (revision, problem) = first_problem.unwrap_or(("main", Unresolved::NoParquet));
    Err(Online::Failed(error(ds, format!("on the hub (revision {revision}): {problem}"))))
}

enum Failure {
    Transport(String),
    Status(u16),
    Other,
}

fn classify(e: &ApiError) -> Failure {
    match e {
        ApiError::RequestError(inner) => match inner.as_ref() {
            ureq::Error::Status(code, _) => Failure::Status(*code),
            ureq::Error::Transport(t) => Failure::Transport(t.to_string()),
        },
        ApiError::TooManyRetries(inner) => classify(inner),
        _ => Failure::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hf_hub::api::Progress;

    #[test]
    fn a_source_note_names_its_dataset() {
        let fetched = FetchedSplit { files: vec![], repo_files: vec![], revision: "main".into(), commit: "0123456789abcdef".into(), online: false };
        let ds = HubDataset { id: "nyu-mll/glue".into(), config: Some("rte".into()), splits: vec!["train".into()] };
        assert_eq!(dataset_of_source(&fetched.source(&ds)), Some("nyu-mll/glue"));
        assert_eq!(dataset_of_source("bigbench-1.0.0/bigbench/benchmark_tasks/winowhy/task.json"), None);
    }

    #[test]
    fn downloads_are_reported_at_most_every_percent_and_end_complete() {
        let mut steps = Vec::new();
        {
            let mut record = |step: HubStep| steps.push(step);
            let mut shown = Shown::To(&mut record);
            let mut r = Reporter { to: &mut shown, file: "plain_text/train-00000-of-00001.parquet".into(), index: 1, files: 2, bytes: 0, total: 0, reported: 0 };
            r.init(10_000, "train");
            for _ in 0..1_000 {
                r.update(9);
            }
            r.finish();
        }
        let bytes: Vec<u64> = steps
            .iter()
            .map(|s| match s {
                HubStep::Download { bytes, total: 10_000, index: 1, files: 2, .. } => *bytes,
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        // The start, one per 12 updates of 9 bytes (the first 108 bytes past a percent), and the end.
        assert_eq!(bytes.first(), Some(&0));
        assert_eq!(bytes.last(), Some(&10_000));
        assert_eq!(bytes.len(), 1 + 1000 / 12 + 1, "{} reports", bytes.len());
        assert!(bytes.windows(2).all(|w| w[0] <= w[1]));
        let json = serde_json::to_value(&steps[1]).expect("json");
        assert_eq!(json["step"], "download");
        assert_eq!(json["file"], "plain_text/train-00000-of-00001.parquet");
    }
}
