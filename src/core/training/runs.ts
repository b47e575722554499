// What a training run's folder says about it (DESIGN.md, "Workspace artifacts"): its state for the
// Runs view, its checkpoints, and its metrics.jsonl for the training panel's charts.
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";

/** The keys every metrics.jsonl line carries (codistill.training.metrics.METRIC_KEYS). */
export const METRIC_KEYS = [
  "step", "total_steps", "epoch", "loss", "ce", "l_struct", "alpha", "beta", "lr", "grad_norm",
  "tokens_per_s", "samples_per_s", "gpu_mem_allocated", "gpu_mem_peak", "eta_s", "eval_loss", "eval_ce", "eval_l_struct",
] as const;
export type MetricKey = (typeof METRIC_KEYS)[number];
/** Every METRIC_KEYS key is there (null where it does not apply); `step` always has a value. */
export type MetricsLine = { step: number } & Record<string, number | null>;

/**
 * finished: the final adapter is there; failed: manifest.json says the run failed (resumable when it
 * has checkpoints); stopped: checkpoints but no adapter (resumable); started: metrics but no
 * checkpoint yet; evaluation: only evaluation results (a base model's folder); empty: nothing yet.
 * "running" is known only to whoever is running it.
 */
export type RunState = "finished" | "failed" | "stopped" | "started" | "evaluation" | "empty";

export interface RunSummary {
  state: RunState;
  /** Steps of the last metrics line, when there is one. */
  step: number | null;
  totalSteps: number | null;
  checkpoints: number[];
  /** The failure manifest.json records, for a failed run. */
  error: string | null;
}

/** A run that can carry on from a checkpoint: stopped, or failed after writing one. */
export const isResumable = (summary: Pick<RunSummary, "state" | "checkpoints">): boolean =>
  summary.state === "stopped" || (summary.state === "failed" && summary.checkpoints.length > 0);

export async function checkpointSteps(runDir: string): Promise<number[]> {
  const names = await readdir(join(runDir, "checkpoints")).catch(() => [] as string[]);
  return names
    .map((n) => /^step-(\d+)$/.exec(n)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

const exists = (path: string) => stat(path).then(() => true, () => false);

export async function summarizeRun(runDir: string): Promise<RunSummary> {
  const [checkpoints, metrics, finished, evaluated, manifest] = await Promise.all([
    checkpointSteps(runDir),
    readMetrics(join(runDir, "metrics.jsonl")).catch(() => [] as MetricsLine[]),
    exists(join(runDir, "adapter", "adapter_config.json")),
    exists(join(runDir, "eval")),
    readManifestState(runDir),
  ]);
  const last = metrics.at(-1);
  const failed = !finished && manifest.state === "failed";
  const state: RunState = finished ? "finished" : failed ? "failed" : checkpoints.length ? "stopped" : metrics.length ? "started" : evaluated ? "evaluation" : "empty";
  return { state, step: last?.step ?? null, totalSteps: last?.total_steps ?? null, checkpoints, error: failed ? (manifest.error ?? "no reason recorded") : null };
}

/** manifest.json's state and error. The manifest is written whole (rename), but a folder without one, or one a user edited, only loses this detail. */
async function readManifestState(runDir: string): Promise<{ state?: string; error?: string }> {
  try {
    const manifest = JSON.parse(await readFile(join(runDir, "manifest.json"), "utf8")) as Record<string, unknown>;
    return {
      state: typeof manifest.state === "string" ? manifest.state : undefined,
      error: typeof manifest.error === "string" ? manifest.error : undefined,
    };
  } catch {
    return {};
  }
}

/**
 * The lines of a metrics.jsonl. A run killed mid-write leaves a partial last line: it is dropped.
 * Any other bad line is an error naming the file and line.
 */
export async function readMetrics(path: string): Promise<MetricsLine[]> {
  return parseMetrics(await readFile(path, "utf8"), path);
}

export function parseMetrics(text: string, path: string): MetricsLine[] {
  // Whole lines end with "\n": the last piece is "" after a clean write, or a partial line.
  const complete = text.split("\n").slice(0, -1);
  return complete.flatMap((line, i) => (line.trim() ? [parseMetricsLine(line, `${path}:${i + 1}`)] : []));
}

function parseMetricsLine(line: string, where: string): MetricsLine {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    throw new Error(`${where}: not JSON: ${(err as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error(`${where}: expected an object`);
  const record = value as Record<string, unknown>;
  for (const key of METRIC_KEYS) {
    if (!(key in record)) throw new Error(`${where}: ${key}: missing`);
  }
  for (const [key, v] of Object.entries(record)) {
    if (v !== null && typeof v !== "number") throw new Error(`${where}: ${key}: expected a number or null`);
  }
  if (!Number.isInteger(record.step)) throw new Error(`${where}: step: expected an integer`);
  return record as MetricsLine;
}
