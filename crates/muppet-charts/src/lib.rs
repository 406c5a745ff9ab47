//! Chart files (PNG and SVG) drawn with plotters, with an embedded font so the
//! output needs no system fonts and is the same on every machine. The binaries
//! read the data from the store and hand it over; this crate knows nothing of it.

mod curves;
mod error;
mod experiment;
mod font;
mod parallel;
mod render;
mod scatter;

pub use curves::{smooth, Curve, CurvesChart, RUN_WIDE_LOSS_LABEL};
pub use error::ChartError;
pub use experiment::{Bar, BandAxis, BarsChart, BandPoint, BandSeries, SampleEfficiencyChart, TaskCountChart};
pub use parallel::{ParallelAxis, ParallelChart, ParallelLine, PlacedLine};
pub use render::{render_png, render_svg, write_both, write_svg, Chart};
pub use scatter::{PlacedPoint, ScatterChart, ScatterPoint, ScatterSeries};
