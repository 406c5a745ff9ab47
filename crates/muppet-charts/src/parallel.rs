//! Parallel coordinates (W&B's sweep chart): one vertical axis per setting and a last one for
//! the score, one line per setting of a sweep through its values, coloured by its score, so
//! the settings that score well show as a band of dark lines.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::render::{draw_err, finite_range, log_tick};
use crate::ChartError;

/// An axis: its name, whether its values are placed on a log scale, and for a categorical
/// axis its categories in order (the lines' values are their indices; empty: numbers).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParallelAxis {
    pub label: String,
    pub log: bool,
    pub categories: Vec<String>,
}

/// A line: its value on every axis, in the axes' order (the score last).
#[derive(Debug, Clone, PartialEq)]
pub struct ParallelLine {
    pub values: Vec<f64>,
}

/// Parallel coordinates; the last axis is the score the lines are coloured by.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParallelChart {
    pub title: String,
    pub axes: Vec<ParallelAxis>,
    pub lines: Vec<ParallelLine>,
}

impl ParallelChart {
    /// Runs drawn through their values of several keys (W&B's parallel coordinates of runs):
    /// `axes` one per key, `lines` each run's values, the last key colouring the lines.
    pub fn of_runs(axes: Vec<ParallelAxis>, lines: Vec<Vec<f64>>) -> ParallelChart {
        let last = axes.last().map(|a| a.label.clone()).unwrap_or_default();
        ParallelChart { title: format!("Runs, darker for a higher {last}"), axes, lines: lines.into_iter().map(|values| ParallelLine { values }).collect() }
    }
}

/// Ticks written on each axis.
const TICKS: usize = 5;

/// Colour of a score from its place between the lowest (0) and highest (1): from a light
/// blue-green to a dark violet, so the best lines stand out.
fn shade(t: f64) -> RGBColor {
    const STOPS: [(f64, (f64, f64, f64)); 3] = [(0.0, (150.0, 210.0, 190.0)), (0.5, (70.0, 130.0, 180.0)), (1.0, (60.0, 20.0, 120.0))];
    let t = t.clamp(0.0, 1.0);
    let (i, (t0, a)) = STOPS.iter().enumerate().take_while(|(_, (at, _))| *at <= t).last().map(|(i, s)| (i, *s)).unwrap_or((0, STOPS[0]));
    let (t1, b) = STOPS.get(i + 1).copied().unwrap_or((1.0, a));
    let f = if t1 > t0 { (t - t0) / (t1 - t0) } else { 0.0 };
    let mix = |x: f64, y: f64| (x + (y - x) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// A value on a linear axis's tick: whole numbers as they are, others to 3 significant digits.
fn linear_tick(v: f64) -> String {
    if v == v.round() && v.abs() < 1e6 {
        return format!("{v:.0}");
    }
    if v != 0.0 && !(1e-3..1e4).contains(&v.abs()) {
        let text = log_tick(v.abs().log10());
        return if v < 0.0 { format!("-{text}") } else { text };
    }
    let digits = (2 - v.abs().log10().floor() as i32).max(0) as usize;
    let text = format!("{v:.digits$}");
    if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_string() } else { text }
}

/// How an axis places its values: the range of the values (in log10 on a log axis).
struct Scale {
    log: bool,
    lo: f64,
    hi: f64,
    /// The values themselves (on the axis's scale) when there are few: the ticks name them.
    few: Option<Vec<f64>>,
    /// A categorical axis's categories: every one is a tick, by name.
    categories: Vec<String>,
}

impl Scale {
    fn of(axis: &ParallelAxis, values: impl Iterator<Item = f64>) -> Option<Scale> {
        if !axis.categories.is_empty() {
            let last = (axis.categories.len() - 1) as f64;
            return Some(Scale { log: false, lo: 0.0, hi: last, few: None, categories: axis.categories.clone() });
        }
        let at = |v: f64| if axis.log { (v > 0.0).then(|| v.log10()) } else { Some(v) };
        let mut placed: Vec<f64> = values.filter_map(at).filter(|v| v.is_finite()).collect();
        let (lo, hi) = finite_range(placed.iter().copied())?;
        placed.sort_by(f64::total_cmp);
        placed.dedup();
        Some(Scale { log: axis.log, lo, hi, few: (placed.len() <= TICKS).then_some(placed), categories: Vec::new() })
    }

    /// Where `v` goes, 0 at the bottom to 1 at the top; a flat axis puts it in the middle.
    fn place(&self, v: f64) -> Option<f64> {
        let x = if self.log { (v > 0.0).then(|| v.log10())? } else { v };
        if !x.is_finite() {
            return None;
        }
        Some(if self.hi > self.lo { (x - self.lo) / (self.hi - self.lo) } else { 0.5 })
    }

    /// The tick labels, bottom to top, with their heights: the values themselves when there
    /// are few (a batch size of 8 or 16), else evenly spaced.
    fn ticks(&self) -> Vec<(f64, String)> {
        let text = |x: f64| if self.log { log_tick(x) } else { linear_tick(x) };
        let height = |x: f64| if self.hi > self.lo { (x - self.lo) / (self.hi - self.lo) } else { 0.5 };
        if !self.categories.is_empty() {
            return self.categories.iter().enumerate().map(|(i, name)| (height(i as f64), name.clone())).collect();
        }
        match &self.few {
            Some(values) => values.iter().map(|&x| (height(x), text(x))).collect(),
            None => (0..TICKS).map(|i| self.lo + i as f64 / (TICKS - 1) as f64 * (self.hi - self.lo)).map(|x| (height(x), text(x))).collect(),
        }
    }
}

/// Where a line was drawn: its index in the chart's lines and its point on each axis, as
/// fractions of the chart's width (from the left) and height (from the top), so that a page
/// showing the chart at any size can put something over it (a run's name on hover).
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedLine {
    pub line: usize,
    pub points: Vec<(f64, f64)>,
}

impl ParallelChart {
    /// The chart as an SVG document, with where each line was drawn (those missing a value
    /// are not drawn, nor placed).
    pub fn render_svg_placed(&self) -> Result<(String, Vec<PlacedLine>), ChartError> {
        crate::render::svg_with(|root| self.draw_placed(root))
    }

    /// Draw the chart; returns where each line went.
    fn draw_placed<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<Vec<PlacedLine>, ChartError> {
        let n = self.axes.len();
        if n < 2 {
            return Err(ChartError::Empty);
        }
        let scales: Vec<Scale> = self
            .axes
            .iter()
            .enumerate()
            .map(|(i, axis)| Scale::of(axis, self.lines.iter().filter_map(|l| l.values.get(i).copied())))
            .collect::<Option<_>>()
            .ok_or(ChartError::Empty)?;
        // Each line's place on every axis, with its index; a line missing one is left out.
        let placed: Vec<(usize, Vec<f64>)> = self
            .lines
            .iter()
            .enumerate()
            .filter_map(|(at, l)| Some((at, (l.values.len() == n).then(|| l.values.iter().zip(&scales).map(|(&v, s)| s.place(v)).collect::<Option<Vec<f64>>>())??)))
            .collect();
        if placed.is_empty() {
            return Err(ChartError::Empty);
        }
        root.fill(&WHITE).map_err(draw_err)?;
        let last = (n - 1) as f64;
        let mut ctx = ChartBuilder::on(root)
            .caption(&self.title, ("sans-serif", 22))
            .margin(20)
            .build_cartesian_2d(-0.3..last + 0.3, -0.14..1.06)
            .map_err(draw_err)?;
        // Low scores first, so the best lines are drawn on top.
        let mut order: Vec<&(usize, Vec<f64>)> = placed.iter().collect();
        order.sort_by(|a, b| a.1[n - 1].total_cmp(&b.1[n - 1]));
        let (width, height) = root.dim_in_pixel();
        let mut lines = Vec::with_capacity(order.len());
        for (at, line) in order {
            let color = shade(line[n - 1]);
            let at_axes: Vec<(f64, f64)> = line.iter().enumerate().map(|(i, &y)| (i as f64, y)).collect();
            let points = at_axes.iter().map(|p| ctx.backend_coord(p)).map(|(x, y)| (f64::from(x) / f64::from(width), f64::from(y) / f64::from(height))).collect();
            lines.push(PlacedLine { line: *at, points });
            ctx.draw_series(LineSeries::new(at_axes, color.stroke_width(2))).map_err(draw_err)?;
        }
        let axis_color = RGBColor(60, 58, 72);
        let tick_font = ("sans-serif", 12).into_font().color(&RGBColor(93, 90, 112));
        let name_font = ("sans-serif", 14).into_font().color(&axis_color).pos(Pos::new(HPos::Center, VPos::Top));
        for (i, (axis, scale)) in self.axes.iter().zip(&scales).enumerate() {
            let x = i as f64;
            ctx.draw_series(std::iter::once(PathElement::new(vec![(x, 0.0), (x, 1.0)], axis_color.stroke_width(1)))).map_err(draw_err)?;
            for (t, label) in scale.ticks() {
                ctx.draw_series(std::iter::once(EmptyElement::at((x, t)) + PathElement::new(vec![(-4, 0), (0, 0)], axis_color) + Text::new(label, (5, -7), tick_font.clone())))
                    .map_err(draw_err)?;
            }
            let name = if axis.log { format!("{} (log)", axis.label) } else { axis.label.clone() };
            ctx.draw_series(std::iter::once(Text::new(name, (x, -0.05), name_font.clone()))).map_err(draw_err)?;
        }
        Ok(lines)
    }
}

impl crate::Chart for ParallelChart {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ChartError> {
        self.draw_placed(root).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render_svg;

    fn chart() -> ParallelChart {
        let line = |lr: f64, batch: f64, score: f64| ParallelLine { values: vec![lr, batch, score] };
        ParallelChart {
            title: "Sweep: winowhy".into(),
            axes: vec![
                ParallelAxis { label: "lr".into(), log: true, ..ParallelAxis::default() },
                ParallelAxis { label: "batch_size".into(), ..ParallelAxis::default() },
                ParallelAxis { label: "dev accuracy".into(), ..ParallelAxis::default() },
            ],
            lines: vec![line(1e-5, 8.0, 0.55), line(1e-4, 16.0, 0.62), line(1e-3, 8.0, 0.48)],
        }
    }

    /// The settings' lines (the axes and ticks are thinner).
    fn setting_lines(svg: &str) -> Vec<&str> {
        svg.split("<polyline").skip(1).filter(|l| l.split("/>").next().is_some_and(|l| l.contains("stroke-width=\"2\""))).collect()
    }

    fn texts(svg: &str) -> Vec<String> {
        svg.split("<text").skip(1).filter_map(|t| t.split('>').nth(1)?.split('<').next().map(|v| v.trim().to_string())).collect()
    }

    #[test]
    fn each_setting_is_a_line_through_its_values_coloured_by_its_score() {
        let svg = render_svg(&chart()).expect("svg");
        let said = texts(&svg);
        for text in ["Sweep: winowhy", "lr (log)", "batch_size", "dev accuracy", "1e-5", "1e-4", "0.001", "8", "16", "0.48", "0.55", "0.62"] {
            assert!(said.iter().any(|t| t == text), "{text} missing from {said:?}");
        }
        // Few values: the ticks name them, nothing between.
        assert!(!said.iter().any(|t| t == "12" || t == "3.16e-5"), "{said:?}");
        // Three lines, each through the three axes; the best (0.62) darkest and drawn last.
        let lines = setting_lines(&svg);
        assert_eq!(lines.len(), 3, "{svg}");
        let best = shade(1.0);
        let hex = format!("#{:02X}{:02X}{:02X}", best.0, best.1, best.2);
        assert!(lines[2].contains(&hex), "{} / {hex}", lines[2]);
        assert_eq!(svg, render_svg(&chart()).expect("svg"), "the same bytes for the same chart");
    }

    #[test]
    fn each_line_drawn_is_placed_where_its_polyline_is() {
        let mut c = chart();
        c.lines.push(ParallelLine { values: vec![0.0, 8.0, 0.5] });
        let (svg, placed) = c.render_svg_placed().expect("svg");
        assert_eq!(svg, render_svg(&c).expect("svg"), "the same drawing");
        // In drawing order (the lowest score first); the line with no place is not placed.
        assert_eq!(placed.iter().map(|p| p.line).collect::<Vec<_>>(), [2, 0, 1]);
        let (width, height) = (f64::from(crate::render::SIZE.0), f64::from(crate::render::SIZE.1));
        for (p, drawn) in placed.iter().zip(setting_lines(&svg)) {
            let points = drawn.split("points=\"").nth(1).and_then(|t| t.split('"').next()).expect("points");
            let at: Vec<(f64, f64)> = points.split_whitespace().filter_map(|xy| xy.split_once(',')).map(|(x, y)| (x.parse().expect("x"), y.parse().expect("y"))).collect();
            assert_eq!(at.len(), p.points.len(), "{drawn}");
            for ((x, y), (left, top)) in at.iter().zip(&p.points) {
                assert!((left * width - x).abs() < 1.0 && (top * height - y).abs() < 1.0, "{p:?} is not on {drawn}");
            }
        }
        // The higher score is higher up on the last axis.
        assert!(placed[2].points[2].1 < placed[1].points[2].1, "{placed:?}");
    }

    #[test]
    fn a_line_without_a_place_is_left_out_and_nothing_to_draw_is_an_error() {
        let mut c = chart();
        c.lines.push(ParallelLine { values: vec![0.0, 8.0, 0.5] });
        let svg = render_svg(&c).expect("svg");
        assert_eq!(setting_lines(&svg).len(), 3, "a learning rate of 0 has no place on a log axis");
        let flat = ParallelChart { lines: vec![ParallelLine { values: vec![1e-4, 8.0, 0.5] }], ..chart() };
        assert_eq!(setting_lines(&render_svg(&flat).expect("one line")).len(), 1);
        assert!(matches!(render_svg(&ParallelChart { axes: chart().axes[..1].to_vec(), ..chart() }), Err(ChartError::Empty)));
        assert!(matches!(render_svg(&ParallelChart { lines: Vec::new(), ..chart() }), Err(ChartError::Empty)));
    }

    #[test]
    fn a_categorical_axis_names_its_categories() {
        let batching = ParallelAxis { label: "batching".into(), categories: vec!["heterogeneous".into(), "homogeneous".into(), "sequential".into()], ..ParallelAxis::default() };
        let c = ParallelChart { axes: vec![batching, chart().axes[2].clone()], lines: vec![ParallelLine { values: vec![0.0, 0.6] }, ParallelLine { values: vec![2.0, 0.5] }], ..chart() };
        let svg = render_svg(&c).expect("svg");
        let said = texts(&svg);
        for text in ["heterogeneous", "homogeneous", "sequential", "batching"] {
            assert!(said.iter().any(|t| t == text), "{text} missing from {said:?}");
        }
        assert_eq!(setting_lines(&svg).len(), 2);
    }

    #[test]
    fn ticks_read_as_numbers() {
        assert_eq!(linear_tick(16.0), "16");
        assert_eq!(linear_tick(0.625), "0.625");
        assert_eq!(linear_tick(0.5), "0.5");
        assert_eq!(linear_tick(0.00002), "2e-5");
        assert_eq!(shade(0.0), RGBColor(150, 210, 190));
        assert_eq!(shade(0.5), RGBColor(70, 130, 180));
    }
}
