//! The demo experiment (`experiments/demo.toml`, embedded at build time): what the app
//! offers a new user to try first, with its size and how long it takes.

use std::path::PathBuf;

use muppet_core::{ExperimentSpec, MuppetHome};
use serde::Serialize;

use crate::error::CommandError;

/// The spec, as the repository has it.
const DEMO_SPEC: &str = include_str!("../../experiments/demo.toml");

/// Wall time of the demo with `--parallel 2` on a 2-core CPU, measured (README:
/// 7 min 55 s). Shown as an expectation, rounded.
const DEMO_MINUTES_ON_2_CORES: u32 = 8;

/// Runs at a time for the demo, as measured (each worker gets one core of two).
pub const DEMO_PARALLEL: usize = 2;

/// What the app shows about the demo before it is launched.
#[derive(Debug, Clone, Serialize)]
pub struct DemoOffer {
    pub name: String,
    pub description: String,
    /// Runs of the plan: the pre-finetuning stages and every fine-tune.
    pub runs: usize,
    pub prefinetunes: usize,
    pub finetunes: usize,
    pub minutes_on_2_cores: u32,
}

fn spec() -> Result<ExperimentSpec, CommandError> {
    toml::from_str(DEMO_SPEC).map_err(|e| {
        CommandError::Invalid(format!(
            "the embedded experiments/demo.toml is not a valid experiment spec: {e}"
        ))
    })
}

/// The demo's size, from its expanded plan.
pub fn offer() -> Result<DemoOffer, CommandError> {
    let spec = spec()?;
    let plan = muppet_train::experiment::expand(&spec).map_err(|e| {
        CommandError::Invalid(format!(
            "the embedded experiments/demo.toml does not expand: {e}"
        ))
    })?;
    let prefinetunes = plan
        .runs
        .iter()
        .filter(|r| r.kind == muppet_core::RunKind::PreFinetune)
        .count();
    Ok(DemoOffer {
        name: spec.name,
        description: spec.description,
        runs: plan.runs.len(),
        prefinetunes,
        finetunes: plan.runs.len() - prefinetunes,
        minutes_on_2_cores: DEMO_MINUTES_ON_2_CORES,
    })
}

/// Write the spec to `<MUPPET_HOME>/experiments/demo.toml` (the file `muppet experiment
/// run` reads) and return its path.
pub fn write_spec(home: &MuppetHome) -> Result<PathBuf, CommandError> {
    let dir = home.root().join("experiments");
    std::fs::create_dir_all(&dir).map_err(CommandError::io("creating", &dir))?;
    let path = dir.join("demo.toml");
    std::fs::write(&path, DEMO_SPEC).map_err(CommandError::io("writing", &path))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_is_one_stage_and_sixty_fine_tunes() {
        let offer = offer().expect("the demo spec expands");
        assert_eq!(offer.name, "demo");
        // 2 tasks x 5 sizes x 3 seeds x (base, muppet5), after the one stage.
        assert_eq!(
            (offer.prefinetunes, offer.finetunes, offer.runs),
            (1, 60, 61)
        );
        assert!(!offer.description.is_empty());
    }

    #[test]
    fn the_spec_is_written_into_the_data_folder() {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = MuppetHome::at(dir.path());
        let path = write_spec(&home).expect("write");
        assert_eq!(path, dir.path().join("experiments/demo.toml"));
        let text = std::fs::read_to_string(&path).expect("read");
        let spec: ExperimentSpec = toml::from_str(&text).expect("parse");
        assert_eq!(spec.name, "demo");
    }
}
