// The Runs page's groups (`muppet runs list --group-by`): the keys as typed, the figures a
// group table shows and how a figure over a group reads; and the columns its plot of runs
// (`muppet runs scatter`) offers.
import type { GroupFigure, PlotLine, PlotPoint, RunGroup } from "./api";
import type { ColumnKey } from "./runs-table";

/** The keys of a "Group by" field: separated by commas, blanks dropped. */
export function groupKeys(text: string): string[] {
  return text
    .split(",")
    .map((k) => k.trim().split(/\s+/).join(" "))
    .filter((k) => k !== "");
}

/** What a figure's name ends with to name its best value (`sst2 dev accuracy (best)`), as the backend names it. */
export const BEST = " (best)";

/**
 * The figures of the groups a table shows, by name: all but the worker's system readings,
 * their last values, or with `best` their best ones (`sst2 dev accuracy (best)`).
 */
export function groupFigures(groups: readonly RunGroup[], best = false): string[] {
  const names = new Set<string>();
  for (const g of groups) for (const name of Object.keys(g.figures)) if (!name.startsWith("system ") && name.endsWith(BEST) === best) names.add(name);
  return [...names].sort();
}

const number = (x: number) => (x !== 0 && Math.abs(x) < 1e-3 ? x.toExponential(2) : Number.isInteger(x) ? String(x) : x.toFixed(4));

/** A key's value in a group's row: text as it is, numbers as the runs table shows them, none as "-". */
export function groupValue(value: unknown): string {
  if (value === null || value === undefined) return "-";
  if (typeof value === "number") return number(value);
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

/** A figure's cell: "mean ± sd (n)", its range on hover; "-" for a group without it. */
export function figureCell(figure: GroupFigure | undefined): { text: string; title: string } {
  if (!figure) return { text: "-", title: "No run of the group has it" };
  const runs = `${figure.n} run${figure.n === 1 ? "" : "s"}`;
  return {
    text: figure.sd === null ? `${figure.mean.toFixed(4)} (${figure.n})` : `${figure.mean.toFixed(4)} ± ${figure.sd.toFixed(4)} (${figure.n})`,
    title: figure.sd === null ? runs : `Mean ± sample standard deviation over ${runs}; from ${figure.min.toFixed(4)} to ${figure.max.toFixed(4)}`,
  };
}

/**
 * The columns a plot of runs offers on both axes (settings first, then figures), and the
 * axes it starts with: the first setting along x (the first column without one), the first
 * other figure but the system readings along y.
 */
export function plotAxes(available: readonly ColumnKey[]): { options: string[]; x: string; y: string } {
  const name = (k: ColumnKey) => k.slice(k.indexOf(":") + 1);
  const params = available.filter((k) => k.startsWith("param:")).map(name);
  const metrics = available.filter((k) => k.startsWith("metric:")).map(name);
  const options = [...params, ...metrics];
  const x = params[0] ?? options[0] ?? "";
  const y = metrics.find((m) => !m.startsWith("system ") && m !== x) ?? options.find((o) => o !== x) ?? x;
  return { options, x, y };
}

/**
 * The columns a drawing of runs through several columns starts with: the settings the runs
 * offer (up to three), then the first figure but the system readings, which colours the lines.
 */
export function parallelColumns(available: readonly ColumnKey[]): string[] {
  const { options } = plotAxes(available);
  const params = available.filter((k) => k.startsWith("param:")).map((k) => k.slice(k.indexOf(":") + 1));
  const figure = options.find((o) => !params.includes(o) && !o.startsWith("system "));
  return [...params.slice(0, 3), ...(figure ? [figure] : [])];
}

/** What a drawing of runs through several columns says under it: the runs drawn and those left out. */
export function linesSummary(drawn: number, leftOut: readonly number[]): string {
  const placed = `${drawn} run${drawn === 1 ? "" : "s"} drawn`;
  if (leftOut.length === 0) return `${placed}.`;
  return `${placed}; left out, without a value for every column: ${leftOut.map((r) => `#${r}`).join(", ")}.`;
}

/** What a plot says under it: the runs placed and those left out. */
export function plotSummary(plotted: number, leftOut: readonly number[], log: boolean): string {
  const placed = `${plotted} run${plotted === 1 ? "" : "s"} plotted`;
  if (leftOut.length === 0) return `${placed}.`;
  return `${placed}; left out, without a value for both columns${log ? " (above 0 on a log axis)" : ""}: ${leftOut.map((r) => `#${r}`).join(", ")}.`;
}

/**
 * Groups ordered by figure `name`'s mean, highest first unless `ascending` (groups without it
 * last, ties in their order), as `muppet runs list --group-by ... --sort FIGURE` orders them.
 */
export function sortGroups(groups: readonly RunGroup[], name: string, ascending: boolean): RunGroup[] {
  return groups
    .map((g, i) => ({ g, i }))
    .sort((a, b) => {
      const x = a.g.figures[name];
      const y = b.g.figures[name];
      if (x && y && x.mean !== y.mean) return ascending ? x.mean - y.mean : y.mean - x.mean;
      if (x && !y) return -1;
      if (!x && y) return 1;
      return a.i - b.i;
    })
    .map(({ g }) => g);
}

/** What a point of a plot (or a line through several columns) says on hover: its run, by id and name, and its values. */
export function pointTitle(point: PlotPoint | PlotLine, name: string | undefined): string {
  return `#${point.run}${name ? ` ${name}` : ""}: ${point.text}. Click to open it.`;
}

/** The size of the box a line's points are drawn in over the chart (`viewBox="0 0 1000 1000"`, stretched over the image). */
export const LINE_BOX = 1000;

/** A line's points as an SVG polyline's `points`, in a box of LINE_BOX stretched over the image. */
export function linePoints(line: PlotLine): string {
  const at = (f: number) => (Math.min(Math.max(f, 0), 1) * LINE_BOX).toFixed(1);
  return line.points.map(([x, y]) => `${at(x)},${at(y)}`).join(" ");
}

/** Where a point goes over the plot's image, in percent of its width and height. */
export function pointPlace(point: PlotPoint): { left: string; top: string } {
  const percent = (f: number) => `${(Math.min(Math.max(f, 0), 1) * 100).toFixed(3)}%`;
  return { left: percent(point.left), top: percent(point.top) };
}
