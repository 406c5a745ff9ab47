//! A sweep's settings drawn at random (W&B's random search): `count` settings, each field
//! of `sweep.random` drawn on its own from its values or its range, with the sweep's seed,
//! so the same spec always expands into the same runs.

use std::collections::{BTreeMap, BTreeSet};

use muppet_core::experiment::{ConfigOverrides, Distribution, Draw};

use super::stats::SplitMix64;
use super::{overlay, setting_text, Problems};
use crate::TrainConfig;

/// Significant digits a drawn number keeps, so the label names the value trained with
/// (`lr=4.21e-5`).
const DIGITS: usize = 3;

/// Draws of a setting already drawn before giving up on finding `count` different ones.
const TRIES_PER_SETTING: usize = 1000;

/// How one field is drawn, once checked.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Field {
    Values(Vec<serde_json::Value>),
    Ints(i64, i64),
    Uniform(f64, f64),
    LogUniform(f64, f64),
}

impl Field {
    /// How many different values it can take, when that is a count.
    fn choices(&self) -> Option<u128> {
        match self {
            Field::Values(v) => Some(v.len() as u128),
            Field::Ints(lo, hi) => Some((hi - lo) as u128 + 1),
            Field::Uniform(..) | Field::LogUniform(..) => None,
        }
    }

    /// Whether `v` is a value the field can take.
    fn contains(&self, v: &serde_json::Value) -> bool {
        match self {
            Field::Values(values) => values.contains(v),
            Field::Ints(lo, hi) => v.as_i64().is_some_and(|x| (*lo..=*hi).contains(&x)),
            Field::Uniform(lo, hi) | Field::LogUniform(lo, hi) => v.as_f64().is_some_and(|x| (*lo..=*hi).contains(&x)),
        }
    }

    fn draw(&self, rng: &mut SplitMix64) -> serde_json::Value {
        match self {
            Field::Values(v) => v[rng.below(v.len())].clone(),
            Field::Ints(lo, hi) => (lo + rng.below((hi - lo) as usize + 1) as i64).into(),
            Field::Uniform(lo, hi) => rounded(lo + rng.unit() * (hi - lo), *lo, *hi).into(),
            Field::LogUniform(lo, hi) => rounded((lo.ln() + rng.unit() * (hi.ln() - lo.ln())).exp(), *lo, *hi).into(),
        }
    }
}

/// `x` to [`DIGITS`] significant digits, kept between the bounds.
pub(super) fn rounded(x: f64, lo: f64, hi: f64) -> f64 {
    format!("{x:.*e}", DIGITS - 1).parse::<f64>().unwrap_or(x).clamp(lo, hi)
}

/// The number a bound holds, and whether it is whole.
fn number(v: &serde_json::Value) -> Option<(f64, bool)> {
    let whole = v.is_i64() || v.is_u64();
    v.as_f64().filter(|x| x.is_finite()).map(|x| (x, whole))
}

/// Check one field of `sweep.random` against `base` (each value and bound must be a value
/// of the setting). `None` when it cannot be drawn; the problems are in `p`.
pub(super) fn field(at: &str, draw: &Draw, base: &TrainConfig, key: &str, p: &mut Problems) -> Option<Field> {
    let fits = |v: &serde_json::Value, p: &mut Problems| {
        let one: ConfigOverrides = [(key.to_string(), v.clone())].into_iter().collect();
        overlay(base, "sweep.random", &one).map_err(|e| p.0.extend(e)).is_ok()
    };
    match (&draw.values, &draw.min, &draw.max) {
        (Some(values), None, None) => {
            if draw.distribution.is_some() {
                p.add(at, "draws from its values: a distribution is for a range (min and max)");
                return None;
            }
            if values.is_empty() {
                p.add(at, "has no values: list at least one");
                return None;
            }
            let mut seen = BTreeSet::new();
            let mut ok = true;
            for v in values {
                if !seen.insert(v.to_string()) {
                    p.add(at, format!("{v} is listed twice"));
                    ok = false;
                }
                ok &= fits(v, p);
            }
            ok.then(|| Field::Values(values.clone()))
        }
        (None, Some(min), Some(max)) => {
            let (Some((lo, lo_whole)), Some((hi, hi_whole))) = (number(min), number(max)) else {
                p.add(at, format!("min = {min} and max = {max}: a range is between two numbers"));
                return None;
            };
            if lo >= hi {
                p.add(at, format!("min = {min} is not below max = {max}"));
                return None;
            }
            if !(fits(min, p) & fits(max, p)) {
                return None;
            }
            match draw.range_distribution().unwrap_or(Distribution::Uniform) {
                Distribution::IntUniform if !(lo_whole && hi_whole) => {
                    p.add(at, format!("int_uniform draws whole numbers: min = {min} and max = {max} must be whole"));
                    None
                }
                Distribution::IntUniform => Some(Field::Ints(lo as i64, hi as i64)),
                Distribution::LogUniformValues if lo <= 0.0 => {
                    p.add(at, format!("log_uniform_values draws on a log scale: min = {min} must be above 0"));
                    None
                }
                Distribution::LogUniformValues => Some(Field::LogUniform(lo, hi)),
                Distribution::Uniform if key_is_whole(base, key) => {
                    p.add(at, format!("takes whole numbers: draw them with int_uniform (the default for whole bounds), or list them as values"));
                    None
                }
                Distribution::Uniform => Some(Field::Uniform(lo, hi)),
            }
        }
        _ => {
            p.add(at, "give either values = [...] or a range: min = ..., max = ... (and a distribution: uniform, int_uniform or log_uniform_values)");
            None
        }
    }
}

/// Whether a setting takes whole numbers only (its value in `base` is one, and a fraction
/// is refused).
fn key_is_whole(base: &TrainConfig, key: &str) -> bool {
    let one: ConfigOverrides = [(key.to_string(), serde_json::Value::from(0.5))].into_iter().collect();
    overlay(base, "", &one).is_err()
}

/// A setting's label: its fields in order with their values (`batch_size=16, lr=4.21e-5`).
pub(super) fn label(setting: &ConfigOverrides) -> String {
    setting.iter().map(|(k, v)| format!("{k}={}", setting_text(v))).collect::<Vec<_>>().join(", ")
}

/// The fields of `random` checked against `base`, by name; the problems are in `p`.
/// `reserved`: fields set elsewhere.
pub(super) fn fields(random: &BTreeMap<String, Draw>, base: &TrainConfig, reserved: &[(&str, &str)], p: &mut Problems) -> Vec<(String, Field)> {
    let mut fields = Vec::new();
    for (key, draw) in random {
        let at = format!("sweep.random.{key}");
        if let Some((_, by)) = reserved.iter().find(|(k, _)| k == key) {
            p.add(&at, format!("is set by {by}; sweep it there"));
            continue;
        }
        if let Some(f) = field(&at, draw, base, key, p) {
            fields.push((key.clone(), f));
        }
    }
    fields
}

/// The sweep's `count` settings drawn from `random` with `seed` as training settings, in
/// the order drawn, then the settings `proposed` (each must give every field of `random` a
/// value it can take), with their labels (`batch_size=16, lr=4.21e-5`). A setting drawn
/// twice, or drawn as one proposed, is drawn again; asking for more settings than the fields
/// can make is refused. `None` when they cannot be drawn; the problems are in `p`.
/// `reserved`: fields set elsewhere.
pub(super) fn settings(
    random: &BTreeMap<String, Draw>,
    (count, proposed): (Option<usize>, &[ConfigOverrides]),
    seed: u64,
    base: &TrainConfig,
    reserved: &[(&str, &str)],
    p: &mut Problems,
) -> Option<Vec<(ConfigOverrides, String)>> {
    let before = p.0.len();
    let fields = fields(random, base, reserved, p);
    let mut taken = BTreeSet::new();
    for (i, setting) in proposed.iter().enumerate() {
        let at = format!("sweep.proposed[{i}]");
        for (key, f) in &fields {
            match setting.get(key) {
                Some(v) if f.contains(v) => {}
                Some(v) => p.add(&at, format!("{key} = {v} is not a value sweep.random.{key} takes")),
                None => p.add(&at, format!("gives no {key}: a proposed setting gives each field of sweep.random a value")),
            }
        }
        if let Some(key) = setting.keys().find(|k| !random.contains_key(*k)) {
            p.add(&at, format!("{key} is not a field of sweep.random"));
        }
        if !taken.insert(label(setting)) {
            p.add(&at, format!("{} is proposed twice", label(setting)));
        }
    }
    let count = match count {
        None => {
            p.add("sweep.count", "how many settings to draw from sweep.random: e.g. count = 8");
            return None;
        }
        Some(0) => {
            p.add("sweep.count", "0 settings: draw at least 1");
            return None;
        }
        Some(n) => n,
    };
    if p.0.len() > before {
        return None;
    }
    let space = fields.iter().try_fold(1u128, |n, (_, f)| f.choices().map(|c| n.saturating_mul(c)));
    if let Some(space) = space.filter(|&s| s < (count + proposed.len()) as u128) {
        let with = if proposed.is_empty() { String::new() } else { format!(" (beside {} proposed)", proposed.len()) };
        p.add("sweep.count", format!("{count} settings asked{with}, but sweep.random makes only {space} different ones: ask for at most {}, or list them in sweep.grid to train each once", space.saturating_sub(proposed.len() as u128)));
        return None;
    }
    let mut rng = SplitMix64::new(seed);
    // The proposed settings are never drawn: drawn before them, none was one of them.
    let mut seen = taken;
    let mut out = Vec::with_capacity(count + proposed.len());
    let mut tries = 0;
    while out.len() < count {
        let setting: ConfigOverrides = fields.iter().map(|(key, f)| (key.clone(), f.draw(&mut rng))).collect();
        let label = label(&setting);
        if seen.insert(label.clone()) {
            out.push((setting, label));
            tries = 0;
        } else {
            tries += 1;
            if tries > TRIES_PER_SETTING {
                p.add("sweep.count", format!("{count} settings asked, but {TRIES_PER_SETTING} draws in a row gave settings already drawn ({} found): widen the ranges or ask for fewer", out.len()));
                return None;
            }
        }
    }
    out.extend(proposed.iter().map(|s| (s.clone(), label(s))));
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draws(json: serde_json::Value) -> BTreeMap<String, Draw> {
        serde_json::from_value(json).expect("draws")
    }

    fn run(json: serde_json::Value, count: usize, seed: u64) -> Result<Vec<(ConfigOverrides, String)>, Vec<String>> {
        let mut p = Problems::default();
        let out = settings(&draws(json), (Some(count), &[]), seed, &TrainConfig::default(), &[("seed", "sweep.seeds")], &mut p);
        out.ok_or(p.0)
    }

    #[test]
    fn draws_are_fixed_by_the_seed_within_their_ranges_and_distinct() {
        let spec = serde_json::json!({
            "lr": {"min": 1e-5, "max": 1e-3, "distribution": "log_uniform_values"},
            "batch_size": {"values": [8, 16]},
            "steps": {"min": 4, "max": 12},
            "head_dropout": {"min": 0.0, "max": 0.2}
        });
        let a = run(spec.clone(), 20, 7).expect("drawn");
        assert_eq!(a, run(spec.clone(), 20, 7).expect("drawn"), "the same seed draws the same settings");
        assert_ne!(a, run(spec.clone(), 20, 8).expect("drawn"), "another seed draws others");
        let labels: BTreeSet<&String> = a.iter().map(|(_, l)| l).collect();
        assert_eq!(labels.len(), 20, "no setting twice");
        let mut decades = BTreeSet::new();
        for (fields, label) in &a {
            let lr = fields["lr"].as_f64().expect("lr");
            assert!((1e-5..=1e-3).contains(&lr), "{lr}");
            assert_eq!(rounded(lr, 0.0, 1.0), lr, "three significant digits: {lr}");
            decades.insert((lr.log10().floor()) as i32);
            assert!([8, 16].contains(&fields["batch_size"].as_i64().expect("whole")));
            assert!((4..=12).contains(&fields["steps"].as_i64().expect("whole steps")));
            let w = fields["head_dropout"].as_f64().expect("dropout");
            assert!((0.0..=0.2).contains(&w));
            // The label names the values trained with, fields in order.
            let named = format!("batch_size={}, head_dropout={}, lr={}, steps={}", fields["batch_size"], fields["head_dropout"], fields["lr"], fields["steps"]);
            assert_eq!(label, &named);
        }
        // Twenty log-uniform draws over two decades land in both.
        assert_eq!(decades, BTreeSet::from([-5, -4]), "{a:?}");
    }

    #[test]
    fn log_uniform_draws_spread_evenly_over_decades() {
        let spec = serde_json::json!({"lr": {"min": 1e-6, "max": 1e-2, "distribution": "log_uniform_values"}});
        let a = run(spec, 400, 0).expect("drawn");
        let mut per = [0usize; 4];
        for (fields, _) in &a {
            per[(fields["lr"].as_f64().expect("lr").log10() + 6.0).floor().min(3.0) as usize] += 1;
        }
        // 100 expected per decade; binomial sd about 8.7, so 4 sd either way.
        assert!(per.iter().all(|&n| (65..=135).contains(&n)), "{per:?}");
    }

    #[test]
    fn bad_fields_are_named_with_what_to_do() {
        let err = run(
            serde_json::json!({
                "lr": {"min": 0.0, "max": 1e-3, "distribution": "log_uniform_values"},
                "batch_size": {"min": 8.5, "max": 32},
                "steps": {"min": 10, "max": 5},
                "warmup": {"values": []},
                "seed": {"values": [1, 2]},
                "dropout": {"values": [0.1], "min": 0.0},
                "lrr": {"values": [1]}
            }),
            3,
            0,
        )
        .expect_err("refused");
        let expected = [
                "sweep.random.batch_size: invalid type: floating point `8.5`, expected usize",
                "sweep.random.dropout: give either values = [...] or a range: min = ..., max = ... (and a distribution: uniform, int_uniform or log_uniform_values)",
                "sweep.random.lr: log_uniform_values draws on a log scale: min = 0.0 must be above 0",
                "sweep.random.lrr: no such training setting (known: ",
                "sweep.random.seed: is set by sweep.seeds; sweep it there",
                "sweep.random.steps: min = 10 is not below max = 5",
                "sweep.random.warmup: has no values: list at least one",
        ];
        assert_eq!(err.len(), expected.len(), "{err:#?}");
        for (e, want) in err.iter().zip(expected) {
            assert!(e.starts_with(want), "{e} / {want}");
        }
        let err = run(serde_json::json!({"steps": {"min": 4, "max": 12, "distribution": "uniform"}}), 3, 0).expect_err("whole");
        assert_eq!(err, ["sweep.random.steps: takes whole numbers: draw them with int_uniform (the default for whole bounds), or list them as values"]);
        let err = run(serde_json::json!({"batch_size": {"values": [8, 16]}, "steps": {"min": 1, "max": 2}}), 5, 0).expect_err("too few");
        assert_eq!(err, ["sweep.count: 5 settings asked, but sweep.random makes only 4 different ones: ask for at most 4, or list them in sweep.grid to train each once"]);
        assert_eq!(run(serde_json::json!({"batch_size": {"values": [8, 16]}, "steps": {"min": 1, "max": 2}}), 4, 0).expect("all four").len(), 4);
        let mut p = Problems::default();
        assert!(settings(&draws(serde_json::json!({"lr": {"values": [1e-4]}})), (None, &[]), 0, &TrainConfig::default(), &[], &mut p).is_none());
        assert_eq!(p.0, ["sweep.count: how many settings to draw from sweep.random: e.g. count = 8"]);
    }
}
