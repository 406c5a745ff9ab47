// The Runs page: loads the runs through the `list_runs` command and renders the table,
// the empty state or the error banner. Element ids are relied on by tests/tests/desktop.rs.
import { listRuns, type RunRow } from "./api";
import { describeError, runCells, runsSummary, type TimeZone } from "./runs-format";

interface RunsPageElements {
  table: HTMLTableElement;
  body: HTMLTableSectionElement;
  empty: HTMLElement;
  count: HTMLElement;
  refresh: HTMLButtonElement;
  banner: HTMLElement;
  bannerMessage: HTMLElement;
}

function byId<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`index.html has no element #${id}`);
  return element as T;
}

function cell(text: string, className: string, title?: string): HTMLTableCellElement {
  const td = document.createElement("td");
  td.className = className;
  td.textContent = text;
  if (title) td.title = title;
  return td;
}

function runRow(run: RunRow, zone: TimeZone): HTMLTableRowElement {
  const cells = runCells(run, zone);
  const tr = document.createElement("tr");
  tr.className = "run-row";
  tr.dataset.runId = cells.id;
  tr.dataset.status = run.status;

  const status = document.createElement("span");
  status.className = cells.statusClass;
  status.textContent = cells.status;
  const statusCell = cell("", "run-status", cells.statusTitle);
  statusCell.append(status);

  tr.append(
    cell(cells.id, "run-id num"),
    cell(cells.name, "run-name"),
    cell(cells.kind, "run-kind"),
    statusCell,
    cell(cells.points, "run-points num"),
    cell(cells.lastLoss, "run-last-loss num"),
    cell(cells.started, "run-started", cells.startedTitle),
  );
  return tr;
}

export class RunsPage {
  private readonly el: RunsPageElements;
  private loading = false;

  constructor(private readonly zone: TimeZone = "local") {
    this.el = {
      table: byId("runs-table"),
      body: byId("runs-body"),
      empty: byId("runs-empty"),
      count: byId("runs-count"),
      refresh: byId("refresh-runs"),
      banner: byId("error-banner"),
      bannerMessage: byId("error-message"),
    };
    this.el.refresh.addEventListener("click", () => void this.load());
  }

  async load(): Promise<void> {
    if (this.loading) return;
    this.loading = true;
    this.el.refresh.disabled = true;
    document.body.dataset.runsState = "loading";
    try {
      this.showRuns(await listRuns());
    } catch (error) {
      this.showError(describeError(error));
    } finally {
      this.loading = false;
      this.el.refresh.disabled = false;
    }
  }

  private showRuns(runs: RunRow[]): void {
    this.el.banner.hidden = true;
    this.el.body.replaceChildren(...runs.map((run) => runRow(run, this.zone)));
    this.el.table.hidden = runs.length === 0;
    this.el.empty.hidden = runs.length !== 0;
    this.el.count.textContent = runsSummary(runs.length);
    document.body.dataset.runsState = runs.length === 0 ? "empty" : "loaded";
  }

  private showError(error: { kind: string; message: string }): void {
    this.el.banner.hidden = false;
    this.el.banner.dataset.kind = error.kind;
    this.el.bannerMessage.textContent = error.message;
    this.el.count.textContent = "Runs could not be loaded";
    document.body.dataset.runsState = "error";
  }
}
