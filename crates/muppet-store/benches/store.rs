//! Store benchmarks (goals in BENCHMARKS.md, "Store"):
//! - ingest: points per second through `record_points` (summaries and rollups included);
//! - fetch: a 1M-point series downsampled to 2,000 buckets;
//! - runs table: one page of 10,000 runs with 20 parameters and 50 series each,
//!   sorted by a series summary, with and without a parameter filter.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use muppet_core::{MetricPoint, RunId, RunKind};
use muppet_store::{NewRun, ParamFilter, ParamOp, RunQuery, RunSort, SeriesKey, Store, SummaryStat};
use tokio::runtime::Runtime;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime")
}

fn new_run(name: &str, spec: serde_json::Value) -> NewRun {
    NewRun { name: name.into(), kind: RunKind::PreFinetune, spec, seed: Some(1), backend: "flex".into(), device: "cpu".into() }
}

fn point(task: Option<&str>, split: &str, name: &str, step: u64, value: f64) -> MetricPoint {
    MetricPoint { task: task.map(str::to_string), split: split.into(), name: name.into(), step, examples: step * 32, wall_s: step as f64 * 0.1, value }
}

/// Batches of 10,000 points, appended (the training loop's case), for one
/// run-wide series and spread over 10 series.
fn ingest(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = rt.block_on(Store::open(&dir.path().join("ingest.db"))).expect("open");
    let mut group = c.benchmark_group("ingest");
    group.sample_size(20).measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements(10_000));
    for series in [1u64, 10] {
        let run = rt.block_on(store.create_run(&new_run(&format!("ingest-{series}"), serde_json::json!({})))).expect("run");
        let names: Vec<String> = (0..series).map(|i| format!("metric_{i}")).collect();
        let mut next = 0u64;
        group.bench_function(format!("10k_points_{series}_series"), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let per = 10_000 / series;
                    let batch: Vec<MetricPoint> = (0..per)
                        .flat_map(|i| names.iter().map(move |n| (i, n)))
                        .map(|(i, n)| point(None, "train", n, next + i, ((next + i) % 977) as f64 * 1e-3))
                        .collect();
                    next += per;
                    let start = Instant::now();
                    rt.block_on(store.record_points(run, &batch)).expect("ingest");
                    total += start.elapsed();
                }
                total
            })
        });
    }
    group.finish();
}

fn fetch(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = rt.block_on(Store::open(&dir.path().join("fetch.db"))).expect("open");
    let run = rt.block_on(store.create_run(&new_run("long", serde_json::json!({})))).expect("run");
    for chunk in (0..1_000_000u64).collect::<Vec<_>>().chunks(10_000) {
        let batch: Vec<MetricPoint> = chunk.iter().map(|&s| point(None, "train", "loss", s, 1.0 / (1.0 + s as f64))).collect();
        rt.block_on(store.record_points(run, &batch)).expect("ingest");
    }
    let id = rt.block_on(store.find_series(run, &SeriesKey::new(None, "train", "loss"))).expect("find").expect("series");
    let mut group = c.benchmark_group("fetch");
    group.sample_size(50);
    group.bench_function("1M_points_to_2000_buckets", |b| {
        b.iter(|| {
            let buckets = rt.block_on(store.fetch_series(id, 0..=u64::MAX, 2000)).expect("fetch");
            assert!(buckets.len() > 1000 && buckets.len() <= 2000);
            black_box(buckets)
        })
    });
    group.bench_function("1M_points_window_of_100k_to_2000_buckets", |b| {
        b.iter(|| black_box(rt.block_on(store.fetch_series(id, 450_000..=549_999, 2000)).expect("fetch")))
    });
    group.finish();
}

fn runs_table(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = rt.block_on(Store::open(&dir.path().join("runs.db"))).expect("open");
    let tasks: Vec<String> = (0..16).map(|i| format!("task_{i}")).collect();
    let setup = Instant::now();
    rt.block_on(async {
        for r in 0..10_000u64 {
            let mut spec = serde_json::Map::new();
            for p in 0..20u64 {
                spec.insert(format!("param_{p}"), serde_json::json!(((r * 31 + p * 7) % 100) as f64 / 100.0));
            }
            let run = store.create_run(&new_run(&format!("run-{r}"), serde_json::Value::Object(spec))).await.expect("run");
            // 50 series: train loss, lr, and train/dev loss and accuracy of 12 tasks.
            let mut points = vec![point(None, "train", "loss", 100, (r % 997) as f64), point(None, "train", "lr", 100, 1e-5)];
            for t in &tasks[..12] {
                for split in ["train", "dev"] {
                    for name in ["loss", "accuracy"] {
                        points.push(point(Some(t), split, name, 100, ((r * 13) % 1000) as f64 / 1000.0));
                    }
                }
            }
            store.record_points(run, &points).await.expect("points");
        }
    });
    let series = rt.block_on(store.list_series(RunId(1))).expect("series").len();
    assert_eq!(series, 50);
    eprintln!("runs table: 10,000 runs x 50 series set up in {:?}", setup.elapsed());

    let by_accuracy = RunSort::Summary { key: SeriesKey::new(Some("task_3"), "dev", "accuracy"), stat: SummaryStat::Best };
    let mut group = c.benchmark_group("runs_table");
    group.sample_size(30);
    group.bench_function("10k_runs_sorted_by_summary_page_of_50", |b| {
        let q = RunQuery { sort: by_accuracy.clone(), offset: 5_000, ..Default::default() };
        b.iter(|| {
            let page = rt.block_on(store.query_runs(&q)).expect("query");
            assert_eq!((page.total, page.rows.len()), (10_000, 50));
            black_box(page)
        })
    });
    group.bench_function("10k_runs_param_filter_sorted_by_summary", |b| {
        let q = RunQuery {
            sort: by_accuracy.clone(),
            params: vec![ParamFilter { path: "$.param_7".into(), op: ParamOp::Lt, value: serde_json::json!(0.5) }],
            ..Default::default()
        };
        b.iter(|| black_box(rt.block_on(store.query_runs(&q)).expect("query")))
    });
    group.bench_function("10k_runs_newest_first_page_of_50", |b| {
        b.iter(|| black_box(rt.block_on(store.query_runs(&RunQuery::default())).expect("query")))
    });
    group.finish();
}

criterion_group!(benches, ingest, fetch, runs_table);
criterion_main!(benches);
