import { describe, expect, it } from "vitest";
import type { RunEstimate } from "./api";
import { estimateRequest, defaultForm } from "./mixture-form";
import { estimateText, formatDuration } from "./run-estimate";

const run = (id: number, maxLen: number) => ({ run: id, name: `run ${id}`, max_len: maxLen, examples: 1000, seconds: 10 });

describe("formatDuration", () => {
  it("picks the unit people read", () => {
    expect(formatDuration(45.4)).toBe("45 s");
    expect(formatDuration(12 * 60 + 10)).toBe("12 min");
    expect(formatDuration(3600 + 5 * 60)).toBe("1 h 05 min");
    expect(formatDuration(2 * 86400 + 3 * 3600)).toBe("2 d 3 h");
    expect(formatDuration(-3)).toBe("0 s");
  });
});

describe("estimateText", () => {
  it("says when no run was measured", () => {
    const none: RunEstimate = { examples: 19200, examples_per_second: null, seconds: null, runs: [], same_max_len: false };
    expect(estimateText(none, "cpu", 128)).toBe("Estimated time: no measured run yet (no completed run on cpu on this machine).");
  });
  it("names the runs and the max length the figure came from", () => {
    const same: RunEstimate = { examples: 19200, examples_per_second: 64, seconds: 300, runs: [run(3, 128), run(5, 128)], same_max_len: true };
    expect(estimateText(same, "cpu", 128)).toBe("Estimated time ≈ 5 min for 19\u2009200 examples at 64 examples/s, measured on cpu by runs 3 and 5 at max length 128.");
    const all: RunEstimate = { examples: 19200, examples_per_second: 2.5, seconds: 7680, runs: [run(7, 64)], same_max_len: false };
    expect(estimateText(all, "cuda", 256)).toBe("Estimated time ≈ 2 h 08 min for 19\u2009200 examples at 2.5 examples/s, measured on cuda by run 7 at every max length (none completed at 256).");
  });
});

describe("estimateRequest", () => {
  it("asks for the run's examples on its backend and max length", () => {
    expect(estimateRequest({ ...defaultForm("cuda"), steps: 10, batchSize: 4, tasksPerUpdate: 2, maxLen: 64 })).toEqual({ backend: "cuda", max_len: 64, steps: 10, batch_size: 4, tasks_per_update: 2 });
  });
});
