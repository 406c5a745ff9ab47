//! Line charts of training curves: one line per series, x = step.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::{font, ChartError};

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
}

/// Chart size in pixels.
const SIZE: (u32, u32) = (960, 540);

/// A fixed palette, so the same data always gets the same colours.
const PALETTE: [RGBColor; 8] = [
    RGBColor(91, 61, 201),
    RGBColor(214, 96, 77),
    RGBColor(46, 139, 87),
    RGBColor(218, 165, 32),
    RGBColor(70, 130, 180),
    RGBColor(199, 21, 133),
    RGBColor(105, 105, 105),
    RGBColor(0, 128, 128),
];

/// The chart as an SVG document.
pub fn render_svg(chart: &CurvesChart) -> Result<String, ChartError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        draw(&root, chart)?;
        root.present().map_err(|e| ChartError::Draw(e.to_string()))?;
    }
    Ok(svg)
}

/// The chart as an SVG file at `path`, written under a temporary name and renamed.
pub fn write_svg(chart: &CurvesChart, path: &Path) -> Result<(), ChartError> {
    let svg = render_svg(chart)?;
    publish(path, "partial.svg", |partial| {
        std::fs::write(partial, svg).map_err(|source| ChartError::Write { path: partial.to_path_buf(), source })
    })
}

/// The chart as a PNG file at `path`, written under a temporary name and renamed.
pub fn render_png(chart: &CurvesChart, path: &Path) -> Result<(), ChartError> {
    publish(path, "partial.png", |partial| {
        let root = BitMapBackend::new(partial, SIZE).into_drawing_area();
        draw(&root, chart)?;
        root.present().map_err(|e| ChartError::Draw(e.to_string()))
    })
}

/// Write through `write` to a sibling temporary file, then rename it to `path`;
/// the temporary file is removed if writing fails.
fn publish(path: &Path, extension: &str, write: impl FnOnce(&Path) -> Result<(), ChartError>) -> Result<(), ChartError> {
    let partial = path.with_extension(extension);
    if let Err(e) = write(&partial) {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    std::fs::rename(&partial, path).map_err(|source| ChartError::Write { path: path.to_path_buf(), source })
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, chart: &CurvesChart) -> Result<(), ChartError> {
    font::ensure()?;
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
        let line = curve.points.iter().copied().filter(|(x, y)| x.is_finite() && y.is_finite());
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

    fn chart() -> CurvesChart {
        CurvesChart {
            title: "Training loss".into(),
            x_label: "step".into(),
            y_label: "scaled loss".into(),
            curves: vec![
                Curve { label: "all tasks".into(), points: (1..=30).map(|s| (s as f64, 1.0 / (1.0 + s as f64 * 0.05))).collect() },
                Curve { label: "rt_fresh_rotten".into(), points: vec![(1.0, 1.0), (10.0, 0.9), (30.0, f64::NAN)] },
            ],
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
    fn no_points_is_an_error() {
        let empty = CurvesChart { curves: vec![Curve { label: "x".into(), points: vec![] }], ..chart() };
        assert!(matches!(render_svg(&empty), Err(ChartError::Empty)));
    }
}
