// The Experiments page's "Score the pre-finetuned models" form: which tasks, heads and
// example sets every pre-finetuned model of an experiment can score with (the run page's
// rules, over each model), and how a result reads. Pure, so it is unit-tested.
import type { PrefinetunedModel, ScoreModelsRequest, TaskEntry } from "./api";
import { headOptions } from "./eval-form";
import type { TaskOption } from "./finetune-form";

type Task = Pick<TaskEntry, "name" | "family" | "labels" | "downstream" | "not_trained">;

/** Each model's tasks as task entries (the ones still known). */
function modelTasks(tasks: Task[], model: PrefinetunedModel): Task[] {
  return tasks.filter((t) => model.tasks.includes(t.name));
}

/** The heads every model has for `task`, as the run page offers them (the first model's labels). */
export function commonHeads(task: Task, tasks: Task[], models: PrefinetunedModel[]): { value: string; label: string }[] {
  const [first, ...rest] = models.map((m) => headOptions(task, modelTasks(tasks, m)));
  if (!first) return [];
  return first.filter((h) => rest.every((heads) => heads.some((o) => o.value === h.value)));
}

/** Tasks every model can score, held-out (downstream) tasks first, then the rest by name. */
export function scoringTasks(tasks: Task[], models: PrefinetunedModel[]): TaskOption[] {
  const scorable = tasks.filter((t) => !t.not_trained && commonHeads(t, tasks, models).length > 0);
  const inAll = (t: Task) => models.every((m) => m.tasks.includes(t.name));
  const order = (t: Task) => (t.downstream ? 0 : inAll(t) ? 2 : 1);
  return scorable
    .sort((a, b) => order(a) - order(b) || a.name.localeCompare(b.name))
    .map((t) => ({ name: t.name, label: `${t.name}${t.downstream ? " (downstream)" : inAll(t) ? " — trained on by every model" : ""}` }));
}

/** The examples to score: each model's own dev (or training) examples of a task they all trained on, else all of the task's. */
export function scoringExamples(task: string, models: PrefinetunedModel[]): { value: string; label: string }[] {
  const all = { value: "all", label: "all its examples" };
  if (models.length === 0 || !models.every((m) => m.tasks.includes(task))) return [all];
  return [{ value: "dev", label: "each model's dev examples" }, { value: "train", label: "each model's training examples" }, all];
}

/** The request the form describes. */
export function scoreModelsRequest(experiment: number, form: { task: string; examples: string; head: string }): ScoreModelsRequest {
  return { experiment, task: form.task, examples: form.examples === "" ? null : form.examples, head: form.head === "" ? null : form.head };
}

/** One scored model as a line: "run 4 (step 40): accuracy 0.625, macro_f1 0.611". */
export function scoredLine(result: { run: number; step: number; scores: { metric: string; value: number }[] }): string {
  const scores = result.scores.map((s) => `${s.metric} ${Number.isFinite(s.value) ? s.value.toFixed(3) : "n/a"}`).join(", ");
  return `run ${result.run} (step ${result.step}): ${scores}`;
}
