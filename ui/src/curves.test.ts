import { describe, expect, it } from "vitest";
import type { MetricPoint, RunCurves } from "./api";
import { addPoints, devMetrics, devSeries, figureColumn, fromCurves, lossSeries, RUN_FIGURES, runFigures, xAt } from "./curves";

const curves: RunCurves = {
  axis: [
    { step: 1, examples: 4, wall_s: 1 },
    { step: 2, examples: 8, wall_s: 2 },
  ],
  curves: [
    { run: 1, key: { task: "rt", split: "train", name: "loss" }, buckets: [{ step_lo: 1, step_hi: 2, min: 0.9, max: 1, last: 0.9, count: 2 }] },
    { run: 1, key: { task: null, split: "train", name: "loss" }, buckets: [{ step_lo: 1, step_hi: 1, min: 1, max: 1, last: 1, count: 1 }, { step_lo: 2, step_hi: 2, min: 0.8, max: 0.8, last: 0.8, count: 1 }] },
    { run: 1, key: { task: "rt", split: "dev", name: "mcc" }, buckets: [] },
    { run: 1, key: { task: "rt", split: "dev", name: "accuracy" }, buckets: [{ step_lo: 0, step_hi: 0, min: 0.5, max: 0.5, last: 0.5, count: 1 }] },
  ],
};

const point = (step: number, patch: Partial<MetricPoint> = {}): MetricPoint => ({
  task: null,
  split: "train",
  name: "loss",
  step,
  examples: step * 4,
  wall_s: step,
  value: 1 / step,
  ...patch,
});

describe("curve model", () => {
  it("names a run-wide figure as the runs table and the CLI do", () => {
    expect(figureColumn("train:lr")).toBe("train lr");
    expect(figureColumn("system:rss_mb")).toBe("system rss_mb");
    expect(Object.keys(RUN_FIGURES).map(figureColumn)).toEqual(["train lr", "train grad_norm", "system rss_mb", "system cpu_percent", "system gpu_mb"]);
  });

  it("puts the run's loss first and labels tasks", () => {
    const model = fromCurves(curves);
    const loss = lossSeries(model, "step");
    expect(loss.map((s) => s.label)).toEqual(["all tasks", "rt"]);
    expect(loss[0]?.points).toEqual([{ x: 1, y: 1 }, { x: 2, y: 0.8 }]);
  });
  it("maps steps to examples and seconds through the step axis", () => {
    const model = fromCurves(curves);
    expect(lossSeries(model, "examples")[0]?.points.map((p) => p.x)).toEqual([4, 8]);
    expect(xAt(model, 2, "time")).toBe(2);
  });
  it("lists dev metrics with accuracy first", () => {
    const model = fromCurves(curves);
    expect(devMetrics(model)).toEqual(["accuracy", "mcc"]);
    expect(devSeries(model, "accuracy", "step")).toEqual([{ id: "dev/rt/accuracy", label: "rt", points: [{ x: 0, y: 0.5 }] }]);
  });
  it("draws a checkpoint's scores beside the dev curves of their metric", () => {
    const scored = (split: string, name: string, step: number, value: number) => ({
      run: 1,
      key: { task: "rt", split, name },
      buckets: [{ step_lo: step, step_hi: step, min: value, max: value, last: value, count: 1 }],
    });
    const model = fromCurves({ ...curves, curves: [...curves.curves, scored("eval-test", "accuracy", 2, 0.7), scored("eval-dev@sst", "macro_f1", 1, 0.4)] });
    expect(devMetrics(model)).toEqual(["accuracy", "macro_f1", "mcc"]);
    expect(devSeries(model, "accuracy", "step")).toEqual([
      { id: "dev/rt/accuracy", label: "rt", points: [{ x: 0, y: 0.5 }] },
      { id: "eval-test/rt/accuracy", label: "rt · test, scored", points: [{ x: 2, y: 0.7 }] },
    ]);
    expect(devSeries(model, "macro_f1", "examples")).toEqual([{ id: "eval-dev@sst/rt/macro_f1", label: "rt · dev, scored with sst's head", points: [{ x: 4, y: 0.4 }] }]);
  });
  it("offers the learning rate, gradient norm and system figures the run recorded, as one series each", () => {
    const figure = (split: string, name: string, value: number) => ({ run: 1, key: { task: null, split, name }, buckets: [{ step_lo: 1, step_hi: 1, min: value, max: value, last: value, count: 1 }] });
    const lr = figure("train", "lr", 1e-4);
    const model = fromCurves({ ...curves, curves: [...curves.curves, lr] });
    expect(runFigures(model)).toEqual(["train:lr"]);
    expect(runFigures(fromCurves(curves))).toEqual([]);
    expect(devSeries(model, "train:lr", "step")).toEqual([{ id: "train//lr", label: "learning rate", points: [{ x: 1, y: 1e-4 }] }]);
    // The worker's memory and CPU use; its peak memory (one point per session) is not drawn.
    const system = fromCurves({ ...curves, curves: [...curves.curves, figure("system", "cpu_percent", 180), figure("system", "peak_rss_mb", 900), figure("system", "rss_mb", 850), lr] });
    expect(runFigures(system)).toEqual(["train:lr", "system:rss_mb", "system:cpu_percent"]);
    expect(devSeries(system, "system:rss_mb", "step")).toEqual([{ id: "system//rss_mb", label: "memory (MB)", points: [{ x: 1, y: 850 }] }]);
    expect(devSeries(system, "system:peak_rss_mb", "step")).toEqual([]);
  });
  it("grows with live points, ignoring steps it already has", () => {
    const model = fromCurves(curves);
    const grown = addPoints(model, [point(2), point(3), point(3, { task: "sst", value: null })]);
    expect([...grown].sort()).toEqual(["train//loss", "train/sst/loss"]);
    expect(lossSeries(model, "step")[0]?.points.map((p) => p.x)).toEqual([1, 2, 3]);
    expect(model.axis[model.axis.length - 1]).toEqual({ step: 3, examples: 12, wall_s: 3 });
    const sst = lossSeries(model, "step").find((s) => s.label === "sst");
    expect(Number.isNaN(sst?.points[0]?.y)).toBe(true);
  });
});
