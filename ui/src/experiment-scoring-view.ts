// A card's "Score the pre-finetuned models" panel on the Experiments page: one task scored
// by every completed pre-finetuning run of the experiment (`muppet experiment score`: their last
// checkpoints, or their best where they kept it), with progress and each model's scores. The page rebuilds its cards on every
// refresh; a panel (its choices, progress and result) is kept per experiment and moved into
// the new card. Element classes are relied on by tests/tests/desktop.rs.
import { scorePrefinetuned, type PrefinetunedModel, type TaskEntry } from "./api";
import { el } from "./dom";
import { commonHeads, scoredLine, scoreModelsRequest, scoringExamples, scoringTasks } from "./experiment-scoring";
import { describeError, formatCount } from "./runs-format";
import { loadTasks } from "./tasks-page";

export class ScoringPanel {
  readonly element: HTMLDetailsElement;
  private readonly task = el("select", { className: "score-task" });
  private readonly head = el("select", { className: "score-head" });
  private readonly examples = el("select", { className: "score-examples" });
  private readonly button = el("button", { type: "button", className: "button secondary score-models" }, "Score");
  private readonly progress = el("progress", { max: 1, hidden: true });
  private readonly progressText = el("span", { className: "progress-text" });
  private readonly result = el("div", { className: "score-result" });
  private models: PrefinetunedModel[] = [];
  private tasks: TaskEntry[] = [];

  constructor(private readonly experiment: number) {
    this.element = el(
      "details",
      { className: "score-models-panel" },
      el("summary", {}, "Score the pre-finetuned models"),
      el(
        "p",
        { className: "page-sub" },
        "Each pre-finetuning run's last checkpoint (its best, where it kept one) scores one task, with no fine-tuning (muppet experiment score): a held-out task through a head every model has, or a task they trained on. The scores join each run's metrics; rebuild the report to compare them.",
      ),
      el("div", { className: "form-grid" }, el("label", {}, "Task", this.task), el("label", {}, "Head", this.head), el("label", {}, "Examples", this.examples)),
      el("div", { className: "toolbar" }, this.button, this.progress, this.progressText),
      this.result,
    );
    this.element.addEventListener("toggle", () => {
      if (this.element.open) void this.fill();
    });
    this.task.addEventListener("change", () => this.fillChoices(false));
    this.button.addEventListener("click", () => void this.score());
  }

  /** The experiment's completed pre-finetuning runs, read again at each refresh. */
  update(models: PrefinetunedModel[]): void {
    const changed = models.map((m) => m.run).join() !== this.models.map((m) => m.run).join();
    this.models = models;
    if (changed && this.element.open) void this.fill();
  }

  private async fill(): Promise<void> {
    try {
      this.tasks = await loadTasks();
    } catch (error) {
      this.say(describeError(error).message, "failed");
      return;
    }
    const chosen = this.task.value;
    const options = scoringTasks(this.tasks, this.models);
    this.task.replaceChildren(...options.map((t) => el("option", { value: t.name }, t.label)));
    if (options.some((t) => t.name === chosen)) this.task.value = chosen;
    this.button.disabled = options.length === 0;
    if (options.length === 0) this.say("No task can be scored by every pre-finetuned model of this experiment.", "empty");
    this.fillChoices(this.task.value === chosen);
  }

  /** The head and examples of the task chosen: the first of each for a newly chosen task, the same as before otherwise. */
  private fillChoices(keep: boolean): void {
    const task = this.tasks.find((t) => t.name === this.task.value);
    const fill = (select: HTMLSelectElement, options: { value: string; label: string }[]) => {
      const chosen = select.value;
      select.replaceChildren(...options.map((o) => el("option", { value: o.value }, o.label)));
      if (keep && options.some((o) => o.value === chosen)) select.value = chosen;
    };
    fill(this.head, task ? commonHeads(task, this.tasks, this.models) : []);
    fill(this.examples, task ? scoringExamples(task.name, this.models) : []);
  }

  private async score(): Promise<void> {
    const request = scoreModelsRequest(this.experiment, { task: this.task.value, examples: this.examples.value, head: this.head.value });
    const count = this.models.length;
    this.button.disabled = true;
    this.progress.hidden = false;
    this.progress.removeAttribute("value");
    this.say(`Scoring ${request.task} with ${count} model${count === 1 ? "" : "s"}…`, "running");
    try {
      const results = await scorePrefinetuned(request, ({ done, total, model }) => {
        this.progress.value = total > 0 ? done / total : 0;
        this.progressText.textContent = `model ${model} of ${count}: ${formatCount(done)} of ${formatCount(total)} scored`;
      });
      this.result.replaceChildren(
        el("p", {}, `${request.task}, ${results[0]?.examples ?? ""} examples, through ${results[0]?.head ?? "its head"}; stored as “${request.task} ${results[0]?.split ?? ""}”. Rebuild the report to compare them.`),
        el("ul", {}, ...results.map((r) => el("li", { "data-run-id": r.run }, scoredLine(r)))),
      );
      this.result.dataset.state = "done";
    } catch (error) {
      this.say(describeError(error).message, "failed");
    } finally {
      this.button.disabled = false;
      this.progress.hidden = true;
      this.progressText.textContent = "";
    }
  }

  private say(text: string, state: string): void {
    this.result.replaceChildren(el("p", {}, text));
    this.result.dataset.state = state;
  }
}
