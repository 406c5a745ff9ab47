//! Charts of experiments: sample-efficiency curves (metric against training size on a
//! log axis, mean line and interval band per starting point), the task-count chart (gain
//! over the base model against the number of pre-finetuning tasks, with the hinge fit and
//! the critical point) and bars (one per ablation variant, with intervals).

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::render::{draw_err, finite_range, legend, linear_tick, padded, Chart, BASE_COLOR, PALETTE};
use crate::ChartError;

/// A mean over seeds and its interval at one x (NaN bounds: no interval, e.g. one seed).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BandPoint {
    pub x: f64,
    pub mean: f64,
    pub low: f64,
    pub high: f64,
}

impl BandPoint {
    fn low_or_mean(&self) -> f64 {
        if self.low.is_finite() { self.low } else { self.mean }
    }
    fn high_or_mean(&self) -> f64 {
        if self.high.is_finite() { self.high } else { self.mean }
    }
}

/// One starting point's curve.
#[derive(Debug, Clone, PartialEq)]
pub struct BandSeries {
    pub label: String,
    /// Drawn in the base model's grey.
    pub is_base: bool,
    pub points: Vec<BandPoint>,
}

/// What the x of a [`SampleEfficiencyChart`] counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BandAxis {
    /// Training examples, on a log scale (sample efficiency).
    #[default]
    TrainingExamples,
    /// Pre-finetuning tasks, on a linear scale (task count).
    Tasks,
}

/// Metric against training size (log x), or against the number of tasks, one line with its
/// band per starting point (or per experiment compared).
#[derive(Debug, Clone, PartialEq)]
pub struct SampleEfficiencyChart {
    pub title: String,
    pub y_label: String,
    pub series: Vec<BandSeries>,
    pub x_axis: BandAxis,
}

/// Colours of series in order: grey for the base model, the palette for the others.
fn series_colors<'a>(is_base: impl Iterator<Item = bool> + 'a) -> impl Iterator<Item = RGBColor> + 'a {
    let mut next = 0;
    is_base.map(move |base| {
        if base {
            BASE_COLOR
        } else {
            next += 1;
            PALETTE[(next - 1) % PALETTE.len()]
        }
    })
}

fn fmt_size(v: f64) -> String {
    let n = v.exp2();
    if (n - n.round()).abs() < 1e-6 { format!("{}", n.round()) } else { format!("{n:.1}") }
}

impl Chart for SampleEfficiencyChart {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ChartError> {
        let log = self.x_axis == BandAxis::TrainingExamples;
        // Where a point goes along x: log2 of the size, or the number of tasks as it is.
        let at = move |p: &BandPoint| if log { p.x.log2() } else { p.x };
        let placed = move |p: &&BandPoint| (!log || p.x > 0.0) && p.x.is_finite() && p.mean.is_finite();
        let all = self.series.iter().flat_map(|s| s.points.iter()).filter(placed);
        let mut xs: Vec<f64> = all.clone().map(at).collect();
        xs.sort_by(f64::total_cmp);
        xs.dedup();
        let (Some(&x_lo), Some(&x_hi)) = (xs.first(), xs.last()) else { return Err(ChartError::Empty) };
        let (y0, y1) = padded(finite_range(all.flat_map(|p| [p.mean, p.low, p.high])).ok_or(ChartError::Empty)?);
        let margin = if log { 0.3 } else { ((x_hi - x_lo) * 0.05).max(0.5) };
        root.fill(&WHITE).map_err(draw_err)?;
        let mut ctx = ChartBuilder::on(root)
            .caption(&self.title, ("sans-serif", 22))
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(60)
            .build_cartesian_2d((x_lo - margin)..(x_hi + margin), y0..y1)
            .map_err(draw_err)?;
        let values = |v: &f64| linear_tick(*v, y1 - y0);
        let mut mesh = ctx.configure_mesh();
        mesh.y_desc(self.y_label.as_str()).y_label_formatter(&values).label_style(("sans-serif", 13)).light_line_style(RGBColor(238, 236, 244));
        let sizes = |v: &f64| fmt_size(*v);
        let counts = |v: &f64| if (v - v.round()).abs() < 1e-9 { format!("{}", v.round()) } else { String::new() };
        if log {
            // Ticks at whole powers of two (log2 steps of 1) read as sizes.
            mesh.x_desc("training examples (log scale)").x_labels(((x_hi - x_lo).floor() as usize + 1).max(2)).x_label_formatter(&sizes);
        } else {
            // Ticks at whole numbers of tasks.
            mesh.x_desc("pre-finetuning tasks").x_labels(((x_hi - x_lo).round() as usize + 1).clamp(2, 12)).x_label_formatter(&counts);
        }
        mesh.draw().map_err(draw_err)?;
        for (series, color) in self.series.iter().zip(series_colors(self.series.iter().map(|s| s.is_base))) {
            let pts: Vec<&BandPoint> = series.points.iter().filter(placed).collect();
            if pts.is_empty() {
                continue;
            }
            let mut band: Vec<(f64, f64)> = pts.iter().map(|p| (at(p), p.high_or_mean())).collect();
            band.extend(pts.iter().rev().map(|p| (at(p), p.low_or_mean())));
            ctx.draw_series(std::iter::once(Polygon::new(band, color.mix(0.16).filled()))).map_err(draw_err)?;
            ctx.draw_series(LineSeries::new(pts.iter().map(|p| (at(p), p.mean)), color.stroke_width(2)))
                .map_err(draw_err)?
                .label(format!("{} (mean, 95% CI)", series.label))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
            ctx.draw_series(pts.iter().map(|p| Circle::new((at(p), p.mean), 3, color.filled()))).map_err(draw_err)?;
        }
        legend(&mut ctx, SeriesLabelPosition::LowerRight)?;
        Ok(())
    }
}

/// Gain over the base model against the number of pre-finetuning tasks.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskCountChart {
    pub title: String,
    pub y_label: String,
    /// Per-seed gains (k, gain).
    pub seeds: Vec<(f64, f64)>,
    /// Mean gain and interval per k.
    pub means: Vec<BandPoint>,
    /// Vertices of the fitted segments, left to right.
    pub fit: Vec<(f64, f64)>,
    /// The critical point, when the fit crosses zero within the data.
    pub critical: Option<f64>,
    /// Its bootstrap interval (the high end may be +infinity: beyond the data).
    pub interval: Option<(f64, f64)>,
    /// The fit's verdict, printed under the chart.
    pub verdict: String,
}

/// Split `text` into lines of at most `width` characters at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let line = lines.last_mut().expect("one line");
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(word.to_string());
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines
}

impl Chart for TaskCountChart {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ChartError> {
        let xs = self.seeds.iter().map(|p| p.0).chain(self.means.iter().map(|p| p.x)).chain(self.fit.iter().map(|p| p.0));
        let (x_lo, x_hi) = finite_range(xs).ok_or(ChartError::Empty)?;
        let ys = self
            .seeds
            .iter()
            .map(|p| p.1)
            .chain(self.means.iter().flat_map(|p| [p.mean, p.low, p.high]))
            .chain(self.fit.iter().map(|p| p.1))
            .chain([0.0]);
        let (y0, y1) = padded(finite_range(ys).ok_or(ChartError::Empty)?);
        // Room above the data for the legend.
        let y1 = y1 + (y1 - y0) * 0.45;
        let (x0, x1) = (x_lo - 0.5, x_hi + 0.5);
        root.fill(&WHITE).map_err(draw_err)?;
        let lines = wrap(&self.verdict, 118);
        let footer_h = 14 + 20 * lines.len() as u32;
        let (plot, footer) = root.split_vertically(root.dim_in_pixel().1.saturating_sub(footer_h));
        for (i, line) in lines.iter().enumerate() {
            footer.draw_text(line, &("sans-serif", 15).into_text_style(&footer), (24, 4 + 20 * i as i32)).map_err(draw_err)?;
        }
        let mut ctx = ChartBuilder::on(&plot)
            .caption(&self.title, ("sans-serif", 22))
            .margin(16)
            .x_label_area_size(40)
            .y_label_area_size(64)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(draw_err)?;
        ctx.configure_mesh()
            .x_desc("pre-finetuning tasks (0: the base model)")
            .x_label_formatter(&|v| if (v - v.round()).abs() < 1e-9 { format!("{v:.0}") } else { format!("{v:.1}") })
            .y_label_formatter(&|v| linear_tick(*v, y1 - y0))
            .y_desc(self.y_label.as_str())
            .label_style(("sans-serif", 13))
            .light_line_style(RGBColor(238, 236, 244))
            .draw()
            .map_err(draw_err)?;
        let crit_color = PALETTE[2];
        if let Some((lo, hi)) = self.interval
            && lo.is_finite()
        {
            let (lo, hi) = (lo.max(x0), if hi.is_finite() { hi.min(x1) } else { x1 });
            ctx.draw_series(std::iter::once(Rectangle::new([(lo, y0), (hi, y1)], crit_color.mix(0.10).filled())))
                .map_err(draw_err)?
                .label("critical point, 95% bootstrap interval")
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 18, y + 5)], crit_color.mix(0.25).filled()));
        }
        ctx.draw_series(LineSeries::new([(x0, 0.0), (x1, 0.0)], BASE_COLOR.stroke_width(2)))
            .map_err(draw_err)?
            .label("base model (gain 0)")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], BASE_COLOR.stroke_width(2)));
        let dots = PALETTE[0];
        ctx.draw_series(self.seeds.iter().filter(|p| p.0.is_finite() && p.1.is_finite()).map(|&p| Circle::new(p, 3, dots.mix(0.35).filled())))
            .map_err(draw_err)?
            .label("one seed")
            .legend(move |(x, y)| Circle::new((x + 9, y), 3, dots.mix(0.35).filled()));
        for p in self.means.iter().filter(|p| p.low.is_finite() && p.high.is_finite()) {
            ctx.draw_series(std::iter::once(PathElement::new(vec![(p.x, p.low), (p.x, p.high)], dots.stroke_width(2)))).map_err(draw_err)?;
        }
        ctx.draw_series(self.means.iter().filter(|p| p.mean.is_finite()).map(|p| Circle::new((p.x, p.mean), 5, dots.filled())))
            .map_err(draw_err)?
            .label("mean gain, 95% CI")
            .legend(move |(x, y)| Circle::new((x + 9, y), 5, dots.filled()));
        if self.fit.len() >= 2 {
            let fit_color = PALETTE[1];
            ctx.draw_series(LineSeries::new(self.fit.iter().copied(), fit_color.stroke_width(2)))
                .map_err(draw_err)?
                .label("piecewise-linear fit")
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], fit_color.stroke_width(2)));
        }
        if let Some(k) = self.critical.filter(|k| k.is_finite()) {
            ctx.draw_series(LineSeries::new([(k, y0), (k, y1)], crit_color.stroke_width(2)))
                .map_err(draw_err)?
                .label(format!("critical point: {k:.1} tasks"))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], crit_color.stroke_width(2)));
        }
        legend(&mut ctx, SeriesLabelPosition::UpperLeft)?;
        Ok(())
    }
}

/// One bar: a mean over seeds with its interval.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    pub mean: f64,
    pub low: f64,
    pub high: f64,
    pub is_base: bool,
}

/// Horizontal bars, top to bottom in order, with interval whiskers and the mean written out.
#[derive(Debug, Clone, PartialEq)]
pub struct BarsChart {
    pub title: String,
    pub x_label: String,
    pub bars: Vec<Bar>,
}

impl Chart for BarsChart {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ChartError> {
        let n = self.bars.len();
        let (lo, hi) = finite_range(self.bars.iter().flat_map(|b| [b.mean, b.low, b.high]).chain([0.0])).ok_or(ChartError::Empty)?;
        if self.bars.iter().all(|b| !b.mean.is_finite()) {
            return Err(ChartError::Empty);
        }
        let span = if hi > lo { hi - lo } else { 1.0 };
        let (x0, x1) = (if lo < 0.0 { lo - span * 0.05 } else { 0.0 }, hi + span * 0.15);
        let row = |i: usize| (n - 1 - i) as f64;
        root.fill(&WHITE).map_err(draw_err)?;
        let labels: Vec<String> = self.bars.iter().map(|b| b.label.clone()).collect();
        let label_of = move |v: &f64| -> String {
            let i = v.round();
            if (v - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < n { labels[n - 1 - i as usize].clone() } else { String::new() }
        };
        let mut ctx = ChartBuilder::on(root)
            .caption(&self.title, ("sans-serif", 22))
            .margin(16)
            .x_label_area_size(40)
            .y_label_area_size(230)
            .build_cartesian_2d(x0..x1, -0.6..(n as f64 - 0.4))
            .map_err(draw_err)?;
        ctx.configure_mesh()
            .x_desc(self.x_label.as_str())
            .x_label_formatter(&|v| linear_tick(*v, x1 - x0))
            .y_labels(n + 1)
            .y_label_formatter(&label_of)
            .disable_y_mesh()
            .label_style(("sans-serif", 13))
            .light_line_style(RGBColor(238, 236, 244))
            .draw()
            .map_err(draw_err)?;
        for ((i, bar), color) in self.bars.iter().enumerate().zip(series_colors(self.bars.iter().map(|b| b.is_base))) {
            if !bar.mean.is_finite() {
                continue;
            }
            let y = row(i);
            ctx.draw_series(std::iter::once(Rectangle::new([(0f64.max(x0), y - 0.32), (bar.mean, y + 0.32)], color.mix(0.75).filled())))
                .map_err(draw_err)?;
            let mut right = bar.mean;
            if bar.low.is_finite() && bar.high.is_finite() {
                right = right.max(bar.high);
                let whisker = BLACK.stroke_width(2);
                ctx.draw_series([
                    PathElement::new(vec![(bar.low, y), (bar.high, y)], whisker),
                    PathElement::new(vec![(bar.low, y - 0.12), (bar.low, y + 0.12)], whisker),
                    PathElement::new(vec![(bar.high, y - 0.12), (bar.high, y + 0.12)], whisker),
                ])
                .map_err(draw_err)?;
            }
            ctx.draw_series(std::iter::once(Text::new(format!("{:.3}", bar.mean), (right + span * 0.015, y + 0.12), ("sans-serif", 13))))
                .map_err(draw_err)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_keeps_words_whole() {
        assert_eq!(wrap("a bb ccc dddd", 6), vec!["a bb", "ccc", "dddd"]);
        assert_eq!(wrap("", 6), vec![""]);
    }

    #[test]
    fn log_ticks_read_as_sizes() {
        assert_eq!(fmt_size(4.0), "16");
        assert_eq!(fmt_size(8.0), "256");
        assert_eq!(fmt_size(10f64.log2()), "10");
    }
}
