//! Models by Hugging Face hub id (`org/name`), read from the local hub cache that
//! `huggingface-cli download`, `transformers` and `hf-hub` fill:
//! `<cache>/models--org--name/refs/<revision>` holds a commit hash and
//! `<cache>/models--org--name/snapshots/<hash>/` the files. The cache is `HF_HUB_CACHE`,
//! else `HF_HOME/hub`, else `~/.cache/huggingface/hub`.

use std::path::{Path, PathBuf};

use crate::DataError;

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

/// The snapshot folder of model `id` at `revision` (a branch such as `main`, or a commit
/// hash) in the cache at `root`.
pub fn cached_model(root: &Path, id: &str, revision: &str) -> Result<PathBuf, DataError> {
    let repo = root.join(format!("models--{}", id.replace('/', "--")));
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
    let reference = repo.join("refs").join(revision);
    let commit = match std::fs::read_to_string(&reference) {
        Ok(hash) => hash.trim().to_string(),
        Err(_) => revision.to_string(),
    };
    let snapshot = repo.join("snapshots").join(&commit);
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
        assert!(is_hub_id(id) && !is_hub_id("/abs/path") && !is_hub_id("a/b/c") && !is_hub_id("./x"));
    }
}
