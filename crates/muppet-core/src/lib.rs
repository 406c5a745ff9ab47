//! Domain types every Muppet Studio crate shares. Serde only: no engine, no store, no UI.

pub mod annotation;
pub mod correlation;
pub mod digest;
pub mod experiment;
pub mod home;
pub mod lock;
pub mod observer;
pub mod run;
pub mod task;

pub use experiment::{ExperimentKind, ExperimentSpec, StartRef};
pub use home::MuppetHome;
pub use observer::{Fanout, MetricPoint, RunEvent, RunObserver};
pub use run::{RunId, RunKind, RunStatus};
pub use lock::{LockError, ProcessLock};
pub use task::{FieldMap, Metric, ParseError, SplitPolicy, TaskFamily, TaskSpec};
