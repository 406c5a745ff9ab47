//! Helpers shared by the end-to-end tests.

pub mod cli;
pub mod desktop;
pub mod experiments;
pub mod hub;
pub mod workspace;
