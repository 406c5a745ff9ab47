import { describe, expect, it } from "vitest";
import { finetuneFormFromSpec, finetuneRequest, finetuneTaskOptions, type FinetuneForm } from "./finetune-form";

const form: FinetuneForm = { task: "winowhy", step: "", trainSize: "64", steps: "", batchSize: "8", lr: "", evalEvery: "", keepBest: false, earlyStopping: "", earlyStoppingThreshold: "", reuseHead: true, r3f: false, tags: "", note: "" };

describe("finetuneTaskOptions", () => {
  it("offers trainable tasks, downstream first, and marks those the run trained on", () => {
    const tasks = [
      { name: "sst2", downstream: false, not_trained: null },
      { name: "cnn_dailymail", downstream: false, not_trained: "writing a summary needs a decoder" },
      { name: "winowhy", downstream: true, not_trained: null },
      { name: "boolq", downstream: false, not_trained: null },
    ];
    expect(finetuneTaskOptions(tasks, ["sst2"])).toEqual([
      { name: "winowhy", label: "winowhy (downstream)" },
      { name: "boolq", label: "boolq" },
      { name: "sst2", label: "sst2 — trained on by this run" },
    ]);
  });
});

describe("finetuneRequest", () => {
  it("sends what is set and leaves the rest to fine-tuning's defaults", () => {
    expect(finetuneRequest(3, form, "cpu")).toEqual({
      request: { from_run: 3, model: null, step: null, tasks: ["winowhy"], train_size: 64, reuse_head: true, r3f: false, backend: "cpu", steps: null, batch_size: 8, lr: null, eval_every: null, keep_best: false, early_stopping: null, early_stopping_threshold: null, tags: [], note: null },
    });
    expect(finetuneRequest(3, { ...form, tags: "transfer, n=64", note: " from the best " }, "cpu")).toMatchObject({ request: { tags: ["transfer", "n=64"], note: "from the best" } });
    const at = finetuneRequest(3, { ...form, step: "40", lr: "2e-5", trainSize: "" }, "cuda");
    expect(at).toMatchObject({ request: { step: 40, lr: 2e-5, train_size: null, backend: "cuda" } });
    const stopping = finetuneRequest(3, { ...form, evalEvery: "10", earlyStopping: "3" }, "cpu");
    expect(stopping).toMatchObject({ request: { eval_every: 10, keep_best: false, early_stopping: 3 } });
    expect(finetuneRequest(3, { ...form, evalEvery: "10", earlyStopping: "3", earlyStoppingThreshold: "0.01" }, "cpu")).toMatchObject({ request: { early_stopping_threshold: 0.01 } });
  });

  it("asks for dev evaluations before keeping the best or stopping early", () => {
    const why = "Keeping the best checkpoint and early stopping compare dev scores during training: set Eval every";
    expect(finetuneRequest(3, { ...form, keepBest: true }, "cpu")).toEqual({ problems: [why] });
    expect(finetuneRequest(3, { ...form, earlyStopping: "2" }, "cpu")).toEqual({ problems: [why] });
    expect(finetuneRequest(3, { ...form, evalEvery: "5", earlyStopping: "0" }, "cpu")).toEqual({ problems: ["Early stopping must be a whole number of at least 1"] });
    expect(finetuneRequest(3, { ...form, evalEvery: "5", earlyStoppingThreshold: "0.01" }, "cpu")).toEqual({ problems: ["Minimum gain only applies to early stopping: set Early stopping"] });
    expect(finetuneRequest(3, { ...form, evalEvery: "5", earlyStopping: "2", earlyStoppingThreshold: "-1" }, "cpu")).toEqual({ problems: ["Minimum gain must be a number of at least 0"] });
  });

  it("names every field that is wrong", () => {
    expect(finetuneRequest(3, { ...form, task: "", trainSize: "0", steps: "2.5", lr: "-1" }, "cpu")).toEqual({
      problems: [
        "pick a task to fine-tune on",
        "Training examples must be a whole number of at least 1",
        "Updates must be a whole number of at least 1",
        "Learning rate must be a positive number",
      ],
    });
  });
});

describe("a new fine-tune from a stored fine-tune's settings", () => {
  it("starts from the same run and checkpoint with the same settings", () => {
    const spec = {
      tasks: ["winowhy"],
      init: { from: "run" as const, run: 4, step: 300, checkpoint: "/x/model-step300.mpk", reuse_heads: true },
      config: { train_size: 64, steps: 40, batch_size: 8, lr: 3e-5, eval_every: 10, keep_best: true, early_stopping: 3, early_stopping_threshold: 0.01, r3f: { lambda: 1 } },
    };
    const again = finetuneFormFromSpec(spec, false);
    expect((({ from, model }) => ({ from, model }))(again)).toEqual({ from: 4, model: null });
    const form = again.form;
    expect(form).toEqual({
      task: "winowhy",
      step: "300",
      trainSize: "64",
      steps: "40",
      batchSize: "8",
      lr: "0.00003",
      evalEvery: "10",
      keepBest: true,
      earlyStopping: "3",
      earlyStoppingThreshold: "0.01",
      reuseHead: true,
      r3f: true,
      tags: "",
      note: "",
    });
    // Launched, it asks for what the stored run trained with.
    const request = finetuneRequest(4, form, "cpu");
    expect("request" in request && request.request).toMatchObject({ from_run: 4, step: 300, tasks: ["winowhy"], train_size: 64, steps: 40, batch_size: 8, lr: 3e-5, eval_every: 10, keep_best: true, early_stopping: 3, early_stopping_threshold: 0.01, reuse_head: true, r3f: true });
  });

  it("leaves empty what the stored run left to the defaults", () => {
    const form = finetuneFormFromSpec({ tasks: ["rte"], init: { from: "run", run: 2, step: 10 }, config: { train_size: null, eval_every: 0, early_stopping: null, early_stopping_threshold: 0, r3f: null } }, false).form;
    expect(form).toMatchObject({ trainSize: "", evalEvery: "", earlyStopping: "", earlyStoppingThreshold: "", reuseHead: false, r3f: false });
  });

  it("starts a fine-tune of the pretrained model from the same model, without a checkpoint or a head", () => {
    const spec = { model: "/models/roberta-base", tasks: ["rte"], init: { from: "base" as const }, config: { train_size: 32, steps: 20, lr: 2e-5 } };
    const folder = finetuneFormFromSpec(spec, false);
    expect((({ from, model }) => ({ from, model }))(folder)).toEqual({ from: null, model: "/models/roberta-base" });
    expect(folder.form).toMatchObject({ task: "rte", step: "", trainSize: "32", steps: "20", reuseHead: false });
    expect(finetuneFormFromSpec(spec, true).model).toBeNull();
    const request = finetuneRequest(null, { ...folder.form, reuseHead: true, step: "40" }, "cpu", folder.model);
    expect(request).toMatchObject({ request: { from_run: null, model: "/models/roberta-base", step: null, reuse_head: false, tasks: ["rte"], train_size: 32, steps: 20, lr: 2e-5 } });
    expect(finetuneRequest(null, folder.form, "cpu", "  ")).toMatchObject({ request: { model: null } });
    expect(finetuneRequest(3, folder.form, "cpu", "/models/roberta-base")).toMatchObject({ request: { from_run: 3, model: null } });
  });
});
