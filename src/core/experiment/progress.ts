// The experiment's progress in words, the same in the CLI's stderr and the editor's notification:
// which stage of how many, its arm, what it is doing, and about how long is left in all.
import type { PipelineEvent } from "./pipeline";

/** "45s", "12m", "2.5h": as precise as an estimate deserves. */
export function formatDuration(seconds: number): string {
  if (seconds < 90) return `${Math.ceil(seconds)}s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)}m`;
  return `${(seconds / 3600).toFixed(1)}h`;
}

/** "[3/9] train:sft-cot: 45% sft-cot: step 9/20, loss 5.1 (about 4m left)". */
export function describeEvent(event: PipelineEvent): string {
  const head = `[${event.index + 1}/${event.total}] ${event.stage.id}`;
  const eta = "etaS" in event && event.etaS !== null ? ` (about ${formatDuration(event.etaS)} left)` : "";
  switch (event.type) {
    case "up-to-date":
      return `${head}: up to date`;
    case "start":
      return `${head}: running, ${event.why}${eta}`;
    case "done":
      return `${head}: done in ${formatDuration(event.wallS)}${eta}`;
    case "progress":
      return `${head}: ${Math.round(event.fraction * 100)}% ${event.message}${eta}`;
  }
}

/** How much of the whole run `event` marks as done, in [0, 1]: finished stages plus the current one's share. */
export function overallFraction(event: PipelineEvent): number {
  const within = event.type === "progress" ? Math.min(1, Math.max(0, event.fraction)) : event.type === "start" ? 0 : 1;
  return (event.index + within) / event.total;
}
