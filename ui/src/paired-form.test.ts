import { describe, expect, it } from "vitest";
import type { Paired } from "./api";
import { differingRow, pairedFigures, pairedSummary, pairedTasks, valueText } from "./paired-form";

const paired: Paired = {
  metric: "accuracy",
  examples: 24,
  only_in_a: 0,
  only_in_b: 0,
  a: 0.5,
  b: 0.625,
  difference: 0.125,
  interval: [-0.0417, 0.2917],
  bootstrap_p: 0.12,
  resamples: 1000,
  seed: 0x5eed,
  agreement: { both_right: 10, only_a: 2, only_b: 5, both_wrong: 7, mcnemar_p: 0.453125 },
  differing: 7,
  shown: [],
};

describe("pairedTasks", () => {
  it("keeps the tasks both runs trained on, in the first run's order, once each", () => {
    expect(pairedTasks(["rte", "sst2", "mnli", "rte"], ["mnli", "rte"])).toEqual(["rte", "mnli"]);
    expect(pairedTasks(["rte"], ["sst2"])).toEqual([]);
  });
});

describe("pairedSummary", () => {
  it("says what was compared, the difference with its interval, and the test", () => {
    expect(pairedSummary(paired, [3, 5])).toBe(
      "24 examples both scored: run 5 − run 3 = +0.1250 accuracy (95% interval −0.0417 to +0.2917 over 1000 paired bootstrap resamples); both right on 10, both wrong on 7; McNemar's exact test p = 0.4531.",
    );
  });

  it("counts the examples left out, and has no test for regression", () => {
    const regression = { ...paired, metric: "pearson", difference: -0.02, agreement: null, only_in_a: 3, only_in_b: 1 };
    expect(pairedSummary(regression, [3, 5])).toBe(
      "24 examples both scored (4 scored by one run only left out): run 5 − run 3 = −0.0200 pearson (95% interval −0.0417 to +0.2917 over 1000 paired bootstrap resamples).",
    );
  });
});

describe("pairedFigures", () => {
  it("gives the metric of each, how many each gets right, and where only it is right", () => {
    expect(pairedFigures(paired)).toEqual([
      { key: "metric", label: "accuracy", a: "0.5000", b: "0.6250" },
      { key: "right", label: "right", a: "12", b: "15" },
      { key: "only", label: "right where the other is wrong", a: "2", b: "5" },
    ]);
    expect(pairedFigures({ ...paired, agreement: null })).toHaveLength(1);
  });
});

describe("differingRow", () => {
  it("reads a pair's texts and marks each prediction right or wrong", () => {
    expect(differingRow({ example: 4, text: "a", text_b: "b", gold: "yes", a: "no", b: "yes", a_right: false, b_right: true })).toEqual({
      example: "4",
      input: "a / b",
      gold: "yes",
      a: "no ✗",
      b: "yes ✓",
    });
  });

  it("shows a span's question with its answers once each, a value rounded", () => {
    expect(differingRow({ example: 9, text: "Who?", text_b: "A long passage", gold: ["Tesla", "Tesla", "Nikola Tesla"], a: "Tesla", b: "Edison", a_right: true, b_right: false }).input).toBe("Who?");
    expect(valueText(["Tesla", "Tesla", "Nikola Tesla"])).toBe("Tesla | Nikola Tesla");
    expect(valueText(0.12345)).toBe("0.123");
    expect(valueText(2)).toBe("2");
    expect(differingRow({ example: 1, text: "x", gold: 0.5, a: 0.25, b: 0.75 }).a).toBe("0.250");
  });
});
