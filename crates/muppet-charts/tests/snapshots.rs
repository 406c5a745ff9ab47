//! Exact SVG snapshots of every chart kind, on fixed data. A change in the drawing code
//! shows up here as a diff of the files under `tests/snapshots/`; look at them, then
//! rewrite them with `UPDATE_SNAPSHOTS=1 cargo nextest run -p muppet-charts`.

use std::path::PathBuf;

use muppet_charts::{
    render_svg, Bar, BandAxis, BarsChart, BandPoint, BandSeries, Chart, Curve, CurvesChart, SampleEfficiencyChart, ScatterChart, TaskCountChart,
};

fn check<C: Chart>(name: &str, chart: &C) {
    let svg = render_svg(chart).expect("render");
    // To look at the charts as images: SNAPSHOT_PNG_DIR=/some/folder.
    if let Some(dir) = std::env::var_os("SNAPSHOT_PNG_DIR") {
        muppet_charts::render_png(chart, &PathBuf::from(dir).join(format!("{name}.png"))).expect("png");
    }
    assert_eq!(svg, render_svg(chart).expect("render again"), "{name}: the same chart must give the same bytes");
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots").join(format!("{name}.svg"));
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &svg).expect("write snapshot");
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; write it with UPDATE_SNAPSHOTS=1 cargo nextest run -p muppet-charts", path.display()));
    if svg != want {
        let actual = path.with_extension("actual.svg");
        std::fs::write(&actual, &svg).expect("write actual");
        panic!(
            "{name}: the SVG differs from {} (the new drawing is at {}); if the change is intended, rerun with UPDATE_SNAPSHOTS=1",
            path.display(),
            actual.display()
        );
    }
}

fn band(x: f64, mean: f64, half: f64) -> BandPoint {
    BandPoint { x, mean, low: mean - half, high: mean + half }
}

#[test]
fn sample_efficiency_curves() {
    let chart = SampleEfficiencyChart {
        title: "winowhy: dev accuracy vs training size".into(),
        y_label: "dev accuracy".into(),
        series: vec![
            BandSeries { label: "base".into(), is_base: true, points: [16.0, 32.0, 64.0, 128.0, 256.0].iter().zip([0.50, 0.52, 0.55, 0.58, 0.62]).map(|(&x, m)| band(x, m, 0.04)).collect() },
            BandSeries {
                label: "pft".into(),
                is_base: false,
                points: vec![band(16.0, 0.53, 0.05), band(32.0, 0.56, 0.03), band(64.0, 0.60, 0.02), BandPoint { x: 128.0, mean: 0.62, low: f64::NAN, high: f64::NAN }, band(256.0, 0.64, 0.01)],
            },
        ],
        x_axis: BandAxis::TrainingExamples,
    };
    check("sample_efficiency", &chart);
}

#[test]
fn gains_of_experiments_compared_by_number_of_tasks() {
    let chart = SampleEfficiencyChart {
        title: "winowhy: gain over the base model by number of tasks".into(),
        y_label: "gain in dev accuracy".into(),
        series: vec![
            BandSeries { label: "E1 small pool".into(), is_base: false, points: [1.0, 2.0, 4.0].iter().zip([-0.02, 0.0, 0.01]).map(|(&x, m)| band(x, m, 0.02)).collect() },
            BandSeries { label: "E2 large pool".into(), is_base: false, points: [2.0, 4.0, 8.0, 16.0].iter().zip([-0.01, 0.01, 0.03, 0.05]).map(|(&x, m)| band(x, m, 0.015)).collect() },
        ],
        x_axis: BandAxis::Tasks,
    };
    check("experiments_compared_by_tasks", &chart);
}

#[test]
fn task_count_with_fit_and_critical_point() {
    let ks = [0.0, 2.0, 4.0, 6.0, 8.0];
    let gains = [0.0, -0.02, -0.03, 0.01, 0.04];
    let seeds: Vec<(f64, f64)> = ks.iter().zip(gains).flat_map(|(&k, g)| [(k, g + 0.01), (k, g - 0.01)]).collect();
    let chart = TaskCountChart {
        title: "Task count: gain over the base model".into(),
        y_label: "gain in dev accuracy".into(),
        seeds,
        means: ks.iter().zip(gains).map(|(&k, g)| band(k, g, 0.015)).collect(),
        fit: vec![(0.0, 0.0), (4.0, -0.03), (8.0, 0.04)],
        critical: Some(5.7),
        interval: Some((5.1, f64::INFINITY)),
        verdict: "critical point at 5.7 tasks: the fitted gain is positive from there on (95% bootstrap interval over seeds 5.1 to beyond the data; 80% of 1000 resamples cross)".into(),
    };
    check("task_count", &chart);
}

#[test]
fn ablation_bars() {
    let bar = |label: &str, mean: f64, is_base: bool| Bar { label: label.into(), mean, low: mean - 0.02, high: mean + 0.02, is_base };
    let chart = BarsChart {
        title: "Batching and loss scaling: winowhy".into(),
        x_label: "dev accuracy (mean over seeds, 95% CI)".into(),
        bars: vec![
            bar("base", 0.55, true),
            bar("heterogeneous, scaling on", 0.61, false),
            bar("heterogeneous, scaling off", 0.59, false),
            bar("sequential, scaling on", 0.54, false),
        ],
    };
    check("ablation_bars", &chart);
}

#[test]
fn smoothed_training_curves() {
    let noisy: Vec<(f64, f64)> = (1..=60).map(|s| (s as f64, 1.0 / (1.0 + s as f64 * 0.05) + if s % 2 == 0 { 0.05 } else { -0.05 })).collect();
    let chart = CurvesChart {
        title: "Training loss per task".into(),
        x_label: "step".into(),
        y_label: "scaled loss".into(),
        curves: vec![
            Curve { label: "rt_fresh_rotten".into(), points: noisy.clone(), color: None },
            Curve { label: "sarcasm_headlines".into(), points: noisy.iter().map(|&(x, y)| (x, y * 0.8)).collect(), color: None },
        ],
        smoothing: Some(0.6),
        ..CurvesChart::default()
    };
    check("training_curves_smoothed", &chart);
}

#[test]
fn runs_by_category() {
    // Runs by their sampling (categories, the runs of one side by side) and dev accuracy,
    // coloured by batching.
    let runs = |offset: f64, seeds: &[(i64, f64, f64)]| seeds.iter().map(|&(run, x, y)| (run, x, y + offset)).collect::<Vec<_>>();
    let chart = ScatterChart::of_runs(
        "sampling",
        "rte dev accuracy",
        (false, false),
        vec![
            ("batching heterogeneous".into(), runs(0.0, &[(1, 0.0, 0.61), (2, 0.0, 0.63), (3, 1.0, 0.66), (4, 1.0, 0.64), (5, 2.0, 0.60)])),
            ("batching homogeneous".into(), runs(-0.03, &[(6, 0.0, 0.61), (7, 1.0, 0.66), (8, 1.0, 0.65), (9, 2.0, 0.58)])),
        ],
    )
    .categorical(vec!["natural".into(), "temperature, t 2".into(), "uniform".into()], Vec::new());
    check("runs_by_category", &chart);
}
