// Pure logic of the runs table beyond formatting: progress, filtering, sorting.
import type { RunListRow, RunStatus } from "./api";
import { MISSING } from "./runs-format";

/** Fraction of the planned steps done, when both are known. */
export function progressFraction(row: RunListRow): number | null {
  if (row.status === "completed") return 1;
  if (!row.total_steps || row.last_step === null) return null;
  return Math.min(1, row.last_step / row.total_steps);
}

/** "12 / 30" steps, or what the worker is doing; a run completed before its last step stopped early. */
export function progressText(row: RunListRow): string {
  if (row.worker === "waiting") return "waiting for a slot";
  if (row.worker === "cancelling") return "cancelling…";
  if (row.total_steps === null) return MISSING;
  const steps = `${row.last_step ?? 0} / ${row.total_steps}`;
  return row.status === "completed" && row.last_step !== null && row.last_step < row.total_steps ? `${steps}, stopped early` : steps;
}

export interface RunFilter {
  /** Empty: every status. */
  statuses: RunStatus[];
  /** Case-insensitive part of the name or the id. */
  text: string;
  /** Only runs with this tag; empty or absent: every run. */
  tag?: string;
  /** Only these runs (those a settings-and-figures filter matched); absent or null: every run. */
  ids?: ReadonlySet<number> | null;
}

export function filterRuns(rows: readonly RunListRow[], filter: RunFilter): RunListRow[] {
  const text = filter.text.trim().toLowerCase();
  return rows.filter(
    (r) =>
      (filter.statuses.length === 0 || filter.statuses.includes(r.status)) &&
      (text === "" || r.name.toLowerCase().includes(text) || String(r.id) === text) &&
      (!filter.tag || r.tags.includes(filter.tag)) &&
      (!filter.ids || filter.ids.has(r.id)),
  );
}

/** Every tag on the runs, sorted, with how many runs carry it. */
export function tagCounts(rows: readonly RunListRow[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const r of rows) for (const t of r.tags) counts.set(t, (counts.get(t) ?? 0) + 1);
  return [...counts].sort((a, b) => a[0].localeCompare(b[0]));
}

/**
 * An optional column: a dev figure ("metric:sst2 dev accuracy", its last value; "metric:sst2
 * dev accuracy (best)", its best by the metric's goal) or a setting ("param:learning rate").
 */
export type ColumnKey = `metric:${string}` | `param:${string}`;

/** What a figure's column name ends with to show its best value (as the CSV and `--where` name it). */
export const BEST = " (best)";

/** A run's figures of a metric column: the named figure, and whether the column is its best. */
function figureOf(row: RunListRow, name: string): { figures: NonNullable<RunListRow["columns"]>["metrics"][string] | undefined; best: boolean } {
  const metrics = row.columns?.metrics;
  if (metrics?.[name] || !name.endsWith(BEST)) return { figures: metrics?.[name], best: false };
  return { figures: metrics?.[name.slice(0, -BEST.length)], best: true };
}

export type RunSortKey = "id" | "name" | "status" | "points" | "last_loss" | "started_at" | "progress" | ColumnKey;

/** The optional columns the runs offer: their dev figures by name, then their settings in the order first met (the store sends them by name). */
export function availableColumns(rows: readonly RunListRow[]): ColumnKey[] {
  const metrics = new Set<string>();
  const withBest = new Set<string>();
  const params: string[] = [];
  for (const r of rows) {
    if (!r.columns) continue;
    for (const [k, m] of Object.entries(r.columns.metrics)) {
      metrics.add(k);
      if (m.best !== null) withBest.add(k);
    }
    for (const k of Object.keys(r.columns.params)) if (!params.includes(k)) params.push(k);
  }
  // Each figure with a goal offers its best beside its last value.
  const figures = [...metrics].sort().flatMap((k) => (withBest.has(k) ? [k, `${k}${BEST}`] : [k]));
  return [...figures.map((k) => `metric:${k}` as const), ...params.map((k) => `param:${k}` as const)];
}

/** A column's heading: the figure's or setting's name. */
export const columnLabel = (key: ColumnKey): string => key.slice(key.indexOf(":") + 1);

/** A run's value in a column, for sorting: a dev figure's last value, a setting's number or its text. */
export function columnValue(row: RunListRow, key: ColumnKey): number | string | null {
  const name = columnLabel(key);
  if (key.startsWith("metric:")) {
    const { figures, best } = figureOf(row, name);
    return (best ? figures?.best : figures?.last) ?? null;
  }
  const value = row.columns?.params[name];
  if (value === undefined || value === null) return null;
  if (typeof value === "number") return value;
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** A run's cell in a column: a dev figure to 4 decimals (its best in the title), a setting as written. */
export function columnCell(row: RunListRow, key: ColumnKey): { text: string; title?: string } {
  const name = columnLabel(key);
  if (key.startsWith("metric:")) {
    const { figures: m, best } = figureOf(row, name);
    if (best) return m && m.best !== null ? { text: m.best.toFixed(4), title: `best${m.last === null ? "" : `; last ${m.last.toFixed(4)} at step ${m.step}`}` } : { text: MISSING };
    if (!m || m.last === null) return { text: MISSING };
    return { text: m.last.toFixed(4), title: `last at step ${m.step}${m.best === null ? "" : `; best ${m.best.toFixed(4)}`}` };
  }
  const value = row.columns?.params[name];
  if (value === undefined || value === null) return { text: MISSING };
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return { text: String(value) };
  // An object setting: `{"temperature": 2}` reads as `temperature 2`.
  const entries = Object.entries(value as Record<string, unknown>);
  return { text: entries.map(([k, v]) => (typeof v === "object" && v !== null ? k : `${k} ${String(v)}`)).join(", "), title: JSON.stringify(value) };
}

export interface RunSort {
  key: RunSortKey;
  descending: boolean;
}

function sortValue(row: RunListRow, key: RunSortKey): number | string | null {
  if (key.startsWith("metric:") || key.startsWith("param:")) return columnValue(row, key as ColumnKey);
  switch (key) {
    case "progress":
      return progressFraction(row);
    case "last_loss":
      return row.last_loss;
    default:
      return row[key as "id" | "name" | "status" | "points" | "started_at"];
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
