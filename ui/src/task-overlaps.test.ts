import { describe, expect, it } from "vitest";
import type { TaskEntry, TaskOverlap } from "./api";
import { devOverlapWarnings, formatPercent, mixtureOverlapWarnings, overlapsSummary, uncheckedTasks } from "./task-overlaps";

function overlap(task: string, other: string, shared: number, inputs: number): TaskOverlap {
  return { task, other, shared, inputs, percent: (100 * shared) / inputs };
}

function task(name: string, overlaps: TaskOverlap[] | null): TaskEntry {
  return {
    name,
    family: "single",
    labels: [],
    metric: "accuracy",
    source: "test",
    license: "none",
    examples: 10,
    origin: "catalog",
    downstream: false,
    overlaps,
  };
}

// The shape of the app's check on the demo assets: VADER's movie snippets are mostly
// Rotten Tomatoes sentences.
const tasks: [TaskEntry, TaskEntry, TaskEntry, TaskEntry] = [
  task("vader_movies", [overlap("vader_movies", "rt_fresh_rotten", 10283, 10600)]),
  task("rt_fresh_rotten", [overlap("rt_fresh_rotten", "vader_movies", 10283, 12700)]),
  task("sarcasm_headlines", []),
  task("my_import", null),
];

describe("overlapsSummary", () => {
  it("lists the other tasks, or says none or not checked", () => {
    expect(overlapsSummary(tasks[0])).toBe("rt_fresh_rotten 97% (10\u2009283)");
    expect(overlapsSummary(tasks[2])).toBe("none");
    expect(overlapsSummary(tasks[3])).toBe("not checked");
  });
  it("shows the largest shares and counts the rest", () => {
    const many = task("a", [overlap("a", "b", 50, 100), overlap("a", "c", 2, 100), overlap("a", "d", 1, 100)]);
    expect(overlapsSummary(many)).toBe("b 50% (50); c 2.0% (2); +1 more");
    expect(overlapsSummary(many, 3)).toBe("b 50% (50); c 2.0% (2); d 1.0% (1)");
  });
  it("keeps small shares visible", () => {
    expect(formatPercent(2.386)).toBe("2.4%");
    expect(formatPercent(0.01)).toBe("<0.1%");
    expect(formatPercent(0)).toBe("0.0%");
  });
});

describe("mixtureOverlapWarnings", () => {
  it("names both tasks and the share of each, once per pair", () => {
    expect(mixtureOverlapWarnings(["vader_movies", "rt_fresh_rotten", "sarcasm_headlines"], tasks)).toEqual([
      "vader_movies and rt_fresh_rotten share 10\u2009283 inputs (97% of vader_movies, 81% of rt_fresh_rotten): examples found in both are trained on twice, and a dev set may hold training examples.",
    ]);
    expect(mixtureOverlapWarnings(["rt_fresh_rotten", "vader_movies"], tasks)[0]).toMatch(/^rt_fresh_rotten and vader_movies share 10\u2009283 inputs \(81% of rt_fresh_rotten, 97% of vader_movies\)/);
  });
  it("says nothing when only one of the pair is selected", () => {
    expect(mixtureOverlapWarnings(["vader_movies", "sarcasm_headlines"], tasks)).toEqual([]);
  });
  it("puts the largest share first", () => {
    const three = [
      task("a", [overlap("a", "b", 1, 100), overlap("a", "c", 50, 100)]),
      task("b", [overlap("b", "a", 1, 100)]),
      task("c", [overlap("c", "a", 50, 100)]),
    ];
    expect(mixtureOverlapWarnings(["a", "b", "c"], three).map((w) => w.slice(0, 7))).toEqual(["a and c", "a and b"]);
  });
  it("lists the selected tasks whose overlaps are unknown", () => {
    expect(uncheckedTasks(["vader_movies", "my_import"], tasks)).toEqual(["my_import"]);
  });
});

describe("devOverlapWarnings", () => {
  const scored = (name: string, dev: string): TaskEntry => ({ ...task(name, []), split: { dev_task: dev } });
  const all = [
    scored("rotten_tomatoes", "rotten_tomatoes_validation"),
    task("rotten_tomatoes_validation", [overlap("rotten_tomatoes_validation", "rt_fresh_rotten", 1000, 1066), overlap("rotten_tomatoes_validation", "imdb", 3, 1066)]),
    task("rt_fresh_rotten", [overlap("rt_fresh_rotten", "rotten_tomatoes_validation", 1000, 12752)]),
    task("imdb", []),
  ];
  it("warns when a selected task's dev task shares inputs with a selected task", () => {
    expect(devOverlapWarnings(["rotten_tomatoes", "rt_fresh_rotten"], all)).toEqual([
      "rotten_tomatoes_validation, on which rotten_tomatoes is scored, shares 1\u2009000 inputs (94% of it) with rt_fresh_rotten, a task of this mixture: those dev scores measure memorisation.",
    ]);
  });
  it("says nothing when the sharing task is not in the mixture, or no task has a dev task", () => {
    expect(devOverlapWarnings(["rotten_tomatoes"], all)).toEqual([]);
    expect(devOverlapWarnings(["rt_fresh_rotten", "imdb"], all)).toEqual([]);
  });
});
