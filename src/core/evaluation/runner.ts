// One evaluation = one model on one benchmark: export the benchmark's tasks, have the sidecar
// generate samples (`eval/generate`), run them in its sandbox (`eval/execute`), then score their
// structure against the references here (CodeBLEU syntax and dataflow match, structure.json).
// Everything a run writes stays in its folder, `<model home>/eval/<benchmark>/`, so results are reproducible
// from the files alone (DESIGN.md, "Workspace artifacts").
import { createWriteStream } from "node:fs";
import { mkdir, readFile, stat } from "node:fs/promises";
import { once } from "node:events";
import { basename, join } from "node:path";
import type { DatasetIndex } from "../datasets/api";
import { serializeTask } from "../datasets/serialize";
import type { EvaluationDecl } from "../experiment/config";
import { listRunFolders } from "../runs/runFolders";
import { checkpointSteps } from "../training/runs";
import type { EvalProgressParams, MethodMap, RequestId } from "../../sidecar/protocol";
import { scoreEvalDir, structureInputs } from "./structure";

export type EvalModelKind = "base" | "adapter" | "checkpoint";

export interface EvalModel {
  /** "base", "<run-id>" or "<run-id>@step-<n>": stable across reloads, used by the panel. */
  id: string;
  label: string;
  kind: EvalModelKind;
  /** The Hugging Face model folder (or hub id) the sidecar loads. */
  model: string;
  adapter?: string;
  /** Its results live in `<home>/eval/<benchmark>/`. */
  home: string;
}

export const BASE_MODEL_ID = "base";

export function evalDir(model: EvalModel, benchmark: string): string {
  return join(model.home, "eval", benchmark);
}

/**
 * Where eval/execute keeps the expected outputs it gets by running reference solutions (EvalPlus's
 * extra inputs: 80–90 s for MBPP+), shared by every model and benchmark of the workspace. The
 * sidecar keys them by content, so a changed task or reference never reads a stale entry.
 */
export function expectedOutputsCacheDir(workspaceRoot: string): string {
  return join(workspaceRoot, ".codistill", "cache", "expected-outputs");
}

/** The base run folder's name: one per base model, so switching models keeps both baselines. */
export function baseRunId(model: string): string {
  return `base-${basename(model).replace(/[^\w.-]+/g, "-")}`;
}

/**
 * The models to evaluate, in one order that holds between renders: the student's base model, then
 * each run newest created first (listRunFolders: by creation time, not mtime, which evaluating a
 * run changes), its final adapter then its checkpoints in step order. Labels carry the run's name.
 * An adapter is evaluated on the base its adapter_config.json names, when that exists.
 */
export async function listEvalModels(workspaceRoot: string, studentModel: string | undefined): Promise<EvalModel[]> {
  const models: EvalModel[] = [];
  if (studentModel) {
    models.push({
      id: BASE_MODEL_ID,
      label: `Base: ${basename(studentModel)}`,
      kind: "base",
      model: studentModel,
      home: join(workspaceRoot, ".codistill", "runs", baseRunId(studentModel)),
    });
  }
  for (const run of await listRunFolders(workspaceRoot)) {
    const adapter = join(run.path, "adapter");
    const base = await adapterBase(adapter);
    if (base !== undefined) {
      const model = base || studentModel;
      if (model) models.push({ id: run.id, label: `${run.name} (adapter)`, kind: "adapter", model, adapter, home: run.path });
    }
    for (const step of await checkpointSteps(run.path)) {
      const folder = join(run.path, "checkpoints", `step-${step}`);
      const model = (await adapterBase(folder)) || studentModel;
      if (model) models.push({ id: `${run.id}@step-${step}`, label: `${run.name} step ${step}`, kind: "checkpoint", model, adapter: folder, home: folder });
    }
  }
  return models;
}

/** `base_model_name_or_path` of a PEFT adapter folder ("" when unset), or undefined if none is there. */
async function adapterBase(folder: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(join(folder, "adapter_config.json"), "utf8");
  } catch {
    return undefined;
  }
  try {
    const base = (JSON.parse(text) as { base_model_name_or_path?: unknown }).base_model_name_or_path;
    if (typeof base !== "string" || !base) return "";
    // Training records absolute folders; a hub id or a folder moved away falls back to the student.
    return base.startsWith("/") ? await stat(base).then(() => base, () => "") : base;
  } catch {
    return "";
  }
}

/** Writes the first `limit` tasks (all without a limit) as normalized Task JSONL; returns the count. */
export async function exportTasks(index: DatasetIndex, out: string, limit?: number, signal?: AbortSignal): Promise<number> {
  await index.whenIndexed();
  const count = Math.min(index.summaries.length, limit ?? Infinity);
  const stream = createWriteStream(out);
  try {
    for (let i = 0; i < count; i++) {
      signal?.throwIfAborted();
      if (!stream.write(`${serializeTask(await index.task(i))}\n`)) await once(stream, "drain");
    }
  } finally {
    stream.end();
    await once(stream, "close");
  }
  return count;
}

/** The sidecar reports generate and execute; export and score happen in this process. */
export type EvalPhase = "export" | "generate" | "execute" | "score";

export interface EvalProgress {
  phase: EvalPhase;
  done: number;
  total: number;
  message?: string;
}

type EvalMethod = "eval/generate" | "eval/execute";

/** What runEvaluation needs from the sidecar (a SidecarSupervisor): its two eval methods and their progress. */
export interface EvalSidecar {
  request<M extends EvalMethod>(method: M, params: MethodMap[M][0], options: EvalRequestOptions): Promise<MethodMap[M][1]>;
  onNotification(method: "eval/progress", handler: (params: EvalProgressParams) => void): () => void;
}

export interface EvalRequestOptions {
  signal?: AbortSignal;
  timeoutMs: number;
  onRequestId: (id: RequestId) => void;
}

export interface EvalJob {
  model: EvalModel;
  benchmark: string;
  tasks: DatasetIndex;
  settings: EvaluationDecl;
  /** eval/execute's cache of expected outputs: `expectedOutputsCacheDir(<workspace root>)`. */
  cacheDir: string;
}

export interface EvalOutcome {
  dir: string;
  tasksPath: string;
  samplesPath: string;
  resultsPath: string;
  structurePath: string;
}

/** Runs one model on one benchmark; cancelling `signal` cancels the sidecar request in flight. */
export async function runEvaluation(job: EvalJob, sidecar: EvalSidecar, onProgress: (p: EvalProgress) => void, signal?: AbortSignal): Promise<EvalOutcome> {
  const dir = evalDir(job.model, job.benchmark);
  await mkdir(dir, { recursive: true });
  const tasksPath = join(dir, "tasks.jsonl");
  onProgress({ phase: "export", done: 0, total: 1, message: `exporting ${job.benchmark}` });
  const count = await exportTasks(job.tasks, tasksPath, job.settings.limit, signal);
  onProgress({ phase: "export", done: 1, total: 1, message: `${count} tasks` });

  const { n, temperature, topP, maxNewTokens, workers, timeoutS, minIsolation } = job.settings;
  const generated = await callWithProgress(sidecar, "eval/generate", {
    model: job.model.model,
    adapter: job.model.adapter ?? null,
    tasksPath,
    outDir: dir,
    n,
    temperature,
    topP,
    maxNewTokens,
  }, onProgress, signal);
  const executed = await callWithProgress(sidecar, "eval/execute", {
    tasksPath,
    samplesPath: generated.samplesPath,
    outDir: dir,
    workers,
    timeoutS,
    cacheDir: job.cacheDir,
    ...(minIsolation ? { minIsolation } : {}),
  }, onProgress, signal);
  const structure = await scoreStructure(dir, tasksPath, generated.samplesPath, onProgress, signal);
  return { dir, tasksPath, samplesPath: generated.samplesPath, resultsPath: executed.resultsPath, structurePath: structure };
}

const PROGRESS_INTERVAL_MS = 200;

/** structure.json beside results.json, from the same tasks and samples files the sidecar ran. */
async function scoreStructure(dir: string, tasks: string, samples: string, onProgress: (p: EvalProgress) => void, signal: AbortSignal | undefined): Promise<string> {
  const inputs = structureInputs(dir, { tasks, samples });
  let last = -Infinity;
  // Scoring a sample takes milliseconds: a message to the webview per sample would outweigh it.
  const report = (done: number, total: number) => {
    if (done !== 0 && done !== total && performance.now() - last < PROGRESS_INTERVAL_MS) return;
    last = performance.now();
    onProgress({ phase: "score", done, total, message: "syntax and dataflow match" });
  };
  await scoreEvalDir(inputs, { signal, onProgress: report });
  return inputs.structurePath;
}

async function callWithProgress<M extends EvalMethod>(
  sidecar: EvalSidecar,
  method: M,
  params: MethodMap[M][0],
  onProgress: (p: EvalProgress) => void,
  signal: AbortSignal | undefined,
): Promise<MethodMap[M][1]> {
  let requestId: RequestId | undefined;
  const detach = sidecar.onNotification("eval/progress", (p) => {
    if (p.requestId !== requestId) return;
    onProgress({ phase: p.phase, done: p.done, total: p.total, ...(p.message !== undefined ? { message: p.message } : {}) });
  });
  try {
    // No timeout: a large benchmark takes hours on a CPU; progress shows it is alive and the user can cancel.
    return await sidecar.request(method, params, { signal, timeoutMs: 0, onRequestId: (id) => (requestId = id) });
  } finally {
    detach();
  }
}
