// The experiment builder's logic, free of the DOM: the form's text fields turned into an
// experiment spec object with the shape of muppet_core::ExperimentSpec (what
// experiments/*.toml hold), for the two signature designs, the batching / loss-scaling
// ablation and a sweep of fine-tuning settings. The form only catches what it
// must to build an object (numbers that are not numbers, "all" without downstream tasks);
// every other check is the library's, run by the shell (check_experiment), whose messages
// start with the spec field they concern; `fieldOf` places each under its input.

export type Design = "sample_efficiency" | "task_count" | "batching_ablation" | "sweep";

/** The batchings of the ablation, in the order MUPPET.md gives them. */
export const BATCHINGS = ["heterogeneous", "homogeneous", "sequential"] as const;

/** A task the data folder has, with its number of examples. */
export interface TaskSize {
  name: string;
  examples: number;
  /** The dev examples the task holds out itself (its split policy); absent: the fine-tune's dev size. */
  devSize?: number;
}

export interface TrainingFields {
  steps: string;
  batchSize: string;
  maxLen: string;
  lr: string;
}

export interface BuilderForm {
  design: Design;
  name: string;
  description: string;
  /** A count ("3": seeds 1 to 3) or a list ("1, 2, 7"). */
  seeds: string;
  prefinetune: TrainingFields & { tasksPerUpdate: string };
  /**
   * `bestEvery`: score dev every N updates and report each fine-tune at its best (keep_best); empty: its final score.
   * `earlyStopping`: with `bestEvery`, stop a fine-tune after this many evaluations without a better score; empty: never.
   */
  finetune: TrainingFields & { devSize: string; bestEvery: string; earlyStopping: string };
  /** Every run's backend: "cpu" or "cuda". */
  backend: string;
  /** bf16 matrix products over f32 weights (muppet_model::MixedPrecision), in every run. */
  mixedPrecision: boolean;
  /** How pre-finetuning forms its updates (MUPPET.md, "Heterogeneous batches"); the ablation sets its own. */
  batching: (typeof BATCHINGS)[number];
  /** Muppet's loss scaling (each loss over ln n) in pre-finetuning; the ablation sets its own. */
  lossScale: boolean;
  /** Per-task cap of the sampling (p ∝ min(n, cap)); empty: none. */
  cap: string;
  /** How pre-finetuning draws its tasks (MUPPET.md, "Sampling"); `temperature` is T for p ∝ n^(1/T). */
  sampling: "natural" | "uniform" | "temperature";
  temperature: string;
  /** R3F in every fine-tune (λ = 1, uniform noise 1e-5), as the paper fine-tunes. */
  r3f: boolean;
  /** Fine-tunes start from the pre-finetuned head of their task, where there is one. */
  reuseHeads: boolean;
  // Sample efficiency.
  /** Downstream tasks, comma-separated. */
  downstream: string;
  /** Training sizes, e.g. "16, 32, 64, all". */
  sizes: string;
  base: boolean;
  /** Completed pre-finetuning runs to start from. */
  runs: number[];
  /** A pre-finetuning stage defined in the experiment (no tasks: none). */
  stageName: string;
  stageTasks: string;
  // Task count.
  /** The task pool in the order subsets take it. */
  pool: string;
  /** Subset sizes k1 < k2 < ... */
  taskSizes: string;
  /** Empty: the order given; a number: the pool shuffled with that seed. */
  orderSeed: string;
  /** Downstream tasks outside the pool. */
  heldOut: string;
  /** Downstream tasks in every subset: a count (the first n of the pool) or names. */
  inside: string;
  /** Training examples per fine-tune; empty: all. */
  trainSize: string;
  // Batching / loss-scaling ablation.
  /** The one mixture every variant pre-finetunes on. */
  mixture: string;
  /** Of BATCHINGS. */
  batchings: string[];
  /** Loss scaling on, off, or both. */
  lossScaling: boolean[];
  /** Downstream tasks each variant is fine-tuned on. */
  ablationDownstream: string;
  /** Training examples per fine-tune; empty: all. */
  ablationTrainSize: string;
  // Sweep.
  /** Downstream tasks every setting fine-tunes. */
  sweepTasks: string;
  /** "base" or "run:ID": the model every setting fine-tunes from. */
  sweepStart: string;
  /** Also fine-tune every setting from the base model, to compare the start with it. */
  sweepCompareBase: boolean;
  /** Stop the fine-tunes that fall behind the finished ones (the median rule). */
  sweepEarlyTerminate: boolean;
  /** How many finished runs a run is compared with (the rule's `min_runs`). */
  sweepMinRuns: string;
  /** From which of its dev evaluations a run may be stopped (the rule's `grace_evals`). */
  sweepGraceEvals: string;
  /** "grid": every combination of the values; "random": `sweepCount` settings drawn from them. */
  sweepSearch: "grid" | "random";
  /** How many settings a random search draws. */
  sweepCount: string;
  /** How many more a random search then proposes from the scores (`guided`); empty: none. */
  sweepGuided: string;
  /**
   * The grid: values of each fine-tuning setting, comma-separated; an empty field is not
   * swept. A random search also takes a range, `1e-5 .. 1e-3` (learning rates drawn
   * log-uniformly, whole numbers uniformly).
   */
  sweepLr: string;
  sweepBatchSize: string;
  sweepSteps: string;
  /** Training examples per fine-tune; empty: all. */
  sweepTrainSize: string;
  /** Tasks of a pre-finetuning stage to sweep first (every setting fine-tunes from it); empty: none. */
  sweepStageTasks: string;
  /** The stage grid: values of its tasks per update and learning rate, comma-separated; an empty field is not swept. */
  sweepStageK: string;
  sweepStageLr: string;
}

export type Seeds = number | number[];

/** Where a random search draws a setting from (serde names of `Draw`). */
export type Draw = { values: number[] } | { min: number; max: number; distribution: "log_uniform_values" | "int_uniform" | "uniform" };

/** The spec object, as the shell reads it (serde names of ExperimentSpec). */
export interface ExperimentSpecJson {
  name: string;
  description?: string;
  backend?: string;
  prefinetune: Record<string, unknown>;
  finetune: Record<string, unknown>;
  stages?: { name: string; tasks: string[] }[];
  sample_efficiency?: { tasks: string[]; sizes: number[]; seeds: Seeds; starts: string[]; reuse_heads?: boolean };
  task_count?: {
    pool: string[];
    sizes: number[];
    order_seed?: number;
    inside: number | string[];
    held_out: string[];
    seeds: Seeds;
    train_size?: number;
    reuse_heads?: boolean;
  };
  batching_ablation?: {
    mixture: string[];
    batchings: string[];
    loss_scaling: boolean[];
    downstream: string[];
    seeds: Seeds;
    train_size?: number;
    reuse_heads?: boolean;
  };
  sweep?: {
    tasks: string[];
    grid: Record<string, number[]>;
    random?: Record<string, Draw>;
    count?: number;
    guided?: number;
    stage_grid?: Record<string, number[]>;
    seeds: Seeds;
    start: string;
    train_size?: number;
    reuse_heads?: boolean;
    compare_base?: boolean;
    early_terminate?: { rule: "median"; min_runs?: number; grace_evals?: number };
  };
}

/** A problem found by the form, under the spec field it concerns. */
export interface FieldError {
  field: string;
  message: string;
}

export interface Built {
  spec: ExperimentSpecJson | null;
  errors: FieldError[];
}

/** Settings like the demo's (experiments/demo.toml): minutes on a laptop CPU. */
export function defaultForm(design: Design = "sample_efficiency"): BuilderForm {
  return {
    design,
    name: "",
    description: "",
    seeds: "3",
    prefinetune: { steps: "150", batchSize: "8", tasksPerUpdate: "2", maxLen: "64", lr: "1e-4" },
    finetune: { steps: "16", batchSize: "8", maxLen: "64", lr: "1e-4", devSize: "100", bestEvery: "", earlyStopping: "" },
    backend: "cpu",
    mixedPrecision: false,
    batching: "heterogeneous",
    lossScale: true,
    cap: "",
    sampling: "natural",
    temperature: "2",
    r3f: false,
    reuseHeads: false,
    downstream: "",
    sizes: "16, 32, 64, 128, 256",
    base: true,
    runs: [],
    stageName: "pft",
    stageTasks: "",
    pool: "",
    taskSizes: "1, 2, 4",
    orderSeed: "",
    heldOut: "",
    inside: "",
    trainSize: "64",
    mixture: "",
    batchings: [...BATCHINGS],
    lossScaling: [true, false],
    ablationDownstream: "",
    ablationTrainSize: "128",
    sweepTasks: "",
    sweepStart: "base",
    sweepCompareBase: false,
    sweepEarlyTerminate: false,
    sweepMinRuns: "3",
    sweepGraceEvals: "1",
    sweepSearch: "grid",
    sweepCount: "8",
    sweepGuided: "",
    sweepLr: "3e-5, 1e-4, 3e-4",
    sweepBatchSize: "8, 16",
    sweepSteps: "",
    sweepTrainSize: "128",
    sweepStageTasks: "",
    sweepStageK: "",
    sweepStageLr: "",
  };
}

/** Task names from a comma- or space-separated field, in order. */
export function parseNames(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

function integer(text: string): number | null {
  const t = text.trim();
  return /^\d+$/.test(t) ? Number(t) : null;
}

function number(text: string): number | null {
  const t = text.trim();
  if (t === "") return null;
  const v = Number(t);
  return Number.isFinite(v) ? v : null;
}

/**
 * Examples a fine-tune of a task can train on: what its dev split leaves (the dev split
 * takes `devSize`, at most half the task), as muppet_train::experiment::check counts.
 */
export function usableExamples(examples: number, devSize: number): number {
  return examples - Math.min(devSize, Math.floor(examples / 2));
}

/**
 * Sizes from "16, 32, all": "all" is every training example of the smallest downstream
 * task (`all`, null when unknown). Order and uniqueness are left to the library's check.
 */
export function parseSizes(text: string, all: number | null): { sizes: number[]; error: string | null } {
  const sizes: number[] = [];
  for (const part of text.split(/[\s,]+/).filter((s) => s !== "")) {
    if (part.toLowerCase() === "all") {
      if (all === null) return { sizes, error: "“all” needs the downstream tasks first: choose them, or give a number" };
      sizes.push(all);
      continue;
    }
    const n = integer(part);
    if (n === null) return { sizes, error: `“${part}” is no size: give whole numbers of examples (or “all”), e.g. 16, 32, 64, all` };
    sizes.push(n);
  }
  return { sizes, error: null };
}

/** "3" is a count (seeds 1 to 3), "1, 2, 7" a list. */
export function parseSeeds(text: string): { seeds: Seeds; error: string | null } {
  const parts = text.split(/[\s,]+/).filter((s) => s !== "");
  const values = parts.map(integer);
  if (parts.length === 0) return { seeds: [], error: "give a number of seeds (3) or a list (1, 2, 7)" };
  if (values.some((v) => v === null)) return { seeds: [], error: `“${text.trim()}” is not a number of seeds or a list of whole numbers` };
  const numbers = values as number[];
  return { seeds: parts.length === 1 && !text.includes(",") ? (numbers[0] as number) : numbers, error: null };
}

function training(form: TrainingFields, section: string, errors: FieldError[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const whole = (text: string, key: string): void => {
    const v = integer(text);
    if (v === null) errors.push({ field: section, message: `${section}.${key}: “${text}” is not a whole number` });
    else out[key] = v;
  };
  whole(form.steps, "steps");
  whole(form.batchSize, "batch_size");
  whole(form.maxLen, "max_len");
  const lr = number(form.lr);
  if (lr === null || lr <= 0) errors.push({ field: section, message: `${section}.lr: “${form.lr}” is not a positive learning rate (e.g. 1e-4)` });
  else out.lr = lr;
  // Derived as in the shipped specs: a window overlap of a quarter, a tenth of warm-up.
  if (typeof out.max_len === "number") out.doc_stride = Math.floor(out.max_len / 4);
  if (typeof out.steps === "number") out.warmup = Math.floor(out.steps / 10);
  return out;
}

/** The smallest training split among `names` (null if one is unknown or none given); a task's own dev size wins over `devSize`. */
export function smallestUsable(names: string[], tasks: TaskSize[], devSize: number): number | null {
  if (names.length === 0) return null;
  let least = Infinity;
  for (const n of names) {
    const task = tasks.find((t) => t.name === n);
    if (!task) return null;
    least = Math.min(least, usableExamples(task.examples, task.devSize ?? devSize));
  }
  return least;
}

/**
 * One field of a random search: `a .. b` is a range (drawn on a log scale with `logScale`, a
 * learning rate; else uniformly, whole numbers with `whole`), `a, b, c` values drawn from;
 * empty: not drawn. A string says what is wrong.
 */
export function parseDraw(text: string, whole: boolean, logScale: boolean): Draw | null | string {
  const range = text.split("..");
  const read = (p: string) => (whole ? integer(p.trim()) : number(p.trim()));
  const kind = whole ? "a whole number" : "a number";
  if (range.length === 2) {
    const [min, max] = [read(range[0] ?? ""), read(range[1] ?? "")];
    if (min === null || max === null) return `“${text.trim()}”: a range is two numbers, ${whole ? "whole, " : ""}as in ${whole ? "8 .. 32" : "1e-5 .. 1e-3"}`;
    if (min >= max) return `“${text.trim()}”: the first number must be below the second`;
    if (logScale && min <= 0) return `“${text.trim()}”: drawn on a log scale, so it must start above 0`;
    return { min, max, distribution: logScale ? "log_uniform_values" : whole ? "int_uniform" : "uniform" };
  }
  if (range.length > 2) return `“${text.trim()}”: give one range, as in 1e-5 .. 1e-3`;
  const parts = text.split(/[\s,]+/).filter((p) => p !== "");
  if (parts.length === 0) return null;
  const values = parts.map(read);
  const bad = parts.find((_, i) => values[i] === null);
  return bad === undefined ? { values: values as number[] } : `“${bad}” is not ${kind}`;
}

/** The spec object of a form, or the form's own problems. */
export function buildSpec(form: BuilderForm, tasks: TaskSize[]): Built {
  const errors: FieldError[] = [];
  const prefinetune = training(form.prefinetune, "prefinetune", errors);
  const finetune = training(form.finetune, "finetune", errors);
  const tpu = integer(form.prefinetune.tasksPerUpdate);
  if (tpu === null) errors.push({ field: "prefinetune", message: `prefinetune.tasks_per_update: “${form.prefinetune.tasksPerUpdate}” is not a whole number` });
  else prefinetune.tasks_per_update = tpu;
  const dev = integer(form.finetune.devSize);
  if (dev === null) errors.push({ field: "finetune", message: `finetune.dev_size: “${form.finetune.devSize}” is not a whole number` });
  else finetune.dev_size = dev;
  if (form.finetune.bestEvery.trim() !== "") {
    const every = integer(form.finetune.bestEvery);
    if (every === null || every < 1)
      errors.push({ field: "finetune", message: `finetune.eval_every: “${form.finetune.bestEvery}” is not a whole number of at least 1 (leave it empty to report each fine-tune's final score)` });
    else {
      finetune.eval_every = every;
      finetune.keep_best = true;
    }
  }
  if (form.finetune.earlyStopping.trim() !== "") {
    const patience = integer(form.finetune.earlyStopping);
    if (patience === null || patience < 1)
      errors.push({ field: "finetune", message: `finetune.early_stopping: “${form.finetune.earlyStopping}” is not a whole number of at least 1 (leave it empty to train every update)` });
    else if (form.finetune.bestEvery.trim() === "")
      errors.push({ field: "finetune", message: "finetune.early_stopping: compares dev scores during training: set “Best of dev every” too" });
    else finetune.early_stopping = patience;
  }
  prefinetune.dev_size = 100;
  prefinetune.eval_every = 0;
  prefinetune.checkpoint_every = 0;
  // Left out when not chosen, as in the shipped specs: the library's defaults (cpu, f32,
  // natural sampling, no R3F).
  if (form.mixedPrecision) prefinetune.mixed_precision = finetune.mixed_precision = "bf16";
  if (form.sampling === "uniform") prefinetune.sampling = { kind: "uniform" };
  if (form.sampling === "temperature") {
    const t = number(form.temperature);
    if (t === null || t <= 0) errors.push({ field: "prefinetune", message: `prefinetune.sampling: the temperature “${form.temperature}” must be a number above 0 (2 is common)` });
    else prefinetune.sampling = { kind: "temperature", t };
  }
  // The ablation sets batching and loss scaling per variant itself.
  if (form.design !== "batching_ablation") {
    if (form.batching !== "heterogeneous") prefinetune.batching = form.batching;
    if (!form.lossScale) prefinetune.loss_scale = "off";
  }
  if (form.cap.trim() !== "") {
    const cap = integer(form.cap);
    if (cap === null || cap < 1) errors.push({ field: "prefinetune", message: `prefinetune.cap: “${form.cap}” is not a whole number of at least 1 (leave it empty for no cap)` });
    else prefinetune.cap = cap;
  }
  if (form.r3f) finetune.r3f = { lambda: 1, eps: 1e-5, noise: "uniform" };
  const seeds = parseSeeds(form.seeds);
  const spec: ExperimentSpecJson = { name: form.name.trim(), prefinetune, finetune };
  if (form.description.trim()) spec.description = form.description.trim();
  if (form.backend !== "cpu") spec.backend = form.backend;
  if (form.design === "sample_efficiency") {
    if (seeds.error) errors.push({ field: "sample_efficiency.seeds", message: `sample_efficiency.seeds: ${seeds.error}` });
    const downstream = parseNames(form.downstream);
    const sizes = parseSizes(form.sizes, smallestUsable(downstream, tasks, dev ?? 100));
    if (sizes.error) errors.push({ field: "sample_efficiency.sizes", message: `sample_efficiency.sizes: ${sizes.error}` });
    const starts: string[] = [];
    if (form.base) starts.push("base");
    const stageTasks = parseNames(form.stageTasks);
    if (stageTasks.length > 0) {
      const name = form.stageName.trim() || "pft";
      spec.stages = [{ name, tasks: stageTasks }];
      starts.push(name);
    }
    for (const id of form.runs) starts.push(`run:${id}`);
    spec.sample_efficiency = { tasks: downstream, sizes: sizes.sizes, seeds: seeds.seeds, starts };
    if (form.reuseHeads) spec.sample_efficiency.reuse_heads = true;
  } else if (form.design === "batching_ablation") {
    if (seeds.error) errors.push({ field: "batching_ablation.seeds", message: `batching_ablation.seeds: ${seeds.error}` });
    if (form.batchings.length === 0) errors.push({ field: "batching_ablation.batchings", message: "batching_ablation.batchings: tick at least one batching" });
    if (form.lossScaling.length === 0) errors.push({ field: "batching_ablation.loss_scaling", message: "batching_ablation.loss_scaling: tick loss scaling on, off or both" });
    const ba: NonNullable<ExperimentSpecJson["batching_ablation"]> = {
      mixture: parseNames(form.mixture),
      batchings: BATCHINGS.filter((b) => form.batchings.includes(b)),
      loss_scaling: [true, false].filter((on) => form.lossScaling.includes(on)),
      downstream: parseNames(form.ablationDownstream),
      seeds: seeds.seeds,
    };
    if (form.ablationTrainSize.trim() !== "") {
      const n = integer(form.ablationTrainSize);
      if (n === null) errors.push({ field: "batching_ablation.train_size", message: `batching_ablation.train_size: “${form.ablationTrainSize}” is not a whole number (leave it empty for all)` });
      else ba.train_size = n;
    }
    if (form.reuseHeads) ba.reuse_heads = true;
    spec.batching_ablation = ba;
  } else if (form.design === "sweep") {
    if (seeds.error) errors.push({ field: "sweep.seeds", message: `sweep.seeds: ${seeds.error}` });
    const gridOf = (field: "sweep.grid" | "sweep.stage_grid", entries: readonly (readonly [string, string, boolean])[]): Record<string, number[]> => {
      const grid: Record<string, number[]> = {};
      for (const [key, text, whole] of entries) {
        const parts = text.split(/[\s,]+/).filter((p) => p !== "");
        if (parts.length === 0) continue;
        const values = parts.map((p) => (whole ? integer(p) : number(p)));
        const bad = parts.find((_, i) => values[i] === null);
        if (bad !== undefined) errors.push({ field, message: `${field}.${key}: “${bad}” is not ${whole ? "a whole number" : "a number"}` });
        else grid[key] = values as number[];
      }
      return grid;
    };
    const fineTuning = [
      ["lr", form.sweepLr, false],
      ["batch_size", form.sweepBatchSize, true],
      ["steps", form.sweepSteps, true],
    ] as const;
    const random = form.sweepSearch === "random";
    const ranged = fineTuning.find(([, text]) => text.includes(".."));
    if (!random && ranged)
      errors.push({ field: "sweep.grid", message: `sweep.grid.${ranged[0]}: “${ranged[1].trim()}” is a range: a grid lists values; choose Random search to draw from a range` });
    const grid = random || ranged ? {} : gridOf("sweep.grid", fineTuning);
    const sw: NonNullable<ExperimentSpecJson["sweep"]> = { tasks: parseNames(form.sweepTasks), grid, seeds: seeds.seeds, start: form.sweepStart || "base" };
    if (random) {
      const draws: Record<string, Draw> = {};
      for (const [key, text, whole] of fineTuning) {
        const draw = parseDraw(text, whole, key === "lr");
        if (typeof draw === "string") errors.push({ field: "sweep.random", message: `sweep.random.${key}: ${draw}` });
        else if (draw) draws[key] = draw;
      }
      const count = integer(form.sweepCount);
      if (count === null || count < 1) errors.push({ field: "sweep.count", message: `sweep.count: “${form.sweepCount}” is not a number of settings to draw (at least 1)` });
      else sw.count = count;
      if (form.sweepGuided.trim() !== "") {
        const guided = integer(form.sweepGuided);
        if (guided === null || guided < 1) errors.push({ field: "sweep.guided", message: `sweep.guided: “${form.sweepGuided}” is not a number of settings to propose (at least 1; empty for none)` });
        else sw.guided = guided;
      }
      if (Object.keys(draws).length === 0 && !errors.some((e) => e.field === "sweep.random")) errors.push({ field: "sweep.random", message: "sweep.random: give a range (1e-5 .. 1e-3) or values of at least one setting to draw" });
      sw.random = draws;
    }
    // A stage of its own to pre-finetune first: the sweep starts from it, and its grid sweeps pre-finetuning.
    const stageTasks = parseNames(form.sweepStageTasks);
    const stageGrid = gridOf("sweep.stage_grid", [
      ["tasks_per_update", form.sweepStageK, true],
      ["lr", form.sweepStageLr, false],
    ]);
    if (stageTasks.length > 0) {
      spec.stages = [{ name: "pft", tasks: stageTasks }];
      sw.start = "pft";
      if (Object.keys(stageGrid).length > 0) sw.stage_grid = stageGrid;
    } else if (Object.keys(stageGrid).length > 0)
      errors.push({ field: "sweep.stage_grid", message: "sweep.stage_grid: give the tasks to pre-finetune on to sweep pre-finetuning settings" });
    if (form.sweepTrainSize.trim() !== "") {
      const n = integer(form.sweepTrainSize);
      if (n === null) errors.push({ field: "sweep.train_size", message: `sweep.train_size: “${form.sweepTrainSize}” is not a whole number (leave it empty for all)` });
      else sw.train_size = n;
    }
    if (form.reuseHeads) sw.reuse_heads = true;
    if (form.sweepCompareBase && sw.start === "base")
      errors.push({ field: "sweep.compare_base", message: "sweep.compare_base: the sweep fine-tunes from the base model already: fine-tune from a run or pre-finetune first to compare it with the base model" });
    else if (form.sweepCompareBase) sw.compare_base = true;
    if (form.sweepEarlyTerminate && form.finetune.bestEvery.trim() === "")
      errors.push({ field: "sweep.early_terminate", message: "sweep.early_terminate: compares the runs' dev scores during training: set “Best of dev every” in the training settings" });
    else if (form.sweepEarlyTerminate) {
      const minRuns = integer(form.sweepMinRuns);
      const grace = integer(form.sweepGraceEvals);
      if (minRuns === null || minRuns < 1)
        errors.push({ field: "sweep.early_terminate", message: `sweep.early_terminate.min_runs: “${form.sweepMinRuns}” is not a whole number of finished runs (at least 1)` });
      if (grace === null || grace < 1)
        errors.push({ field: "sweep.early_terminate", message: `sweep.early_terminate.grace_evals: “${form.sweepGraceEvals}” is not a whole number of dev evaluations (at least 1)` });
      if (minRuns !== null && minRuns >= 1 && grace !== null && grace >= 1) sw.early_terminate = { rule: "median", min_runs: minRuns, ...(grace > 1 ? { grace_evals: grace } : {}) };
    }
    spec.sweep = sw;
  } else {
    if (seeds.error) errors.push({ field: "task_count.seeds", message: `task_count.seeds: ${seeds.error}` });
    const sizes = parseSizes(form.taskSizes, null);
    if (sizes.error) errors.push({ field: "task_count.sizes", message: `task_count.sizes: ${sizes.error.replace(" (or “all”)", "").replace(", all", "")}` });
    const tc: NonNullable<ExperimentSpecJson["task_count"]> = {
      pool: parseNames(form.pool),
      sizes: sizes.sizes,
      inside: [],
      held_out: parseNames(form.heldOut),
      seeds: seeds.seeds,
    };
    if (form.orderSeed.trim() !== "") {
      const s = integer(form.orderSeed);
      if (s === null) errors.push({ field: "task_count.order_seed", message: `task_count.order_seed: “${form.orderSeed}” is not a whole number (leave it empty for the order given)` });
      else tc.order_seed = s;
    }
    const inside = form.inside.trim();
    tc.inside = inside === "" ? [] : (integer(inside) ?? parseNames(inside));
    if (form.trainSize.trim() !== "") {
      const n = integer(form.trainSize);
      if (n === null) errors.push({ field: "task_count.train_size", message: `task_count.train_size: “${form.trainSize}” is not a whole number (leave it empty for all)` });
      else tc.train_size = n;
    }
    if (form.reuseHeads) tc.reuse_heads = true;
    spec.task_count = tc;
  }
  return { spec: errors.length === 0 ? spec : null, errors };
}

/** The fields the form shows errors under, most specific first. */
export const FIELDS = [
  "name",
  "backend",
  "prefinetune",
  "finetune",
  "stages",
  "sample_efficiency.tasks",
  "sample_efficiency.sizes",
  "sample_efficiency.seeds",
  "sample_efficiency.starts",
  "task_count.pool",
  "task_count.sizes",
  "task_count.order_seed",
  "task_count.inside",
  "task_count.held_out",
  "task_count.seeds",
  "task_count.train_size",
  "batching_ablation.mixture",
  "batching_ablation.batchings",
  "batching_ablation.loss_scaling",
  "batching_ablation.downstream",
  "batching_ablation.seeds",
  "batching_ablation.train_size",
  "sweep.tasks",
  "sweep.grid",
  "sweep.random",
  "sweep.count",
  "sweep.stage_grid",
  "sweep.seeds",
  "sweep.start",
  "sweep.compare_base",
  "sweep.early_terminate",
  "sweep.train_size",
] as const;

/** Where each design lists its downstream tasks: a downstream task inside the mixture it starts from is shown there. */
const DOWNSTREAM: Record<Design, string> = {
  sample_efficiency: "sample_efficiency.tasks",
  task_count: "task_count.held_out",
  batching_ablation: "batching_ablation.downstream",
  sweep: "sweep.tasks",
};

/**
 * The form field a library message belongs under: its leading spec path
 * ("stages[0].tasks: unknown task ..." → "stages", "finetune.doc_stride: ..." →
 * "finetune"); "" for a message about the whole spec (shown above the form's buttons).
 */
export function fieldOf(message: string, design: Design = "sample_efficiency"): string {
  const path = /^([a-z_]+(?:\[\d+\])?(?:\.[a-z_]+)*):/.exec(message)?.[1] ?? "";
  const plain = path.replace(/\[\d+\]/g, "");
  let best = "";
  for (const f of FIELDS) {
    if ((plain === f || plain.startsWith(`${f}.`)) && f.length > best.length) best = f;
  }
  // A downstream task inside a mixture it starts from: shown with the downstream tasks.
  if (plain === "overlap") return DOWNSTREAM[design];
  // A sweep's stage is the one it pre-finetunes first: its problems go under that field.
  if (design === "sweep" && best === "stages") return "sweep.stage_grid";
  return best;
}

/** "55 runs: 1 pre-finetuning, 54 fine-tunes". */
export function planText(check: { runs: number; prefinetunes: number; finetunes: number }): string {
  const pre = `${check.prefinetunes} pre-finetuning`;
  const fine = `${check.finetunes} fine-tune${check.finetunes === 1 ? "" : "s"}`;
  return `${check.runs} run${check.runs === 1 ? "" : "s"}: ${pre}, ${fine}`;
}

/** A file name for the spec from the experiment's name ("Task count 6" → "task-count-6.toml"). */
export function specFileName(name: string): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  return `${slug || "experiment"}.toml`;
}
