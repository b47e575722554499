// The paper's structural columns for one evaluation folder: every sample of samples.jsonl scored
// with CodeBLEU's syntax match and dataflow match against its task's reference solutions in
// tasks.jsonl, written to structure.json (format in structureFile.ts). Runs in the extension
// host too, so the loop gives the event loop a turn every few milliseconds and honours an
// AbortSignal.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import type { CodeBleu } from "../codebleu/index";
import { errorMessage } from "../datasets/errors";
import { isRecord } from "../datasets/fields";
import { pythonSyntax } from "../datasets/pythonSyntax";
import { EvalFileError, expectArray, expectString, fail, item, writeAtomically, type Origin } from "./fields";
import { parseSamples, type GeneratedSample } from "./results";
import {
  STRUCTURE_FILE,
  STRUCTURE_VERSION,
  readStructure,
  structureDocument,
  summarize,
  type EvalStructure,
  type SampleScores,
  type StructureMode,
  type TaskStructure,
} from "./structureFile";

export * from "./structureFile";

/** The files one scoring reads and writes; by default all in the evaluation folder. */
export interface StructureInputs {
  dir: string;
  tasksPath: string;
  samplesPath: string;
  structurePath: string;
}

export function structureInputs(dir: string, files: { tasks?: string; samples?: string } = {}): StructureInputs {
  return {
    dir,
    tasksPath: files.tasks ?? join(dir, "tasks.jsonl"),
    samplesPath: files.samples ?? join(dir, "samples.jsonl"),
    structurePath: join(dir, STRUCTURE_FILE),
  };
}

export interface ScoreOptions {
  /** "default" unless asked: the panel's columns and the runner use it. */
  mode?: StructureMode;
  signal?: AbortSignal;
  /** Samples scored so far, of all of them. */
  onProgress?: (done: number, total: number) => void;
  /** The loaded scorer; loadCodeBleu() when absent. */
  codeBleu?: CodeBleu;
}

/** Scores every sample of the folder and writes structure.json; returns what it wrote. */
export async function scoreEvalDir(inputs: StructureInputs, options: ScoreOptions = {}): Promise<EvalStructure> {
  const mode = options.mode ?? "default";
  // Settled together but reported in a fixed order: with both files missing, the tasks file is named.
  const [tasksRead, samplesRead] = await Promise.allSettled([readInput(inputs.tasksPath, "tasks"), readInput(inputs.samplesPath, "samples")]);
  if (tasksRead.status === "rejected") throw tasksRead.reason;
  if (samplesRead.status === "rejected") throw samplesRead.reason;
  const [tasksFile, samplesFile] = [tasksRead.value, samplesRead.value];
  const tasks = parseTaskReferences(tasksFile.text, tasksFile.path);
  const samples = parseSamples(samplesFile.text, samplesFile.path);
  checkSampleTasks(samples, tasks, samplesFile.path, tasksFile.path);
  const programs = await samplePrograms(samples, tasks);
  const codeBleu = options.codeBleu ?? (await loadScorer());
  const scored = await scoreTasks(groupByTask(samples, programs), tasks, { codeBleu, mode, tasksPath: tasksFile.path, signal: options.signal, onProgress: options.onProgress });
  const structure: Omit<EvalStructure, "path"> = {
    version: STRUCTURE_VERSION,
    mode,
    date: new Date().toISOString(),
    tasksPath: inputs.tasksPath,
    samplesPath: inputs.samplesPath,
    tasksSha256: tasksFile.sha256,
    samplesSha256: samplesFile.sha256,
    summary: summarize(scored),
    tasks: scored,
  };
  options.signal?.throwIfAborted();
  await writeAtomically(inputs.structurePath, `${JSON.stringify(structureDocument(structure), null, 1)}\n`);
  return { path: inputs.structurePath, ...structure };
}

/** Loaded on first scoring: reading structure.json (the panel) and the CLI's other commands need none of it. */
async function loadScorer(): Promise<CodeBleu> {
  const { loadCodeBleu } = await import("../codebleu/index");
  return loadCodeBleu();
}

interface InputFile {
  path: string;
  text: string;
  sha256: string;
}

async function readInput(path: string, what: "tasks" | "samples"): Promise<InputFile> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const hint = (err as NodeJS.ErrnoException).code === "ENOENT" ? `missing: structure scores need the evaluation's ${what} file` : `cannot read: ${errorMessage(err)}`;
    throw new EvalFileError(path, undefined, undefined, hint, { cause: err });
  }
  return { path, text: bytes.toString("utf8"), sha256: createHash("sha256").update(bytes).digest("hex") };
}

interface TaskReferences {
  /** The non-blank reference solutions, whole programs. */
  references: string[];
  prompt: string;
}

/**
 * What scoring needs of normalized Task JSONL: each task's id, prompt and solutions. The rest is
 * the sidecar's to check (it read the same file to run the samples).
 */
function parseTaskReferences(text: string, path: string): Map<string, TaskReferences> {
  const tasks = new Map<string, TaskReferences & { line: number }>();
  text.split("\n").forEach((lineText, i) => {
    if (!lineText.trim()) return;
    const origin: Origin = { file: path, line: i + 1 };
    const task = parseTaskLine(origin, lineText);
    const first = tasks.get(task.id);
    if (first) fail(origin, "id", `duplicate id ${JSON.stringify(task.id)} (first on line ${first.line})`);
    tasks.set(task.id, { references: task.references, prompt: task.prompt, line: i + 1 });
  });
  return tasks;
}

function parseTaskLine(origin: Origin, text: string): TaskReferences & { id: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    fail(origin, undefined, `not valid JSON: ${errorMessage(err)}`);
  }
  if (!isRecord(value)) fail(origin, undefined, "expected a Task object");
  const solutions = expectArray(origin, value.solutions, "solutions").map((s, i) => expectString(origin, s, item("solutions", i)));
  return {
    id: expectString(origin, value.id, "id"),
    prompt: expectString(origin, value.prompt, "prompt"),
    references: solutions.filter((s) => s.trim() !== ""),
  };
}

function checkSampleTasks(samples: readonly GeneratedSample[], tasks: ReadonlyMap<string, TaskReferences>, samplesPath: string, tasksPath: string): void {
  const stray = samples.find((s) => !tasks.has(s.taskId));
  if (stray) fail({ file: samplesPath, line: stray.line }, "task_id", `${JSON.stringify(stray.taskId)} is not in ${tasksPath}`);
}

/**
 * The program each sample stands for, as the sandbox builds it (codistill.execution.executor
 * build_program): `solution` is whole; a lone `completion` follows the prompt when the prompt is
 * code (HumanEval, MBPP+) and stands alone after prose (MBPP, TACO). References are whole programs,
 * so a bare completion would lose the signature it shares with them.
 */
async function samplePrograms(samples: readonly GeneratedSample[], tasks: ReadonlyMap<string, TaskReferences>): Promise<string[]> {
  const needsPrompt = samples.some((s) => s.solution === null);
  const syntax = needsPrompt ? await pythonSyntax() : undefined;
  return samples.map((s) => {
    if (s.solution !== null) return s.solution;
    const prompt = tasks.get(s.taskId)!.prompt;
    return syntax!.parsesAsPython3(prompt) ? prompt + s.completion! : s.completion!;
  });
}

interface TaskSamples {
  taskId: string;
  programs: string[];
}

/** In the order tasks first appear in samples.jsonl, each task's samples in file order: results.json's order. */
function groupByTask(samples: readonly GeneratedSample[], programs: readonly string[]): TaskSamples[] {
  const byTask = new Map<string, string[]>();
  samples.forEach((s, i) => {
    const list = byTask.get(s.taskId) ?? [];
    list.push(programs[i]!);
    byTask.set(s.taskId, list);
  });
  return [...byTask].map(([taskId, list]) => ({ taskId, programs: list }));
}

interface ScoringContext {
  codeBleu: CodeBleu;
  mode: StructureMode;
  tasksPath: string;
  signal: AbortSignal | undefined;
  onProgress: ((done: number, total: number) => void) | undefined;
}

async function scoreTasks(groups: readonly TaskSamples[], tasks: ReadonlyMap<string, TaskReferences>, ctx: ScoringContext): Promise<TaskStructure[]> {
  const total = groups.reduce((n, g) => n + g.programs.length, 0);
  const slicer = new TimeSlicer(ctx.signal);
  let done = 0;
  const scored: TaskStructure[] = [];
  ctx.onProgress?.(0, total);
  for (const group of groups) {
    const references = tasks.get(group.taskId)!.references;
    const samples: SampleScores[] = [];
    for (const [index, program] of group.programs.entries()) {
      samples.push(await scoreSample(ctx, slicer, references, program, `${group.taskId} sample ${index}`));
      ctx.onProgress?.(++done, total);
    }
    scored.push({ taskId: group.taskId, references: references.length, note: taskNote(references.length, samples, ctx.tasksPath), samples });
  }
  return scored;
}

/**
 * The paper scores a sample "against the reference solution". A task with several reference
 * solutions (TACO has dozens) is scored against each one alone, and the best score of each
 * component counts: a correct program that follows any one of them is as good as the reference,
 * whereas pooling the references' subtrees and dataflows would penalise it for not being all of
 * them at once. So the two maxima may come from different references.
 */
async function scoreSample(ctx: ScoringContext, slicer: TimeSlicer, references: readonly string[], program: string, what: string): Promise<SampleScores> {
  await slicer.turn();
  if (references.length === 0) return { syntax: null, dataflow: null };
  let syntax = 0;
  let dataflow: number | null = null;
  for (const reference of references) {
    // Dozens of references (TACO) make one sample long enough to need turns of its own.
    await slicer.turn();
    const scores = scoreAgainst(ctx, reference, program, what);
    syntax = Math.max(syntax, scores.syntax);
    if (scores.dataflow !== null) dataflow = Math.max(dataflow ?? 0, scores.dataflow);
  }
  return { syntax, dataflow };
}

function scoreAgainst(ctx: ScoringContext, reference: string, program: string, what: string): { syntax: number; dataflow: number | null } {
  let scores: { syntax: number; dataflow: number | null };
  try {
    scores = ctx.codeBleu.structuralMatch(reference, program, ctx.mode);
  } catch (err) {
    throw new Error(`CodeBLEU failed on ${what}: ${errorMessage(err)}`, { cause: err });
  }
  // A reference of nothing but comments has no subtree to match: 0/0.
  if (!Number.isFinite(scores.syntax)) throw new Error(`CodeBLEU gave no syntax match for ${what}: a reference solution has no code to match`);
  return scores;
}

function taskNote(references: number, samples: readonly SampleScores[], tasksPath: string): string | null {
  if (references === 0) return `no reference solution in ${basename(tasksPath)}`;
  if (samples.some((s) => s.dataflow === null)) return "dataflow match is undefined: the reference solutions have no dataflow";
  return null;
}

// The extension host runs every extension on one thread: a loop holding it longer than this makes
// the editor stutter.
const SLICE_MS = 15;

class TimeSlicer {
  private since = performance.now();

  constructor(private readonly signal: AbortSignal | undefined) {}

  async turn(): Promise<void> {
    this.signal?.throwIfAborted();
    if (performance.now() - this.since < SLICE_MS) return;
    await new Promise((resolve) => setImmediate(resolve));
    this.signal?.throwIfAborted();
    this.since = performance.now();
  }
}


/** Whether structure.json can be shown as it is, needs (re)computing, or cannot be computed here. */
export type StructureStatus =
  | { state: "current"; structure: EvalStructure }
  /** `inputs` names the content scoring would read (both hashes), so a failed attempt is retried only once it changes. */
  | { state: "outdated"; reason: string; inputs: string }
  | { state: "unscorable"; reason: string };

export async function structureStatus(inputs: StructureInputs): Promise<StructureStatus> {
  const hashes = await Promise.all([inputs.tasksPath, inputs.samplesPath].map(sha256OrMissing));
  const missing = [inputs.tasksPath, inputs.samplesPath].filter((_, i) => hashes[i] === undefined);
  if (missing.length) return { state: "unscorable", reason: `no ${missing.map((p) => basename(p)).join(" or ")} in ${inputs.dir}` };
  const [tasksSha256, samplesSha256] = hashes as [string, string];
  const outdated = (reason: string): StructureStatus => ({ state: "outdated", reason, inputs: `${tasksSha256}:${samplesSha256}` });
  let structure: EvalStructure;
  try {
    structure = await readStructure(inputs.structurePath);
  } catch (err) {
    return outdated((err as EvalFileError).code === "ENOENT" ? "not scored yet" : errorMessage(err));
  }
  if (structure.tasksSha256 !== tasksSha256) return outdated(`${basename(inputs.tasksPath)} changed since ${STRUCTURE_FILE} was written`);
  if (structure.samplesSha256 !== samplesSha256) return outdated(`${basename(inputs.samplesPath)} changed since ${STRUCTURE_FILE} was written`);
  return { state: "current", structure };
}

async function sha256OrMissing(path: string): Promise<string | undefined> {
  const hash = createHash("sha256");
  try {
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  return hash.digest("hex");
}
