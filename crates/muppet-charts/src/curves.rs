//! Line charts of training curves: one line per series, x = step.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::render::{Chart, PALETTE};
use crate::ChartError;

/// One line: a label for the legend and its (x, y) points in x order.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

/// A chart of several curves.
#[derive(Debug, Clone, PartialEq)]
pub struct CurvesChart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub curves: Vec<Curve>,
    /// Draw each curve faint as measured and bold smoothed with this EMA weight (0 to 1,
    /// e.g. 0.6); `None`: as measured only.
    pub smoothing: Option<f64>,
}

/// Label of a run's run-wide training loss (no task) in the chart of its curves.
pub const RUN_WIDE_LOSS_LABEL: &str = "all tasks (mean of the update)";

/// One training-loss series: its task (`None`: the run-wide loss) and its `(step, loss)` points.
pub type LossSeries = (Option<String>, Vec<(u64, f64)>);

impl CurvesChart {
    /// The chart of a run's training loss (`muppet runs chart`, the app's Export chart): one
    /// curve per series as `Store::training_loss` returns them, `(task, [(step, loss)])`,
    /// the run-wide one (task `None`) labelled [`RUN_WIDE_LOSS_LABEL`]. `None` when there is
    /// no series to draw.
    pub fn run_training_loss(run: impl std::fmt::Display, series: Vec<LossSeries>) -> Option<CurvesChart> {
        let curves: Vec<Curve> = series
            .into_iter()
            .map(|(task, points)| Curve { label: task.unwrap_or_else(|| RUN_WIDE_LOSS_LABEL.into()), points: points.into_iter().map(|(s, v)| (s as f64, v)).collect() })
            .collect();
        (!curves.is_empty()).then(|| CurvesChart { title: format!("Run {run}: training loss"), x_label: "step".into(), y_label: "scaled loss".into(), curves, smoothing: None })
    }
}

/// Exponential moving average with TensorBoard's debiasing: s_t = w·s_(t-1) + (1 − w)·y_t,
/// divided by 1 − w^t so the first points are not pulled toward 0. Non-finite values are
/// skipped (kept as they are); `weight` is clamped to [0, 0.999].
pub fn smooth(points: &[(f64, f64)], weight: f64) -> Vec<(f64, f64)> {
    let w = weight.clamp(0.0, 0.999);
    let (mut acc, mut norm) = (0.0, 0.0);
    points
        .iter()
        .map(|&(x, y)| {
            if !y.is_finite() {
                return (x, y);
            }
            acc = w * acc + (1.0 - w) * y;
            norm = w * norm + (1.0 - w);
            (x, acc / norm)
        })
        .collect()
}

impl Chart for CurvesChart {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ChartError> {
        draw(root, self)
    }
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, chart: &CurvesChart) -> Result<(), ChartError> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| ChartError::Draw(e.to_string());
    let points = chart.curves.iter().flat_map(|c| c.points.iter()).filter(|(x, y)| x.is_finite() && y.is_finite());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
    for &(x, y) in points {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if !x0.is_finite() {
        return Err(ChartError::Empty);
    }
    // Flat data still needs a visible range.
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    let pad = if y1 > y0 { (y1 - y0) * 0.05 } else { 0.5 };
    root.fill(&WHITE).map_err(err)?;
    let mut ctx = ChartBuilder::on(root)
        .caption(&chart.title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(x0..x1, (y0 - pad)..(y1 + pad))
        .map_err(err)?;
    ctx.configure_mesh()
        .x_desc(chart.x_label.as_str())
        .y_desc(chart.y_label.as_str())
        .label_style(("sans-serif", 13))
        .light_line_style(RGBColor(238, 236, 244))
        .draw()
        .map_err(err)?;
    for (i, curve) in chart.curves.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let finite = |p: &(f64, f64)| p.0.is_finite() && p.1.is_finite();
        let shown = match chart.smoothing {
            Some(w) => {
                let raw = curve.points.iter().copied().filter(finite);
                ctx.draw_series(LineSeries::new(raw, color.mix(0.25).stroke_width(1))).map_err(err)?;
                smooth(&curve.points, w)
            }
            None => curve.points.clone(),
        };
        let line = shown.into_iter().filter(finite);
        ctx.draw_series(LineSeries::new(line, color.stroke_width(2)))
            .map_err(err)?
            .label(curve.label.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
    }
    ctx.configure_series_labels()
        .background_style(WHITE.mix(0.9))
        .border_style(RGBColor(220, 218, 230))
        .label_font(("sans-serif", 13))
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{render_png, render_svg, write_svg};

    fn chart() -> CurvesChart {
        CurvesChart {
            title: "Training loss".into(),
            x_label: "step".into(),
            y_label: "scaled loss".into(),
            curves: vec![
                Curve { label: "all tasks".into(), points: (1..=30).map(|s| (s as f64, 1.0 / (1.0 + s as f64 * 0.05))).collect() },
                Curve { label: "rt_fresh_rotten".into(), points: vec![(1.0, 1.0), (10.0, 0.9), (30.0, f64::NAN)] },
            ],
            smoothing: None,
        }
    }

    #[test]
    fn svg_is_deterministic_and_carries_the_labels() {
        let a = render_svg(&chart()).expect("svg");
        let b = render_svg(&chart()).expect("svg");
        assert_eq!(a, b, "same data, same bytes");
        for text in ["Training loss", "step", "scaled loss", "all tasks", "rt_fresh_rotten"] {
            assert!(a.contains(text), "missing {text}");
        }
        // Two data lines (polylines) plus two legend samples.
        assert!(a.matches("<polyline").count() >= 2, "{}", a.matches("<polyline").count());
    }

    #[test]
    fn png_is_written_whole() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("loss.png");
        render_png(&chart(), &path).expect("png");
        let bytes = std::fs::read(&path).expect("read");
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        assert!(!dir.path().join("loss.partial.png").exists());
        let svg_path = dir.path().join("loss.svg");
        write_svg(&chart(), &svg_path).expect("svg file");
        assert_eq!(std::fs::read_to_string(&svg_path).expect("read"), render_svg(&chart()).expect("svg"));
        assert!(!dir.path().join("loss.partial.svg").exists());
    }

    #[test]
    fn smoothing_by_hand() {
        // w = 0.5 on 1, 0, 0: EMA 0.5, 0.25, 0.125 over norms 0.5, 0.75, 0.875 -> 1, 1/3, 1/7.
        let s = smooth(&[(1.0, 1.0), (2.0, 0.0), (3.0, f64::NAN), (4.0, 0.0)], 0.5);
        assert_eq!(s[0], (1.0, 1.0));
        assert!((s[1].1 - 1.0 / 3.0).abs() < 1e-12);
        assert!(s[2].1.is_nan(), "non-finite points are kept and skipped");
        assert!((s[3].1 - 1.0 / 7.0).abs() < 1e-12);
        assert_eq!(smooth(&[(1.0, 2.0), (2.0, 4.0)], 0.0), vec![(1.0, 2.0), (2.0, 4.0)]);
        // A smoothed chart draws each curve twice.
        let smoothed = render_svg(&CurvesChart { smoothing: Some(0.6), ..chart() }).expect("svg");
        let plain = render_svg(&chart()).expect("svg");
        assert!(smoothed.matches("<polyline").count() > plain.matches("<polyline").count());
    }

    #[test]
    fn a_runs_training_loss_is_one_curve_per_series() {
        assert_eq!(CurvesChart::run_training_loss(7, vec![]), None);
        let chart = CurvesChart::run_training_loss(7, vec![(None, vec![(1, 0.9), (2, 0.7)]), (Some("rte".into()), vec![(2, 0.8)])]).expect("chart");
        assert_eq!(chart.title, "Run 7: training loss");
        assert_eq!(chart.curves, vec![
            Curve { label: RUN_WIDE_LOSS_LABEL.into(), points: vec![(1.0, 0.9), (2.0, 0.7)] },
            Curve { label: "rte".into(), points: vec![(2.0, 0.8)] },
        ]);
    }

    #[test]
    fn no_points_is_an_error() {
        let empty = CurvesChart { curves: vec![Curve { label: "x".into(), points: vec![] }], ..chart() };
        assert!(matches!(render_svg(&empty), Err(ChartError::Empty)));
    }
}
