//! Scatter charts of runs: one point per run at its values of two keys (a setting against a
//! dev figure, as MLflow's and W&B's scatter plots of runs), labelled with the run (up to
//! [`MAX_LABELS`] points; more would cover the chart), coloured by group with a legend when
//! there are several. A key of other values than numbers (a sampling, a backend) is an axis of
//! categories: its runs are set side by side over their category where their values are
//! close, as a beeswarm plot.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::render::{draw_err, finite_range, legend, linear_tick, log_tick, padded, Chart, PALETTE};
use crate::ChartError;

/// The most points a chart labels; with more, the points alone are drawn.
pub const MAX_LABELS: usize = 60;

/// One point: its values and its label (`#12`).
#[derive(Debug, Clone, PartialEq)]
pub struct ScatterPoint {
    pub x: f64,
    pub y: f64,
    pub label: String,
}

/// Points drawn in one colour, named in the legend.
#[derive(Debug, Clone, PartialEq)]
pub struct ScatterSeries {
    pub label: String,
    pub points: Vec<ScatterPoint>,
}

/// A scatter chart; log axes leave out the points at or below zero.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScatterChart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub log_x: bool,
    pub log_y: bool,
    pub series: Vec<ScatterSeries>,
    /// A categorical axis's categories in order (a point's value is its category's index);
    /// empty for numbers.
    pub x_categories: Vec<String>,
    pub y_categories: Vec<String>,
}

/// How far apart the points of one category are spread, at most, in categories.
const SPREAD: f64 = 0.5;

/// The tick of a categorical axis at `v`: the category's name at its index, nothing between.
fn category_tick(names: &[String], v: f64) -> String {
    let at = v.round();
    if (v - at).abs() > 1e-6 || at < 0.0 {
        return String::new();
    }
    names.get(at as usize).cloned().unwrap_or_default()
}

/// The widest step between two points of a category side by side, in categories.
const STEP: f64 = 0.08;

/// How close two values along the other axis are, in its range, for their points to be set
/// side by side.
const NEAR: f64 = 0.03;

/// The offsets across one category of points at `values` along the other axis, as a
/// beeswarm: each point, from the lowest value up, takes the place nearest the category's
/// centre (0, then a step right, a step left, two right, ...) where no point placed before
/// it is nearer than `radius` along the other axis; points far apart stay on the centre. The
/// step shrinks so that the largest crowd fits in [`SPREAD`]; beyond that, they overlap.
fn swarm(values: &[f64], radius: f64) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let sorted: Vec<f64> = order.iter().map(|&i| values[i]).collect();
    let crowd = (0..sorted.len()).map(|i| sorted[i..].iter().take_while(|v| **v - sorted[i] < radius).count()).max().unwrap_or(1);
    let step = STEP.min(SPREAD / crowd as f64);
    let slots = (SPREAD / 2.0 / step + 1e-9).floor() as i64;
    let mut placed: Vec<(f64, f64)> = Vec::with_capacity(values.len());
    let mut out = vec![0.0; values.len()];
    for i in order {
        let v = values[i];
        let near: Vec<f64> = placed.iter().filter(|(w, _)| (w - v).abs() < radius).map(|(_, o)| *o).collect();
        let free = |o: f64| near.iter().all(|p| (p - o).abs() > step * 0.5);
        let offset = (0..=slots).flat_map(|k| [k, -k]).map(|k| k as f64 * step).find(|o| free(*o)).unwrap_or(0.0);
        placed.push((v, offset));
        out[i] = offset;
    }
    out
}

impl ScatterChart {
    /// Runs placed by two keys, `x` and `y` (their names), one series per group `(label,
    /// [(run id, x, y)])`, each point labelled `#id`.
    pub fn of_runs(x: &str, y: &str, (log_x, log_y): (bool, bool), groups: Vec<(String, Vec<(i64, f64, f64)>)>) -> ScatterChart {
        let series = groups
            .into_iter()
            .map(|(label, points)| ScatterSeries { label, points: points.into_iter().map(|(run, x, y)| ScatterPoint { x, y, label: format!("#{run}") }).collect() })
            .collect();
        ScatterChart { title: format!("Runs: {y} against {x}"), x_label: x.into(), y_label: y.into(), log_x, log_y, series, ..ScatterChart::default() }
    }

    /// The chart with axes of categories (`x`, `y`; empty for an axis of numbers).
    pub fn categorical(self, x: Vec<String>, y: Vec<String>) -> ScatterChart {
        ScatterChart { x_categories: x, y_categories: y, ..self }
    }

    /// The points drawn, per series: finite, above zero on a log axis, as their log10 there;
    /// on an axis of categories, on one of them, spread side by side with the others there.
    /// Each as `(x, y, label, its index in the series)`.
    fn drawn(&self) -> Vec<Vec<(f64, f64, &str, usize)>> {
        let axis = |v: f64, log: bool, categories: &[String]| match categories.is_empty() {
            true if log => (v > 0.0).then(|| v.log10()),
            true => Some(v),
            false => (v >= 0.0 && v.fract() == 0.0 && (v as usize) < categories.len()).then_some(v),
        };
        let mut drawn: Vec<Vec<(f64, f64, &str, usize)>> = self
            .series
            .iter()
            .map(|s| {
                s.points
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| p.x.is_finite() && p.y.is_finite())
                    .filter_map(|(i, p)| Some((axis(p.x, self.log_x, &self.x_categories)?, axis(p.y, self.log_y, &self.y_categories)?, p.label.as_str(), i)))
                    .collect()
            })
            .collect();
        // The points of a category, across series, set side by side across it where their
        // values along the other axis are close (a beeswarm), so that none hides another.
        for (categorical, along_x) in [(!self.x_categories.is_empty(), true), (!self.y_categories.is_empty(), false)] {
            if !categorical {
                continue;
            }
            let other = |p: &(f64, f64, &str, usize)| if along_x { p.1 } else { p.0 };
            let (lo, hi) = drawn.iter().flatten().map(other).fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
            let radius = if hi > lo { (hi - lo) * NEAR } else { 1.0 };
            let mut by_category: std::collections::BTreeMap<u64, Vec<(usize, usize)>> = std::collections::BTreeMap::new();
            for (s, points) in drawn.iter().enumerate() {
                for (i, p) in points.iter().enumerate() {
                    by_category.entry((if along_x { p.0 } else { p.1 }).to_bits()).or_default().push((s, i));
                }
            }
            for members in by_category.values() {
                let values: Vec<f64> = members.iter().map(|&(s, i)| other(&drawn[s][i])).collect();
                for (&(s, i), offset) in members.iter().zip(swarm(&values, radius)) {
                    let p = &mut drawn[s][i];
                    if along_x { p.0 += offset } else { p.1 += offset }
                }
            }
        }
        drawn
    }

    /// An axis's range: its categories with half a category's room on each side, or the
    /// values padded.
    fn range(categories: &[String], values: Option<(f64, f64)>) -> Option<(f64, f64)> {
        match categories.len() {
            0 => values.map(padded),
            n => Some((-0.5, n as f64 - 0.5)),
        }
    }
}

/// Where a point was drawn on a chart: its series and its index there, and its centre as a
/// fraction of the chart's width (from the left) and height (from the top), so that a page
/// showing the chart at any size can put something over it (a run's name on hover).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlacedPoint {
    pub series: usize,
    pub point: usize,
    pub left: f64,
    pub top: f64,
}

impl ScatterChart {
    /// The chart as an SVG document, with where each point was drawn (those not drawn, at or
    /// below 0 on a log axis, are not placed).
    pub fn render_svg_placed(&self) -> Result<(String, Vec<PlacedPoint>), ChartError> {
        crate::render::svg_with(|root| self.draw_placed(root))
    }

    /// Draw the chart; returns where each point went.
    fn draw_placed<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<Vec<PlacedPoint>, ChartError> {
        let drawn = self.drawn();
        let all = || drawn.iter().flatten();
        let (Some(x), Some(y)) = (finite_range(all().map(|p| p.0)), finite_range(all().map(|p| p.1))) else {
            return Err(ChartError::Empty);
        };
        let (Some((x0, x1)), Some((y0, mut y1))) = (Self::range(&self.x_categories, Some(x)), Self::range(&self.y_categories, Some(y))) else {
            return Err(ChartError::Empty);
        };
        let with_legend = self.series.len() > 1;
        let labelled = drawn.iter().map(Vec::len).sum::<usize>() <= MAX_LABELS;
        if with_legend {
            // Room above the points for the legend (about 5% of the height per row), so it
            // hides none of them.
            y1 += (y1 - y0) * (0.06 + 0.05 * self.series.len() as f64);
        }
        root.fill(&WHITE).map_err(draw_err)?;
        let mut ctx = ChartBuilder::on(root)
            .caption(&self.title, ("sans-serif", 22))
            .margin(16)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(draw_err)?;
        let (log_x, log_y) = (|v: &f64| log_tick(*v), |v: &f64| log_tick(*v));
        let (linear_x, linear_y) = (|v: &f64| linear_tick(*v, x1 - x0), |v: &f64| linear_tick(*v, y1 - y0));
        let (named_x, named_y) = (|v: &f64| category_tick(&self.x_categories, *v), |v: &f64| category_tick(&self.y_categories, *v));
        let mut mesh = ctx.configure_mesh();
        mesh.x_desc(self.x_label.as_str()).y_desc(self.y_label.as_str()).label_style(("sans-serif", 13)).light_line_style(RGBColor(238, 236, 244));
        // An axis of categories asks for ticks at every half category at least, so that each
        // category's index is one; the ticks between them are blank.
        if !self.x_categories.is_empty() {
            mesh.x_labels(2 * self.x_categories.len() + 2).x_label_formatter(&named_x);
        } else if self.log_x {
            mesh.x_label_formatter(&log_x);
        } else {
            mesh.x_label_formatter(&linear_x);
        }
        if !self.y_categories.is_empty() {
            mesh.y_labels(2 * self.y_categories.len() + 2).y_label_formatter(&named_y);
        } else if self.log_y {
            mesh.y_label_formatter(&log_y);
        } else {
            mesh.y_label_formatter(&linear_y);
        }
        mesh.draw().map_err(draw_err)?;
        let (width, height) = root.dim_in_pixel();
        let mut placed = Vec::new();
        for (i, (series, points)) in self.series.iter().zip(&drawn).enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            for &(x, y, _, point) in points {
                let (left, top) = ctx.backend_coord(&(x, y));
                placed.push(PlacedPoint { series: i, point, left: f64::from(left) / f64::from(width), top: f64::from(top) / f64::from(height) });
            }
            let dots = ctx
                .draw_series(points.iter().map(|&(x, y, ..)| Circle::new((x, y), 5, color.filled())))
                .map_err(draw_err)?;
            if with_legend {
                dots.label(series.label.as_str()).legend(move |(x, y)| Circle::new((x + 9, y), 5, color.filled()));
            }
            if !labelled {
                continue;
            }
            ctx.draw_series(points.iter().map(|&(x, y, label, _)| {
                EmptyElement::at((x, y)) + Text::new(label.to_string(), (8, -14), ("sans-serif", 11).into_font().color(&RGBColor(93, 90, 112)))
            }))
            .map_err(draw_err)?;
        }
        if with_legend {
            legend(&mut ctx, SeriesLabelPosition::UpperRight)?;
        }
        Ok(placed)
    }
}

impl Chart for ScatterChart {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ChartError> {
        self.draw_placed(root).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render_svg;

    fn chart() -> ScatterChart {
        let point = |x: f64, y: f64, run: u32| ScatterPoint { x, y, label: format!("#{run}") };
        ScatterChart {
            title: "Runs: learning rate against rte dev accuracy".into(),
            x_label: "learning rate".into(),
            y_label: "rte dev accuracy".into(),
            log_x: true,
            log_y: false,
            x_categories: Vec::new(),
            y_categories: Vec::new(),
            series: vec![
                ScatterSeries { label: "train size 16".into(), points: vec![point(1e-5, 0.61, 3), point(1e-4, 0.66, 4)] },
                ScatterSeries { label: "train size 64".into(), points: vec![point(1e-5, 0.70, 5), point(0.0, 0.5, 6)] },
            ],
        }
    }

    /// Every text node of an SVG, trimmed.
    fn texts(svg: &str) -> Vec<String> {
        svg.split("<text").skip(1).filter_map(|t| t.split('>').nth(1)?.split('<').next().map(|v| v.trim().to_string())).collect()
    }

    #[test]
    fn each_run_is_a_labelled_dot_coloured_by_its_series() {
        let svg = render_svg(&chart()).expect("svg");
        let said = texts(&svg);
        for text in ["#3", "#4", "#5", "train size 16", "train size 64", "learning rate", "rte dev accuracy", "1e-5", "1e-4"] {
            assert!(said.iter().any(|t| t == text), "{text} missing from {said:?}");
        }
        assert!(!said.iter().any(|t| t == "#6"), "a learning rate of 0 has no place on a log axis");
        // Three dots and two legend samples.
        assert_eq!(svg.matches("<circle").count(), 5, "{svg}");
        assert_eq!(svg, render_svg(&chart()).expect("svg"), "the same bytes for the same chart");
        // One series: no legend.
        let one = ScatterChart { series: chart().series[..1].to_vec(), log_x: false, ..chart() };
        let svg = render_svg(&one).expect("svg");
        assert_eq!(svg.matches("<circle").count(), 2);
        assert!(!texts(&svg).iter().any(|t| t == "train size 16"));
    }

    /// The centres of an SVG's circles, in order.
    fn centres(svg: &str) -> Vec<(f64, f64)> {
        let attr = |c: &str, name: &str| c.split(&format!("{name}=\"")).nth(1)?.split('"').next()?.parse::<f64>().ok();
        svg.split("<circle").skip(1).filter_map(|c| Some((attr(c, "cx")?, attr(c, "cy")?))).collect()
    }

    #[test]
    fn an_axis_of_categories_names_them_and_spreads_their_runs() {
        let point = |x: f64, y: f64, run: u32| ScatterPoint { x, y, label: format!("#{run}") };
        let batching: Vec<String> = ["heterogeneous", "homogeneous", "sequential"].map(String::from).to_vec();
        let strip = ScatterChart::of_runs("batching", "rte dev accuracy", (false, false), Vec::new()).categorical(batching.clone(), Vec::new());
        let strip = ScatterChart {
            series: vec![ScatterSeries { label: "runs".into(), points: vec![point(0.0, 0.7, 1), point(1.0, 0.8, 2), point(1.0, 0.8, 3), point(2.0, 0.82, 4), point(3.0, 0.9, 5)] }],
            ..strip
        };
        let svg = render_svg(&strip).expect("svg");
        let said = texts(&svg);
        for name in &batching {
            assert!(said.iter().any(|t| t == name), "{name} missing from {said:?}");
        }
        assert!(!said.iter().any(|t| t == "0.5" || t == "1.5"), "no tick between categories: {said:?}");
        // Index 3 names no category: four dots; the two runs of `homogeneous` side by side.
        let at = centres(&svg);
        assert_eq!(at.len(), 4, "{svg}");
        assert!(at[1].1 == at[2].1 && at[2].0 - at[1].0 > 5.0, "{at:?}");
        assert!((at[0].0 < at[1].0) && (at[2].0 < at[3].0), "categories in order: {at:?}");
        // Every category is named when there are many.
        let many: Vec<String> = (0..14).map(|i| format!("task{i}")).collect();
        let wide = ScatterChart { series: vec![ScatterSeries { label: "runs".into(), points: (0..14).map(|i| point(i as f64, 0.5, i)).collect() }], ..strip.categorical(many.clone(), Vec::new()) };
        let said = texts(&render_svg(&wide).expect("svg"));
        assert!(many.iter().all(|n| said.contains(n)), "{said:?}");
        // A beeswarm: points far apart stay on the centre; close ones go side by side, the
        // lowest first on the centre, then a step right, a step left.
        assert_eq!(swarm(&[0.5], 0.01), [0.0]);
        assert_eq!(swarm(&[0.1, 0.5, 0.9], 0.01), [0.0, 0.0, 0.0]);
        assert_eq!(swarm(&[0.505, 0.5, 0.9, 0.502], 0.01), [-STEP, 0.0, 0.0, STEP]);
        // A hundred equal values fit within the spread, each in a place of its own.
        let crowd = swarm(&[0.7; 100], 0.01);
        assert!(crowd.iter().all(|o| o.abs() <= SPREAD / 2.0 + 1e-12), "{crowd:?}");
        let mut places: Vec<i64> = crowd.iter().map(|o| (o * 1e6).round() as i64).collect();
        places.sort_unstable();
        places.dedup();
        assert_eq!(places.len(), 100);
    }

    #[test]
    fn each_point_drawn_is_placed_where_its_circle_is() {
        let (svg, placed) = chart().render_svg_placed().expect("svg");
        assert_eq!(svg, render_svg(&chart()).expect("svg"), "the same drawing");
        // Run #6's learning rate of 0 has no place on the log axis.
        assert_eq!(placed.iter().map(|p| (p.series, p.point)).collect::<Vec<_>>(), [(0, 0), (0, 1), (1, 0)]);
        let (width, height) = (f64::from(crate::render::SIZE.0), f64::from(crate::render::SIZE.1));
        for (p, (cx, cy)) in placed.iter().zip(centres(&svg)) {
            assert!((p.left * width - cx).abs() < 1.0 && (p.top * height - cy).abs() < 1.0, "{p:?} is not at ({cx}, {cy})");
        }
        // Higher accuracy is higher up; a larger learning rate further right.
        assert!(placed[1].left > placed[0].left && placed[2].top < placed[0].top, "{placed:?}");
    }

    #[test]
    fn many_points_are_drawn_without_labels() {
        let points: Vec<ScatterPoint> = (1..=MAX_LABELS as u32 + 1).map(|i| ScatterPoint { x: i as f64, y: (i as f64).sqrt(), label: format!("#{i}") }).collect();
        let many = ScatterChart { series: vec![ScatterSeries { label: "runs".into(), points: points.clone() }], log_x: false, ..chart() };
        let svg = render_svg(&many).expect("svg");
        assert_eq!(svg.matches("<circle").count(), MAX_LABELS + 1);
        assert!(!texts(&svg).iter().any(|t| t == "#1"), "no labels past {MAX_LABELS} points");
        let few = ScatterChart { series: vec![ScatterSeries { label: "runs".into(), points: points[..MAX_LABELS].to_vec() }], ..many };
        assert!(texts(&render_svg(&few).expect("svg")).iter().any(|t| t == "#1"));
    }

    #[test]
    fn no_point_to_place_is_an_error() {
        let none = ScatterChart { series: vec![ScatterSeries { label: "x".into(), points: vec![ScatterPoint { x: -1.0, y: 0.5, label: "#1".into() }] }], ..chart() };
        assert!(matches!(render_svg(&none), Err(ChartError::Empty)));
    }
}
