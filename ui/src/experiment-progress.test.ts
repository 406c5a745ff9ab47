import { describe, expect, it } from "vitest";
import type { ExperimentLaunch, ExperimentView, RunRow, RunStatus } from "./api";
import { drawnSettings, experimentProgress, guidedSettings, launchStatus, moreSettings } from "./experiment-progress";

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
  orchestrated: false,
  summary: null,
  prefinetuned: [],
  stopped_early: 0,
});

describe("experiment progress", () => {
  it("says how many runs a sweep's rule stopped early", () => {
    const p = experimentProgress({ ...experiment(["completed", "completed", "running"], 4), stopped_early: 1 }, true);
    expect(p.text).toBe("2 of 4 runs completed · 1 stopped early by the sweep's rule · 1 running");
  });

  it("counts completed runs against the plan, not the runs stored so far", () => {
    const p = experimentProgress(experiment(["completed", "running", "queued"], 5), true);
    expect(p).toEqual({ state: "running", done: 1, fraction: 0.2, text: "1 of 5 runs completed · 1 running" });
  });

  it("is completed only when every planned run is", () => {
    expect(experimentProgress(experiment(["completed", "completed"], 5), false).state).toBe("stopped");
    expect(experimentProgress(experiment(["completed", "completed"], 2), false).state).toBe("completed");
  });

  it("is not completed while a guided search has settings to propose", () => {
    const guided = (proposed: number) => ({ ...experiment(["completed", "completed"], 2), spec: { sweep: { guided: 2, proposed: Array.from({ length: proposed }, () => ({ lr: 1e-4 })) } } });
    expect(experimentProgress(guided(1), true)).toMatchObject({ state: "running", text: "2 of 2 runs completed · 1 of 2 settings proposed from the scores" });
    expect(experimentProgress(guided(1), false).state).toBe("stopped");
    expect(experimentProgress(guided(2), false)).toMatchObject({ state: "completed", text: "2 of 2 runs completed" });
    expect(guidedSettings({ sweep: { guided: 4 } })).toEqual({ proposed: 0, wanted: 4 });
    expect(guidedSettings({ sweep: { count: 4 } })).toBeNull();
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

describe("a launch's line", () => {
  const launch = (over: Partial<ExperimentLaunch>): ExperimentLaunch => ({
    id: 0,
    spec: "/specs/sweep.toml",
    pid: 4242,
    log: "/home/experiment-logs/sweep-1.log",
    running: true,
    cancelling: false,
    exit_code: null,
    adopted: false,
    experiment: null,
    ...over,
  });

  it("follows a launch of this session to its exit code", () => {
    expect(launchStatus(launch({}))).toEqual({ state: "running", text: "running (pid 4242)" });
    expect(launchStatus(launch({ cancelling: true })).state).toBe("cancelling");
    expect(launchStatus(launch({ running: false, exit_code: 0 }))).toEqual({ state: "done", text: "ended with code 0" });
    expect(launchStatus(launch({ running: false, exit_code: 1 })).state).toBe("failed");
  });

  it("says an adopted one was started elsewhere, and never calls its unknown end a failure", () => {
    const adopted = launch({ adopted: true, experiment: 3, log: "", spec: "experiment 3 `sweep`" });
    expect(launchStatus(adopted).text).toBe("running (pid 4242), started outside this session of the app");
    expect(launchStatus({ ...adopted, running: false })).toEqual({ state: "ended", text: "ended (its runs below and its log show how)" });
  });
});

describe("a random search", () => {
  it("is told by its drawn settings, and draws a whole number more", () => {
    expect(drawnSettings({ sweep: { tasks: ["a"], grid: {}, random: { lr: { min: 1e-5, max: 1e-3 } }, count: 8 } })).toBe(8);
    expect(drawnSettings({ sweep: { tasks: ["a"], random: { lr: { min: 1e-5, max: 1e-3 } }, count: 8, proposed: [{ lr: 1e-4 }, { lr: 2e-4 }] } })).toBe(10);
    expect(drawnSettings({ sweep: { tasks: ["a"], grid: { lr: [1e-5] } } })).toBeNull();
    expect(drawnSettings({ sample_efficiency: {} })).toBeNull();
    expect(drawnSettings(null)).toBeNull();
    expect(moreSettings(" 4 ")).toBe(4);
    expect(moreSettings("0")).toBe("“0” is not a number of settings to draw: give a whole number, at least 1");
    expect(moreSettings("2.5")).toMatch(/^“2.5” is not/);
    expect(moreSettings("")).toMatch(/^“” is not/);
  });
});
