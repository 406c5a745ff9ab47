//! `--step N|best`: which checkpoint of a run a command takes. `best` is the checkpoint with
//! the best dev score (the mean of the run's tasks' main dev metrics, by
//! [`muppet_train::best`]'s rule), among the checkpoints the run folder holds: with
//! `keep_best` the best of the whole run, otherwise the best of those kept.

use std::str::FromStr;

use muppet_core::{MuppetHome, RunId};
use muppet_store::Store;
use muppet_train::best::{best_kept, scores_by_step, BestDev};
use muppet_train::manifest::RunManifest;

/// A checkpoint named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepArg {
    At(u64),
    Best,
}

impl FromStr for StepArg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "best" {
            return Ok(StepArg::Best);
        }
        s.parse().map(StepArg::At).map_err(|_| format!("`{s}` is not a step: give a step number, or `best` for the checkpoint with the best dev score"))
    }
}

/// The step `arg` names for `run` (`None`: none named, the command's default).
pub fn resolve(home: &MuppetHome, run: RunId, arg: Option<StepArg>) -> anyhow::Result<Option<u64>> {
    match arg {
        None => Ok(None),
        Some(StepArg::At(step)) => Ok(Some(step)),
        Some(StepArg::Best) => {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            let store = runtime.block_on(Store::open(&home.db()))?;
            let best = runtime.block_on(best_checkpoint(home, &store, run));
            runtime.block_on(store.close());
            let best = best?;
            eprintln!("run {run}: the best checkpoint is step {} (dev score {:.4})", best.step, best.score);
            Ok(Some(best.step))
        }
    }
}

/// The checkpoint of `run` with the best dev score.
pub async fn best_checkpoint(home: &MuppetHome, store: &Store, run: RunId) -> anyhow::Result<BestDev> {
    let dir = home.run_dir(run);
    let manifest = RunManifest::read(&dir).map_err(|e| anyhow::anyhow!("run {run} has no readable manifest, so its tasks' dev metrics are unknown: {e}"))?;
    let kept = muppet_train::checkpoint::model_steps(&dir)?;
    best_kept(&dev_scores(store, &manifest, run).await?, &kept).ok_or_else(|| {
        let kept = kept.iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
        let kept = if kept.is_empty() { "it has none".to_string() } else { format!("its checkpoints are at steps {kept}") };
        anyhow::anyhow!(
            "run {run} has no checkpoint with a dev score after training began ({kept}; dev is scored every --eval-every updates and at the end): give --step N"
        )
    })
}

/// The run's dev score at each step where every task of the run was scored.
pub async fn dev_scores(store: &Store, manifest: &RunManifest, run: RunId) -> anyhow::Result<Vec<(u64, f64)>> {
    let mut series = Vec::with_capacity(manifest.tasks.len());
    for task in &manifest.tasks {
        series.push(store.series(run, Some(&task.name), "dev", task.metric.as_str()).await?);
    }
    Ok(scores_by_step(&series))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_is_a_number_or_best() {
        assert_eq!("best".parse::<StepArg>(), Ok(StepArg::Best));
        assert_eq!("40".parse::<StepArg>(), Ok(StepArg::At(40)));
        let err = "last".parse::<StepArg>().expect_err("not a step");
        assert!(err.contains("`last` is not a step") && err.contains("`best`"), "{err}");
    }
}
