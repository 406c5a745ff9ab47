//! The data folder (`MUPPET_HOME`): `muppet.db`, `assets/`, `cache/`, `runs/`.

use std::path::{Path, PathBuf};

/// Environment variable naming the data folder.
pub const HOME_ENV: &str = "MUPPET_HOME";
/// Environment variable that moves `assets/` elsewhere (a shared cache, say).
pub const ASSETS_ENV: &str = "MUPPET_ASSETS";

/// What an experiment's orchestrator says, appended in its [`MuppetHome::experiment_dir`].
pub const EXPERIMENT_LOG: &str = "orchestrator.log";

/// Name of the data folder inside the platform data dir.
pub const DIR_NAME: &str = "muppet-studio";

/// The default data folder: `<platform data dir>/muppet-studio`, or
/// `./muppet-studio` where the platform has none. The binaries pass in the
/// platform data dir (`dirs::data_dir()`), keeping this crate free of it.
pub fn default_root(platform_data_dir: Option<PathBuf>) -> PathBuf {
    platform_data_dir.unwrap_or_else(|| PathBuf::from(".")).join(DIR_NAME)
}

/// Paths inside the data folder. Creating the folders is the caller's business
/// ([`MuppetHome::ensure`]); this type only knows where things go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MuppetHome {
    root: PathBuf,
    assets: PathBuf,
}

impl MuppetHome {
    /// A data folder at `root`, with `assets/` inside it.
    pub fn at(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        let assets = root.join("assets");
        Self { root, assets }
    }

    /// Resolve from the environment: `MUPPET_HOME`, else `default_root` (the
    /// platform data dir, chosen by the binary). `MUPPET_ASSETS` overrides `assets/`.
    pub fn from_env(default_root: impl FnOnce() -> PathBuf) -> Self {
        let mut home = match std::env::var_os(HOME_ENV) {
            Some(v) if !v.is_empty() => Self::at(PathBuf::from(v)),
            _ => Self::at(default_root()),
        };
        if let Some(v) = std::env::var_os(ASSETS_ENV).filter(|v| !v.is_empty()) {
            home.assets = PathBuf::from(v);
        }
        home
    }

    /// Use `assets` for the asset folder instead of `<root>/assets`.
    pub fn with_assets(mut self, assets: impl Into<PathBuf>) -> Self {
        self.assets = assets.into();
        self
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
    /// The SQLite database of runs, metrics and tasks.
    pub fn db(&self) -> PathBuf {
        self.root.join("muppet.db")
    }
    /// Models and raw datasets fetched by `muppet assets fetch`.
    pub fn assets(&self) -> &Path {
        &self.assets
    }
    /// Tokenized task caches.
    pub fn cache(&self) -> PathBuf {
        self.root.join("cache")
    }
    /// The tokenized examples of each task (`muppet_data::token_cache`), shared by training,
    /// benchmarks and scoring.
    pub fn token_cache(&self) -> PathBuf {
        self.cache().join("tokens")
    }
    /// One folder per run: checkpoints, exports, charts.
    pub fn runs(&self) -> PathBuf {
        self.root.join("runs")
    }
    /// Folder of one run.
    pub fn run_dir(&self, id: crate::RunId) -> PathBuf {
        self.runs().join(id.to_string())
    }

    /// Folder of one experiment's orchestrator: its lock and [`EXPERIMENT_LOG`].
    pub fn experiment_dir(&self, id: i64) -> PathBuf {
        self.root.join("experiments").join(id.to_string())
    }

    /// Folder of one experiment's report (charts, CSV, `summary.md`) built by the app.
    pub fn report_dir(&self, id: i64) -> PathBuf {
        self.root.join("reports").join(id.to_string())
    }

    /// Folder of a comparison of experiments (`muppet report A B ...` from the app).
    pub fn comparison_dir(&self, ids: &[i64]) -> PathBuf {
        let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
        self.root.join("reports").join(format!("compare-{}", ids.join("-")))
    }

    /// The comparison folders that compare experiment `id` with others.
    pub fn comparisons_of(&self, id: i64) -> Vec<PathBuf> {
        let Ok(entries) = std::fs::read_dir(self.root.join("reports")) else { return Vec::new() };
        let mut out: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .filter(|e| {
                let name = e.file_name();
                let ids = name.to_str().and_then(|n| n.strip_prefix("compare-"));
                ids.is_some_and(|ids| ids.split('-').any(|i| i.parse() == Ok(id)))
            })
            .map(|e| e.path())
            .collect();
        out.sort();
        out
    }

    /// Create the folders that must exist.
    pub fn ensure(&self) -> std::io::Result<()> {
        for dir in [self.root.clone(), self.assets.clone(), self.cache(), self.runs()] {
            std::fs::create_dir_all(&dir)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_root_is_named_after_the_app() {
        assert_eq!(default_root(Some(PathBuf::from("/home/u/.local/share"))), PathBuf::from("/home/u/.local/share/muppet-studio"));
        assert_eq!(default_root(None), PathBuf::from("./muppet-studio"));
    }

    #[test]
    fn layout_is_under_root() {
        let h = MuppetHome::at("/data/m");
        assert_eq!(h.db(), PathBuf::from("/data/m/muppet.db"));
        assert_eq!(h.assets(), Path::new("/data/m/assets"));
        assert_eq!(h.cache(), PathBuf::from("/data/m/cache"));
        assert_eq!(h.run_dir(crate::RunId(7)), PathBuf::from("/data/m/runs/7"));
        assert_eq!(h.experiment_dir(3), PathBuf::from("/data/m/experiments/3"));
        let moved = h.with_assets("/cache/assets");
        assert_eq!(moved.assets(), Path::new("/cache/assets"));
    }
}
