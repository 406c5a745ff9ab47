// One run: live curves (training losses and a dev metric per task) fed by the worker's
// events, cancel and resume, its spec, its checkpoints with Hugging Face export, CSV
// export of its metrics and PNG/SVG export of its charts as shown.
import {
  addRunNote,
  evaluateCheckpoint,
  renameRun,
  cancelRun,
  exportCheckpoint,
  exportRunCsv,
  launchFinetune,
  predictInput,
  predictionRows,
  resumeRun,
  runCurves,
  runDetail,
  saveChart,
  tagRun,
  untagRun,
  type Calibration,
  type Note,
  type Evaluated,
  type EvalResult,
  type RunDetail,
  type TaskEntry,
  type Update,
} from "./api";
import { wireBrowse } from "./browse";
import { withResult } from "./result";
import { calibrationRows, evalRequest, evalTaskOptions, exampleOptions, headOptions, missRow } from "./eval-form";
import { fillFinetuneFields, readFinetuneFields } from "./finetune-fields";
import { answerRows, predictFields, predictRequest, predictTaskOptions, type AnswerRow } from "./predict-form";
import { emptyFinetuneForm, finetuneFormFromSpec, finetuneRequest, finetuneTaskOptions, type FinetuneAgain, type FinetuneForm, type FinetuneSpecJson } from "./finetune-form";
import { loadTasks } from "./tasks-page";
import { LineChart } from "./chart/line-chart";
import { addPoints, devMetrics, devSeries, figureColumn, fromCurves, lossSeries, RUN_FIGURES, runFigures, X_LABELS, type CurveModel, type XMode } from "./curves";
import { byId, el, formatBytes, showBanner } from "./dom";
import { checkpointLabel, describeError, formatCount, formatStatus, formatTimestamp, resourcesText } from "./runs-format";

/** How often a run without an attached worker is re-read while it runs. */
const FOLLOW_EVERY_MS = 2000;

export class RunPage {
  private run: number | null = null;
  private detail: RunDetail | null = null;
  /** A fine-tune's settings to put in the fine-tune form once its starting run is shown. */
  private pendingFinetune: { form: FinetuneForm; of: number } | null = null;
  private model: CurveModel | null = null;
  private readonly lossChart = new LineChart("Training loss", "loss-chart");
  private readonly devChart = new LineChart("Dev metric", "dev-chart");
  private step = 0;
  private totalSteps = 0;
  private redrawTimer = 0;
  private followTimer = 0;
  /** Every task, for the scoring form (its family and labels pick the heads). */
  private evalTasks: TaskEntry[] = [];

  constructor(
    private readonly backToRuns: () => void,
    private readonly openRun: (id: number) => void,
    private readonly defaultBackend: () => string,
    /** Open the mixture builder on a new run with a pre-finetuning run's settings. */
    private readonly runAgain: (detail: RunDetail) => void,
    /** Open the Tasks page's fine-tune of the pretrained model with fine-tune `of`'s settings. */
    private readonly finetuneAgain: (again: FinetuneAgain, of: number) => void,
  ) {
    this.lossChart.element.id = "loss-chart";
    this.devChart.element.id = "dev-chart";
    byId("loss-chart-host").append(this.lossChart.element);
    byId("dev-chart-host").append(this.devChart.element);
    byId("back-to-runs").addEventListener("click", () => this.backToRuns());
    byId("cancel-run").addEventListener("click", () => void this.act(() => cancelRun(this.id())));
    byId("resume-run").addEventListener("click", () => void this.act(() => resumeRun(this.id())));
    byId("run-again").addEventListener("click", () => void this.again());
    for (const id of ["x-axis", "dev-metric"]) byId(id).addEventListener("change", () => this.redraw());
    byId("smoothing").addEventListener("input", () => this.applyOptions());
    byId("log-y").addEventListener("change", () => this.applyOptions());
    byId("export-checkpoint").addEventListener("click", () => void this.exportCheckpoint());
    byId("export-csv").addEventListener("click", () => void this.exportCsv());
    byId("export-chart").addEventListener("click", () => void this.exportChart());
    byId("add-tag").addEventListener("click", () => void this.addTag());
    byId("new-tag").addEventListener("keydown", (event) => {
      if ((event as KeyboardEvent).key === "Enter") void this.addTag();
    });
    byId("add-note").addEventListener("click", () => void this.addNote());
    byId("finetune-launch").addEventListener("click", () => void this.finetune());
    byId("eval-run").addEventListener("click", () => void this.evaluate());
    byId("eval-task").addEventListener("change", () => this.fillEvalChoices());
    byId("predict-run").addEventListener("click", () => void this.predict());
    byId("predict-task").addEventListener("change", () => this.showPredictFields());
    byId("rename-run").addEventListener("click", () => this.showRename(true));
    byId("rename-cancel").addEventListener("click", () => this.showRename(false));
    byId("rename-save").addEventListener("click", () => void this.rename());
    byId("rename-input").addEventListener("keydown", (event) => {
      const key = (event as KeyboardEvent).key;
      if (key === "Enter") void this.rename();
      else if (key === "Escape") this.showRename(false);
    });
    const dialogError = (message: string) => showBanner(byId("run-error"), { kind: "dialog", message });
    wireBrowse("browse-export-path", "export-path", { kind: "folder", title: "Export the checkpoint into (a new or empty folder)" }, dialogError);
    wireBrowse("browse-csv-path", "csv-path", { kind: "save-file", title: "Metrics as CSV", label: "CSV", extensions: ["csv"] }, dialogError);
    wireBrowse("browse-chart-path", "chart-path", { kind: "save-file", title: "Chart (.png or .svg)", label: "Chart (PNG or SVG)", extensions: ["png", "svg"] }, dialogError);
    this.applyOptions();
  }

  private id(): number {
    if (this.run === null) throw new Error("no run is open");
    return this.run;
  }

  async open(run: number): Promise<void> {
    if (this.run !== run) {
      this.run = run;
      this.model = null;
      this.step = 0;
      this.totalSteps = 0;
      byId("export-result").textContent = "";
      byId("csv-result").textContent = "";
      byId("chart-result").textContent = "";
      byId("notes-result").textContent = "";
      byId<HTMLInputElement>("new-tag").value = "";
      byId<HTMLTextAreaElement>("new-note").value = "";
      byId("run-title").textContent = `Run ${run}`;
      this.showRename(false);
      // Another run's choices do not carry over: its latest checkpoint, every head.
      for (const id of ["export-step", "export-task", "finetune-step", "eval-step", "predict-step"]) byId<HTMLSelectElement>(id).value = "";
      this.showEvaluated(null);
      this.showAnswer(null);
    }
    await Promise.all([this.loadDetail(), this.loadCurves()]);
  }

  private async loadDetail(): Promise<void> {
    const run = this.id();
    try {
      const detail = await runDetail(run);
      if (this.run !== run) return;
      this.detail = detail;
      this.showDetail(detail);
      this.followUnattached(detail);
      showBanner(byId("run-error"), detail.run.failure ? { kind: "failed", message: detail.run.failure } : null);
    } catch (error) {
      showBanner(byId("run-error"), describeError(error));
    }
  }

  private async loadCurves(): Promise<void> {
    const run = this.id();
    try {
      const curves = await runCurves(run);
      if (this.run !== run) return;
      // Live points that arrived while loading are newer than the stored ones: keep them.
      const live = this.model;
      this.model = fromCurves(curves);
      if (live) {
        for (const [id, s] of live.series) {
          const stored = this.model.series.get(id);
          const lastStored = stored?.points[stored.points.length - 1]?.step ?? -1;
          const newer = s.points.filter((p) => p.step > lastStored);
          if (stored) stored.points.push(...newer);
          else this.model.series.set(id, s);
        }
      }
      const loss = this.model.series.get("train//loss");
      this.step = Math.max(this.step, loss?.points[loss.points.length - 1]?.step ?? 0);
      this.fillDevMetrics();
      this.redraw();
      this.showProgress();
    } catch (error) {
      showBanner(byId("run-error"), describeError(error));
    }
  }

  onUpdates(updates: Update[]): void {
    if (this.run === null) return;
    let reload = false;
    let grew = false;
    for (const u of updates) {
      if (("run" in u ? u.run : null) !== this.run) continue;
      if (u.type === "event") {
        if (u.event === "metrics") {
          if (!this.model) this.model = { axis: [], series: new Map() };
          grew = addPoints(this.model, u.points).size > 0 || grew;
        } else if (u.event === "step") {
          this.step = u.step;
          this.totalSteps = u.total_steps;
        } else if (u.event === "started") {
          this.totalSteps = u.total_steps;
          reload = true;
        } else {
          reload = true;
        }
      } else if (u.type !== "summary") {
        reload = true;
      }
    }
    if (grew) {
      this.fillDevMetrics();
      this.redraw();
    }
    this.showProgress();
    if (reload) void this.loadDetail();
  }

  /**
   * A run that trains in a worker this app does not supervise (one of an experiment, or
   * started from a terminal: "elsewhere", or cancelling after its Cancel) sends no events
   * here: re-read it from the store while it runs.
   */
  private followUnattached(detail: RunDetail): void {
    window.clearTimeout(this.followTimer);
    if (detail.run.status !== "running" || detail.worker === "running" || detail.worker === "waiting") return;
    const run = detail.run.id;
    this.followTimer = window.setTimeout(() => {
      if (this.run === run && document.body.dataset.page === "run") void this.open(run);
    }, FOLLOW_EVERY_MS);
  }

  private fillDevMetrics(): void {
    if (!this.model) return;
    const select = byId<HTMLSelectElement>("dev-metric");
    const names = devMetrics(this.model);
    const figures = runFigures(this.model);
    const current = [...select.querySelectorAll("option")].map((o) => o.value);
    if ([...names, ...figures].join() === current.join()) return;
    const chosen = select.value;
    const groups = [...new Set(figures.map((k) => RUN_FIGURES[k]?.group ?? ""))];
    select.replaceChildren(
      ...(names.length > 0 ? [el("optgroup", { label: "Dev metric" }, ...names.map((n) => el("option", { value: n }, n)))] : []),
      ...groups.map((group) =>
        el(
          "optgroup",
          { label: group },
          // On hover, the series' name in the runs table and `muppet runs chart --series`.
          ...figures.filter((k) => RUN_FIGURES[k]?.group === group).map((k) => el("option", { value: k, title: `${figureColumn(k)} (muppet runs chart ID --series "${figureColumn(k)}")` }, RUN_FIGURES[k]?.label ?? k)),
        ),
      ),
    );
    if ([...names, ...figures].includes(chosen)) select.value = chosen;
  }

  private applyOptions(): void {
    const options = {
      smoothing: Number(byId<HTMLInputElement>("smoothing").value),
      logY: byId<HTMLInputElement>("log-y").checked,
    };
    this.lossChart.setOptions(options);
    this.devChart.setOptions({ ...options, logY: false });
  }

  /** Rebuild the charts' series from the model, at most every animation frame. */
  private redraw(): void {
    if (this.redrawTimer) return;
    this.redrawTimer = requestAnimationFrame(() => {
      this.redrawTimer = 0;
      if (!this.model) return;
      const mode = byId<HTMLSelectElement>("x-axis").value as XMode;
      const metric = byId<HTMLSelectElement>("dev-metric").value;
      this.lossChart.setOptions({ xLabel: X_LABELS[mode] });
      this.devChart.setOptions({ xLabel: X_LABELS[mode] });
      this.lossChart.setSeries(lossSeries(this.model, mode));
      const figure = RUN_FIGURES[metric];
      const title = figure ? `${figure.group}: ${figure.label}` : "Dev metric";
      this.devChart.setTitle(title);
      const right = byId<HTMLSelectElement>("chart-which").querySelector<HTMLOptionElement>("option[value=right]");
      if (right) right.textContent = `Right chart (${title})`;
      this.devChart.setSeries(metric ? devSeries(this.model, metric, mode) : []);
    });
  }

  private showProgress(): void {
    const total = this.totalSteps || Number((this.detail?.spec as { config?: { steps?: number } })?.config?.steps ?? 0);
    const bar = byId<HTMLProgressElement>("run-progress");
    const done = this.detail?.run.status === "completed" ? total : this.step;
    bar.value = total > 0 ? Math.min(1, done / total) : 0;
    bar.dataset.step = String(done);
    byId("run-progress-text").textContent = total > 0 ? `step ${formatCount(done)} of ${formatCount(total)}` : "";
  }

  private showDetail(detail: RunDetail): void {
    const { run } = detail;
    byId("run-title").textContent = `#${run.id} ${run.name}`;
    const status = byId("run-status");
    const cancelling = detail.worker === "cancelling";
    status.textContent = cancelling
      ? "Cancelling"
      : detail.worker === "waiting"
        ? "Waiting for a slot"
        : detail.worker === "elsewhere"
          ? `${formatStatus(run.status)} (in a process outside the app)`
          : formatStatus(run.status);
    status.className = `status status-${run.status}`;
    status.dataset.status = run.status;
    byId<HTMLButtonElement>("cancel-run").disabled = detail.worker === null || cancelling;
    byId<HTMLButtonElement>("resume-run").disabled =
      detail.worker !== null || !["cancelled", "failed", "queued"].includes(run.status);
    byId("run-again").hidden = run.kind !== "pre_finetune" && run.kind !== "finetune";
    byId("run-spec").textContent = JSON.stringify(detail.spec, null, 2);
    byId("run-folder").textContent = detail.folder;
    byId("run-files").replaceChildren(
      el("thead", {}, el("tr", {}, el("th", {}, "File"), el("th", { className: "num" }, "Size"))),
      el("tbody", {}, ...detail.files.map((f) => el("tr", { "data-path": f.path }, el("td", { className: "path" }, f.path), el("td", { className: "num" }, formatBytes(f.bytes))))),
    );
    byId("run-resources").textContent = resourcesText(run, detail.peak_rss_mb);
    this.showTags(detail.tags);
    this.showNotes(detail.notes);
    byId("checkpoints").replaceChildren(
      el("thead", {}, el("tr", {}, el("th", { className: "num" }, "Step"), el("th", { className: "num" }, "Size"), el("th", {}, "File"))),
      el(
        "tbody",
        {},
        ...detail.checkpoints.map((c) =>
          el(
            "tr",
            { "data-step": c.step, className: c.step === detail.best_checkpoint?.step ? "best" : "" },
            el(
              "td",
              { className: "num" },
              String(c.step),
              c.step === detail.best_checkpoint?.step
                ? el("span", { className: "badge", title: `The best dev score of the run's checkpoints: ${detail.best_checkpoint.score.toFixed(4)} (the mean of its tasks' main dev metrics)` }, "best")
                : null,
            ),
            el("td", { className: "num" }, formatBytes(c.bytes)),
            el("td", { className: "path", title: `sha256 ${c.sha256}` }, c.path),
          ),
        ),
      ),
    );
    fillCheckpoints(byId<HTMLSelectElement>("export-step"), detail);
    byId<HTMLButtonElement>("export-checkpoint").disabled = detail.checkpoints.length === 0;
    const exportTask = byId<HTMLSelectElement>("export-task");
    const chosenTask = exportTask.value;
    exportTask.replaceChildren(el("option", { value: "" }, "encoder + every head"), ...detail.tasks.map((t) => el("option", { value: t }, `${t} model`)));
    exportTask.value = detail.tasks.includes(chosenTask) ? chosenTask : "";
    void this.showFinetune(detail);
    void this.showEval(detail);
    this.showProgress();
  }

  /**
   * A new run with this run's settings: a pre-finetuning run's in the mixture builder, a
   * fine-tune's in the fine-tune form of the run it started from (of the pretrained model's
   * on the Tasks page).
   */
  private async again(): Promise<void> {
    const detail = this.detail;
    if (!detail) return;
    if (detail.run.kind === "pre_finetune") {
      this.runAgain(detail);
      return;
    }
    const again = finetuneFormFromSpec(detail.spec as FinetuneSpecJson, detail.default_model);
    if (again.from === null) {
      this.finetuneAgain(again, detail.run.id);
      return;
    }
    this.pendingFinetune = { form: again.form, of: detail.run.id };
    await this.open(again.from);
    // A run that keeps no checkpoint any more has no fine-tune form to fill.
    if (this.detail?.run.id === again.from && this.detail.checkpoints.length === 0) {
      this.pendingFinetune = null;
      showBanner(byId("run-error"), { kind: "invalid", message: `Run #${again.from} keeps no checkpoint to fine-tune from any more: fine-tune #${detail.run.id} cannot be run again from it.` });
    }
  }

  /** The fine-tune form, for a run with a checkpoint: its checkpoints, and the tasks that train. */
  private async showFinetune(detail: RunDetail): Promise<void> {
    if (!checkpointPanel("finetune-panel", "finetune-step", detail)) return;
    const select = byId<HTMLSelectElement>("finetune-task");
    if (!(select.dataset.run === String(detail.run.id) && select.options.length > 0)) {
      try {
        const options = finetuneTaskOptions(await loadTasks(), detail.tasks);
        select.replaceChildren(...options.map((o) => el("option", { value: o.name }, o.label)));
        select.dataset.run = String(detail.run.id);
      } catch (error) {
        byId("finetune-result").textContent = describeError(error).message;
        return;
      }
    }
    const pending = this.pendingFinetune;
    if (pending && this.run === detail.run.id) {
      this.pendingFinetune = null;
      this.fillFinetune(pending.form);
      const kept = byId<HTMLSelectElement>("finetune-step").value === pending.form.step;
      byId("finetune-result").textContent = `The settings of fine-tune #${pending.of}: change any, then launch.${kept ? "" : ` Its checkpoint (step ${pending.form.step}) is no longer kept: pick one.`}`;
      byId("finetune-panel").scrollIntoView({ block: "start" });
    }
  }

  /** Put `form` in the fine-tune form's fields. */
  private fillFinetune(form: FinetuneForm): void {
    fillFinetuneFields(document, "finetune", form);
  }

  private async finetune(): Promise<void> {
    const form = readFinetuneFields(document, "finetune", emptyFinetuneForm(""));
    const read = finetuneRequest(this.id(), form, this.defaultBackend());
    byId("finetune-problems").replaceChildren(...("problems" in read ? read.problems.map((p) => el("li", {}, p)) : []));
    const result = byId("finetune-result");
    result.textContent = "";
    if ("problems" in read) return;
    const button = byId<HTMLButtonElement>("finetune-launch");
    button.disabled = true;
    try {
      const launched = await launchFinetune(read.request);
      // Its page opens; a warning (a task sharing inputs with this run's) is among its notes.
      this.openRun(launched.run);
    } catch (error) {
      result.textContent = describeError(error).message;
      result.className = "result error";
    } finally {
      button.disabled = false;
    }
  }

  /** The scoring form, for a run with a checkpoint: its checkpoints, and the tasks a head of the run scores. */
  private async showEval(detail: RunDetail): Promise<void> {
    if (!checkpointPanel("eval-panel", "eval-step", detail)) return;
    const select = byId<HTMLSelectElement>("eval-task");
    if (select.dataset.run === String(detail.run.id) && select.options.length > 0) return;
    try {
      this.evalTasks = await loadTasks();
      if (this.run !== detail.run.id) return;
      select.replaceChildren(...evalTaskOptions(this.evalTasks, detail.tasks).map((o) => el("option", { value: o.name }, o.label)));
      select.dataset.run = String(detail.run.id);
      this.fillEvalChoices();
      this.fillPredictTasks(detail);
    } catch (error) {
      byId("eval-result").textContent = describeError(error).message;
    }
  }

  /** The example sets and heads of the chosen task. */
  private fillEvalChoices(): void {
    const runTasks = this.detail?.tasks ?? [];
    const name = byId<HTMLSelectElement>("eval-task").value;
    const task = this.evalTasks.find((t) => t.name === name);
    const fill = (id: string, options: { value: string; label: string }[]) => {
      const select = byId<HTMLSelectElement>(id);
      select.replaceChildren(...options.map((o) => el("option", { value: o.value }, o.label)));
    };
    fill("eval-examples", task ? exampleOptions(name, runTasks) : []);
    const run = this.evalTasks.filter((t) => runTasks.includes(t.name));
    fill("eval-head", task ? headOptions(task, run) : []);
  }

  /** Try it: the run's tasks whose heads answer, for a run with a checkpoint. */
  private fillPredictTasks(detail: RunDetail): void {
    const options = predictTaskOptions(this.evalTasks, detail.tasks);
    const panel = byId("predict-panel");
    if (!checkpointPanel("predict-panel", "predict-step", detail) || options.length === 0) {
      panel.hidden = true;
      return;
    }
    byId<HTMLSelectElement>("predict-task").replaceChildren(...options.map((o) => el("option", { value: o.name }, o.label)));
    this.showPredictFields();
  }

  /** The family of the task picked for Try it ("" when none). */
  private predictFamily(): string {
    const name = byId<HTMLSelectElement>("predict-task").value;
    return this.evalTasks.find((t) => t.name === name)?.family ?? "";
  }

  /** The inputs the picked task's head reads. */
  private showPredictFields(): void {
    const fields = predictFields(this.predictFamily());
    byId("predict-text-name").textContent = fields.text;
    byId("predict-text-b-field").hidden = fields.textB === null;
    byId("predict-text-b-name").textContent = fields.textB ?? "";
    byId("predict-choices-field").hidden = !fields.choices;
    this.showAnswer(null);
  }

  private async predict(): Promise<void> {
    const value = (id: string) => byId<HTMLSelectElement | HTMLTextAreaElement>(id).value;
    const form = { task: value("predict-task"), step: value("predict-step"), text: value("predict-text"), textB: value("predict-text-b"), choices: value("predict-choices") };
    const read = predictRequest(this.id(), this.predictFamily(), form);
    this.showAnswer(null);
    if ("problem" in read) {
      const result = byId("predict-result");
      result.className = "result error";
      result.textContent = read.problem;
      result.dataset.state = "error";
      return;
    }
    const run = this.id();
    await withResult("predict-run", "predict-result", `Asking the head of ${read.request.task}…`, async () => {
      const predicted = await predictInput(read.request);
      if (this.run !== run) return "";
      const { headline, rows } = answerRows(predicted);
      this.showAnswer(rows);
      return `${headline} — step ${formatCount(predicted.step)}, in ${predicted.seconds.toFixed(2)} s`;
    });
  }

  /** The classes or choices of an answer with their probabilities as bars; or none. */
  private showAnswer(rows: AnswerRow[] | null): void {
    const table = byId("predict-answer");
    table.hidden = rows === null || rows.length === 0;
    if (rows === null) byId("predict-result").textContent = "";
    table.replaceChildren(
      ...(rows ?? []).map((r) => {
        const p = r.probability;
        const bar = el("span", { className: "bar" });
        bar.style.width = `${(p * 100).toFixed(1)}%`;
        return el(
          "tr",
          { className: `predict-row${r.predicted ? " predicted" : ""}`, "data-label": r.label, "data-probability": String(p) },
          el("td", {}, r.label),
          el("td", { className: "num" }, p.toFixed(3)),
          el("td", { className: "bar-cell" }, bar),
        );
      }),
    );
  }

  private async evaluate(): Promise<void> {
    const value = (id: string) => byId<HTMLSelectElement>(id).value;
    const request = evalRequest(this.id(), { task: value("eval-task"), step: value("eval-step"), examples: value("eval-examples"), head: value("eval-head") });
    if (request.task === "") {
      byId("eval-result").textContent = "Pick a task to score.";
      return;
    }
    const progress = byId<HTMLProgressElement>("eval-progress");
    const progressText = byId("eval-progress-text");
    progress.hidden = false;
    progress.removeAttribute("value");
    this.showEvaluated(null);
    const run = this.id();
    try {
      await withResult("eval-run", "eval-result", `Scoring ${request.task}…`, async () => {
        const evaluated = await evaluateCheckpoint(request, ({ done, total }) => {
          if (this.run !== run) return;
          progress.value = total > 0 ? done / total : 0;
          progressText.textContent = `${formatCount(done)} of ${formatCount(total)} scored`;
        });
        if (this.run !== run) return "";
        // Its predictions file joins the run's files, its scores the dev chart.
        void this.loadDetail();
        void this.loadCurves();
        return this.showEvaluated(evaluated);
      });
    } finally {
      progress.hidden = true;
      progressText.textContent = "";
    }
  }

  /** A scoring's figures and first misses, and the sentence that says what was scored; or nothing (and no sentence). */
  /** The examples of one cell of the confusion matrix (gold, predicted), read from the predictions file. */
  private async showCell(path: string, gold: string, predicted: string): Promise<void> {
    const table = byId("eval-cell");
    const limit = 50;
    try {
      const { rows, total } = await predictionRows(path, gold, predicted, limit);
      table.hidden = false;
      table.dataset.gold = gold;
      table.dataset.predicted = predicted;
      const caption = `Gold ${gold}, predicted ${predicted}: ${formatCount(total)} example${total === 1 ? "" : "s"}${total > rows.length ? ` (the first ${rows.length})` : ""}`;
      table.replaceChildren(
        el("caption", {}, caption),
        el("thead", {}, el("tr", {}, el("th", { className: "num" }, "Example"), el("th", {}, "Input"), el("th", {}, "p"))),
        el(
          "tbody",
          {},
          ...rows.map((row) => {
            const m = missRow(row);
            return el("tr", { className: "cell-row", "data-example": m.example }, el("td", { className: "num" }, m.example), el("td", {}, m.input), el("td", { className: "num" }, m.detail));
          }),
        ),
      );
    } catch (error) {
      table.hidden = false;
      table.replaceChildren(el("caption", { className: "error" }, describeError(error).message));
    }
  }

  /** The calibration of a scoring: a row per confidence bin; or nothing. */
  private showCalibration(calibration: Calibration | null): void {
    const table = byId("eval-calibration");
    table.hidden = calibration === null;
    if (calibration === null) {
      table.replaceChildren();
      return;
    }
    const { caption, rows } = calibrationRows(calibration);
    table.replaceChildren(
      el("caption", {}, caption),
      el("thead", {}, el("tr", {}, el("th", {}, "Confidence"), el("th", { className: "num" }, "Examples"), el("th", { className: "num" }, "Mean confidence"), el("th", { className: "num" }, "Accuracy"), el("th", { className: "num" }, "Gap"))),
      el(
        "tbody",
        {},
        ...rows.map((r) => el("tr", { "data-bin": r.bin }, el("td", {}, r.range), el("td", { className: "num" }, r.examples), el("td", { className: "num" }, r.confidence), el("td", { className: "num" }, r.accuracy), el("td", { className: "num" }, r.gap))),
      ),
    );
  }

  private showEvaluated(evaluated: Evaluated | null): string {
    const scores = byId("eval-scores");
    const title = byId("eval-misses-title");
    const misses = byId("eval-misses");
    scores.hidden = misses.hidden = title.hidden = evaluated === null;
    if (evaluated === null) {
      const result = byId("eval-result");
      result.className = "result";
      result.textContent = "";
      delete result.dataset.state;
      scores.replaceChildren();
      misses.replaceChildren();
      this.showClasses(null);
      this.showCalibration(null);
      byId("eval-cell").hidden = true;
      byId("eval-cell").replaceChildren();
      return "";
    }
    const r = evaluated.result;
    const of = r.examples_of === r.task ? "" : ` of ${r.examples_of}`;
    const head = r.head_task === null ? `the shared ${r.head === "choice" ? "multiple-choice" : r.head} head` : r.head_task === r.task ? "its own head" : `the head of ${r.head_task}`;
    const which = { dev: "the run's dev examples", train: "the run's training examples", all: "all its examples" }[r.examples];
    const said = `Step ${r.step}: ${r.task}, ${formatCount(r.scored)} examples (${which}${of}) through ${head}; stored as “${r.task} ${r.split}”. Predictions: ${r.predictions} (${formatBytes(r.predictions_bytes)}).`;
    const interval = (metric: string) => {
      const i = r.interval;
      return i && i.metric === metric ? `${i.low.toFixed(4)} – ${i.high.toFixed(4)}` : "";
    };
    scores.replaceChildren(
      el(
        "thead",
        {},
        el("tr", {}, el("th", {}, "Metric"), el("th", { className: "num" }, "Value"), el("th", { className: "num", title: `The 2.5% and 97.5% points of the metric over ${r.interval?.resamples ?? 1000} bootstrap resamples of the examples scored` }, "95% interval")),
      ),
      el("tbody", {}, ...r.scores.map((s) => el("tr", { "data-metric": s.metric }, el("td", {}, s.metric), el("td", { className: "num" }, s.value.toFixed(4)), el("td", { className: "num interval" }, interval(s.metric))))),
    );
    this.showClasses(r.classes, r.predictions);
    this.showCalibration(r.calibration ?? null);
    const shown = evaluated.misses.length;
    title.textContent =
      evaluated.wrong === null
        ? `The ${shown} predictions furthest from their targets`
        : evaluated.wrong === 0
          ? "Every prediction is right"
          : `Wrong: ${formatCount(evaluated.wrong)} of ${formatCount(r.scored)}${evaluated.wrong > shown ? ` (the first ${shown})` : ""}`;
    misses.hidden = shown === 0;
    misses.replaceChildren(
      el("thead", {}, el("tr", {}, el("th", { className: "num" }, "Example"), el("th", {}, "Input"), el("th", {}, "Answer"), el("th", {}, "Predicted"), el("th", {}, ""))),
      el(
        "tbody",
        {},
        ...evaluated.misses.map((row) => {
          const m = missRow(row);
          return el("tr", { "data-example": m.example }, el("td", { className: "num" }, m.example), el("td", {}, m.input), el("td", {}, m.gold), el("td", {}, m.predicted), el("td", { className: "num" }, m.detail));
        }),
      ),
    );
    return said;
  }

  /** A classification scoring's per-class figures and confusion matrix (rows: gold), or nothing. */
  private showClasses(classes: EvalResult["classes"], predictions: string | null = null): void {
    const table = byId("eval-classes");
    const confusion = byId("eval-confusion");
    table.hidden = confusion.hidden = classes === null;
    if (classes === null) {
      table.replaceChildren();
      confusion.replaceChildren();
      return;
    }
    const num = (v: number) => el("td", { className: "num" }, v.toFixed(4));
    table.replaceChildren(
      el("thead", {}, el("tr", {}, el("th", {}, "Class"), ...["Precision", "Recall", "F1", "Support"].map((h) => el("th", { className: "num" }, h)))),
      el("tbody", {}, ...classes.per_class.map((k) => el("tr", { "data-class": k.label }, el("td", {}, k.label), num(k.precision), num(k.recall), num(k.f1), el("td", { className: "num" }, formatCount(k.support))))),
    );
    confusion.replaceChildren(
      el("thead", {}, el("tr", {}, el("th", {}, "gold \\ predicted"), ...classes.labels.map((l) => el("th", { className: "num" }, l)))),
      el(
        "tbody",
        {},
        ...classes.matrix.map((row, gold) =>
          el(
            "tr",
            { "data-gold": classes.labels[gold] ?? "" },
            el("th", {}, classes.labels[gold] ?? ""),
            ...row.map((n, predicted) => {
              const label = classes.labels[predicted] ?? "";
              const cell = el("td", { className: predicted === gold ? "num diagonal" : "num", "data-predicted": label });
              if (n === 0 || predictions === null) {
                cell.textContent = formatCount(n);
                return cell;
              }
              // A count opens its examples.
              const open = el("button", { type: "button", className: "link cell-examples", title: "Show these examples" }, formatCount(n));
              open.addEventListener("click", () => void this.showCell(predictions, classes.labels[gold] ?? "", label));
              cell.append(open);
              return cell;
            }),
          ),
        ),
      ),
    );
  }

  /** The rename form (the run's name to edit, selected) in place of the Rename link, or back. */
  private showRename(open: boolean): void {
    byId("rename-form").hidden = !open;
    byId("rename-run").hidden = open;
    byId("rename-result").textContent = "";
    if (open) {
      const input = byId<HTMLInputElement>("rename-input");
      input.value = this.detail?.run.name ?? "";
      input.focus();
      input.select();
    }
  }

  private async rename(): Promise<void> {
    const save = byId<HTMLButtonElement>("rename-save");
    save.disabled = true;
    try {
      const name = await renameRun(this.id(), byId<HTMLInputElement>("rename-input").value);
      if (this.detail) this.detail.run.name = name;
      byId("run-title").textContent = `#${this.id()} ${name}`;
      this.showRename(false);
    } catch (error) {
      byId("rename-result").textContent = describeError(error).message;
    } finally {
      save.disabled = false;
    }
  }

  private showTags(tags: string[]): void {
    byId("run-tags").replaceChildren(
      ...tags.map((tag) => {
        const remove = el("button", { type: "button", className: "tag-remove", title: `Remove the tag ${tag}` }, "×");
        remove.setAttribute("aria-label", `Remove the tag ${tag}`);
        remove.addEventListener("click", () => void this.annotate(() => untagRun(this.id(), tag).then((t) => this.showTags(t))));
        return el("span", { className: "tag", "data-tag": tag }, tag, remove);
      }),
    );
  }

  private showNotes(notes: Note[]): void {
    byId("run-notes").replaceChildren(
      ...notes.map((n) => el("li", { "data-note": n.id }, el("span", { className: "note-time" }, formatTimestamp(n.created_at, "local")), n.body)),
    );
  }

  private async addTag(): Promise<void> {
    const input = byId<HTMLInputElement>("new-tag");
    await this.annotate(async () => {
      this.showTags(await tagRun(this.id(), input.value));
      input.value = "";
    });
  }

  private async addNote(): Promise<void> {
    const input = byId<HTMLTextAreaElement>("new-note");
    await this.annotate(async () => {
      this.showNotes(await addRunNote(this.id(), input.value));
      input.value = "";
    });
  }

  /** A tag or note change; its error shows under the notes. */
  private async annotate(change: () => Promise<void>): Promise<void> {
    const result = byId("notes-result");
    try {
      await change();
      result.className = "result";
      result.textContent = "";
      result.dataset.state = "done";
    } catch (error) {
      result.className = "result error";
      result.textContent = describeError(error).message;
      result.dataset.state = "error";
    }
  }

  private async act(action: () => Promise<void>): Promise<void> {
    try {
      await action();
      showBanner(byId("run-error"), null);
    } catch (error) {
      showBanner(byId("run-error"), describeError(error));
    }
    await this.loadDetail();
  }

  private async exportCheckpoint(): Promise<void> {
    const step = byId<HTMLSelectElement>("export-step").value;
    const task = byId<HTMLSelectElement>("export-task").value;
    await withResult("export-checkpoint", "export-result", "Exporting…", async () => {
      const summary = await exportCheckpoint(this.id(), step === "" ? null : Number(step), byId<HTMLInputElement>("export-path").value, task || null);
      return `Step ${summary.step} exported to ${summary.out} as ${summary.architecture}: ${summary.files.join(", ")}`;
    });
  }

  private async exportCsv(): Promise<void> {
    await withResult("export-csv", "csv-result", "Writing…", async () => {
      const n = await exportRunCsv(this.id(), byId<HTMLInputElement>("csv-path").value);
      return `${formatCount(n)} points written.`;
    });
  }

  /** The chart picked, as shown (series, colours, smoothing, y axis, zoom), PNG or SVG by the file's extension. */
  private async exportChart(): Promise<void> {
    await withResult("export-chart", "chart-result", "Drawing…", async () => {
      const right = byId<HTMLSelectElement>("chart-which").value === "right";
      const chart = right ? this.devChart : this.lossChart;
      const name = this.detail ? `#${this.detail.run.id} ${this.detail.run.name}` : `Run ${this.id()}`;
      const metric = byId<HTMLSelectElement>("dev-metric").value;
      const figure = RUN_FIGURES[metric];
      const [what, yLabel] = right ? [figure ? figure.label : `dev ${metric}`, figure?.label ?? metric] : ["training loss", "scaled loss"];
      const file = await saveChart(chart.shown(`${name}: ${what}`, yLabel), byId<HTMLInputElement>("chart-path").value);
      return `Chart written to ${file.path} (${formatBytes(file.bytes)}).`;
    });
  }
}

/**
 * A panel that works on a checkpoint (fine-tune, scoring): shown only when the run has one,
 * its checkpoint select listing them ("latest" first) and keeping the step chosen. Returns
 * whether it is shown.
 */
function checkpointPanel(panelId: string, stepsId: string, detail: RunDetail): boolean {
  const panel = byId(panelId);
  panel.hidden = detail.checkpoints.length === 0;
  if (panel.hidden) return false;
  fillCheckpoints(byId<HTMLSelectElement>(stepsId), detail);
  return true;
}

/** A checkpoint select: "latest", then each checkpoint, the best dev one said; the choice kept. */
function fillCheckpoints(steps: HTMLSelectElement, detail: RunDetail): void {
  const step = steps.value;
  steps.replaceChildren(el("option", { value: "" }, "latest"), ...detail.checkpoints.map((c) => el("option", { value: String(c.step) }, checkpointLabel(c.step, detail.best_checkpoint))));
  steps.value = [...steps.options].some((o) => o.value === step) ? step : "";
}
