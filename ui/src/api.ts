// Typed wrappers over the Tauri commands of src-tauri/src/commands/. The shapes mirror
// the Rust DTOs (muppet_store, muppet_data::mixture, commands::*, supervisor::Update).
import { Channel, invoke } from "@tauri-apps/api/core";
import type { ShownChart } from "./chart/line-chart";

export type RunKind = "pre_finetune" | "finetune";
export type RunStatus = "queued" | "running" | "completed" | "failed" | "cancelled";
/** "elsewhere": trained by a process outside the app (a terminal, an experiment); Cancel signals it. */
export type WorkerState = "waiting" | "running" | "cancelling" | "elsewhere";

export interface RunRow {
  id: number;
  name: string;
  kind: RunKind;
  status: RunStatus;
  backend: string | null;
  device: string | null;
  started_at: string;
  ended_at: string | null;
  failure: string | null;
  points: number;
  last_loss: number | null;
}

/** A row of the runs table: the run, its progress and its worker. */
/** The last and best value of a run's series (the best by its metric's goal). */
export interface MetricFigures {
  last: number | null;
  best: number | null;
  step: number;
}

/** muppet_store::RunColumns: a run's dev figures ("sst2 dev accuracy") and settings ("learning rate"). */
export interface RunColumns {
  metrics: Record<string, MetricFigures>;
  params: Record<string, unknown>;
}

export interface RunListRow extends RunRow {
  total_steps: number | null;
  last_step: number | null;
  worker: WorkerState | null;
  tags: string[];
  /** Set once the table has asked for its optional columns (`runColumns`). */
  columns?: RunColumns;
}

export interface StudioInfo {
  version: string;
  home: string;
  database: string;
  assets: string;
  muppet: string | null;
  muppet_error: string | null;
}

export interface Settings {
  default_backend: string;
  parallel_runs: number;
}

/** What every command rejects with: a stable `kind` and a message for a person. */
export interface CommandError {
  kind: string;
  message: string;
}

/** muppet_core::TaskFamily. `generation` tasks are imported, previewed and checked, never trained (see task-spec.ts). */
export type TaskFamily = "single" | "pair" | "regression" | "mc" | "span" | "generation";

/** muppet_core::SplitPolicy: the task's own split; an unset key is each run's (`--dev-size`, split seed). */
export interface SplitPolicy {
  /** Examples held out for dev in every run (at most half of the task). */
  dev_size?: number;
  /** Seed of the train/dev draw. */
  seed?: number;
  /** The task whose examples this one is scored on (its dataset's validation split); then none of its own is held out. */
  dev_task?: string;
}

/** muppet_core::TaskSpec, as TaskEntry flattens it. */
export interface TaskSpec {
  name: string;
  family: TaskFamily;
  labels: string[];
  metric: string;
  source: string;
  license: string;
  /** Which fields of the source records were read for what (absent or empty for a task made in code). */
  fields?: FieldMap;
  /** The task's own split policy (absent or empty: each run's). */
  split?: SplitPolicy;
}

export interface TaskEntry extends TaskSpec {
  examples: number;
  origin: "catalog" | "imported";
  downstream: boolean;
  /** Tasks sharing inputs with this one, most shared first; null when the last check did not cover its data. */
  overlaps: TaskOverlap[] | null;
  /** Why the engine cannot train the task (muppet_core::TaskFamily::why_not_trained); null when it can. */
  not_trained?: string | null;
}

/** muppet_store::StoredOverlap: `task` shares `shared` of its `inputs` distinct inputs with `other`. */
export interface TaskOverlap {
  task: string;
  other: string;
  shared: number;
  inputs: number;
  percent: number;
}

export type ImportFormat = "jsonl" | "csv" | "tsv" | "parquet" | "squad" | "bigbench" | "folder";

/** muppet_data::import::FieldMap: which field holds what; unset fields take the importer's defaults. */
export interface FieldMap {
  text?: string;
  text_b?: string;
  label?: string;
  question?: string;
  choices?: string;
  context?: string;
  answer_start?: string;
  answer_text?: string;
  /** The text to write (generation only). */
  target?: string;
}

/** task_import::ImportRequest. */
export interface ImportRequest {
  path: string;
  format: ImportFormat;
  name: string;
  family: TaskFamily;
  fields: FieldMap;
  labels: string[] | null;
  license: string | null;
  no_header: boolean;
  encoding: "utf8" | "latin1" | "auto";
  replace: boolean;
  /** The task's own dev size and split seed; left out (or `{}`) for each run's. Only set keys are sent. */
  split?: SplitPolicy;
}

export interface ImportReport {
  name: string;
  examples: number;
  records: number;
  duplicates: number;
  skipped: number;
  labels: string[];
  fingerprint: string;
}

/** A step of adding a catalog dataset (muppet_data::hub::HubStep, then the overlap check). */
export type AddStep =
  | { step: "download"; file: string; index: number; files: number; bytes: number; total: number }
  | { step: "import"; files: number }
  | { step: "overlaps" };

/** A catalog dataset added as a task (paper_catalog::PaperAdded). */
export interface PaperAdded extends ImportReport {
  /** Where its files came from (the hub, or the local cache). */
  origin: string;
  /** Its validation split, imported with it as the task it is scored on; null when the dataset has none. */
  dev: ImportReport | null;
}

/** A dataset of the Muppet paper's mixture (paper_catalog::PaperEntry). */
export interface PaperEntry {
  name: string;
  title: string;
  family: TaskFamily;
  labels: string[];
  metric: string;
  hub: string;
  config: string | null;
  license: string;
  note: string;
  unpickable: string | null;
  imported_as: string[];
  command: string | null;
}

export interface Example {
  text_a: string;
  text_b: string | null;
  choices: string[];
  target: Record<string, unknown>;
}

export interface TaskPreview {
  name: string;
  labels: string[];
  examples: Example[];
}

export type Sampling = { kind: "natural" } | { kind: "uniform" } | { kind: "temperature"; t: number };

export interface MixtureRequest {
  tasks: string[];
  sampling: Sampling;
  cap: number | null;
  steps: number;
  batch_size: number;
  tasks_per_update: number;
}

export interface MixtureRow {
  name: string;
  examples: number;
  probability: number;
  expected_examples: number;
}

/** The fields of muppet_train::TrainConfig the mixture builder sets; the rest default. */
export interface TrainConfig {
  steps: number;
  batch_size: number;
  tasks_per_update: number;
  batching: "heterogeneous" | "homogeneous" | "sequential";
  lr: number;
  warmup: number;
  max_len: number;
  doc_stride: number;
  loss_scale: "log_n" | "off";
  r3f: { lambda: number; eps: number; noise: "uniform" | "normal" } | null;
  sampling: Sampling;
  cap: number | null;
  seed: number;
  dev_size: number;
  eval_every: number;
  checkpoint_every: number;
  /** The last model checkpoints kept; null: all. */
  keep_checkpoints?: number | null;
  /** Keep the checkpoint of the best dev score as well (load_best_model_at_end). */
  keep_best?: boolean;
  /** Stop after this many dev evaluations in a row without a better score; null: never. */
  early_stopping?: number | null;
  /** How much a dev score must beat the best to restart early stopping's count; absent: 0. */
  early_stopping_threshold?: number;
  /** "bf16": matrix products in bf16 over f32 weights (muppet-model's precision). */
  mixed_precision: "no" | "bf16";
  /** Devices the run trains on, data-parallel; absent: 1. */
  devices?: number;
}

export interface LaunchRequest {
  name: string | null;
  tasks: string[];
  backend: string;
  /** A Hugging Face model folder; null: the default model of the assets. */
  model: string | null;
  config: TrainConfig;
  /** Tags put on the run as it is registered. */
  tags: string[];
  /** A note kept with the run; null: none. */
  note: string | null;
}

export interface EstimateRequest {
  backend: string;
  max_len: number;
  steps: number;
  batch_size: number;
  tasks_per_update: number;
}

/** A completed run on this machine and its training throughput. */
export interface MeasuredRun {
  run: number;
  name: string;
  max_len: number | null;
  examples: number;
  seconds: number;
}

/** The run's wall time from the throughput measured on this machine (null: no measured run). */
export interface RunEstimate {
  examples: number;
  examples_per_second: number | null;
  seconds: number | null;
  runs: MeasuredRun[];
  same_max_len: boolean;
}

export interface SeriesKey {
  task: string | null;
  split: string;
  name: string;
}

export interface Checkpoint {
  run: number;
  path: string;
  step: number;
  bytes: number;
  sha256: string;
}

export interface SeriesInfo {
  id: number;
  run: number;
  key: SeriesKey;
  goal: "min" | "max";
}

export interface RunDetail {
  run: RunRow;
  spec: Record<string, unknown>;
  tasks: string[];
  checkpoints: Checkpoint[];
  series: SeriesInfo[];
  worker: WorkerState | null;
  tags: string[];
  /** Oldest first. */
  notes: Note[];
  /** The worker's peak resident memory in MB, when it recorded it. */
  peak_rss_mb: number | null;
  /** The run's folder and its files (checkpoints, splits, logs, predictions). */
  folder: string;
  files: { path: string; bytes: number }[];
  /** The checkpoint with the best dev score (the mean of the tasks' main dev metrics). */
  best_checkpoint: { step: number; score: number } | null;
  /** Whether the run trained the assets' default model. */
  default_model: boolean;
}

/** muppet_store::Note on a run. */
export interface Note {
  id: number;
  target: { run: number } | { experiment: number };
  body: string;
  created_at: string;
}

export interface Bucket {
  step_lo: number;
  step_hi: number;
  min: number | null;
  max: number | null;
  last: number | null;
  count: number;
}

export interface AxisPoint {
  step: number;
  examples: number;
  wall_s: number;
}

export interface Curve {
  run: number;
  key: SeriesKey;
  buckets: Bucket[];
}

export interface RunCurves {
  axis: AxisPoint[];
  curves: Curve[];
}

export interface Comparison {
  runs: number[];
  params: { path: string; values: (unknown | null)[] }[];
  metrics: { key: SeriesKey; values: ({ step: number; value: number | null } | null)[] }[];
}

export interface RunComparison {
  comparison: Comparison;
  runs: RunRow[];
  /** The series charted: the training loss unless another was asked for. */
  series: SeriesKey;
  losses: Curve[];
}

export interface MetricPoint {
  task: string | null;
  split: string;
  name: string;
  step: number;
  examples: number;
  wall_s: number;
  value: number | null;
}

/** muppet_core::RunEvent, as the worker prints it. */
export type RunEvent =
  | { event: "started"; run: number; total_steps: number }
  | { event: "metrics"; run: number; points: MetricPoint[] }
  | { event: "step"; run: number; step: number; total_steps: number }
  | { event: "dev_score"; run: number; step: number; score: number | null }
  | { event: "checkpoint"; run: number; step: number; path: string }
  | { event: "finished"; run: number }
  | { event: "cancelled"; run: number; step: number }
  | { event: "failed"; run: number; reason: string };

/** supervisor::Update: what arrives, batched, over the event channel. */
export type Update =
  | ({ type: "event" } & RunEvent)
  | { type: "summary"; run: number; summary: Record<string, unknown> }
  | { type: "waiting"; run: number }
  | { type: "spawned"; run: number; pid: number }
  | { type: "attached"; run: number; pid: number }
  | { type: "cancelling"; run: number }
  | { type: "exited"; run: number; code: number | null; status: RunStatus | null }
  | { type: "close_requested"; running: number[] };

/** Experiments compared (`muppet report A B ...`): the folder, its charts (name, SVG) and summary. */
export interface ExperimentComparison {
  folder: string;
  charts: [string, string][];
  summary: string;
  files: string[];
}

export const compareExperiments = (experiments: number[]) => invoke<ExperimentComparison>("compare_experiments", { experiments });

export interface ExperimentView {
  id: number;
  name: string;
  kind: string;
  spec: unknown;
  created_at: string;
  runs: RunRow[];
  report: string | null;
  charts: string[];
  /** Every file of the report folder (charts, CSVs, summary.md). */
  files: string[];
  /** Runs of the experiment's plan; null when its stored spec does not expand. */
  planned_runs: number | null;
  /** Whether an orchestrator runs it now (a process holds its lock). */
  orchestrated: boolean;
  /** The report's summary.md, when built. */
  summary: string | null;
  /** Its completed pre-finetuning runs with their tasks (src-tauri PrefinetunedModel). */
  prefinetuned: PrefinetunedModel[];
  /** Its runs a sweep's rule stopped early (tagged `pruned`). */
  stopped_early: number;
}

export interface PrefinetunedModel {
  run: number;
  name: string;
  tasks: string[];
}

/** What the Experiments page asks to score with every pre-finetuned model (src-tauri ScoreModelsRequest). */
export interface ScoreModelsRequest {
  experiment: number;
  task: string;
  /** "dev", "train" or "all"; null: dev for a task every model trained on, all for another. */
  examples: string | null;
  /** The task whose head scores; null: the task's own, or its family's shared one. */
  head: string | null;
}

/** The demo experiment the app offers first (src-tauri/src/demo.rs). */
export interface DemoOffer {
  name: string;
  description: string;
  runs: number;
  prefinetunes: number;
  finetunes: number;
  minutes_on_2_cores: number;
}

export interface ExperimentLaunch {
  /** Its place in the app's list: what cancelExperiment takes. */
  id: number;
  spec: string;
  pid: number;
  log: string;
  running: boolean;
  /** SIGTERM was sent; its workers are finishing their update. */
  cancelling: boolean;
  exit_code: number | null;
  /** Found running through its experiment's lock, started outside this app session. */
  adopted: boolean;
  /** The stored experiment, when known (adopted launches). */
  experiment: number | null;
}

/** A builder spec checked by the shell (src-tauri/src/experiment_builder.rs). */
export interface SpecCheck {
  runs: number;
  prefinetunes: number;
  finetunes: number;
  /** Each starts with its spec field ("sample_efficiency.sizes: ..."). */
  errors: string[];
  warnings: string[];
  toml: string;
}

export interface ExperimentsPage {
  experiments: ExperimentView[];
  demo_spec: string | null;
  launches: ExperimentLaunch[];
  demo: DemoOffer;
}

/** A file an export wrote, and its size. */
export interface ExportedFile {
  path: string;
  bytes: number;
}

export interface ExportSummary {
  out: string;
  step: number;
  /** The transformers class config.json names (BertModel, RobertaForSequenceClassification, ...). */
  architecture: string;
  /** The task whose head the model carries, for a task export. */
  task: string | null;
  files: string[];
  tasks: string[];
}

/** What the app runs on; it does not change while the app runs, so it is asked for once (again after a failure). */
let info: Promise<StudioInfo> | null = null;
export function studioInfo(): Promise<StudioInfo> {
  if (!info) {
    info = invoke<StudioInfo>("studio_info");
    info.catch(() => (info = null));
  }
  return info;
}
export const getSettings = () => invoke<Settings>("get_settings");
export const saveSettings = (settings: Settings) => invoke<Settings>("save_settings", { settings });

export const listTasks = () => invoke<TaskEntry[]>("list_tasks");
export const taskPreview = (name: string, count: number) => invoke<TaskPreview>("task_preview", { name, count });
export const importTask = (request: ImportRequest) => invoke<ImportReport>("import_task", { request });
export const paperCatalog = () => invoke<PaperEntry[]>("paper_catalog");
/** Add a catalog dataset; `onStep` hears its download, import and overlap-check steps. */
export function addPaperTask(dataset: string, onStep: (step: AddStep) => void): Promise<PaperAdded> {
  const onProgress = new Channel<AddStep>(onStep);
  return invoke<PaperAdded>("add_paper_task", { dataset, onProgress });
}
export const mixtureSummary = (request: MixtureRequest) => invoke<MixtureRow[]>("mixture_summary", { request });

/** A task's sequence lengths in tokens (muppet_data::stats::TokenLengths). */
export interface TokenLengths {
  measured: number;
  examples: number;
  lengths: { count: number; min: number; p50: number; p90: number; p99: number; max: number };
  /** `[max length, share of the examples measured longer than it]`. */
  over: [number, number][];
}

/** A task's token lengths weighed against `maxLens` (empty: 64, 128, 256 and 512); null: the model is not fetched. */
export const taskTokenLengths = (task: string, maxLens: number[], model: string | null) => invoke<TokenLengths | null>("task_token_lengths", { task, maxLens, model });
export const estimateRunTime = (request: EstimateRequest) => invoke<RunEstimate>("estimate_run_time", { request });

export const listRuns = () => invoke<RunListRow[]>("list_runs");
/** Write runs as a CSV table, one row each in the order given (`muppet runs list --csv`); returns the rows written. */
export const exportRunsTable = (runs: number[], path: string) => invoke<number>("export_runs_table", { runs, path });
/** The ids of the runs whose settings and figures match an expression (`muppet runs list --where`). */
export const filterRunsWhere = (expression: string) => invoke<number[]>("filter_runs", { expression });

/** A figure over a group's runs (its last value in each). */
export interface GroupFigure {
  n: number;
  mean: number;
  /** Sample standard deviation; null for one run. */
  sd: number | null;
  min: number;
  max: number;
}

/** One combination of the keys' values (null: none) with its runs and figures. */
export interface RunGroup {
  values: unknown[];
  runs: number[];
  figures: Record<string, GroupFigure>;
}

/** `runs` (in the table's order) grouped by `keys`, as `muppet runs list --group-by`. */
export const groupRuns = (runs: number[], keys: string[]) => invoke<RunGroup[]>("group_runs", { runs, keys });
/** What one setting says of a figure (`muppet runs importance`). */
export interface SettingImportance {
  name: string;
  /** ε², from 0 to 1; null when every run has a value of its own. */
  importance: number | null;
  /** Spearman's rank correlation of its numbers with the figure; null for text. */
  correlation: number | null;
  values: number;
  groups: number;
  binned: boolean;
  missing: number;
  /** Numbers above 0 spanning a factor of 10 or more: plotted on a log axis. */
  log: boolean;
}

/** What each setting says of a figure over runs, most important first. */
export interface RunImportance {
  figure: string;
  runs: number[];
  left_out: number[];
  settings: SettingImportance[];
  constant: string[];
}

/** What each setting of `runs` (or the `settings` named) says of `figure`, as `muppet runs importance`. */
export const runImportance = (runs: number[], figure: string, settings: string[] = []) => invoke<RunImportance>("run_importance", { runs, figure, settings });
export const runColumns = () => invoke<Record<string, RunColumns>>("run_columns");
export const runDetail = (run: number) => invoke<RunDetail>("run_detail", { run });
export const runCurves = (run: number) => invoke<RunCurves>("run_curves", { run });
export const compareRuns = (runs: number[], series: SeriesKey | null = null) => invoke<RunComparison>("compare_runs", { runs, series });
export const exportRunCsv = (run: number, path: string) => invoke<number>("export_run_csv", { run, path });

/** One run of an imported bundle: its new id, and its id where it was bundled. */
export interface ImportedRunOf {
  run: number;
  name: string;
  source_run: number;
  points: number;
  checkpoints: number;
}

/** What an imported bundle held: its runs, and its experiment for an experiment's bundle. */
export interface ImportedRun {
  runs: ImportedRunOf[];
  experiment: { id: number; name: string; source_id: number } | null;
  source_home: string;
  source_host: string;
  points: number;
  checkpoints: number;
  files: number;
}
export const importRunBundle = (path: string) => invoke<ImportedRun>("import_run_bundle", { path });

/** What a deletion removed (runs, or an experiment with its runs). */
export interface Deleted {
  runs: number[];
  experiment: number | null;
  points: number;
  checkpoints: number;
  files: number;
  bytes: number;
}

export const deleteRuns = (runs: number[]) => invoke<Deleted>("delete_runs", { runs });

/** What a deletion of imported tasks removed, and the runs that trained on them (they keep their records). */
export interface DeletedTasks {
  tasks: string[];
  examples: number;
  runs: number[];
}

export const deleteTasks = (names: string[]) => invoke<DeletedTasks>("delete_tasks", { names });
export const deleteExperiment = (experiment: number) => invoke<Deleted>("delete_experiment", { experiment });
/** Runs to plot by two columns (`muppet runs scatter`): the runs shown, in the table's order. */
export interface PlotRequest {
  runs: number[];
  x: string;
  y: string;
  /** Colour by these keys' values. */
  by: string[];
  logX: boolean;
  logY: boolean;
}

export interface PlotView {
  svg: string;
  plotted: number;
  left_out: number[];
  file: ExportedFile | null;
  /** Where each run was drawn on a plot (fractions of the chart's width and height from the top left), and what it says. */
  points: PlotPoint[];
  /** Where each run's line was drawn through several columns (its point on each axis, as fractions), and what it says. */
  lines: PlotLine[];
}

export interface PlotLine {
  run: number;
  points: [number, number][];
  text: string;
}

export interface PlotPoint {
  run: number;
  left: number;
  top: number;
  text: string;
}

/** The runs of `request` as points by two columns, as SVG; also written to `path` (PNG or SVG) when given. */
export const plotRuns = (request: PlotRequest, path: string | null) => invoke<PlotView>("plot_runs", { request, path });

/** The runs of `request` as lines through several columns (`muppet runs parallel`), as SVG; also written to `path` when given. */
export const parallelRuns = (request: { runs: number[]; axes: string[] }, path: string | null) => invoke<PlotView>("parallel_runs", { request, path });

/** Save a chart as shown (`LineChart.shown`) as PNG or SVG, by the extension of `path`. */
export const saveChart = (chart: ShownChart, path: string) => invoke<ExportedFile>("save_chart", { chart, path });
export const exportCheckpoint = (run: number, step: number | null, out: string, task: string | null = null) =>
  invoke<ExportSummary>("export_checkpoint", { run, step, out, task });

export const renameRun = (run: number, name: string) => invoke<string>("rename_run", { run, name });
export const tagRun = (run: number, tag: string) => invoke<string[]>("tag_run", { run, tag });
export const untagRun = (run: number, tag: string) => invoke<string[]>("untag_run", { run, tag });
export const addRunNote = (run: number, body: string) => invoke<Note[]>("add_run_note", { run, body });

export const launchRun = (request: LaunchRequest) => invoke<number>("launch_run", { request });

/** A fine-tune of a stored run's checkpoint (src-tauri mixture::FinetuneRequest); null: fine-tuning's default. */
export interface FinetuneRequest {
  /** The run whose checkpoint it starts from; null: the pretrained model, `model`. */
  from_run: number | null;
  /** Without `from_run`: a model folder in Hugging Face layout; null: the default model of the assets. */
  model: string | null;
  step: number | null;
  tasks: string[];
  train_size: number | null;
  reuse_head: boolean;
  r3f: boolean;
  backend: string;
  steps: number | null;
  batch_size: number | null;
  lr: number | null;
  /** Score dev every this many updates; null: at the start and the end only. */
  eval_every: number | null;
  keep_best: boolean;
  early_stopping: number | null;
  /** How much a dev score must beat the best to restart early stopping's count; null: 0. */
  early_stopping_threshold: number | null;
  /** Tags put on the fine-tune as it is registered. */
  tags: string[];
  /** A note kept with the fine-tune; null: none. */
  note: string | null;
}

export interface FinetuneLaunched {
  run: number;
  /** Downstream tasks sharing inputs with a task the source run trained on. */
  warnings: string[];
}

/** What the run page asks `muppet eval` to score (src-tauri commands::runs::EvalRequest). */
export interface EvalRequest {
  run: number;
  step: number | null;
  task: string;
  /** "dev", "train" or "all"; null: dev for a task of the run, all for another. */
  examples: string | null;
  /** The run task whose head scores; null: the task's own, or its family's shared one. */
  head: string | null;
}

/** What `muppet eval --json` prints. */
export interface EvalResult {
  run: number;
  step: number;
  task: string;
  examples_of: string;
  examples: "dev" | "train" | "all";
  scored: number;
  head: string;
  head_task: string | null;
  split: string;
  scores: { metric: string; value: number }[];
  predictions: string;
  predictions_bytes: number;
  /** Classification: the confusion matrix (`matrix[gold][predicted]`) and each class's figures. */
  classes: {
    labels: string[];
    matrix: number[][];
    per_class: { label: string; precision: number; recall: number; f1: number; support: number }[];
  } | null;
  /** Classification and multiple choice: confidence against accuracy (muppet_train::score::Calibration). */
  calibration?: Calibration | null;
  /** The task's metric with its 95% bootstrap interval over the examples scored (muppet_train::paired::Interval). */
  interval?: { metric: string; value: number; low: number; high: number; examples: number; resamples: number; seed: number } | null;
}

/** Confidence binned against accuracy: ECE, MCE, Brier and the bins with examples. */
export interface Calibration {
  ece: number;
  mce: number;
  brier: number;
  confidence: number;
  accuracy: number;
  bins: { low: number; high: number; examples: number; confidence: number; accuracy: number }[];
}

/** A scoring's result and its first misses (src-tauri commands::runs::Evaluated). */
export interface Evaluated {
  result: EvalResult;
  misses: Record<string, unknown>[];
  /** Wrong predictions (spans: not an exact match); null for regression. */
  wrong: number | null;
}

/** The predictions of a scoring in one cell of its confusion matrix (gold, predicted): the first `limit` and how many. */
export const predictionRows = (path: string, gold: string, predicted: string, limit: number) =>
  invoke<{ rows: Record<string, unknown>[]; total: number }>("prediction_rows", { path, gold, predicted, limit });

/** Score a checkpoint on a task; `onProgress` hears the examples scored so far. */
export function evaluateCheckpoint(request: EvalRequest, onProgress: (p: { done: number; total: number }) => void): Promise<Evaluated> {
  return invoke<Evaluated>("evaluate_checkpoint", { request, onProgress: new Channel<{ done: number; total: number }>(onProgress) });
}
/** What the run page's *Try it* asks (src-tauri commands::runs::PredictRequest). */
export interface PredictRequest {
  run: number;
  step: number | null;
  /** The run task whose head answers. */
  task: string;
  text: string;
  text_b: string | null;
  choices: string[];
}

/** A head's answer for one input (muppet_train::infer::HeadOutput). */
export type HeadOutput =
  | { kind: "class"; predicted: number; labels: string[]; probabilities: number[] }
  | { kind: "value"; value: number }
  | { kind: "choice"; predicted: number; probabilities: number[] }
  | { kind: "span"; answer: string; score: number | null };

/** What `muppet predict --json` prints. */
export interface Predicted {
  run: number;
  step: number;
  checkpoint: string;
  task: string;
  family: string;
  head: string;
  answers: HeadOutput[];
  seconds: number;
  inputs: { text: string; text_b?: string; choices?: string[] }[];
}

/** A run task's head's prediction for one input. */
export const predictInput = (request: PredictRequest) => invoke<Predicted>("predict_input", { request });
/** What the comparison's *Compare predictions* asks (src-tauri commands::runs::PairedRequest). */
export interface PairedRequest {
  runs: [number, number];
  task: string;
  examples: string | null;
  best: boolean;
}

/** Two runs' predictions compared example by example (muppet_train::paired::Paired). */
export interface Paired {
  metric: string;
  examples: number;
  only_in_a: number;
  only_in_b: number;
  a: number;
  b: number;
  difference: number;
  interval: [number, number];
  bootstrap_p: number;
  resamples: number;
  seed: number;
  agreement: { both_right: number; only_a: number; only_b: number; both_wrong: number; mcnemar_p: number } | null;
  differing: number;
  shown: { example: number; text: string; text_b?: string; gold: unknown; a: unknown; b: unknown; a_right?: boolean; b_right?: boolean }[];
}

/** Score a task with two runs and compare their predictions; `onProgress` hears each run's scoring (`model` 1, then 2). */
export function pairedScores(request: PairedRequest, onProgress: (p: { done: number; total: number; model: number }) => void): Promise<{ runs: EvalResult[]; paired: Paired }> {
  return invoke<{ runs: EvalResult[]; paired: Paired }>("paired_scores", { request, onProgress: new Channel<{ done: number; total: number; model: number }>(onProgress) });
}
export const launchFinetune = (request: FinetuneRequest) => invoke<FinetuneLaunched>("launch_finetune", { request });
export const saveMixtureSpec = (request: LaunchRequest, path: string) => invoke<ExportedFile>("save_mixture_spec", { request, path });
export const cancelRun = (run: number) => invoke<void>("cancel_run", { run });
export const resumeRun = (run: number) => invoke<void>("resume_run", { run });
export const quitApp = (cancelRuns: boolean) => invoke<void>("quit_app", { cancelRuns });

export const listExperiments = () => invoke<ExperimentsPage>("list_experiments");
/** Score a task with every pre-finetuned model of an experiment; `onProgress` hears each model's examples scored so far. */
export function scorePrefinetuned(request: ScoreModelsRequest, onProgress: (p: { done: number; total: number; model: number }) => void): Promise<EvalResult[]> {
  return invoke<EvalResult[]>("score_prefinetuned", { request, onProgress: new Channel<{ done: number; total: number; model: number }>(onProgress) });
}
export const reportChart = (experiment: number, name: string) => invoke<string>("report_chart", { experiment, name });
export const buildReport = (experiment: number) => invoke<string>("build_report", { experiment });
export const runExperiment = (spec: string) => invoke<void>("run_experiment", { spec });
export const runDemoExperiment = () => invoke<string>("run_demo_experiment");
export const cancelExperiment = (launch: number) => invoke<void>("cancel_experiment", { launch });
/** Continue an experiment; `more`: a random search draws that many more settings first. */
export const resumeExperiment = (experiment: number, more?: number, guided = false) => invoke<void>("resume_experiment", { experiment, more: more ?? null, guided });
export const checkExperiment = (spec: unknown) => invoke<SpecCheck>("check_experiment", { spec });
export const saveExperiment = (spec: unknown, path: string) => invoke<string>("save_experiment", { spec, path });

/** Receive every worker's updates, in batches of at most ten a second. */
export function subscribeEvents(onBatch: (updates: Update[]) => void): Promise<void> {
  const channel = new Channel<Update[]>(onBatch);
  return invoke<void>("subscribe_events", { channel });
}
