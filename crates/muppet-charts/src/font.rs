//! The embedded font (DejaVu Sans, license in `fonts/DejaVuSans-LICENSE.txt`),
//! registered once as plotters' "sans-serif".

use std::sync::OnceLock;

use plotters::style::{register_font, FontStyle};

use crate::ChartError;

static FONT: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
static REGISTERED: OnceLock<bool> = OnceLock::new();

/// Register the font with plotters (idempotent).
pub fn ensure() -> Result<(), ChartError> {
    let ok = *REGISTERED.get_or_init(|| register_font("sans-serif", FontStyle::Normal, FONT).is_ok());
    if ok { Ok(()) } else { Err(ChartError::Font) }
}
