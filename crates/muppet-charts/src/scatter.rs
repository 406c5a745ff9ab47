//! Scatter charts of runs: one point per run at its values of two keys (a setting against a
//! dev figure, as MLflow's and W&B's scatter plots of runs), labelled with the run (up to
//! [`MAX_LABELS`] points; more would cover the chart), coloured by group with a legend when
//! there are several.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::render::{draw_err, finite_range, legend, log_tick, padded, Chart, PALETTE};
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
}

impl ScatterChart {
    /// Runs placed by two keys, `x` and `y` (their names), one series per group `(label,
    /// [(run id, x, y)])`, each point labelled `#id`.
    pub fn of_runs(x: &str, y: &str, (log_x, log_y): (bool, bool), groups: Vec<(String, Vec<(i64, f64, f64)>)>) -> ScatterChart {
        let series = groups
            .into_iter()
            .map(|(label, points)| ScatterSeries { label, points: points.into_iter().map(|(run, x, y)| ScatterPoint { x, y, label: format!("#{run}") }).collect() })
            .collect();
        ScatterChart { title: format!("Runs: {y} against {x}"), x_label: x.into(), y_label: y.into(), log_x, log_y, series }
    }

    /// The points drawn, per series: finite, above zero on a log axis, as their log10 there.
    fn drawn(&self) -> Vec<Vec<(f64, f64, &str)>> {
        let axis = |v: f64, log: bool| if log { (v > 0.0).then(|| v.log10()) } else { Some(v) };
        self.series
            .iter()
            .map(|s| {
                s.points
                    .iter()
                    .filter(|p| p.x.is_finite() && p.y.is_finite())
                    .filter_map(|p| Some((axis(p.x, self.log_x)?, axis(p.y, self.log_y)?, p.label.as_str())))
                    .collect()
            })
            .collect()
    }
}

impl Chart for ScatterChart {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ChartError> {
        let drawn = self.drawn();
        let all = || drawn.iter().flatten();
        let (Some(x), Some(y)) = (finite_range(all().map(|p| p.0)), finite_range(all().map(|p| p.1))) else {
            return Err(ChartError::Empty);
        };
        let ((x0, x1), (y0, mut y1)) = (padded(x), padded(y));
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
        let mut mesh = ctx.configure_mesh();
        mesh.x_desc(self.x_label.as_str()).y_desc(self.y_label.as_str()).label_style(("sans-serif", 13)).light_line_style(RGBColor(238, 236, 244));
        if self.log_x {
            mesh.x_label_formatter(&log_x);
        }
        if self.log_y {
            mesh.y_label_formatter(&log_y);
        }
        mesh.draw().map_err(draw_err)?;
        for (i, (series, points)) in self.series.iter().zip(&drawn).enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            let dots = ctx
                .draw_series(points.iter().map(|&(x, y, _)| Circle::new((x, y), 5, color.filled())))
                .map_err(draw_err)?;
            if with_legend {
                dots.label(series.label.as_str()).legend(move |(x, y)| Circle::new((x + 9, y), 5, color.filled()));
            }
            if !labelled {
                continue;
            }
            ctx.draw_series(points.iter().map(|&(x, y, label)| {
                EmptyElement::at((x, y)) + Text::new(label.to_string(), (8, -14), ("sans-serif", 11).into_font().color(&RGBColor(93, 90, 112)))
            }))
            .map_err(draw_err)?;
        }
        if with_legend {
            legend(&mut ctx, SeriesLabelPosition::UpperRight)?;
        }
        Ok(())
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
