import { describe, expect, it } from "vitest";
import type { Predicted, TaskFamily } from "./api";
import { answerRows, predictFields, predictRequest, predictTaskOptions } from "./predict-form";

const task = (name: string, family: TaskFamily, labels: string[] = [], not_trained: string | null = null) => ({ name, family, labels, not_trained });

const sarcasm = task("sarcasm_headlines", "single", ["not_sarcastic", "sarcastic"]);
const vitaminc = task("vitaminc", "pair", ["SUPPORTS", "REFUTES", "NOT ENOUGH INFO"]);
const wikihow = task("wikihow_goal_step", "mc");
const squad = task("squad_dev", "span");
const summaries = task("xsum", "generation", [], "generation tasks are not trained");

describe("predictTaskOptions", () => {
  it("offers the run's tasks in its order, saying what each head does, and leaves out tasks it cannot find or train", () => {
    const options = predictTaskOptions([sarcasm, vitaminc, wikihow, squad, summaries], ["wikihow_goal_step", "sarcasm_headlines", "gone", "xsum", "squad_dev"]);
    expect(options).toEqual([
      { name: "wikihow_goal_step", label: "wikihow_goal_step — picks among choices" },
      { name: "sarcasm_headlines", label: "sarcasm_headlines — classifies a text (not_sarcastic, sarcastic)" },
      { name: "squad_dev", label: "squad_dev — answers from a passage" },
    ]);
  });
});

describe("predictFields", () => {
  it("asks each family for what its head reads", () => {
    expect(predictFields("single")).toEqual({ text: "Text", textB: null, optional: false, choices: false });
    expect(predictFields("pair").textB).toBe("Second text");
    expect(predictFields("regression")).toMatchObject({ textB: "Second text (of a pair)", optional: true });
    expect(predictFields("mc")).toMatchObject({ text: "Context or question", textB: null, choices: true });
    expect(predictFields("span")).toMatchObject({ text: "Question", textB: "Passage", optional: false });
  });
});

describe("predictRequest", () => {
  const form = { task: "vitaminc", step: "", text: "The film grossed $10M.", textB: "The film made money.", choices: "" };

  it("reads a pair, the latest checkpoint as null", () => {
    expect(predictRequest(7, "pair", form)).toEqual({
      request: { run: 7, step: null, task: "vitaminc", text: "The film grossed $10M.", text_b: "The film made money.", choices: [] },
    });
  });

  it("reads a step, and drops a second text a single-text task does not read", () => {
    const read = predictRequest(7, "single", { ...form, task: "sarcasm_headlines", step: "40" });
    expect(read).toEqual({ request: { run: 7, step: 40, task: "sarcasm_headlines", text: "The film grossed $10M.", text_b: null, choices: [] } });
  });

  it("reads choices one per line, blank lines left out", () => {
    const read = predictRequest(3, "mc", { ...form, task: "wikihow_goal_step", textB: "", choices: "Boil water\n\n  Buy tea \n" });
    expect(read).toEqual({ request: { run: 3, step: null, task: "wikihow_goal_step", text: "The film grossed $10M.", text_b: null, choices: ["Boil water", "Buy tea"] } });
  });

  it("names what is missing", () => {
    expect(predictRequest(1, "pair", { ...form, task: "" })).toEqual({ problem: "Pick a task whose head answers." });
    expect(predictRequest(1, "span", { ...form, text: "  " })).toEqual({ problem: "Type the question." });
    expect(predictRequest(1, "pair", { ...form, textB: " " })).toEqual({ problem: "Type the second text." });
    expect(predictRequest(1, "span", { ...form, textB: "" })).toEqual({ problem: "Type the passage." });
    expect(predictRequest(1, "mc", { ...form, choices: "only one" })).toEqual({ problem: "Give at least two choices, one per line." });
    expect("request" in predictRequest(1, "regression", { ...form, textB: "" })).toBe(true);
  });
});

describe("answerRows", () => {
  const base = { run: 2, step: 40, checkpoint: "/x/model-step40.mpk", task: "t", family: "single", head: "classifiers.0", seconds: 0.1 };

  it("ranks the classes by probability, the predicted one marked", () => {
    const result: Predicted = {
      ...base,
      answers: [{ kind: "class", predicted: 2, labels: ["SUPPORTS", "REFUTES", "NOT ENOUGH INFO"], probabilities: [0.25, 0.15, 0.6] }],
      inputs: [{ text: "a", text_b: "b" }],
    };
    expect(answerRows(result)).toEqual({
      headline: "NOT ENOUGH INFO (p = 0.600)",
      rows: [
        { label: "NOT ENOUGH INFO", probability: 0.6, predicted: true },
        { label: "SUPPORTS", probability: 0.25, predicted: false },
        { label: "REFUTES", probability: 0.15, predicted: false },
      ],
    });
  });

  it("numbers the choices with their texts", () => {
    const result: Predicted = { ...base, answers: [{ kind: "choice", predicted: 0, probabilities: [0.7, 0.3] }], inputs: [{ text: "q", choices: ["Boil water", "Buy tea"] }] };
    expect(answerRows(result)).toEqual({
      headline: "1. Boil water (p = 0.700)",
      rows: [
        { label: "1. Boil water", probability: 0.7, predicted: true },
        { label: "2. Buy tea", probability: 0.3, predicted: false },
      ],
    });
  });

  it("gives a value, an answer span or its absence as a headline alone", () => {
    const one = (answer: Predicted["answers"][number]) => answerRows({ ...base, answers: [answer], inputs: [{ text: "q" }] });
    expect(one({ kind: "value", value: 0.123456 })).toEqual({ headline: "0.1235", rows: [] });
    expect(one({ kind: "span", answer: "in 1066", score: 7.512 })).toEqual({ headline: "“in 1066” (score 7.51: start + end logit)", rows: [] });
    expect(one({ kind: "span", answer: "", score: null }).headline).toBe("No answer: no window held a token of the passage.");
  });
});
