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
    error: Option<StoreError>,
}

/// Flush when this many points are waiting...
const MAX_BUFFER: usize = 2048;
/// ...or when the oldest waited this long.
const MAX_DELAY: Duration = Duration::from_secs(1);

impl StoreObserver {
    pub fn new(store: Store, handle: Handle) -> Self {
        Self { store, handle, buffer: Vec::new(), last_flush: Instant::now(), error: None }
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
        let terminal = matches!(event, RunEvent::Finished { .. } | RunEvent::Failed { .. });
        if let RunEvent::Metrics { run, points } = event {
            self.buffer.extend(points.iter().map(|p| (*run, p.clone())));
        }
        if (terminal || self.buffer.len() >= MAX_BUFFER || self.last_flush.elapsed() >= MAX_DELAY)
            && let Err(err) = self.flush()
        {
            self.error.get_or_insert(err);
        }
    }
}
