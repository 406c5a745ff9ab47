// The run page's "Try it" panel (`muppet predict`): which heads of the run it offers, which
// fields each family reads, the request the form describes and how an answer reads. Pure,
// so it is unit-tested.
import type { PredictRequest, Predicted, TaskEntry } from "./api";
import type { TaskOption } from "./finetune-form";

type Task = Pick<TaskEntry, "name" | "family" | "labels" | "not_trained">;

const FAMILY_NAMES: Record<string, string> = {
  single: "classifies a text",
  pair: "classifies a pair of texts",
  regression: "scores a text or a pair",
  mc: "picks among choices",
  span: "answers from a passage",
};

/** The run's tasks whose heads can answer (in the run's order), each saying what its head does. */
export function predictTaskOptions(tasks: Task[], runTasks: string[]): TaskOption[] {
  return runTasks.flatMap((name) => {
    const task = tasks.find((t) => t.name === name && !t.not_trained);
    const does = task ? FAMILY_NAMES[task.family] : undefined;
    return task && does ? [{ name, label: `${name} — ${does}${task.labels.length > 0 ? ` (${task.labels.join(", ")})` : ""}` }] : [];
  });
}

/** The fields a task of `family` reads: the first text's name, the second's (null: none; `optional`: a pair or one text), and whether it has choices. */
export function predictFields(family: string): { text: string; textB: string | null; optional: boolean; choices: boolean } {
  switch (family) {
    case "pair":
      return { text: "First text", textB: "Second text", optional: false, choices: false };
    case "regression":
      return { text: "Text", textB: "Second text (of a pair)", optional: true, choices: false };
    case "mc":
      return { text: "Context or question", textB: null, optional: false, choices: true };
    case "span":
      return { text: "Question", textB: "Passage", optional: false, choices: false };
    default:
      return { text: "Text", textB: null, optional: false, choices: false };
  }
}

/** The request the form describes, or what is missing (named as the form names it). */
export function predictRequest(
  run: number,
  family: string,
  form: { task: string; step: string; text: string; textB: string; choices: string },
): { request: PredictRequest } | { problem: string } {
  const fields = predictFields(family);
  if (form.task === "") return { problem: "Pick a task whose head answers." };
  if (form.text.trim() === "") return { problem: `Type the ${fields.text.toLowerCase()}.` };
  const textB = fields.textB === null ? "" : form.textB.trim();
  if (fields.textB !== null && !fields.optional && textB === "") return { problem: `Type the ${fields.textB.toLowerCase()}.` };
  const choices = fields.choices ? form.choices.split("\n").map((c) => c.trim()).filter((c) => c !== "") : [];
  if (fields.choices && choices.length < 2) return { problem: "Give at least two choices, one per line." };
  return {
    request: {
      run,
      step: form.step === "" ? null : Number(form.step),
      task: form.task,
      text: form.text,
      text_b: textB === "" ? null : form.textB,
      choices,
    },
  };
}

/** One line of an answer: a class or choice, its probability and whether it is the one predicted. */
export interface AnswerRow {
  label: string;
  probability: number;
  predicted: boolean;
}

/** The answer to the first input as a headline and rows: classes and choices by probability, most likely first. */
export function answerRows(result: Predicted): { headline: string; rows: AnswerRow[] } {
  const answer = result.answers[0];
  const input = result.inputs[0];
  if (answer === undefined || input === undefined) return { headline: "No answer.", rows: [] };
  const chosen = (labels: string[], probabilities: number[], predicted: number) => `${labels[predicted] ?? ""} (p = ${(probabilities[predicted] ?? 0).toFixed(3)})`;
  const ranked = (labels: string[], probabilities: number[], predicted: number) =>
    labels
      .map((label, i) => ({ label, probability: probabilities[i] ?? 0, predicted: i === predicted }))
      .sort((a, b) => b.probability - a.probability);
  switch (answer.kind) {
    case "class":
      return { headline: chosen(answer.labels, answer.probabilities, answer.predicted), rows: ranked(answer.labels, answer.probabilities, answer.predicted) };
    case "choice": {
      const labels = (input.choices ?? []).map((c, i) => `${i + 1}. ${c}`);
      return { headline: chosen(labels, answer.probabilities, answer.predicted), rows: ranked(labels, answer.probabilities, answer.predicted) };
    }
    case "value":
      return { headline: answer.value.toFixed(4), rows: [] };
    case "span":
      return answer.score === null
        ? { headline: "No answer: no window held a token of the passage.", rows: [] }
        : { headline: `“${answer.answer}” (score ${answer.score.toFixed(2)}: start + end logit)`, rows: [] };
  }
}
