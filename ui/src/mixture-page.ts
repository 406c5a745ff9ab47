// The mixture builder: pick tasks, the model, the sampling policy, the budget and the training
// knobs, see each task's probability, expected examples and the run's estimated time live,
// launch the run or save it as a spec file for `muppet prefinetune --spec`.
import { estimateRunTime, launchRun, mixtureSummary, saveMixtureSpec, taskTokenLengths, type MixtureRow, type TaskEntry } from "./api";
import { wireBrowse } from "./browse";
import { byId, el, formatBytes, showBanner } from "./dom";
import { defaultForm, defaultWarmup, docStride, estimateRequest, formProblems, launchRequest, overShare, overText, summaryRequest, type MixtureForm } from "./mixture-form";
import { estimateText } from "./run-estimate";
import { describeError, formatCount } from "./runs-format";
import { devOverlapWarnings, mixtureOverlapWarnings, uncheckedTasks } from "./task-overlaps";
import { whyNotTrained } from "./task-spec";
import { familyLabel, loadedTasksVersion, loadTasks } from "./tasks-page";

const NUMBER_FIELDS: [keyof MixtureForm, string][] = [
  ["temperature", "temperature"],
  ["tasksPerUpdate", "tasks-per-update"],
  ["steps", "steps"],
  ["batchSize", "batch-size"],
  ["maxLen", "max-len"],
  ["lr", "lr"],
  ["devSize", "dev-size"],
  ["evalEvery", "eval-every"],
  ["checkpointEvery", "checkpoint-every"],
  ["seed", "seed"],
  ["devices", "devices"],
];

export class MixturePage {
  private tasks: TaskEntry[] = [];
  private loaded = false;
  /** The task list's version when it was loaded (an import changes it). */
  private tasksVersion = -1;
  private summaryRequestId = 0;
  /** Share of each task's examples longer than a max length, by `tokenKey` ("pending" while measured). */
  private readonly tokenShares = new Map<string, number | null | "pending" | "error">();
  private measureTimer = 0;
  private estimateRequestId = 0;
  /** R3F's noise, which the form has no field for: the default, or a stored run's when started from it. */
  private r3fNoise: Pick<MixtureForm, "r3fEps" | "r3fNoise"> = { r3fEps: 1e-5, r3fNoise: "uniform" };

  constructor(
    private readonly defaultBackend: () => string,
    private readonly opened: (run: number) => void,
  ) {
    byId("mixture-form").addEventListener("input", () => this.update());
    byId("mixture-form").addEventListener("change", () => this.update());
    byId("launch-run").addEventListener("click", () => void this.launch());
    byId("save-mixture-spec").addEventListener("click", () => void this.saveSpec());
    const specResult = (message: string) => this.showSpecResult(message, "error");
    wireBrowse("browse-model-path", "model-path", { kind: "folder", title: "Pretrained model folder (config.json, model.safetensors, tokenizer.json)" }, (m) => showBanner(byId("mixture-error"), { kind: "dialog", message: m }));
    wireBrowse("browse-mixture-spec-path", "mixture-spec-path", { kind: "save-file", title: "Save the run spec", label: "Run spec (TOML)", extensions: ["toml"] }, specResult);
  }

  async show(): Promise<void> {
    if (this.loaded && this.tasksVersion === loadedTasksVersion()) return;
    if (!this.loaded) this.fill(defaultForm(this.defaultBackend()));
    try {
      const picked = new Set(this.read().tasks);
      this.tasksVersion = loadedTasksVersion();
      this.tasks = await loadTasks();
      this.loaded = true;
      this.renderTasks(picked);
      showBanner(byId("mixture-error"), null);
    } catch (error) {
      showBanner(byId("mixture-error"), describeError(error));
    }
    this.update();
  }

  /** Open on `form` (a stored run's settings): its fields filled, its tasks picked. */
  async startFrom(form: MixtureForm): Promise<void> {
    await this.show();
    this.fill(form);
    this.renderTasks(new Set(form.tasks));
    this.update();
    // A task of the run that is not here (deleted, or imported elsewhere) is said, not dropped quietly.
    const here = new Set(this.tasks.filter((t) => whyNotTrained(t) === null).map((t) => t.name));
    const missing = form.tasks.filter((t) => !here.has(t));
    if (missing.length > 0)
      showBanner(byId("mixture-error"), { kind: "invalid", message: `The run trained on tasks this data folder cannot train now: ${missing.join(", ")}. Import them on the Tasks page, or launch without them.` });
  }

  private fill(form: MixtureForm): void {
    for (const [key, id] of NUMBER_FIELDS) byId<HTMLInputElement>(id).value = String(form[key]);
    byId<HTMLInputElement>("run-name").value = form.name;
    byId<HTMLInputElement>("mixture-tags").value = form.tags;
    byId<HTMLInputElement>("mixture-note").value = form.note;
    byId<HTMLSelectElement>("sampling").value = form.sampling;
    byId<HTMLInputElement>("cap").value = form.cap === null ? "" : String(form.cap);
    byId<HTMLInputElement>("keep-checkpoints").value = form.keepCheckpoints === null ? "" : String(form.keepCheckpoints);
    byId<HTMLInputElement>("early-stopping").value = form.earlyStopping === null ? "" : String(form.earlyStopping);
    byId<HTMLInputElement>("keep-best").checked = form.keepBest;
    byId<HTMLInputElement>("early-stopping-threshold").value = form.earlyStoppingThreshold === 0 ? "" : String(form.earlyStoppingThreshold);
    byId<HTMLSelectElement>("batching").value = form.batching;
    byId<HTMLInputElement>("loss-scaling").checked = form.lossScaling;
    byId<HTMLInputElement>("mixed-precision").checked = form.mixedPrecision;
    byId<HTMLInputElement>("r3f").checked = form.r3f;
    byId<HTMLInputElement>("r3f-lambda").value = String(form.r3fLambda);
    this.r3fNoise = { r3fEps: form.r3fEps, r3fNoise: form.r3fNoise };
    byId<HTMLInputElement>("warmup").value = form.warmup === null ? "" : String(form.warmup);
    byId<HTMLInputElement>("doc-stride").value = form.docStride === null ? "" : String(form.docStride);
    byId<HTMLSelectElement>("backend").value = form.backend;
    byId<HTMLSelectElement>("model-choice").value = form.model;
    byId<HTMLInputElement>("model-path").value = form.modelPath;
  }

  private renderTasks(picked: Set<string>): void {
    const rows = this.tasks.map((t) => {
      // A task the engine cannot train is shown, but cannot be picked: its title says why.
      const why = whyNotTrained(t);
      const box = el("input", { type: "checkbox", name: "task", value: t.name, checked: why === null && picked.has(t.name), disabled: why !== null });
      box.addEventListener("change", () => this.update());
      return el(
        "label",
        { className: why ? "task-choice not-trained" : "task-choice", "data-task": t.name, title: why ?? "", "aria-disabled": why ? "true" : false },
        box,
        el("span", { className: "task-choice-name" }, t.name),
        el("span", { className: "task-choice-meta" }, `${familyLabel(t.family)} · ${formatCount(t.examples)}`),
        t.downstream ? el("span", { className: "badge", title: "A downstream task: keep it out of pre-finetuning to measure transfer" }, "downstream") : null,
      );
    });
    byId("mixture-tasks").replaceChildren(...rows);
  }

  /** The form as values (numbers parsed, empty cap as none). */
  read(): MixtureForm {
    const form = defaultForm(byId<HTMLSelectElement>("backend").value);
    for (const [key, id] of NUMBER_FIELDS) (form[key] as number) = Number(byId<HTMLInputElement>(id).value);
    const cap = byId<HTMLInputElement>("cap").value.trim();
    form.cap = cap === "" ? null : Number(cap);
    const keep = byId<HTMLInputElement>("keep-checkpoints").value.trim();
    form.keepCheckpoints = keep === "" ? null : Number(keep);
    const patience = byId<HTMLInputElement>("early-stopping").value.trim();
    form.earlyStopping = patience === "" ? null : Number(patience);
    form.keepBest = byId<HTMLInputElement>("keep-best").checked;
    const gain = byId<HTMLInputElement>("early-stopping-threshold").value.trim();
    form.earlyStoppingThreshold = gain === "" ? 0 : Number(gain);
    form.name = byId<HTMLInputElement>("run-name").value;
    form.tags = byId<HTMLInputElement>("mixture-tags").value;
    form.note = byId<HTMLInputElement>("mixture-note").value;
    form.sampling = byId<HTMLSelectElement>("sampling").value as MixtureForm["sampling"];
    form.batching = byId<HTMLSelectElement>("batching").value as MixtureForm["batching"];
    form.lossScaling = byId<HTMLInputElement>("loss-scaling").checked;
    form.mixedPrecision = byId<HTMLInputElement>("mixed-precision").checked;
    form.r3f = byId<HTMLInputElement>("r3f").checked;
    form.r3fLambda = Number(byId<HTMLInputElement>("r3f-lambda").value);
    Object.assign(form, this.r3fNoise);
    const optional = (id: string) => {
      const text = byId<HTMLInputElement>(id).value.trim();
      return text === "" ? null : Number(text);
    };
    form.warmup = optional("warmup");
    form.docStride = optional("doc-stride");
    form.model = byId<HTMLSelectElement>("model-choice").value as MixtureForm["model"];
    form.modelPath = byId<HTMLInputElement>("model-path").value;
    form.tasks = [...document.querySelectorAll<HTMLInputElement>("#mixture-tasks input[name=task]:checked:not(:disabled)")].map((b) => b.value);
    return form;
  }

  private update(): void {
    const form = this.read();
    byId<HTMLInputElement>("temperature").disabled = form.sampling !== "temperature";
    byId<HTMLInputElement>("r3f-lambda").disabled = !form.r3f;
    // Empty: the defaults, a tenth of the steps and a quarter of the max length (at most 32).
    byId<HTMLInputElement>("warmup").placeholder = `${defaultWarmup(form.steps)} (default)`;
    byId<HTMLInputElement>("doc-stride").placeholder = `${docStride(form.maxLen)} (default)`;
    const problems = formProblems(form);
    byId("launch-problems").replaceChildren(...problems.map((p) => el("li", {}, p)));
    byId<HTMLButtonElement>("launch-run").disabled = problems.length > 0;
    byId<HTMLButtonElement>("save-mixture-spec").disabled = problems.length > 0;
    byId("model-folder-row").hidden = form.model !== "folder";
    byId("mixture-budget").textContent = `${formatCount(form.steps)} updates × ${form.tasksPerUpdate} × ${form.batchSize} examples`;
    this.showEstimate(form);
    this.showOverlaps(form.tasks);
    if (form.tasks.length === 0 || problems.some((p) => !p.startsWith("Pick"))) {
      this.showSummary([]);
      return;
    }
    const id = ++this.summaryRequestId;
    mixtureSummary(summaryRequest(form))
      .then((rows) => {
        if (id === this.summaryRequestId) this.showSummary(rows, form);
      })
      .catch((error) => showBanner(byId("mixture-error"), describeError(error)));
  }

  /** The run's wall time from the throughput of the runs completed on this machine. */
  private showEstimate(form: MixtureForm): void {
    const line = byId("mixture-estimate");
    const budget = ["steps", "batchSize", "tasksPerUpdate", "maxLen"] as const;
    if (!budget.every((k) => Number.isInteger(form[k]) && form[k] >= 1)) {
      line.textContent = "";
      return;
    }
    const id = ++this.estimateRequestId;
    estimateRunTime(estimateRequest(form))
      .then((estimate) => {
        if (id === this.estimateRequestId) line.textContent = estimateText(estimate, form.backend, form.maxLen);
      })
      .catch((error) => {
        if (id === this.estimateRequestId) line.textContent = `Estimated time: ${describeError(error).message}`;
      });
  }

  /** Warn when selected tasks share inputs (their shared examples are seen twice), or a selected task's dev task shares inputs with one. */
  private showOverlaps(selected: string[]): void {
    const warnings = [...mixtureOverlapWarnings(selected, this.tasks), ...devOverlapWarnings(selected, this.tasks)];
    const unchecked = uncheckedTasks(selected, this.tasks);
    const items = warnings.map((w) => el("li", { className: "overlap-warning" }, w));
    if (unchecked.length > 0 && selected.length > 1) {
      items.push(el("li", { className: "overlap-unknown" }, `Not checked for shared inputs: ${unchecked.join(", ")} (changed outside the app; the check runs when the app starts).`));
    }
    byId("mixture-overlaps").replaceChildren(...items);
  }

  private showSummary(rows: MixtureRow[], form?: MixtureForm): void {
    const top = Math.max(...rows.map((r) => r.probability), 0);
    const key = (task: string) => (form ? tokenKey(form, task) : "");
    byId("mixture-summary-body").replaceChildren(
      ...rows.map((r) => {
        const bar = el("span", { className: "bar" });
        bar.style.width = `${top > 0 ? (100 * r.probability) / top : 0}%`;
        return el(
          "tr",
          { "data-task": r.name },
          el("td", {}, r.name),
          el("td", { className: "num" }, formatCount(r.examples)),
          el("td", { className: "num probability" }, r.probability.toFixed(3)),
          el("td", { className: "bar-cell" }, bar),
          el("td", { className: "num" }, formatCount(Math.round(r.expected_examples))),
          this.overCell(key(r.name)),
        );
      }),
    );
    // Measured once the form rests (each measure is a child process), not per keystroke.
    window.clearTimeout(this.measureTimer);
    if (form) this.measureTimer = window.setTimeout(() => void this.measureTokens(rows.map((r) => r.name), form), 400);
  }

  /** The "Over max len" cell of a task from what is known of it. */
  private overCell(key: string): HTMLTableCellElement {
    const known = this.tokenShares.get(key);
    const cell = el("td", { className: "num over", "data-key": key }, overText(known ?? "pending"));
    if (typeof known === "number") cell.dataset.over = String(known);
    return cell;
  }

  /** Measure the tasks' token lengths not yet known at this max length and model, one at a time (each is a child process). */
  private async measureTokens(tasks: string[], form: MixtureForm): Promise<void> {
    for (const task of tasks) {
      const key = tokenKey(form, task);
      if (this.tokenShares.has(key)) continue;
      this.tokenShares.set(key, "pending");
      try {
        const lengths = await taskTokenLengths(task, [form.maxLen], form.model === "folder" ? form.modelPath.trim() : null);
        this.tokenShares.set(key, overShare(lengths, form.maxLen));
      } catch {
        this.tokenShares.set(key, "error");
      }
      const cell = document.querySelector<HTMLTableCellElement>(`#mixture-summary-body td.over[data-key="${CSS.escape(key)}"]`);
      cell?.replaceWith(this.overCell(key));
    }
  }

  private async launch(): Promise<void> {
    const button = byId<HTMLButtonElement>("launch-run");
    button.disabled = true;
    try {
      const run = await launchRun(launchRequest(this.read()));
      showBanner(byId("mixture-error"), null);
      this.opened(run);
    } catch (error) {
      showBanner(byId("mixture-error"), describeError(error));
    } finally {
      button.disabled = false;
    }
  }

  private showSpecResult(message: string, state: "done" | "error" | null): void {
    const result = byId("mixture-spec-result");
    result.className = state === "error" ? "result error" : "result";
    result.textContent = message;
    if (state) result.dataset.state = state;
    else delete result.dataset.state;
  }

  /** Write the mixture as a TOML run spec file that `muppet prefinetune --spec FILE` runs. */
  private async saveSpec(): Promise<void> {
    const button = byId<HTMLButtonElement>("save-mixture-spec");
    button.disabled = true;
    this.showSpecResult("Saving…", null);
    try {
      const file = await saveMixtureSpec(launchRequest(this.read()), byId<HTMLInputElement>("mixture-spec-path").value);
      this.showSpecResult(`Spec saved to ${file.path} (${formatBytes(file.bytes)}): run it with muppet prefinetune --spec ${file.path}`, "done");
    } catch (error) {
      this.showSpecResult(describeError(error).message, "error");
    } finally {
      button.disabled = formProblems(this.read()).length > 0;
    }
  }
}

/** The key of a task's token count: the model and the max length it is weighed against. */
function tokenKey(form: MixtureForm, task: string): string {
  return JSON.stringify([form.model === "folder" ? form.modelPath.trim() : "", form.maxLen, task]);
}
