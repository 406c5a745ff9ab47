//! The experiment store: experiments, runs and their lineage, tasks, tags,
//! notes, checkpoints and metric series in one SQLite file, with per-series
//! summaries and a multi-resolution rollup kept current at write time.
//! All SQL of the product lives in this crate.

pub mod bundle;
mod checkpoints;
mod compare;
pub mod delete;
mod error;
mod experiments;
mod export;
mod fetch;
mod foreign_key;
mod notes;
mod observer;
mod open;
mod overlaps;
mod points;
mod progress;
mod rollup;
mod run_columns;
mod run_filter;
mod run_groups;
mod run_importance;
mod run_query;
mod runs;
mod series;
mod tags;
mod task_data;
mod tasks;
mod transfer;

pub use checkpoints::Checkpoint;
pub use delete::Deleted;
pub use compare::{flatten, Comparison, MetricAt, MetricComparison, ParamDiff};
pub use error::StoreError;
pub use export::{export_groups, RUN_TABLE_HEAD};
pub use experiments::{Experiment, ExperimentId, NewExperiment};
pub use fetch::Bucket;
pub use notes::{Note, NoteTarget};
pub use observer::StoreObserver;
pub use points::SeriesPoint;
pub use progress::{AxisPoint, RunProgress};
pub use open::Store;
pub use overlaps::{CheckedTask, OverlapCheck, StoredOverlap};
pub use run_columns::{metric_column, MetricFigures, RunColumns, PARAM_COLUMNS, PARENT_COLUMN};
pub use run_filter::{value_order, RunFilter, RunKey, BEST_SUFFIX};
pub use run_importance::{epsilon_squared, importance, rank, spearman, weigh, RunImportance, SettingImportance, MAX_GROUPS, MIN_RUNS};
pub use run_groups::{group_runs, log_scale, plot_runs, run_lines, value_text, GroupFigure, LineAxis, PlotGroup, RunGroup, RunLines, RunPlot, RunPoint};
pub use run_query::{ParamFilter, ParamOp, RunPage, RunQuery, RunSort, RunTableRow, SummaryStat};
pub use runs::{NewRun, RunOrigin, RunRow};
pub use series::{MetricGoal, SeriesId, SeriesInfo, SeriesKey, Summary};
pub use task_data::{DeletedTasks, NewTaskData, StoredTask};
pub use transfer::{spec_start_runs, ExperimentRecord, RecordedCheckpoint, RunRecord, RunToImport};
