//! Chart files (PNG and SVG) drawn with plotters: training curves,
//! sample-efficiency and task-count charts. The crate depends only on
//! `muppet-core`; the binaries hand it data read from the store.
//!
//! No chart is drawn yet; the first ones come with the experiment reports.
