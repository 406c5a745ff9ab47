// Overlaps between tasks (inputs they share, from the app's stored check) in words: per
// task on the Tasks page, and as warnings for the tasks selected in the mixture builder.
import type { TaskEntry, TaskOverlap } from "./api";
import { formatCount } from "./runs-format";

export function formatPercent(percent: number): string {
  if (percent > 0 && percent < 0.1) return "<0.1%";
  return `${percent >= 10 ? percent.toFixed(0) : percent.toFixed(1)}%`;
}

/** "rt_fresh_rotten 97% (10 283)". */
export function overlapText(o: TaskOverlap): string {
  return `${o.other} ${formatPercent(o.percent)} (${formatCount(o.shared)})`;
}

/** One short line for the Tasks table: the `most` largest shares (the preview lists all). */
export function overlapsSummary(task: TaskEntry, most = 2): string {
  if (task.overlaps === null) return "not checked";
  if (task.overlaps.length === 0) return "none";
  const shown = task.overlaps.slice(0, most).map(overlapText).join("; ");
  const more = task.overlaps.length - most;
  return more > 0 ? `${shown}; +${more} more` : shown;
}

/**
 * A warning for each pair of selected tasks sharing inputs, naming both and the share of
 * each side, the pair with the largest share first.
 */
export function mixtureOverlapWarnings(selected: readonly string[], tasks: readonly TaskEntry[]): string[] {
  const chosen = new Set(selected);
  const byName = new Map(tasks.map((t) => [t.name, t]));
  const found: { percent: number; text: string }[] = [];
  const seen = new Set<string>();
  for (const name of selected) {
    for (const o of byName.get(name)?.overlaps ?? []) {
      if (!chosen.has(o.other)) continue;
      const key = [o.task, o.other].sort().join("\u0000");
      if (seen.has(key)) continue;
      seen.add(key);
      const back = byName.get(o.other)?.overlaps?.find((b) => b.other === o.task);
      const other = back ? `, ${formatPercent(back.percent)} of ${o.other}` : "";
      found.push({
        percent: Math.max(o.percent, back?.percent ?? 0),
        text: `${o.task} and ${o.other} share ${formatCount(o.shared)} inputs (${formatPercent(o.percent)} of ${o.task}${other}): examples found in both are trained on twice, and a dev set may hold training examples.`,
      });
    }
  }
  return found.sort((a, b) => b.percent - a.percent).map((f) => f.text);
}

/**
 * A warning for each selected task scored on another task (its split policy's dev_task)
 * whose inputs are also in a selected task: those dev scores measure memorisation. The
 * engine warns the same at the run's start.
 */
export function devOverlapWarnings(selected: readonly string[], tasks: readonly TaskEntry[]): string[] {
  const chosen = new Set(selected);
  const byName = new Map(tasks.map((t) => [t.name, t]));
  const out: string[] = [];
  for (const name of selected) {
    const dev = byName.get(name)?.split?.dev_task;
    if (!dev) continue;
    for (const o of byName.get(dev)?.overlaps ?? []) {
      if (!chosen.has(o.other)) continue;
      out.push(`${dev}, on which ${name} is scored, shares ${formatCount(o.shared)} inputs (${formatPercent(o.percent)} of it) with ${o.other}, a task of this mixture: those dev scores measure memorisation.`);
    }
  }
  return out;
}

/** The selected tasks the stored check did not cover (their overlaps are unknown). */
export function uncheckedTasks(selected: readonly string[], tasks: readonly TaskEntry[]): string[] {
  const byName = new Map(tasks.map((t) => [t.name, t]));
  return selected.filter((n) => byName.get(n)?.overlaps === null);
}
