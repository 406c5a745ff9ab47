// The fine-tune forms, the run page's "Fine-tune from this run" and the Tasks page's
// "Fine-tune the pretrained model": which tasks they offer and what they send. Pure, so it
// is unit-tested.
import type { FinetuneRequest, TaskEntry } from "./api";
import { splitTags } from "./mixture-form";

export interface TaskOption {
  name: string;
  label: string;
}

/**
 * The tasks a fine-tune can take: those that train, downstream tasks first (kept out of
 * pre-finetuning for this), then the rest by name; a task the run trained on says so
 * (its scores would measure memorisation, not transfer).
 */
export function finetuneTaskOptions(tasks: Pick<TaskEntry, "name" | "downstream" | "not_trained">[], trainedOn: string[]): TaskOption[] {
  const trainable = tasks.filter((t) => !t.not_trained);
  const ordered = [...trainable.filter((t) => t.downstream), ...trainable.filter((t) => !t.downstream).sort((a, b) => a.name.localeCompare(b.name))];
  return ordered.map((t) => ({
    name: t.name,
    label: `${t.name}${t.downstream ? " (downstream)" : ""}${trainedOn.includes(t.name) ? " — trained on by this run" : ""}`,
  }));
}

/** The form's fields, as typed. */
export interface FinetuneForm {
  task: string;
  step: string;
  trainSize: string;
  steps: string;
  batchSize: string;
  lr: string;
  /** Updates between dev evaluations; empty: at the start and the end only. */
  evalEvery: string;
  keepBest: boolean;
  /** Dev evaluations without a better score before the run stops; empty: never. */
  earlyStopping: string;
  /** How much a dev score must beat the best to count as an improvement; empty: any gain. */
  earlyStoppingThreshold: string;
  reuseHead: boolean;
  r3f: boolean;
  /** Tags separated by commas. */
  tags: string;
  note: string;
}

/** A form of empty fields on `task`: fine-tuning's defaults for everything. */
export function emptyFinetuneForm(task: string): FinetuneForm {
  return { task, step: "", trainSize: "", steps: "", batchSize: "", lr: "", evalEvery: "", keepBest: false, earlyStopping: "", earlyStoppingThreshold: "", reuseHead: false, r3f: false, tags: "", note: "" };
}

/** A stored fine-tune's spec, as far as the form reads it (`muppet_train::spec::RunSpec`). */
export interface FinetuneSpecJson {
  model?: string;
  tasks?: string[];
  init?: { from: "base" } | { from: "run"; run: number; step: number; reuse_heads?: boolean };
  config?: {
    train_size?: number | null;
    steps?: number;
    batch_size?: number;
    lr?: number;
    eval_every?: number;
    keep_best?: boolean;
    early_stopping?: number | null;
    early_stopping_threshold?: number;
    r3f?: unknown;
  };
}

/** Where a fine-tune starts and the form of a new one like it. */
export interface FinetuneAgain {
  /** The run whose checkpoint it started from; null: the pretrained model. */
  from: number | null;
  /** From the pretrained model: its folder, or null for the default model of the assets. */
  model: string | null;
  form: FinetuneForm;
}

/**
 * The form of a new fine-tune with a stored fine-tune's settings: its task, the checkpoint
 * it started from (or the pretrained model, `defaultModel` when it was the assets' default),
 * its training size and settings (tags and note left empty).
 */
export function finetuneFormFromSpec(spec: FinetuneSpecJson, defaultModel: boolean): FinetuneAgain {
  const c = spec.config ?? {};
  const text = (n: number | null | undefined) => (n === null || n === undefined ? "" : String(n));
  const init = spec.init?.from === "run" ? spec.init : null;
  return {
    from: init ? init.run : null,
    model: init || defaultModel ? null : (spec.model ?? null),
    form: {
      task: spec.tasks?.[0] ?? "",
      step: init ? String(init.step) : "",
      trainSize: text(c.train_size),
      steps: text(c.steps),
      batchSize: text(c.batch_size),
      lr: text(c.lr),
      // 0: at the start and the end only, the form's empty field.
      evalEvery: c.eval_every ? String(c.eval_every) : "",
      keepBest: c.keep_best ?? false,
      earlyStopping: text(c.early_stopping),
      earlyStoppingThreshold: c.early_stopping_threshold ? String(c.early_stopping_threshold) : "",
      reuseHead: init?.reuse_heads ?? false,
      r3f: c.r3f !== undefined && c.r3f !== null,
      tags: "",
      note: "",
    },
  };
}

/**
 * The request the form describes, from run `from`'s checkpoint or (null) from the pretrained
 * model, `model` (a folder; null or blank: the default model), or what is wrong with it.
 */
export function finetuneRequest(from: number | null, form: FinetuneForm, backend: string, model: string | null = null): { request: FinetuneRequest } | { problems: string[] } {
  const problems: string[] = [];
  const whole = (text: string, what: string): number | null => {
    if (text.trim() === "") return null;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) {
      problems.push(`${what} must be a whole number of at least 1`);
      return null;
    }
    return n;
  };
  if (form.task === "") problems.push("pick a task to fine-tune on");
  const trainSize = whole(form.trainSize, "Training examples");
  const steps = whole(form.steps, "Updates");
  const batchSize = whole(form.batchSize, "Batch size");
  const evalEvery = whole(form.evalEvery, "Eval every");
  const earlyStopping = whole(form.earlyStopping, "Early stopping");
  if ((form.keepBest || form.earlyStopping.trim() !== "") && form.evalEvery.trim() === "")
    problems.push("Keeping the best checkpoint and early stopping compare dev scores during training: set Eval every");
  let threshold: number | null = null;
  if (form.earlyStoppingThreshold.trim() !== "") {
    threshold = Number(form.earlyStoppingThreshold);
    if (!(threshold >= 0) || !Number.isFinite(threshold)) {
      problems.push("Minimum gain must be a number of at least 0");
      threshold = null;
    } else if (threshold > 0 && form.earlyStopping.trim() === "") problems.push("Minimum gain only applies to early stopping: set Early stopping");
  }
  let lr: number | null = null;
  if (form.lr.trim() !== "") {
    lr = Number(form.lr);
    if (!(lr > 0) || !Number.isFinite(lr)) {
      problems.push("Learning rate must be a positive number");
      lr = null;
    }
  }
  if (problems.length > 0) return { problems };
  const folder = model?.trim() ?? "";
  return {
    request: {
      from_run: from,
      model: from === null && folder !== "" ? folder : null,
      step: from === null || form.step === "" ? null : Number(form.step),
      tasks: [form.task],
      train_size: trainSize,
      reuse_head: from !== null && form.reuseHead,
      r3f: form.r3f,
      backend,
      steps,
      batch_size: batchSize,
      lr,
      eval_every: evalEvery,
      keep_best: form.keepBest,
      early_stopping: earlyStopping,
      early_stopping_threshold: threshold,
      tags: splitTags(form.tags),
      note: form.note.trim() === "" ? null : form.note.trim(),
    },
  };
}
