import { describe, expect, it } from "vitest";
import type { RunRow } from "./api";
import { formatBytes } from "./dom";
import {
  deletedText,
  deleteQuestion,
  importedText,
  MISSING,
  describeError,
  formatCount,
  formatKind,
  formatLoss,
  formatStatus,
  formatTimestamp,
  resourcesText,
  checkpointLabel,
  runCells,
  runsSummary,
} from "./runs-format";

const run: RunRow = {
  id: 12,
  name: "muppet-base-8tasks",
  kind: "pre_finetune",
  status: "completed",
  backend: "flex",
  device: "cpu",
  started_at: "2025-11-26T09:05:07.123Z",
  ended_at: "2025-11-26T10:00:00.000Z",
  failure: null,
  points: 12480,
  last_loss: 0.693147,
};

describe("formatLoss", () => {
  it("keeps four significant digits", () => {
    expect(formatLoss(0.693147)).toBe("0.6931");
    expect(formatLoss(2.302585)).toBe("2.303");
    expect(formatLoss(0)).toBe("0.000");
  });
  it("switches to scientific notation for tiny and huge values", () => {
    expect(formatLoss(0.000123456)).toBe("1.235e-4");
    expect(formatLoss(123456)).toBe("1.235e+5");
  });
  it("marks a missing or broken value", () => {
    expect(formatLoss(null)).toBe(MISSING);
    expect(formatLoss(Number.NaN)).toBe(MISSING);
    expect(formatLoss(Number.POSITIVE_INFINITY)).toBe("∞");
  });
});

describe("formatCount", () => {
  it("groups thousands without depending on the locale", () => {
    expect(formatCount(0)).toBe("0");
    expect(formatCount(999)).toBe("999");
    expect(formatCount(12480)).toBe("12\u2009480");
    expect(formatCount(1234567)).toBe("1\u2009234\u2009567");
  });
});

describe("labels", () => {
  it("names kinds and statuses for people and passes unknown values through", () => {
    expect(formatKind("pre_finetune")).toBe("Pre-finetune");
    expect(formatKind("finetune")).toBe("Fine-tune");
    expect(formatKind("distill")).toBe("distill");
    expect(formatStatus("cancelled")).toBe("Cancelled");
    expect(formatStatus("paused")).toBe("paused");
  });
});

describe("formatTimestamp", () => {
  it("formats the store's timestamps to the minute", () => {
    expect(formatTimestamp("2025-11-26T09:05:07.123Z", "utc")).toBe("2025-11-26 09:05");
  });
  it("leaves text that is not a timestamp alone", () => {
    expect(formatTimestamp("yesterday", "utc")).toBe("yesterday");
  });
});

describe("runCells", () => {
  it("renders every column of a run", () => {
    expect(runCells(run, "utc")).toEqual({
      id: "12",
      name: "muppet-base-8tasks",
      kind: "Pre-finetune",
      status: "Completed",
      statusClass: "status status-completed",
      statusTitle: "flex · cpu",
      points: "12\u2009480",
      lastLoss: "0.6931",
      started: "2025-11-26 09:05",
      startedTitle: "2025-11-26T09:05:07.123Z → 2025-11-26T10:00:00.000Z",
    });
  });
  it("explains a failed run on its status", () => {
    const failed = { ...run, status: "failed" as const, failure: "CUDA out of memory", last_loss: null };
    const cells = runCells(failed, "utc");
    expect(cells.statusTitle).toBe("CUDA out of memory");
    expect(cells.statusClass).toBe("status status-failed");
    expect(cells.lastLoss).toBe(MISSING);
  });
});

describe("runsSummary", () => {
  it("counts runs in words", () => {
    expect(runsSummary(0)).toBe("No runs");
    expect(runsSummary(1)).toBe("1 run");
    expect(runsSummary(2)).toBe("2 runs");
  });
});

describe("describeError", () => {
  it("keeps the app's own errors", () => {
    expect(describeError({ kind: "store_open", message: "cannot open" })).toEqual({
      kind: "store_open",
      message: "cannot open",
    });
  });
  it("wraps Tauri's string errors and thrown Errors", () => {
    expect(describeError("Command list_runs not allowed by ACL")).toEqual({
      kind: "unknown",
      message: "Command list_runs not allowed by ACL",
    });
    expect(describeError(new TypeError("invoke is undefined"))).toEqual({
      kind: "unknown",
      message: "invoke is undefined",
    });
    expect(describeError(42)).toEqual({ kind: "unknown", message: "42" });
  });
});

describe("checkpointLabel", () => {
  it("says the dev score of the best checkpoint only", () => {
    const best = { step: 40, score: 0.81234 };
    expect(checkpointLabel(40, best)).toBe("step 40 · best dev 0.812");
    expect(checkpointLabel(60, best)).toBe("step 60");
    expect(checkpointLabel(60, null)).toBe("step 60");
  });
});

describe("resourcesText", () => {
  it("says where the run trained and its peak memory", () => {
    expect(resourcesText({ backend: "flex", device: "cpu" }, 812.4)).toBe("flex on cpu · peak memory 812 MB");
    expect(resourcesText({ backend: "cuda", device: "cuda:0" }, 1536)).toBe("cuda on cuda:0 · peak memory 1.5 GB");
    expect(resourcesText({ backend: null, device: null }, null)).toBe("backend not recorded · peak memory not recorded");
  });
});

describe("importedText", () => {
  it("says where the run came from, its new id and what it brought", () => {
    const run = { run: 12, name: "pre-finetune: sst2 + mnli", source_run: 3, points: 1234, checkpoints: 1 };
    const imported = { runs: [run], experiment: null, source_home: "/srv/muppet", source_host: "gpu-a", points: 1234, checkpoints: 1, files: 7 };
    expect(importedText(imported)).toBe('Imported run 3 of gpu-a as run 12 ("pre-finetune: sst2 + mnli"): 1,234 metric points, 1 checkpoint, 7 files.');
    const two = { ...imported, runs: [run, { ...run, run: 13, source_run: 4 }], points: 2468, checkpoints: 2 };
    expect(importedText(two)).toBe("Imported 2 runs of gpu-a as runs 12, 13: 2,468 metric points, 2 checkpoints, 7 files.");
  });

  it("names an experiment's bundle", () => {
    const run = { run: 12, name: "pft", source_run: 3, points: 10, checkpoints: 1 };
    const imported = { runs: [run, { ...run, run: 13 }], experiment: { id: 2, name: "curves", source_id: 5 }, source_home: "/srv", source_host: "gpu-a", points: 20, checkpoints: 2, files: 9 };
    expect(importedText(imported)).toBe('Imported experiment 5 of gpu-a as experiment 2 ("curves") with its 2 runs (now runs 12, 13): 20 metric points, 2 checkpoints, 9 files.');
  });
});


describe("formatBytes", () => {
  it("reads in decimal units, as the CLI prints it", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(999)).toBe("999 B");
    expect(formatBytes(1000)).toBe("1.0 kB");
    expect(formatBytes(999_949)).toBe("999.9 kB");
    expect(formatBytes(999_950)).toBe("1.0 MB");
    expect(formatBytes(1_340_000_000)).toBe("1.3 GB");
  });
});

describe("deleting runs", () => {
  it("asks naming every run", () => {
    expect(deleteQuestion([{ id: 4, name: "demo" }])).toBe(
      "Delete run #4 “demo” for good? Their metrics, checkpoints, notes and files are removed; this cannot be undone.",
    );
    expect(deleteQuestion([{ id: 4, name: "demo" }, { id: 7, name: "sst2 fine-tune" }])).toMatch(/^Delete 2 runs \(#4 “demo”, #7 “sst2 fine-tune”\) for good\?/);
  });

  it("says what went", () => {
    const deleted = { runs: [3, 4], experiment: null, points: 1234, checkpoints: 2, files: 6, bytes: 2_030 };
    expect(deletedText(deleted)).toBe("Deleted runs 3, 4: 1,234 metric points, 2 checkpoints, 6 files (2.0 kB).");
    expect(deletedText({ ...deleted, runs: [3], experiment: 2 })).toBe(
      "Deleted experiment 2 and its run 3: 1,234 metric points, 2 checkpoints, 6 files (2.0 kB).",
    );
    expect(deletedText({ runs: [], experiment: 2, points: 0, checkpoints: 0, files: 1, bytes: 6 })).toBe(
      "Deleted experiment 2 (it had no runs): 0 metric points, 0 checkpoints, 1 file (6 B).",
    );
  });
});
