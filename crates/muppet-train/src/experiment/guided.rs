//! A random search guided by its scores (W&B's `bayes` method; Optuna's default sampler): the
//! tree-structured Parzen estimator (TPE) of Bergstra et al., "Algorithms for
//! Hyper-Parameter Optimization" (NeurIPS 2011).
//!
//! The settings tried so far are split by their score into the best quarter (at least one)
//! and the rest. For each field of `sweep.random`, a density is fitted to each part: over a
//! range, a Parzen window of one Gaussian kernel per setting in the field's own scale (the
//! logarithm of a log-uniform field), each as wide as the larger gap to its neighbours
//! (Hyperopt's rule) and cut to the range, plus the range's uniform prior as one more
//! kernel; over a list of values, the counts of each value with a prior of one spread over
//! the list. Candidates are drawn from the best part's densities and the one where the best
//! part is most likely against the rest (the largest sum over the fields of
//! `ln l(x) − ln g(x)`) is proposed, rounded as a drawn value is. Each setting proposed
//! counts as tried with the worst score so far (a "constant liar") when the next is proposed,
//! so that several proposed at once spread out.

use std::collections::BTreeSet;
use std::f64::consts::{PI, SQRT_2};

use muppet_core::experiment::ConfigOverrides;

use super::random::{label, rounded, Field};
use super::stats::SplitMix64;

/// Settings with a score that a guided proposal needs: fewer say too little of where the
/// good ones are (Optuna draws 10 at random first; a sweep here draws its `count`).
pub const MIN_TRIED: usize = 4;

/// The share of the settings tried that makes the best part.
const GAMMA: f64 = 0.25;

/// Candidates drawn for each proposal (Optuna's and Hyperopt's default).
const CANDIDATES: usize = 24;

/// Rounds of candidates before giving up on finding one not tried yet.
const ROUNDS: usize = 40;

/// `n` settings proposed from the settings `tried` and their scores (higher is better) over
/// `fields`, none of them one of `taken` (the labels of the settings tried or planned, to
/// which they are added), with `seed`: the same tries give the same proposals.
pub(super) fn propose(fields: &[(String, Field)], tried: &[(ConfigOverrides, f64)], taken: &mut BTreeSet<String>, n: usize, seed: u64) -> Result<Vec<ConfigOverrides>, String> {
    let scored: Vec<&(ConfigOverrides, f64)> = tried.iter().filter(|(_, y)| y.is_finite()).collect();
    if scored.len() < MIN_TRIED {
        return Err(format!(
            "a guided draw needs the scores of at least {MIN_TRIED} settings, and {} {} one: draw more at random first (--more N without --guided) and train them",
            scored.len(),
            if scored.len() == 1 { "has" } else { "have" }
        ));
    }
    let mut rng = SplitMix64::new(seed);
    let mut history: Vec<(ConfigOverrides, f64)> = scored.into_iter().cloned().collect();
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let worst = history.iter().map(|(_, y)| *y).fold(f64::INFINITY, f64::min);
        let proposal = propose_one(fields, &history, taken, &mut rng)?;
        taken.insert(label(&proposal));
        history.push((proposal.clone(), worst));
        out.push(proposal);
    }
    Ok(out)
}

/// One setting: the best of the candidates drawn from the best part's densities that is not
/// taken.
fn propose_one(fields: &[(String, Field)], history: &[(ConfigOverrides, f64)], taken: &BTreeSet<String>, rng: &mut SplitMix64) -> Result<ConfigOverrides, String> {
    let mut order: Vec<&(ConfigOverrides, f64)> = history.iter().collect();
    order.sort_by(|a, b| b.1.total_cmp(&a.1));
    let good_n = ((GAMMA * order.len() as f64).ceil() as usize).clamp(1, order.len() - 1);
    let (good, bad) = order.split_at(good_n);
    let densities: Vec<(&str, &Field, Density, Density)> =
        fields.iter().map(|(key, f)| (key.as_str(), f, Density::fit(f, good.iter().filter_map(|(s, _)| s.get(key))), Density::fit(f, bad.iter().filter_map(|(s, _)| s.get(key))))).collect();
    for _ in 0..ROUNDS {
        let mut best: Option<(f64, ConfigOverrides)> = None;
        for _ in 0..CANDIDATES {
            let mut candidate = ConfigOverrides::new();
            let mut score = 0.0;
            for (key, field, l, g) in &densities {
                let value = l.sample(field, rng);
                score += l.ln_pdf(field, &value) - g.ln_pdf(field, &value);
                candidate.insert((*key).to_string(), value);
            }
            if !taken.contains(&label(&candidate)) && best.as_ref().is_none_or(|(b, _)| score > *b) {
                best = Some((score, candidate));
            }
        }
        if let Some((_, candidate)) = best {
            return Ok(candidate);
        }
    }
    Err(format!("{} candidates in a row were settings tried already: widen the ranges of sweep.random", ROUNDS * CANDIDATES))
}

/// A field's density over one part of the settings tried.
#[derive(Debug, Clone, PartialEq)]
enum Density {
    /// Over a range.
    Parzen(Parzen),
    /// The probability of each of the field's values.
    Counts(Vec<f64>),
}

/// A Parzen window over `lo..hi` in a field's scale: the uniform prior and a kernel
/// `(centre, width)` per setting, equally weighted.
#[derive(Debug, Clone, PartialEq)]
struct Parzen {
    lo: f64,
    hi: f64,
    kernels: Vec<(f64, f64)>,
}

impl Parzen {
    /// A Parzen window over `lo..hi` with a kernel at each of `centres`, each as wide as the
    /// larger gap to its neighbours (the bounds at the ends), at least the range over
    /// `min(100, n + 1)` and at most the range.
    fn new(lo: f64, hi: f64, mut centres: Vec<f64>) -> Parzen {
        centres.sort_by(f64::total_cmp);
        let range = hi - lo;
        let n = centres.len();
        let narrowest = range / (n as f64 + 1.0).min(100.0);
        let kernels = (0..n)
            .map(|i| {
                let left = if i > 0 { centres[i - 1] } else { lo };
                let right = if i + 1 < n { centres[i + 1] } else { hi };
                let width = (centres[i] - left).max(right - centres[i]).clamp(narrowest, range);
                (centres[i], width)
            })
            .collect();
        Parzen { lo, hi, kernels }
    }

    /// The density at `x`.
    fn pdf(&self, x: f64) -> f64 {
        let Parzen { lo, hi, kernels } = self;
        let prior = 1.0 / (hi - lo);
        let sum: f64 = kernels
            .iter()
            .map(|&(mu, sigma)| {
                let mass = phi_cdf((hi - mu) / sigma) - phi_cdf((lo - mu) / sigma);
                (-0.5 * ((x - mu) / sigma).powi(2)).exp() / (sigma * (2.0 * PI).sqrt()) / mass.max(f64::MIN_POSITIVE)
            })
            .sum();
        (prior + sum) / (kernels.len() as f64 + 1.0)
    }

    /// A point drawn from it: the prior or a kernel, equally likely, then a point of that.
    fn sample(&self, rng: &mut SplitMix64) -> f64 {
        match self.kernels.get(rng.below(self.kernels.len() + 1)) {
            None => self.lo + rng.unit() * (self.hi - self.lo),
            Some(&(mu, sigma)) => truncated_normal(mu, sigma, (self.lo, self.hi), rng),
        }
    }
}

impl Density {
    /// The density of `values` (the part's values of the field).
    fn fit<'a>(field: &Field, values: impl Iterator<Item = &'a serde_json::Value>) -> Density {
        match field {
            Field::Values(list) => {
                let mut counts = vec![0.0; list.len()];
                let mut n = 0.0;
                for v in values {
                    if let Some(i) = list.iter().position(|x| x == v) {
                        counts[i] += 1.0;
                        n += 1.0;
                    }
                }
                let k = list.len() as f64;
                Density::Counts(counts.into_iter().map(|c| (c + 1.0 / k) / (n + 1.0)).collect())
            }
            _ => {
                let (lo, hi) = scale_range(field);
                let centres: Vec<f64> = values.filter_map(|v| to_scale(field, v)).collect();
                Density::Parzen(Parzen::new(lo, hi, centres))
            }
        }
    }

    /// The log of the density (or probability) of `value`.
    fn ln_pdf(&self, field: &Field, value: &serde_json::Value) -> f64 {
        let p = match (self, field) {
            (Density::Counts(probs), Field::Values(list)) => list.iter().position(|x| x == value).map_or(0.0, |i| probs[i]),
            (Density::Parzen(window), _) => to_scale(field, value).map_or(0.0, |x| window.pdf(x)),
            (Density::Counts(_), _) => unreachable!("a density is fitted to its field"),
        };
        p.max(f64::MIN_POSITIVE).ln()
    }

    /// A value of the field drawn from the density, rounded as a drawn value is.
    fn sample(&self, field: &Field, rng: &mut SplitMix64) -> serde_json::Value {
        match (self, field) {
            (Density::Counts(probs), Field::Values(list)) => {
                let mut u = rng.unit();
                for (p, v) in probs.iter().zip(list) {
                    if u < *p {
                        return v.clone();
                    }
                    u -= p;
                }
                list.last().cloned().unwrap_or_default()
            }
            (Density::Parzen(window), _) => from_scale(field, window.sample(rng)),
            (Density::Counts(_), _) => unreachable!("a density is fitted to its field"),
        }
    }
}

/// A field's range in its own scale: the logarithm of a log-uniform one, half a step beyond
/// the ends of whole numbers (so that each is as likely as its neighbours).
fn scale_range(field: &Field) -> (f64, f64) {
    match field {
        Field::Uniform(lo, hi) => (*lo, *hi),
        Field::LogUniform(lo, hi) => (lo.ln(), hi.ln()),
        Field::Ints(lo, hi) => (*lo as f64 - 0.5, *hi as f64 + 0.5),
        Field::Values(_) => unreachable!("a list of values has no scale"),
    }
}

/// A value in the field's scale.
fn to_scale(field: &Field, v: &serde_json::Value) -> Option<f64> {
    let x = v.as_f64()?;
    match field {
        Field::LogUniform(..) => (x > 0.0).then(|| x.ln()),
        _ => Some(x),
    }
}

/// A point of the field's scale as a value of the field: rounded as a drawn one is.
fn from_scale(field: &Field, x: f64) -> serde_json::Value {
    match field {
        Field::Uniform(lo, hi) => rounded(x, *lo, *hi).into(),
        Field::LogUniform(lo, hi) => rounded(x.exp(), *lo, *hi).into(),
        Field::Ints(lo, hi) => (x.round() as i64).clamp(*lo, *hi).into(),
        Field::Values(_) => unreachable!("a list of values has no scale"),
    }
}

/// A normal draw (Box-Muller) kept inside `lo..hi` by drawing again (then clamped, for a
/// kernel far outside).
fn truncated_normal(mu: f64, sigma: f64, (lo, hi): (f64, f64), rng: &mut SplitMix64) -> f64 {
    let mut x = mu;
    for _ in 0..100 {
        let (u, v) = (1.0 - rng.unit(), rng.unit());
        x = mu + sigma * (-2.0 * u.ln()).sqrt() * (2.0 * PI * v).cos();
        if (lo..=hi).contains(&x) {
            return x;
        }
    }
    x.clamp(lo, hi)
}

/// The standard normal distribution function.
fn phi_cdf(z: f64) -> f64 {
    0.5 * (1.0 + erf(z / SQRT_2))
}

/// The error function, to within 1.5e-7 (Abramowitz and Stegun 7.1.26).
fn erf(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
    let poly = t * (0.254_829_592 + t * (-0.284_496_736 + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let y = 1.0 - poly * (-x * x).exp();
    if x < 0.0 { -y } else { y }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference numbers from Python's `math.erf`, and the Parzen density computed directly
    /// in Python from the rule of [`Density::parzen`] with `math.erf`.
    #[test]
    fn the_error_function_and_the_parzen_density_match_reference_numbers() {
        for (x, want) in [(0.5, 0.5204998778130465), (1.0, 0.8427007929497149), (-1.5, -0.9661051464753108), (2.5, 0.999593047982555), (0.0, 0.0)] {
            assert!((erf(x) - want).abs() < 2e-7, "erf({x}) = {}, want {want}", erf(x));
        }
        let d = Parzen::new(0.0, 1.0, vec![0.5, 0.2]);
        assert_eq!(d, Parzen { lo: 0.0, hi: 1.0, kernels: vec![(0.2, 1.0 / 3.0), (0.5, 0.5)] }, "0.2's gaps 0.2 and 0.3 are below a third of the range");
        assert!((d.pdf(0.4) - 1.1795907911078156).abs() < 1e-6, "{}", d.pdf(0.4));
        assert!((d.pdf(0.95) - 0.6374069286193172).abs() < 1e-6, "{}", d.pdf(0.95));
        assert_eq!(Parzen::new(0.0, 1.0, Vec::new()).pdf(0.3), 1.0, "the prior alone");
        let log = Field::LogUniform(1e-5, 1e-3);
        let tried: Vec<serde_json::Value> = [2e-5, 1e-4, 5e-4].map(serde_json::Value::from).to_vec();
        let d = Density::fit(&log, tried.iter());
        assert!((d.ln_pdf(&log, &1e-4.into()) - 0.24145970349375115f64.ln()).abs() < 1e-5, "{}", d.ln_pdf(&log, &1e-4.into()).exp());
        // Counts with a prior of one spread over three values: (2 + 1/3) / 3 for 16.
        let list = Field::Values(vec![4.into(), 8.into(), 16.into()]);
        let picked: Vec<serde_json::Value> = vec![16.into(), 16.into()];
        let d = Density::fit(&list, picked.iter());
        assert!((d.ln_pdf(&list, &16.into()).exp() - 7.0 / 9.0).abs() < 1e-12);
        assert!((d.ln_pdf(&list, &4.into()).exp() - 1.0 / 9.0).abs() < 1e-12);
    }

    fn setting(lr: f64, batch: i64) -> ConfigOverrides {
        [("batch_size".to_string(), serde_json::Value::from(batch)), ("lr".to_string(), serde_json::Value::from(lr))].into_iter().collect()
    }

    fn fields() -> Vec<(String, Field)> {
        vec![("batch_size".into(), Field::Values(vec![4.into(), 8.into(), 16.into()])), ("lr".into(), Field::LogUniform(1e-6, 1e-2))]
    }

    /// Eight settings whose score peaks at lr 1e-4 and batch size 16: the proposals look
    /// near the peak, not over the four decades a random draw covers.
    #[test]
    fn proposals_look_where_the_best_settings_are() {
        let tried: Vec<(ConfigOverrides, f64)> = [(1e-6, 4), (5e-6, 8), (2e-5, 16), (8e-5, 16), (1.2e-4, 16), (4e-4, 8), (2e-3, 4), (9e-3, 8)]
            .into_iter()
            .map(|(lr, batch)| (setting(lr, batch), -(f64::log10(lr) + 4.0).abs() + if batch == 16 { 0.5 } else { 0.0 }))
            .collect();
        let mut taken: BTreeSet<String> = tried.iter().map(|(s, _)| label(s)).collect();
        let before = taken.len();
        let proposed = propose(&fields(), &tried, &mut taken, 4, 7).expect("proposed");
        assert_eq!(proposed.len(), 4);
        assert_eq!(taken.len(), before + 4, "each proposal is new and taken now");
        let first = &proposed[0];
        let lr = first["lr"].as_f64().expect("lr");
        assert!((2e-5..=5e-4).contains(&lr) && first["batch_size"] == 16, "the first proposal is near the best: {first:?}");
        for p in &proposed {
            let lr = p["lr"].as_f64().expect("lr");
            assert!((1e-6..=1e-2).contains(&lr) && rounded(lr, 0.0, 1.0) == lr, "within the range, three digits: {p:?}");
        }
        let near = proposed.iter().filter(|p| (1e-5..=1e-3).contains(&p["lr"].as_f64().unwrap_or(0.0))).count();
        assert!(near >= 3, "most within a decade of the peak: {proposed:?}");
        // The same scores and seed propose the same settings.
        let mut again: BTreeSet<String> = tried.iter().map(|(s, _)| label(s)).collect();
        assert_eq!(propose(&fields(), &tried, &mut again, 4, 7).expect("proposed"), proposed);
    }

    #[test]
    fn too_few_scores_and_a_space_tried_whole_are_refused() {
        let tried: Vec<(ConfigOverrides, f64)> = vec![(setting(1e-4, 8), 0.5), (setting(1e-3, 8), 0.6), (setting(1e-5, 8), f64::NAN)];
        let err = propose(&fields(), &tried, &mut BTreeSet::new(), 1, 0).expect_err("two scored");
        assert!(err.starts_with("a guided draw needs the scores of at least 4 settings, and 2 have one"), "{err}");
        // Two values, all four settings tried: nothing is left to propose.
        let small = vec![("batch_size".to_string(), Field::Values(vec![4.into(), 8.into()])), ("steps".to_string(), Field::Ints(1, 2))];
        let tried: Vec<(ConfigOverrides, f64)> = [(4, 1), (4, 2), (8, 1), (8, 2)]
            .into_iter()
            .map(|(b, s)| ([("batch_size".to_string(), serde_json::Value::from(b)), ("steps".to_string(), serde_json::Value::from(s))].into_iter().collect(), b as f64 + s as f64))
            .collect();
        let mut taken: BTreeSet<String> = tried.iter().map(|(s, _)| label(s)).collect();
        let err = propose(&small, &tried, &mut taken, 1, 0).expect_err("all tried");
        assert!(err.contains("were settings tried already: widen the ranges"), "{err}");
    }
}
