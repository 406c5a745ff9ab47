//! Line charts of training curves: one line per series, x = step (or examples, seconds).

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::render::{legend, linear_tick, log_tick, Chart, PALETTE};
use crate::ChartError;

/// One line: a label for the legend and its (x, y) points in x order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Curve {
    pub label: String,
    pub points: Vec<(f64, f64)>,
    /// Its colour (the app's, so a saved chart matches the screen); `None`: the palette's
    /// colour of its position.
    pub color: Option<(u8, u8, u8)>,
}

/// A chart of several curves.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CurvesChart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub curves: Vec<Curve>,
    /// Draw each curve faint as measured and bold smoothed with this EMA weight (0 to 1,
    /// e.g. 0.6); `None`: as measured only.
    pub smoothing: Option<f64>,
    /// A logarithmic y axis; points at or below zero are left out, as on the app's charts.
    pub log_y: bool,
    /// Only the points with x in `[from, to]` (a chart zoomed into); `None`: all of them.
    pub x_range: Option<(f64, f64)>,
}

/// Label of a run's run-wide training loss (no task) in the chart of its curves.
pub const RUN_WIDE_LOSS_LABEL: &str = "all tasks (mean of the update)";

impl CurvesChart {
    /// Whether any point falls on the chart (finite, inside its x range, above zero on a log
    /// axis): drawing one without fails with [`ChartError::Empty`].
    pub fn has_points(&self) -> bool {
        lines(self).iter().any(|l| !l.bold.is_empty())
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

/// One curve as drawn: faint as measured (when smoothed) and bold.
struct Line<'a> {
    label: &'a str,
    /// The first curve of its label: the one the legend names.
    named: bool,
    color: RGBColor,
    faint: Option<Vec<(f64, f64)>>,
    bold: Vec<(f64, f64)>,
}

/// The curves' points that fall on the chart: finite, inside its x range and, on a log
/// axis, above zero (and as their log10: the axis is drawn linear in it, labelled with the
/// values). Smoothing runs over all of a curve's points first, as on the app's charts, so a
/// zoomed chart keeps the smoothed values of the whole curve. Curves that share a label
/// (the seeds of one setting) share a colour and one entry of the legend.
fn lines(chart: &CurvesChart) -> Vec<Line<'_>> {
    let keep = |&(x, y): &(f64, f64)| {
        x.is_finite() && y.is_finite() && (!chart.log_y || y > 0.0) && chart.x_range.is_none_or(|(from, to)| x >= from && x <= to)
    };
    let kept = |points: &[(f64, f64)]| points.iter().copied().filter(keep).map(|(x, y)| (x, if chart.log_y { y.log10() } else { y })).collect::<Vec<_>>();
    let mut labels: Vec<&str> = Vec::new();
    chart
        .curves
        .iter()
        .map(|curve| {
            let slot = labels.iter().position(|l| *l == curve.label);
            let named = slot.is_none();
            let slot = slot.unwrap_or_else(|| {
                labels.push(&curve.label);
                labels.len() - 1
            });
            let color = curve.color.map_or(PALETTE[slot % PALETTE.len()], |(r, g, b)| RGBColor(r, g, b));
            match chart.smoothing {
                Some(w) if w > 0.0 => Line { label: &curve.label, named, color, faint: Some(kept(&curve.points)), bold: kept(&smooth(&curve.points, w)) },
                _ => Line { label: &curve.label, named, color, faint: None, bold: kept(&curve.points) },
            }
        })
        .collect()
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, chart: &CurvesChart) -> Result<(), ChartError> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| ChartError::Draw(e.to_string());
    let lines = lines(chart);
    let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
    for &(x, y) in lines.iter().flat_map(|l| l.faint.iter().flatten().chain(&l.bold)) {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if !x0.is_finite() {
        return Err(ChartError::Empty);
    }
    if let Some((from, to)) = chart.x_range.filter(|(from, to)| from.is_finite() && to.is_finite() && to > from) {
        (x0, x1) = (from, to);
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
    let log_label = |v: &f64| log_tick(*v);
    let linear_label = |v: &f64| linear_tick(*v, y1 - y0 + 2.0 * pad);
    let mut mesh = ctx.configure_mesh();
    mesh.x_desc(chart.x_label.as_str())
        .y_desc(chart.y_label.as_str())
        .label_style(("sans-serif", 13))
        .light_line_style(RGBColor(238, 236, 244));
    if chart.log_y {
        mesh.y_label_formatter(&log_label);
    } else {
        mesh.y_label_formatter(&linear_label);
    }
    mesh.draw().map_err(err)?;
    for line in &lines {
        let color = line.color;
        if let Some(faint) = &line.faint {
            ctx.draw_series(LineSeries::new(faint.iter().copied(), color.mix(0.25).stroke_width(1))).map_err(err)?;
        }
        let series = ctx.draw_series(LineSeries::new(line.bold.iter().copied(), color.stroke_width(2))).map_err(err)?;
        if line.named {
            series.label(line.label).legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
        }
    }
    legend(&mut ctx, legend_corner(&lines, (x0, x1), (y0 - pad, y1 + pad)))?;
    Ok(())
}

/// Where the legend covers the fewest points: the upper right (falling curves, losses) unless
/// more of the points lie there than in the lower right (rising curves, dev scores).
fn legend_corner(lines: &[Line<'_>], (x0, x1): (f64, f64), (y0, y1): (f64, f64)) -> SeriesLabelPosition {
    let right = x0 + 0.6 * (x1 - x0);
    let (mut upper, mut lower) = (0usize, 0usize);
    for &(x, y) in lines.iter().flat_map(|l| l.bold.iter()) {
        if x >= right {
            upper += usize::from(y >= y0 + 0.6 * (y1 - y0));
            lower += usize::from(y <= y0 + 0.4 * (y1 - y0));
        }
    }
    if upper > lower { SeriesLabelPosition::LowerRight } else { SeriesLabelPosition::UpperRight }
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
                Curve { label: "all tasks".into(), points: (1..=30).map(|s| (s as f64, 1.0 / (1.0 + s as f64 * 0.05))).collect(), color: None },
                Curve { label: "rt_fresh_rotten".into(), points: vec![(1.0, 1.0), (10.0, 0.9), (30.0, f64::NAN)], color: None },
            ],
            ..CurvesChart::default()
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

    /// A tick at zero reads 0.0 even when the axis computes it as a tiny negative number.
    #[test]
    fn a_tick_at_zero_has_no_sign() {
        let chart = CurvesChart { title: "Dev".into(), curves: vec![Curve { label: "a".into(), points: vec![(0.0, 0.05), (1.0, -0.35)], color: None }], ..CurvesChart::default() };
        let svg = render_svg(&chart).expect("svg");
        assert!(!svg.contains("\n-0.0\n") && svg.contains("\n0.0\n") && svg.contains("\n-0.1\n"), "{svg}");
    }

    /// The legend goes where the curves are not: upper right over falling curves, lower right
    /// under rising ones.
    #[test]
    fn the_legend_keeps_out_of_the_curves_way() {
        let line = |ys: &[f64]| Line { label: "a", named: true, color: PALETTE[0], faint: None, bold: ys.iter().enumerate().map(|(i, &y)| (i as f64, y)).collect() };
        let falling = [line(&[1.0, 0.6, 0.3, 0.2, 0.1])];
        let rising = [line(&[0.1, 0.5, 0.8, 0.9, 0.95])];
        assert_eq!(legend_corner(&falling, (0.0, 4.0), (0.0, 1.0)), SeriesLabelPosition::UpperRight);
        assert_eq!(legend_corner(&rising, (0.0, 4.0), (0.0, 1.0)), SeriesLabelPosition::LowerRight);
    }

    /// Curves of one label (a setting's seeds) share its colour and its entry in the legend.
    #[test]
    fn curves_of_one_label_share_a_colour_and_a_legend_entry() {
        let curve = |label: &str, y: f64| Curve { label: label.into(), points: vec![(0.0, y), (4.0, y + 0.1)], color: None };
        let chart = CurvesChart { title: "Dev".into(), curves: vec![curve("lr=0.001", 0.2), curve("lr=0.01", 0.3), curve("lr=0.001", 0.4)], ..CurvesChart::default() };
        let svg = render_svg(&chart).expect("svg");
        assert_eq!((svg.matches("\nlr=0.001\n").count(), svg.matches("\nlr=0.01\n").count()), (1, 1), "{svg}");
        // The axes and ticks are black; then three data lines and two legend samples.
        let strokes: Vec<&str> = svg.split("<polyline").skip(1).filter_map(|p| p.split("stroke=\"").nth(1)?.split('"').next()).filter(|c| *c != "#000000").collect();
        assert_eq!(strokes.len(), 5, "{strokes:?}");
        assert_eq!(strokes[0], strokes[2], "the seeds of a setting: {strokes:?}");
        assert_ne!(strokes[0], strokes[1]);
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

    /// The numbers on the y axis of an SVG chart (the mesh's labels), in document order.
    fn y_ticks(svg: &str) -> Vec<String> {
        svg.split("<text")
            .filter(|t| t.contains("text-anchor=\"end\""))
            .filter_map(|t| t.split('>').nth(1).and_then(|v| v.split('<').next()).map(|v| v.trim().to_string()))
            .collect()
    }

    #[test]
    fn a_log_axis_leaves_out_points_at_or_below_zero_and_labels_the_values() {
        let chart = CurvesChart {
            curves: vec![Curve { label: "lr".into(), points: vec![(1.0, 1e-5), (2.0, 1e-3), (3.0, 0.0), (4.0, -1.0), (5.0, 1e-1)], color: None }],
            log_y: true,
            ..chart()
        };
        assert!(chart.has_points(), "three of its points are above 0");
        let svg = render_svg(&chart).expect("svg");
        let ticks = y_ticks(&svg);
        assert!(ticks.iter().any(|t| t == "0.001") && ticks.iter().any(|t| t == "1e-5"), "{ticks:?}");
        // On a linear axis the same points start at -1.
        let linear = y_ticks(&render_svg(&CurvesChart { log_y: false, ..chart.clone() }).expect("svg"));
        assert!(linear.iter().any(|t| t.starts_with('-')), "{linear:?}");
        assert!(!ticks.iter().any(|t| t.starts_with('-')), "{ticks:?}");
        // Only non-positive points: nothing to draw.
        let none = CurvesChart { curves: vec![Curve { label: "x".into(), points: vec![(1.0, 0.0), (2.0, -3.0)], color: None }], ..chart };
        assert!(!none.has_points());
        assert!(matches!(render_svg(&none), Err(ChartError::Empty)));
    }

    #[test]
    fn log_ticks_read_as_values() {
        assert_eq!(log_tick(-3.0), "0.001");
        assert_eq!(log_tick(-5.0), "1e-5");
        assert_eq!(log_tick(0.5), "3.16");
        assert_eq!(log_tick((0.25f64).log10()), "0.25");
        assert_eq!(log_tick(4.5), "3.16e4");
        assert_eq!(log_tick(2.0), "100");
    }

    #[test]
    fn an_x_range_keeps_its_points_and_a_curve_keeps_its_colour() {
        let points: Vec<(f64, f64)> = (0..100).map(|s| (s as f64, (s as f64).sqrt())).collect();
        let full = CurvesChart { curves: vec![Curve { label: "loss".into(), points: points.clone(), color: Some((0x12, 0x83, 0x8f)) }], ..chart() };
        let zoomed = CurvesChart { x_range: Some((10.0, 20.0)), ..full.clone() };
        let drawn = lines(&zoomed);
        assert_eq!(drawn[0].bold.first(), Some(&(10.0, 10f64.sqrt())));
        let log = CurvesChart { log_y: true, ..zoomed.clone() };
        assert_eq!(lines(&log)[0].bold.first(), Some(&(10.0, 10f64.sqrt().log10())), "a log axis draws log10 of the values");
        assert_eq!(drawn[0].bold.last(), Some(&(20.0, 20f64.sqrt())));
        assert_eq!(drawn[0].bold.len(), 11);
        let svg = render_svg(&zoomed).expect("svg");
        assert!(svg.contains("#12838F") || svg.contains("#12838f") || svg.contains("rgb(18,131,143)"), "the curve's own colour");
        assert_ne!(svg, render_svg(&full).expect("svg"));
        // Smoothing runs over the whole curve before the range is cut.
        let smoothed_chart = CurvesChart { smoothing: Some(0.9), ..zoomed.clone() };
        let smoothed = lines(&smoothed_chart);
        let whole = smooth(&points, 0.9);
        assert_eq!(smoothed[0].bold[0], whole[10]);
        assert_eq!(smoothed[0].faint.as_ref().expect("faint").len(), 11);
    }

    #[test]
    fn no_points_is_an_error() {
        let empty = CurvesChart { curves: vec![Curve { label: "x".into(), points: vec![], color: None }], ..chart() };
        assert!(matches!(render_svg(&empty), Err(ChartError::Empty)));
    }
}
