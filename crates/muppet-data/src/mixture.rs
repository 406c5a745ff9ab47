//! Mixture sampling policies as pure functions (MUPPET.md "Sampling"): how
//! likely each task is to supply the next micro-batch, given the task sizes.
//! Muppet uses natural mixing (proportional to size); uniform, temperature
//! (p ∝ n^(1/T), as in T5 and jiant) and per-task caps (p ∝ min(n, cap)) are
//! offered for comparison.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How tasks are weighted.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Sampling {
    /// p ∝ n (Muppet's default: no re-balancing).
    #[default]
    Natural,
    /// p = 1 / number of tasks.
    Uniform,
    /// p ∝ n^(1/T); T = 1 is natural, T → ∞ tends to uniform.
    Temperature { t: f64 },
}

impl fmt::Display for Sampling {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Sampling::Natural => write!(f, "natural"),
            Sampling::Uniform => write!(f, "uniform"),
            Sampling::Temperature { t } => write!(f, "temperature:{t}"),
        }
    }
}

/// A sampling policy that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("unknown sampling `{0}`: expected natural, uniform or temperature:T with T > 0 (e.g. temperature:2)")]
pub struct SamplingParseError(String);

impl FromStr for Sampling {
    type Err = SamplingParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "natural" => Ok(Sampling::Natural),
            "uniform" => Ok(Sampling::Uniform),
            other => other
                .strip_prefix("temperature:")
                .and_then(|t| t.parse::<f64>().ok())
                .filter(|t| t.is_finite() && *t > 0.0)
                .map(|t| Sampling::Temperature { t })
                .ok_or_else(|| SamplingParseError(other.to_string())),
        }
    }
}

/// Probability of each task under `sampling`, after capping every size at
/// `cap` (when given). Tasks of size 0 get probability 0; if every task is
/// empty the result is all zeros.
pub fn probabilities(sizes: &[usize], sampling: Sampling, cap: Option<usize>) -> Vec<f64> {
    let weights: Vec<f64> = sizes
        .iter()
        .map(|&n| {
            let n = cap.map_or(n, |c| n.min(c)) as f64;
            match sampling {
                _ if n == 0.0 => 0.0,
                Sampling::Natural => n,
                Sampling::Uniform => 1.0,
                Sampling::Temperature { t } => n.powf(1.0 / t),
            }
        })
        .collect();
    let total: f64 = weights.iter().sum();
    if total == 0.0 {
        return vec![0.0; sizes.len()];
    }
    weights.iter().map(|w| w / total).collect()
}

/// One row of the mixture summary the UI and `muppet mixture summary` show.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MixtureRow {
    pub name: String,
    pub examples: usize,
    pub probability: f64,
    /// Examples drawn from the task in expectation over the step budget.
    pub expected_examples: f64,
}

/// Per task: size, probability and expected examples over `steps` updates of
/// `examples_per_step` examples each.
pub fn summary(tasks: &[(String, usize)], sampling: Sampling, cap: Option<usize>, steps: u64, examples_per_step: usize) -> Vec<MixtureRow> {
    let sizes: Vec<usize> = tasks.iter().map(|(_, n)| *n).collect();
    let budget = steps as f64 * examples_per_step as f64;
    tasks
        .iter()
        .zip(probabilities(&sizes, sampling, cap))
        .map(|((name, n), p)| MixtureRow { name: name.clone(), examples: *n, probability: p, expected_examples: p * budget })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(got: &[f64], want: &[f64]) {
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-12, "{got:?} vs {want:?}");
        }
    }

    #[test]
    fn hand_computed_probabilities() {
        let sizes = [100, 400, 0, 1600];
        close(&probabilities(&sizes, Sampling::Natural, None), &[100.0 / 2100.0, 400.0 / 2100.0, 0.0, 1600.0 / 2100.0]);
        close(&probabilities(&sizes, Sampling::Uniform, None), &[1.0 / 3.0, 1.0 / 3.0, 0.0, 1.0 / 3.0]);
        // T = 2: sqrt sizes 10, 20, 40 -> /70.
        close(&probabilities(&sizes, Sampling::Temperature { t: 2.0 }, None), &[10.0 / 70.0, 20.0 / 70.0, 0.0, 40.0 / 70.0]);
        // Caps at 400: 100, 400, 400 -> /900.
        close(&probabilities(&sizes, Sampling::Natural, Some(400)), &[100.0 / 900.0, 400.0 / 900.0, 0.0, 400.0 / 900.0]);
        close(&probabilities(&sizes, Sampling::Temperature { t: 1.0 }, None), &probabilities(&sizes, Sampling::Natural, None));
        close(&probabilities(&[0, 0], Sampling::Natural, None), &[0.0, 0.0]);
    }

    #[test]
    fn summary_spreads_the_budget() {
        let rows = summary(&[("a".into(), 300), ("b".into(), 100)], Sampling::Natural, None, 10, 32);
        assert_eq!(rows[0].examples, 300);
        assert!((rows[0].probability - 0.75).abs() < 1e-12);
        assert!((rows[0].expected_examples - 240.0).abs() < 1e-9);
        assert!((rows[1].expected_examples - 80.0).abs() < 1e-9);
    }

    #[test]
    fn parses_policies_and_refuses_bad_ones() {
        assert_eq!("natural".parse::<Sampling>().ok(), Some(Sampling::Natural));
        assert_eq!("temperature:2.5".parse::<Sampling>().ok(), Some(Sampling::Temperature { t: 2.5 }));
        for bad in ["temperature:0", "temperature:-1", "temperature:x", "proportional"] {
            let err = bad.parse::<Sampling>().expect_err(bad).to_string();
            assert!(err.contains(bad) && err.contains("temperature:T"), "{err}");
        }
    }
}
