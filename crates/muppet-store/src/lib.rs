//! The experiment store: runs and their metric series in one SQLite file.
//! All SQL of the product lives in this crate.

mod error;
mod observer;
mod open;
mod points;
mod runs;

pub use error::StoreError;
pub use observer::StoreObserver;
pub use open::Store;
pub use runs::{NewRun, RunRow};
