//! Several processes on one database file, as the app and its workers use it:
//! concurrent writers and a reader see no "database is locked" and lose no
//! point; a writer killed with SIGKILL at random moments leaves an intact
//! database holding every acknowledged point exactly once.
//!
//! The writers are `muppet-store-stress` processes (src/bin), which print
//! `ack FIRST LAST` after each committed batch.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

use muppet_core::RunId;
use muppet_store::{SeriesKey, Store};

const STRESS: &str = env!("CARGO_BIN_EXE_muppet-store-stress");

/// Same as `value` in the stress binary.
fn value(step: u64) -> f64 {
    (step % 1009) as f64 * 0.25 - 100.0
}

fn spawn(args: &[&str]) -> Child {
    Command::new(STRESS).args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn muppet-store-stress")
}

/// Whole lines of a child's output (a line cut by a kill is dropped), and its stderr.
fn finish(mut child: Child, kill_after: Option<Duration>) -> (Vec<String>, String, Option<i32>) {
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        stdout.read_to_string(&mut s).expect("read stdout");
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        stderr.read_to_string(&mut s).expect("read stderr");
        s
    });
    if let Some(after) = kill_after {
        std::thread::sleep(after);
        // Rust's kill is SIGKILL on Unix; the child may have finished already.
        let _ = child.kill();
    }
    let status = child.wait().expect("wait");
    let out = out.join().expect("stdout thread");
    let complete = out.rsplit_once('\n').map_or("", |(whole, _)| whole);
    (complete.lines().map(str::to_string).collect(), err.join().expect("stderr thread"), status.code())
}

/// The (first, last) step ranges a writer acknowledged, and the run it wrote.
fn acks(lines: &[String]) -> (Option<RunId>, Vec<(u64, u64)>) {
    let mut run = None;
    let mut ranges = Vec::new();
    for line in lines {
        let parts: Vec<&str> = line.split_whitespace().collect();
        match parts.as_slice() {
            ["run", id, "from", _] => run = Some(RunId(i64::from_str(id).expect("run id"))),
            ["ack", a, b] => ranges.push((a.parse().expect("first"), b.parse().expect("last"))),
            _ => {}
        }
    }
    (run, ranges)
}

async fn integrity(path: &Path) -> String {
    let options = sqlx::sqlite::SqliteConnectOptions::from_str("sqlite://").expect("options").filename(path);
    let pool = sqlx::SqlitePool::connect_with(options).await.expect("connect");
    let result: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&pool).await.expect("integrity_check");
    pool.close().await;
    result
}

/// Every stored point of the run's `train/loss`, checked against `value`, with
/// its summary and rollup agreeing with the raw points.
async fn stored_steps(store: &Store, run: RunId) -> Vec<u64> {
    let raw = store.series(run, None, "train", "loss").await.expect("series");
    for (step, v) in &raw {
        assert_eq!(*v, value(*step), "step {step} of run {run}");
    }
    let steps: Vec<u64> = raw.iter().map(|p| p.0).collect();
    assert!(steps.windows(2).all(|w| w[0] < w[1]), "each step once");
    if let Some(id) = store.find_series(run, &SeriesKey::new(None, "train", "loss")).await.expect("find") {
        let summary = store.series_info(id).await.expect("info").summary.expect("summary");
        assert_eq!(summary.count, steps.len() as u64, "summary count of run {run}");
        assert_eq!(Some(summary.last_step), steps.last().copied());
        let buckets = store.fetch_series(id, 0..=u64::MAX, 300).await.expect("fetch");
        assert_eq!(buckets.iter().map(|b| b.count).sum::<u64>(), steps.len() as u64, "rollup count of run {run}");
    }
    steps
}

#[tokio::test(flavor = "multi_thread")]
async fn three_writers_and_a_reader_lose_nothing_and_never_see_locked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("muppet.db");
    let db_arg = db.to_str().expect("utf-8 path");
    const N: u64 = 20_000;
    // No open beforehand: the four processes also race to create and migrate the file.
    let writers: Vec<Child> = (0..3).map(|i| spawn(&["write", db_arg, &format!("writer-{i}"), "0", &N.to_string(), "100"])).collect();
    let reader = spawn(&["read", db_arg, "2500"]);
    let started = Instant::now();
    let results: Vec<_> = writers.into_iter().map(|w| finish(w, None)).collect();
    let (reader_lines, reader_err, reader_code) = finish(reader, None);
    eprintln!("3 x {N} points written in {:?}", started.elapsed());

    assert_eq!(reader_code, Some(0), "reader: {reader_lines:?} {reader_err}");
    assert!(reader_lines.iter().any(|l| l.starts_with("reads ")), "{reader_lines:?}");
    let store = Store::open(&db).await.expect("open");
    for (lines, err, code) in &results {
        assert!(!err.contains("locked") && !lines.iter().any(|l| l.contains("locked")), "{err}");
        assert_eq!(*code, Some(0), "writer failed: {:?} {err}", lines.last());
        let (run, ranges) = acks(lines);
        let run = run.expect("run line");
        assert_eq!(ranges.len() as u64, N / 100, "every batch acknowledged");
        let steps = stored_steps(&store, run).await;
        assert_eq!(steps, (0..N).collect::<Vec<_>>(), "run {run}: all points, once");
    }
    assert_eq!(integrity(&db).await, "ok");
}

/// A small xorshift: the test prints its seed so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_writer_killed_at_random_moments_loses_no_acknowledged_point() {
    let seed = std::env::var("STRESS_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64) | 1
    });
    eprintln!("STRESS_SEED={seed}");
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("muppet.db");
    let db_arg = db.to_str().expect("utf-8 path");
    let started = Instant::now();
    let mut acknowledged: Vec<(u64, u64)> = Vec::new();
    let mut kills = 0;
    let mut run = None;
    let mut store: Option<Store> = None;
    // Each restart resumes 37 steps before the stored end, replaying them as a
    // real resume from a checkpoint does.
    while kills < 25 {
        let batch = 1 + rng.below(400);
        let child = spawn(&["write", db_arg, "crashy", "resume:37", "1000000000", &batch.to_string()]);
        let (lines, err, code) = finish(child, Some(Duration::from_millis(5 + rng.below(150))));
        assert!(code.is_none(), "the writer must die by the signal, not exit: {code:?} {err}");
        let (r, ranges) = acks(&lines);
        run = run.or(r);
        kills += 1;
        // Check before the next writer replays the tail: what this one
        // acknowledged must be stored now, not healed later by a replay.
        if let (Some(run), Some(&(_, last_ack))) = (run, ranges.last()) {
            if store.is_none() {
                store = Some(Store::open(&db).await.expect("open between kills"));
            }
            let s = store.as_ref().expect("store");
            let series = s.find_series(run, &SeriesKey::new(None, "train", "loss")).await.expect("find").expect("series");
            let summary = s.series_info(series).await.expect("info").summary.expect("summary");
            assert!(last_ack <= summary.last_step, "kill {kills}: acknowledged step {last_ack} lost (stored up to {})", summary.last_step);
            assert_eq!(summary.count, summary.last_step + 1, "kill {kills}: a gap or a duplicate");
        }
        acknowledged.extend(ranges);
    }
    if let Some(s) = store.take() {
        s.close().await;
    }
    // A last writer runs to completion after the crashes.
    let (lines, err, code) = finish(spawn(&["write", db_arg, "crashy", "resume:37", "500", "64"]), None);
    assert_eq!(code, Some(0), "{err}");
    acknowledged.extend(acks(&lines).1);
    eprintln!("{kills} kills, {} acknowledged batches, {:?}", acknowledged.len(), started.elapsed());

    assert_eq!(integrity(&db).await, "ok");
    let store = Store::open(&db).await.expect("open after crashes");
    let run = run.expect("some writer got as far as creating its run");
    let steps = stored_steps(&store, run).await;
    let max = *steps.last().expect("points");
    assert_eq!(steps, (0..=max).collect::<Vec<_>>(), "resumed writers leave no gap and no duplicate");
    for &(a, b) in &acknowledged {
        assert!(b <= max, "acknowledged batch {a}..={b} is lost (stored up to {max})");
    }
    assert!(acknowledged.len() > 25, "the writers must get some batches in between kills");
    assert!(started.elapsed() < Duration::from_secs(30), "took {:?}", started.elapsed());
}
