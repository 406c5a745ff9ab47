//! `muppet-store-stress`: a worker-like process for the store's concurrency
//! and crash-safety tests (and for trying a database by hand).
//!
//! ```text
//! muppet-store-stress write DB NAME START COUNT BATCH
//!     Create (or reuse, by NAME) a run and write COUNT points of its series
//!     `train/loss` from step START (`resume:K` = K steps before the stored
//!     last step, replaying them) in batches of BATCH. After each commit prints
//!     `ack FIRST LAST`. The value of step s is `value(s)` below.
//! muppet-store-stress read DB MILLIS
//!     For MILLIS ms, list runs, query the runs table and fetch every series
//!     downsampled; prints `reads N`.
//! ```
//! Any error prints `error ...` and exits with status 1.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use muppet_core::{MetricPoint, RunId, RunKind};
use muppet_store::{NewRun, RunQuery, SeriesKey, Store, StoreError};

/// The value written at `step`; the tests recompute it to check what was stored.
fn value(step: u64) -> f64 {
    (step % 1009) as f64 * 0.25 - 100.0
}

#[derive(Debug, thiserror::Error)]
enum StressError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("usage: muppet-store-stress write DB NAME START|resume:K COUNT BATCH | read DB MILLIS ({0})")]
    Usage(String),
}

fn number(args: &[String], i: usize) -> Result<u64, StressError> {
    let arg = args.get(i).ok_or_else(|| StressError::Usage(format!("argument {i} missing")))?;
    arg.parse().map_err(|_| StressError::Usage(format!("`{arg}` is not a number")))
}

async fn write(args: &[String]) -> Result<(), StressError> {
    let db = PathBuf::from(args.get(2).ok_or_else(|| StressError::Usage("DB missing".into()))?);
    let name = args.get(3).ok_or_else(|| StressError::Usage("NAME missing".into()))?;
    let (count, batch) = (number(args, 5)?, number(args, 6)?.max(1));
    let store = Store::open(&db).await?;
    let run = match store.list_runs().await?.into_iter().find(|r| &r.name == name) {
        Some(r) => r.id,
        None => {
            let new = NewRun { name: name.clone(), kind: RunKind::PreFinetune, spec: serde_json::json!({"stress": true}), seed: None, backend: "none".into(), device: "cpu".into() };
            store.create_run(&new).await?
        }
    };
    let start = match args.get(4).map(String::as_str) {
        Some(s) if s.starts_with("resume:") => {
            let back: u64 = s["resume:".len()..].parse().map_err(|_| StressError::Usage(format!("`{s}`")))?;
            resume_from(&store, run, back).await?
        }
        _ => number(args, 4)?,
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "run {} from {start}", run.0)?;
    out.flush()?;
    let mut step = start;
    while step < start + count {
        let last = (step + batch).min(start + count) - 1;
        let points: Vec<MetricPoint> = (step..=last)
            .map(|s| MetricPoint { task: None, split: "train".into(), name: "loss".into(), step: s, examples: s * 32, wall_s: s as f64 * 0.01, value: value(s) })
            .collect();
        store.record_points(run, &points).await?;
        writeln!(out, "ack {step} {last}")?;
        out.flush()?;
        step = last + 1;
    }
    store.close().await;
    Ok(())
}

async fn resume_from(store: &Store, run: RunId, back: u64) -> Result<u64, StressError> {
    let Some(series) = store.find_series(run, &SeriesKey::new(None, "train", "loss")).await? else { return Ok(0) };
    let last = store.series_info(series).await?.summary.map(|s| s.last_step + 1).unwrap_or(0);
    Ok(last.saturating_sub(back))
}

async fn read(args: &[String]) -> Result<(), StressError> {
    let db = PathBuf::from(args.get(2).ok_or_else(|| StressError::Usage("DB missing".into()))?);
    let until = Instant::now() + Duration::from_millis(number(args, 3)?);
    let store = Store::open(&db).await?;
    let mut reads = 0u64;
    while Instant::now() < until {
        for run in store.list_runs().await? {
            for series in store.list_series(run.id).await? {
                store.fetch_series(series.id, 0..=u64::MAX, 500).await?;
            }
        }
        store.query_runs(&RunQuery::default()).await?;
        reads += 1;
    }
    println!("reads {reads}");
    store.close().await;
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let result = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(StressError::from).and_then(|rt| {
        rt.block_on(async {
            match args.get(1).map(String::as_str) {
                Some("write") => write(&args).await,
                Some("read") => read(&args).await,
                other => Err(StressError::Usage(format!("unknown mode {other:?}"))),
            }
        })
    });
    if let Err(err) = result {
        println!("error {err}");
        eprintln!("muppet-store-stress: {err}");
        std::process::exit(1);
    }
}
