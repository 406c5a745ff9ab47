//! A sweep's early termination: which of its running fine-tunes fall behind the finished
//! ones. A run's dev score at an evaluation is the one keep-best and early stopping use
//! ([`crate::best`]: the mean of its tasks' main dev metrics, higher is better).

use muppet_core::experiment::{EarlyTerminate, TerminateRule};

use super::{Arm, Role};

/// The tag of a run a sweep's rule stopped.
pub const PRUNED_TAG: &str = "pruned";

/// Why a run stops: at `step`, its best dev score so far (`best`) is below `median`, the
/// median of the scores `compared` finished runs had at that step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Verdict {
    pub step: u64,
    pub best: f64,
    pub median: f64,
    pub compared: usize,
}

impl Verdict {
    /// Why the run stops.
    pub fn reason(&self) -> String {
        let best = if self.best.is_finite() { format!("{:.4}", self.best) } else { "none (every score NaN)".into() };
        format!(
            "after step {} its best dev score so far, {best}, was below {:.4}, the median of the {} finished run{} of its task and start at that step",
            self.step,
            self.median,
            self.compared,
            if self.compared == 1 { "" } else { "s" }
        )
    }

    /// The run's note.
    pub fn note(&self) -> String {
        format!("Stopped early by the sweep's median rule: {} (a dev score is the mean of the tasks' main dev metrics).", self.reason())
    }
}

/// The rule's verdict on a run whose dev scores so far are `mine` (ascending by step), given
/// the dev scores of the finished runs of its task and start (`peers`); `None`: it goes on.
pub fn verdict(rule: &EarlyTerminate, mine: &[(u64, f64)], peers: &[&[(u64, f64)]]) -> Option<Verdict> {
    match rule.rule {
        TerminateRule::Median => median_verdict(rule, mine, peers),
    }
}

fn median_verdict(rule: &EarlyTerminate, mine: &[(u64, f64)], peers: &[&[(u64, f64)]]) -> Option<Verdict> {
    let &(step, _) = mine.last()?;
    if mine.len() < rule.grace_evals {
        return None;
    }
    let mut at: Vec<f64> = peers.iter().filter_map(|s| s.iter().find(|(st, _)| *st == step).map(|p| p.1)).filter(|v| !v.is_nan()).collect();
    if at.is_empty() || at.len() < rule.min_runs {
        return None;
    }
    at.sort_by(f64::total_cmp);
    let n = at.len();
    let median = if n % 2 == 1 { at[n / 2] } else { (at[n / 2 - 1] + at[n / 2]) / 2.0 };
    // A run whose every score is NaN has no best: it is behind any median.
    let best = mine.iter().map(|p| p.1).filter(|v| !v.is_nan()).fold(f64::NEG_INFINITY, f64::max);
    (best < median).then_some(Verdict { step, best, median, compared: n })
}

/// The runs a sweep's fine-tune is compared with share its task and what it starts from,
/// but for a swept stage, whose settings are what the sweep compares: its runs are compared
/// across the stage's settings. `None` for a run the rule never stops (a pre-finetuning
/// run, a fine-tune of another design).
pub fn peer_group(role: &Role) -> Option<(String, String)> {
    let Role::Finetune { task, arm, .. } = role else { return None };
    let start = match arm {
        Arm::Setting { start, .. } => match &**start {
            Arm::StageSetting { name, .. } => name.clone(),
            other => other.key(),
        },
        Arm::StageSetting { name, .. } => name.clone(),
        _ => return None,
    };
    Some((task.clone(), start))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(min_runs: usize, grace_evals: usize) -> EarlyTerminate {
        EarlyTerminate { rule: TerminateRule::Median, min_runs, grace_evals }
    }

    #[test]
    fn a_run_below_the_median_of_its_peers_at_its_step_stops() {
        let peers: [&[(u64, f64)]; 3] = [&[(10, 0.60), (20, 0.70)], &[(10, 0.50), (20, 0.80)], &[(10, 0.55), (20, 0.62)]];
        // At step 10 the median is 0.55: 0.54 is below it, 0.55 is not.
        let v = verdict(&rule(3, 1), &[(10, 0.54)], &peers).expect("stopped");
        assert_eq!((v.step, v.best, v.median, v.compared), (10, 0.54, 0.55, 3));
        assert_eq!(verdict(&rule(3, 1), &[(10, 0.55)], &peers), None, "not below: goes on");
        // The run's best so far counts, not its latest score: 0.71 at step 10 stays above 0.70.
        assert_eq!(verdict(&rule(3, 1), &[(10, 0.71), (20, 0.40)], &peers), None);
        let v = verdict(&rule(3, 1), &[(10, 0.60), (20, 0.65)], &peers).expect("0.65 < 0.70");
        assert_eq!((v.step, v.median), (20, 0.70));
        // An even count: the mean of the middle two.
        let two = &peers[..2];
        assert_eq!(verdict(&rule(2, 1), &[(10, 0.54)], two).map(|v| v.median), Some(0.55));
    }

    #[test]
    fn too_few_peers_at_the_step_or_too_few_evaluations_let_a_run_go_on() {
        let peers: [&[(u64, f64)]; 3] = [&[(10, 0.9)], &[(10, 0.9), (20, 0.9)], &[(10, f64::NAN), (20, 0.9)]];
        // Step 10: two scores (a NaN is no score); step 30: none at all.
        assert_eq!(verdict(&rule(3, 1), &[(10, 0.1)], &peers), None);
        assert!(verdict(&rule(2, 1), &[(10, 0.1)], &peers).is_some());
        assert_eq!(verdict(&rule(1, 1), &[(30, 0.1)], &peers), None, "no peer scored step 30");
        // Grace: the second evaluation is the first that may stop it.
        assert_eq!(verdict(&rule(2, 2), &[(10, 0.1)], &peers), None);
        assert!(verdict(&rule(2, 2), &[(10, 0.1), (20, 0.1)], &peers).is_some());
        assert_eq!(verdict(&rule(1, 1), &[], &peers), None);
        // A run with only NaN scores has no best and stops.
        let v = verdict(&rule(2, 1), &[(20, f64::NAN)], &peers).expect("stopped");
        assert_eq!(v.best, f64::NEG_INFINITY);
        assert!(v.note().contains("none (every score NaN)"), "{}", v.note());
    }

    #[test]
    fn a_verdict_note_names_the_step_the_scores_and_the_runs_compared() {
        let v = Verdict { step: 40, best: 0.61234, median: 0.7, compared: 1 };
        assert_eq!(
            v.note(),
            "Stopped early by the sweep's median rule: after step 40 its best dev score so far, 0.6123, was below 0.7000, the median of the 1 finished run of its task and start at that step (a dev score is the mean of the tasks' main dev metrics)."
        );
    }

    #[test]
    fn fine_tunes_are_compared_within_their_task_and_start_and_across_a_swept_stage() {
        let ft = |arm: Arm| Role::Finetune { task: "rte".into(), seed: 1, size: None, arm };
        let setting = |start: Arm| Arm::Setting { start: Box::new(start), values: "lr=0.0001".into(), named_start: false };
        assert_eq!(peer_group(&ft(setting(Arm::Base))), Some(("rte".into(), "base".into())));
        assert_eq!(peer_group(&ft(setting(Arm::Stage { name: "pft".into() }))), Some(("rte".into(), "pft".into())));
        let swept = Arm::StageSetting { name: "pft".into(), values: "lr=0.001".into() };
        assert_eq!(peer_group(&ft(setting(swept.clone()))), Some(("rte".into(), "pft".into())));
        assert_eq!(peer_group(&ft(swept.clone())), Some(("rte".into(), "pft".into())));
        assert_eq!(peer_group(&ft(Arm::Base)), None, "not a sweep's");
        assert_eq!(peer_group(&Role::PreFinetune { arm: swept }), None);
    }
}
