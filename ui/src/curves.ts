// A run's curves as the run page keeps them: every series as (step, value) points plus
// the run's step axis, so the x axis can be steps, examples seen or seconds. History
// comes from `run_curves` (downsampled buckets); live points from the worker's events.
import type { AxisPoint, MetricPoint, RunCurves, SeriesKey } from "./api";
import { atStep, type XY } from "./chart/chart-math";
import type { ChartSeries } from "./chart/line-chart";

export type XMode = "step" | "examples" | "time";

export const X_LABELS: Record<XMode, string> = { step: "step", examples: "examples seen", time: "seconds" };

interface StepValue {
  step: number;
  value: number;
}

interface ModelSeries {
  key: SeriesKey;
  points: StepValue[];
}

export interface CurveModel {
  axis: AxisPoint[];
  series: Map<string, ModelSeries>;
}

export function seriesId(key: SeriesKey): string {
  return `${key.split}/${key.task ?? ""}/${key.name}`;
}

const isRunLoss = (key: SeriesKey) => key.task === null && key.split === "train" && key.name === "loss";

/** The model of a run's stored history: each bucket's last value at its last step. */
export function fromCurves(curves: RunCurves): CurveModel {
  const series = new Map<string, ModelSeries>();
  for (const curve of curves.curves) {
    series.set(seriesId(curve.key), {
      key: curve.key,
      points: curve.buckets.map((b) => ({ step: b.step_hi, value: b.last ?? Number.NaN })),
    });
  }
  return { axis: curves.axis.slice(), series };
}

/**
 * Add live points (steps after the last stored one); returns the ids of the series that
 * grew. The run-wide training loss also extends the step axis.
 */
export function addPoints(model: CurveModel, points: readonly MetricPoint[]): Set<string> {
  const grown = new Set<string>();
  for (const p of points) {
    const key: SeriesKey = { task: p.task, split: p.split, name: p.name };
    const id = seriesId(key);
    let series = model.series.get(id);
    if (!series) {
      series = { key, points: [] };
      model.series.set(id, series);
    }
    const last = series.points[series.points.length - 1];
    if (last && p.step <= last.step) continue;
    series.points.push({ step: p.step, value: p.value ?? Number.NaN });
    grown.add(id);
    if (isRunLoss(key)) model.axis.push({ step: p.step, examples: p.examples, wall_s: p.wall_s });
  }
  return grown;
}

export function xAt(model: CurveModel, step: number, mode: XMode): number {
  if (mode === "step") return step;
  return atStep(model.axis, step, mode === "examples" ? "examples" : "wall_s");
}

function toXY(model: CurveModel, points: readonly StepValue[], mode: XMode): XY[] {
  return points.map((p) => ({ x: xAt(model, p.step, mode), y: p.value }));
}

export function label(key: SeriesKey): string {
  if (key.split === "train" && key.name === "loss") return key.task ?? "all tasks";
  return key.task ? `${key.task} ${key.name}` : key.name;
}

/** Training losses: the run's, then each task's. */
export function lossSeries(model: CurveModel, mode: XMode): ChartSeries[] {
  const out: ChartSeries[] = [];
  for (const [id, s] of model.series) {
    if (s.key.split !== "train" || s.key.name !== "loss") continue;
    const series = { id, label: label(s.key), points: toXY(model, s.points, mode) };
    if (s.key.task === null) out.unshift(series);
    else out.push(series);
  }
  return out;
}

/** A checkpoint's scores stored by `muppet eval` (or the run page's scoring): `eval-test`, `eval-dev@rte`. */
const isScored = (split: string) => split.startsWith("eval-");

/** What a scoring series is: "winowhy · test, scored", "winowhy · dev, scored with rte's head". */
function scoredLabel(task: string | null, split: string, metric: string): string {
  const [examples, head] = split.slice("eval-".length).split("@");
  return `${task ?? metric} · ${examples}, scored${head ? ` with ${head}'s head` : ""}`;
}

/** Dev metric names the run has, its checkpoints' scores included (accuracy first when there). */
export function devMetrics(model: CurveModel): string[] {
  const names = new Set<string>();
  for (const s of model.series.values()) if (s.key.split === "dev" || isScored(s.key.split)) names.add(s.key.name);
  return [...names].sort((a, b) => (a === "accuracy" ? -1 : b === "accuracy" ? 1 : a.localeCompare(b)));
}

/**
 * The run-wide figures the dev chart draws instead of a dev metric, by `split:name`: what
 * each is called and the group it is listed in (the worker's memory, CPU use and, on CUDA,
 * GPU memory are read every two seconds).
 */
export const RUN_FIGURES: Record<string, { label: string; group: string }> = {
  "train:lr": { label: "learning rate", group: "Training" },
  "train:grad_norm": { label: "gradient norm", group: "Training" },
  "system:rss_mb": { label: "memory (MB)", group: "System" },
  "system:cpu_percent": { label: "CPU (% of one core)", group: "System" },
  "system:gpu_mb": { label: "GPU memory (MB)", group: "System" },
};

/** A run-wide figure's name in the runs table and the CLI (`train:lr` is `train lr`). */
export const figureColumn = (key: string): string => key.replace(":", " ");

const figureKey = (s: { key: { task: string | null; split: string; name: string } }) => (s.key.task === null ? `${s.key.split}:${s.key.name}` : null);

/** The run-wide figures of [`RUN_FIGURES`] the run has (`train:lr`, `system:rss_mb`, ...). */
export function runFigures(model: CurveModel): string[] {
  const have = new Set([...model.series.values()].map(figureKey));
  return Object.keys(RUN_FIGURES).filter((key) => have.has(key));
}

/**
 * One dev metric, one series per task, then the checkpoints' scores in that metric (one
 * series per task and example set); or a run-wide figure (`train:lr`), the run's one series.
 */
export function devSeries(model: CurveModel, metric: string, mode: XMode): ChartSeries[] {
  const out: ChartSeries[] = [];
  const scored: ChartSeries[] = [];
  const figure = RUN_FIGURES[metric];
  for (const [id, s] of model.series) {
    if (figure) {
      if (figureKey(s) === metric) out.push({ id, label: figure.label, points: toXY(model, s.points, mode) });
      continue;
    }
    if (s.key.name !== metric) continue;
    if (s.key.split === "dev") out.push({ id, label: s.key.task ?? metric, points: toXY(model, s.points, mode) });
    else if (isScored(s.key.split)) scored.push({ id, label: scoredLabel(s.key.task, s.key.split, metric), points: toXY(model, s.points, mode) });
  }
  return [...out, ...scored];
}
