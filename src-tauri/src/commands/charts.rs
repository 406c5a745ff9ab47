//! Charts saved as the app shows them: any line chart (a run's training loss or its right
//! chart, the runs compared), as PNG or SVG, drawn by `muppet-charts` as `muppet runs
//! chart` draws, with the series, colours, smoothing, y axis and zoom on screen.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::CommandError;
use crate::paths::{self, ChartFormat};

/// A line chart as shown: the series drawn (a hidden one is left out by the page).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShownChart {
    pub title: String,
    pub x_label: String,
    #[serde(default)]
    pub y_label: String,
    #[serde(default)]
    pub log_y: bool,
    /// EMA weight, 0 (as measured) to below 1.
    #[serde(default)]
    pub smoothing: f64,
    /// The x range zoomed into; none: all of it.
    #[serde(default)]
    pub x_range: Option<(f64, f64)>,
    pub series: Vec<ShownSeries>,
}

/// One series of a [`ShownChart`]: its legend label, its colour (`#rrggbb`) and its points.
#[derive(Debug, Clone, Deserialize)]
pub struct ShownSeries {
    pub label: String,
    #[serde(default)]
    pub color: Option<String>,
    pub points: Vec<(f64, f64)>,
}

/// A file an export wrote.
#[derive(Debug, Serialize)]
pub struct ExportedFile {
    pub path: String,
    pub bytes: u64,
}

/// `#rrggbb` as its three bytes.
fn rgb(color: &str) -> Option<(u8, u8, u8)> {
    let hex = color.strip_prefix('#').filter(|h| h.len() == 6 && h.is_ascii())?;
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
    Some((byte(0)?, byte(2)?, byte(4)?))
}

impl ShownChart {
    /// The chart to draw, or why it cannot be.
    fn curves(self) -> Result<muppet_charts::CurvesChart, CommandError> {
        if !(0.0..1.0).contains(&self.smoothing) {
            return Err(CommandError::Invalid(format!("the smoothing {} must be at least 0 and below 1", self.smoothing)));
        }
        let mut curves = Vec::with_capacity(self.series.len());
        for series in self.series {
            let color = match series.color.as_deref() {
                None => None,
                Some(text) => Some(rgb(text).ok_or_else(|| {
                    CommandError::Invalid(format!("the colour {text:?} of series {:?} is not #rrggbb", series.label))
                })?),
            };
            curves.push(muppet_charts::Curve { label: series.label, points: series.points, color });
        }
        let chart = muppet_charts::CurvesChart {
            title: self.title,
            x_label: self.x_label,
            y_label: self.y_label,
            curves,
            smoothing: (self.smoothing > 0.0).then_some(self.smoothing),
            log_y: self.log_y,
            x_range: self.x_range,
        };
        if !chart.has_points() {
            return Err(CommandError::Invalid(format!(
                "the chart \"{}\" shows no point to save: show a series with points first{}",
                chart.title,
                if chart.log_y { " (a log y axis leaves out values at or below 0)" } else { "" }
            )));
        }
        Ok(chart)
    }
}

/// Save `chart` as PNG or SVG, by the extension of `path` (replaced atomically if it
/// exists); returns the file written.
#[tauri::command]
pub async fn save_chart(chart: ShownChart, path: String) -> Result<ExportedFile, CommandError> {
    write_chart(chart, &path).await
}

async fn write_chart(chart: ShownChart, path: &str) -> Result<ExportedFile, CommandError> {
    let target = paths::chart_file(path)?;
    write_file(chart.curves()?, target).await
}

/// Write `chart` to a file [`paths::chart_file`] checked, in its format, atomically.
async fn write_file<C: muppet_charts::Chart + Send + 'static>(chart: C, (path, format): (PathBuf, ChartFormat)) -> Result<ExportedFile, CommandError> {
    let target = path.clone();
    // Atomic writes (a temporary file renamed), off the async runtime: drawing takes a while.
    tauri::async_runtime::spawn_blocking(move || match format {
        ChartFormat::Png => muppet_charts::render_png(&chart, &target),
        ChartFormat::Svg => muppet_charts::write_svg(&chart, &target),
    })
    .await
    .map_err(|e| CommandError::Invalid(format!("drawing the chart stopped: {e}")))??;
    let bytes = std::fs::metadata(&path).map_err(CommandError::io("reading", &path))?.len();
    Ok(ExportedFile { path: path.display().to_string(), bytes })
}

/// Runs to plot by two keys (`muppet runs scatter`): the runs shown, in the table's order.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlotRequest {
    pub runs: Vec<i64>,
    pub x: String,
    pub y: String,
    /// Colour by these keys' values (the Runs page's "Group by").
    #[serde(default)]
    pub by: Vec<String>,
    #[serde(default)]
    pub log_x: bool,
    #[serde(default)]
    pub log_y: bool,
}

/// A scatter of runs: its SVG, the runs placed and those left out, and the file written when
/// one was asked for; `points`: where each run was drawn (a drawing through several columns
/// has none).
#[derive(Debug, Serialize)]
pub struct PlotView {
    pub svg: String,
    pub plotted: usize,
    pub left_out: Vec<i64>,
    pub file: Option<ExportedFile>,
    pub points: Vec<PlotPoint>,
    /// Where each run's line was drawn, through several columns (a scatter has none).
    pub lines: Vec<PlotLine>,
}

/// A run drawn as a line through several columns: its point on each axis, as fractions of the
/// chart's width and height (from the top left), and what it says on hover.
#[derive(Debug, Serialize)]
pub struct PlotLine {
    pub run: i64,
    pub points: Vec<(f64, f64)>,
    pub text: String,
}

/// A run drawn on a scatter: its centre as a fraction of the chart's width and height (from
/// the top left) and what it says on hover.
#[derive(Debug, Serialize)]
pub struct PlotPoint {
    pub run: i64,
    pub left: f64,
    pub top: f64,
    pub text: String,
}

/// The runs of `request` as points by two keys (MLflow's and W&B's scatter of runs), drawn
/// as `muppet runs scatter` draws; also written to `path` (PNG or SVG by its extension).
#[tauri::command]
pub async fn plot_runs(
    state: tauri::State<'_, crate::state::StudioState>,
    request: PlotRequest,
    path: Option<String>,
) -> Result<PlotView, CommandError> {
    let store = super::store(&state)?;
    let target = path.as_deref().map(paths::chart_file).transpose()?;
    let key = |text: &str| muppet_store::RunKey::parse(text).map(|k| (text.trim().to_string(), k));
    let ((x_name, x), (y_name, y)) = (key(&request.x)?, key(&request.y)?);
    let by = request.by.iter().map(|b| key(b)).collect::<Result<Vec<_>, _>>()?;
    let runs: Vec<muppet_core::RunId> = request.runs.iter().copied().map(muppet_core::RunId).collect();
    let log = (request.log_x, request.log_y);
    let plot = store.plot_runs((&x, &y), &by, &runs).await?.on_axes(log, (&x_name, &y_name))?;
    if plot.plotted() == 0 {
        return Err(CommandError::Invalid(format!(
            "no run shown has a value for both `{x_name}` and `{y_name}`{}",
            if request.log_x || request.log_y { " above 0 on a log axis" } else { "" }
        )));
    }
    let chart = muppet_charts::ScatterChart::of_runs(&x_name, &y_name, log, plot.series()).categorical(plot.x_categories.clone(), plot.y_categories.clone());
    let (svg, placed) = chart.render_svg_placed()?;
    let points = placed
        .iter()
        .filter_map(|p| {
            let point = plot.groups.get(p.series)?.points.get(p.point)?;
            Some(PlotPoint { run: point.run.0, left: p.left, top: p.top, text: plot.point_text(p.series, point, (&x_name, &y_name)) })
        })
        .collect();
    let file = match target {
        Some(target) => Some(write_file(chart, target).await?),
        None => None,
    };
    Ok(PlotView { svg, plotted: plot.plotted(), left_out: plot.left_out.iter().map(|r| r.0).collect(), file, points, lines: Vec::new() })
}

/// Runs to draw through several keys (`muppet runs parallel`): the runs shown, in the
/// table's order, and the keys in the order of their axes.
#[derive(Debug, Clone, Deserialize)]
pub struct LinesRequest {
    pub runs: Vec<i64>,
    pub axes: Vec<String>,
}

/// The runs of `request` as lines through their values of its keys (W&B's parallel
/// coordinates; a key of other values than numbers on a categorical axis), drawn as `muppet
/// runs parallel` draws; also written to `path` (PNG or SVG by its extension). `plotted`:
/// the runs drawn.
#[tauri::command]
pub async fn parallel_runs(state: tauri::State<'_, crate::state::StudioState>, request: LinesRequest, path: Option<String>) -> Result<PlotView, CommandError> {
    let store = super::store(&state)?;
    let target = path.as_deref().map(paths::chart_file).transpose()?;
    let keys = request.axes.iter().map(|a| muppet_store::RunKey::parse(a).map(|k| (a.trim().to_string(), k))).collect::<Result<Vec<_>, _>>()?;
    let runs: Vec<muppet_core::RunId> = request.runs.iter().copied().map(muppet_core::RunId).collect();
    let lines = store.run_lines(&keys, &runs).await?;
    if lines.lines.is_empty() {
        let names: Vec<String> = keys.iter().map(|(name, _)| format!("`{name}`")).collect();
        return Err(CommandError::Invalid(format!("no run shown has a value for every column: {}", names.join(", "))));
    }
    let plotted = lines.lines.len();
    // What each run's line says, before its values go to the chart.
    let said: Vec<(i64, String)> = lines.lines.iter().map(|(run, values)| (run.0, lines.line_text(values))).collect();
    let axes = lines.axes.into_iter().map(|a| muppet_charts::ParallelAxis { label: a.name, log: a.log, categories: a.categories }).collect();
    let chart = muppet_charts::ParallelChart::of_runs(axes, lines.lines.into_iter().map(|(_, l)| l).collect());
    let (svg, placed) = chart.render_svg_placed()?;
    let drawn = placed
        .into_iter()
        .filter_map(|p| {
            let (run, text) = said.get(p.line)?.clone();
            Some(PlotLine { run, points: p.points, text })
        })
        .collect();
    let file = match target {
        Some(target) => Some(write_file(chart, target).await?),
        None => None,
    };
    Ok(PlotView { svg, plotted, left_out: lines.left_out.iter().map(|r| r.0).collect(), file, points: Vec::new(), lines: drawn })
}

#[cfg(test)]
mod tests {
    use quick_xml::events::Event;

    use super::*;

    /// Every non-blank text node of an SVG document, trimmed; the document must be
    /// well-formed XML with an `<svg>` root.
    fn svg_texts(svg: &str) -> Vec<String> {
        let mut reader = quick_xml::Reader::from_str(svg);
        let (mut texts, mut root) = (Vec::new(), None);
        loop {
            match reader.read_event().expect("well-formed XML") {
                Event::Start(e) if root.is_none() => root = Some(e.name().into_inner().to_string()),
                Event::Text(t) if !t.trim_ascii().is_empty() => texts.push(t.into_inner().trim().to_string()),
                Event::Eof => break,
                _ => {}
            }
        }
        assert_eq!(root.as_deref(), Some("svg"));
        texts
    }

    fn series(label: &str, color: Option<&str>, scale: f64) -> ShownSeries {
        ShownSeries { label: label.into(), color: color.map(Into::into), points: (1..=40).map(|s| (s as f64, scale / (s as f64).sqrt())).collect() }
    }

    fn shown() -> ShownChart {
        ShownChart {
            title: "Run 3: dev accuracy".into(),
            x_label: "examples".into(),
            y_label: "accuracy".into(),
            log_y: false,
            smoothing: 0.6,
            x_range: None,
            series: vec![series("rte · dev", Some("#5b3fd1"), 1.0), series("boolq · dev", Some("#e0652b"), 0.8)],
        }
    }

    fn files(dir: &std::path::Path) -> Vec<String> {
        let mut files: Vec<_> = std::fs::read_dir(dir).expect("ls").map(|e| e.expect("entry").file_name().to_string_lossy().to_string()).collect();
        files.sort();
        files
    }

    #[test]
    fn a_shown_chart_is_saved_as_png_or_svg_with_its_series_colours_and_labels() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().display().to_string();
        tauri::async_runtime::block_on(async {
            let png = write_chart(shown(), &format!("{out}/chart.png")).await.expect("png");
            let bytes = std::fs::read(&png.path).expect("read png");
            assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
            assert_eq!(png.bytes, bytes.len() as u64);
            assert!(png.bytes > 1_000, "{} bytes", png.bytes);

            let svg = write_chart(shown(), &format!("{out}/chart.svg")).await.expect("svg");
            let text = std::fs::read_to_string(&svg.path).expect("read svg");
            assert_eq!(svg.bytes, text.len() as u64);
            let texts = svg_texts(&text);
            for label in ["Run 3: dev accuracy", "examples", "accuracy", "rte · dev", "boolq · dev"] {
                assert!(texts.iter().any(|t| t == label), "{label} missing from {texts:?}");
            }
            let upper = text.to_ascii_uppercase();
            assert!(upper.contains("#5B3FD1") && upper.contains("#E0652B"), "the series keep the app's colours");
            // Smoothed: each series drawn faint and bold, plus the legend's samples.
            assert!(text.matches("<polyline").count() >= 4, "{}", text.matches("<polyline").count());
            assert_eq!(files(dir.path()), ["chart.png", "chart.svg"], "the two charts, no temporary file");

            // A hidden series is not sent; a zoom keeps its range; a log axis.
            let zoomed = ShownChart { series: vec![series("rte · dev", None, 1.0)], x_range: Some((10.0, 20.0)), log_y: true, smoothing: 0.0, ..shown() };
            let svg = write_chart(zoomed, &format!("{out}/chart.svg")).await.expect("zoomed svg");
            let texts = svg_texts(&std::fs::read_to_string(&svg.path).expect("read svg"));
            assert!(!texts.iter().any(|t| t == "boolq · dev"), "{texts:?}");
            assert!(texts.iter().any(|t| t == "10.0") && texts.iter().any(|t| t == "20.0") && !texts.iter().any(|t| t == "40.0"), "the x axis runs from 10 to 20: {texts:?}");
            // 1/sqrt(x) from 0.316 down to 0.224: ticks evenly spaced in log10, labelled with values.
            assert!(texts.iter().any(|t| t == "0.316") && texts.iter().any(|t| t == "0.24") && !texts.iter().any(|t| t.starts_with('-')), "the y axis: {texts:?}");
        });
    }

    #[test]
    fn a_chart_that_cannot_be_saved_is_refused_saying_why() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().display().to_string();
        tauri::async_runtime::block_on(async {
            let no_points = ShownChart { series: vec![], ..shown() };
            let only_zero = ShownChart { series: vec![ShownSeries { label: "lr".into(), color: None, points: vec![(1.0, 0.0)] }], log_y: true, ..shown() };
            let bad_colour = ShownChart { series: vec![series("rte", Some("purple"), 1.0)], ..shown() };
            let bad_smoothing = ShownChart { smoothing: 1.0, ..shown() };
            let cases = [
                (shown(), format!("{out}/chart.jpg"), "must end in .png or .svg"),
                (shown(), "chart.png".to_string(), "must be an absolute path"),
                (shown(), format!("{out}/missing/chart.svg"), "does not exist"),
                (no_points, format!("{out}/chart.svg"), "shows no point to save"),
                (only_zero, format!("{out}/chart.svg"), "log y axis leaves out values at or below 0"),
                (bad_colour, format!("{out}/chart.svg"), "\"purple\" of series \"rte\" is not #rrggbb"),
                (bad_smoothing, format!("{out}/chart.svg"), "smoothing 1 must be at least 0 and below 1"),
            ];
            for (chart, path, why) in cases {
                let error = write_chart(chart, &path).await.expect_err(&path);
                assert_eq!(error.kind(), "invalid", "{path}: {error}");
                assert!(error.message().contains(why), "{path}: {error}");
            }
            assert!(files(dir.path()).is_empty(), "nothing written: {:?}", files(dir.path()));
        });
    }

    #[test]
    fn colours_are_read_as_hex_bytes() {
        assert_eq!(rgb("#12838f"), Some((0x12, 0x83, 0x8f)));
        assert_eq!(rgb("#FFFFFF"), Some((255, 255, 255)));
        for bad in ["12838f", "#12838", "#12838g", "#ééé", ""] {
            assert_eq!(rgb(bad), None, "{bad}");
        }
    }
}
