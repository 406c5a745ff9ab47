import { describe, expect, it } from "vitest";
import type { ExperimentsPage } from "./api";
import { demoPending, demoSize } from "./demo-offer";

const demo = { name: "demo", description: "d", runs: 61, prefinetunes: 1, finetunes: 60, minutes_on_2_cores: 8 };
const page = (over: Partial<ExperimentsPage>): ExperimentsPage => ({ experiments: [], demo_spec: null, launches: [], demo, ...over });

describe("the demo offer", () => {
  it("states the size and the expected time", () => {
    expect(demoSize(demo)).toBe("61 runs (1 pre-finetuning, 60 fine-tunes) · about 8 minutes on 2 CPU cores");
  });

  it("is offered until the demo is stored or being started", () => {
    expect(demoPending(page({}))).toBe(true);
    const launch = { id: 0, spec: "/home/u/.local/share/muppet-studio/experiments/demo.toml", pid: 4, log: "l", running: true, cancelling: false, exit_code: null, adopted: false, experiment: null };
    expect(demoPending(page({ launches: [launch] }))).toBe(false);
    expect(demoPending(page({ launches: [{ ...launch, running: false, exit_code: 1 }] }))).toBe(true);
    const stored = { id: 1, name: "demo", kind: "sample_efficiency", spec: {}, created_at: "", runs: [], report: null, charts: [], files: [], planned_runs: 61, orchestrated: false, summary: null, prefinetuned: [], stopped_early: 0 };
    expect(demoPending(page({ experiments: [stored] }))).toBe(false);
    expect(demoPending(page({ experiments: [{ ...stored, name: "other" }] }))).toBe(true);
  });
});
