// The Runs page's "Which settings matter" panel (`muppet runs importance`): the figures it
// offers and how each setting's row reads.
import type { RunImportance, SettingImportance } from "./api";
import type { ColumnKey } from "./runs-table";

/** The figures a setting's importance can be told of: the runs' figures but the system readings. */
export function importanceFigures(available: readonly ColumnKey[]): string[] {
  return available.filter((k) => k.startsWith("metric:")).map((k) => k.slice(k.indexOf(":") + 1)).filter((m) => !m.startsWith("system "));
}

/** One setting's row: its share as text and as a bar's width in percent, its correlation and its values. */
export interface ImportanceRow {
  name: string;
  share: string;
  width: number;
  correlation: string;
  values: string;
}

export function importanceRow(s: SettingImportance): ImportanceRow {
  const share = s.importance === null ? "-" : s.importance.toFixed(2);
  const width = s.importance === null ? 0 : Math.round(Math.min(1, Math.max(0, s.importance)) * 100);
  const correlation = s.correlation === null ? "-" : `${s.correlation >= 0 ? "+" : "−"}${Math.abs(s.correlation).toFixed(2)}`;
  let values = `${s.values} value${s.values === 1 ? "" : "s"}`;
  if (s.binned) values += ` in ${s.groups - (s.missing > 0 ? 1 : 0)} bins`;
  if (s.missing > 0) values += `, ${s.missing} run${s.missing === 1 ? "" : "s"} without`;
  return { name: s.name, share, width, correlation, values };
}

/** What the panel says over its table: the runs told of, those left out and the settings that never change. */
export function importanceSummary(found: RunImportance): string {
  const n = found.runs.length;
  let text = `${n} run${n === 1 ? "" : "s"} with a value of ${found.figure}`;
  if (found.left_out.length > 0) text += `; ${found.left_out.length} left out without one`;
  text += ".";
  if (found.settings.length === 0) text += " No setting differs among them.";
  if (found.constant.length > 0) text += ` The same in every run: ${found.constant.join(", ")}.`;
  return text;
}
