//! The local hub cache that `huggingface-cli download`, `datasets`, `transformers`
//! and `hf-hub` fill: `<cache>/<kind>s--org--name/refs/<revision>` holds a commit
//! hash and `<cache>/<kind>s--org--name/snapshots/<hash>/` the files (a revision
//! with slashes, such as `refs/convert/parquet`, is a nested path under `refs/`).
//! The cache is `HF_HUB_CACHE`, else `HF_HOME/hub`, else `~/.cache/huggingface/hub`.

use std::path::{Path, PathBuf};

use crate::DataError;

/// What a hub repository holds; it decides the cache folder's prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepoKind {
    Model,
    Dataset,
}

impl RepoKind {
    fn prefix(self) -> &'static str {
        match self {
            RepoKind::Model => "models",
            RepoKind::Dataset => "datasets",
        }
    }
}

/// Whether `s` has the shape of a hub id (`org/name`, no other slashes).
pub fn is_hub_id(s: &str) -> bool {
    let mut parts = s.split('/');
    matches!((parts.next(), parts.next(), parts.next()), (Some(a), Some(b), None) if !a.is_empty() && !b.is_empty() && !a.starts_with('.'))
}

/// The hub cache folder of this environment.
pub fn cache_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("HF_HUB_CACHE") {
        return PathBuf::from(dir);
    }
    if let Some(home) = std::env::var_os("HF_HOME") {
        return PathBuf::from(home).join("hub");
    }
    std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default().join(".cache/huggingface/hub")
}

/// The cache folder of repository `id` (present or not).
pub fn repo_folder(root: &Path, kind: RepoKind, id: &str) -> PathBuf {
    root.join(format!("{}--{}", kind.prefix(), id.replace('/', "--")))
}

/// The hub id of the model whose cache snapshot holds `path` (`.../models--ORG--NAME/snapshots/REV`).
pub fn model_repo_of(path: &Path) -> Option<String> {
    let folder = path.iter().filter_map(|p| p.to_str()).find_map(|p| p.strip_prefix("models--"))?;
    let (org, name) = folder.split_once("--")?;
    let id = format!("{org}/{name}");
    is_hub_id(&id).then_some(id)
}

/// The snapshot folder of `id` at `revision` (a branch such as `main`, a ref such
/// as `refs/convert/parquet`, or a commit hash) in the cache at `root`, if the
/// cache has it.
pub fn snapshot(root: &Path, kind: RepoKind, id: &str, revision: &str) -> Option<PathBuf> {
    let repo = repo_folder(root, kind, id);
    let commit = match std::fs::read_to_string(repo.join("refs").join(revision)) {
        Ok(hash) => hash.trim().to_string(),
        Err(_) => revision.to_string(),
    };
    if commit.is_empty() || commit.contains(['/', '\\']) || commit.starts_with('.') {
        return None;
    }
    let dir = repo.join("snapshots").join(&commit);
    dir.is_dir().then_some(dir)
}

/// Every file under a snapshot folder, as repository paths (`/`-separated),
/// sorted. Cached files are links into `blobs/`; a dangling link (a blob
/// deleted by hand) is left out.
pub fn snapshot_files(dir: &Path) -> Result<Vec<String>, DataError> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).map_err(DataError::io(&folder))? {
            let path = entry.map_err(DataError::io(&folder))?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.is_file()
                && let Ok(rel) = path.strip_prefix(dir)
            {
                out.push(rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/"));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The snapshot folder of model `id` at `revision` in the cache at `root`.
pub fn cached_model(root: &Path, id: &str, revision: &str) -> Result<PathBuf, DataError> {
    let repo = repo_folder(root, RepoKind::Model, id);
    let missing = |why: String| DataError::HubModel {
        id: id.to_string(),
        message: format!(
            "{why}. Download it where the hub is reachable (`huggingface-cli download {id}`, which fills {}), or give a model folder",
            root.display()
        ),
    };
    if !repo.is_dir() {
        return Err(missing(format!("not in the Hugging Face cache ({} does not exist)", repo.display())));
    }
    let Some(snapshot) = snapshot(root, RepoKind::Model, id, revision) else {
        return Err(missing(format!("the cache has no snapshot of revision `{revision}` in {}", repo.join("snapshots").display())));
    };
    if !snapshot.join("config.json").is_file() {
        return Err(missing(format!("the cached snapshot {} has no config.json", snapshot.display())));
    }
    Ok(snapshot)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_snapshot_of_a_branch_or_a_commit() {
        let root = tempfile::tempdir().expect("tempdir");
        let repo = root.path().join("models--sentence-transformers--all-MiniLM-L6-v2");
        let snapshot = repo.join("snapshots/abc123");
        std::fs::create_dir_all(&snapshot).expect("mkdir");
        std::fs::create_dir_all(repo.join("refs")).expect("mkdir");
        std::fs::write(repo.join("refs/main"), "abc123\n").expect("ref");
        std::fs::write(snapshot.join("config.json"), "{}").expect("config");
        let id = "sentence-transformers/all-MiniLM-L6-v2";
        assert_eq!(cached_model(root.path(), id, "main").expect("main"), snapshot);
        assert_eq!(cached_model(root.path(), id, "abc123").expect("hash"), snapshot);
        let err = cached_model(root.path(), "facebook/muppet-roberta-base", "main").expect_err("absent").to_string();
        assert!(err.contains("facebook/muppet-roberta-base") && err.contains("huggingface-cli download"), "{err}");
        let err = cached_model(root.path(), id, "v2").expect_err("no such revision").to_string();
        assert!(err.contains("revision `v2`"), "{err}");
        assert!(is_hub_id(id) && !is_hub_id("/abs/path") && !is_hub_id("a/b/c") && !is_hub_id("./x"));
        assert_eq!(model_repo_of(&snapshot).as_deref(), Some(id));
        assert_eq!(model_repo_of(Path::new("/data/assets/models/all-MiniLM-L6-v2")), None);
    }

    #[test]
    fn dataset_snapshots_follow_nested_refs_and_list_their_files() {
        let root = tempfile::tempdir().expect("tempdir");
        let repo = repo_folder(root.path(), RepoKind::Dataset, "nyu-mll/glue");
        assert!(repo.ends_with("datasets--nyu-mll--glue"));
        let snap = repo.join("snapshots/f00d");
        std::fs::create_dir_all(snap.join("sst2/train")).expect("mkdir");
        std::fs::create_dir_all(repo.join("refs/refs/convert")).expect("mkdir");
        std::fs::write(repo.join("refs/refs/convert/parquet"), "f00d").expect("ref");
        std::fs::write(snap.join("sst2/train/0000.parquet"), b"x").expect("file");
        std::fs::write(snap.join("README.md"), b"x").expect("file");
        let dir = snapshot(root.path(), RepoKind::Dataset, "nyu-mll/glue", "refs/convert/parquet").expect("snapshot");
        assert_eq!(dir, snap);
        assert_eq!(snapshot_files(&dir).expect("files"), ["README.md", "sst2/train/0000.parquet"]);
        assert!(snapshot(root.path(), RepoKind::Dataset, "nyu-mll/glue", "main").is_none());
        assert!(snapshot(root.path(), RepoKind::Model, "nyu-mll/glue", "refs/convert/parquet").is_none());
    }
}
