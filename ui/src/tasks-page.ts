// The Tasks page: the catalog and imported tasks with the inputs they share, a preview of
// a task's examples, the form that imports a file as a task, and the Muppet paper's datasets.
import { baseFinetunePanel } from "./base-finetune-view";
import type { FinetuneAgain } from "./finetune-form";
import {
  addPaperTask,
  deleteTasks,
  importTask,
  listTasks,
  paperCatalog,
  taskPreview,
  taskTokenLengths,
  type ImportFormat,
  type PaperEntry,
  type TaskEntry,
  type TaskFamily,
  type TaskPreview,
} from "./api";
import { wireBrowse } from "./browse";
import { byId, el, showBanner } from "./dom";
import { describeError, formatCount } from "./runs-format";
import {
  FAMILY_FIELDS,
  FIELD_LABELS,
  emptyImportForm,
  fieldDefault,
  hasHeader,
  importProblems,
  importRequest,
  importSummary,
  addStepText,
  paperAddedText,
  takesLabels,
  type FieldName,
  type ImportForm,
} from "./task-import";
import { formatPercent, overlapsSummary } from "./task-overlaps";
import { deletedTasksText, deleteTasksQuestion, recordedFields, splitPolicyText, targetText, tasksToDelete, tokensText, whyNotTrained } from "./task-spec";

/** The task list is loaded once (the catalog takes seconds) and shared with the mixture builder. */
let tasks: Promise<TaskEntry[]> | null = null;
/** Bumped when the list changes (an import), so pages holding a copy load it again. */
let tasksVersion = 0;

export function loadTasks(): Promise<TaskEntry[]> {
  if (!tasks) {
    tasks = listTasks();
    tasks.catch(() => {
      tasks = null;
    });
  }
  return tasks;
}

/** Forget the loaded list: the next `loadTasks` asks the app again. */
export function reloadTasks(): void {
  tasks = null;
  tasksVersion += 1;
}

export const loadedTasksVersion = (): number => tasksVersion;

const ALL_FIELDS = Object.keys(FIELD_LABELS) as FieldName[];
const fieldInput = (field: FieldName) => byId<HTMLInputElement>(`import-field-${field.replace("_", "-")}`);

const FAMILY_LABELS: Record<string, string> = {
  single: "classification",
  pair: "pair classification",
  regression: "regression",
  mc: "multiple choice",
  span: "span (MRC)",
  generation: "generation (not trained)",
};

export const familyLabel = (family: string) => FAMILY_LABELS[family] ?? family;

/**
 * What a number input holds, as text: a value the browser could not read as a number
 * (its `value` is then "") is kept as such, so the form reports it instead of sending nothing.
 */
function numberText(input: HTMLInputElement): string {
  return input.validity.badInput ? "not a number" : input.value;
}

/** The task's recorded fields, its own split and why it is not trained, each a short line when present. */
function taskDetails(task: TaskEntry): HTMLElement[] {
  const lines: HTMLElement[] = [];
  const fields = recordedFields(task.fields);
  if (fields) lines.push(el("p", { className: "page-sub task-fields", title: "Which field of the source records was read for what" }, `Fields: ${fields}`));
  const split = splitPolicyText(task.split);
  if (split) lines.push(el("p", { className: "page-sub task-split", title: "The task's own split, used by every run; an unset part is the run's" }, `Own split: ${split}`));
  const why = whyNotTrained(task);
  if (why) lines.push(el("p", { className: "page-sub task-not-trained", title: why }, "Not trained: it can be previewed and checked for shared inputs, but not picked for a mixture or a fine-tune."));
  return lines;
}

export class TasksPage {
  private loaded = false;
  private importing = false;
  /** The tasks shown, for what a deletion takes with it. */
  private all: TaskEntry[] = [];

  constructor(
    private readonly openRun: (id: number) => void,
    private readonly defaultBackend: () => string,
  ) {
    const form = byId("task-import-form");
    form.addEventListener("input", () => this.updateImportForm());
    form.addEventListener("change", () => this.updateImportForm());
    byId("import-path").addEventListener("input", () => this.updateImportForm());
    byId("import-task").addEventListener("click", () => void this.importFile());
    const dialogError = (message: string) => this.showImportError(message);
    wireBrowse(
      "browse-import-file",
      "import-path",
      {
        kind: "open-file",
        title: "File to import as a task",
        label: "Task data",
        extensions: ["jsonl", "json", "csv", "tsv", "txt", "parquet", "gz", "bz2"],
      },
      dialogError,
    );
    wireBrowse("browse-import-folder", "import-path", { kind: "folder", title: "Folder with one sub-folder per class" }, dialogError);
    this.updateImportForm();
  }

  async show(): Promise<void> {
    if (this.loaded) return;
    try {
      const all = await loadTasks();
      this.loaded = true;
      this.showTasks(all);
    } catch (error) {
      showBanner(byId("tasks-error"), describeError(error));
      byId("tasks-count").textContent = "The tasks could not be loaded";
      document.body.dataset.tasksState = "error";
    }
    void this.showPaperCatalog();
  }

  private showTasks(all: TaskEntry[]): void {
    this.all = all;
    showBanner(byId("tasks-error"), null);
    byId("tasks-count").textContent = `${all.length} tasks: ${all.filter((t) => t.origin === "catalog").length} from the demo catalog, ${all.filter((t) => t.origin === "imported").length} imported`;
    byId("tasks-body").replaceChildren(...all.map((t) => this.row(t)));
    document.body.dataset.tasksState = "loaded";
  }

  private async showPaperCatalog(): Promise<void> {
    try {
      const entries = await paperCatalog();
      byId("paper-catalog-body").replaceChildren(...entries.map((e) => this.paperRow(e)));
    } catch (error) {
      byId("paper-catalog-body").replaceChildren(el("tr", {}, el("td", { colSpan: 7, className: "result error" }, describeError(error).message)));
    }
  }

  private paperRow(entry: PaperEntry): HTMLTableRowElement {
    const hub = entry.config ? `${entry.hub} (${entry.config})` : entry.hub;
    const how = entry.command
      ? el("div", { className: "paper-add" }, this.addButton(entry), el("code", { className: "command" }, entry.command), el("div", { className: "paper-add-result result" }))
      : el("span", { className: "page-sub", title: entry.unpickable ?? "" }, "not importable here");
    return el(
      "tr",
      { className: "paper-row", "data-dataset": entry.name, title: [entry.title, entry.note, entry.license].filter(Boolean).join(" · ") },
      el("td", { className: "run-name" }, entry.name),
      el("td", {}, familyLabel(entry.family)),
      el("td", { className: "labels", title: entry.labels.join(", ") }, entry.labels.length ? entry.labels.join(", ") : "—"),
      el("td", {}, entry.metric),
      el("td", {}, hub),
      el("td", { className: "paper-imported" }, entry.imported_as.length ? `yes (${entry.imported_as.join(", ")})` : "no"),
      el("td", {}, how),
    );
  }

  /** Add: the dataset's training split imported as a task, then the lists shown again. */
  private addButton(entry: PaperEntry): HTMLButtonElement {
    const done = entry.imported_as.includes(entry.name);
    const button = el("button", { type: "button", className: "button secondary add-paper", disabled: done, title: done ? `imported as ${entry.name}` : `Import ${entry.hub}'s training split as the task ${entry.name}, and its validation split (if it has one) as the task it is scored on` }, done ? "Added" : "Add");
    button.addEventListener("click", async () => {
      const result = button.parentElement?.querySelector<HTMLElement>(".paper-add-result");
      button.disabled = true;
      button.textContent = "Adding…";
      result?.classList.remove("error");
      if (result) result.textContent = "Downloading or reading the Hugging Face cache, then importing (large datasets take minutes)…";
      try {
        const added = await addPaperTask(entry.name, (step) => {
          if (result) result.textContent = addStepText(step);
        });
        if (result) result.textContent = paperAddedText(added);
        button.textContent = "Added";
        const imported = button.closest("tr")?.querySelector(".paper-imported");
        if (imported) imported.textContent = `yes (${[added.name, ...(added.dev ? [added.dev.name] : [])].join(", ")})`;
        reloadTasks();
        this.showTasks(await loadTasks());
      } catch (error) {
        if (result) {
          result.textContent = describeError(error).message;
          result.classList.add("error");
        }
        button.textContent = "Add";
        button.disabled = false;
      }
    });
    return button;
  }

  /** The form as values. */
  private readImportForm(): ImportForm {
    const form = emptyImportForm();
    form.path = byId<HTMLInputElement>("import-path").value;
    form.format = byId<HTMLSelectElement>("import-format").value as ImportFormat;
    form.name = byId<HTMLInputElement>("import-name").value;
    form.family = byId<HTMLSelectElement>("import-family").value as TaskFamily;
    for (const field of ALL_FIELDS) form.fields[field] = fieldInput(field).value;
    form.labels = byId<HTMLInputElement>("import-labels").value;
    form.license = byId<HTMLInputElement>("import-license").value;
    form.noHeader = byId<HTMLInputElement>("import-no-header").checked;
    form.encoding = byId<HTMLSelectElement>("import-encoding").value as ImportForm["encoding"];
    form.replace = byId<HTMLInputElement>("import-replace").checked;
    form.devSize = numberText(byId<HTMLInputElement>("import-dev-size"));
    form.splitSeed = numberText(byId<HTMLInputElement>("import-split-seed"));
    form.devTask = byId<HTMLInputElement>("import-dev-task").value;
    return form;
  }

  /** Show the family's fields with the importer's defaults, and what is missing. */
  private updateImportForm(): void {
    const form = this.readImportForm();
    const shown = new Set(FAMILY_FIELDS[form.family]);
    for (const field of ALL_FIELDS) {
      const input = fieldInput(field);
      (input.closest("label") as HTMLElement).hidden = !shown.has(field);
      input.placeholder = fieldDefault(form.family, form.format, field);
    }
    byId("import-labels-row").hidden = !takesLabels(form.family);
    byId("import-no-header-row").hidden = !hasHeader(form.format);
    byId("browse-import-file").hidden = form.format === "folder";
    byId("browse-import-folder").hidden = form.format !== "folder";
    byId<HTMLInputElement>("import-path").placeholder = form.format === "folder" ? "/absolute/path/folder" : "/absolute/path/data.jsonl";
    const problems = importProblems(form);
    byId("import-problems").replaceChildren(...problems.map((p) => el("li", {}, p)));
    byId<HTMLButtonElement>("import-task").disabled = this.importing || problems.length > 0;
  }

  private showImportError(message: string | null): void {
    const error = byId("import-error");
    error.hidden = message === null;
    error.textContent = message ?? "";
  }

  /** Import, then show the new list with the task picked out and previewed. */
  private async importFile(): Promise<void> {
    const request = importRequest(this.readImportForm());
    this.importing = true;
    this.updateImportForm();
    byId("import-busy").hidden = false;
    byId("import-result").textContent = "";
    this.showImportError(null);
    document.body.dataset.importState = "running";
    try {
      const report = await importTask(request);
      byId("import-result").textContent = importSummary(report);
      reloadTasks();
      const all = await loadTasks();
      this.showTasks(all);
      void this.showPaperCatalog();
      const row = document.querySelector<HTMLElement>(`#tasks-body tr[data-task="${CSS.escape(report.name)}"]`);
      row?.classList.add("just-imported");
      row?.scrollIntoView({ block: "nearest" });
      const task = all.find((t) => t.name === report.name);
      if (task) void this.preview(task);
      document.body.dataset.importState = "done";
    } catch (error) {
      this.showImportError(describeError(error).message);
      document.body.dataset.importState = "error";
    } finally {
      this.importing = false;
      byId("import-busy").hidden = true;
      this.updateImportForm();
    }
  }

  private row(task: TaskEntry): HTMLTableRowElement {
    const name = el("button", { type: "button", className: "link" }, task.name);
    name.addEventListener("click", () => void this.preview(task));
    const badges = el(
      "span",
      {},
      task.downstream ? el("span", { className: "badge", title: "Held out of pre-finetuning mixtures" }, "downstream") : null,
      task.origin === "imported" ? el("span", { className: "badge" }, "imported") : null,
    );
    return el(
      "tr",
      { className: "task-row", "data-task": task.name },
      el("td", { className: "run-name" }, name, " ", badges),
      el("td", {}, familyLabel(task.family)),
      el("td", { className: "num" }, formatCount(task.examples)),
      el("td", { className: "labels", title: task.labels.join(", ") }, task.labels.length ? task.labels.join(", ") : "—"),
      el("td", {}, task.metric),
      el("td", { className: "license", title: task.source }, task.license),
      el(
        "td",
        { className: task.overlaps?.length ? "overlaps shared" : "overlaps", title: "Distinct normalised inputs also found in the other task" },
        overlapsSummary(task),
      ),
    );
  }

  /**
   * Show task `again.settings.form.task` with its fine-tune of the pretrained model filled with
   * fine-tune `again.of`'s settings (the run page's *New run from these settings*).
   */
  async startFinetune(settings: FinetuneAgain, of: number): Promise<void> {
    await this.show();
    const task = this.all.find((t) => t.name === settings.form.task);
    if (!task || task.not_trained) {
      showBanner(byId("tasks-error"), { kind: "invalid", message: `Fine-tune #${of} trained on \`${settings.form.task}\`, which this data folder cannot train now: import it again to fine-tune on it.` });
      return;
    }
    await this.preview(task, { settings, of });
    byId("task-preview").scrollIntoView({ block: "start" });
  }

  private async preview(task: TaskEntry, again: { settings: FinetuneAgain; of: number } | null = null): Promise<void> {
    const panel = byId("task-preview");
    panel.hidden = false;
    panel.replaceChildren(el("p", {}, "Loading…"));
    try {
      this.showPreview(task, await taskPreview(task.name, 5), again);
    } catch (error) {
      panel.replaceChildren(el("p", { className: "result error" }, describeError(error).message));
    }
  }

  /** *Delete task* for an imported task: asked first, naming the tasks scored on it that go too. */
  private deleteControls(task: TaskEntry): HTMLElement {
    const names = tasksToDelete(task, this.all);
    const ask = el("button", { type: "button", className: "button secondary delete-task" }, "Delete task");
    const yes = el("button", { type: "button", className: "button danger delete-task-yes" }, "Delete");
    const no = el("button", { type: "button", className: "button secondary delete-task-no" }, "Keep");
    const result = el("p", { className: "result" });
    const confirm = el("div", { className: "confirm-panel delete-task-confirm", role: "alertdialog", hidden: true }, el("p", {}, deleteTasksQuestion(names, this.all.filter((t) => names.includes(t.name)).reduce((n, t) => n + t.examples, 0))), el("div", { className: "toolbar" }, yes, no), result);
    ask.addEventListener("click", () => {
      confirm.hidden = false;
      ask.hidden = true;
    });
    no.addEventListener("click", () => {
      confirm.hidden = true;
      ask.hidden = false;
    });
    yes.addEventListener("click", async () => {
      yes.disabled = true;
      try {
        const deleted = await deleteTasks(names);
        byId("tasks-result").textContent = deletedTasksText(deleted);
        byId("task-preview").hidden = true;
        reloadTasks();
        this.showTasks(await loadTasks());
        void this.showPaperCatalog();
      } catch (error) {
        result.textContent = describeError(error).message;
        result.className = "result error";
        yes.disabled = false;
      }
    });
    return el("div", { className: "task-delete" }, ask, confirm);
  }

  /** The task's lengths in the model's tokens, measured in a child process as the line shows (`muppet tasks show`). */
  private tokensLine(task: TaskEntry): HTMLElement {
    const line = el("p", { className: "page-sub task-tokens" }, "Tokens: measuring…");
    taskTokenLengths(task.name, [], null)
      .then((t) => {
        line.textContent = t ? tokensText(t, task.family) : "Tokens: the model is not fetched.";
        line.dataset.state = "done";
        if (t) line.dataset.p50 = String(t.lengths.p50);
      })
      .catch((error) => {
        line.textContent = `Tokens: ${describeError(error).message}`;
        line.dataset.state = "error";
      });
    return line;
  }

  private showPreview(task: TaskEntry, preview: TaskPreview, again: { settings: FinetuneAgain; of: number } | null): void {
    const panel = byId("task-preview");
    panel.dataset.task = task.name;
    panel.replaceChildren(
      el("h3", {}, task.name),
      el("p", { className: "page-sub" }, `${familyLabel(task.family)} · ${formatCount(task.examples)} examples · ${task.source}`),
      el("p", { className: "page-sub" }, `License: ${task.license}`),
      ...taskDetails(task),
      this.tokensLine(task),
      ...(task.origin === "imported" ? [this.deleteControls(task)] : []),
      ...(task.not_trained ? [] : [baseFinetunePanel(task.name, this.defaultBackend(), this.openRun, again)]),
      ...(task.overlaps?.length
        ? [el("ul", { className: "task-overlaps" }, ...task.overlaps.map((o) => el("li", {}, `${formatCount(o.shared)} of its ${formatCount(o.inputs)} inputs are also in ${o.other} (${formatPercent(o.percent)})`)))]
        : []),
      ...preview.examples.map((e) =>
        el(
          "div",
          { className: "example" },
          el("p", {}, e.text_a),
          e.text_b ? el("p", { className: "text-b" }, e.text_b) : null,
          e.choices.length ? el("ol", { className: "choices" }, ...e.choices.map((c) => el("li", {}, c))) : null,
          el("p", { className: "target" }, "→ ", el("strong", {}, targetText(e, preview.labels))),
        ),
      ),
    );
  }
}
