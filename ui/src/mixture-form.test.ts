import { describe, expect, it } from "vitest";
import { defaultForm, docStride, formFromSpec, formProblems, launchRequest, overShare, overText, sampling, splitTags, summaryRequest } from "./mixture-form";

const tiny = {
  ...defaultForm("cpu"),
  tasks: ["sarcasm_headlines", "rt_fresh_rotten"],
  steps: 30,
  batchSize: 2,
  maxLen: 32,
  devSize: 8,
};

describe("sampling", () => {
  it("carries T only for temperature sampling", () => {
    expect(sampling({ ...tiny, sampling: "natural" })).toEqual({ kind: "natural" });
    expect(sampling({ ...tiny, sampling: "temperature", temperature: 3 })).toEqual({ kind: "temperature", t: 3 });
  });
});

describe("tags and note", () => {
  it("puts the tags typed with commas and the note on the launch", () => {
    expect(splitTags(" baseline ,  paper   fig 3,, ")).toEqual(["baseline", "paper fig 3"]);
    expect(splitTags("")).toEqual([]);
    const request = launchRequest({ ...defaultForm("cpu"), tasks: ["rte"], tags: "a, b", note: "  first try \n" });
    expect((({ tags, note }) => ({ tags, note }))(request)).toEqual({ tags: ["a", "b"], note: "first try" });
  });
});

describe("docStride", () => {
  it("leaves room for the specials on short sequences", () => {
    expect(docStride(32)).toBe(8);
    expect(docStride(128)).toBe(32);
    expect(docStride(512)).toBe(32);
    expect(docStride(8)).toBe(2);
  });
});

describe("formProblems", () => {
  it("accepts a tiny mixture", () => {
    expect(formProblems(tiny)).toEqual([]);
  });
  it("names every problem", () => {
    const problems = formProblems({ ...tiny, tasks: [], steps: 0, maxLen: 4, lr: 0, sampling: "temperature", temperature: 0 });
    expect(problems).toEqual([
      "Pick at least one task.",
      "Steps must be a whole number of at least 1.",
      "Max length must be at least 8 tokens.",
      "The learning rate must be above 0.",
      "The temperature T must be above 0.",
    ]);
  });
});

describe("devices", () => {
  it("launches data-parallel on the devices asked for, each with a micro-batch", () => {
    expect(launchRequest(tiny).config.devices).toBe(1);
    expect(launchRequest({ ...tiny, devices: 2 }).config.devices).toBe(2);
    expect(formProblems({ ...tiny, devices: 4, tasksPerUpdate: 4 })).toEqual([]);
    expect(formProblems({ ...tiny, devices: 5, tasksPerUpdate: 4 })).toEqual(["5 devices need at least 5 tasks per update: each device computes at least one micro-batch."]);
    expect(formProblems({ ...tiny, devices: 0 })).toEqual(["Devices must be a whole number of at least 1."]);
  });
});

describe("requests", () => {
  it("asks the summary for the budget of the run", () => {
    expect(summaryRequest({ ...tiny, cap: 1000 })).toEqual({
      tasks: ["sarcasm_headlines", "rt_fresh_rotten"],
      sampling: { kind: "natural" },
      cap: 1000,
      steps: 30,
      batch_size: 2,
      tasks_per_update: 4,
    });
  });
  it("launches with TrainConfig's field names", () => {
    const request = launchRequest({ ...tiny, name: "  ", r3f: true, lossScaling: false });
    expect(request.name).toBeNull();
    expect((({ tags, note }) => ({ tags, note }))(request)).toEqual({ tags: [], note: null });
    expect(request.backend).toBe("cpu");
    expect(request.config).toMatchObject({
      steps: 30,
      batch_size: 2,
      max_len: 32,
      doc_stride: 8,
      dev_size: 8,
      warmup: 3,
      loss_scale: "off",
      r3f: { lambda: 1, eps: 1e-5, noise: "uniform" },
      batching: "heterogeneous",
      mixed_precision: "no",
    });
    expect(launchRequest({ ...tiny, mixedPrecision: true }).config.mixed_precision).toBe("bf16");
    expect(launchRequest(tiny).config.keep_checkpoints).toBeNull();
    expect(launchRequest({ ...tiny, keepCheckpoints: 2 }).config.keep_checkpoints).toBe(2);
    expect(formProblems({ ...tiny, keepCheckpoints: 0 })).toEqual(["Checkpoints kept must be at least 1 (or empty for all)."]);
    expect(launchRequest({ ...tiny, keepBest: true, earlyStopping: 3 }).config).toMatchObject({ keep_best: true, early_stopping: 3 });
    expect(launchRequest(tiny).config).toMatchObject({ keep_best: false, early_stopping: null, early_stopping_threshold: 0 });
    expect(launchRequest({ ...tiny, earlyStopping: 3, earlyStoppingThreshold: 0.005 }).config).toMatchObject({ early_stopping: 3, early_stopping_threshold: 0.005 });
    const needsEval = "Keeping the best checkpoint and early stopping compare dev scores during training: set Eval every.";
    expect(formProblems({ ...tiny, evalEvery: 0, keepBest: true })).toEqual([needsEval]);
    expect(formProblems({ ...tiny, evalEvery: 0, earlyStopping: 2 })).toEqual([needsEval]);
    expect(formProblems({ ...tiny, earlyStopping: 0 })).toEqual(["Early stopping must be at least 1 evaluation (or empty for never)."]);
    expect(formProblems({ ...tiny, earlyStoppingThreshold: 0.01 })).toEqual(["The minimum gain only applies to early stopping: set Early stopping too."]);
    expect(formProblems({ ...tiny, earlyStopping: 2, earlyStoppingThreshold: -0.5 })).toEqual(["The minimum gain must be a number of at least 0 (0: any gain beats the best)."]);
  });
  it("takes a warmup, a document stride and R3F's λ when given, the defaults otherwise", () => {
    const given = launchRequest({ ...tiny, warmup: 0, docStride: 4, r3f: true, r3fLambda: 0.3 }).config;
    expect(given).toMatchObject({ warmup: 0, doc_stride: 4, r3f: { lambda: 0.3, eps: 1e-5, noise: "uniform" } });
    expect(formProblems({ ...tiny, warmup: 2.5 })).toEqual(["Warmup must be a whole number of updates (or empty for a tenth of the steps)."]);
    expect(formProblems({ ...tiny, docStride: 0 })).toEqual(["The document stride must be a whole number of tokens of at least 1 (or empty for the default)."]);
    expect(formProblems({ ...tiny, docStride: 32 })).toEqual(["The document stride must be below the max length: windows overlap by it."]);
    expect(formProblems({ ...tiny, r3f: true, r3fLambda: 0 })).toEqual(["R3F's λ must be above 0."]);
    expect(formProblems({ ...tiny, r3f: false, r3fLambda: 0 })).toEqual([]);
  });
});

describe("model", () => {
  it("starts from the default model unless a folder is chosen", () => {
    expect(launchRequest(tiny).model).toBeNull();
    expect(launchRequest({ ...tiny, modelPath: "/models/bert" }).model).toBeNull();
    expect(launchRequest({ ...tiny, model: "folder", modelPath: "  /models/bert " }).model).toBe("/models/bert");
  });
  it("asks for the folder when one is to be chosen", () => {
    expect(formProblems({ ...tiny, model: "folder", modelPath: " " })).toEqual(["Give the model folder (or choose the default model)."]);
    expect(formProblems({ ...tiny, model: "folder", modelPath: "/models/bert" })).toEqual([]);
  });
});

describe("a new run from a stored run's settings", () => {
  const spec = {
    model: "/home/me/models/roberta-base",
    tasks: ["sst2", "rte"],
    backend: "cuda",
    config: {
      steps: 1200,
      batch_size: 32,
      tasks_per_update: 2,
      batching: "homogeneous" as const,
      lr: 3e-5,
      warmup: 120,
      max_len: 256,
      doc_stride: 32,
      loss_scale: "off" as const,
      r3f: { lambda: 0.5, eps: 1e-5, noise: "uniform" as const },
      sampling: { kind: "temperature" as const, t: 3 },
      cap: 5000,
      seed: 7,
      dev_size: 500,
      eval_every: 100,
      checkpoint_every: 200,
      keep_checkpoints: 2,
      keep_best: true,
      early_stopping: 3,
      early_stopping_threshold: 0.01,
      mixed_precision: "bf16" as const,
      devices: 2,
    },
  };

  it("takes every setting the form has, named after the run", () => {
    const form = formFromSpec(spec, false, "sst2 + rte", defaultForm("cpu"));
    expect(form).toMatchObject({
      name: "sst2 + rte (again)",
      tasks: ["sst2", "rte"],
      backend: "cuda",
      model: "folder",
      modelPath: "/home/me/models/roberta-base",
      steps: 1200,
      batchSize: 32,
      tasksPerUpdate: 2,
      batching: "homogeneous",
      lr: 3e-5,
      maxLen: 256,
      lossScaling: false,
      r3f: true,
      r3fLambda: 0.5,
      sampling: "temperature",
      temperature: 3,
      cap: 5000,
      seed: 7,
      devSize: 500,
      evalEvery: 100,
      checkpointEvery: 200,
      keepCheckpoints: 2,
      keepBest: true,
      earlyStopping: 3,
      earlyStoppingThreshold: 0.01,
      mixedPrecision: true,
      devices: 2,
    });
    // Its warmup and document stride are the form's defaults for its updates and length:
    // left empty, they follow them.
    expect(form).toMatchObject({ warmup: null, docStride: null });
    // Launched again, it asks for the run's settings.
    const again = launchRequest(form);
    expect(again.config).toEqual(spec.config);
    expect(again.model).toBe("/home/me/models/roberta-base");
  });

  it("keeps a warmup, a document stride and an R3F noise of the run's own", () => {
    const own = { ...spec, config: { ...spec.config, warmup: 0, doc_stride: 64, r3f: { lambda: 2, eps: 1e-4, noise: "normal" as const } } };
    const form = formFromSpec(own, false, "mine", defaultForm("cpu"));
    expect(form).toMatchObject({ warmup: 0, docStride: 64, r3fLambda: 2, r3fEps: 1e-4, r3fNoise: "normal" });
    expect(launchRequest(form).config).toEqual(own.config);
  });

  it("keeps the default model as the default, and the form's own value for what a spec lacks", () => {
    const form = formFromSpec({ model: "/assets/models/minilm", tasks: ["a"], config: { sampling: { kind: "uniform" }, r3f: null } }, true, "", defaultForm("cpu"));
    expect(form).toMatchObject({ name: "", model: "default", modelPath: "", sampling: "uniform", r3f: false, backend: "cpu", steps: defaultForm("cpu").steps });
  });
});

describe("examples over the max length", () => {
  it("reads the share at the builder's max length from the token count", () => {
    const lengths = { over: [[128, 0.0112], [256, 0]] as [number, number][] };
    expect(overShare(lengths, 128)).toBe(0.0112);
    expect(overShare(lengths, 256)).toBe(0);
    expect(overShare(lengths, 64)).toBeNull();
    expect(overShare(null, 128)).toBeNull();
  });

  it("says the share, a trace, or why there is none", () => {
    expect(overText(0.0112)).toBe("1.1%");
    expect(overText(0)).toBe("0.0%");
    expect(overText(0.0002)).toBe("<0.1%");
    expect(overText("pending")).toBe("…");
    expect(overText(null)).toBe("—");
    expect(overText("error")).toBe("—");
  });
});
