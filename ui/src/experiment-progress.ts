// Where an experiment stands, from its stored runs and its plan's size.
import type { ExperimentView } from "./api";

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
 * runs) is the total. `launching`: a `muppet experiment run` started by the app is alive.
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
  if (count("running") > 0) parts.push(`${count("running")} running`);
  if (failed > 0) parts.push(`${failed} failed`);
  return {
    state,
    done,
    fraction: total > 0 ? done / total : null,
    text: parts.join(" · "),
  };
}
