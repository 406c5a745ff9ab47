//! Two models' predictions on the same examples, compared pair by pair (the significance
//! tests of Dror et al. 2018, "The Hitchhiker's Guide to Testing Statistical Significance in
//! NLP"): the task's metric for each on the examples both scored, the difference with a
//! paired bootstrap interval (the same resampled examples for both), and for right-or-wrong
//! predictions (classification, multiple choice, a span's exact match) how often each is
//! right where the other is wrong, with McNemar's exact test of that split.
//!
//! The predictions are the JSON lines `muppet eval` writes ([`crate::score::write_predictions`]).

use std::collections::HashMap;
use std::path::Path;

use muppet_core::Metric;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::experiment::stats::{nearest_rank, SplitMix64};
use crate::metrics;

/// Seed of the paired bootstrap (fixed: the same predictions give the same interval).
pub const BOOTSTRAP_SEED: u64 = 0x5EED;
/// Resamples of the paired bootstrap unless told otherwise.
pub const DEFAULT_RESAMPLES: usize = 1000;
/// Examples where the two differ that the comparison lists, at most.
pub const DIFFERING_SHOWN: usize = 20;

/// One line of a predictions file: the fields the comparison reads.
#[derive(Debug, Clone, Deserialize)]
pub struct Row {
    pub example: usize,
    pub text: String,
    #[serde(default)]
    pub text_b: Option<String>,
    /// The gold label (a class name or index, a choice index, a value).
    #[serde(default)]
    pub label: Value,
    #[serde(default)]
    pub answers: Option<Vec<String>>,
    pub predicted: Value,
    #[serde(default)]
    pub correct: Option<bool>,
    #[serde(default)]
    pub exact_match: Option<bool>,
    #[serde(default)]
    pub f1: Option<f64>,
}

impl Row {
    /// Right or wrong, where the prediction is graded so.
    fn right(&self) -> Option<bool> {
        self.correct.or(self.exact_match)
    }
}

/// The rows of a predictions file; an error names the file and line.
pub fn read_rows(path: &Path) -> Result<Vec<Row>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).map_err(|e| format!("{} line {}: {e}; is it a predictions file of `muppet eval`?", path.display(), i + 1)))
        .collect()
}

/// How often two graded models are right and wrong on the same examples.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Agreement {
    pub both_right: usize,
    /// Right for the first model only.
    pub only_a: usize,
    /// Right for the second model only.
    pub only_b: usize,
    pub both_wrong: usize,
    /// McNemar's exact (binomial) two-sided p-value of `only_a` against `only_b`: how likely
    /// a split at least this uneven is if either model were as likely to be the one right.
    pub mcnemar_p: f64,
}

/// An example on which the two predictions differ.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Differing {
    pub example: usize,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text_b: Option<String>,
    /// The gold label, or a span's accepted answers.
    pub gold: Value,
    pub a: Value,
    pub b: Value,
    /// Whether each is right (graded predictions only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub a_right: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub b_right: Option<bool>,
}

/// The comparison of two models' predictions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Paired {
    /// The metric compared (the task's own), named as the scores name it.
    #[serde(serialize_with = "metric_name")]
    pub metric: Metric,
    /// Examples both scored, and those only one of them scored (left out).
    pub examples: usize,
    pub only_in_a: usize,
    pub only_in_b: usize,
    /// The metric of each on the shared examples, and `b - a`.
    pub a: f64,
    pub b: f64,
    pub difference: f64,
    /// The 2.5% and 97.5% points of `b - a` over the bootstrap resamples of the examples.
    pub interval: (f64, f64),
    /// Share of resamples where the difference's sign is not the observed one (0 or
    /// against it): the paired bootstrap's one-sided p-value (Berg-Kirkpatrick et al. 2012).
    pub bootstrap_p: f64,
    pub resamples: usize,
    pub seed: u64,
    /// Right and wrong of each, for graded predictions (not regression).
    pub agreement: Option<Agreement>,
    /// How many examples the two predict differently, and the first of them (graded: those
    /// where one is right and the other wrong first; values: where their errors differ most
    /// first).
    pub differing: usize,
    pub shown: Vec<Differing>,
}

/// Compare `a` and `b` (the rows of two predictions files of the same task) on the examples
/// both hold, in `metric`, with `resamples` bootstrap resamples.
pub fn compare(a: &[Row], b: &[Row], metric: Metric, resamples: usize) -> Result<Paired, String> {
    let in_b: HashMap<usize, &Row> = b.iter().map(|r| (r.example, r)).collect();
    let pairs: Vec<(&Row, &Row)> = a.iter().filter_map(|r| in_b.get(&r.example).map(|s| (r, *s))).collect();
    if pairs.is_empty() {
        return Err(format!(
            "the two scorings share no example ({} and {} examples, different ones): score the same examples, e.g. all of the task's (--examples all), or a task both runs scored on the same dev task",
            a.len(),
            b.len()
        ));
    }
    if let Some((r, _)) = pairs.iter().find(|(r, s)| r.text != s.text || r.text_b != s.text_b) {
        return Err(format!("example {} has other texts in the two scorings: they read different data of the task, so they cannot be paired", r.example));
    }
    let (rows_a, rows_b): (Vec<&Row>, Vec<&Row>) = pairs.iter().copied().unzip();
    let (stat_a, stat_b) = (statistic(metric, &rows_a)?, statistic(metric, &rows_b)?);
    let all: Vec<usize> = (0..pairs.len()).collect();
    let (value_a, value_b) = (stat_a(&all), stat_b(&all));
    let difference = value_b - value_a;
    // The same resampled examples for both.
    let differences = bootstrap(pairs.len(), resamples, |sample| stat_b(sample) - stat_a(sample));
    let against = differences.iter().filter(|&&d| if difference > 0.0 { d <= 0.0 } else if difference < 0.0 { d >= 0.0 } else { true }).count();
    let agreement = pairs.iter().map(|(r, s)| Some((r.right()?, s.right()?))).collect::<Option<Vec<_>>>().map(|graded| {
        let count = |x: bool, y: bool| graded.iter().filter(|&&g| g == (x, y)).count();
        let (only_a, only_b) = (count(true, false), count(false, true));
        Agreement { both_right: count(true, true), only_a, only_b, both_wrong: count(false, false), mcnemar_p: mcnemar_exact(only_a, only_b) }
    });
    let mut differing: Vec<Differing> = pairs
        .iter()
        .filter(|(r, s)| r.predicted != s.predicted)
        .map(|(r, s)| Differing {
            example: r.example,
            text: r.text.clone(),
            text_b: r.text_b.clone(),
            gold: r.answers.as_ref().map_or_else(|| r.label.clone(), |a| Value::from(a.clone())),
            a: r.predicted.clone(),
            b: s.predicted.clone(),
            a_right: r.right(),
            b_right: s.right(),
        })
        .collect();
    match agreement {
        // One right and the other wrong first, in example order (a stable sort).
        Some(_) => differing.sort_by_key(|d| d.a_right == d.b_right),
        // Values: where the two errors differ most first.
        None => {
            let gap = |d: &Differing| match (d.gold.as_f64(), d.a.as_f64(), d.b.as_f64()) {
                (Some(g), Some(a), Some(b)) => ((a - g).abs() - (b - g).abs()).abs(),
                _ => 0.0,
            };
            differing.sort_by(|x, y| gap(y).total_cmp(&gap(x)));
        }
    }
    let count = differing.len();
    differing.truncate(DIFFERING_SHOWN);
    Ok(Paired {
        metric,
        examples: pairs.len(),
        only_in_a: a.len() - pairs.len(),
        only_in_b: b.len() - pairs.len(),
        a: value_a,
        b: value_b,
        difference,
        interval: (nearest_rank(&differences, 0.025), nearest_rank(&differences, 0.975)),
        bootstrap_p: if differences.is_empty() { f64::NAN } else { against as f64 / differences.len() as f64 },
        resamples,
        seed: BOOTSTRAP_SEED,
        agreement,
        differing: count,
        shown: differing,
    })
}

/// A metric by the name its scores are stored and printed under.
fn metric_name<S: serde::Serializer>(metric: &Metric, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(metric.as_str())
}

/// A function of a resample (indices into the rows) giving the metric on it.
type Statistic<'r> = Box<dyn Fn(&[usize]) -> f64 + 'r>;

/// The metric of one model's `rows` on a sample of them.
fn statistic<'r>(metric: Metric, rows: &[&'r Row]) -> Result<Statistic<'r>, String> {
    let missing = |what: &str| format!("the predictions have no {what} for the metric {}: are they of a {} task?", metric.as_str(), family_of(metric));
    match metric {
        Metric::Accuracy | Metric::MacroF1 | Metric::Mcc => {
            // Classes (names or indices) numbered in the order met.
            let mut classes: HashMap<String, usize> = HashMap::new();
            let mut index = |v: &Value| {
                let n = classes.len();
                *classes.entry(v.to_string()).or_insert(n)
            };
            let (mut gold, mut predicted) = (Vec::with_capacity(rows.len()), Vec::with_capacity(rows.len()));
            for r in rows {
                if r.label.is_null() {
                    return Err(missing("gold label"));
                }
                gold.push(index(&r.label));
                predicted.push(index(&r.predicted));
            }
            let f = match metric {
                Metric::MacroF1 => metrics::macro_f1,
                Metric::Mcc => metrics::mcc,
                _ => metrics::accuracy,
            };
            Ok(Box::new(move |sample: &[usize]| {
                let pick = |v: &[usize]| sample.iter().map(|&i| v[i]).collect::<Vec<_>>();
                f(&pick(&predicted), &pick(&gold))
            }))
        }
        Metric::Pearson | Metric::Spearman => {
            let number = |v: &Value| v.as_f64().ok_or_else(|| missing("numeric label and prediction"));
            let (mut gold, mut predicted) = (Vec::with_capacity(rows.len()), Vec::with_capacity(rows.len()));
            for r in rows {
                gold.push(number(&r.label)?);
                predicted.push(number(&r.predicted)?);
            }
            let f = if metric == Metric::Spearman { metrics::spearman } else { metrics::pearson };
            Ok(Box::new(move |sample: &[usize]| {
                let pick = |v: &[f64]| sample.iter().map(|&i| v[i]).collect::<Vec<_>>();
                f(&pick(&predicted), &pick(&gold))
            }))
        }
        Metric::SpanF1 | Metric::SpanExactMatch => {
            let per_example = rows
                .iter()
                .map(|r| match metric {
                    Metric::SpanF1 => r.f1.ok_or_else(|| missing("F1 per example")),
                    _ => r.exact_match.map(|m| f64::from(u8::from(m))).ok_or_else(|| missing("exact match per example")),
                })
                .collect::<Result<Vec<f64>, String>>()?;
            Ok(Box::new(move |sample: &[usize]| sample.iter().map(|&i| per_example[i]).sum::<f64>() / sample.len() as f64))
        }
        Metric::RougeL => Err("generation tasks are not scored: nothing to compare".into()),
    }
}

/// Resample `n` examples with replacement `resamples` times (the fixed seed) and sort the
/// finite values `value(sample)` gives.
fn bootstrap(n: usize, resamples: usize, value: impl Fn(&[usize]) -> f64) -> Vec<f64> {
    let mut rng = SplitMix64::new(BOOTSTRAP_SEED);
    let mut sample = vec![0; n];
    let mut values = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        for s in sample.iter_mut() {
            *s = rng.below(n);
        }
        let v = value(&sample);
        if v.is_finite() {
            values.push(v);
        }
    }
    values.sort_by(f64::total_cmp);
    values
}

/// One model's figure with the 2.5% and 97.5% points of its bootstrap over the examples.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    /// Named as the scores name it (`f1`, not `span_f1`).
    #[serde(serialize_with = "metric_name")]
    pub metric: Metric,
    pub value: f64,
    pub low: f64,
    pub high: f64,
    pub examples: usize,
    pub resamples: usize,
    pub seed: u64,
}

/// The metric of one scoring's `rows` and its percentile bootstrap interval (how far the
/// figure could move with other examples of the same kind).
pub fn interval(rows: &[Row], metric: Metric, resamples: usize) -> Result<Interval, String> {
    if rows.is_empty() {
        return Err("no predictions to resample".into());
    }
    let refs: Vec<&Row> = rows.iter().collect();
    let stat = statistic(metric, &refs)?;
    let all: Vec<usize> = (0..rows.len()).collect();
    let values = bootstrap(rows.len(), resamples, &stat);
    Ok(Interval { metric, value: stat(&all), low: nearest_rank(&values, 0.025), high: nearest_rank(&values, 0.975), examples: rows.len(), resamples, seed: BOOTSTRAP_SEED })
}

fn family_of(metric: Metric) -> &'static str {
    match metric {
        Metric::Pearson | Metric::Spearman => "regression",
        Metric::SpanF1 | Metric::SpanExactMatch => "span",
        _ => "classification",
    }
}

/// McNemar's exact test: the two-sided binomial p-value of `b` against `c` discordant pairs
/// (twice the smaller tail of Binomial(b + c, 1/2), at most 1; 1 with no discordant pair).
pub fn mcnemar_exact(b: usize, c: usize) -> f64 {
    let n = b + c;
    if n == 0 {
        return 1.0;
    }
    let k = b.min(c);
    // ln C(n, i) - n ln 2, summed in log space (n may be large).
    let mut ln_choose = 0.0f64;
    let mut terms = Vec::with_capacity(k + 1);
    for i in 0..=k {
        if i > 0 {
            ln_choose += ((n - i + 1) as f64).ln() - (i as f64).ln();
        }
        terms.push(ln_choose - n as f64 * std::f64::consts::LN_2);
    }
    let top = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let tail = top.exp() * terms.iter().map(|t| (t - top).exp()).sum::<f64>();
    (2.0 * tail).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Reference numbers computed in Python: McNemar's p with exact fractions (`math.comb`),
    /// the bootstrap with the same SplitMix64 stream re-implemented there.
    const TOL: f64 = 1e-12;

    fn class_rows(gold: &[usize], predicted: &[usize]) -> Vec<Row> {
        let names = ["no", "yes"];
        gold.iter()
            .zip(predicted)
            .enumerate()
            .map(|(i, (&g, &p))| Row {
                example: i,
                text: format!("text {i}"),
                text_b: None,
                label: json!(names[g]),
                answers: None,
                predicted: json!(names[p]),
                correct: Some(g == p),
                exact_match: None,
                f1: None,
            })
            .collect()
    }

    fn value_rows(gold: &[f64], predicted: &[f64]) -> Vec<Row> {
        gold.iter()
            .zip(predicted)
            .enumerate()
            .map(|(i, (&g, &p))| Row { example: i, text: format!("text {i}"), text_b: None, label: json!(g), answers: None, predicted: json!(p), correct: None, exact_match: None, f1: None })
            .collect()
    }

    #[test]
    fn mcnemar_matches_exact_binomial_tails() {
        for (b, c, p) in [(12, 29, 0.011507789735333063), (5, 5, 1.0), (0, 3, 0.25), (1, 0, 1.0), (40, 60, 0.05688793364098079), (1000, 1100, 0.030720707864242296)] {
            let got = mcnemar_exact(b, c);
            // Relative: the tails are sums of many tiny terms in log space.
            assert!((got - p).abs() <= 1e-10 * p, "McNemar({b}, {c}) = {got}, Python {p}");
        }
        assert_eq!(mcnemar_exact(0, 0), 1.0);
        assert_eq!(mcnemar_exact(29, 12), mcnemar_exact(12, 29));
    }

    #[test]
    fn accuracy_is_compared_pair_by_pair_with_its_bootstrap_interval() {
        let gold = [0, 1, 1, 0, 1, 0, 0, 1, 1, 0];
        let a = class_rows(&gold, &[0, 1, 0, 0, 1, 1, 0, 0, 1, 0]);
        let b = class_rows(&gold, &[0, 1, 1, 0, 1, 0, 1, 1, 1, 0]);
        let p = compare(&a, &b, Metric::Accuracy, 200).expect("compared");
        assert_eq!((p.examples, p.only_in_a, p.only_in_b), (10, 0, 0));
        assert!((p.a - 0.7).abs() < TOL && (p.b - 0.9).abs() < TOL && (p.difference - 0.2).abs() < TOL, "{p:?}");
        assert!((p.interval.0 - -0.2).abs() < TOL && (p.interval.1 - 0.6).abs() < TOL, "{:?}", p.interval);
        assert!((p.bootstrap_p - 0.19).abs() < TOL, "{}", p.bootstrap_p);
        let agreement = p.agreement.expect("graded");
        assert_eq!((agreement.both_right, agreement.only_a, agreement.only_b, agreement.both_wrong), (6, 1, 3, 0));
        assert!((agreement.mcnemar_p - 0.625).abs() < TOL, "{}", agreement.mcnemar_p);
        // Examples 2, 5, 6, 7 differ; each has one right, in example order.
        assert_eq!(p.differing, 4);
        assert_eq!(p.shown.iter().map(|d| d.example).collect::<Vec<_>>(), [2, 5, 6, 7]);
        assert_eq!((&p.shown[2].gold, &p.shown[2].a, &p.shown[2].b, p.shown[2].a_right, p.shown[2].b_right), (&json!("no"), &json!("no"), &json!("yes"), Some(true), Some(false)));
        // The other way round: the difference and the interval change sign.
        let back = compare(&b, &a, Metric::Accuracy, 200).expect("compared");
        assert!((back.difference + 0.2).abs() < TOL);
    }

    #[test]
    fn one_scoring_gets_its_bootstrap_interval() {
        let gold = [0, 1, 1, 0, 1, 0, 0, 1, 1, 0];
        let rows = class_rows(&gold, &[0, 1, 0, 0, 1, 1, 0, 0, 1, 0]);
        let i = interval(&rows, Metric::Accuracy, 200).expect("interval");
        assert!((i.value - 0.7).abs() < TOL && (i.low - 0.3).abs() < TOL && (i.high - 0.9).abs() < TOL, "{i:?}");
        assert_eq!((i.examples, i.resamples, i.seed), (10, 200, BOOTSTRAP_SEED));
        assert!(interval(&[], Metric::Accuracy, 10).is_err());
    }

    #[test]
    fn regression_is_compared_in_its_correlation() {
        let gold = [0.1, 0.5, 0.9, 0.3, 0.7, 0.2, 0.8, 0.4];
        let a = value_rows(&gold, &[0.2, 0.4, 0.6, 0.5, 0.5, 0.3, 0.6, 0.5]);
        let b = value_rows(&gold, &[0.15, 0.55, 0.8, 0.35, 0.6, 0.25, 0.85, 0.3]);
        let p = compare(&a, &b, Metric::Pearson, 100).expect("compared");
        assert!((p.a - 0.8533684971523495).abs() < 1e-12 && (p.b - 0.9662746848563301).abs() < 1e-12, "{p:?}");
        assert!((p.interval.0 - -0.00867099959129114).abs() < 1e-12 && (p.interval.1 - 0.2949621588997564).abs() < 1e-12, "{:?}", p.interval);
        assert!((p.bootstrap_p - 0.06).abs() < TOL);
        assert!(p.agreement.is_none());
        assert_eq!(p.differing, 8);
        // ||error a| - |error b|| by example: 0.05, 0.05, 0.2, 0.15, 0.1, 0.05, 0.15, 0.0.
        assert_eq!((p.shown[0].example, p.shown[4].example, p.shown[7].example), (2, 0, 7));
    }

    #[test]
    fn only_shared_examples_are_paired_and_other_data_is_refused() {
        let gold = [0, 1, 1, 0];
        let a = class_rows(&gold, &[0, 1, 0, 0]);
        let mut b = class_rows(&gold, &[0, 1, 1, 1]);
        b.remove(0);
        b[0].example = 1;
        let p = compare(&a, &b, Metric::Accuracy, 10).expect("compared");
        assert_eq!((p.examples, p.only_in_a, p.only_in_b), (3, 1, 0));
        for r in b.iter_mut() {
            r.example += 10;
        }
        assert!(compare(&a, &b, Metric::Accuracy, 10).expect_err("refused").contains("share no example"));
        let mut other = class_rows(&gold, &[0, 1, 0, 0]);
        other[2].text = "something else".into();
        assert!(compare(&a, &other, Metric::Accuracy, 10).expect_err("refused").contains("example 2 has other texts"));
        assert!(compare(&a, &a, Metric::SpanF1, 10).expect_err("refused").contains("no F1 per example"));
    }
}
