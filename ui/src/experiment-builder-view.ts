// The experiment builder on the Experiments page: a form for a sample-efficiency sweep, a
// task-count ablation, the batching / loss-scaling ablation or a sweep of fine-tuning settings, turned into a spec by experiment-builder.ts, checked by the shell
// with the library's own checks as it is edited (the plan's size, and each problem under
// its field), saved as a TOML file and run like any spec file. Element ids are relied on by
// tests/tests/desktop.rs.
import { checkExperiment, listRuns, listTasks, runExperiment, saveExperiment, type SpecCheck } from "./api";
import { wireBrowse } from "./browse";
import { byId, el } from "./dom";
import { BATCHINGS, buildSpec, defaultForm, fieldOf, planText, specFileName, type BuilderForm, type Design, type TaskSize } from "./experiment-builder";
import { describeError } from "./runs-format";
import { heldOut, whyNotTrained } from "./task-spec";

/** Wait this long after the last edit before asking the shell to check the spec. */
const CHECK_AFTER_MS = 300;

type Input = HTMLInputElement;

export class ExperimentBuilder {
  private tasks: TaskSize[] = [];
  private checkTimer = 0;
  /** The list field the task buttons add to (the last one focused). */
  private target: Input | null = null;
  private readonly inputs = new Map<string, Input>();
  private readonly errorLists = new Map<string, HTMLElement>();
  private readonly runsBox = el("div", { className: "builder-runs", id: "builder-runs" });
  private readonly sweepStart = el("select", { id: "builder-sweep-start" }, el("option", { value: "base" }, "the base model"));
  private readonly palette = el("div", { className: "builder-palette", id: "builder-palette" });
  private readonly plan = el("p", { className: "builder-plan", id: "builder-plan" }, "");
  private readonly general = el("ul", { className: "problems", id: "builder-errors", "data-errors-for": "" });
  private readonly toml = el("pre", { className: "spec", id: "builder-toml" });
  private readonly status = el("p", { className: "page-sub", id: "builder-status" });
  private checked: SpecCheck | null = null;
  /** Whether the form was edited (or a save tried): problems show only from then on. */
  private touched = false;

  constructor(
    private readonly host: HTMLElement,
    /** Called once a built spec has been launched. */
    private readonly launched: () => void,
  ) {
    this.render();
  }

  /** Re-read the tasks and runs the form offers, then check the spec. */
  async refresh(): Promise<void> {
    try {
      const [tasks, runs] = await Promise.all([listTasks(), listRuns()]);
      this.tasks = tasks.map((t) => ({ name: t.name, examples: t.examples, ...heldOut(t.split) }));
      this.palette.replaceChildren(
        ...tasks.map((t) => {
          // Every design trains its tasks: one the engine cannot train is shown, not offered.
          const why = whyNotTrained(t);
          const b = el(
            "button",
            { type: "button", className: why ? "chip not-trained" : "chip", "data-task": t.name, disabled: why !== null, title: why ?? `${t.examples} examples — add to the field last used` },
            `${t.name} (${t.examples})`,
          );
          b.addEventListener("click", () => this.addTask(t.name));
          return b;
        }),
      );
      const chosen = new Set(this.form().runs);
      const done = runs.filter((r) => r.kind === "pre_finetune" && r.status === "completed");
      this.runsBox.replaceChildren(
        ...(done.length === 0
          ? [el("span", { className: "page-sub" }, "No completed pre-finetuning runs yet.")]
          : done.map((r) => el("label", { className: "check" }, el("input", { type: "checkbox", value: String(r.id), checked: chosen.has(r.id), "data-run": r.id }), ` #${r.id} ${r.name}`))),
      );
      const start = this.sweepStart.value;
      this.sweepStart.replaceChildren(el("option", { value: "base" }, "the base model"), ...done.map((r) => el("option", { value: `run:${r.id}` }, `run #${r.id} ${r.name}`)));
      this.sweepStart.value = [...this.sweepStart.options].some((o) => o.value === start) ? start : "base";
    } catch (error) {
      this.status.textContent = `The tasks and runs could not be read: ${describeError(error).message}`;
    }
    this.scheduleCheck();
  }

  private input(key: string, value: string, attrs: Record<string, string> = {}): Input {
    const input = el("input", { type: "text", id: `builder-${key}`, value, ...attrs });
    this.inputs.set(key, input);
    return input;
  }

  /** A labelled input; `list` fields take task names from the palette. */
  private field(label: string, key: string, value: string, opts: { list?: boolean; hint?: string } = {}): HTMLElement {
    const input = this.input(key, value, opts.hint ? { placeholder: opts.hint } : {});
    if (opts.list) {
      input.classList.add("task-list");
      input.addEventListener("focus", () => (this.target = input));
    }
    return el("label", {}, label, input);
  }

  private errorsFor(field: string): HTMLElement {
    const list = el("ul", { className: "problems field-errors", "data-errors-for": field });
    this.errorLists.set(field, list);
    return list;
  }

  private render(): void {
    const d = defaultForm();
    const design = el(
      "select",
      { id: "builder-design" },
      el("option", { value: "sample_efficiency" }, "Sample efficiency"),
      el("option", { value: "task_count" }, "Task count"),
      el("option", { value: "batching_ablation" }, "Batching / loss-scaling ablation"),
      el("option", { value: "sweep" }, "Sweep of training settings"),
    );
    design.addEventListener("change", () => this.showDesign());
    // A random search draws a number of settings; a grid trains every combination.
    const search = el("select", { id: "builder-sweep-search" }, el("option", { value: "grid" }, "grid: every combination"), el("option", { value: "random" }, "random: draw settings"));
    const count = this.field("Settings to draw", "sw-count", d.sweepCount);
    count.hidden = true;
    // Then more proposed from the scores, round after round (W&B's bayes).
    const guided = this.field("Then guided by the scores", "sw-guided", d.sweepGuided, { hint: "e.g. 8 (empty: none)" });
    guided.title = "After the settings drawn are trained, propose this many more from their scores (a tree-structured Parzen estimator), a round at a time; needs 4 settings drawn";
    guided.hidden = true;
    search.addEventListener("change", () => {
      count.hidden = search.value !== "random";
      guided.hidden = search.value !== "random";
    });
    // Stopping runs that fall behind compares them with this many finished ones.
    const stopEarly = el("input", { type: "checkbox", id: "builder-sw-early-terminate" });
    const minRuns = this.field("… once this many have finished", "sw-min-runs", d.sweepMinRuns, { hint: "3" });
    minRuns.hidden = true;
    const grace = this.field("… from its evaluation number", "sw-grace-evals", d.sweepGraceEvals, { hint: "1" });
    grace.title = "A run may be stopped from this dev evaluation of its own on (the rule's grace_evals): 1 judges it at its first";
    grace.hidden = true;
    stopEarly.addEventListener("change", () => {
      minRuns.hidden = !stopEarly.checked;
      grace.hidden = !stopEarly.checked;
    });
    const base = el("input", { type: "checkbox", id: "builder-base", checked: true });
    const se = el(
      "div",
      { className: "builder-design", "data-design": "sample_efficiency" },
      el("div", { className: "form-grid" }, this.field("Downstream tasks", "downstream", "", { list: true, hint: "winowhy, bbc_news" }), this.field("Training sizes", "sizes", d.sizes, { hint: "16, 32, 64, all" }), this.field("Seeds", "se-seeds", d.seeds, { hint: "3 or 1, 2, 7" })),
      this.errorsFor("sample_efficiency.tasks"),
      this.errorsFor("sample_efficiency.sizes"),
      this.errorsFor("sample_efficiency.seeds"),
      el("h4", {}, "Start from"),
      el("label", { className: "check" }, base, " the base model"),
      el("div", { className: "form-grid" }, this.field("A pre-finetuning stage of this experiment: name", "stage-name", d.stageName), this.field("… and its tasks (none: no stage)", "stage-tasks", "", { list: true, hint: "rt_fresh_rotten, fever_claims" })),
      this.errorsFor("stages"),
      el("p", { className: "page-sub" }, "Completed pre-finetuning runs:"),
      this.runsBox,
      this.errorsFor("sample_efficiency.starts"),
    );
    const tc = el(
      "div",
      { className: "builder-design", "data-design": "task_count", hidden: true },
      el(
        "div",
        { className: "form-grid" },
        this.field("Task pool, in order", "pool", "", { list: true, hint: "sarcasm_headlines, rt_fresh_rotten, …" }),
        this.field("Subset sizes k1 < k2 < …", "task-sizes", d.taskSizes),
        this.field("Order seed (empty: the order given)", "order-seed", ""),
        this.field("Held-out downstream tasks", "held-out", "", { list: true, hint: "winowhy" }),
        this.field("Downstream tasks in every subset (a count or names)", "inside", ""),
        this.field("Seeds", "tc-seeds", d.seeds),
        this.field("Training examples per fine-tune (empty: all)", "train-size", d.trainSize),
      ),
      ...["task_count.pool", "task_count.sizes", "task_count.order_seed", "task_count.held_out", "task_count.inside", "task_count.seeds", "task_count.train_size"].map((f) => this.errorsFor(f)),
    );
    const check = (id: string, label: string, value: string) => el("label", { className: "check" }, el("input", { type: "checkbox", id, value, checked: true }), ` ${label}`);
    const ba = el(
      "div",
      { className: "builder-design", "data-design": "batching_ablation", hidden: true },
      el("p", { className: "page-sub" }, "One mixture pre-finetuned once per batching and loss-scaling setting (the same budget), each then fine-tuned on the downstream tasks, against the base model (MUPPET.md, “Heterogeneous batches”)."),
      el(
        "div",
        { className: "form-grid" },
        this.field("Mixture", "mixture", "", { list: true, hint: "rt_fresh_rotten, sarcasm_headlines, …" }),
        this.field("Downstream tasks", "ba-downstream", "", { list: true, hint: "winowhy, bbc_news" }),
        this.field("Seeds", "ba-seeds", d.seeds),
        this.field("Training examples per fine-tune (empty: all)", "ba-train-size", d.ablationTrainSize),
      ),
      el("div", { className: "form-grid" }, ...BATCHINGS.map((b) => check(`builder-batching-${b}`, b, b)), check("builder-scaling-on", "loss scaling on", "on"), check("builder-scaling-off", "loss scaling off", "off")),
      ...["batching_ablation.mixture", "batching_ablation.downstream", "batching_ablation.batchings", "batching_ablation.loss_scaling", "batching_ablation.seeds", "batching_ablation.train_size"].map((f) => this.errorsFor(f)),
    );
    const sw = el(
      "div",
      { className: "builder-design", "data-design": "sweep", hidden: true },
      el(
        "p",
        { className: "page-sub" },
        "The downstream tasks fine-tuned from one model with every combination of the values below (an empty field is not swept; the training settings give it), several seeds each: which setting fine-tunes best. With tasks to pre-finetune on first, that model is pre-finetuned once per combination of its own values, and every fine-tune starts from each.",
      ),
      el(
        "div",
        { className: "form-grid" },
        this.field("Downstream tasks", "sw-tasks", "", { list: true, hint: "winowhy, bbc_news" }),
        el("label", {}, "Fine-tune from", this.sweepStart),
        el(
          "label",
          { className: "check", title: "Every setting is fine-tuned from the base model too: each start's best setting is compared with the base model's best" },
          el("input", { type: "checkbox", id: "builder-sw-compare-base" }),
          " Compare with the base model",
        ),
        el(
          "label",
          {
            className: "check",
            title:
              "The median rule (W&B's early termination, Optuna's MedianPruner): a fine-tune stops at a dev evaluation when its best score so far is below the median of the finished runs of its task and start at that step (once 3 have finished). Needs “Best of dev every” in the training settings.",
          },
          stopEarly,
          " Stop runs that fall behind",
        ),
        minRuns,
        grace,
        el(
          "label",
          { title: "Grid: every combination of the values. Random search (W&B's): the settings drawn from the values or ranges, each field on its own; a learning rate range (1e-5 .. 1e-3) is drawn on a log scale." },
          "Search",
          search,
        ),
        count,
        guided,
        this.field("Learning rates", "sw-lr", d.sweepLr, { hint: "3e-5, 1e-4 (random: or 1e-5 .. 1e-3)" }),
        this.field("Batch sizes", "sw-batch", d.sweepBatchSize, { hint: "8, 16" }),
        this.field("Updates", "sw-steps", d.sweepSteps, { hint: "the fine-tunes' steps" }),
        this.field("Seeds", "sw-seeds", d.seeds),
        this.field("Training examples per fine-tune (empty: all)", "sw-train-size", d.sweepTrainSize),
      ),
      el("h4", {}, "Pre-finetune first (optional)"),
      el(
        "div",
        { className: "form-grid" },
        this.field("Pre-finetune on (then fine-tune from it)", "sw-stage-tasks", d.sweepStageTasks, { list: true, hint: "rt_fresh_rotten, fever_claims" }),
        this.field("Its tasks per update", "sw-stage-k", d.sweepStageK, { hint: "1, 2, 4" }),
        this.field("Its learning rates", "sw-stage-lr", d.sweepStageLr, { hint: "5e-5, 1e-4" }),
      ),
      ...["sweep.stage_grid", "sweep.tasks", "sweep.grid", "sweep.random", "sweep.count", "sweep.guided", "sweep.start", "sweep.compare_base", "sweep.early_terminate", "sweep.seeds", "sweep.train_size"].map((f) => this.errorsFor(f)),
    );
    const training = el(
      "details",
      { className: "builder-training" },
      el("summary", {}, "Training settings"),
      el(
        "div",
        { className: "form-grid" },
        el("label", {}, "Backend", el("select", { id: "builder-backend" }, el("option", { value: "cpu" }, "cpu"), el("option", { value: "cuda" }, "cuda"))),
        el(
          "label",
          { className: "check", title: "Matrix products in bf16 over f32 weights and optimizer state, as PyTorch's bf16 autocast: for GPUs with bf16 tensor cores (on the CPU it is slower than f32)" },
          el("input", { type: "checkbox", id: "builder-mixed-precision" }),
          " Mixed precision (bf16)",
        ),
      ),
      this.errorsFor("backend"),
      el("h4", {}, "Pre-finetuning (every run: the same step budget)"),
      el(
        "div",
        { className: "form-grid" },
        this.field("Steps", "pft-steps", d.prefinetune.steps),
        this.field("Batch size", "pft-batch", d.prefinetune.batchSize),
        this.field("Tasks per update", "pft-tpu", d.prefinetune.tasksPerUpdate),
        this.field("Max tokens", "pft-maxlen", d.prefinetune.maxLen),
        this.field("Learning rate", "pft-lr", d.prefinetune.lr),
        el(
          "label",
          {},
          "Sampling",
          el(
            "select",
            { id: "builder-sampling" },
            el("option", { value: "natural" }, "natural (∝ size, Muppet)"),
            el("option", { value: "uniform" }, "uniform"),
            el("option", { value: "temperature" }, "temperature (∝ n^(1/T))"),
          ),
        ),
        this.field("T", "pft-temperature", d.temperature),
        this.field("Per-task cap (empty: none)", "pft-cap", d.cap, { hint: "p ∝ min(n, cap)" }),
        el(
          "label",
          { title: "The ablation sets its own batching and loss scaling per variant" },
          "Batching",
          el("select", { id: "builder-batching" }, ...BATCHINGS.map((b) => el("option", { value: b }, b))),
        ),
        el("label", { className: "check" }, el("input", { type: "checkbox", id: "builder-loss-scale", checked: true }), " Loss scaling (L / ln n)"),
      ),
      this.errorsFor("prefinetune"),
      el("h4", {}, "Fine-tunes"),
      el(
        "div",
        { className: "form-grid" },
        this.field("Steps", "ft-steps", d.finetune.steps),
        this.field("Batch size", "ft-batch", d.finetune.batchSize),
        this.field("Max tokens", "ft-maxlen", d.finetune.maxLen),
        this.field("Learning rate", "ft-lr", d.finetune.lr),
        this.field("Dev examples", "ft-dev", d.finetune.devSize),
        el(
          "label",
          { title: "Score dev every N updates and report each fine-tune at its best checkpoint (Trainer's load_best_model_at_end); empty: at its final score" },
          "Best of dev every",
          this.input("ft-best-every", d.finetune.bestEvery, { placeholder: "final" }),
        ),
        el(
          "label",
          { title: "With Best of dev every: stop a fine-tune once this many dev evaluations in a row have not beaten its best (EarlyStoppingCallback); empty: train every update" },
          "Early stopping",
          this.input("ft-early-stopping", d.finetune.earlyStopping, { placeholder: "never" }),
        ),
        el("label", { className: "check" }, el("input", { type: "checkbox", id: "builder-r3f" }), " R3F (λ = 1)"),
        el(
          "label",
          { className: "check", title: "Start each fine-tune from the pre-finetuned head of its task where there is one (the shared head for multiple choice and spans)" },
          el("input", { type: "checkbox", id: "builder-reuse-heads" }),
          " Reuse heads",
        ),
      ),
      this.errorsFor("finetune"),
    );
    const path = this.input("path", "", { placeholder: "/absolute/path/my-experiment.toml" });
    const browse = el("button", { type: "button", id: "browse-builder-path", className: "button secondary" }, "Browse…");
    const save = el("button", { type: "button", id: "builder-save", className: "button secondary" }, "Save spec");
    const run = el("button", { type: "button", id: "builder-run", className: "button" }, "Save and run");
    save.addEventListener("click", () => void this.save(false));
    run.addEventListener("click", () => void this.save(true));
    this.host.replaceChildren(
      el("h3", {}, "Build an experiment"),
      el("div", { className: "form-grid" }, el("label", {}, "Design", design), this.field("Name", "name", "", { hint: "my-sweep" }), this.field("Description", "description", "")),
      this.errorsFor("name"),
      el("p", { className: "page-sub" }, "Tasks (click to add to the task field last used):"),
      this.palette,
      se,
      tc,
      ba,
      sw,
      training,
      this.plan,
      this.general,
      el("div", { className: "export-row" }, path, browse, save, run),
      this.status,
      el("details", {}, el("summary", {}, "The spec as TOML"), this.toml),
    );
    wireBrowse("browse-builder-path", "builder-path", { kind: "save-file", title: "Save the experiment spec", label: "Experiment spec (TOML)", extensions: ["toml"] }, (m) => (this.status.textContent = m));
    this.host.addEventListener("input", (e) => {
      if (e.target === path) return;
      this.touched = true;
      this.scheduleCheck();
    });
    this.host.addEventListener("change", (e) => {
      if (e.target !== path) this.touched = true;
      this.scheduleCheck();
    });
    this.inputs.get("name")!.addEventListener("input", () => {
      // Suggest a file beside the last one chosen, named after the experiment.
      const p = path.value.trim();
      if (p === "" || p.endsWith(".toml")) {
        const dir = p.includes("/") ? p.slice(0, p.lastIndexOf("/") + 1) : "";
        if (dir) path.value = dir + specFileName(this.inputs.get("name")!.value);
      }
    });
  }

  private value(key: string): string {
    return this.inputs.get(key)?.value ?? "";
  }

  private design(): Design {
    return byId<HTMLSelectElement>("builder-design").value as Design;
  }

  private showDesign(): void {
    const design = this.design();
    for (const part of this.host.querySelectorAll<HTMLElement>(".builder-design")) part.hidden = part.dataset.design !== design;
    // The ablation's variants set these.
    for (const id of ["builder-batching", "builder-loss-scale"]) byId<HTMLInputElement>(id).disabled = design === "batching_ablation";
  }

  /** The form as it stands. */
  form(): BuilderForm {
    const design = this.design();
    return {
      design,
      name: this.value("name"),
      description: this.value("description"),
      seeds: this.value({ task_count: "tc-seeds", batching_ablation: "ba-seeds", sample_efficiency: "se-seeds", sweep: "sw-seeds" }[design]),
      prefinetune: { steps: this.value("pft-steps"), batchSize: this.value("pft-batch"), tasksPerUpdate: this.value("pft-tpu"), maxLen: this.value("pft-maxlen"), lr: this.value("pft-lr") },
      finetune: { steps: this.value("ft-steps"), batchSize: this.value("ft-batch"), maxLen: this.value("ft-maxlen"), lr: this.value("ft-lr"), devSize: this.value("ft-dev"), bestEvery: this.value("ft-best-every"), earlyStopping: this.value("ft-early-stopping") },
      backend: byId<HTMLSelectElement>("builder-backend").value,
      mixedPrecision: byId<HTMLInputElement>("builder-mixed-precision").checked,
      batching: byId<HTMLSelectElement>("builder-batching").value as BuilderForm["batching"],
      lossScale: byId<HTMLInputElement>("builder-loss-scale").checked,
      cap: this.value("pft-cap"),
      sampling: byId<HTMLSelectElement>("builder-sampling").value as BuilderForm["sampling"],
      temperature: this.value("pft-temperature"),
      r3f: byId<HTMLInputElement>("builder-r3f").checked,
      reuseHeads: byId<HTMLInputElement>("builder-reuse-heads").checked,
      downstream: this.value("downstream"),
      sizes: this.value("sizes"),
      base: byId<HTMLInputElement>("builder-base").checked,
      runs: [...this.runsBox.querySelectorAll<HTMLInputElement>("input[type=checkbox]:checked")].map((c) => Number(c.value)),
      stageName: this.value("stage-name"),
      stageTasks: this.value("stage-tasks"),
      pool: this.value("pool"),
      taskSizes: this.value("task-sizes"),
      orderSeed: this.value("order-seed"),
      heldOut: this.value("held-out"),
      inside: this.value("inside"),
      trainSize: this.value("train-size"),
      mixture: this.value("mixture"),
      batchings: BATCHINGS.filter((b) => byId<HTMLInputElement>(`builder-batching-${b}`).checked),
      lossScaling: [true, false].filter((on) => byId<HTMLInputElement>(on ? "builder-scaling-on" : "builder-scaling-off").checked),
      ablationDownstream: this.value("ba-downstream"),
      ablationTrainSize: this.value("ba-train-size"),
      sweepTasks: this.value("sw-tasks"),
      sweepStart: this.sweepStart.value,
      sweepCompareBase: byId<HTMLInputElement>("builder-sw-compare-base").checked,
      sweepEarlyTerminate: byId<HTMLInputElement>("builder-sw-early-terminate").checked,
      sweepMinRuns: this.value("sw-min-runs"),
      sweepGraceEvals: this.value("sw-grace-evals"),
      sweepSearch: byId<HTMLSelectElement>("builder-sweep-search").value === "random" ? "random" : "grid",
      sweepCount: this.value("sw-count"),
      sweepGuided: this.value("sw-guided"),
      sweepLr: this.value("sw-lr"),
      sweepBatchSize: this.value("sw-batch"),
      sweepSteps: this.value("sw-steps"),
      sweepTrainSize: this.value("sw-train-size"),
      sweepStageTasks: this.value("sw-stage-tasks"),
      sweepStageK: this.value("sw-stage-k"),
      sweepStageLr: this.value("sw-stage-lr"),
    };
  }

  private addTask(name: string): void {
    this.touched = true;
    const first = { task_count: "pool", batching_ablation: "mixture", sample_efficiency: "downstream", sweep: "sw-tasks" }[this.design()];
    const input = this.target ?? this.inputs.get(first)!;
    const text = input.value.trim();
    input.value = text === "" ? name : `${text.replace(/,\s*$/, "")}, ${name}`;
    input.focus();
    this.scheduleCheck();
  }

  private scheduleCheck(): void {
    window.clearTimeout(this.checkTimer);
    this.checkTimer = window.setTimeout(() => void this.check(), CHECK_AFTER_MS);
  }

  /** Show `errors` under their fields (and the rest above the buttons), once the form was touched. */
  private showErrors(errors: { field: string; message: string }[]): void {
    for (const list of [...this.errorLists.values(), this.general]) list.replaceChildren();
    this.host.dataset.errors = String(errors.length);
    if (!this.touched) return;
    for (const e of errors) {
      const list = this.errorLists.get(e.field) ?? this.general;
      list.append(el("li", {}, e.message));
    }
  }

  /** Build the spec and have the shell check it; returns whether it can be saved. */
  async check(): Promise<boolean> {
    window.clearTimeout(this.checkTimer);
    const built = buildSpec(this.form(), this.tasks);
    this.checked = null;
    if (!built.spec) {
      this.showErrors(built.errors);
      this.plan.textContent = this.touched ? "Fix the fields marked below to see the plan." : "Fill in the form: the plan's size shows here.";
      this.host.dataset.runs = "";
      return false;
    }
    try {
      const check = await checkExperiment(built.spec);
      this.checked = check;
      this.showErrors(check.errors.map((message) => ({ field: fieldOf(message, this.design()), message })));
      this.toml.textContent = check.toml;
      this.plan.textContent = check.runs > 0 ? `Plan: ${planText(check)}` : this.touched ? "The spec does not expand into runs yet." : "Fill in the form: the plan's size shows here.";
      this.host.dataset.runs = String(check.runs);
      return check.errors.length === 0;
    } catch (error) {
      this.showErrors([{ field: "", message: describeError(error).message }]);
      return false;
    }
  }

  private async save(andRun: boolean): Promise<void> {
    this.status.textContent = "";
    this.touched = true;
    if (!(await this.check())) {
      this.status.textContent = "Not saved: fix the problems marked above.";
      return;
    }
    const spec = buildSpec(this.form(), this.tasks).spec!;
    try {
      const path = await saveExperiment(spec, this.value("path"));
      this.status.textContent = `Saved ${path}${this.checked ? ` (${planText(this.checked)})` : ""}.`;
      this.host.dataset.saved = path;
      if (andRun) {
        await runExperiment(path);
        this.status.textContent = `Saved ${path} and started it.`;
        this.launched();
      }
    } catch (error) {
      this.status.textContent = describeError(error).message;
    }
  }
}
