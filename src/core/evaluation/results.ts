// Reading what an evaluation leaves in `.codistill/runs/<run-id>/eval/<benchmark>/`:
// results.json (written by eval/execute, format in the eval spec) and samples.jsonl (written by
// eval/generate). Both are checked field by field, because a panel that silently shows a
// half-read file would report wrong pass rates.
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { EvalExecuteSummary } from "../../sidecar/protocol";
import { errorMessage } from "../datasets/errors";
import { listRunFolders } from "../runs/runFolders";
import {
  EvalFileError,
  entry,
  expectArray,
  expectInteger,
  expectIntegerOrNull,
  expectNumber,
  expectObject,
  expectOneOf,
  expectRecordOf,
  expectString,
  expectStringOrNull,
  expectUnitInterval,
  fail,
  item,
  member,
  optional,
  wrongType,
  type Origin,
} from "./fields";

export { EvalFileError } from "./fields";

/** The statuses the execution sandbox reports for one sample (codistill.execution.executor.STATUSES). */
export const SAMPLE_STATUSES = ["passed", "failed", "timeout", "error", "oom", "needs_judge"] as const;
export type SampleStatus = (typeof SAMPLE_STATUSES)[number];

const OUTCOMES = ["pass", "fail"] as const;

export interface SampleResult {
  status: SampleStatus;
  /** Passed the benchmark's original tests (EvalPlus "base"). */
  basePass: boolean;
  /** Passed the extra EvalPlus tests too; null for tasks without them. */
  plusPass: boolean | null;
  /** Index of the first failing test input, for call and stdio tests. */
  failedTest: number | null;
  message: string | null;
  durationS: number;
  solution: string;
}

export interface TaskResults {
  taskId: string;
  /** In sample order: samples[i] is the i-th sample of this task in samples.jsonl. */
  samples: SampleResult[];
}

/** generation.json, copied into results.json: how the samples were produced. */
export interface GenerationInfo {
  model: string;
  adapter: string | null;
  n: number;
  temperature: number;
  topP?: number;
  maxNewTokens?: number;
  backend?: string;
  promptFormat?: string;
  chatTemplate?: boolean | string;
  date?: string;
}

/**
 * The sidecar's own summary, as written: the one its eval/execute answers with. Statistics in
 * this module recompute from `tasks`.
 */
/** results.json's summary; `isolation` is null in results written before the sandbox named it. */
export type EvalSummary = Omit<EvalExecuteSummary, "isolation"> & { isolation: string | null };

export interface EvalResults {
  path: string;
  date: string;
  /** sha256 of the tasks file: two results are comparable task by task only when this matches. */
  hash: string;
  tasksPath: string;
  samplesPath: string;
  generation: GenerationInfo | null;
  summary: EvalSummary;
  /** In the order of the file. */
  tasks: TaskResults[];
}

export async function readEvalResults(path: string): Promise<EvalResults> {
  return parseEvalResults(await readText(path), path);
}

export function parseEvalResults(text: string, path: string): EvalResults {
  const origin: Origin = { file: path };
  const root = expectObject(origin, parseJson(origin, text), "");
  return {
    path,
    date: expectString(origin, root.date, "date"),
    hash: expectString(origin, root.hash, "hash"),
    tasksPath: expectString(origin, root.tasksPath, "tasksPath"),
    samplesPath: expectString(origin, root.samplesPath, "samplesPath"),
    generation: readGeneration(origin, root.generation, "generation"),
    summary: readSummary(origin, root.summary, "summary"),
    tasks: readTasks(origin, root.eval, "eval"),
  };
}

function readGeneration(origin: Origin, value: unknown, field: string): GenerationInfo | null {
  if (value === null) return null;
  if (value === undefined) wrongType(origin, field, "an object or null", value);
  const g = expectObject(origin, value, field);
  const at = (key: string) => member(field, key);
  const info: GenerationInfo = {
    model: expectString(origin, g.model, at("model")),
    // No adapter recorded means the base model generated the samples.
    adapter: g.adapter === undefined ? null : expectStringOrNull(origin, g.adapter, at("adapter")),
    n: expectInteger(origin, g.n, at("n"), 1),
    temperature: expectNumber(origin, g.temperature, at("temperature"), 0),
  };
  const topP = optional(g.topP, (v) => expectNumber(origin, v, at("topP"), 0));
  const maxNewTokens = optional(g.maxNewTokens, (v) => expectInteger(origin, v, at("maxNewTokens"), 1));
  const backend = optional(g.backend, (v) => expectString(origin, v, at("backend")));
  const promptFormat = optional(g.promptFormat, (v) => expectString(origin, v, at("promptFormat")));
  const chatTemplate = optional(g.chatTemplate, (v) => expectBooleanOrString(origin, v, at("chatTemplate")));
  const date = optional(g.date, (v) => expectString(origin, v, at("date")));
  return { ...info, ...defined({ topP, maxNewTokens, backend, promptFormat, chatTemplate, date }) };
}

/** Whether a chat template was applied, or the template's name: generation.json may record either. */
function expectBooleanOrString(origin: Origin, value: unknown, field: string): boolean | string {
  if (typeof value === "boolean" || typeof value === "string") return value;
  wrongType(origin, field, "true, false or a string", value);
}

/** Drops undefined values so optional fields are absent rather than present-but-undefined. */
function defined<T extends object>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function readSummary(origin: Origin, value: unknown, field: string): EvalSummary {
  const s = expectObject(origin, value, field);
  const at = (key: string) => member(field, key);
  return {
    samples: expectInteger(origin, s.samples, at("samples")),
    tasks: expectInteger(origin, s.tasks, at("tasks")),
    statuses: expectRecordOf(origin, s.statuses, at("statuses"), (v, f) => expectInteger(origin, v, f)),
    passAtK: expectRecordOf(origin, s.passAtK, at("passAtK"), (v, f) => expectUnitInterval(origin, v, f, "a fraction")),
    wallS: expectNumber(origin, s.wallS, at("wallS"), 0),
    isolation: s.isolation === undefined ? null : expectString(origin, s.isolation, at("isolation")),
  };
}

function readTasks(origin: Origin, value: unknown, field: string): TaskResults[] {
  const byTask = expectObject(origin, value, field);
  const tasks = Object.entries(byTask).map(([taskId, samples]) => readTask(origin, taskId, samples, entry(field, taskId)));
  if (tasks.length === 0) fail(origin, field, "expected at least one task");
  return tasks;
}

function readTask(origin: Origin, taskId: string, value: unknown, field: string): TaskResults {
  const list = expectArray(origin, value, field);
  // pass@k is undefined for a task without samples; such a file is broken, not empty.
  if (list.length === 0) fail(origin, field, "expected at least one sample");
  return { taskId, samples: list.map((sample, i) => readSample(origin, taskId, sample, item(field, i))) };
}

function readSample(origin: Origin, taskId: string, value: unknown, field: string): SampleResult {
  const s = expectObject(origin, value, field);
  const at = (key: string) => member(field, key);
  const sampleTaskId = expectString(origin, s.task_id, at("task_id"));
  if (sampleTaskId !== taskId) fail(origin, at("task_id"), `expected ${JSON.stringify(taskId)} (the key it is listed under), got ${JSON.stringify(sampleTaskId)}`);
  const status = expectOneOf(origin, s.status, at("status"), SAMPLE_STATUSES);
  const basePass = expectOneOf(origin, s.base_status, at("base_status"), OUTCOMES) === "pass";
  const plusPass = s.plus_status === null ? null : expectOneOf(origin, s.plus_status, at("plus_status"), OUTCOMES) === "pass";
  checkOutcomesMatchStatus(origin, field, status, basePass, plusPass);
  return {
    status,
    basePass,
    plusPass,
    failedTest: expectIntegerOrNull(origin, s.failed_test, at("failed_test")),
    message: expectStringOrNull(origin, s.message, at("message")),
    durationS: expectNumber(origin, s.duration_s, at("duration_s"), 0),
    solution: expectString(origin, s.solution, at("solution")),
  };
}

/** The spec defines "pass" as status == "passed": a sample passes all its tests exactly when its status says so. */
function checkOutcomesMatchStatus(origin: Origin, field: string, status: SampleStatus, basePass: boolean, plusPass: boolean | null): void {
  const passesAll = basePass && plusPass !== false;
  if (passesAll === (status === "passed")) return;
  const outcomes = `base_status "${basePass ? "pass" : "fail"}" and plus_status ${plusPass === null ? "null" : `"${plusPass ? "pass" : "fail"}"`}`;
  fail(origin, field, `${outcomes} contradict status "${status}"`);
}

/** One results.json found in the workspace. */
export interface EvalResultsFile {
  runId: string;
  benchmark: string;
  path: string;
  modifiedMs: number;
}

/** Every `.codistill/runs/<run-id>/eval/<benchmark>/results.json`: runs newest first, benchmarks by name. */
export async function listEvalResults(workspaceRoot: string): Promise<EvalResultsFile[]> {
  const found: EvalResultsFile[] = [];
  for (const run of await listRunFolders(workspaceRoot)) {
    found.push(...(await resultsOfRun(run.id, run.path)));
  }
  return found;
}

async function resultsOfRun(runId: string, runPath: string): Promise<EvalResultsFile[]> {
  const evalDir = join(runPath, "eval");
  // A run that has not been evaluated has no eval folder.
  const entries = await readdir(evalDir, { withFileTypes: true }).catch(() => []);
  const benchmarks = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort((a, b) => a.localeCompare(b));
  const files = await Promise.all(benchmarks.map((benchmark) => resultsFile(runId, benchmark, join(evalDir, benchmark, "results.json"))));
  return files.filter((f): f is EvalResultsFile => f !== undefined);
}

/** The file, or undefined while the evaluation has not written it yet (generation only, or still running). */
async function resultsFile(runId: string, benchmark: string, path: string): Promise<EvalResultsFile | undefined> {
  const info = await stat(path).catch(() => undefined);
  return info?.isFile() ? { runId, benchmark, path, modifiedMs: info.mtimeMs } : undefined;
}

/** One line of samples.jsonl (EvalPlus format). */
export interface GeneratedSample {
  line: number;
  taskId: string;
  /** Position among the samples of its task, as the executor numbers them. */
  index: number;
  /** The full program to execute; EvalPlus files may give only `completion` (the text after the prompt). */
  solution: string | null;
  completion: string | null;
  /** The model's reply before the code was extracted from it. */
  raw: string | null;
}

export async function readSamples(path: string): Promise<GeneratedSample[]> {
  return parseSamples(await readText(path), path);
}

export function parseSamples(text: string, path: string): GeneratedSample[] {
  const perTask = new Map<string, number>();
  const samples: GeneratedSample[] = [];
  text.split("\n").forEach((lineText, i) => {
    if (!lineText.trim()) return;
    const origin: Origin = { file: path, line: i + 1 };
    const sample = readSampleLine(origin, parseJson(origin, lineText));
    const index = perTask.get(sample.taskId) ?? 0;
    perTask.set(sample.taskId, index + 1);
    samples.push({ line: i + 1, index, ...sample });
  });
  return samples;
}

function readSampleLine(origin: Origin, value: unknown): Omit<GeneratedSample, "line" | "index"> {
  const s = expectObject(origin, value, "");
  const taskId = expectString(origin, s.task_id, "task_id");
  const solution = s.solution === undefined ? null : expectString(origin, s.solution, "solution");
  const completion = s.completion === undefined ? null : expectString(origin, s.completion, "completion");
  // The executor needs one of the two to build a program (codistill.execution.sandbox.load_samples).
  if (solution === null && completion === null) fail(origin, "solution", "missing (a sample needs a string solution or completion)");
  const raw = s.raw === undefined ? null : expectStringOrNull(origin, s.raw, "raw");
  return { taskId, solution, completion, raw };
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    throw new EvalFileError(path, undefined, undefined, `cannot read: ${errorMessage(err)}`, { cause: err });
  }
}

function parseJson(origin: Origin, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    fail(origin, undefined, `not valid JSON: ${errorMessage(err)}`);
  }
}
