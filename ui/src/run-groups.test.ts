import { describe, expect, it } from "vitest";
import { figureCell, groupFigures, groupKeys, groupValue, linePoints, linesSummary, parallelColumns, plotAxes, plotSummary, pointPlace, pointTitle, sortGroups } from "./run-groups";

describe("run groups", () => {
  it("names a plotted run on hover and places it over the image", () => {
    const point = { run: 12, left: 0.25, top: 0.5, text: "learning rate 1.00e-4, rte dev accuracy 0.8100" };
    expect(pointTitle(point, "rte lr 1e-4")).toBe("#12 rte lr 1e-4: learning rate 1.00e-4, rte dev accuracy 0.8100. Click to open it.");
    expect(pointTitle(point, undefined)).toBe("#12: learning rate 1.00e-4, rte dev accuracy 0.8100. Click to open it.");
    expect(pointPlace(point)).toEqual({ left: "25.000%", top: "50.000%" });
    expect(pointPlace({ ...point, left: -0.1, top: 1.2 })).toEqual({ left: "0.000%", top: "100.000%" });
  });

  it("draws a run's line through several columns in a box stretched over the image", () => {
    const line = { run: 7, points: [[0.1, 0.5], [0.55, 0.25], [1.2, -0.1]] as [number, number][], text: "learning rate 1.00e-4, batching homogeneous" };
    expect(linePoints(line)).toBe("100.0,500.0 550.0,250.0 1000.0,0.0");
    expect(pointTitle(line, "sweep 3")).toBe("#7 sweep 3: learning rate 1.00e-4, batching homogeneous. Click to open it.");
  });

  it("reads the keys between commas", () => {
    expect(groupKeys(" train size,  learning   rate ,, config.lr ")).toEqual(["train size", "learning rate", "config.lr"]);
    expect(groupKeys("  ")).toEqual([]);
  });

  it("shows every figure but the system readings, by name", () => {
    const figure = { n: 1, mean: 1, sd: null, min: 1, max: 1 };
    const groups = [
      { values: [16], runs: [1], figures: { "winowhy dev accuracy": figure, "winowhy dev accuracy (best)": figure, "system rss_mb": figure } },
      { values: [32], runs: [2], figures: { "bbc_news dev accuracy": figure } },
    ];
    expect(groupFigures(groups)).toEqual(["bbc_news dev accuracy", "winowhy dev accuracy"]);
    expect(groupFigures(groups, true)).toEqual(["winowhy dev accuracy (best)"]);
  });

  it("writes values and figures as the runs table does", () => {
    expect([groupValue(null), groupValue(3e-5), groupValue(16), groupValue(0.5), groupValue("uniform"), groupValue({ kind: "temperature", t: 2 })]).toEqual([
      "-",
      "3.00e-5",
      "16",
      "0.5000",
      "uniform",
      '{"kind":"temperature","t":2}',
    ]);
    expect(figureCell({ n: 3, mean: 0.82, sd: 0.02, min: 0.8, max: 0.84 })).toEqual({
      text: "0.8200 ± 0.0200 (3)",
      title: "Mean ± sample standard deviation over 3 runs; from 0.8000 to 0.8400",
    });
    expect(figureCell({ n: 1, mean: 0.7, sd: null, min: 0.7, max: 0.7 })).toEqual({ text: "0.7000 (1)", title: "1 run" });
    expect(figureCell(undefined).text).toBe("-");
  });

  it("offers settings then figures to plot, a setting against a figure first", () => {
    expect(plotAxes(["metric:system rss_mb", "metric:winowhy dev accuracy", "param:learning rate", "param:train size"])).toEqual({
      options: ["learning rate", "train size", "system rss_mb", "winowhy dev accuracy"],
      x: "learning rate",
      y: "winowhy dev accuracy",
    });
    expect(plotAxes([])).toEqual({ options: [], x: "", y: "" });
    expect(plotAxes(["metric:mrpc dev accuracy", "metric:rte dev accuracy"])).toEqual({ options: ["mrpc dev accuracy", "rte dev accuracy"], x: "mrpc dev accuracy", y: "rte dev accuracy" });
    expect(plotSummary(3, [], false)).toBe("3 runs plotted.");
    expect(plotSummary(1, [4, 9], true)).toBe("1 run plotted; left out, without a value for both columns (above 0 on a log axis): #4, #9.");
  });

  it("draws runs through the settings and then a figure", () => {
    const available = ["metric:system rss_mb", "metric:winowhy dev accuracy", "metric:winowhy dev accuracy (best)", "param:learning rate", "param:batch size", "param:updates", "param:seed"] as const;
    expect(parallelColumns(available)).toEqual(["learning rate", "batch size", "updates", "winowhy dev accuracy"]);
    expect(parallelColumns(["metric:system rss_mb"])).toEqual([]);
    expect(linesSummary(2, [])).toBe("2 runs drawn.");
    expect(linesSummary(1, [7])).toBe("1 run drawn; left out, without a value for every column: #7.");
  });

  it("orders groups by a figure's mean, groups without it last", () => {
    const group = (id: number, mean?: number) => ({ values: [id], runs: [id], figures: mean === undefined ? {} : { "rte dev accuracy": { n: 1, mean, sd: null, min: mean, max: mean } } });
    const groups = [group(1, 0.6), group(2), group(3, 0.8), group(4, 0.6)];
    const order = (ascending: boolean) => sortGroups(groups, "rte dev accuracy", ascending).map((g) => g.runs[0]);
    expect(order(false)).toEqual([3, 1, 4, 2]);
    expect(order(true)).toEqual([1, 4, 3, 2]);
    expect(groups.map((g) => g.runs[0])).toEqual([1, 2, 3, 4]);
  });
});
