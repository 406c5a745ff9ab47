// The mixture builder's form as plain values, and what it sends: the live summary
// request and the launch request. Pure, so the defaults and checks are unit-tested.
import type { EstimateRequest, LaunchRequest, MixtureRequest, Sampling, TrainConfig } from "./api";
import { shareText } from "./task-spec";

export interface MixtureForm {
  name: string;
  /** Tags separated by commas. */
  tags: string;
  note: string;
  tasks: string[];
  sampling: "natural" | "uniform" | "temperature";
  temperature: number;
  /** 0 or empty: no cap. */
  cap: number | null;
  tasksPerUpdate: number;
  batching: TrainConfig["batching"];
  lossScaling: boolean;
  /** bf16 matrix products over f32 weights and optimizer state (PyTorch's bf16 autocast). */
  mixedPrecision: boolean;
  r3f: boolean;
  /** R3F's weight of the symmetric KL term (λ), its noise's scale (ε) and kind. */
  r3fLambda: number;
  r3fEps: number;
  r3fNoise: "uniform" | "normal";
  steps: number;
  /** Learning-rate warmup in updates; null: a tenth of the steps. */
  warmup: number | null;
  /** The overlap of a long passage's windows in tokens; null: as `docStride` sets it from the max length. */
  docStride: number | null;
  batchSize: number;
  maxLen: number;
  lr: number;
  devSize: number;
  evalEvery: number;
  checkpointEvery: number;
  /** Model checkpoints kept (the last ones); empty: all. */
  keepCheckpoints: number | null;
  /** Keep the checkpoint of the best dev score as well (load_best_model_at_end). */
  keepBest: boolean;
  /** Dev evaluations in a row without a better score before the run stops; empty: never. */
  earlyStopping: number | null;
  /** How much a dev score must beat the best to count as an improvement (early_stopping_threshold); 0: any gain. */
  earlyStoppingThreshold: number;
  seed: number;
  backend: string;
  /** Devices the run trains on, data-parallel (GPUs 0 to N-1 with cuda). */
  devices: number;
  /** "default": the MiniLM of the assets; "folder": the Hugging Face model folder `modelPath`. */
  model: "default" | "folder";
  modelPath: string;
}

/** The pre-finetuning defaults of `muppet prefinetune`, scaled to a laptop. */
export function defaultForm(backend: string): MixtureForm {
  return {
    name: "",
    tags: "",
    note: "",
    tasks: [],
    sampling: "natural",
    temperature: 2,
    cap: null,
    tasksPerUpdate: 4,
    batching: "heterogeneous",
    lossScaling: true,
    mixedPrecision: false,
    r3f: false,
    r3fLambda: 1,
    r3fEps: 1e-5,
    r3fNoise: "uniform",
    steps: 300,
    warmup: null,
    docStride: null,
    batchSize: 16,
    maxLen: 128,
    lr: 1e-4,
    devSize: 200,
    evalEvery: 50,
    checkpointEvery: 100,
    keepCheckpoints: null,
    keepBest: false,
    earlyStopping: null,
    earlyStoppingThreshold: 0,
    seed: 42,
    backend,
    devices: 1,
    model: "default",
    modelPath: "",
  };
}

export function sampling(form: MixtureForm): Sampling {
  if (form.sampling === "temperature") return { kind: "temperature", t: form.temperature };
  return { kind: form.sampling };
}

/**
 * The overlap of long passages' windows: a quarter of the max length, at most 32 (the
 * tokenizer refuses a stride that does not leave room for the specials).
 */
export function docStride(maxLen: number): number {
  return Math.max(1, Math.min(32, Math.floor(maxLen / 4)));
}

/** The warmup of a run of `steps` updates when the form leaves it empty: a tenth of them. */
export function defaultWarmup(steps: number): number {
  return Math.floor(steps / 10);
}

/** What is wrong with the form, in words; empty when it can be launched. */
export function formProblems(form: MixtureForm): string[] {
  const problems: string[] = [];
  const whole = (v: number, min: number) => Number.isInteger(v) && v >= min;
  if (form.tasks.length === 0) problems.push("Pick at least one task.");
  if (!whole(form.steps, 1)) problems.push("Steps must be a whole number of at least 1.");
  if (!whole(form.batchSize, 1)) problems.push("Batch size must be at least 1.");
  if (!whole(form.tasksPerUpdate, 1)) problems.push("Tasks per update must be at least 1.");
  if (!whole(form.maxLen, 8)) problems.push("Max length must be at least 8 tokens.");
  if (!whole(form.devSize, 1)) problems.push("Dev size must be at least 1.");
  if (!whole(form.evalEvery, 0) || !whole(form.checkpointEvery, 0)) problems.push("Eval and checkpoint intervals must be 0 or more.");
  if (!(form.lr > 0)) problems.push("The learning rate must be above 0.");
  if (form.sampling === "temperature" && !(form.temperature > 0)) problems.push("The temperature T must be above 0.");
  if (form.warmup !== null && !whole(form.warmup, 0)) problems.push("Warmup must be a whole number of updates (or empty for a tenth of the steps).");
  if (form.docStride !== null && !whole(form.docStride, 1)) problems.push("The document stride must be a whole number of tokens of at least 1 (or empty for the default).");
  else if (form.docStride !== null && whole(form.maxLen, 8) && form.docStride >= form.maxLen) problems.push("The document stride must be below the max length: windows overlap by it.");
  if (form.r3f && !(form.r3fLambda > 0)) problems.push("R3F's λ must be above 0.");
  if (form.cap !== null && !whole(form.cap, 1)) problems.push("The cap must be a whole number (or empty for none).");
  if (!whole(form.devices, 1)) problems.push("Devices must be a whole number of at least 1.");
  else if (whole(form.tasksPerUpdate, 1) && form.devices > form.tasksPerUpdate)
    problems.push(`${form.devices} devices need at least ${form.devices} tasks per update: each device computes at least one micro-batch.`);
  if (form.keepCheckpoints !== null && !whole(form.keepCheckpoints, 1)) problems.push("Checkpoints kept must be at least 1 (or empty for all).");
  if (form.earlyStopping !== null && !whole(form.earlyStopping, 1)) problems.push("Early stopping must be at least 1 evaluation (or empty for never).");
  if (!(form.earlyStoppingThreshold >= 0) || !Number.isFinite(form.earlyStoppingThreshold))
    problems.push("The minimum gain must be a number of at least 0 (0: any gain beats the best).");
  else if (form.earlyStoppingThreshold > 0 && form.earlyStopping === null) problems.push("The minimum gain only applies to early stopping: set Early stopping too.");
  if ((form.keepBest || form.earlyStopping !== null) && form.evalEvery === 0)
    problems.push("Keeping the best checkpoint and early stopping compare dev scores during training: set Eval every.");
  if (form.model === "folder" && form.modelPath.trim() === "") problems.push("Give the model folder (or choose the default model).");
  return problems;
}

export function summaryRequest(form: MixtureForm): MixtureRequest {
  return {
    tasks: form.tasks,
    sampling: sampling(form),
    cap: form.cap,
    steps: form.steps,
    batch_size: form.batchSize,
    tasks_per_update: form.tasksPerUpdate,
  };
}

/** Tags typed separated by commas: each trimmed, inner spaces made one, empty ones dropped. */
export function splitTags(text: string): string[] {
  return text
    .split(",")
    .map((t) => t.trim().replace(/\s+/g, " "))
    .filter((t) => t !== "");
}

export function launchRequest(form: MixtureForm): LaunchRequest {
  return {
    name: form.name.trim() === "" ? null : form.name.trim(),
    tags: splitTags(form.tags),
    note: form.note.trim() === "" ? null : form.note.trim(),
    tasks: form.tasks,
    backend: form.backend,
    model: form.model === "folder" ? form.modelPath.trim() : null,
    config: {
      steps: form.steps,
      batch_size: form.batchSize,
      tasks_per_update: form.tasksPerUpdate,
      batching: form.batching,
      lr: form.lr,
      warmup: form.warmup ?? defaultWarmup(form.steps),
      max_len: form.maxLen,
      doc_stride: form.docStride ?? docStride(form.maxLen),
      loss_scale: form.lossScaling ? "log_n" : "off",
      r3f: form.r3f ? { lambda: form.r3fLambda, eps: form.r3fEps, noise: form.r3fNoise } : null,
      sampling: sampling(form),
      cap: form.cap,
      seed: form.seed,
      dev_size: form.devSize,
      eval_every: form.evalEvery,
      checkpoint_every: form.checkpointEvery,
      keep_checkpoints: form.keepCheckpoints,
      keep_best: form.keepBest,
      early_stopping: form.earlyStopping,
      early_stopping_threshold: form.earlyStoppingThreshold,
      mixed_precision: form.mixedPrecision ? "bf16" : "no",
      devices: form.devices,
    },
  };
}

/** A stored run's spec (`muppet_train::spec::RunSpec`), as far as the form reads it. */
export interface RunSpecJson {
  model?: string;
  tasks?: string[];
  backend?: string;
  config?: Partial<TrainConfig>;
}

/**
 * The form of a new run with a stored pre-finetuning run's settings (W&B's and MLflow's
 * "run again"): its tasks, model, backend and every setting the form has, named after it.
 * A warmup or document stride that is the form's own default for the run's updates and
 * length is left empty, so that it follows them when they are changed.
 * `defaultModel`: the run trained the assets' default model.
 */
export function formFromSpec(spec: RunSpecJson, defaultModel: boolean, name: string, base: MixtureForm): MixtureForm {
  const c = spec.config ?? {};
  const form: MixtureForm = { ...base, name: name.trim() === "" ? "" : `${name.trim()} (again)`, tags: "", note: "" };
  form.tasks = [...(spec.tasks ?? [])];
  if (spec.backend) form.backend = spec.backend;
  form.model = defaultModel || !spec.model ? "default" : "folder";
  form.modelPath = form.model === "folder" ? (spec.model ?? "") : "";
  const set = <K extends keyof MixtureForm>(key: K, value: MixtureForm[K] | undefined) => {
    if (value !== undefined) form[key] = value;
  };
  set("steps", c.steps);
  set("batchSize", c.batch_size);
  set("tasksPerUpdate", c.tasks_per_update);
  set("batching", c.batching);
  set("lr", c.lr);
  set("maxLen", c.max_len);
  set("seed", c.seed);
  set("devSize", c.dev_size);
  set("evalEvery", c.eval_every);
  set("checkpointEvery", c.checkpoint_every);
  set("keepBest", c.keep_best);
  set("earlyStoppingThreshold", c.early_stopping_threshold);
  set("devices", c.devices);
  if (c.keep_checkpoints !== undefined) form.keepCheckpoints = c.keep_checkpoints;
  if (c.early_stopping !== undefined) form.earlyStopping = c.early_stopping;
  if (c.cap !== undefined) form.cap = c.cap;
  if (c.loss_scale !== undefined) form.lossScaling = c.loss_scale !== "off";
  if (c.mixed_precision !== undefined) form.mixedPrecision = c.mixed_precision === "bf16";
  if (c.r3f !== undefined) {
    form.r3f = c.r3f !== null;
    if (c.r3f) Object.assign(form, { r3fLambda: c.r3f.lambda, r3fEps: c.r3f.eps, r3fNoise: c.r3f.noise });
  }
  if (c.warmup !== undefined) form.warmup = c.warmup === defaultWarmup(form.steps) ? null : c.warmup;
  if (c.doc_stride !== undefined) form.docStride = c.doc_stride === docStride(form.maxLen) ? null : c.doc_stride;
  if (c.sampling) {
    form.sampling = c.sampling.kind;
    if (c.sampling.kind === "temperature") form.temperature = c.sampling.t;
  }
  return form;
}

/** What the wall-time estimate needs: the backend, the max length and the examples of the run. */
export function estimateRequest(form: MixtureForm): EstimateRequest {
  return { backend: form.backend, max_len: form.maxLen, steps: form.steps, batch_size: form.batchSize, tasks_per_update: form.tasksPerUpdate };
}

/** What the "Over max len" cell says of a task: the share of its examples longer than the max length, or why there is none. */
export function overText(share: number | null | "pending" | "error"): string {
  if (share === "pending") return "…";
  if (share === "error" || share === null) return "—";
  return shareText(share);
}

/** The share of examples longer than `maxLen` in what `task_token_lengths` answered (null: not measured). */
export function overShare(lengths: { over: [number, number][] } | null, maxLen: number): number | null {
  return lengths?.over.find(([m]) => m === maxLen)?.[1] ?? null;
}
