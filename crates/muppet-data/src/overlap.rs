//! Contamination checks: examples of one task whose input text (normalised: lower case,
//! letters and digits only, single spaces) also appears in another task. A downstream
//! task that shares examples with a task of the pre-finetuning mixture measures
//! memorisation, not transfer (DATA.md warns that the Rotten Tomatoes snippets and
//! VADER's movie snippets are largely the same sentences).

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};

use serde::Serialize;

use muppet_core::task::CheckedTask;

use crate::{Example, LabeledTask};

/// Letters and digits in lower case, words separated by one space.
pub fn normalize(s: &str) -> String {
    let kept: String = s.chars().map(|c| if c.is_alphanumeric() { c.to_lowercase().next().unwrap_or(c) } else { ' ' }).collect();
    kept.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Hash of an example's normalised input (its texts and choices, not its target).
fn input_hash(e: &Example) -> Option<u64> {
    let text = normalize(&e.text_a);
    let b = e.text_b.as_deref().map(normalize).unwrap_or_default();
    if text.is_empty() && b.is_empty() {
        return None;
    }
    let mut h = DefaultHasher::new();
    (text, b, e.choices.iter().map(|c| normalize(c)).collect::<Vec<_>>()).hash(&mut h);
    Some(h.finish())
}

/// The set of normalised inputs of a task.
pub fn input_hashes(task: &LabeledTask) -> HashSet<u64> {
    task.examples.iter().filter_map(input_hash).collect()
}

/// How many examples of a task also appear in `other`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overlap {
    pub other: String,
    /// Distinct normalised inputs found in both.
    pub shared: usize,
    /// Distinct normalised inputs of the task checked.
    pub of: usize,
}

impl Overlap {
    pub fn percent(&self) -> f64 {
        100.0 * self.shared as f64 / self.of.max(1) as f64
    }
}

/// The tasks of `others` (the task itself skipped) that share inputs with `task`, most
/// shared first.
pub fn overlaps(task: &LabeledTask, others: &[LabeledTask]) -> Vec<Overlap> {
    let mine = input_hashes(task);
    let mut found: Vec<Overlap> = others
        .iter()
        .filter(|o| o.spec.name != task.spec.name)
        .map(|o| Overlap { other: o.spec.name.clone(), shared: input_hashes(o).intersection(&mine).count(), of: mine.len() })
        .filter(|o| o.shared > 0)
        .collect();
    found.sort_by(|a, b| b.shared.cmp(&a.shared).then(a.other.cmp(&b.other)));
    found
}

/// One task's side of a check over many tasks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskOverlaps {
    pub task: String,
    /// Fingerprint of the task's data.
    pub fingerprint: String,
    /// Distinct normalised inputs of the task.
    pub inputs: usize,
    /// The other tasks that share inputs with it, most shared first.
    pub overlaps: Vec<Overlap>,
}

/// What a check needs of a task: its distinct normalised inputs and the fingerprint of its
/// data. Small enough to keep in place of the data, so a later check (after an import)
/// does not read every task again.
#[derive(Debug, Clone)]
pub struct TaskInputs {
    pub task: String,
    pub fingerprint: String,
    hashes: HashSet<u64>,
}

impl TaskInputs {
    pub fn of(task: &LabeledTask) -> Self {
        Self { task: task.spec.name.clone(), fingerprint: crate::fingerprint::task_fingerprint(task), hashes: input_hashes(task) }
    }
}

/// Every task of `tasks` against every other: each task's inputs are hashed once (tasks
/// on all cores), then each pair is intersected once and reported from both sides.
pub fn check_all(tasks: &[LabeledTask]) -> Vec<TaskOverlaps> {
    use rayon::prelude::*;
    let inputs: Vec<TaskInputs> = tasks.par_iter().map(TaskInputs::of).collect();
    check_inputs(&inputs.iter().collect::<Vec<_>>())
}

/// [`check_all`] over tasks whose inputs are already hashed.
pub fn check_inputs(all: &[&TaskInputs]) -> Vec<TaskOverlaps> {
    let mut found: Vec<TaskOverlaps> = all
        .iter()
        .map(|t| TaskOverlaps { task: t.task.clone(), fingerprint: t.fingerprint.clone(), inputs: t.hashes.len(), overlaps: Vec::new() })
        .collect();
    for i in 0..all.len() {
        for j in i + 1..all.len() {
            let (a, b) = (&all[i].hashes, &all[j].hashes);
            let (small, large) = if a.len() <= b.len() { (a, b) } else { (b, a) };
            let shared = small.iter().filter(|h| large.contains(h)).count();
            if shared > 0 {
                found[i].overlaps.push(Overlap { other: all[j].task.clone(), shared, of: a.len() });
                found[j].overlaps.push(Overlap { other: all[i].task.clone(), shared, of: b.len() });
            }
        }
    }
    for t in &mut found {
        t.overlaps.sort_by(|a, b| b.shared.cmp(&a.shared).then(a.other.cmp(&b.other)));
    }
    found
}

/// A check as the store keeps it: each task with its fingerprint and distinct inputs, and
/// `(task, other, shared)` for every ordered pair that shares inputs.
pub fn for_store(found: &[TaskOverlaps]) -> (Vec<CheckedTask>, Vec<(String, String, i64)>) {
    let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    let checked = found.iter().map(|t| CheckedTask { task: t.task.clone(), fingerprint: t.fingerprint.clone(), inputs: count(t.inputs) }).collect();
    let pairs = found.iter().flat_map(|t| t.overlaps.iter().map(|o| (t.task.clone(), o.other.clone(), count(o.shared)))).collect();
    (checked, pairs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use muppet_core::{TaskFamily, TaskSpec};

    fn task(name: &str, texts: &[&str]) -> LabeledTask {
        let spec = TaskSpec::new(name, TaskFamily::Single, vec!["a".into(), "b".into()], "test", "none");
        LabeledTask { spec, examples: texts.iter().map(|t| Example::class(*t, None, 0)).collect() }
    }

    #[test]
    fn shared_inputs_are_found_through_case_and_punctuation() {
        assert_eq!(normalize("  It's a GREAT film -- really!  "), "it s a great film really");
        let downstream = task("down", &["A great film.", "Dull and long", "Unique line"]);
        let mixture = [task("up", &["a GREAT film", "dull, and long!", "other"]), task("clean", &["nothing shared"])];
        let found = overlaps(&downstream, &mixture);
        assert_eq!(found, vec![Overlap { other: "up".into(), shared: 2, of: 3 }]);
        assert!((found[0].percent() - 66.666).abs() < 0.01);
        // Labels do not matter: the same input with another label is still a leak.
        let relabelled = LabeledTask { examples: vec![Example::class("a great film", None, 1)], ..task("x", &[]) };
        assert_eq!(overlaps(&relabelled, &mixture)[0].shared, 1);
    }

    #[test]
    fn a_check_over_all_tasks_agrees_with_one_task_at_a_time() {
        let tasks = [
            task("down", &["A great film.", "Dull and long", "Unique line", "unique LINE"]),
            task("up", &["a GREAT film", "dull, and long!", "other"]),
            task("clean", &["nothing shared"]),
            task("copy", &["Other", "a great film"]),
        ];
        let all = check_all(&tasks);
        assert_eq!(all.iter().map(|t| (t.task.as_str(), t.inputs)).collect::<Vec<_>>(), [("down", 3), ("up", 3), ("clean", 1), ("copy", 2)]);
        for (t, checked) in tasks.iter().zip(&all) {
            assert_eq!(checked.overlaps, overlaps(t, &tasks), "{}", t.spec.name);
        }
        // By hand: down shares 2 with up and 1 with copy; up shares 2 with copy.
        assert_eq!(all[1].overlaps, vec![Overlap { other: "copy".into(), shared: 2, of: 3 }, Overlap { other: "down".into(), shared: 2, of: 3 }]);
        assert!(all[2].overlaps.is_empty());
    }
}
