// The mixture builder's estimate of a run's wall time, in words: the figure, the measured
// throughput it comes from and which runs measured it. Pure, so the wording is unit-tested.
import type { RunEstimate } from "./api";
import { formatCount } from "./runs-format";

/** A duration as people read it: "45 s", "12 min", "1 h 05 min", "2 d 3 h". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.round(s / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ${String(minutes % 60).padStart(2, "0")} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** Run ids as "run 3" or "runs 3, 5 and 8". */
function runList(ids: number[]): string {
  if (ids.length === 1) return `run ${ids[0]}`;
  return `runs ${ids.slice(0, -1).join(", ")} and ${ids[ids.length - 1]}`;
}

/** The estimate line shown beside the step budget. */
export function estimateText(estimate: RunEstimate, backend: string, maxLen: number): string {
  if (estimate.seconds === null || estimate.examples_per_second === null || estimate.runs.length === 0) {
    return `Estimated time: no measured run yet (no completed run on ${backend} on this machine).`;
  }
  const rate = estimate.examples_per_second;
  const rateText = rate >= 10 ? formatCount(Math.round(rate)) : rate.toFixed(1);
  const which = estimate.same_max_len ? `at max length ${maxLen}` : `at every max length (none completed at ${maxLen})`;
  return `Estimated time ≈ ${formatDuration(estimate.seconds)} for ${formatCount(estimate.examples)} examples at ${rateText} examples/s, measured on ${backend} by ${runList(estimate.runs.map((r) => r.run))} ${which}.`;
}
