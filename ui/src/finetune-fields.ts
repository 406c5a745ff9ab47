// The fields of a fine-tune form as a FinetuneForm: the run page's (`#finetune-…`) and the
// Tasks page's fine-tune of the pretrained model (`#base-ft-…`) name them alike after their
// prefix; a form without a field (no checkpoint or head to choose) keeps what it is given.
import type { FinetuneForm } from "./finetune-form";

type TextKey = "task" | "step" | "trainSize" | "steps" | "batchSize" | "lr" | "evalEvery" | "earlyStopping" | "earlyStoppingThreshold" | "tags" | "note";
type CheckKey = "keepBest" | "reuseHead" | "r3f";

const TEXT: [TextKey, string][] = [
  ["task", "task"],
  ["step", "step"],
  ["trainSize", "train-size"],
  ["steps", "steps"],
  ["batchSize", "batch-size"],
  ["lr", "lr"],
  ["evalEvery", "eval-every"],
  ["earlyStopping", "early-stopping"],
  ["earlyStoppingThreshold", "early-stopping-threshold"],
  ["tags", "tags"],
  ["note", "note"],
];
const CHECKS: [CheckKey, string][] = [
  ["keepBest", "keep-best"],
  ["reuseHead", "reuse-head"],
  ["r3f", "r3f"],
];

const field = (root: ParentNode, prefix: string, id: string) => root.querySelector<HTMLInputElement | HTMLSelectElement>(`#${prefix}-${id}`);

/** The form's fields under `root`, `given` for those it lacks. */
export function readFinetuneFields(root: ParentNode, prefix: string, given: FinetuneForm): FinetuneForm {
  const form = { ...given };
  for (const [key, id] of TEXT) {
    const input = field(root, prefix, id);
    if (input) form[key] = input.value;
  }
  for (const [key, id] of CHECKS) {
    const input = field(root, prefix, id);
    if (input instanceof HTMLInputElement) form[key] = input.checked;
  }
  return form;
}

/** Put `form` in the fields under `root` that the form has. */
export function fillFinetuneFields(root: ParentNode, prefix: string, form: FinetuneForm): void {
  for (const [key, id] of TEXT) {
    const input = field(root, prefix, id);
    if (input) input.value = form[key];
  }
  for (const [key, id] of CHECKS) {
    const input = field(root, prefix, id);
    if (input instanceof HTMLInputElement) input.checked = form[key];
  }
}
