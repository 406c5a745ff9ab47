import { describe, expect, it } from "vitest";
import type { Example } from "./api";
import { deletedTasksText, deleteTasksQuestion, heldOut, recordedFields, splitPolicyText, targetText, tasksToDelete, whyNotTrained, tokensText } from "./task-spec";

const example = (target: Record<string, unknown>, choices: string[] = []): Example => ({ text_a: "a", text_b: null, choices, target });

describe("whyNotTrained", () => {
  it("passes on the engine's reason, and null for a task it trains", () => {
    const reason = "generation tasks are not trained: ... needs a decoder";
    expect(whyNotTrained({ not_trained: reason })).toBe(reason);
    expect(whyNotTrained({ not_trained: null })).toBeNull();
    expect(whyNotTrained({})).toBeNull();
  });
});

describe("recordedFields", () => {
  it("names each role's field in a fixed order", () => {
    expect(recordedFields({ target: "highlights", text: "article" })).toBe("text → article, target → highlights");
    expect(recordedFields({ answer_text: "answers.text", question: "q", context: "c" })).toBe("question → q, context → c, answer_text → answers.text");
  });
  it("is null when nothing was recorded", () => {
    expect(recordedFields(undefined)).toBeNull();
    expect(recordedFields({})).toBeNull();
    expect(recordedFields({ text: "" })).toBeNull();
  });
});

describe("splitPolicyText", () => {
  it("states the task's own split, the unset half being the run's", () => {
    expect(splitPolicyText({ dev_size: 1500, seed: 7 })).toBe("1,500 dev examples, seed 7");
    expect(splitPolicyText({ dev_size: 1 })).toBe("1 dev example, the run's split seed");
    expect(splitPolicyText({ seed: 0 })).toBe("the run's dev size, seed 0");
    expect(splitPolicyText({ dev_task: "mnli_validation_matched" })).toBe("scored on task mnli_validation_matched (the run's dev size of its examples); all of its own train");
    expect(splitPolicyText({ dev_task: "rt_test", dev_size: 2000, seed: 3 })).toBe("scored on task rt_test (2,000 of its examples, seed 3); all of its own train");
  });
  it("is null when the task has no split of its own", () => {
    expect(splitPolicyText(undefined)).toBeNull();
    expect(splitPolicyText({})).toBeNull();
  });
});

describe("targetText", () => {
  it("shows each kind of target", () => {
    expect(targetText(example({ class: 1 }), ["neg", "pos"])).toBe("pos");
    expect(targetText(example({ value: 0.25 }), [])).toBe("0.25");
    expect(targetText(example({ choice: 0 }, ["yes", "no"]), [])).toBe("yes");
    expect(targetText(example({ span: [{ start: 0, text: "Paris" }, { start: 9, text: "paris" }] }), [])).toBe("Paris | paris");
    expect(targetText(example({ text: "A short summary." }), [])).toBe("A short summary.");
  });
});

describe("heldOut", () => {
  it("counts no held-out examples for a task scored on another task", () => {
    expect(heldOut({ dev_task: "rt_test", dev_size: 500 })).toEqual({ devSize: 0 });
    expect(heldOut({ dev_size: 500 })).toEqual({ devSize: 500 });
    expect(heldOut({ seed: 3 })).toEqual({});
    expect(heldOut(undefined)).toEqual({});
  });
});

describe("deleting imported tasks", () => {
  const all = [
    { name: "mnli", origin: "imported" as const, split: { dev_task: "mnli_validation_matched" } },
    { name: "mnli_validation_matched", origin: "imported" as const, split: {} },
    { name: "sst2", origin: "imported" as const },
  ];

  it("takes the tasks scored on a dev task with it", () => {
    expect(tasksToDelete({ name: "mnli_validation_matched" }, all)).toEqual(["mnli_validation_matched", "mnli"]);
    expect(tasksToDelete({ name: "mnli" }, all)).toEqual(["mnli"]);
    expect(tasksToDelete({ name: "sst2" }, all)).toEqual(["sst2"]);
  });

  it("asks naming what goes", () => {
    expect(deleteTasksQuestion(["sst2"], 67349)).toBe(
      "Delete the imported task “sst2” (67,349 examples) for good? Runs that trained on it keep their records; importing it again brings it back.",
    );
    expect(deleteTasksQuestion(["mnli_validation_matched", "mnli"], 402517)).toMatch(/^Delete the imported task “mnli_validation_matched” with “mnli”, which is scored on it \(402,517 examples\) for good\?/);
  });

  it("says what went and which runs trained on it", () => {
    expect(deletedTasksText({ tasks: ["sst2"], examples: 67349, runs: [] })).toBe("Deleted task “sst2”: 67,349 examples.");
    expect(deletedTasksText({ tasks: ["mnli", "mnli_validation_matched"], examples: 402517, runs: [3, 8] })).toBe(
      "Deleted tasks “mnli”, “mnli_validation_matched”: 402,517 examples. Runs 3, 8 trained on them and keep their records; resuming needs the task imported again.",
    );
  });
});

describe("tokensText", () => {
  const lengths = { measured: 5000, examples: 54668, lengths: { count: 5000, min: 19, p50: 54, p90: 84, p99: 133, max: 306 }, over: [[64, 0.295], [128, 0.011], [256, 0.0002], [512, 0]] as [number, number][] };

  it("says the percentiles, the sample and the share over each max length", () => {
    expect(tokensText(lengths, "pair")).toBe("Tokens (a sample of 5,000): median 54, 90% 84, 99% 133, longest 306. Longer than 64: 29.5%, 128: 1.1%, 256: <0.1%, 512: 0.0% (cut at that max length).");
  });

  it("reads a span task's long passages in windows, and names no sample when all were measured", () => {
    expect(tokensText({ ...lengths, measured: 40, examples: 40 }, "span")).toMatch(/^Tokens: median 54, .*\(read in several windows at that max length\)\.$/);
  });
});
