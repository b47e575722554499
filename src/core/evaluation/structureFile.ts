// structure.json: the CodeBLEU syntax and dataflow match of every sample of one evaluation folder,
// written beside results.json by the "score" phase, the panel or `codistill eval structure`.
// Read back field by field like results.json: a half-read file would put wrong averages in the
// paper's columns. The sha256 of the two files it was computed from make a stale file detectable.
import { readFile } from "node:fs/promises";
import { errorMessage } from "../datasets/errors";
import {
  EvalFileError,
  entry,
  expectArray,
  expectInteger,
  expectUnitInterval,
  expectObject,
  expectOneOf,
  expectString,
  expectStringOrNull,
  fail,
  item,
  member,
  wrongType,
  type Origin,
} from "./fields";

export const STRUCTURE_FILE = "structure.json";
/** Bumped when the format or the way scores are taken changes; another version is recomputed, never read. */
export const STRUCTURE_VERSION = 1;
/** CodeBleu's modes: "default" (null dataflow where the reference has none) or "reference" (the original implementation's numbers). */
export const STRUCTURE_MODES = ["default", "reference"] as const;
export type StructureMode = (typeof STRUCTURE_MODES)[number];

export interface SampleScores {
  /** Null only when the task has no reference solution. */
  syntax: number | null;
  /** Null also where no reference solution has dataflow to match (default mode). */
  dataflow: number | null;
}

export interface TaskStructure {
  taskId: string;
  /** Reference solutions the samples were scored against (the best one counts). */
  references: number;
  /** Why scores of this task are null, or null when none is. */
  note: string | null;
  /** In sample order: samples[i] is the i-th sample of this task in samples.jsonl (and results.json). */
  samples: SampleScores[];
}

export interface StructureSummary {
  tasks: number;
  samples: number;
  /** Mean over the samples with a syntax score, or null when none has one. */
  syntaxMatch: number | null;
  syntaxSamples: number;
  /** Mean over the samples whose dataflow match is not null, or null when none is. */
  dataflowMatch: number | null;
  dataflowSamples: number;
}

export interface EvalStructure {
  path: string;
  version: number;
  mode: StructureMode;
  date: string;
  /** The files scored, as given (informational); the hashes below are what staleness is judged by. */
  tasksPath: string;
  samplesPath: string;
  tasksSha256: string;
  samplesSha256: string;
  summary: StructureSummary;
  /** In the order tasks first appear in samples.jsonl, like results.json. */
  tasks: TaskStructure[];
}

/** What the table and the drill-down show of one evaluation folder's structure scores. */
export type StructureState = { state: "scored"; structure: EvalStructure } | { state: "pending" } | { state: "unavailable"; reason: string };

/** The JSON written to structure.json: tasks keyed by id, like results.json's `eval`. */
export function structureDocument(structure: Omit<EvalStructure, "path">): unknown {
  const { tasks, ...rest } = structure;
  return { ...rest, tasks: Object.fromEntries(tasks.map(({ taskId, ...task }) => [taskId, task])) };
}

/** Averages over samples, as the paper reports them: every sample weighs the same, whatever its task. */
export function summarize(tasks: readonly TaskStructure[]): StructureSummary {
  const samples = tasks.flatMap((t) => t.samples);
  const syntax = samples.flatMap((s) => (s.syntax === null ? [] : [s.syntax]));
  const dataflow = samples.flatMap((s) => (s.dataflow === null ? [] : [s.dataflow]));
  return {
    tasks: tasks.length,
    samples: samples.length,
    syntaxMatch: average(syntax),
    syntaxSamples: syntax.length,
    dataflowMatch: average(dataflow),
    dataflowSamples: dataflow.length,
  };
}

function average(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

export async function readStructure(path: string): Promise<EvalStructure> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new EvalFileError(path, undefined, undefined, `cannot read: ${errorMessage(err)}`, { cause: err });
  }
  return parseStructure(text, path);
}

const SHA256 = /^[0-9a-f]{64}$/;

export function parseStructure(text: string, path: string): EvalStructure {
  const origin: Origin = { file: path };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    fail(origin, undefined, `not valid JSON: ${errorMessage(err)}`);
  }
  const root = expectObject(origin, json, "");
  const version = expectInteger(origin, root.version, "version", 1);
  if (version !== STRUCTURE_VERSION) fail(origin, "version", `expected ${STRUCTURE_VERSION}, got ${version} (written by another version of Codistill)`);
  const tasks = readTasks(origin, root.tasks, "tasks");
  const structure: EvalStructure = {
    path,
    version,
    mode: expectOneOf(origin, root.mode, "mode", STRUCTURE_MODES),
    date: expectString(origin, root.date, "date"),
    tasksPath: expectString(origin, root.tasksPath, "tasksPath"),
    samplesPath: expectString(origin, root.samplesPath, "samplesPath"),
    tasksSha256: expectSha256(origin, root.tasksSha256, "tasksSha256"),
    samplesSha256: expectSha256(origin, root.samplesSha256, "samplesSha256"),
    summary: readSummary(origin, root.summary, "summary"),
    tasks,
  };
  checkSummary(origin, structure.summary, summarize(tasks));
  return structure;
}

function expectSha256(origin: Origin, value: unknown, field: string): string {
  const hash = expectString(origin, value, field);
  if (!SHA256.test(hash)) fail(origin, field, `expected a sha256 (64 lowercase hex digits), got ${JSON.stringify(hash)}`);
  return hash;
}

function expectScore(origin: Origin, value: unknown, field: string): number | null {
  if (value === null) return null;
  if (value === undefined) wrongType(origin, field, "a score between 0 and 1, or null", value);
  return expectUnitInterval(origin, value, field, "a score");
}

function readSummary(origin: Origin, value: unknown, field: string): StructureSummary {
  const s = expectObject(origin, value, field);
  const at = (key: string) => member(field, key);
  return {
    tasks: expectInteger(origin, s.tasks, at("tasks")),
    samples: expectInteger(origin, s.samples, at("samples")),
    syntaxMatch: expectScore(origin, s.syntaxMatch, at("syntaxMatch")),
    syntaxSamples: expectInteger(origin, s.syntaxSamples, at("syntaxSamples")),
    dataflowMatch: expectScore(origin, s.dataflowMatch, at("dataflowMatch")),
    dataflowSamples: expectInteger(origin, s.dataflowSamples, at("dataflowSamples")),
  };
}

// A summary edited by hand or cut short would show averages the per-sample scores do not give.
const SUMMARY_TOLERANCE = 1e-9;

function checkSummary(origin: Origin, written: StructureSummary, recomputed: StructureSummary): void {
  for (const key of Object.keys(recomputed) as (keyof StructureSummary)[]) {
    const [got, expected] = [written[key], recomputed[key]];
    const same = got === expected || (got !== null && expected !== null && Math.abs(got - expected) <= SUMMARY_TOLERANCE);
    if (!same) fail(origin, member("summary", key), `expected ${expected} (from the per-sample scores under tasks), got ${got}`);
  }
}

function readTasks(origin: Origin, value: unknown, field: string): TaskStructure[] {
  const byTask = expectObject(origin, value, field);
  return Object.entries(byTask).map(([taskId, task]) => readTask(origin, taskId, task, entry(field, taskId)));
}

function readTask(origin: Origin, taskId: string, value: unknown, field: string): TaskStructure {
  const t = expectObject(origin, value, field);
  const at = (key: string) => member(field, key);
  const references = expectInteger(origin, t.references, at("references"));
  const note = expectStringOrNull(origin, t.note, at("note"));
  const list = expectArray(origin, t.samples, at("samples"));
  if (list.length === 0) fail(origin, at("samples"), "expected at least one sample");
  const samples = list.map((s, i) => readSampleScores(origin, s, item(at("samples"), i)));
  if (references === 0) {
    const scored = samples.findIndex((s) => s.syntax !== null || s.dataflow !== null);
    if (scored >= 0) fail(origin, item(at("samples"), scored), "has a score, but the task has no reference solution to score against");
    if (note === null) fail(origin, at("note"), "missing (a task without reference solutions says why its scores are null)");
  } else {
    // Tree-sitter parses anything, so every sample of a task with a reference has a syntax score.
    const unscored = samples.findIndex((s) => s.syntax === null);
    if (unscored >= 0) fail(origin, member(item(at("samples"), unscored), "syntax"), "expected a score: the task has reference solutions");
  }
  return { taskId, references, note, samples };
}

function readSampleScores(origin: Origin, value: unknown, field: string): SampleScores {
  const s = expectObject(origin, value, field);
  return { syntax: expectScore(origin, s.syntax, member(field, "syntax")), dataflow: expectScore(origin, s.dataflow, member(field, "dataflow")) };
}
