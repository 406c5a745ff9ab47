//! The worker's own resources over a run, as W&B's system charts and MLflow's system metrics
//! show them: its resident memory (`system/rss_mb`), its CPU use in percent of one core
//! (`system/cpu_percent`, above 100 when it uses several) and, on CUDA, the GPU memory its
//! tensors hold (`system/gpu_mb`), read at most every [`SAMPLE_EVERY`] and after the last
//! update, stored as series of the run at the step just done. Its peak memory
//! (`system/peak_rss_mb`) is stored once per worker session.

use std::time::{Duration, Instant};

use muppet_core::observer::{CPU_NAME, GPU_MEMORY_NAME, MEMORY_NAME, PEAK_MEMORY_NAME, SYSTEM_SPLIT};
use muppet_core::{MetricPoint, RunEvent, RunObserver};
use muppet_train::backend::{device_memory, BackendKind};
use muppet_train::TrainSummary;

const MB: f64 = 1024.0 * 1024.0;

/// How often the resources are read while a run trains.
pub const SAMPLE_EVERY: Duration = Duration::from_secs(2);

/// Linux reports process times in ticks of 1/100 s (`USER_HZ`, the same on every
/// architecture Linux supports).
const TICKS_PER_S: f64 = 100.0;

/// Passes every event on to `inner`, and after an update, when [`SAMPLE_EVERY`] has passed
/// since the last reading (or it was the last update), a `Metrics` event with the readings.
pub struct SystemSampler<'a> {
    inner: &'a mut dyn RunObserver,
    /// The run's backend: on CUDA, its GPU memory is read too.
    backend: BackendKind,
    every: Duration,
    /// When the CPU time was last read, and its value in seconds.
    last: Option<(Instant, f64)>,
    /// The examples seen and the seconds of the last update reported.
    at: (u64, f64),
}

impl<'a> SystemSampler<'a> {
    pub fn new(inner: &'a mut dyn RunObserver, backend: BackendKind) -> Self {
        Self::every(inner, backend, SAMPLE_EVERY)
    }

    fn every(inner: &'a mut dyn RunObserver, backend: BackendKind, every: Duration) -> Self {
        SystemSampler { inner, backend, every, last: None, at: (0, 0.0) }
    }

    /// The readings after update `step`, and the CPU time they were taken at.
    fn readings(&self, step: u64, now: Instant, cpu_s: Option<f64>) -> Vec<MetricPoint> {
        let point = |name: &str, value: f64| MetricPoint {
            task: None,
            split: SYSTEM_SPLIT.into(),
            name: name.into(),
            step,
            examples: self.at.0,
            wall_s: self.at.1,
            value,
        };
        let mut points = Vec::new();
        if let Some(memory) = device_memory(BackendKind::Cpu) {
            points.push(point(MEMORY_NAME, memory.in_use as f64 / MB));
        }
        if matches!(self.backend, BackendKind::Cuda | BackendKind::CudaF16 | BackendKind::CudaBf16)
            && let Some(memory) = device_memory(self.backend)
        {
            points.push(point(GPU_MEMORY_NAME, memory.in_use as f64 / MB));
        }
        // Over half an interval at least: the times come in ticks of 10 ms (a reading right
        // after another, at the last update, has no CPU figure).
        if let (Some((then, before)), Some(cpu)) = (self.last, cpu_s) {
            let wall = now.duration_since(then);
            if wall >= self.every / 2 {
                points.push(point(CPU_NAME, 100.0 * (cpu - before).max(0.0) / wall.as_secs_f64()));
            }
        }
        points
    }
}

impl RunObserver for SystemSampler<'_> {
    fn on_event(&mut self, event: &RunEvent) {
        self.inner.on_event(event);
        match event {
            // CPU use is measured over the training, from its start.
            RunEvent::Started { .. } => self.last = cpu_seconds().map(|cpu| (Instant::now(), cpu)),
            RunEvent::Metrics { points, .. } => {
                if let Some(p) = points.iter().find(|p| p.split == "train") {
                    self.at = (p.examples, p.wall_s);
                }
            }
            RunEvent::Step { run, step, total_steps } => {
                let now = Instant::now();
                let due = self.last.is_none_or(|(then, _)| now.duration_since(then) >= self.every);
                if !due && step < total_steps {
                    return;
                }
                let cpu = cpu_seconds();
                let points = self.readings(*step, now, cpu);
                if let Some(cpu) = cpu {
                    self.last = Some((now, cpu));
                }
                if !points.is_empty() {
                    self.inner.on_event(&RunEvent::Metrics { run: *run, points });
                }
            }
            _ => {}
        }
    }
}

/// The worker's peak memory as a point of the run's `system/peak_rss_mb` series (a
/// resumed run has one per worker session).
pub fn peak_memory_point(summary: &TrainSummary, mb: f64, wall_s: f64) -> MetricPoint {
    MetricPoint {
        task: None,
        split: SYSTEM_SPLIT.into(),
        name: PEAK_MEMORY_NAME.into(),
        step: summary.steps,
        examples: summary.examples,
        wall_s,
        value: mb,
    }
}

/// This process's peak resident set size in MB, where the system reports it.
pub fn peak_rss_mb() -> Option<f64> {
    device_memory(BackendKind::Cpu).map(|m| m.reserved as f64 / MB)
}

/// The CPU time this process has used, user and system, in seconds.
fn cpu_seconds() -> Option<f64> {
    stat_cpu_seconds(&std::fs::read_to_string("/proc/self/stat").ok()?)
}

/// `utime` + `stime` of a /proc/PID/stat line (fields 14 and 15; the command name, field 2,
/// is in parentheses and may hold spaces).
fn stat_cpu_seconds(stat: &str) -> Option<f64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<u64>().ok();
    // After the name, field 3 (the state) comes first: utime is field 14.
    Some((ticks(11)? + ticks(12)?) as f64 / TICKS_PER_S)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_and_cpu_time_are_read_from_proc() {
        // A name with spaces and a parenthesis; utime 250 and stime 50 ticks.
        let stat = "4242 (muppet (x) y) R 1 4242 4242 0 -1 4194304 100 0 0 0 250 50 0 0 20 0 3 0 1000 1000000 5000";
        assert_eq!(stat_cpu_seconds(stat), Some(3.0));
        assert_eq!(stat_cpu_seconds("4242 (muppet) R 1"), None);
        if cfg!(target_os = "linux") {
            assert!(peak_rss_mb().expect("Linux reports VmHWM") > 1.0);
            assert!(cpu_seconds().expect("and the CPU time") >= 0.0);
        }
    }

    /// Keeps every event.
    #[derive(Default)]
    struct Kept(Vec<RunEvent>);

    impl RunObserver for Kept {
        fn on_event(&mut self, event: &RunEvent) {
            self.0.push(event.clone());
        }
    }

    fn loss(step: u64) -> RunEvent {
        let point = MetricPoint { task: None, split: "train".into(), name: "loss".into(), step, examples: 16 * step, wall_s: step as f64 / 2.0, value: 1.0 };
        RunEvent::Metrics { run: muppet_core::RunId(1), points: vec![point] }
    }

    #[test]
    fn readings_follow_the_updates_at_most_once_an_interval_and_after_the_last() {
        let run = muppet_core::RunId(1);
        let mut kept = Kept::default();
        {
            let mut sampler = SystemSampler::every(&mut kept, BackendKind::Cpu, Duration::from_millis(150));
            sampler.on_event(&RunEvent::Started { run, total_steps: 4 });
            for step in 1..=4 {
                sampler.on_event(&loss(step));
                sampler.on_event(&RunEvent::Step { run, step, total_steps: 4 });
                // Busy for 200 ms after step 2: a reading is due after step 3.
                if step == 2 {
                    let until = Instant::now() + Duration::from_millis(200);
                    while Instant::now() < until {
                        std::hint::black_box(0);
                    }
                }
            }
        }
        let readings: Vec<&MetricPoint> = kept.0.iter().filter_map(|e| match e {
            RunEvent::Metrics { points, .. } => Some(points.iter().filter(|p| p.split == SYSTEM_SPLIT)),
            _ => None,
        }).flatten().collect();
        let at = |name: &str| readings.iter().filter(|p| p.name == name).map(|p| (p.step, p.examples)).collect::<Vec<_>>();
        assert_eq!(at(MEMORY_NAME), [(3, 48), (4, 64)], "{readings:?}");
        // Step 4 comes right after step 3: too soon for a CPU figure.
        assert_eq!(at(CPU_NAME), [(3, 48)], "{readings:?}");
        // Busy for 200 ms of the 200 ms and more since the start: most of one core.
        let busy = readings.iter().find(|p| p.name == CPU_NAME).expect("cpu").value;
        assert!((30.0..=250.0).contains(&busy), "{busy}");
        assert!(readings.iter().all(|p| p.task.is_none() && p.value >= 0.0));
        assert!(at(GPU_MEMORY_NAME).is_empty(), "no GPU memory on the CPU");
        // Every event of the run is passed on, the readings after the update they follow.
        assert_eq!(kept.0.iter().filter(|e| matches!(e, RunEvent::Step { .. })).count(), 4);
    }
}
