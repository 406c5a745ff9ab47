import { describe, expect, it } from "vitest";
import type { RunListRow } from "./api";
import { availableColumns, columnCell, columnLabel, columnValue, filterRuns, progressFraction, progressText, sortRuns, tagCounts } from "./runs-table";

function row(id: number, patch: Partial<RunListRow> = {}): RunListRow {
  return {
    id,
    name: `run ${id}`,
    kind: "pre_finetune",
    status: "running",
    backend: "flex",
    device: "cpu",
    started_at: `2025-11-26T09:0${id}:00Z`,
    ended_at: null,
    failure: null,
    points: id * 10,
    last_loss: 1 / id,
    total_steps: 30,
    last_step: id * 3,
    worker: null,
    tags: [],
    columns: { metrics: {}, params: {} },
    ...patch,
  };
}

describe("progress", () => {
  it("is steps done of steps planned", () => {
    expect(progressFraction(row(5))).toBe(0.5);
    expect(progressText(row(5))).toBe("15 / 30");
    expect(progressFraction(row(5, { status: "completed", last_step: 2 }))).toBe(1);
    expect(progressText(row(5, { status: "completed", last_step: 2 }))).toBe("2 / 30, stopped early");
    expect(progressText(row(5, { status: "completed", last_step: 30 }))).toBe("30 / 30");
    expect(progressText(row(5, { status: "cancelled" }))).toBe("15 / 30");
    expect(progressFraction(row(5, { total_steps: null }))).toBeNull();
    expect(progressText(row(5, { total_steps: null }))).toBe("—");
  });
  it("says what the worker does", () => {
    expect(progressText(row(1, { worker: "waiting" }))).toBe("waiting for a slot");
    expect(progressText(row(1, { worker: "cancelling" }))).toBe("cancelling…");
  });
});

describe("filterRuns", () => {
  const rows = [row(1), row(2, { status: "completed", name: "Sarcasm mix" }), row(3, { status: "failed" })];
  it("keeps the chosen statuses", () => {
    expect(filterRuns(rows, { statuses: ["completed", "failed"], text: "" }).map((r) => r.id)).toEqual([2, 3]);
    expect(filterRuns(rows, { statuses: [], text: "" })).toHaveLength(3);
  });
  it("matches a part of the name or the exact id", () => {
    expect(filterRuns(rows, { statuses: [], text: "sarcasm" }).map((r) => r.id)).toEqual([2]);
    expect(filterRuns(rows, { statuses: [], text: "3" }).map((r) => r.id)).toEqual([3]);
  });
  it("keeps only the runs a settings-and-figures filter matched, with the other filters", () => {
    expect(filterRuns(rows, { statuses: [], text: "", ids: new Set([1, 3]) }).map((r) => r.id)).toEqual([1, 3]);
    expect(filterRuns(rows, { statuses: ["failed"], text: "", ids: new Set([1, 3]) }).map((r) => r.id)).toEqual([3]);
    expect(filterRuns(rows, { statuses: [], text: "", ids: null })).toHaveLength(3);
  });
});

describe("sortRuns", () => {
  const rows = [row(1), row(2, { last_loss: null }), row(3)];
  it("sorts both ways with missing values last", () => {
    expect(sortRuns(rows, { key: "last_loss", descending: false }).map((r) => r.id)).toEqual([3, 1, 2]);
    expect(sortRuns(rows, { key: "last_loss", descending: true }).map((r) => r.id)).toEqual([1, 3, 2]);
  });
  it("sorts by name, points and progress", () => {
    expect(sortRuns(rows, { key: "name", descending: true }).map((r) => r.id)).toEqual([3, 2, 1]);
    expect(sortRuns(rows, { key: "points", descending: false }).map((r) => r.id)).toEqual([1, 2, 3]);
    expect(sortRuns(rows, { key: "progress", descending: true }).map((r) => r.id)).toEqual([3, 2, 1]);
  });
});

describe("tags", () => {
  const tagged = [row(1, { tags: ["baseline"] }), row(2, { tags: ["baseline", "paper fig 3"] }), row(3)];
  it("filter the runs", () => {
    expect(filterRuns(tagged, { statuses: [], text: "", tag: "baseline" }).map((r) => r.id)).toEqual([1, 2]);
    expect(filterRuns(tagged, { statuses: [], text: "", tag: "paper fig 3" }).map((r) => r.id)).toEqual([2]);
    expect(filterRuns(tagged, { statuses: [], text: "", tag: "" })).toHaveLength(3);
    expect(filterRuns(tagged, { statuses: ["completed"], text: "", tag: "baseline" })).toEqual([]);
  });
  it("are counted for the filter menu", () => {
    expect(tagCounts(tagged)).toEqual([
      ["baseline", 2],
      ["paper fig 3", 1],
    ]);
  });
});

describe("optional columns", () => {
  const figures = (last: number | null, best: number | null) => ({ last, best, step: 30 });
  const a = row(1, { columns: { metrics: { "sst2 dev accuracy": figures(0.8, 0.9) }, params: { "learning rate": 2e-5, sampling: { temperature: 2 } } } });
  const b = row(2, { columns: { metrics: { "boolq dev accuracy": figures(0.6, 0.7), "sst2 dev accuracy": figures(0.7, 0.7) }, params: { "learning rate": 1e-4, batching: "homogeneous" } } });
  const c = row(3);

  it("are the runs' dev figures by name, then their settings in order", () => {
    expect(availableColumns([a, b, c])).toEqual([
      "metric:boolq dev accuracy",
      "metric:boolq dev accuracy (best)",
      "metric:sst2 dev accuracy",
      "metric:sst2 dev accuracy (best)",
      "param:learning rate",
      "param:sampling",
      "param:batching",
    ]);
    // A figure without a goal (a system figure) has no best.
    const system = row(4, { columns: { metrics: { "system rss_mb": figures(120, null) }, params: {} } });
    expect(availableColumns([system])).toEqual(["metric:system rss_mb"]);
    expect(columnLabel("metric:sst2 dev accuracy")).toBe("sst2 dev accuracy");
  });

  it("show the last figure with the best in the title, and settings as written", () => {
    expect(columnCell(a, "metric:sst2 dev accuracy")).toEqual({ text: "0.8000", title: "last at step 30; best 0.9000" });
    expect(columnCell(c, "metric:sst2 dev accuracy").text).toBe("—");
    expect(columnCell(a, "param:learning rate")).toEqual({ text: "0.00002" });
    expect(columnCell(a, "param:sampling")).toEqual({ text: "temperature 2", title: '{"temperature":2}' });
    expect(columnValue(b, "param:batching")).toBe("homogeneous");
  });

  it("show a figure's best in its best column, the last in the title", () => {
    expect(columnLabel("metric:sst2 dev accuracy (best)")).toBe("sst2 dev accuracy (best)");
    expect(columnCell(a, "metric:sst2 dev accuracy (best)")).toEqual({ text: "0.9000", title: "best; last 0.8000 at step 30" });
    expect(columnValue(a, "metric:sst2 dev accuracy (best)")).toBe(0.9);
    expect(columnCell(c, "metric:sst2 dev accuracy (best)").text).toBe("—");
    // Sorted by the best, run 1 (best 0.9, last 0.8) comes before run 2 (0.7).
    expect(sortRuns([b, a, c], { key: "metric:sst2 dev accuracy (best)", descending: true }).map((r) => r.id)).toEqual([1, 2, 3]);
  });

  it("sort, runs without the figure last", () => {
    const by = (key: "metric:sst2 dev accuracy" | "param:learning rate", descending: boolean) => sortRuns([a, b, c], { key, descending }).map((r) => r.id);
    expect(by("metric:sst2 dev accuracy", true)).toEqual([1, 2, 3]);
    expect(by("metric:sst2 dev accuracy", false)).toEqual([2, 1, 3]);
    expect(by("param:learning rate", false)).toEqual([1, 2, 3]);
  });
});
