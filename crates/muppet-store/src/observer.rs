//! The store as a [`RunObserver`]: the engine's metric points are buffered and
//! written in batched transactions, at least once a second and at the end.

use std::time::{Duration, Instant};

use muppet_core::{MetricPoint, RunEvent, RunObserver};
use tokio::runtime::Handle;

use crate::{Store, StoreError};

/// Buffered writer of a run's points. Call from a thread that is not a Tokio
/// worker (the training thread): writes block on `handle`.
pub struct StoreObserver {
    store: Store,
    handle: Handle,
    buffer: Vec<(muppet_core::RunId, MetricPoint)>,
    last_flush: Instant,
    max_delay: Duration,
    error: Option<StoreError>,
}

/// Flush when this many points are waiting...
const MAX_BUFFER: usize = 2048;
/// ...or when the oldest waited this long.
const MAX_DELAY: Duration = Duration::from_secs(1);

impl StoreObserver {
    /// An observer writing to `store` through `handle`, at least once a second.
    pub fn new(store: Store, handle: Handle) -> Self {
        Self { store, handle, buffer: Vec::new(), last_flush: Instant::now(), max_delay: MAX_DELAY, error: None }
    }

    /// Flush when buffered points waited `max_delay` (default one second).
    pub fn with_max_delay(mut self, max_delay: Duration) -> Self {
        self.max_delay = max_delay;
        self
    }

    /// Write what is buffered; returns the first error met so far.
    pub fn flush(&mut self) -> Result<(), StoreError> {
        if let Some(err) = self.error.take() {
            return Err(err);
        }
        self.last_flush = Instant::now();
        if self.buffer.is_empty() {
            return Ok(());
        }
        let points = std::mem::take(&mut self.buffer);
        let store = self.store.clone();
        self.handle.block_on(async move {
            let mut start = 0;
            while start < points.len() {
                let run = points[start].0;
                let end = points[start..].iter().position(|(r, _)| *r != run).map_or(points.len(), |n| start + n);
                let batch: Vec<MetricPoint> = points[start..end].iter().map(|(_, p)| p.clone()).collect();
                store.record_points(run, &batch).await?;
                start = end;
            }
            Ok(())
        })
    }
}

impl RunObserver for StoreObserver {
    fn on_event(&mut self, event: &RunEvent) {
        let terminal = matches!(event, RunEvent::Finished { .. } | RunEvent::Failed { .. } | RunEvent::Cancelled { .. });
        if let RunEvent::Metrics { run, points } = event {
            self.buffer.extend(points.iter().map(|p| (*run, p.clone())));
        }
        if (terminal || self.buffer.len() >= MAX_BUFFER || self.last_flush.elapsed() >= self.max_delay)
            && let Err(err) = self.flush()
        {
            self.error.get_or_insert(err);
        }
    }
}

#[cfg(test)]
mod tests {
    use muppet_core::{RunId, RunKind};

    use super::*;

    fn metrics(run: RunId, from: u64) -> RunEvent {
        let points = (from..from + 3)
            .map(|step| MetricPoint { task: None, split: "train".into(), name: "loss".into(), step, examples: step, wall_s: 0.0, value: 1.0 })
            .collect();
        RunEvent::Metrics { run, points }
    }

    #[test]
    fn points_wait_for_the_delay_or_the_end_of_the_run() {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        let dir = tempfile::tempdir().expect("tempdir");
        let store = rt.block_on(Store::open(&dir.path().join("muppet.db"))).expect("open");
        let new = crate::NewRun { name: "r".into(), kind: RunKind::PreFinetune, spec: serde_json::json!({}), seed: None, backend: "flex".into(), device: "cpu".into() };
        let run = rt.block_on(store.create_run(&new)).expect("run");
        let stored = |store: &Store| rt.block_on(store.series(run, None, "train", "loss")).expect("series").len();

        let mut slow = StoreObserver::new(store.clone(), rt.handle().clone()).with_max_delay(Duration::from_secs(3600));
        slow.on_event(&metrics(run, 0));
        assert_eq!(stored(&store), 0, "buffered");
        slow.on_event(&RunEvent::Finished { run });
        assert_eq!(stored(&store), 3, "flushed at the end of the run");

        let mut eager = StoreObserver::new(store.clone(), rt.handle().clone()).with_max_delay(Duration::ZERO);
        eager.on_event(&metrics(run, 10));
        assert_eq!(stored(&store), 6, "flushed once the delay passed");
        assert!(eager.flush().is_ok());
    }
}
