// Pure logic of the runs table beyond formatting: progress, filtering, sorting.
import type { RunListRow, RunStatus } from "./api";
import { MISSING } from "./runs-format";

/** Fraction of the planned steps done, when both are known. */
export function progressFraction(row: RunListRow): number | null {
  if (row.status === "completed") return 1;
  if (!row.total_steps || row.last_step === null) return null;
  return Math.min(1, row.last_step / row.total_steps);
}

/** "12 / 30" steps, or what the worker is doing. */
export function progressText(row: RunListRow): string {
  if (row.worker === "waiting") return "waiting for a slot";
  if (row.worker === "cancelling") return "cancelling…";
  if (row.total_steps === null) return MISSING;
  return `${row.last_step ?? 0} / ${row.total_steps}`;
}

export interface RunFilter {
  /** Empty: every status. */
  statuses: RunStatus[];
  /** Case-insensitive part of the name or the id. */
  text: string;
  /** Only runs with this tag; empty or absent: every run. */
  tag?: string;
}

export function filterRuns(rows: readonly RunListRow[], filter: RunFilter): RunListRow[] {
  const text = filter.text.trim().toLowerCase();
  return rows.filter(
    (r) =>
      (filter.statuses.length === 0 || filter.statuses.includes(r.status)) &&
      (text === "" || r.name.toLowerCase().includes(text) || String(r.id) === text) &&
      (!filter.tag || r.tags.includes(filter.tag)),
  );
}

/** Every tag on the runs, sorted, with how many runs carry it. */
export function tagCounts(rows: readonly RunListRow[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const r of rows) for (const t of r.tags) counts.set(t, (counts.get(t) ?? 0) + 1);
  return [...counts].sort((a, b) => a[0].localeCompare(b[0]));
}

export type RunSortKey = "id" | "name" | "status" | "points" | "last_loss" | "started_at" | "progress";

export interface RunSort {
  key: RunSortKey;
  descending: boolean;
}

function sortValue(row: RunListRow, key: RunSortKey): number | string | null {
  switch (key) {
    case "progress":
      return progressFraction(row);
    case "last_loss":
      return row.last_loss;
    default:
      return row[key];
  }
}

/** Sorted copy; missing values last in both directions, ties by id (newest first). */
export function sortRuns(rows: readonly RunListRow[], sort: RunSort): RunListRow[] {
  const sign = sort.descending ? -1 : 1;
  return rows.slice().sort((a, b) => {
    const va = sortValue(a, sort.key);
    const vb = sortValue(b, sort.key);
    if (va === null && vb === null) return b.id - a.id;
    if (va === null) return 1;
    if (vb === null) return -1;
    if (va < vb) return -sign;
    if (va > vb) return sign;
    return b.id - a.id;
  });
}
