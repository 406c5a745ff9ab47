//! Dev metrics as pure functions: accuracy, macro-F1, Matthews correlation, Pearson and
//! Spearman correlation, and SQuAD's exact match and F1 on normalised answer text.
//! Definitions follow scikit-learn, SciPy and the official SQuAD v1.1 script; the tests
//! hold reference numbers computed with them.

use std::collections::HashMap;

/// Share of predictions equal to the gold label.
pub fn accuracy(pred: &[usize], gold: &[usize]) -> f64 {
    if gold.is_empty() {
        return f64::NAN;
    }
    pred.iter().zip(gold).filter(|(p, g)| p == g).count() as f64 / gold.len() as f64
}

/// Unweighted mean of per-class F1 over the classes present in `gold` or `pred`
/// (scikit-learn's `f1_score(average="macro")`).
pub fn macro_f1(pred: &[usize], gold: &[usize]) -> f64 {
    if gold.is_empty() {
        return f64::NAN;
    }
    let n = pred.iter().chain(gold).max().map_or(0, |m| m + 1);
    let (mut tp, mut fp, mut fnn) = (vec![0usize; n], vec![0usize; n], vec![0usize; n]);
    for (&p, &g) in pred.iter().zip(gold) {
        if p == g {
            tp[p] += 1;
        } else {
            fp[p] += 1;
            fnn[g] += 1;
        }
    }
    let present: Vec<usize> = (0..n).filter(|&c| tp[c] + fp[c] + fnn[c] > 0).collect();
    let sum: f64 = present
        .iter()
        .map(|&c| {
            let d = 2 * tp[c] + fp[c] + fnn[c];
            if d == 0 { 0.0 } else { 2.0 * tp[c] as f64 / d as f64 }
        })
        .sum();
    sum / present.len() as f64
}

/// Matthews correlation coefficient, multi-class form (scikit-learn's `matthews_corrcoef`);
/// 0 when either side is constant.
pub fn mcc(pred: &[usize], gold: &[usize]) -> f64 {
    if gold.is_empty() {
        return f64::NAN;
    }
    let n = pred.iter().chain(gold).max().map_or(0, |m| m + 1);
    let (mut t, mut p) = (vec![0f64; n], vec![0f64; n]);
    let mut correct = 0f64;
    for (&pp, &g) in pred.iter().zip(gold) {
        t[g] += 1.0;
        p[pp] += 1.0;
        if pp == g {
            correct += 1.0;
        }
    }
    let s = gold.len() as f64;
    let tp: f64 = t.iter().zip(&p).map(|(a, b)| a * b).sum();
    let cov_ytyp = correct * s - tp;
    let cov_ypyp = s * s - p.iter().map(|x| x * x).sum::<f64>();
    let cov_ytyt = s * s - t.iter().map(|x| x * x).sum::<f64>();
    let denom = (cov_ytyt * cov_ypyp).sqrt();
    if denom == 0.0 { 0.0 } else { cov_ytyp / denom }
}

pub use muppet_core::correlation::{pearson, spearman};

/// SQuAD answer normalisation: lower case, punctuation removed, the articles a/an/the
/// removed, whitespace collapsed.
pub fn normalize_answer(s: &str) -> String {
    let lower: String = s.to_lowercase().chars().filter(|c| !is_punctuation(*c)).collect();
    lower.split_whitespace().filter(|w| !matches!(*w, "a" | "an" | "the")).collect::<Vec<_>>().join(" ")
}

/// Python's `string.punctuation`, which the SQuAD script removes.
fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation()
}

/// 1 when the normalised prediction equals a normalised gold answer, else 0.
pub fn exact_match(prediction: &str, golds: &[&str]) -> f64 {
    let p = normalize_answer(prediction);
    if golds.iter().any(|g| normalize_answer(g) == p) { 1.0 } else { 0.0 }
}

/// Best token-overlap F1 of the normalised prediction against the gold answers.
pub fn span_f1(prediction: &str, golds: &[&str]) -> f64 {
    golds.iter().map(|g| token_f1(prediction, g)).fold(0.0, f64::max)
}

fn token_f1(prediction: &str, gold: &str) -> f64 {
    let (p, g) = (normalize_answer(prediction), normalize_answer(gold));
    let (p, g): (Vec<&str>, Vec<&str>) = (p.split_whitespace().collect(), g.split_whitespace().collect());
    let mut counts: HashMap<&str, i64> = HashMap::new();
    for w in &g {
        *counts.entry(w).or_default() += 1;
    }
    let mut same = 0i64;
    for w in &p {
        if let Some(c) = counts.get_mut(w)
            && *c > 0
        {
            *c -= 1;
            same += 1;
        }
    }
    if same == 0 {
        return 0.0;
    }
    let precision = same as f64 / p.len() as f64;
    let recall = same as f64 / g.len() as f64;
    2.0 * precision * recall / (precision + recall)
}

/// ROUGE-L F1 of a written text against the best of its references, as Google's
/// `rouge_score` computes it without stemming: lower case, every character outside
/// `[a-z0-9]` a separator, the longest common subsequence of the tokens.
pub fn rouge_l(prediction: &str, references: &[&str]) -> f64 {
    references.iter().map(|r| rouge_l_one(prediction, r)).fold(0.0, f64::max)
}

fn rouge_tokens(s: &str) -> Vec<String> {
    let lower = s.to_lowercase();
    lower.split(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit())).filter(|t| !t.is_empty()).map(str::to_string).collect()
}

fn rouge_l_one(prediction: &str, reference: &str) -> f64 {
    let (p, r) = (rouge_tokens(prediction), rouge_tokens(reference));
    if p.is_empty() || r.is_empty() {
        return 0.0;
    }
    // One row of the LCS table at a time.
    let mut prev = vec![0usize; p.len() + 1];
    for rt in &r {
        let mut row = vec![0usize; p.len() + 1];
        for (j, pt) in p.iter().enumerate() {
            row[j + 1] = if rt == pt { prev[j] + 1 } else { row[j].max(prev[j + 1]) };
        }
        prev = row;
    }
    let lcs = prev[p.len()] as f64;
    if lcs == 0.0 {
        return 0.0;
    }
    let (precision, recall) = (lcs / p.len() as f64, lcs / r.len() as f64);
    2.0 * precision * recall / (precision + recall)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rouge_l_matches_rouge_score() {
        // rouge_score's README: target "The quick brown fox jumps over the lazy dog",
        // prediction "The quick brown dog jumps on the log." -> rougeL precision 0.625,
        // recall 0.5556, fmeasure 0.5882352941176471 (LCS "the quick brown jumps the").
        let f = rouge_l("The quick brown dog jumps on the log.", &["The quick brown fox jumps over the lazy dog"]);
        assert!((f - 0.5882352941176471).abs() < TOL, "{f}");
        // The best reference counts; punctuation and case are separators only.
        let f = rouge_l("A cat, sat!", &["dogs ran", "the CAT sat"]);
        // LCS 2 ("cat sat"): precision 2/3, recall 2/3.
        assert!((f - 2.0 / 3.0).abs() < TOL, "{f}");
        assert_eq!(rouge_l("", &["x"]), 0.0);
        assert_eq!(rouge_l("x y", &["z"]), 0.0);
        assert!((rouge_l("same words here", &["Same words, here."]) - 1.0).abs() < TOL);
    }

    const TOL: f64 = 1e-9;

    // scikit-learn 1.9.1 `f1_score(GOLD, PRED, average="macro")`, `matthews_corrcoef(GOLD, PRED)`;
    // SciPy `pearsonr(x, y)[0]`, `spearmanr(x, y)[0]` for the x, y below.
    const SK_MACRO_F1: f64 = 0.6984126984126983;
    const SK_MCC: f64 = 0.5606060606060606;
    const SP_PEARSON: f64 = 0.974410432587015;
    const SP_SPEARMAN: f64 = 0.9856107606091624;

    // gold = [0, 1, 2, 2, 1, 0, 2, 1, 1, 0]; pred = [0, 2, 2, 2, 1, 0, 1, 1, 0, 0]
    const GOLD: [usize; 10] = [0, 1, 2, 2, 1, 0, 2, 1, 1, 0];
    const PRED: [usize; 10] = [0, 2, 2, 2, 1, 0, 1, 1, 0, 0];

    #[test]
    fn classification_metrics_match_scikit_learn() {
        assert!((accuracy(&PRED, &GOLD) - 0.7).abs() < TOL);
        assert!((macro_f1(&PRED, &GOLD) - SK_MACRO_F1).abs() < TOL, "{}", macro_f1(&PRED, &GOLD));
        assert!((mcc(&PRED, &GOLD) - SK_MCC).abs() < TOL, "{}", mcc(&PRED, &GOLD));
        assert_eq!(mcc(&[1, 1, 1], &[0, 1, 0]), 0.0);
    }

    #[test]
    fn correlations_match_scipy() {
        let x = [1.0, 2.0, 2.0, 3.5, 5.0, 0.5];
        let y = [0.8, 2.5, 1.9, 3.0, 6.0, 0.2];
        assert!((pearson(&x, &y) - SP_PEARSON).abs() < TOL, "{}", pearson(&x, &y));
        assert!((spearman(&x, &y) - SP_SPEARMAN).abs() < TOL, "{}", spearman(&x, &y));
    }

    #[test]
    fn squad_metrics_follow_the_official_script() {
        assert_eq!(normalize_answer("The  Eiffel Tower!"), "eiffel tower");
        assert_eq!(exact_match("the Eiffel tower", &["Eiffel Tower", "Paris"]), 1.0);
        assert_eq!(exact_match("Eiffel", &["Eiffel Tower"]), 0.0);
        // prediction "eiffel tower paris" vs gold "eiffel tower": P = 2/3, R = 1, F1 = 0.8.
        assert!((span_f1("Eiffel Tower, Paris", &["the Eiffel Tower", "London"]) - 0.8).abs() < TOL);
        assert_eq!(span_f1("nothing", &["Eiffel Tower"]), 0.0);
    }
}

