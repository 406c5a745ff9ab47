// Pure formatting of the runs table: no DOM, no clock, no IPC, so it is unit-tested.
import { formatBytes } from "./dom";
import type { CommandError, Deleted, ImportedRun, RunKind, RunRow, RunStatus } from "./api";

/** The text of one table row, cell by cell, plus what the row needs for styling. */
export interface RunCells {
  id: string;
  name: string;
  kind: string;
  status: string;
  statusClass: string;
  statusTitle: string;
  points: string;
  lastLoss: string;
  started: string;
  startedTitle: string;
}

export type TimeZone = "local" | "utc";

const KIND_LABELS: Record<RunKind, string> = {
  pre_finetune: "Pre-finetune",
  finetune: "Fine-tune",
};

const STATUS_LABELS: Record<RunStatus, string> = {
  queued: "Queued",
  running: "Running",
  completed: "Completed",
  failed: "Failed",
  cancelled: "Cancelled",
};

export const MISSING = "—";

export function formatKind(kind: string): string {
  return KIND_LABELS[kind as RunKind] ?? kind;
}

export function formatStatus(status: string): string {
  return STATUS_LABELS[status as RunStatus] ?? status;
}

/** Thousands separated by a thin space, independent of the system locale. */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return MISSING;
  const sign = n < 0 ? "-" : "";
  const digits = String(Math.trunc(Math.abs(n)));
  return sign + digits.replace(/\B(?=(\d{3})+(?!\d))/g, "\u2009");
}

/** Four significant digits; scientific notation outside [0.001, 10000). */
export function formatLoss(value: number | null): string {
  if (value === null || Number.isNaN(value)) return MISSING;
  if (!Number.isFinite(value)) return value > 0 ? "∞" : "-∞";
  const magnitude = Math.abs(value);
  if (value !== 0 && (magnitude < 1e-3 || magnitude >= 1e4)) return value.toExponential(3);
  return value.toPrecision(4);
}

/** `YYYY-MM-DD HH:MM` of an ISO-8601 timestamp, in local time or UTC. */
export function formatTimestamp(iso: string, zone: TimeZone): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const utc = zone === "utc";
  const parts = [
    utc ? date.getUTCFullYear() : date.getFullYear(),
    (utc ? date.getUTCMonth() : date.getMonth()) + 1,
    utc ? date.getUTCDate() : date.getDate(),
    utc ? date.getUTCHours() : date.getHours(),
    utc ? date.getUTCMinutes() : date.getMinutes(),
  ].map((n) => String(n).padStart(2, "0"));
  const [year, month, day, hours, minutes] = parts;
  return `${year}-${month}-${day} ${hours}:${minutes}`;
}

export function runCells(run: RunRow, zone: TimeZone): RunCells {
  const statusTitle =
    run.status === "failed" && run.failure ? run.failure : [run.backend, run.device].filter(Boolean).join(" · ");
  return {
    id: String(run.id),
    name: run.name,
    kind: formatKind(run.kind),
    status: formatStatus(run.status),
    statusClass: `status status-${run.status}`,
    statusTitle,
    points: formatCount(run.points),
    lastLoss: formatLoss(run.last_loss),
    started: formatTimestamp(run.started_at, zone),
    startedTitle: run.ended_at ? `${run.started_at} → ${run.ended_at}` : run.started_at,
  };
}

/** "3 runs", "1 run", "No runs". */
/** "812 MB", "1.4 GB". */
/** A checkpoint in a select: its step, and the dev score when it is the run's best. */
export function checkpointLabel(step: number, best: { step: number; score: number } | null): string {
  return best !== null && best.step === step ? `step ${step} · best dev ${best.score.toFixed(3)}` : `step ${step}`;
}

export function formatMemory(mb: number): string {
  return mb >= 1024 ? `${(mb / 1024).toFixed(1)} GB` : `${Math.round(mb)} MB`;
}

/** Where a run trained and how much memory its worker took at most. */
export function resourcesText(run: Pick<RunRow, "backend" | "device">, peakMb: number | null): string {
  const where = run.backend && run.device ? `${run.backend} on ${run.device}` : run.backend ?? run.device ?? "backend not recorded";
  const memory = peakMb === null ? "peak memory not recorded" : `peak memory ${formatMemory(peakMb)}`;
  return `${where} · ${memory}`;
}

export function runsSummary(count: number): string {
  if (count === 0) return "No runs";
  return `${formatCount(count)} ${count === 1 ? "run" : "runs"}`;
}

/**
 * Normalise whatever a rejected `invoke` gives: the app's own `{kind, message}`, a plain
 * string (Tauri's own errors, e.g. a denied command), an Error (no Tauri at all).
 */
export function describeError(error: unknown): CommandError {
  if (typeof error === "object" && error !== null) {
    const { kind, message } = error as Partial<Record<string, unknown>>;
    if (typeof message === "string") {
      return { kind: typeof kind === "string" ? kind : "unknown", message };
    }
  }
  if (typeof error === "string") return { kind: "unknown", message: error };
  return { kind: "unknown", message: String(error) };
}

/** What an imported run bundle brought, in one line. */
const plural = (n: number, word: string) => `${n.toLocaleString("en-US")} ${word}${n === 1 ? "" : "s"}`;

/** The question asked before runs are deleted. */
export function deleteQuestion(runs: { id: number; name: string }[]): string {
  const named = runs.map((r) => `#${r.id} “${r.name}”`).join(", ");
  const which = runs.length === 1 ? `run ${named}` : `${runs.length} runs (${named})`;
  return `Delete ${which} for good? Their metrics, checkpoints, notes and files are removed; this cannot be undone.`;
}

/** What a deletion removed, in one sentence. */
export function deletedText(deleted: Deleted): string {
  const ids = deleted.runs.join(", ");
  const runs = deleted.runs.length === 1 ? `run ${ids}` : `runs ${ids}`;
  const what =
    deleted.experiment === null
      ? `Deleted ${runs}`
      : deleted.runs.length === 0
        ? `Deleted experiment ${deleted.experiment} (it had no runs)`
        : `Deleted experiment ${deleted.experiment} and its ${runs}`;
  return (
    `${what}: ${plural(deleted.points, "metric point")}, ${plural(deleted.checkpoints, "checkpoint")}, ` +
    `${plural(deleted.files, "file")} (${formatBytes(deleted.bytes)}).`
  );
}

export function importedText(imported: ImportedRun): string {
  const totals = `${plural(imported.points, "metric point")}, ${plural(imported.checkpoints, "checkpoint")}, ${plural(imported.files, "file")}.`;
  const [first] = imported.runs;
  if (imported.experiment === null && imported.runs.length === 1 && first) {
    return `Imported run ${first.source_run} of ${imported.source_host} as run ${first.run} ("${first.name}"): ${totals}`;
  }
  const ids = imported.runs.map((r) => r.run).join(", ");
  const runs = imported.runs.length === 1 ? `run ${ids}` : `runs ${ids}`;
  const what = imported.experiment
    ? `experiment ${imported.experiment.source_id} of ${imported.source_host} as experiment ${imported.experiment.id} ("${imported.experiment.name}") with its ${plural(imported.runs.length, "run")} (now ${runs})`
    : `${imported.runs.length} runs of ${imported.source_host} as ${runs}`;
  return `Imported ${what}: ${totals}`;
}
