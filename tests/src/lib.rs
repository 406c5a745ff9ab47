//! Helpers shared by the end-to-end tests.

pub mod desktop;
pub mod workspace;
