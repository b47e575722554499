// The run folders of .codistill/runs/ and what the extension records in each: a name and when the
// run was created, so every list of runs (the Runs view, the Training and Evaluation panels) shows
// the same names in the same order.
import { readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";

export interface RunFolder {
  id: string;
  path: string;
  modifiedMs: number;
  /** When the run was created (see runCreatedMs): stable while the run trains and is evaluated. */
  createdMs: number;
  /** run.json's name; the id when the run has none (runs from before names, base-model folders). */
  name: string;
}

/**
 * The extension's own file in a run folder. The sidecar's run config (TrainConfig) rejects keys it
 * does not know, so the name cannot travel in train/start's config; the sidecar never reads this
 * file, and a run folder holding only it (and data/) is still free for train/start.
 */
export const RUN_INFO_FILE = "run.json";

export interface RunInfo {
  name: string;
  /** ISO time the run was planned. */
  createdAt: string;
}

export const runsRoot = (workspaceRoot: string) => join(workspaceRoot, ".codistill", "runs");

/** Run folders under `.codistill/runs`, newest first (byNewest). A missing folder means no runs yet. */
export async function listRunFolders(workspaceRoot: string): Promise<RunFolder[]> {
  const root = runsRoot(workspaceRoot);
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  const runs = await Promise.all(entries.filter((e) => e.isDirectory()).map((e) => readRunFolder(join(root, e.name))));
  return runs.sort(byNewest);
}

async function readRunFolder(path: string): Promise<RunFolder> {
  const id = basename(path);
  const [info, manifest, modifiedMs] = await Promise.all([readJson(join(path, RUN_INFO_FILE)), readJson(join(path, "manifest.json")), stat(path).then((s) => s.mtimeMs)]);
  const name = typeof info.name === "string" && info.name.trim() ? info.name.trim() : id;
  return { id, path, modifiedMs, name, createdMs: runCreatedMs(id, modifiedMs, info.createdAt, manifest.createdAt) };
}

/**
 * When a run was created: run.json's createdAt, else manifest.json's (the sidecar's), else the time
 * newRunId put in the id, else the folder's mtime. Not the mtime first: evaluating a run writes
 * `<run>/eval/`, which touches the folder, and a list sorted by it reordered itself between renders.
 */
export function runCreatedMs(id: string, modifiedMs: number, ...createdAt: unknown[]): number {
  for (const value of createdAt) {
    const ms = typeof value === "string" ? Date.parse(value) : Number.NaN;
    if (Number.isFinite(ms)) return ms;
  }
  return stampOf(id) ?? modifiedMs;
}

/** The local time at the head of a newRunId id ("20261126-170512-…"), if it has one. */
function stampOf(id: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})(?!\d)/.exec(id);
  if (!m) return undefined;
  const [year, month, day, hours, minutes, seconds] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const ms = new Date(year, month - 1, day, hours, minutes, seconds).getTime();
  return Number.isFinite(ms) ? ms : undefined;
}

/** Newest first; runs created in the same millisecond by id, descending, so the order never flips. */
export function byNewest(a: Pick<RunFolder, "createdMs" | "id">, b: Pick<RunFolder, "createdMs" | "id">): number {
  return b.createdMs - a.createdMs || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/** A file that is missing or not a JSON object reads as {}: a run folder only loses its name or time. */
async function readJson(path: string): Promise<Record<string, unknown>> {
  try {
    const value: unknown = JSON.parse(await readFile(path, "utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export async function writeRunInfo(runDir: string, info: RunInfo): Promise<void> {
  await writeFile(join(runDir, RUN_INFO_FILE), `${JSON.stringify(info, null, 2)}\n`);
}

/**
 * Deletes a run folder, only when it is a folder directly under the workspace's .codistill/runs/:
 * a path from a stale tree item or a crafted command argument never removes anything else.
 */
export async function deleteRunFolder(workspaceRoot: string, runDir: string): Promise<void> {
  const root = resolve(runsRoot(workspaceRoot));
  const dir = resolve(runDir);
  if (dirname(dir) !== root || basename(dir).startsWith(".")) throw new Error(`${runDir} is not a run folder of ${root}`);
  await rm(dir, { recursive: true, force: true });
}
