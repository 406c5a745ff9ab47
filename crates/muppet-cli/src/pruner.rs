//! A sweep's early termination during orchestration: the dev scores each worker reports are
//! judged by the sweep's rule ([`muppet_train::experiment::prune`]) against the finished
//! runs of the same task and start; a run that falls behind is asked to stop (SIGUSR1: it
//! ends after its update, `completed`, as early stopping does), then tagged `pruned` with a
//! note saying why.

use std::collections::BTreeMap;

use muppet_core::experiment::EarlyTerminate;
use muppet_core::{MuppetHome, RunId};
use muppet_store::{NoteTarget, Store};
use muppet_train::experiment::prune::{self, Verdict};
use muppet_train::experiment::Plan;
use muppet_train::manifest::RunManifest;

pub use muppet_train::experiment::prune::PRUNED_TAG;

pub struct Pruner {
    rule: EarlyTerminate,
    /// Each planned run's group of runs it is compared with; `None`: never stopped.
    groups: Vec<Option<(String, String)>>,
    /// Dev scores of the finished runs the rule compares with (not those it stopped).
    finished: BTreeMap<usize, Vec<(u64, f64)>>,
    /// Dev scores of the running runs so far.
    running: BTreeMap<usize, Vec<(u64, f64)>>,
    /// Runs asked to stop, and why.
    asked: BTreeMap<usize, Verdict>,
}

impl Pruner {
    pub fn new(rule: EarlyTerminate, plan: &Plan) -> Self {
        let groups = plan.runs.iter().map(|r| prune::peer_group(&r.role)).collect();
        Self { rule, groups, finished: BTreeMap::new(), running: BTreeMap::new(), asked: BTreeMap::new() }
    }

    /// Run `i` (stored as `run`) finished earlier: its scores are compared with, unless the
    /// rule stopped it.
    pub async fn finished_before(&mut self, home: &MuppetHome, store: &Store, i: usize, run: RunId) {
        if self.groups[i].is_none() || store.run_tags(run).await.is_ok_and(|tags| tags.iter().any(|t| t == PRUNED_TAG)) {
            return;
        }
        self.finished.insert(i, stored_scores(home, store, run).await);
    }

    /// Run `i` starts (or starts again): the scores it stored before count toward its best.
    pub async fn starting(&mut self, home: &MuppetHome, store: &Store, i: usize, run: RunId) {
        if self.groups[i].is_some() {
            self.running.insert(i, stored_scores(home, store, run).await);
        }
    }

    /// Run `i` reported its dev score after `step` (`None`: NaN). A verdict when the rule
    /// stops it now; the caller asks the worker to stop.
    pub fn scored(&mut self, i: usize, step: u64, score: Option<f64>) -> Option<Verdict> {
        let group = self.groups[i].as_ref()?;
        if self.asked.contains_key(&i) {
            return None;
        }
        let mine = self.running.entry(i).or_default();
        mine.retain(|(s, _)| *s < step);
        mine.push((step, score.unwrap_or(f64::NAN)));
        let peers: Vec<&[(u64, f64)]> = self.finished.iter().filter(|(j, _)| **j != i && self.groups[**j].as_ref() == Some(group)).map(|(_, s)| s.as_slice()).collect();
        let verdict = prune::verdict(&self.rule, mine, &peers)?;
        self.asked.insert(i, verdict);
        Some(verdict)
    }

    /// Run `i`'s worker ended. Completed and stopped early on the rule's request: the verdict
    /// to keep with it. Completed otherwise: its scores join those compared with (only runs
    /// the rule may stop have scores here).
    pub fn ended(&mut self, i: usize, completed: bool, stopped_early: bool) -> Option<Verdict> {
        let scores = self.running.remove(&i);
        match (completed, self.asked.remove(&i)) {
            (true, Some(v)) if stopped_early => Some(v),
            (true, _) => {
                self.finished.extend(scores.map(|s| (i, s)));
                None
            }
            _ => None,
        }
    }
}

/// Keep why the rule stopped `run`: its note and the `pruned` tag.
pub async fn keep_verdict(store: &Store, run: RunId, verdict: &Verdict) -> anyhow::Result<()> {
    store.add_note(NoteTarget::Run(run), &verdict.note()).await?;
    store.tag_run(run, PRUNED_TAG).await?;
    Ok(())
}

/// A stored run's dev scores after training began (the evaluation before training judges the
/// starting model, not the run); none for a run not yet started.
async fn stored_scores(home: &MuppetHome, store: &Store, run: RunId) -> Vec<(u64, f64)> {
    let Ok(manifest) = RunManifest::read(&home.run_dir(run)) else { return Vec::new() };
    crate::best::dev_scores(store, &manifest, run).await.unwrap_or_default().into_iter().filter(|(s, _)| *s > 0).collect()
}
