import { describe, expect, it } from "vitest";
import type { TaskFamily } from "./api";
import { calibrationRows, evalRequest, evalTaskOptions, exampleOptions, headOptions, missRow } from "./eval-form";

const task = (name: string, family: TaskFamily, labels: string[] = [], extra: { downstream?: boolean; not_trained?: string | null } = {}) => ({
  name,
  family,
  labels,
  downstream: extra.downstream ?? false,
  not_trained: extra.not_trained ?? null,
});

const sarcasm = task("sarcasm_headlines", "single", ["not_sarcastic", "sarcastic"]);
const wikihow = task("wikihow_goal_step", "mc");
const vader = task("vader_movies", "regression");
const run = [sarcasm, wikihow, vader];

describe("headOptions", () => {
  it("offers a task of the run its own head, then the heads it may borrow", () => {
    expect(headOptions(sarcasm, run)).toEqual([{ value: "", label: "its own head" }]);
    const rt = task("rt", "single", ["fresh", "rotten"]);
    expect(headOptions(rt, [...run, rt])).toEqual([
      { value: "", label: "its own head" },
      { value: "sarcasm_headlines", label: "the head of sarcasm_headlines" },
    ]);
  });

  it("scores another task through the shared head of its family or a classifier of as many classes", () => {
    expect(headOptions(task("strategyqa", "mc"), run)).toEqual([{ value: "", label: "the shared multiple-choice head" }]);
    expect(headOptions(task("winowhy", "single", ["correct", "incorrect"]), run)).toEqual([{ value: "sarcasm_headlines", label: "the head of sarcasm_headlines" }]);
    expect(headOptions(task("vader_nyt", "regression"), run)).toEqual([{ value: "vader_movies", label: "the head of vader_movies" }]);
    // Nothing of the run scores these: five classes, and spans without a span task.
    expect(headOptions(task("bbc_news", "single", ["a", "b", "c", "d", "e"]), run)).toEqual([]);
    expect(headOptions(task("squad_nyt", "span"), run)).toEqual([]);
  });
});

describe("evalTaskOptions", () => {
  it("lists the run's tasks first, then the tasks a head of the run scores", () => {
    const tasks = [
      task("winowhy", "single", ["correct", "incorrect"], { downstream: true }),
      task("bbc_news", "single", ["a", "b", "c", "d", "e"], { downstream: true }),
      task("cnn_dailymail", "generation", [], { not_trained: "writing a summary needs a decoder" }),
      task("strategyqa", "mc"),
      ...run,
    ];
    expect(evalTaskOptions(tasks, ["vader_movies", "sarcasm_headlines", "wikihow_goal_step"])).toEqual([
      { name: "vader_movies", label: "vader_movies — trained on by this run" },
      { name: "sarcasm_headlines", label: "sarcasm_headlines — trained on by this run" },
      { name: "wikihow_goal_step", label: "wikihow_goal_step — trained on by this run" },
      { name: "strategyqa", label: "strategyqa" },
      { name: "winowhy", label: "winowhy (downstream)" },
    ]);
  });
});

describe("exampleOptions and evalRequest", () => {
  it("offers the run's dev and training examples of its own tasks only", () => {
    expect(exampleOptions("sarcasm_headlines", ["sarcasm_headlines"]).map((o) => o.value)).toEqual(["dev", "train", "all"]);
    expect(exampleOptions("winowhy", ["sarcasm_headlines"]).map((o) => o.value)).toEqual(["all"]);
  });

  it("leaves the defaults to muppet eval", () => {
    expect(evalRequest(4, { task: "winowhy", step: "", examples: "", head: "sarcasm_headlines" })).toEqual({ run: 4, step: null, task: "winowhy", examples: null, head: "sarcasm_headlines" });
    expect(evalRequest(4, { task: "rt", step: "30", examples: "train", head: "" })).toEqual({ run: 4, step: 30, task: "rt", examples: "train", head: null });
  });
});

describe("missRow", () => {
  it("reads a classification, a multiple-choice, a span and a regression prediction", () => {
    expect(missRow({ example: 7, text: "a", text_b: "b", label: "fresh", predicted: "rotten", probabilities: [0.3, 0.7], correct: false })).toEqual({
      example: "7",
      input: "a / b",
      gold: "fresh",
      predicted: "rotten",
      detail: "p = 0.700",
    });
    const mc = missRow({ example: 1, text: "goal?", choices: ["x", "y"], label: 0, predicted: 1, probabilities: [0.4, 0.6], correct: false });
    expect(mc).toMatchObject({ input: "goal?", gold: "0: x", predicted: "1: y" });
    const span = missRow({ example: 2, text: "Who?", text_b: "A long passage", answers: ["Ada", "Ada L."], predicted: "Bob", f1: 0, exact_match: false });
    expect(span).toMatchObject({ input: "Who?", gold: "Ada | Ada L.", predicted: "Bob", detail: "F1 0.00" });
    expect(missRow({ example: 3, text: "ok", label: 2.5, predicted: 0.25, error: -2.25 })).toMatchObject({ gold: "2.500", predicted: "0.250", detail: "error -2.250" });
  });

  it("clips long inputs", () => {
    expect(missRow({ example: 0, text: "x".repeat(500), label: "a", predicted: "b" }).input).toHaveLength(200);
  });
});

describe("calibrationRows", () => {
  it("says the figures, then each bin's range, examples, confidence, accuracy and gap", () => {
    const { caption, rows } = calibrationRows({
      ece: 0.27333,
      mce: 0.6,
      brier: 0.3704,
      confidence: 0.69333,
      accuracy: 0.66667,
      bins: [
        { low: 0.5, high: 0.6, examples: 1, confidence: 0.55, accuracy: 0 },
        { low: 0.6, high: 0.7, examples: 2, confidence: 0.675, accuracy: 0.5 },
        { low: 0.9, high: 1, examples: 1, confidence: 0.96, accuracy: 1 },
      ],
    });
    expect(caption).toBe("Calibration: ECE 0.2733, MCE 0.6000, Brier 0.3704; mean confidence 0.693 against accuracy 0.667");
    expect(rows).toEqual([
      { bin: "0.5", range: "(0.5, 0.6]", examples: "1", confidence: "0.550", accuracy: "0.000", gap: "−0.550" },
      { bin: "0.6", range: "(0.6, 0.7]", examples: "2", confidence: "0.675", accuracy: "0.500", gap: "−0.175" },
      { bin: "0.9", range: "(0.9, 1.0]", examples: "1", confidence: "0.960", accuracy: "1.000", gap: "+0.040" },
    ]);
  });
});
