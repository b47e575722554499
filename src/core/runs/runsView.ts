// What the Runs view lists, without vscode: training runs apart from evaluation-only folders (a base
// model's `base-<model>`), each group newest first, with what each row says and which of the
// context menu's commands apply (package.json's menus match on the row's context value).
import { BASE_MODEL_ID } from "../evaluation/runner";
import { isResumable, type RunState, type RunSummary } from "../training/runs";
import { byNewest, type RunFolder } from "./runFolders";

export interface RunEntry {
  folder: RunFolder;
  summary: RunSummary;
}

export interface RunGroups {
  training: RunEntry[];
  evaluations: RunEntry[];
}

/** Splits runs by what they are; each group keeps one order, newest created first (byNewest). */
export function groupRuns(entries: readonly RunEntry[]): RunGroups {
  const sorted = [...entries].sort((a, b) => byNewest(a.folder, b.folder));
  return {
    training: sorted.filter((e) => e.summary.state !== "evaluation"),
    evaluations: sorted.filter((e) => e.summary.state === "evaluation"),
  };
}

/**
 * A row's context value: `codistill.run.training` or `codistill.run.evaluation`, with `.resumable`
 * for a run Resume can carry on. package.json's `viewItem =~` clauses read these words.
 */
export function runContextValue(summary: Pick<RunSummary, "state" | "checkpoints">): string {
  if (summary.state === "evaluation") return "codistill.run.evaluation";
  return isResumable(summary) ? "codistill.run.training.resumable" : "codistill.run.training";
}

/** "finished at step 8/8, 2 checkpoint(s)" — the row's description follows the id. */
export function runDescription(folder: RunFolder, summary: RunSummary): string {
  const progress = summary.step !== null && summary.totalSteps !== null ? ` at step ${summary.step}/${summary.totalSteps}` : "";
  const checkpoints = summary.checkpoints.length ? `, ${summary.checkpoints.length} checkpoint(s)` : "";
  const id = folder.name === folder.id ? "" : `${folder.id} · `;
  return `${id}${summary.state}${progress}${checkpoints}`;
}

/** The tooltip's lines: name, id, folder, state and creation time, and a failed run's error. */
export function runTooltipLines(folder: RunFolder, summary: RunSummary): string[] {
  return [
    folder.name,
    `id: ${folder.id}`,
    folder.path,
    `${summary.state}, created ${new Date(folder.createdMs).toLocaleString()}`,
    ...(summary.error ? [summary.error] : []),
  ];
}

export const RUN_ICONS: Record<RunState, string> = { finished: "pass", failed: "error", stopped: "debug-pause", started: "rocket", evaluation: "beaker", empty: "circle-outline" };

/**
 * The Evaluation panel's model to select for a run: its final adapter, else its last checkpoint;
 * a base-model folder is the base model when it is the current student's. Undefined: nothing to select.
 */
export function evalModelIdOf(folder: Pick<RunFolder, "id">, summary: Pick<RunSummary, "state" | "checkpoints">, baseRunId: string | undefined): string | undefined {
  if (summary.state === "evaluation") return folder.id === baseRunId ? BASE_MODEL_ID : undefined;
  if (summary.state === "finished") return folder.id;
  const last = summary.checkpoints.at(-1);
  return last === undefined ? undefined : `${folder.id}@step-${last}`;
}
