import { describe, expect, it } from "vitest";
import type { RunImportance, SettingImportance } from "./api";
import { importanceFigures, importanceRow, importanceSummary } from "./run-importance";

const setting = (over: Partial<SettingImportance>): SettingImportance => ({ name: "learning rate", importance: 0.97, correlation: 0.478, values: 3, groups: 3, binned: false, missing: 0, log: true, ...over });

describe("which settings matter", () => {
  it("offers the runs' figures but the system readings", () => {
    expect(importanceFigures(["param:learning rate", "metric:rte dev accuracy", "metric:system rss_mb", "metric:rte dev accuracy (best)"])).toEqual([
      "rte dev accuracy",
      "rte dev accuracy (best)",
    ]);
  });

  it("reads a setting's share, correlation and values", () => {
    expect(importanceRow(setting({}))).toEqual({ name: "learning rate", share: "0.97", width: 97, correlation: "+0.48", values: "3 values" });
    expect(importanceRow(setting({ correlation: -0.05, importance: 0 }))).toMatchObject({ share: "0.00", width: 0, correlation: "−0.05" });
    expect(importanceRow(setting({ name: "batching", correlation: null, values: 1 }))).toMatchObject({ correlation: "-", values: "1 value" });
    expect(importanceRow(setting({ values: 8, groups: 6, binned: true, missing: 2 })).values).toBe("8 values in 5 bins, 2 runs without");
    expect(importanceRow(setting({ importance: null }))).toMatchObject({ share: "-", width: 0 });
  });

  it("says which runs it told of", () => {
    const found: RunImportance = { figure: "rte dev accuracy", runs: [1, 2, 3], left_out: [7], settings: [setting({})], constant: ["backend", "seed"] };
    expect(importanceSummary(found)).toBe("3 runs with a value of rte dev accuracy; 1 left out without one. The same in every run: backend, seed.");
    expect(importanceSummary({ ...found, left_out: [], settings: [], constant: [] })).toBe("3 runs with a value of rte dev accuracy. No setting differs among them.");
  });
});
