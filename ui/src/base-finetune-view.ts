// The Tasks page's "Fine-tune the pretrained model on it": a baseline fine-tune of the
// assets' default model (or a model folder) on the task shown, as `muppet finetune` runs it.
import { launchFinetune } from "./api";
import { el } from "./dom";
import { fillFinetuneFields, readFinetuneFields } from "./finetune-fields";
import { emptyFinetuneForm, finetuneRequest, type FinetuneAgain } from "./finetune-form";
import { describeError } from "./runs-format";

/** The panel for `task`: its fields empty (fine-tuning's defaults), or filled with `again`'s settings. */
export function baseFinetunePanel(task: string, backend: string, openRun: (id: number) => void, again: { settings: FinetuneAgain; of: number } | null): HTMLElement {
  const input = (id: string, props: Record<string, string> = {}) => el("input", { id: `base-ft-${id}`, type: "number", min: "1", step: "1", ...props });
  const check = (id: string) => el("input", { id: `base-ft-${id}`, type: "checkbox" });
  const text = (id: string, placeholder: string) => el("input", { id: `base-ft-${id}`, type: "text", placeholder });
  const modelChoice = el("select", { id: "base-ft-model-choice" }, el("option", { value: "default" }, "all-MiniLM-L6-v2 (assets)"), el("option", { value: "folder" }, "Hugging Face model folder…"));
  const modelPath = text("model-path", "/absolute/path/model (config.json, model.safetensors, tokenizer.json)");
  const backendChoice = el("select", { id: "base-ft-backend" }, el("option", { value: "cpu" }, "cpu"), el("option", { value: "cuda" }, "cuda"));
  backendChoice.value = backend;
  const launch = el("button", { type: "button", id: "base-ft-launch", className: "button" }, "Fine-tune");
  const problems = el("ul", { id: "base-ft-problems", className: "problems" });
  const result = el("p", { id: "base-ft-result", className: "result", role: "status" });
  const label = (title: string, field: HTMLElement, hint = "") => el("label", hint ? { title: hint } : {}, title, field);
  const panel = el(
    "details",
    { id: "base-finetune", className: "task-finetune", "data-task": task },
    el("summary", {}, "Fine-tune the pretrained model on it"),
    el("p", { className: "page-sub" }, "A baseline: the pretrained model fine-tuned on this task alone, to compare pre-finetuned models with (as ", el("code", {}, "muppet finetune"), "). Empty fields take fine-tuning's defaults."),
    el(
      "div",
      { className: "form-grid" },
      label("Model", modelChoice),
      label("Model folder", modelPath),
      label("Training examples", input("train-size", { placeholder: "all" }), "Training examples kept (drawn with the seed); empty: all of them"),
      label("Updates", input("steps", { placeholder: "default" })),
      label("Batch size", input("batch-size", { placeholder: "default" })),
      label("Learning rate", input("lr", { min: "0", step: "any", placeholder: "default" })),
      label("Eval every", input("eval-every", { placeholder: "start and end" }), "Score dev every this many updates; empty: at the start and the end only"),
      el("label", { className: "check", title: "Keep the checkpoint of the best dev score as well (load_best_model_at_end)" }, check("keep-best"), " Keep best"),
      label("Early stopping", input("early-stopping", { placeholder: "never" }), "Stop once this many dev evaluations in a row have not beaten the best score"),
      label("Min. gain", input("early-stopping-threshold", { min: "0", step: "any", placeholder: "any" })),
      el("label", { className: "check" }, check("r3f"), " R3F"),
      label("Backend", backendChoice),
      label("Tags", text("tags", "baseline, rte")),
      label("Note", text("note", "why this run")),
    ),
    el("div", { className: "toolbar" }, launch),
    problems,
    result,
  );
  const showModel = () => (modelPath.closest("label")!.hidden = modelChoice.value !== "folder");
  modelChoice.addEventListener("change", showModel);
  if (again) {
    fillFinetuneFields(panel, "base-ft", again.settings.form);
    modelChoice.value = again.settings.model === null ? "default" : "folder";
    modelPath.value = again.settings.model ?? "";
    panel.open = true;
    result.textContent = `The settings of fine-tune #${again.of}: change any, then fine-tune.`;
  }
  showModel();
  launch.addEventListener("click", async () => {
    // No checkpoint or head to choose: the pretrained model has neither.
    const form = readFinetuneFields(panel, "base-ft", emptyFinetuneForm(task));
    const folder = modelChoice.value === "folder" ? modelPath.value : null;
    const read = finetuneRequest(null, form, backendChoice.value, folder);
    const asked = "problems" in read ? read.problems : modelChoice.value === "folder" && modelPath.value.trim() === "" ? ["Give the model folder (or choose the default model)"] : [];
    problems.replaceChildren(...asked.map((p) => el("li", {}, p)));
    result.textContent = "";
    result.className = "result";
    if ("problems" in read || asked.length > 0) return;
    launch.disabled = true;
    try {
      openRun((await launchFinetune(read.request)).run);
    } catch (error) {
      result.textContent = describeError(error).message;
      result.className = "result error";
    } finally {
      launch.disabled = false;
    }
  });
  return panel;
}
