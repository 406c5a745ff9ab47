import { describe, expect, it } from "vitest";
import { commonHeads, scoredLine, scoreModelsRequest, scoringExamples, scoringTasks } from "./experiment-scoring";

const task = (name: string, family: string, labels: string[] = [], downstream = false) => ({ name, family, labels, downstream, not_trained: null });
const tasks = [
  task("rte", "pair", ["entailment", "not_entailment"]),
  task("sst", "single", ["negative", "positive"]),
  task("boolq", "pair", ["no", "yes"], true),
  task("mnli", "pair", ["e", "n", "c"]),
  task("copa", "mc", [], true),
  task("squad", "span"),
  task("summaries", "generation", [], true),
].map((t) => (t.family === "generation" ? { ...t, not_trained: "generation tasks are not trained" } : t)) as Parameters<typeof scoringTasks>[0];
const models = [
  { run: 4, name: "k: pre-finetune pft (tasks_per_update=1)", tasks: ["rte", "sst"] },
  { run: 5, name: "k: pre-finetune 2 tasks", tasks: ["rte", "squad"] },
];

describe("scoring the pre-finetuned models", () => {
  it("offers the tasks every model has a head for, held-out ones first", () => {
    expect(scoringTasks(tasks, models)).toEqual([
      { name: "boolq", label: "boolq (downstream)" },
      { name: "sst", label: "sst" },
      { name: "rte", label: "rte — trained on by every model" },
    ]);
    // squad: only run 5 has the span head; mnli: no model has a 3-class head; copa: no multiple-choice head.
    expect(scoringTasks(tasks, [models[1]!]).map((t) => t.name)).toEqual(["boolq", "sst", "rte", "squad"]);
    expect(scoringTasks(tasks, [])).toEqual([]);
  });
  it("offers the heads every model has", () => {
    const boolq = tasks.find((t) => t.name === "boolq")!;
    expect(commonHeads(boolq, tasks, models)).toEqual([{ value: "rte", label: "the head of rte" }]);
    expect(commonHeads(boolq, tasks, [models[0]!]).map((h) => h.value)).toEqual(["rte", "sst"]);
    const rte = tasks.find((t) => t.name === "rte")!;
    expect(commonHeads(rte, tasks, models)[0]).toEqual({ value: "", label: "its own head" });
  });
  it("scores each model's own dev examples only of a task they all trained on", () => {
    expect(scoringExamples("rte", models).map((e) => e.value)).toEqual(["dev", "train", "all"]);
    expect(scoringExamples("sst", models).map((e) => e.value)).toEqual(["all"]);
    expect(scoringExamples("rte", []).map((e) => e.value)).toEqual(["all"]);
  });
  it("asks for what the form says and reads a result as a line", () => {
    expect(scoreModelsRequest(3, { task: "boolq", examples: "", head: "rte" })).toEqual({ experiment: 3, task: "boolq", examples: null, head: "rte" });
    expect(scoredLine({ run: 4, step: 40, scores: [{ metric: "accuracy", value: 0.625 }, { metric: "mcc", value: Number.NaN }] })).toBe("run 4 (step 40): accuracy 0.625, mcc n/a");
  });
});
