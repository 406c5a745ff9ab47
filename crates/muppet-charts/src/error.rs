//! Errors of chart rendering.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("the embedded chart font could not be loaded")]
    Font,
    #[error("drawing the chart failed: {0}")]
    Draw(String),
    #[error("cannot write the chart {path}: {source}")]
    Write { path: PathBuf, #[source] source: std::io::Error },
    #[error("nothing to draw: every curve is empty")]
    Empty,
}
