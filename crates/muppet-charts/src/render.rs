//! What every chart shares: the size, the palette, SVG and PNG output, and atomic files.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::{font, ChartError};

/// Chart size in pixels.
pub(crate) const SIZE: (u32, u32) = (960, 540);

/// A fixed palette, so the same data always gets the same colours.
pub(crate) const PALETTE: [RGBColor; 8] = [
    RGBColor(91, 61, 201),
    RGBColor(214, 96, 77),
    RGBColor(46, 139, 87),
    RGBColor(218, 165, 32),
    RGBColor(70, 130, 180),
    RGBColor(199, 21, 133),
    RGBColor(105, 105, 105),
    RGBColor(0, 128, 128),
];

/// The colour of the base model wherever it appears.
pub(crate) const BASE_COLOR: RGBColor = RGBColor(110, 110, 110);

/// Something that draws itself on a plotters drawing area.
pub trait Chart {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ChartError>;
}

/// Map a plotters drawing error to ours.
pub(crate) fn draw_err<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> ChartError {
    ChartError::Draw(e.to_string())
}

/// The chart as an SVG document (the same bytes for the same chart, on every machine).
pub fn render_svg<C: Chart>(chart: &C) -> Result<String, ChartError> {
    svg_with(|root| chart.draw(root)).map(|(svg, ())| svg)
}

/// An SVG document of the chart's size drawn by `draw`, with what `draw` returns (where a
/// chart put its points, for a page to lay something over them).
pub(crate) fn svg_with<T>(draw: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> Result<T, ChartError>) -> Result<(String, T), ChartError> {
    font::ensure()?;
    let mut svg = String::new();
    let drawn = {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        let drawn = draw(&root)?;
        root.present().map_err(draw_err)?;
        drawn
    };
    Ok((svg, drawn))
}

/// The chart as an SVG file at `path`, written under a temporary name and renamed.
pub fn write_svg<C: Chart>(chart: &C, path: &Path) -> Result<(), ChartError> {
    let svg = render_svg(chart)?;
    publish(path, "partial.svg", |partial| std::fs::write(partial, svg).map_err(|source| ChartError::Write { path: partial.to_path_buf(), source }))
}

/// The chart as a PNG file at `path`, written under a temporary name and renamed.
pub fn render_png<C: Chart>(chart: &C, path: &Path) -> Result<(), ChartError> {
    font::ensure()?;
    publish(path, "partial.png", |partial| {
        let root = BitMapBackend::new(partial, SIZE).into_drawing_area();
        chart.draw(&root)?;
        root.present().map_err(draw_err)
    })
}

/// Write `dir/<stem>.svg` and `dir/<stem>.png`; returns their paths.
pub fn write_both<C: Chart>(chart: &C, dir: &Path, stem: &str) -> Result<(PathBuf, PathBuf), ChartError> {
    let svg = dir.join(format!("{stem}.svg"));
    let png = dir.join(format!("{stem}.png"));
    write_svg(chart, &svg)?;
    render_png(chart, &png)?;
    Ok((svg, png))
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

/// Draw the legend of the series labelled so far, in the charts' one style, at `position`.
pub(crate) fn legend<'a, DB: DrawingBackend + 'a, CT: plotters::coord::CoordTranslate>(
    ctx: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> Result<(), ChartError> {
    ctx.configure_series_labels()
        .background_style(WHITE.mix(0.9))
        .border_style(RGBColor(220, 218, 230))
        .label_font(("sans-serif", 13))
        .position(position)
        .draw()
        .map_err(draw_err)
}

/// Lowest and highest finite value, or `None`.
pub(crate) fn finite_range(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.into_iter().filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    lo.is_finite().then_some((lo, hi))
}

/// A range with some room around the data (and a visible width for flat data).
pub(crate) fn padded((lo, hi): (f64, f64)) -> (f64, f64) {
    let pad = if hi > lo { (hi - lo) * 0.08 } else { 0.5_f64.max(lo.abs() * 0.1) };
    (lo - pad, hi + pad)
}

/// The label of a tick on a linear axis spanning `span`, as plotters writes it, but a tick at
/// zero computed as a tiny negative number (-1e-17) reads "0.0", not "-0.0".
pub(crate) fn linear_tick(v: f64, span: f64) -> String {
    let v = if v.abs() < span.abs() * 1e-9 { 0.0 } else { v };
    <plotters::coord::types::RangedCoordf64 as plotters::coord::ranged1d::ValueFormatter<f64>>::format(&v)
}

/// A value on a log axis's tick: three significant digits, in scientific notation outside
/// 0.001 to 10,000 (`0.00316`, `1e-5`, `2.5e4`).
pub(crate) fn log_tick(log10: f64) -> String {
    let v = 10f64.powf(log10);
    let trim = |s: String| if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s };
    if (1e-3..1e4).contains(&v) {
        let decimals = (2 - v.log10().floor() as i32).max(0) as usize;
        trim(format!("{v:.decimals$}"))
    } else {
        let text = format!("{v:.2e}");
        let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
        format!("{}e{exponent}", trim(mantissa.to_string()))
    }
}
