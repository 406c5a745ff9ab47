//! From the fine-tunes' dev metrics to the points the charts and the CSV show: per
//! downstream task, starting point and size (or number of tasks), the mean over seeds
//! with its spread and interval, and the gain over the base model, paired by seed (the
//! same seed draws the same dev split and training subset for every starting point).

use std::collections::{BTreeMap, BTreeSet};

use muppet_core::ExperimentKind;
use serde::Serialize;

use super::fit::GainPoint;
use super::stats::{summarize, Summary};
use super::{Arm, Plan, Role};

/// The task label of the mean over downstream tasks.
pub const ALL_TASKS: &str = "mean of downstream tasks";

/// One fine-tune's final dev metric.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Observation {
    pub task: String,
    pub arm: Arm,
    pub size: Option<usize>,
    pub seed: u64,
    pub value: f64,
}

/// The fine-tunes of `plan` that have a value (by run name), as observations.
pub fn observations(plan: &Plan, values: &BTreeMap<String, f64>) -> Vec<Observation> {
    plan.runs
        .iter()
        .filter_map(|run| match &run.role {
            Role::Finetune { task, seed, size, arm } => values.get(&run.name).map(|&value| Observation {
                task: task.clone(),
                arm: arm.clone(),
                size: *size,
                seed: *seed,
                value,
            }),
            Role::PreFinetune { .. } => None,
        })
        .collect()
}

/// Per (arm, size, seed), the mean over the tasks, where every task has a value.
pub fn mean_over_tasks(obs: &[Observation]) -> Vec<Observation> {
    let tasks: BTreeSet<&str> = obs.iter().map(|o| o.task.as_str()).collect();
    let mut cells: BTreeMap<(Arm, Option<usize>, u64), Vec<f64>> = BTreeMap::new();
    for o in obs {
        cells.entry((o.arm.clone(), o.size, o.seed)).or_default().push(o.value);
    }
    cells
        .into_iter()
        .filter(|(_, v)| v.len() == tasks.len())
        .map(|((arm, size, seed), v)| Observation { task: ALL_TASKS.into(), arm, size, seed, value: v.iter().sum::<f64>() / v.len() as f64 })
        .collect()
}

/// A point of a chart: a task, an arm, an x (training size, number of tasks, or the
/// variant's position), the metric over seeds and the gain over base paired by seed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Point {
    pub task: String,
    pub arm: Arm,
    pub x: f64,
    pub size: Option<usize>,
    pub value: Summary,
    /// `None` where no base fine-tune shares a seed with this arm's.
    pub gain: Option<Summary>,
}

/// The x of an observation: the training size (sample efficiency), the number of tasks
/// (task count; the base model is 0) or nothing (ablation, placed by the chart).
fn x_of(kind: ExperimentKind, o: &Observation) -> f64 {
    match kind {
        ExperimentKind::SampleEfficiency => o.size.map_or(f64::NAN, |n| n as f64),
        ExperimentKind::TaskCount => match o.arm {
            Arm::Tasks { k } => k as f64,
            Arm::Base => 0.0,
            _ => f64::NAN,
        },
        ExperimentKind::BatchingAblation | ExperimentKind::Sweep => f64::NAN,
    }
}

/// Aggregate observations over seeds, ordered by task, arm, size.
pub fn points(kind: ExperimentKind, obs: &[Observation]) -> Vec<Point> {
    let mut base: BTreeMap<(&str, Option<usize>, u64), f64> = BTreeMap::new();
    for o in obs.iter().filter(|o| o.arm == Arm::Base) {
        base.insert((o.task.as_str(), o.size, o.seed), o.value);
    }
    // Per (task, arm, size): the x, the values and the paired gains.
    type Cell = (f64, Vec<f64>, Vec<f64>);
    let mut cells: BTreeMap<(&str, &Arm, Option<usize>), Cell> = BTreeMap::new();
    for o in obs {
        let cell = cells.entry((o.task.as_str(), &o.arm, o.size)).or_insert_with(|| (x_of(kind, o), Vec::new(), Vec::new()));
        cell.1.push(o.value);
        if let Some(b) = base.get(&(o.task.as_str(), o.size, o.seed)) {
            cell.2.push(o.value - b);
        }
    }
    cells
        .into_iter()
        .filter_map(|((task, arm, size), (x, values, gains))| {
            Some(Point { task: task.to_string(), arm: arm.clone(), x, size, value: summarize(&values)?, gain: summarize(&gains) })
        })
        .collect()
}

/// Task count: the per-seed gains of one task over the base model, with the base model
/// itself at k = 0 (gain 0), for the hinge fit.
pub fn task_count_gains(obs: &[Observation], task: &str) -> Vec<GainPoint> {
    let base: BTreeMap<(Option<usize>, u64), f64> =
        obs.iter().filter(|o| o.task == task && o.arm == Arm::Base).map(|o| ((o.size, o.seed), o.value)).collect();
    let mut out = Vec::new();
    for o in obs.iter().filter(|o| o.task == task) {
        let k = match o.arm {
            Arm::Base => 0.0,
            Arm::Tasks { k } => k as f64,
            _ => continue,
        };
        if let Some(b) = base.get(&(o.size, o.seed)) {
            out.push(GainPoint { k, seed: o.seed, gain: o.value - b });
        }
    }
    out.sort_by(|a, b| a.k.total_cmp(&b.k).then(a.seed.cmp(&b.seed)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::{expand, fit};

    fn obs(task: &str, arm: Arm, size: Option<usize>, seed: u64, value: f64) -> Observation {
        Observation { task: task.into(), arm, size, seed, value }
    }

    #[test]
    fn means_and_paired_gains_by_hand() {
        let pft = Arm::Stage { name: "pft".into() };
        let o = vec![
            obs("x", Arm::Base, Some(16), 1, 0.50),
            obs("x", Arm::Base, Some(16), 2, 0.60),
            obs("x", Arm::Base, Some(16), 3, 0.70),
            obs("x", pft.clone(), Some(16), 1, 0.60),
            obs("x", pft.clone(), Some(16), 2, 0.80),
            obs("x", pft.clone(), Some(16), 3, 0.70),
        ];
        let p = points(ExperimentKind::SampleEfficiency, &o);
        assert_eq!(p.len(), 2);
        let (b, s) = (&p[0], &p[1]);
        assert_eq!((b.arm.clone(), b.x), (Arm::Base, 16.0));
        assert!((b.value.mean - 0.6).abs() < 1e-12 && (b.value.sd - 0.1).abs() < 1e-12);
        // Base gains are 0 by definition.
        assert_eq!(b.gain.map(|g| g.mean), Some(0.0));
        // pft: mean 0.7, sd 0.1; gains 0.1, 0.2, 0.0 -> mean 0.1, sd 0.1,
        // interval 0.1 +- 4.302653 * 0.1 / sqrt(3) = 0.1 +- 0.248414.
        assert!((s.value.mean - 0.7).abs() < 1e-12 && (s.value.sd - 0.1).abs() < 1e-12);
        let g = s.gain.expect("paired");
        assert!((g.mean - 0.1).abs() < 1e-12 && (g.sd - 0.1).abs() < 1e-12, "{g:?}");
        assert!((g.ci_low - (0.1 - 0.248_414)).abs() < 1e-6 && (g.ci_high - (0.1 + 0.248_414)).abs() < 1e-6, "{g:?}");
    }

    #[test]
    fn mean_over_tasks_needs_every_task() {
        let o = vec![
            obs("x", Arm::Base, Some(16), 1, 0.4),
            obs("y", Arm::Base, Some(16), 1, 0.8),
            obs("x", Arm::Base, Some(16), 2, 0.5),
        ];
        let m = mean_over_tasks(&o);
        assert_eq!(m.len(), 1, "seed 2 lacks y");
        assert!((m[0].value - 0.6).abs() < 1e-12);
        assert_eq!(m[0].task, ALL_TASKS);
    }

    #[test]
    fn task_count_points_feed_the_fit() {
        let s: muppet_core::ExperimentSpec = serde_json::from_value(serde_json::json!({
            "name": "tc",
            "task_count": {"pool": ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"], "sizes": [2, 4, 6, 8, 10], "held_out": ["x"], "seeds": [1, 2]}
        }))
        .expect("spec");
        let plan = expand(&s).expect("plan");
        // Metric = 0.5 + the exact hinge of fit.rs's tests (gain 0 at k = 0, -0.5/task to 4, then +1/task).
        let hinge = |k: f64| (if k <= 4.0 { -0.5 * k } else { -2.0 + (k - 4.0) }) / 10.0;
        let mut values = BTreeMap::new();
        for run in &plan.runs {
            if let Role::Finetune { arm, seed, .. } = &run.role {
                let k = match arm {
                    Arm::Tasks { k } => *k as f64,
                    _ => 0.0,
                };
                values.insert(run.name.clone(), 0.5 + hinge(k) + if *seed == 1 { 0.01 } else { -0.01 });
            }
        }
        let o = observations(&plan, &values);
        assert_eq!(o.len(), 2 * 6);
        let p = points(ExperimentKind::TaskCount, &o);
        assert_eq!(p.iter().map(|p| p.x).collect::<Vec<_>>(), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        let gains = task_count_gains(&o, "x");
        assert_eq!(gains.len(), 12);
        let cp = fit::critical_point(&gains, 100, 1).expect("fit");
        let fit::Crossing::At { k } = cp.crossing else { panic!("{cp:?}") };
        assert!((k - 6.0).abs() < 1e-6, "{k}");
    }
}
