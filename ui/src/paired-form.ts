// The comparison's "Compare predictions" (`muppet eval A B --task T --paired`): which tasks
// it offers for two runs and how the comparison reads. Pure, so it is unit-tested.
import type { Paired } from "./api";

/** The tasks both runs trained on, in the first run's order. */
export function pairedTasks(a: string[], b: string[]): string[] {
  return a.filter((t, i) => b.includes(t) && a.indexOf(t) === i);
}

const signed = (v: number) => `${v >= 0 ? "+" : "−"}${Math.abs(v).toFixed(4)}`;

/** The sentence under the figures: what was compared, the difference and how sure it is. */
export function pairedSummary(p: Paired, runs: [number, number]): string {
  const [a, b] = runs;
  const left = p.only_in_a + p.only_in_b > 0 ? ` (${p.only_in_a + p.only_in_b} scored by one run only left out)` : "";
  const interval = `95% interval ${signed(p.interval[0])} to ${signed(p.interval[1])} over ${p.resamples} paired bootstrap resamples`;
  const g = p.agreement;
  const test = g ? `; both right on ${g.both_right}, both wrong on ${g.both_wrong}; McNemar's exact test p = ${g.mcnemar_p.toFixed(4)}` : "";
  return `${p.examples} examples both scored${left}: run ${b} − run ${a} = ${signed(p.difference)} ${p.metric} (${interval})${test}.`;
}

/** The figures as rows, a column per run: the metric; for right-or-wrong predictions, how many each gets right and how many where the other is wrong. */
export function pairedFigures(p: Paired): { key: string; label: string; a: string; b: string }[] {
  const rows = [{ key: "metric", label: p.metric, a: p.a.toFixed(4), b: p.b.toFixed(4) }];
  const g = p.agreement;
  if (g) {
    rows.push({ key: "right", label: "right", a: String(g.both_right + g.only_a), b: String(g.both_right + g.only_b) });
    rows.push({ key: "only", label: "right where the other is wrong", a: String(g.only_a), b: String(g.only_b) });
  }
  return rows;
}

/** A label, value or answer list of a predictions file as text (answers once each). */
export function valueText(v: unknown): string {
  if (typeof v === "string") return v;
  if (Array.isArray(v)) return [...new Set(v.map(valueText))].join(" | ");
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toFixed(3);
  return v === undefined || v === null ? "" : JSON.stringify(v);
}

/** An example where the two differ, as a row: its input, the gold and each prediction marked right or wrong. */
export function differingRow(d: Paired["shown"][number]): { example: string; input: string; gold: string; a: string; b: string } {
  const mark = (right: boolean | undefined) => (right === undefined ? "" : right ? " ✓" : " ✗");
  const answers = Array.isArray(d.gold);
  // A span's second text is its passage: the question says what was asked.
  const input = d.text_b && !answers ? `${d.text} / ${d.text_b}` : d.text;
  return { example: String(d.example), input, gold: valueText(d.gold), a: `${valueText(d.a)}${mark(d.a_right)}`, b: `${valueText(d.b)}${mark(d.b_right)}` };
}
