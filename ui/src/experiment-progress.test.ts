import { describe, expect, it } from "vitest";
import type { ExperimentView, RunRow, RunStatus } from "./api";
import { experimentProgress } from "./experiment-progress";

const run = (id: number, status: RunStatus): RunRow => ({
  id,
  name: `r${id}`,
  kind: "finetune",
  status,
  backend: null,
  device: null,
  started_at: "",
  ended_at: null,
  failure: null,
  points: 0,
  last_loss: null,
});

const experiment = (statuses: RunStatus[], planned: number | null): ExperimentView => ({
  id: 1,
  name: "e",
  kind: "sample_efficiency",
  spec: {},
  created_at: "",
  runs: statuses.map((s, i) => run(i + 1, s)),
  report: null,
  charts: [],
  files: [],
  planned_runs: planned,
});

describe("experiment progress", () => {
  it("counts completed runs against the plan, not the runs stored so far", () => {
    const p = experimentProgress(experiment(["completed", "running", "queued"], 5), true);
    expect(p).toEqual({ state: "running", done: 1, fraction: 0.2, text: "1 of 5 runs completed · 1 running" });
  });

  it("is completed only when every planned run is", () => {
    expect(experimentProgress(experiment(["completed", "completed"], 5), false).state).toBe("stopped");
    expect(experimentProgress(experiment(["completed", "completed"], 2), false).state).toBe("completed");
  });

  it("reports failures once nothing runs", () => {
    const p = experimentProgress(experiment(["completed", "failed"], 3), false);
    expect(p.state).toBe("failed");
    expect(p.text).toBe("1 of 3 runs completed · 1 failed");
  });

  it("falls back to the stored runs when the plan is unknown", () => {
    expect(experimentProgress(experiment([], null), false).fraction).toBeNull();
  });
});
