import { describe, expect, it } from "vitest";
import { buildSpec, defaultForm, fieldOf, parseDraw, parseNames, parseSeeds, parseSizes, planText, smallestUsable, specFileName, usableExamples, type BuilderForm } from "./experiment-builder";

const tasks = [
  { name: "winowhy", examples: 2862 },
  { name: "bbc_news", examples: 2225 },
  { name: "strategyqa", examples: 2290 },
  { name: "tiny", examples: 120 },
];

const form = (over: Partial<BuilderForm>): BuilderForm => ({ ...defaultForm(), name: "mine", ...over });

describe("the experiment builder", () => {
  it("reads names, sizes and seeds", () => {
    expect(parseNames(" winowhy, bbc_news  strategyqa,")).toEqual(["winowhy", "bbc_news", "strategyqa"]);
    expect(parseSizes("16, 32 64", null)).toEqual({ sizes: [16, 32, 64], error: null });
    expect(parseSizes("16, all", 500)).toEqual({ sizes: [16, 500], error: null });
    expect(parseSizes("16, all", null).error).toContain("needs the downstream tasks");
    expect(parseSizes("16, 3x", null).error).toContain("“3x” is no size");
    expect(parseSeeds("3")).toEqual({ seeds: 3, error: null });
    expect(parseSeeds("1, 2, 7")).toEqual({ seeds: [1, 2, 7], error: null });
    expect(parseSeeds("5,")).toEqual({ seeds: [5], error: null });
    expect(parseSeeds("").error).not.toBeNull();
    expect(parseSeeds("two").error).toContain("not a number of seeds");
  });

  it("counts the training examples a dev split leaves, as the library does", () => {
    expect(usableExamples(2862, 100)).toBe(2762);
    // The dev split takes at most half of a small task.
    expect(usableExamples(120, 100)).toBe(60);
    expect(smallestUsable(["winowhy", "tiny"], tasks, 100)).toBe(60);
    expect(smallestUsable(["winowhy", "unknown"], tasks, 100)).toBeNull();
    expect(smallestUsable([], tasks, 100)).toBeNull();
  });

  it("counts a task's own dev size instead of the fine-tune's", () => {
    const own = [...tasks, { name: "xsum_small", examples: 1000, devSize: 300 }];
    expect(smallestUsable(["xsum_small"], own, 100)).toBe(700);
    expect(smallestUsable(["winowhy", "xsum_small"], own, 100)).toBe(700);
    // Still at most half of the task.
    expect(smallestUsable(["xsum_small"], [{ name: "xsum_small", examples: 400, devSize: 300 }], 100)).toBe(200);
  });

  it("builds a sample-efficiency spec with a stage, the base model and existing runs", () => {
    const built = buildSpec(form({ downstream: "winowhy, bbc_news", sizes: "16, 32, all", seeds: "2", stageName: "muppet3", stageTasks: "strategyqa fever_claims", runs: [7, 9] }), tasks);
    expect(built.errors).toEqual([]);
    const spec = built.spec!;
    expect(spec.name).toBe("mine");
    expect(spec.stages).toEqual([{ name: "muppet3", tasks: ["strategyqa", "fever_claims"] }]);
    // "all": every training example of the smaller downstream task (bbc_news: 2225 - 100).
    expect(spec.sample_efficiency).toEqual({ tasks: ["winowhy", "bbc_news"], sizes: [16, 32, 2125], seeds: 2, starts: ["base", "muppet3", "run:7", "run:9"] });
    expect(spec.task_count).toBeUndefined();
    expect(spec.prefinetune).toMatchObject({ steps: 150, batch_size: 8, tasks_per_update: 2, max_len: 64, doc_stride: 16, warmup: 15, lr: 1e-4 });
    expect(spec.finetune).toMatchObject({ steps: 16, batch_size: 8, max_len: 64, doc_stride: 16, warmup: 1, dev_size: 100 });
    expect(spec.finetune).not.toHaveProperty("tasks_per_update");
    expect(spec.backend).toBeUndefined();
    expect(spec.prefinetune).not.toHaveProperty("mixed_precision");
  });

  it("sets the backend and mixed precision of every run", () => {
    const spec = buildSpec(form({ downstream: "winowhy", backend: "cuda", mixedPrecision: true }), tasks).spec!;
    expect(spec.backend).toBe("cuda");
    expect(spec.prefinetune.mixed_precision).toBe("bf16");
    expect(spec.finetune.mixed_precision).toBe("bf16");
    expect(fieldOf("backend: unknown backend `tpu`")).toBe("backend");
  });

  it("leaves out the stage and the base model when they are not chosen", () => {
    const spec = buildSpec(form({ downstream: "winowhy", base: false, stageTasks: "", runs: [3] }), tasks).spec!;
    expect(spec.stages).toBeUndefined();
    expect(spec.sample_efficiency?.starts).toEqual(["run:3"]);
  });

  it("builds a task-count spec with the order given or drawn with a seed", () => {
    const given = buildSpec(form({ design: "task_count", pool: "a, b, c, d", taskSizes: "1, 2, 4", heldOut: "winowhy", seeds: "3", trainSize: "64" }), tasks);
    expect(given.errors).toEqual([]);
    expect(given.spec!.task_count).toEqual({ pool: ["a", "b", "c", "d"], sizes: [1, 2, 4], inside: [], held_out: ["winowhy"], seeds: 3, train_size: 64 });
    expect(given.spec!.sample_efficiency).toBeUndefined();
    const drawn = buildSpec(form({ design: "task_count", pool: "a b c", taskSizes: "1 3", orderSeed: "11", inside: "1", heldOut: "", trainSize: "" }), tasks).spec!;
    expect(drawn.task_count).toMatchObject({ order_seed: 11, inside: 1 });
    expect(drawn.task_count).not.toHaveProperty("train_size");
    const named = buildSpec(form({ design: "task_count", pool: "a b", inside: "a" }), tasks).spec!;
    expect(named.task_count?.inside).toEqual(["a"]);
  });

  it("sets sampling, R3F and head reuse only when chosen", () => {
    const plain = buildSpec(form({ downstream: "winowhy", sizes: "16" }), tasks).spec!;
    expect(plain.prefinetune).not.toHaveProperty("sampling");
    expect(plain.finetune).not.toHaveProperty("r3f");
    expect(plain.finetune).not.toHaveProperty("keep_best");
    expect(plain.finetune).not.toHaveProperty("eval_every");
    expect(plain.sample_efficiency).not.toHaveProperty("reuse_heads");
    const chosen = buildSpec(form({ downstream: "winowhy", sizes: "16", sampling: "temperature", temperature: "2", r3f: true, reuseHeads: true }), tasks).spec!;
    expect(chosen.prefinetune.sampling).toEqual({ kind: "temperature", t: 2 });
    expect(chosen.finetune.r3f).toEqual({ lambda: 1, eps: 1e-5, noise: "uniform" });
    expect(chosen.sample_efficiency?.reuse_heads).toBe(true);
    const best = (every: string) => buildSpec(form({ downstream: "winowhy", sizes: "16", finetune: { ...defaultForm().finetune, bestEvery: every } }), tasks);
    expect(best("4").spec?.finetune).toMatchObject({ eval_every: 4, keep_best: true });
    expect(best("4").spec?.finetune).not.toHaveProperty("early_stopping");
    const stopping = (every: string, patience: string) =>
      buildSpec(form({ downstream: "winowhy", sizes: "16", finetune: { ...defaultForm().finetune, bestEvery: every, earlyStopping: patience } }), tasks);
    expect(stopping("4", "3").spec?.finetune).toMatchObject({ eval_every: 4, keep_best: true, early_stopping: 3 });
    expect(stopping("", "3").errors.map((e) => e.message)).toEqual(["finetune.early_stopping: compares dev scores during training: set “Best of dev every” too"]);
    expect(stopping("4", "0").errors.map((e) => e.message)).toEqual(["finetune.early_stopping: “0” is not a whole number of at least 1 (leave it empty to train every update)"]);
    expect(best("0").errors.map((e) => e.message)).toEqual(["finetune.eval_every: “0” is not a whole number of at least 1 (leave it empty to report each fine-tune's final score)"]);
    expect(buildSpec(form({ design: "task_count", pool: "a", sampling: "uniform", reuseHeads: true }), tasks).spec).toMatchObject({ prefinetune: { sampling: { kind: "uniform" } }, task_count: { reuse_heads: true } });
    const bad = buildSpec(form({ downstream: "winowhy", sizes: "16", sampling: "temperature", temperature: "0" }), tasks);
    expect(bad.errors).toEqual([{ field: "prefinetune", message: "prefinetune.sampling: the temperature “0” must be a number above 0 (2 is common)" }]);
  });

  it("sets pre-finetuning's batching, loss scaling and cap, except where the ablation sets them", () => {
    const d = defaultForm();
    expect(buildSpec(form({ downstream: "winowhy" }), tasks).spec?.prefinetune).not.toHaveProperty("batching");
    const set = buildSpec(form({ downstream: "winowhy", batching: "sequential", lossScale: false, cap: "5000" }), tasks).spec?.prefinetune;
    expect(set).toMatchObject({ batching: "sequential", loss_scale: "off", cap: 5000 });
    const ablation = buildSpec(form({ design: "batching_ablation", mixture: "a, b", ablationDownstream: "winowhy", batching: "sequential", lossScale: false, cap: "100" }), tasks).spec?.prefinetune;
    expect(ablation).not.toHaveProperty("batching");
    expect(ablation).not.toHaveProperty("loss_scale");
    expect(ablation).toMatchObject({ cap: 100 });
    const bad = buildSpec(form({ downstream: "winowhy", cap: "0" }), tasks);
    expect(bad.errors.map((e) => e.message)).toEqual(["prefinetune.cap: “0” is not a whole number of at least 1 (leave it empty for no cap)"]);
    expect(d.cap).toBe("");
  });

  it("builds a batching / loss-scaling ablation with the variants ticked", () => {
    const all = buildSpec(form({ design: "batching_ablation", mixture: "a, b, c", ablationDownstream: "winowhy", seeds: "2" }), tasks);
    expect(all.errors).toEqual([]);
    expect(all.spec!.batching_ablation).toEqual({
      mixture: ["a", "b", "c"],
      batchings: ["heterogeneous", "homogeneous", "sequential"],
      loss_scaling: [true, false],
      downstream: ["winowhy"],
      seeds: 2,
      train_size: 128,
    });
    expect(all.spec!.sample_efficiency).toBeUndefined();
    expect(all.spec!.task_count).toBeUndefined();
    const some = buildSpec(form({ design: "batching_ablation", mixture: "a", batchings: ["sequential", "heterogeneous"], lossScaling: [false], ablationTrainSize: "" }), tasks).spec!;
    expect(some.batching_ablation).toMatchObject({ batchings: ["heterogeneous", "sequential"], loss_scaling: [false] });
    expect(some.batching_ablation).not.toHaveProperty("train_size");
    const none = buildSpec(form({ design: "batching_ablation", mixture: "a", batchings: [], lossScaling: [], ablationTrainSize: "lots" }), tasks);
    expect(none.spec).toBeNull();
    expect(none.errors.map((e) => e.field)).toEqual(["batching_ablation.batchings", "batching_ablation.loss_scaling", "batching_ablation.train_size"]);
    expect(fieldOf("batching_ablation.downstream: `nope` is not a task")).toBe("batching_ablation.downstream");
  });

  it("builds a sweep of the fine-tuning settings given, from the model chosen", () => {
    const built = buildSpec(form({ design: "sweep", sweepTasks: "winowhy, bbc_news", sweepStart: "run:4", sweepLr: "1e-5 3e-5", sweepBatchSize: "16", sweepSteps: "", seeds: "2", reuseHeads: true }), tasks);
    expect(built.errors).toEqual([]);
    expect(built.spec?.sweep).toEqual({ tasks: ["winowhy", "bbc_news"], grid: { lr: [1e-5, 3e-5], batch_size: [16] }, seeds: 2, start: "run:4", train_size: 128, reuse_heads: true });
    expect(built.spec?.sample_efficiency).toBeUndefined();
    const bad = buildSpec(form({ design: "sweep", sweepTasks: "winowhy", sweepLr: "fast", sweepBatchSize: "8.5", sweepTrainSize: "" }), tasks);
    expect(bad.spec).toBeNull();
    expect(bad.errors.map((e) => e.message)).toEqual(["sweep.grid.lr: “fast” is not a number", "sweep.grid.batch_size: “8.5” is not a whole number"]);
  });

  it("compares a sweep's start with the base model when asked, and refuses it from the base model", () => {
    const compared = buildSpec(form({ design: "sweep", sweepTasks: "winowhy", sweepStart: "run:4", sweepCompareBase: true }), tasks);
    expect(compared.errors).toEqual([]);
    expect(compared.spec?.sweep).toMatchObject({ start: "run:4", compare_base: true });
    const staged = buildSpec(form({ design: "sweep", sweepTasks: "winowhy", sweepStageTasks: "strategyqa", sweepCompareBase: true }), tasks);
    expect(staged.spec?.sweep).toMatchObject({ start: "pft", compare_base: true });
    const twice = buildSpec(form({ design: "sweep", sweepTasks: "winowhy", sweepStart: "base", sweepCompareBase: true }), tasks);
    expect(twice.spec).toBeNull();
    expect(twice.errors.map((e) => e.field)).toEqual(["sweep.compare_base"]);
    expect(buildSpec(form({ design: "sweep", sweepTasks: "winowhy", sweepStart: "run:4" }), tasks).spec?.sweep).not.toHaveProperty("compare_base");
  });

  it("stops a sweep's runs that fall behind when asked, once dev scores are taken during training", () => {
    const asked = { design: "sweep" as const, sweepTasks: "winowhy", sweepEarlyTerminate: true };
    const built = buildSpec(form({ ...asked, finetune: { ...defaultForm().finetune, bestEvery: "20" } }), tasks);
    expect(built.errors).toEqual([]);
    expect(built.spec?.sweep?.early_terminate).toEqual({ rule: "median", min_runs: 3 });
    const two = buildSpec(form({ ...asked, sweepMinRuns: "2", finetune: { ...defaultForm().finetune, bestEvery: "20" } }), tasks);
    expect(two.spec?.sweep?.early_terminate).toEqual({ rule: "median", min_runs: 2 });
    const none = buildSpec(form({ ...asked, sweepMinRuns: "0", finetune: { ...defaultForm().finetune, bestEvery: "20" } }), tasks);
    expect(none.spec).toBeNull();
    expect(none.errors.map((e) => e.message)).toEqual(["sweep.early_terminate.min_runs: “0” is not a whole number of finished runs (at least 1)"]);
    // A grace of more than one evaluation is written; one, the rule's default, is left out.
    const late = buildSpec(form({ ...asked, sweepGraceEvals: "2", finetune: { ...defaultForm().finetune, bestEvery: "20" } }), tasks);
    expect(late.spec?.sweep?.early_terminate).toEqual({ rule: "median", min_runs: 3, grace_evals: 2 });
    const never = buildSpec(form({ ...asked, sweepGraceEvals: "0", finetune: { ...defaultForm().finetune, bestEvery: "20" } }), tasks);
    expect(never.errors.map((e) => e.message)).toEqual(["sweep.early_terminate.grace_evals: “0” is not a whole number of dev evaluations (at least 1)"]);
    expect(built.spec?.finetune).toMatchObject({ eval_every: 20 });
    const blind = buildSpec(form({ ...asked, finetune: { ...defaultForm().finetune, bestEvery: "" } }), tasks);
    expect(blind.spec).toBeNull();
    expect(blind.errors.map((e) => e.field)).toEqual(["sweep.early_terminate"]);
    expect(fieldOf(blind.errors[0]?.message ?? "")).toBe("sweep.early_terminate");
    expect(buildSpec(form({ design: "sweep", sweepTasks: "winowhy" }), tasks).spec?.sweep).not.toHaveProperty("early_terminate");
  });

  it("draws a random search's settings from ranges and values", () => {
    const random = { design: "sweep" as const, sweepTasks: "winowhy", sweepSearch: "random" as const, sweepCount: "6", sweepLr: "1e-5 .. 1e-3", sweepBatchSize: "8, 16", sweepSteps: "8 .. 32" };
    const built = buildSpec(form(random), tasks);
    expect(built.errors).toEqual([]);
    expect(built.spec?.sweep).toEqual({
      tasks: ["winowhy"],
      grid: {},
      random: { lr: { min: 1e-5, max: 1e-3, distribution: "log_uniform_values" }, batch_size: { values: [8, 16] }, steps: { min: 8, max: 32, distribution: "int_uniform" } },
      count: 6,
      seeds: 3,
      start: "base",
      train_size: 128,
    });
    // Each field is checked on its own; a range in a grid says how to draw from it.
    const bad = buildSpec(form({ ...random, sweepCount: "0", sweepLr: "0 .. 1e-3", sweepBatchSize: "8 .. 8", sweepSteps: "8.5 .. 32" }), tasks);
    expect(bad.spec).toBeNull();
    expect(bad.errors).toEqual([
      { field: "sweep.random", message: "sweep.random.lr: “0 .. 1e-3”: drawn on a log scale, so it must start above 0" },
      { field: "sweep.random", message: "sweep.random.batch_size: “8 .. 8”: the first number must be below the second" },
      { field: "sweep.random", message: "sweep.random.steps: “8.5 .. 32”: a range is two numbers, whole, as in 8 .. 32" },
      { field: "sweep.count", message: "sweep.count: “0” is not a number of settings to draw (at least 1)" },
    ]);
    // Then guided by the scores: a number of settings to propose, or nothing.
    expect(buildSpec(form({ ...random, sweepGuided: " 8 " }), tasks).spec?.sweep?.guided).toBe(8);
    expect(buildSpec(form({ ...random, sweepGuided: "" }), tasks).spec?.sweep).not.toHaveProperty("guided");
    expect(buildSpec(form({ ...random, sweepGuided: "0" }), tasks).errors).toEqual([
      { field: "sweep.guided", message: "sweep.guided: “0” is not a number of settings to propose (at least 1; empty for none)" },
    ]);
    expect(buildSpec(form({ ...random, sweepLr: "", sweepBatchSize: "", sweepSteps: "" }), tasks).errors).toEqual([
      { field: "sweep.random", message: "sweep.random: give a range (1e-5 .. 1e-3) or values of at least one setting to draw" },
    ]);
    expect(buildSpec(form({ ...random, sweepSearch: "grid" }), tasks).errors).toEqual([
      { field: "sweep.grid", message: "sweep.grid.lr: “1e-5 .. 1e-3” is a range: a grid lists values; choose Random search to draw from a range" },
    ]);
    expect(parseDraw("", true, false)).toBeNull();
    expect(parseDraw("0 .. 0.2", false, false)).toEqual({ min: 0, max: 0.2, distribution: "uniform" });
    expect(parseDraw("1 .. 2 .. 3", true, false)).toBe("“1 .. 2 .. 3”: give one range, as in 1e-5 .. 1e-3");
    expect(fieldOf("sweep.count: 9 settings asked, but sweep.random makes only 4 different ones", "sweep")).toBe("sweep.count");
    expect(fieldOf("sweep.random.lr: min = 0.0 must be above 0", "sweep")).toBe("sweep.random");
  });

  it("sweeps pre-finetuning settings of a stage it pre-finetunes first", () => {
    const stage = { design: "sweep" as const, sweepTasks: "winowhy", sweepLr: "", sweepBatchSize: "", sweepStageTasks: "a, b", sweepStageK: "1, 2", sweepStageLr: "" };
    const built = buildSpec(form(stage), tasks);
    expect(built.errors).toEqual([]);
    expect(built.spec?.stages).toEqual([{ name: "pft", tasks: ["a", "b"] }]);
    expect(built.spec?.sweep).toMatchObject({ start: "pft", grid: {}, stage_grid: { tasks_per_update: [1, 2] } });
    // Without stage tasks, a stage grid has nothing to sweep; a bad value is named.
    expect(buildSpec(form({ ...stage, sweepStageTasks: "" }), tasks).errors.map((e) => e.message)).toEqual([
      "sweep.stage_grid: give the tasks to pre-finetune on to sweep pre-finetuning settings",
    ]);
    expect(buildSpec(form({ ...stage, sweepStageK: "two" }), tasks).errors).toEqual([{ field: "sweep.stage_grid", message: "sweep.stage_grid.tasks_per_update: “two” is not a whole number" }]);
    // Stage tasks alone: a fine-tuning sweep from the stage.
    expect(buildSpec(form({ ...stage, sweepStageK: "", sweepLr: "1e-4, 3e-4" }), tasks).spec?.sweep).toEqual({ tasks: ["winowhy"], grid: { lr: [1e-4, 3e-4] }, seeds: 3, start: "pft", train_size: 128 });
    expect(fieldOf("stages[0].tasks: unknown task `nope` (known: a, b)", "sweep")).toBe("sweep.stage_grid");
  });

  it("reports what it cannot read under its field and builds nothing", () => {
    const built = buildSpec(
      form({ downstream: "winowhy", sizes: "16, lots", seeds: "x", prefinetune: { ...defaultForm().prefinetune, steps: "1.5" }, finetune: { ...defaultForm().finetune, lr: "-1" } }),
      tasks,
    );
    expect(built.spec).toBeNull();
    expect(built.errors.map((e) => e.field).sort()).toEqual(["finetune", "prefinetune", "sample_efficiency.seeds", "sample_efficiency.sizes"]);
    expect(built.errors.find((e) => e.field === "prefinetune")?.message).toBe("prefinetune.steps: “1.5” is not a whole number");
    const tc = buildSpec(form({ design: "task_count", pool: "a", taskSizes: "1", orderSeed: "soon", trainSize: "many" }), tasks);
    expect(tc.errors.map((e) => e.field)).toEqual(["task_count.order_seed", "task_count.train_size"]);
  });

  it("places the library's messages under their fields", () => {
    expect(fieldOf("sample_efficiency.sizes: 5000 training examples of `winowhy` asked for, but it has 2862")).toBe("sample_efficiency.sizes");
    expect(fieldOf("stages[0].tasks: unknown task `nope` (known: a, b)")).toBe("stages");
    expect(fieldOf("finetune.doc_stride: 30 must be below max_len - 2")).toBe("finetune");
    expect(fieldOf("task_count.sizes: 4 tasks asked for but the pool has 2")).toBe("task_count.sizes");
    expect(fieldOf("overlap: downstream task `winowhy` is in the pre-finetuning mixture of `pft` (stages[0].tasks)")).toBe("sample_efficiency.tasks");
    // Under the downstream tasks of the design shown.
    expect(fieldOf("overlap: downstream task `winowhy` is in the pre-finetuning mixture of `run 4` (run 4)", "sweep")).toBe("sweep.tasks");
    expect(fieldOf("overlap: downstream task `x` is in the pre-finetuning mixture of `sequential, scaling on`", "batching_ablation")).toBe("batching_ablation.downstream");
    expect(fieldOf("sweep.grid.lr: 0.00001 is listed twice", "sweep")).toBe("sweep.grid");
    expect(fieldOf("name: is empty: name the experiment")).toBe("name");
    expect(fieldOf("task_count: no downstream task: set inside and/or held_out")).toBe("");
    expect(fieldOf("no design: add one of the sections")).toBe("");
  });

  it("states the plan's size and names the file", () => {
    expect(planText({ runs: 55, prefinetunes: 1, finetunes: 54 })).toBe("55 runs: 1 pre-finetuning, 54 fine-tunes");
    expect(planText({ runs: 1, prefinetunes: 0, finetunes: 1 })).toBe("1 run: 0 pre-finetuning, 1 fine-tune");
    expect(specFileName("Task count: 6 tasks!")).toBe("task-count-6-tasks.toml");
    expect(specFileName("  ")).toBe("experiment.toml");
  });
});
