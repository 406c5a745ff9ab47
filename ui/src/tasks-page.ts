// The Tasks page: the catalog and imported tasks, and a preview of a task's examples.
import { listTasks, taskPreview, type Example, type TaskEntry, type TaskPreview } from "./api";
import { byId, el, showBanner } from "./dom";
import { describeError, formatCount } from "./runs-format";

/** The task list is loaded once (the catalog takes seconds) and shared with the mixture builder. */
let tasks: Promise<TaskEntry[]> | null = null;

export function loadTasks(): Promise<TaskEntry[]> {
  if (!tasks) {
    tasks = listTasks();
    tasks.catch(() => {
      tasks = null;
    });
  }
  return tasks;
}

const FAMILY_LABELS: Record<string, string> = {
  single: "classification",
  pair: "pair classification",
  regression: "regression",
  mc: "multiple choice",
  span: "span (MRC)",
};

export const familyLabel = (family: string) => FAMILY_LABELS[family] ?? family;

function targetText(example: Example, labels: string[]): string {
  const [kind, value] = Object.entries(example.target)[0] ?? ["", null];
  if (kind === "class" && typeof value === "number") return labels[value] ?? String(value);
  if (kind === "choice" && typeof value === "number") return example.choices[value] ?? String(value);
  if (kind === "span" && Array.isArray(value)) return value.map((a) => (a as { text: string }).text).join(" | ");
  return String(value);
}

export class TasksPage {
  private loaded = false;

  async show(): Promise<void> {
    if (this.loaded) return;
    try {
      const all = await loadTasks();
      this.loaded = true;
      showBanner(byId("tasks-error"), null);
      byId("tasks-count").textContent = `${all.length} tasks: ${all.filter((t) => t.origin === "catalog").length} from the demo catalog, ${all.filter((t) => t.origin === "imported").length} imported`;
      byId("tasks-body").replaceChildren(...all.map((t) => this.row(t)));
      document.body.dataset.tasksState = "loaded";
    } catch (error) {
      showBanner(byId("tasks-error"), describeError(error));
      byId("tasks-count").textContent = "The tasks could not be loaded";
      document.body.dataset.tasksState = "error";
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
    );
  }

  private async preview(task: TaskEntry): Promise<void> {
    const panel = byId("task-preview");
    panel.hidden = false;
    panel.replaceChildren(el("p", {}, "Loading…"));
    try {
      this.showPreview(task, await taskPreview(task.name, 5));
    } catch (error) {
      panel.replaceChildren(el("p", { className: "result error" }, describeError(error).message));
    }
  }

  private showPreview(task: TaskEntry, preview: TaskPreview): void {
    const panel = byId("task-preview");
    panel.dataset.task = task.name;
    panel.replaceChildren(
      el("h3", {}, task.name),
      el("p", { className: "page-sub" }, `${familyLabel(task.family)} · ${formatCount(task.examples)} examples · ${task.source}`),
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
