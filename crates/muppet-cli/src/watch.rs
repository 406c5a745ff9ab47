//! `muppet runs watch ID`: follow a run that another process trains (a worker started in the
//! background on a server, the app, an experiment) from a terminal, as W&B's run page does
//! in a browser: a progress bar with its step, training loss and dev figures, read from the
//! store every few seconds, until the run ends.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use muppet_core::{RunId, RunStatus};

/// What one reading of the store says about the run.
struct Reading {
    status: RunStatus,
    failure: Option<String>,
    step: u64,
    total: Option<u64>,
    loss: Option<f64>,
    /// The last value of each dev figure, by its column name (`sst2 dev accuracy`).
    dev: Vec<(String, f64)>,
    /// Running, but no process holds its lock: its worker was killed or crashed.
    abandoned: bool,
}

impl Reading {
    fn message(&self) -> String {
        let mut parts = Vec::new();
        if let Some(loss) = self.loss {
            parts.push(format!("loss {loss:.4}"));
        }
        parts.extend(self.dev.iter().map(|(name, value)| format!("{name} {value:.4}")));
        parts.join("  ")
    }
}

async fn read(store: &muppet_store::Store, home: &muppet_core::MuppetHome, run: RunId) -> anyhow::Result<Reading> {
    let mut row = store.run(run).await?;
    let progress = store.run_progress_of(run).await?;
    let columns = store.run_columns(Some(run)).await?.remove(&run).unwrap_or_default();
    let dev = columns.metrics.iter().filter(|(name, _)| name.contains(" dev ") || name.starts_with("dev ")).filter_map(|(name, f)| Some((name.clone(), f.last?))).collect();
    let mut abandoned = crate::runs::lost_its_process(home, &row);
    if abandoned {
        // A worker ends its run before it lets go of the lock: one that finished between
        // the first reading and the lock's has ended the run by now.
        row = store.run(run).await?;
        abandoned = crate::runs::lost_its_process(home, &row);
    }
    Ok(Reading {
        status: row.status,
        failure: row.failure,
        step: progress.as_ref().and_then(|p| p.last_step).unwrap_or(0),
        total: progress.and_then(|p| p.total_steps),
        loss: row.last_loss,
        dev,
        abandoned,
    })
}

/// Follow `run` until it ends, reading the store every `every`; fails when the run failed or
/// its worker is gone.
pub fn watch(run: RunId, every: Duration) -> anyhow::Result<()> {
    let bar = ProgressBar::new(0).with_style(ProgressStyle::with_template("{spinner} run {prefix} {pos}/{len} [{bar:30}] {elapsed_precise} eta {eta} {msg}")?.progress_chars("=> "));
    bar.set_prefix(run.to_string());
    let last = crate::with_store(async |store, home| {
        loop {
            let reading = read(store, home, run).await?;
            if let Some(total) = reading.total {
                bar.set_length(total);
            }
            bar.set_position(reading.step);
            bar.set_message(match reading.status {
                RunStatus::Queued => "queued: waiting for a worker".to_string(),
                _ => reading.message(),
            });
            if reading.abandoned || !matches!(reading.status, RunStatus::Queued | RunStatus::Running) {
                return Ok(reading);
            }
            tokio::time::sleep(every).await;
        }
    })?;
    bar.finish_and_clear();
    let total = last.total.map(|t| format!("/{t}")).unwrap_or_default();
    let figures = last.message();
    let said = format!("run {run} {}: step {}{total}{}", if last.abandoned { "stopped" } else { last.status.as_str() }, last.step, if figures.is_empty() { String::new() } else { format!(", {figures}") });
    println!("{said}");
    if last.abandoned {
        anyhow::bail!("no process trains run {run} any more (killed or crashed): `muppet resume {run}` continues it from its last checkpoint");
    }
    if last.status == RunStatus::Failed {
        anyhow::bail!("run {run} failed: {}", last.failure.unwrap_or_else(|| "no reason was recorded".into()));
    }
    Ok(())
}
