//! Chart files (PNG and SVG) drawn with plotters, with an embedded font so the
//! output needs no system fonts and is the same on every machine. The binaries
//! read the data from the store and hand it over; this crate knows nothing of it.

mod curves;
mod error;
mod font;

pub use curves::{render_png, render_svg, write_svg, Curve, CurvesChart};
pub use error::ChartError;
