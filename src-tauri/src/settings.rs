//! The app's settings, kept in `<MUPPET_HOME>/settings.json` beside the database they
//! apply to. The data folder itself is chosen before anything is opened (`MUPPET_HOME`),
//! so it is shown, not edited, here.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::CommandError;

/// Most workers the app runs at once; CPU threads are shared among them.
pub const MAX_PARALLEL_RUNS: usize = 8;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// `cpu` or `cuda`: what the mixture builder starts with.
    pub default_backend: String,
    /// Runs executing at once; more launches wait for a free slot.
    pub parallel_runs: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            default_backend: "cpu".into(),
            parallel_runs: 1,
        }
    }
}

impl Settings {
    pub fn path(home: &Path) -> PathBuf {
        home.join("settings.json")
    }

    /// The saved settings; the defaults when there is no file or it cannot be read
    /// (a broken file is reported on stderr and replaced at the next save).
    pub fn load(home: &Path) -> Self {
        let path = Self::path(home);
        let Ok(text) = std::fs::read_to_string(&path) else {
            return Self::default();
        };
        match serde_json::from_str::<Settings>(&text) {
            Ok(settings) => settings.checked().unwrap_or_default(),
            Err(error) => {
                eprintln!(
                    "muppet-studio: ignoring {}: {error}; defaults are used",
                    path.display()
                );
                Self::default()
            }
        }
    }

    /// The settings if every value is allowed, else what to change.
    pub fn checked(self) -> Result<Self, CommandError> {
        if self.default_backend.parse::<muppet_train::backend::BackendKind>().is_err() {
            return Err(CommandError::Invalid(format!(
                "unknown backend `{}`: choose cpu or cuda",
                self.default_backend
            )));
        }
        if !(1..=MAX_PARALLEL_RUNS).contains(&self.parallel_runs) {
            return Err(CommandError::Invalid(format!(
                "parallel runs must be between 1 and {MAX_PARALLEL_RUNS}, not {}",
                self.parallel_runs
            )));
        }
        Ok(self)
    }

    /// Write the settings atomically (a temporary file renamed over the old one).
    pub fn save(&self, home: &Path) -> Result<(), CommandError> {
        let path = Self::path(home);
        let temp = path.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| CommandError::Invalid(format!("settings: {e}")))?;
        std::fs::write(&temp, text).map_err(CommandError::io("writing", &temp))?;
        std::fs::rename(&temp, &path).map_err(CommandError::io("writing", &path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_and_bad_values_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(Settings::load(dir.path()), Settings::default());
        let settings = Settings {
            default_backend: "cuda".into(),
            parallel_runs: 2,
        };
        settings.save(dir.path()).expect("save");
        assert_eq!(Settings::load(dir.path()), settings);

        let zero = Settings {
            parallel_runs: 0,
            ..Settings::default()
        };
        assert!(zero.checked().is_err());
        let tpu = Settings {
            default_backend: "tpu".into(),
            ..Settings::default()
        };
        assert!(tpu.checked().is_err());

        std::fs::write(Settings::path(dir.path()), "{not json").expect("write");
        assert_eq!(Settings::load(dir.path()), Settings::default());
    }
}
