//! Learning-rate schedule: linear warmup, then linear decay to zero.

/// Learning rate at optimizer step `step` (0-based) of `total`.
pub fn warmup_linear(peak: f64, warmup: u64, total: u64, step: u64) -> f64 {
    if warmup > 0 && step < warmup {
        return peak * (step + 1) as f64 / warmup as f64;
    }
    let decay = total.saturating_sub(warmup).max(1) as f64;
    let done = step.saturating_sub(warmup) as f64;
    (peak * (1.0 - done / decay)).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warms_up_then_decays_linearly() {
        let lr: Vec<f64> = (0..6).map(|s| warmup_linear(1.0, 2, 6, s)).collect();
        let expected = [0.5, 1.0, 1.0, 0.75, 0.5, 0.25];
        for (got, want) in lr.iter().zip(expected) {
            assert!((got - want).abs() < 1e-12, "{lr:?}");
        }
        assert_eq!(warmup_linear(1.0, 0, 4, 0), 1.0);
    }
}
