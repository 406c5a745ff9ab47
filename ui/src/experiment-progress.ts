// Where an experiment stands, from its stored runs and its plan's size.
import type { ExperimentLaunch, ExperimentView } from "./api";

export type ExperimentState = "running" | "completed" | "failed" | "stopped";

export interface ExperimentProgress {
  state: ExperimentState;
  done: number;
  /** Completed runs over planned runs; null when the plan's size is unknown. */
  fraction: number | null;
  text: string;
}

/**
 * Runs are registered as their start becomes known, so the plan's size (not the stored
 * runs) is the total. `launching`: an orchestrator (`muppet experiment run` or `resume`) runs it now.
 */
export function experimentProgress(experiment: ExperimentView, launching: boolean): ExperimentProgress {
  const count = (status: string) => experiment.runs.filter((r) => r.status === status).length;
  const done = count("completed");
  const failed = count("failed");
  const active = count("running") + count("queued");
  const total = experiment.planned_runs ?? experiment.runs.length;
  let state: ExperimentState;
  if (total > 0 && done >= total) state = "completed";
  else if (count("running") > 0 || (launching && active > 0)) state = "running";
  else if (failed > 0) state = "failed";
  else state = launching ? "running" : "stopped";
  const parts = [`${done} of ${total} runs completed`];
  // A guided random search proposes more settings after these: not done until it has.
  const guided = guidedSettings(experiment.spec);
  if (guided && guided.proposed < guided.wanted) {
    if (state === "completed") state = launching ? "running" : "stopped";
    parts.push(`${guided.proposed} of ${guided.wanted} settings proposed from the scores`);
  }
  if (experiment.stopped_early > 0) parts.push(`${experiment.stopped_early} stopped early by the sweep's rule`);
  if (count("running") > 0) parts.push(`${count("running")} running`);
  if (failed > 0) parts.push(`${failed} failed`);
  return {
    state,
    done,
    fraction: total > 0 ? done / total : null,
    text: parts.join(" · "),
  };
}

/** Where a launched (or adopted) `muppet experiment run` stands, for its line in the list. */
export function launchStatus(l: ExperimentLaunch): { state: "running" | "cancelling" | "done" | "failed" | "ended"; text: string } {
  if (l.running) {
    return l.cancelling
      ? { state: "cancelling", text: `stopping (pid ${l.pid}): running runs finish their update and keep a checkpoint` }
      : { state: "running", text: l.adopted ? `running (pid ${l.pid}), started outside this session of the app` : `running (pid ${l.pid})` };
  }
  // An adopted process is not the app's child: its exit code is not known, its runs say how it went.
  if (l.adopted) return { state: "ended", text: "ended (its runs below and its log show how)" };
  return { state: l.exit_code === 0 ? "done" : "failed", text: `ended with code ${l.exit_code ?? "?"}` };
}

/** A guided random search's settings proposed from the scores so far and those it proposes in all (`sweep.guided`); null without. */
export function guidedSettings(spec: unknown): { proposed: number; wanted: number } | null {
  const sweep = (spec as { sweep?: { guided?: unknown; proposed?: unknown } } | null)?.sweep;
  if (typeof sweep?.guided !== "number") return null;
  return { proposed: Array.isArray(sweep.proposed) ? sweep.proposed.length : 0, wanted: sweep.guided };
}

/** How many settings a random search (`sweep.random`) has drawn, its `count`; null for any other experiment. */
export function drawnSettings(spec: unknown): number | null {
  const sweep = (spec as { sweep?: { random?: Record<string, unknown>; count?: unknown; proposed?: unknown } } | null)?.sweep;
  const proposed = Array.isArray(sweep?.proposed) ? sweep.proposed.length : 0;
  return sweep?.random && Object.keys(sweep.random).length > 0 && typeof sweep.count === "number" ? sweep.count + proposed : null;
}

/** The number typed to draw more settings, or what is wrong with it. */
export function moreSettings(text: string): number | string {
  const n = Number(text.trim());
  return text.trim() !== "" && Number.isInteger(n) && n >= 1 ? n : `“${text.trim()}” is not a number of settings to draw: give a whole number, at least 1`;
}
