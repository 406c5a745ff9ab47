// What a task spec says, as the pages use it: whether it can be trained (the one rule every
// task picker follows, in the engine's words: TaskEntry.not_trained), and its recorded
// fields, own split policy and an example's target in words. Pure, so it is unit-tested.
import type { DeletedTasks, Example, FieldMap, SplitPolicy, TaskEntry, TokenLengths } from "./api";

/** Why the task cannot be trained (picked for a mixture or a fine-tune), as the engine says it; null when it can. */
export const whyNotTrained = (task: Pick<TaskEntry, "not_trained">): string | null => task.not_trained ?? null;

/** The roles of a field map in the order the app's FieldMap::pairs gives them. */
const ROLES: (keyof FieldMap)[] = ["text", "text_b", "label", "question", "choices", "context", "answer_start", "answer_text", "target"];

/** "text → article, target → highlights"; null when no field was recorded. */
export function recordedFields(fields: FieldMap | undefined | null): string | null {
  if (!fields) return null;
  const pairs = ROLES.filter((role) => typeof fields[role] === "string" && fields[role] !== "").map((role) => `${role} → ${fields[role]}`);
  return pairs.length > 0 ? pairs.join(", ") : null;
}

/** The dev examples a task holds out of its own examples, as the experiment builder counts them: none when it is scored on another task, its own dev size when it has one, else absent (each run's). */
export function heldOut(split: SplitPolicy | undefined | null): { devSize?: number } {
  if (typeof split?.dev_task === "string" && split.dev_task !== "") return { devSize: 0 };
  return typeof split?.dev_size === "number" ? { devSize: split.dev_size } : {};
}

/** "500 dev examples, seed 7" (the unset half is each run's), or "scored on task X" first; null when the task has no split of its own. */
export function splitPolicyText(split: SplitPolicy | undefined | null): string | null {
  const dev = split?.dev_size;
  const seed = split?.seed;
  const hasDev = typeof dev === "number";
  const hasSeed = typeof seed === "number";
  if (typeof split?.dev_task === "string" && split.dev_task !== "") {
    const size = hasDev ? `${dev.toLocaleString("en-US")} of its examples` : "the run's dev size of its examples";
    return `scored on task ${split.dev_task} (${size}${hasSeed ? `, seed ${seed}` : ""}); all of its own train`;
  }
  if (!hasDev && !hasSeed) return null;
  const devText = hasDev ? `${dev.toLocaleString("en-US")} dev example${dev === 1 ? "" : "s"}` : "the run's dev size";
  const seedText = hasSeed ? `seed ${seed}` : "the run's split seed";
  return `${devText}, ${seedText}`;
}

/** An example's target as the preview shows it: the class, value, choice, answer(s) or text to write. */
export function targetText(example: Example, labels: string[]): string {
  const [kind, value] = Object.entries(example.target)[0] ?? ["", null];
  if (kind === "class" && typeof value === "number") return labels[value] ?? String(value);
  if (kind === "choice" && typeof value === "number") return example.choices[value] ?? String(value);
  if (kind === "span" && Array.isArray(value)) return value.map((a) => (a as { text: string }).text).join(" | ");
  if (kind === "text" && typeof value === "string") return value;
  return String(value);
}

/** The imported tasks that go when `task` is deleted: itself, then every imported task scored on it (its dev task may not go alone). */
export function tasksToDelete(task: Pick<TaskEntry, "name">, all: Pick<TaskEntry, "name" | "origin" | "split">[]): string[] {
  return [task.name, ...all.filter((t) => t.origin === "imported" && t.name !== task.name && t.split?.dev_task === task.name).map((t) => t.name)];
}

/** The question asked before imported tasks are deleted; `examples`: theirs, all together. */
export function deleteTasksQuestion(names: string[], examples: number): string {
  const [first, ...scored] = names;
  const with_ = scored.length === 0 ? "" : ` with ${scored.map((n) => `“${n}”`).join(", ")}, which ${scored.length === 1 ? "is" : "are"} scored on it`;
  return (
    `Delete the imported task “${first}”${with_} (${examples.toLocaleString("en-US")} examples) for good? ` +
    "Runs that trained on it keep their records; importing it again brings it back."
  );
}

/** What a deletion of imported tasks removed, in one sentence. */
export function deletedTasksText(deleted: DeletedTasks): string {
  const names = deleted.tasks.map((t) => `“${t}”`).join(", ");
  const runs =
    deleted.runs.length === 0
      ? ""
      : ` ${deleted.runs.length === 1 ? "Run" : "Runs"} ${deleted.runs.join(", ")} trained on ${deleted.tasks.length === 1 ? "it" : "them"} and keep their records; resuming needs the task imported again.`;
  return `Deleted ${deleted.tasks.length === 1 ? "task" : "tasks"} ${names}: ${deleted.examples.toLocaleString("en-US")} examples.${runs}`;
}

/** A share as a percentage to one decimal, a trace as "<0.1%". */
export function shareText(share: number): string {
  return share > 0 && share < 0.001 ? "<0.1%" : `${(100 * share).toFixed(1)}%`;
}

/** A task's lengths in tokens in one line: the percentiles, the sample, and the share longer than each max length (cut there; a span task's passage read in windows). */
export function tokensText(t: TokenLengths, family: string): string {
  const l = t.lengths;
  const sample = t.measured < t.examples ? ` (a sample of ${t.measured.toLocaleString("en-US")})` : "";
  const over = t.over.map(([m, share]) => `${m}: ${shareText(share)}`).join(", ");
  const what = family === "span" ? "read in several windows" : "cut";
  return `Tokens${sample}: median ${l.p50}, 90% ${l.p90}, 99% ${l.p99}, longest ${l.max}. Longer than ${over} (${what} at that max length).`;
}
