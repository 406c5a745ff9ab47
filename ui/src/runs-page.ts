// The Runs page: the runs table (filter, sort, progress, live status), selection of runs
// to compare, and the comparison. Element ids are relied on by tests/tests/desktop.rs.
import { compareRuns, deleteRuns, pairedScores, runDetail, runImportance, exportRunsTable, filterRunsWhere, groupRuns, importRunBundle, listRuns, parallelRuns, plotRuns, runColumns, saveChart, studioInfo, type Paired, type PlotView, type RunComparison, type RunGroup, type RunListRow, type SeriesKey, type Update } from "./api";
import { wireBrowse } from "./browse";
import { withResult } from "./result";
import { LineChart } from "./chart/line-chart";
import { importanceFigures, importanceRow, importanceSummary } from "./run-importance";
import { differingRow, pairedFigures, pairedSummary, pairedTasks } from "./paired-form";
import { figureCell, groupFigures, groupKeys, groupValue, linePoints, linesSummary, parallelColumns, plotAxes, plotSummary, pointPlace, pointTitle, sortGroups } from "./run-groups";
import { byId, el, formatBytes, showResult } from "./dom";
import { deletedText, deleteQuestion, describeError, formatLoss, importedText, runCells, runsSummary, type TimeZone } from "./runs-format";
import {
  availableColumns,
  columnCell,
  columnLabel,
  filterRuns,
  progressFraction,
  progressText,
  sortRuns,
  tagCounts,
  type ColumnKey,
  type RunSort,
  type RunSortKey,
} from "./runs-table";

/** Where the chosen optional columns of a database's runs are kept between sessions of the app. */
const columnsKey = (database: string): string => `muppet.runs.columns ${database}`;
/** Where the settings-and-figures filter of a database's runs is kept between sessions. */
const whereKey = (database: string): string => `muppet.runs.where ${database}`;
/** Where the "Group by" field is kept, per database. */
const groupKey = (database: string): string => `muppet.runs.group ${database}`;

function savedColumns(key: string): ColumnKey[] {
  try {
    const saved: unknown = JSON.parse(window.localStorage.getItem(key) ?? "[]");
    return Array.isArray(saved) ? saved.filter((k): k is ColumnKey => typeof k === "string" && /^(metric|param):/.test(k)) : [];
  } catch {
    return [];
  }
}

/** Rows rendered before "Show all": a table of thousands of runs stays responsive. */
const FIRST_ROWS = 500;

function cell(text: string, className: string, title?: string): HTMLTableCellElement {
  const td = el("td", { className }, text);
  if (title) td.title = title;
  return td;
}

function progressCell(row: RunListRow): HTMLTableCellElement {
  const fraction = progressFraction(row);
  const bar = el("progress", { max: 1, value: fraction ?? 0 });
  if (fraction === null) bar.removeAttribute("value");
  return el("td", { className: "run-progress" }, bar, el("span", { className: "progress-text" }, progressText(row)));
}

export class RunsPage {
  private rows: RunListRow[] = [];
  private readonly selected = new Set<number>();
  private sort: RunSort = { key: "id", descending: true };
  private showAll = false;
  private loading = false;
  private reloadAfter = false;
  private reloadTimer = 0;
  private compareChart: LineChart | null = null;
  /** The optional columns chosen, in the order they were added, and where they are kept (per database). */
  private columns: ColumnKey[] = [];
  private columnsKey: string | null = null;
  private whereKey: string | null = null;
  private groupKey: string | null = null;
  /** The last grouping asked for: an older answer arriving later is dropped. */
  private groupRequest = 0;
  private groupTimer = 0;
  /** The figure the groups are ordered by, highest first unless ascending; none: by their values. */
  private groupOrder: { figure: string; ascending: boolean } | null = null;
  /** The groups shown, drawn again when *Best values* is switched. */
  private shownGroups: { keys: string[]; all: RunGroup[] } | null = null;
  /** The optional columns the loaded runs offer (computed once per load), and those shown. */
  private available: ColumnKey[] = [];
  private shown: ColumnKey[] = [];
  /** The runs the settings-and-figures filter matched at its last reading; null: no filter. */
  private matching: Set<number> | null = null;

  constructor(
    private readonly openRun: (id: number) => void,
    private readonly zone: TimeZone = "local",
  ) {
    byId("refresh-runs").addEventListener("click", () => void this.load());
    byId("runs-filter").addEventListener("input", () => this.render());
    byId("runs-status-filter").addEventListener("change", () => this.render());
    byId("runs-tag-filter").addEventListener("change", () => this.render());
    // Read on Enter (and when the field is left or cleared), not at each key.
    byId("runs-where").addEventListener("change", () => void this.applyWhere().then(() => this.render()));
    byId("runs-group").addEventListener("change", () => {
      const text = byId<HTMLInputElement>("runs-group").value.trim();
      if (this.groupKey !== null) {
        if (text === "") window.localStorage.removeItem(this.groupKey);
        else window.localStorage.setItem(this.groupKey, text);
      }
      void this.applyGroups();
    });
    byId("runs-group-best").addEventListener("change", () => {
      if (this.shownGroups) this.showGroups(this.shownGroups.keys, this.shownGroups.all);
    });
    byId("runs-more").addEventListener("click", () => {
      this.showAll = true;
      this.render();
    });
    byId("compare-runs").addEventListener("click", () => void this.compare());
    byId("compare-series").addEventListener("change", () => void this.compare(byId<HTMLSelectElement>("compare-series").value));
    byId("paired-run").addEventListener("click", () => void this.comparePredictions());
    // The menu lists what the runs offer: their columns are asked for as it first opens.
    byId("runs-columns").addEventListener("toggle", () => {
      const open = byId<HTMLDetailsElement>("runs-columns").open;
      if (open && this.rows.some((r) => !r.columns)) void this.loadColumns().then(() => this.render(), (error) => this.showError(describeError(error)));
    });
    byId("delete-runs").addEventListener("click", () => this.askDelete());
    byId("delete-confirm-no").addEventListener("click", () => (byId("delete-confirm").hidden = true));
    byId("delete-confirm-yes").addEventListener("click", () => void this.deleteSelected());
    const bundle = byId<HTMLInputElement>("import-run-path");
    bundle.addEventListener("input", () => (byId<HTMLButtonElement>("import-run-button").disabled = bundle.value.trim() === ""));
    wireBrowse("browse-import-run", "import-run-path", { kind: "open-file", title: "Run bundle", label: "Run bundle (tar)", extensions: ["tar"] }, (m) =>
      showResult("import-run-result", m, true),
    );
    byId("import-run-button").addEventListener("click", () => void this.importBundle());
    wireBrowse("browse-export-table", "export-table-path", { kind: "save-file", title: "Runs table as CSV", label: "CSV", extensions: ["csv"] }, (m) =>
      showResult("export-table-result", m, true),
    );
    byId("export-table-button").addEventListener("click", () => void this.exportTable());
    wireBrowse("browse-compare-chart", "compare-chart-path", { kind: "save-file", title: "Comparison chart (.png or .svg)", label: "Chart (PNG or SVG)", extensions: ["png", "svg"] }, (m) =>
      showResult("compare-chart-result", m, true),
    );
    byId("save-compare-chart").addEventListener("click", () => void this.saveCompareChart());
    // The plot's columns are what the runs offer, asked for as it first opens.
    byId("runs-plot").addEventListener("toggle", () => {
      if (!byId<HTMLDetailsElement>("runs-plot").open) return;
      const ready = this.rows.some((r) => !r.columns) ? this.loadColumns() : Promise.resolve();
      void ready.then(() => this.fillPlotAxes(), (error) => this.showError(describeError(error)));
    });
    byId("plot-runs").addEventListener("click", () => void this.plot(null));
    wireBrowse("browse-plot-path", "plot-path", { kind: "save-file", title: "Plot of runs (.png or .svg)", label: "Chart (PNG or SVG)", extensions: ["png", "svg"] }, (m) =>
      showResult("plot-save-result", m, true),
    );
    byId("save-plot").addEventListener("click", () => void this.plot(byId<HTMLInputElement>("plot-path").value.trim()));
    // Lines through several columns: the columns start from what the runs offer.
    byId("runs-parallel").addEventListener("toggle", () => {
      if (!byId<HTMLDetailsElement>("runs-parallel").open) return;
      const ready = this.rows.some((r) => !r.columns) ? this.loadColumns() : Promise.resolve();
      void ready.then(
        () => {
          const field = byId<HTMLInputElement>("parallel-columns");
          if (field.value.trim() === "") field.value = parallelColumns(this.available).join(", ");
        },
        (error) => this.showError(describeError(error)),
      );
    });
    byId("parallel-draw").addEventListener("click", () => void this.drawLines(null));
    wireBrowse("browse-parallel-path", "parallel-path", { kind: "save-file", title: "Runs through several columns (.png or .svg)", label: "Chart (PNG or SVG)", extensions: ["png", "svg"] }, (m) =>
      showResult("parallel-save-result", m, true),
    );
    byId("save-parallel").addEventListener("click", () => void this.drawLines(byId<HTMLInputElement>("parallel-path").value.trim()));
    // Which settings matter: the figures are what the runs offer, asked for as it first opens.
    byId("runs-importance").addEventListener("toggle", () => {
      if (!byId<HTMLDetailsElement>("runs-importance").open) return;
      const ready = this.rows.some((r) => !r.columns) ? this.loadColumns() : Promise.resolve();
      void ready.then(() => this.fillImportanceFigures(), (error) => this.showError(describeError(error)));
    });
    byId("importance-run").addEventListener("click", () => void this.weighSettings());
    byId<HTMLInputElement>("select-all-runs").addEventListener("change", (event) => {
      const on = (event.target as HTMLInputElement).checked;
      for (const box of document.querySelectorAll<HTMLInputElement>("#runs-body input.run-select")) {
        box.checked = on;
        const id = Number(box.closest("tr")?.dataset.runId);
        if (on) this.selected.add(id);
        else this.selected.delete(id);
      }
      this.updateCompareButton();
    });
    for (const th of document.querySelectorAll<HTMLElement>("#runs-table th[data-sort]")) {
      th.addEventListener("click", () => {
        const key = th.dataset.sort as RunSortKey;
        this.sort = { key, descending: this.sort.key === key ? !this.sort.descending : key !== "name" };
        this.render();
      });
    }
  }

  async load(): Promise<void> {
    // A load asked for while one is under way (a deletion's, an import's) runs after it:
    // the one under way may have read the table before the change.
    if (this.loading) {
      this.reloadAfter = true;
      return;
    }
    this.loading = true;
    const refresh = byId<HTMLButtonElement>("refresh-runs");
    refresh.disabled = true;
    document.body.dataset.runsState = "loading";
    const started = performance.now();
    try {
      // The database names where the chosen columns are kept: asked for beside the runs.
      const [rows, info] = await Promise.all([listRuns(), this.columnsKey === null ? studioInfo() : null]);
      if (info) {
        this.columnsKey = columnsKey(info.database);
        this.columns = savedColumns(this.columnsKey);
        this.whereKey = whereKey(info.database);
        byId<HTMLInputElement>("runs-where").value = window.localStorage.getItem(this.whereKey) ?? "";
        this.groupKey = groupKey(info.database);
        byId<HTMLInputElement>("runs-group").value = window.localStorage.getItem(this.groupKey) ?? "";
      }
      this.rows = rows;
      if (this.columns.length > 0 || byId<HTMLDetailsElement>("runs-columns").open) await this.loadColumns();
      // The runs and their figures may have changed since the filter was read.
      if (byId<HTMLInputElement>("runs-where").value.trim() !== "") await this.applyWhere();
      byId("error-banner").hidden = true;
      this.fillTagFilter();
      this.render();
      // Read by the desktop benchmark (BENCHMARKS.md, "Desktop").
      document.body.dataset.runsLoadMs = (performance.now() - started).toFixed(1);
    } catch (error) {
      this.showError(describeError(error));
    } finally {
      this.loading = false;
      refresh.disabled = false;
    }
    if (this.reloadAfter) {
      this.reloadAfter = false;
      await this.load();
    }
  }

  /** Live updates: progress in place; a worker starting or ending reloads the table. */
  onUpdates(updates: Update[]): void {
    let reload = false;
    for (const u of updates) {
      if (u.type === "event" && u.event === "step") {
        const row = this.rows.find((r) => r.id === u.run);
        if (row) {
          row.last_step = u.step;
          row.total_steps = u.total_steps;
          const cellNow = document.querySelector(`#runs-body tr[data-run-id="${u.run}"] td.run-progress`);
          cellNow?.replaceWith(progressCell(row));
        }
      } else if (u.type !== "event" && u.type !== "summary" && u.type !== "close_requested") {
        reload = true;
      } else if (u.type === "event" && (u.event === "started" || u.event === "finished" || u.event === "cancelled" || u.event === "failed")) {
        reload = true;
      }
    }
    if (reload) {
      window.clearTimeout(this.reloadTimer);
      this.reloadTimer = window.setTimeout(() => void this.load(), 150);
    }
  }

  /** The tag menu: every tag on the runs, the chosen one kept while it still exists. */
  private fillTagFilter(): void {
    const select = byId<HTMLSelectElement>("runs-tag-filter");
    const chosen = select.value;
    const tags = tagCounts(this.rows);
    select.replaceChildren(
      el("option", { value: "" }, "every tag"),
      ...tags.map(([tag, n]) => el("option", { value: tag }, `${tag} (${n})`)),
    );
    select.value = tags.some(([tag]) => tag === chosen) ? chosen : "";
    select.hidden = tags.length === 0;
  }

  /**
   * Read the settings-and-figures filter: the runs it matches, or why it cannot be read (said
   * under the field; the table then shows what the other filters keep).
   */
  private async applyWhere(): Promise<void> {
    const expression = byId<HTMLInputElement>("runs-where").value.trim();
    const error = byId("runs-where-error");
    if (this.whereKey !== null) {
      if (expression === "") window.localStorage.removeItem(this.whereKey);
      else window.localStorage.setItem(this.whereKey, expression);
    }
    if (expression === "") {
      this.matching = null;
      error.hidden = true;
      return;
    }
    try {
      const started = performance.now();
      this.matching = new Set(await filterRunsWhere(expression));
      // Read by the desktop benchmark (BENCHMARKS.md, "Desktop").
      document.body.dataset.runsWhereMs = (performance.now() - started).toFixed(1);
      error.hidden = true;
    } catch (e) {
      this.matching = null;
      error.textContent = describeError(e).message;
      error.hidden = false;
    }
  }

  private visibleRows(): RunListRow[] {
    const status = byId<HTMLSelectElement>("runs-status-filter").value;
    const filtered = filterRuns(this.rows, {
      statuses: status ? [status as RunListRow["status"]] : [],
      text: byId<HTMLInputElement>("runs-filter").value,
      tag: byId<HTMLSelectElement>("runs-tag-filter").value,
      ids: this.matching,
    });
    return sortRuns(filtered, this.sort);
  }

  /** Ask for every run's optional columns (dev figures, settings) and put them on the rows. */
  private async loadColumns(): Promise<void> {
    const started = performance.now();
    const columns = await runColumns();
    for (const row of this.rows) row.columns = columns[String(row.id)] ?? { metrics: {}, params: {} };
    this.available = availableColumns(this.rows);
    // Read by the desktop benchmark (BENCHMARKS.md, "Desktop").
    document.body.dataset.runsColumnsMs = (performance.now() - started).toFixed(1);
  }

  /** The column chooser (every figure and setting the runs have) and the chosen columns' headings. */
  private renderColumns(): void {
    const available = this.available;
    this.shown = this.columns.filter((c) => available.includes(c));
    const group = (kind: "metric" | "param", title: string) => {
      const keys = available.filter((k) => k.startsWith(`${kind}:`));
      if (keys.length === 0) return [];
      return [
        el("h4", {}, title),
        ...keys.map((key) => {
          const box = el("input", { type: "checkbox", checked: this.columns.includes(key), "data-column": key });
          box.addEventListener("change", () => {
            this.columns = box.checked ? [...this.columns, key] : this.columns.filter((c) => c !== key);
            if (this.columnsKey) window.localStorage.setItem(this.columnsKey, JSON.stringify(this.columns));
            this.render();
          });
          return el("label", {}, box, columnLabel(key));
        }),
      ];
    };
    const list = [...group("metric", "Dev figures (last value)"), ...group("param", "Settings")];
    const empty = this.rows.some((r) => !r.columns) ? "Loading…" : "No dev figures or settings stored yet.";
    byId("runs-columns-list").replaceChildren(...(list.length > 0 ? list : [el("p", { className: "page-sub" }, empty)]));
    const head = document.querySelector("#runs-table thead tr");
    for (const th of document.querySelectorAll("#runs-table th.extra-col")) th.remove();
    for (const key of this.shown) {
      const th = el("th", { className: `extra-col sortable${key.startsWith("metric:") ? " num" : ""}`, "data-sort": key, title: "Sort by this column" }, columnLabel(key));
      th.addEventListener("click", () => {
        this.sort = { key, descending: this.sort.key === key ? !this.sort.descending : key.startsWith("metric:") };
        this.render();
      });
      head?.append(th);
    }
  }

  render(): { rows: number; ms: number } {
    const started = performance.now();
    this.renderColumns();
    const rows = this.visibleRows();
    const shown = this.showAll ? rows : rows.slice(0, FIRST_ROWS);
    byId("runs-body").replaceChildren(...shown.map((row) => this.runRow(row)));
    const more = byId("runs-more");
    more.hidden = shown.length === rows.length;
    more.textContent = `Show all ${rows.length}`;
    for (const th of document.querySelectorAll<HTMLElement>("#runs-table th[data-sort]")) {
      th.dataset.sorted = th.dataset.sort === this.sort.key ? (this.sort.descending ? "desc" : "asc") : "";
    }
    const empty = this.rows.length === 0;
    byId("runs-table").hidden = empty;
    byId("runs-empty").hidden = !empty;
    byId("runs-count").textContent =
      rows.length === this.rows.length ? runsSummary(this.rows.length) : `${rows.length} of ${runsSummary(this.rows.length)}`;
    document.body.dataset.runsState = empty ? "empty" : "loaded";
    this.updateCompareButton();
    // The groups follow the runs shown, at most a few times a second while filters are typed.
    if (groupKeys(byId<HTMLInputElement>("runs-group").value).length > 0) {
      window.clearTimeout(this.groupTimer);
      this.groupTimer = window.setTimeout(() => void this.applyGroups(), 250);
    }
    const ms = performance.now() - started;
    document.body.dataset.runsRenderMs = ms.toFixed(1);
    return { rows: shown.length, ms };
  }

  /** Group the runs shown by the "Group by" field's keys (none: no groups), or say why not. */
  private async applyGroups(): Promise<void> {
    const keys = groupKeys(byId<HTMLInputElement>("runs-group").value);
    const panel = byId("runs-groups");
    const error = byId("runs-group-error");
    const request = ++this.groupRequest;
    if (keys.length === 0) {
      panel.hidden = true;
      error.hidden = true;
      return;
    }
    const ids = this.visibleRows().map((r) => r.id);
    try {
      const started = performance.now();
      const groups = await groupRuns(ids, keys);
      if (request !== this.groupRequest) return;
      error.hidden = true;
      this.showGroups(keys, groups);
      // Read by the desktop benchmark (BENCHMARKS.md, "Desktop").
      document.body.dataset.runsGroupMs = (performance.now() - started).toFixed(1);
    } catch (e) {
      if (request !== this.groupRequest) return;
      panel.hidden = true;
      error.textContent = describeError(e).message;
      error.hidden = false;
    }
  }

  private showGroups(keys: string[], all: RunGroup[]): void {
    this.shownGroups = { keys, all };
    const figures = groupFigures(all, byId<HTMLInputElement>("runs-group-best").checked);
    // A figure's heading orders the groups by its mean (again: the other way).
    const order = this.groupOrder && figures.includes(this.groupOrder.figure) ? this.groupOrder : null;
    const groups = order ? sortGroups(all, order.figure, order.ascending) : all;
    const heading = (f: string) => {
      const th = el("th", { className: "num sortable", "data-figure": f, "data-sorted": order?.figure === f ? (order.ascending ? "asc" : "desc") : "", title: "Order the groups by this figure's mean" }, f);
      th.addEventListener("click", () => {
        this.groupOrder = { figure: f, ascending: this.groupOrder?.figure === f ? !this.groupOrder.ascending : false };
        this.showGroups(keys, all);
      });
      return th;
    };
    const head = el("tr", {}, ...keys.map((k) => el("th", {}, k)), el("th", { className: "num" }, "Runs"), ...figures.map(heading), el("th", {}, ""));
    const rows = groups.map((g) => {
      const select = el("button", { type: "button", className: "button secondary group-select" }, "Select");
      select.addEventListener("click", () => {
        this.selected.clear();
        for (const id of g.runs) this.selected.add(id);
        this.render();
      });
      return el(
        "tr",
        { className: "group-row", "data-runs": g.runs.join(",") },
        ...g.values.map((v) => el("td", {}, groupValue(v))),
        el("td", { className: "num", title: `Runs ${g.runs.map((r) => `#${r}`).join(", ")}` }, String(g.runs.length)),
        ...figures.map((f) => {
          const cell = figureCell(g.figures[f]);
          return el("td", { className: "num", title: cell.title, "data-figure": f }, cell.text);
        }),
        el("td", {}, select),
      );
    });
    byId("runs-groups-table").replaceChildren(el("thead", {}, head), el("tbody", {}, ...rows));
    const panel = byId("runs-groups");
    panel.dataset.groups = String(groups.length);
    panel.hidden = false;
  }

  private runRow(run: RunListRow): HTMLTableRowElement {
    const cells = runCells(run, this.zone);
    const tr = el("tr", { className: "run-row", "data-run-id": cells.id, "data-status": run.status });
    const box = el("input", { type: "checkbox", className: "run-select", checked: this.selected.has(run.id) });
    box.setAttribute("aria-label", `Select run ${run.id}`);
    box.addEventListener("change", () => {
      if (box.checked) this.selected.add(run.id);
      else this.selected.delete(run.id);
      this.updateCompareButton();
    });
    const name = el("button", { type: "button", className: "link run-open" }, cells.name);
    name.addEventListener("click", () => this.openRun(run.id));
    const status = el("span", { className: cells.statusClass }, run.worker === "cancelling" ? "Cancelling" : cells.status);
    tr.append(
      el("td", { className: "select-col" }, box),
      cell(cells.id, "run-id num"),
      el("td", { className: "run-name" }, name),
      cell(cells.kind, "run-kind"),
      el("td", { className: "run-tags" }, ...run.tags.map((t) => el("span", { className: "tag" }, t))),
      el("td", { className: "run-status", title: cells.statusTitle }, status),
      progressCell(run),
      cell(cells.points, "run-points num"),
      cell(cells.lastLoss, "run-last-loss num"),
      cell(cells.started, "run-started", cells.startedTitle),
      ...this.shown.map((key) => {
        const value = columnCell(run, key);
        const td = cell(value.text, key.startsWith("metric:") ? "extra-col num" : "extra-col", value.title);
        td.dataset.column = key;
        return td;
      }),
    );
    return tr;
  }

  private updateCompareButton(): void {
    const button = byId<HTMLButtonElement>("compare-runs");
    button.disabled = this.selected.size < 2;
    button.textContent = this.selected.size >= 2 ? `Compare ${this.selected.size}` : "Compare";
    const remove = byId<HTMLButtonElement>("delete-runs");
    remove.disabled = this.selected.size === 0;
    remove.textContent = this.selected.size > 0 ? `Delete ${this.selected.size}` : "Delete";
    // The question names the runs ticked when it was asked; a change of selection withdraws it.
    const confirm = byId("delete-confirm");
    if (!confirm.hidden && confirm.dataset.runs !== this.selectedIds().join(",")) confirm.hidden = true;
  }

  private selectedIds(): number[] {
    return [...this.selected].sort((a, b) => a - b);
  }

  /** Ask before deleting the ticked runs, naming each. */
  private askDelete(): void {
    const ids = this.selectedIds();
    const runs = ids.map((id) => ({ id, name: this.rows.find((r) => r.id === id)?.name ?? "" }));
    const confirm = byId("delete-confirm");
    confirm.dataset.runs = ids.join(",");
    byId("delete-confirm-text").textContent = deleteQuestion(runs);
    confirm.hidden = false;
    showResult("delete-result", "", false);
  }

  private async deleteSelected(): Promise<void> {
    const confirm = byId("delete-confirm");
    const ids = (confirm.dataset.runs ?? "").split(",").filter(Boolean).map(Number);
    const yes = byId<HTMLButtonElement>("delete-confirm-yes");
    yes.disabled = true;
    try {
      const deleted = await deleteRuns(ids);
      for (const id of deleted.runs) this.selected.delete(id);
      confirm.hidden = true;
      showResult("delete-result", deletedText(deleted), false);
      const panel = byId("compare-panel");
      if ((panel.dataset.runs ?? "").split(",").some((id) => deleted.runs.includes(Number(id)))) panel.hidden = true;
      await this.load();
    } catch (error) {
      showResult("delete-result", describeError(error).message, true);
    } finally {
      yes.disabled = false;
    }
  }

  /** Import the run bundle named in the form; the new run appears in the table. */
  private async importBundle(): Promise<void> {
    const button = byId<HTMLButtonElement>("import-run-button");
    button.disabled = true;
    showResult("import-run-result", "Importing…", false);
    try {
      const imported = await importRunBundle(byId<HTMLInputElement>("import-run-path").value.trim());
      showResult("import-run-result", importedText(imported), false);
      await this.load();
    } catch (error) {
      showResult("import-run-result", describeError(error).message, true);
    } finally {
      button.disabled = false;
    }
  }

  /** Write the runs shown, in the table's order, as a CSV table. */
  private async exportTable(): Promise<void> {
    const button = byId<HTMLButtonElement>("export-table-button");
    button.disabled = true;
    showResult("export-table-result", "Writing…", false);
    try {
      const ids = this.visibleRows().map((r) => r.id);
      const n = await exportRunsTable(ids, byId<HTMLInputElement>("export-table-path").value.trim());
      showResult("export-table-result", `${n} run${n === 1 ? "" : "s"} written.`, false);
    } catch (error) {
      showResult("export-table-result", describeError(error).message, true);
    } finally {
      button.disabled = false;
    }
  }

  /** The plot's column menus: what the runs offer, the columns chosen kept while offered. */
  private fillPlotAxes(): void {
    const axes = plotAxes(this.available);
    for (const [id, start] of [["plot-x", axes.x], ["plot-y", axes.y]] as const) {
      const select = byId<HTMLSelectElement>(id);
      const chosen = select.value;
      select.replaceChildren(...axes.options.map((o) => el("option", { value: o }, o)));
      select.value = axes.options.includes(chosen) ? chosen : start;
    }
  }

  /** The figure menu of "Which settings matter": the runs' figures, the one chosen kept while offered. */
  private fillImportanceFigures(): void {
    const select = byId<HTMLSelectElement>("importance-figure");
    const chosen = select.value;
    const figures = importanceFigures(this.available);
    select.replaceChildren(...figures.map((f) => el("option", { value: f }, f)));
    if (figures.includes(chosen)) select.value = chosen;
  }

  /** Weigh the settings of the runs shown by the figure chosen: a row each, most important first, or why not. */
  private async weighSettings(): Promise<void> {
    const button = byId<HTMLButtonElement>("importance-run");
    const figure = byId<HTMLSelectElement>("importance-figure").value;
    const table = byId("importance-table");
    if (figure === "") {
      table.replaceChildren();
      showResult("importance-result", "No run shown has a dev figure to weigh the settings by: train or import runs with dev scores, or clear the filters.", true);
      return;
    }
    button.disabled = true;
    showResult("importance-result", "Weighing…", false);
    try {
      const started = performance.now();
      const found = await runImportance(
        this.visibleRows().map((r) => r.id),
        figure,
      );
      const head = el("tr", {}, el("th", {}, "setting"), el("th", {}, "importance"), el("th", { className: "num" }, "rank correlation"), el("th", {}, "values"), el("th", {}));
      const rows = found.settings.map((s) => {
        const row = importanceRow(s);
        const plot = el("button", { type: "button", className: "button secondary importance-plot", title: `Plot the runs by ${row.name} and ${found.figure}` }, "Plot");
        plot.addEventListener("click", () => this.plotSetting(row.name, found.figure, s.log));
        const bar = el("span", { className: "importance-bar" });
        bar.style.width = `${row.width}%`;
        return el(
          "tr",
          { className: "importance-row", "data-setting": row.name, "data-importance": row.share },
          el("td", {}, row.name),
          el("td", {}, el("div", { className: "importance-cell" }, el("span", { className: "importance-track" }, bar), el("span", { className: "importance-share" }, row.share))),
          el("td", { className: "num" }, row.correlation),
          el("td", {}, row.values),
          el("td", {}, plot),
        );
      });
      table.replaceChildren(el("thead", {}, head), el("tbody", {}, ...rows));
      table.hidden = rows.length === 0;
      showResult("importance-result", importanceSummary(found), false);
      // For the desktop benchmark (BENCHMARKS.md, "Desktop").
      document.body.dataset.runsImportanceMs = (performance.now() - started).toFixed(1);
    } catch (error) {
      table.replaceChildren();
      showResult("importance-result", describeError(error).message, true);
    } finally {
      button.disabled = false;
    }
  }

  /** Open the plot of runs by `setting` along x (a log axis with `log`) and `figure` along y, and draw it. */
  private plotSetting(setting: string, figure: string, log: boolean): void {
    const panel = byId<HTMLDetailsElement>("runs-plot");
    panel.open = true;
    this.fillPlotAxes();
    const x = byId<HTMLSelectElement>("plot-x");
    const y = byId<HTMLSelectElement>("plot-y");
    if ([...x.options].some((o) => o.value === setting)) x.value = setting;
    if ([...y.options].some((o) => o.value === figure)) y.value = figure;
    byId<HTMLInputElement>("plot-log-x").checked = log;
    byId<HTMLInputElement>("plot-log-y").checked = false;
    panel.scrollIntoView({ block: "start" });
    void this.plot(null);
  }

  /**
   * Plot the runs shown by the two columns chosen (coloured by the Group by keys), and with
   * `path` also write the plot there; says what it placed, left out or wrote.
   */
  private async plot(path: string | null): Promise<void> {
    const log = byId<HTMLInputElement>("plot-log-x").checked || byId<HTMLInputElement>("plot-log-y").checked;
    await this.drawRuns({ panel: "plot", draw: "plot-runs", save: "save-plot", timing: "runsPlotMs", written: "Plot" }, path, async () => {
      const request = {
        runs: this.visibleRows().map((r) => r.id),
        x: byId<HTMLSelectElement>("plot-x").value,
        y: byId<HTMLSelectElement>("plot-y").value,
        by: groupKeys(byId<HTMLInputElement>("runs-group").value),
        logX: byId<HTMLInputElement>("plot-log-x").checked,
        logY: byId<HTMLInputElement>("plot-log-y").checked,
      };
      const view = await plotRuns(request, path);
      return { view, summary: plotSummary(view.plotted, view.left_out, log) };
    });
  }

  /**
   * Draw the runs shown as lines through the columns typed (W&B's parallel coordinates), and
   * with `path` also write the chart there; says what it drew, left out or wrote.
   */
  private async drawLines(path: string | null): Promise<void> {
    await this.drawRuns({ panel: "parallel", draw: "parallel-draw", save: "save-parallel", timing: "runsParallelMs", written: "Chart" }, path, async () => {
      const request = { runs: this.visibleRows().map((r) => r.id), axes: groupKeys(byId<HTMLInputElement>("parallel-columns").value) };
      const view = await parallelRuns(request, path);
      return { view, summary: linesSummary(view.plotted, view.left_out) };
    });
  }

  /**
   * A drawing of the runs by the backend, shown in panel `ids.panel` (`<panel>-image`,
   * `<panel>-result`, `<panel>-save-result`) and with `path` written there too; its time (the
   * runs' points or lines laid over it included) in `body[data-<timing>]` for the desktop
   * benchmark (BENCHMARKS.md, "Desktop").
   */
  private async drawRuns(
    ids: { panel: string; draw: string; save: string; timing: string; written: string },
    path: string | null,
    request: () => Promise<{ view: PlotView; summary: string }>,
  ): Promise<void> {
    const resultId = path === null ? `${ids.panel}-result` : `${ids.panel}-save-result`;
    const button = byId<HTMLButtonElement>(path === null ? ids.draw : ids.save);
    button.disabled = true;
    showResult(resultId, "Drawing…", false);
    try {
      const started = performance.now();
      const { view, summary } = await request();
      const image = byId<HTMLImageElement>(`${ids.panel}-image`);
      image.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(view.svg)}`;
      image.hidden = false;
      const names = new Map(this.rows.map((r) => [r.id, r.name]));
      this.placePoints(ids.panel, view, names);
      this.placeLines(ids.panel, view, names);
      document.body.dataset[ids.timing] = (performance.now() - started).toFixed(1);
      image.dataset.plotted = String(view.plotted);
      showResult(`${ids.panel}-result`, summary, false);
      if (view.file) showResult(`${ids.panel}-save-result`, `${ids.written} written to ${view.file.path} (${formatBytes(view.file.bytes)}).`, false);
    } catch (error) {
      showResult(resultId, describeError(error).message, true);
    } finally {
      button.disabled = false;
    }
  }

  /** Over a plot's image (`<panel>-points`, where the panel has one), a button per run drawn: its run on hover, opened on click. */
  private placePoints(panel: string, view: PlotView, names: ReadonlyMap<number, string>): void {
    const layer = document.getElementById(`${panel}-points`);
    if (!layer) return;
    const points = document.createDocumentFragment();
    for (const point of view.points) {
      const title = pointTitle(point, names.get(point.run));
      const button = el("button", { type: "button", className: "plot-point", title, "aria-label": title, "data-run": point.run });
      Object.assign(button.style, pointPlace(point));
      button.addEventListener("click", () => this.openRun(point.run));
      points.append(button);
    }
    layer.replaceChildren(points);
  }

  /** Over a drawing through several columns (`<panel>-lines`, an SVG), a line per run drawn: its run on hover, opened on click. */
  private placeLines(panel: string, view: PlotView, names: ReadonlyMap<number, string>): void {
    const layer = document.getElementById(`${panel}-lines`);
    if (!layer) return;
    const svg = "http://www.w3.org/2000/svg";
    const lines = document.createDocumentFragment();
    for (const line of view.lines) {
      const polyline = document.createElementNS(svg, "polyline");
      polyline.setAttribute("points", linePoints(line));
      polyline.dataset.run = String(line.run);
      const title = document.createElementNS(svg, "title");
      title.textContent = pointTitle(line, names.get(line.run));
      polyline.append(title);
      polyline.addEventListener("click", () => this.openRun(line.run));
      lines.append(polyline);
    }
    layer.replaceChildren(lines);
  }

  /** The comparison chart as shown (the runs in its legend, smoothing, zoom), PNG or SVG by the file's extension. */
  private async saveCompareChart(): Promise<void> {
    const button = byId<HTMLButtonElement>("save-compare-chart");
    const chart = this.compareChart;
    if (!chart) return;
    button.disabled = true;
    showResult("compare-chart-result", "Drawing…", false);
    try {
      const series = byId("compare-panel").dataset.series ?? "";
      const file = await saveChart(chart.shown(`Runs compared: ${series.charAt(0).toLowerCase()}${series.slice(1)}`, series), byId<HTMLInputElement>("compare-chart-path").value.trim());
      showResult("compare-chart-result", `Chart written to ${file.path} (${formatBytes(file.bytes)}).`, false);
    } catch (error) {
      showResult("compare-chart-result", describeError(error).message, true);
    } finally {
      button.disabled = false;
    }
  }

  /** Compare the ticked runs (or, with `series`, the runs compared, charting that series: a JSON SeriesKey). */
  private async compare(series?: string): Promise<void> {
    const panel = byId("compare-panel");
    const ids = series === undefined ? [...this.selected].sort((a, b) => a - b) : (panel.dataset.runs ?? "").split(",").map(Number);
    try {
      this.showComparison(await compareRuns(ids, series ? (JSON.parse(series) as SeriesKey) : null));
      byId("error-banner").hidden = true;
    } catch (error) {
      this.showError(describeError(error));
    }
  }

  private showComparison(result: RunComparison): void {
    const panel = byId("compare-panel");
    panel.hidden = false;
    panel.dataset.runs = result.comparison.runs.join(",");
    const names = result.runs.map((r) => `#${r.id} ${r.name}`);
    const head = (first: string) => el("thead", {}, el("tr", {}, el("th", {}, first), ...names.map((n) => el("th", {}, n))));
    const show = (v: unknown) => (v === null || v === undefined ? "—" : typeof v === "string" ? v : JSON.stringify(v));
    byId("compare-params").replaceChildren(
      head("Parameter"),
      el(
        "tbody",
        {},
        ...result.comparison.params.map((p) => el("tr", {}, el("td", {}, p.path), ...p.values.map((v) => el("td", {}, show(v))))),
      ),
    );
    byId("compare-metrics").replaceChildren(
      head("Metric (last)"),
      el(
        "tbody",
        {},
        ...result.comparison.metrics.map((m) =>
          el(
            "tr",
            {},
            el("td", {}, [m.key.task, m.key.split, m.key.name].filter(Boolean).join(" · ")),
            ...m.values.map((v) => el("td", { className: "num" }, v ? `${formatLoss(v.value)} @${v.step}` : "—")),
          ),
        ),
      ),
    );
    // Any series of the compared runs can be charted; the training loss first.
    const keyText = (k: SeriesKey) => JSON.stringify({ task: k.task, split: k.split, name: k.name });
    const label = (k: SeriesKey) => (k.split === "train" && k.name === "loss" && !k.task ? "Training loss" : [k.task, k.split, k.name].filter(Boolean).join(" "));
    const loss: SeriesKey = { task: null, split: "train", name: "loss" };
    const keys = [loss, ...result.comparison.metrics.map((m) => m.key).filter((k) => keyText(k) !== keyText(loss))];
    const select = byId<HTMLSelectElement>("compare-series");
    select.replaceChildren(...keys.map((k) => el("option", { value: keyText(k) }, label(k))));
    select.value = keyText(result.series);
    panel.dataset.series = label(result.series);
    if (!this.compareChart) {
      this.compareChart = new LineChart("", "compare-chart");
      byId("compare-chart").append(this.compareChart.element);
    }
    this.compareChart.setTitle(label(result.series));
    // Training curves are noisy; dev figures are a few points each.
    this.compareChart.setOptions({ smoothing: result.series.split === "train" ? 0.6 : 0 });
    this.compareChart.setSeries(
      result.losses.map((c) => ({
        id: `run-${c.run}`,
        label: `#${c.run} ${result.runs.find((r) => r.id === c.run)?.name ?? ""}`.trim(),
        points: c.buckets.map((b) => ({ x: b.step_hi, y: b.last ?? Number.NaN })),
      })),
    );
    void this.offerPaired(result.comparison.runs);
    // Bring the comparison into view only when it opened below the window.
    if (panel.getBoundingClientRect().top > window.innerHeight - 120) panel.scrollIntoView({ block: "start" });
  }

  /** Compare predictions: for two runs, the tasks both trained on (kept when the same runs are compared again). */
  private async offerPaired(runs: number[]): Promise<void> {
    const section = byId("paired-section");
    const key = runs.join(",");
    if (section.dataset.runs === key) return;
    section.hidden = true;
    section.dataset.runs = key;
    this.showPaired(null);
    const [a, b] = runs;
    if (runs.length !== 2 || a === undefined || b === undefined) return;
    try {
      const [first, second] = await Promise.all([runDetail(a), runDetail(b)]);
      if (section.dataset.runs !== key) return;
      const tasks = pairedTasks(first.tasks, second.tasks);
      const usable = first.checkpoints.length > 0 && second.checkpoints.length > 0;
      byId<HTMLSelectElement>("paired-task").replaceChildren(...tasks.map((t) => el("option", { value: t }, t)));
      section.hidden = tasks.length === 0 || !usable;
    } catch (error) {
      this.showError(describeError(error));
    }
  }

  private async comparePredictions(): Promise<void> {
    const runs = (byId("paired-section").dataset.runs ?? "").split(",").map(Number) as [number, number];
    const task = byId<HTMLSelectElement>("paired-task").value;
    const examples = byId<HTMLSelectElement>("paired-examples").value;
    const best = byId<HTMLSelectElement>("paired-step").value === "best";
    const progress = byId<HTMLProgressElement>("paired-progress");
    const progressText = byId("paired-progress-text");
    this.showPaired(null);
    progress.hidden = false;
    progress.removeAttribute("value");
    try {
      await withResult("paired-run", "paired-result", `Scoring ${task} with runs ${runs[0]} and ${runs[1]}…`, async () => {
        const compared = await pairedScores({ runs, task, examples: examples === "" ? null : examples, best }, ({ done, total, model }) => {
          progress.value = total > 0 ? done / total : 0;
          progressText.textContent = `run ${runs[model - 1] ?? ""}: ${done} of ${total} scored`;
        });
        if (byId("paired-section").dataset.runs !== runs.join(",")) return "";
        this.showPaired({ paired: compared.paired, runs, steps: compared.runs.map((r) => r.step) });
        return pairedSummary(compared.paired, runs);
      });
    } finally {
      progress.hidden = true;
      progressText.textContent = "";
    }
  }

  /** The comparison's figures (a column per run) and the examples the two predict differently; or nothing. */
  private showPaired(shown: { paired: Paired; runs: [number, number]; steps: number[] } | null): void {
    const figures = byId("paired-figures");
    const differing = byId("paired-differing");
    figures.hidden = differing.hidden = shown === null;
    if (shown === null) {
      byId("paired-result").textContent = "";
      figures.replaceChildren();
      differing.replaceChildren();
      return;
    }
    const { paired, runs, steps } = shown;
    const runHead = (i: number) => `run ${runs[i]}${steps[i] === undefined ? "" : ` (step ${steps[i]})`}`;
    figures.replaceChildren(
      el("thead", {}, el("tr", {}, el("th", {}), el("th", { className: "num" }, runHead(0)), el("th", { className: "num" }, runHead(1)))),
      el("tbody", {}, ...pairedFigures(paired).map((r) => el("tr", { "data-figure": r.key }, el("td", {}, r.label), el("td", { className: "num" }, r.a), el("td", { className: "num" }, r.b)))),
    );
    differing.hidden = paired.shown.length === 0;
    const title = paired.differing > paired.shown.length ? `Predicted differently: ${paired.differing} (the first ${paired.shown.length})` : `Predicted differently: ${paired.differing}`;
    differing.replaceChildren(
      el("caption", {}, title),
      el("thead", {}, el("tr", {}, el("th", {}, "example"), el("th", {}, "input"), el("th", {}, "gold"), el("th", {}, `run ${runs[0]}`), el("th", {}, `run ${runs[1]}`))),
      el(
        "tbody",
        {},
        ...paired.shown.map((d) => {
          const row = differingRow(d);
          return el("tr", { className: "paired-row", "data-example": row.example }, el("td", { className: "num" }, row.example), el("td", {}, row.input), el("td", {}, row.gold), el("td", {}, row.a), el("td", {}, row.b));
        }),
      ),
    );
  }

  private showError(error: { kind: string; message: string }): void {
    const banner = byId("error-banner");
    banner.hidden = false;
    banner.dataset.kind = error.kind;
    byId("error-message").textContent = error.message;
    byId("runs-count").textContent = "Runs could not be loaded";
    document.body.dataset.runsState = "error";
  }
}
