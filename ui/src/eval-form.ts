// The run page's "Score a checkpoint" form (`muppet eval`): which tasks, example sets and
// heads it offers for a run, and how a prediction reads in the table of misses. Pure, so
// it is unit-tested.
import type { Calibration, EvalRequest, TaskEntry } from "./api";
import type { TaskOption } from "./finetune-form";

type Task = Pick<TaskEntry, "name" | "family" | "labels" | "downstream" | "not_trained">;

/** The run's own tasks first (scored on the examples the run drew), then every other task that a head of the run can score. */
export function evalTaskOptions(tasks: Task[], runTasks: string[]): TaskOption[] {
  const trainable = tasks.filter((t) => !t.not_trained);
  const own = runTasks.filter((name) => trainable.some((t) => t.name === name));
  const run = trainable.filter((t) => own.includes(t.name));
  const others = trainable.filter((t) => !own.includes(t.name) && headOptions(t, run).length > 0).sort((a, b) => a.name.localeCompare(b.name));
  return [
    ...own.map((name) => ({ name, label: `${name} — trained on by this run` })),
    ...others.map((t) => ({ name: t.name, label: `${t.name}${t.downstream ? " (downstream)" : ""}` })),
  ];
}

/** Which examples a task can be scored on: the run's dev and training examples of its own tasks, or all. */
export function exampleOptions(task: string, runTasks: string[]): { value: string; label: string }[] {
  const all = { value: "all", label: "all its examples" };
  if (!runTasks.includes(task)) return [all];
  return [{ value: "dev", label: "the run's dev examples" }, { value: "train", label: "the run's training examples" }, all];
}

const classification = (t: Pick<Task, "family">) => t.family === "single" || t.family === "pair";

/**
 * The heads of the run that can score `task` (run tasks as `runTasks`): value "" is the
 * task's own head or its family's shared one; a run task's name borrows its head (a
 * classifier of as many classes, a regression head). Empty: nothing of the run scores it.
 */
export function headOptions(task: Task, runTasks: Task[]): { value: string; label: string }[] {
  const own = runTasks.some((t) => t.name === task.name);
  const out: { value: string; label: string }[] = [];
  if (own) out.push({ value: "", label: "its own head" });
  else if (task.family === "mc" && runTasks.some((t) => t.family === "mc")) out.push({ value: "", label: "the shared multiple-choice head" });
  else if (task.family === "span" && runTasks.some((t) => t.family === "span")) out.push({ value: "", label: "the shared span head" });
  for (const t of runTasks) {
    if (t.name === task.name) continue;
    const fits = classification(task) ? classification(t) && t.labels.length === task.labels.length : task.family === "regression" && t.family === "regression";
    if (fits) out.push({ value: t.name, label: `the head of ${t.name}` });
  }
  return out;
}

/** The request the form describes. */
export function evalRequest(run: number, form: { task: string; step: string; examples: string; head: string }): EvalRequest {
  return {
    run,
    step: form.step === "" ? null : Number(form.step),
    task: form.task,
    examples: form.examples === "" ? null : form.examples,
    head: form.head === "" ? null : form.head,
  };
}

/** One prediction of `muppet eval` as a row of the misses table: the example, its input, the answer, the prediction and how far off. */
export function missRow(row: Record<string, unknown>): { example: string; input: string; gold: string; predicted: string; detail: string } {
  const text = (v: unknown) => (v === undefined || v === null ? "" : typeof v === "string" ? v : JSON.stringify(v));
  const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
  const choices = Array.isArray(row.choices) ? (row.choices as unknown[]).map(text) : null;
  const answers = Array.isArray(row.answers) ? (row.answers as unknown[]).map(text) : null;
  // A span's second text is its passage: the question says what was asked.
  const input = answers || choices ? text(row.text) : [text(row.text), text(row.text_b)].filter((s) => s !== "").join(" / ");
  const pick = (v: unknown) => (choices && typeof v === "number" ? `${v}: ${clip(choices[v] ?? "", 60)}` : text(v));
  const probabilities = Array.isArray(row.probabilities) ? (row.probabilities as number[]) : null;
  let detail = "";
  if (probabilities && typeof row.predicted !== "undefined") {
    detail = `p = ${Math.max(...probabilities).toFixed(3)}`;
  } else if (typeof row.f1 === "number") {
    detail = `F1 ${row.f1.toFixed(2)}`;
  } else if (typeof row.error === "number") {
    detail = `error ${row.error >= 0 ? "+" : ""}${row.error.toFixed(3)}`;
  }
  const number = (v: unknown) => (typeof v === "number" && !Number.isInteger(v) ? v.toFixed(3) : pick(v));
  return {
    example: text(row.example),
    input: clip(input, 200),
    gold: answers ? clip(answers.join(" | "), 80) : number(row.label),
    predicted: clip(number(row.predicted), 80),
    detail,
  };
}

/** A calibration as a caption and a row per confidence bin with examples: its range, examples, mean confidence, accuracy and the gap (accuracy − confidence). */
export function calibrationRows(c: Calibration): { caption: string; rows: { bin: string; range: string; examples: string; confidence: string; accuracy: string; gap: string }[] } {
  const caption = `Calibration: ECE ${c.ece.toFixed(4)}, MCE ${c.mce.toFixed(4)}, Brier ${c.brier.toFixed(4)}; mean confidence ${c.confidence.toFixed(3)} against accuracy ${c.accuracy.toFixed(3)}`;
  const rows = c.bins.map((b) => {
    const gap = b.accuracy - b.confidence;
    return {
      bin: b.low.toFixed(1),
      range: `(${b.low.toFixed(1)}, ${b.high.toFixed(1)}]`,
      examples: String(b.examples),
      confidence: b.confidence.toFixed(3),
      accuracy: b.accuracy.toFixed(3),
      gap: `${gap >= 0 ? "+" : "−"}${Math.abs(gap).toFixed(3)}`,
    };
  });
  return { caption, rows };
}
