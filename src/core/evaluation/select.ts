// `codistill eval select`: one sample per task chosen by structural consensus (the sample most
// like the task's other samples in CodeBLEU syntax and dataflow, src/core/generation/consensus.ts),
// and, when results.json is there, the pass@1 of the chosen samples beside plain pass@1 of all of
// them: what choosing by consensus is worth on the benchmark. Writes selection.json:
//
//   {"select": "consensus", "n": <samples per task>, "tasks": <count>,
//    "chosen": {<task_id>: <index among the task's samples>},
//    "pass@1": {"chosen": <share of tasks whose chosen sample passed>,
//               "plain": <mean over tasks of passing samples / n>} | null}
//
// "plain" is the unbiased pass@1 estimator of the same samples (pass@k for k = 1); pass@1 is null
// without results.json. A sample passes when its status is "passed" (countPasses).
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { errorMessage } from "../datasets/errors";
import { isRecord } from "../datasets/fields";
import { pythonSyntax } from "../datasets/pythonSyntax";
import type { Consensus } from "../generation/consensus";
import { EvalFileError, expectString, fail, member, writeAtomically, type Origin } from "./fields";
import { parseSamples, readEvalResults, type EvalResults, type GeneratedSample } from "./results";
import { countPasses, mean } from "./stats";

export const SELECTION_FILE = "selection.json";

export interface SelectionInputs {
  dir: string;
  samplesPath: string;
  /** results.json of eval execute; when it is absent, pass@1 is null. */
  resultsPath: string;
  /** Whether resultsPath was named: then it must exist. */
  resultsRequired: boolean;
  /** Read only when a sample has no `solution` (its `completion` follows the task's prompt). */
  tasksPath: string;
  selectionPath: string;
}

export function selectionInputs(dir: string, files: { samples?: string; results?: string; tasks?: string } = {}): SelectionInputs {
  return {
    dir,
    samplesPath: files.samples ?? join(dir, "samples.jsonl"),
    resultsPath: files.results ?? join(dir, "results.json"),
    resultsRequired: files.results !== undefined,
    tasksPath: files.tasks ?? join(dir, "tasks.jsonl"),
    selectionPath: join(dir, SELECTION_FILE),
  };
}

export interface Selection {
  select: "consensus";
  /** Samples per task. */
  n: number;
  tasks: number;
  /** Per task, in samples.jsonl's order: the index of the chosen sample among the task's samples. */
  chosen: Record<string, number>;
  "pass@1": { chosen: number; plain: number } | null;
}

export interface SelectOptions {
  /** The loaded chooser; loadConsensus() when absent. */
  consensus?: Consensus;
}

/** Chooses one sample per task, writes selection.json and returns what it wrote. */
export async function selectEvalDir(inputs: SelectionInputs, options: SelectOptions = {}): Promise<Selection> {
  const samples = parseSamples(await readText(inputs.samplesPath, "missing: eval select needs the evaluation's samples file"), inputs.samplesPath);
  if (!samples.length) fail({ file: inputs.samplesPath }, undefined, "no samples to choose from");
  const groups = groupByTask(samples);
  const n = samplesPerTask(groups, inputs.samplesPath);
  const results = await readResults(inputs);
  if (results) checkResultsMatch(results, groups, inputs);
  const programs = await programsOf(groups, inputs.tasksPath);
  const consensus = options.consensus ?? (await loadChooser());
  const chosen: Record<string, number> = {};
  for (const [taskId, list] of programs) chosen[taskId] = consensus.choose(list).index;
  const selection: Selection = { select: "consensus", n, tasks: groups.size, chosen, "pass@1": results ? passAtOne(results, chosen) : null };
  await writeAtomically(inputs.selectionPath, `${JSON.stringify(selection, null, 1)}\n`);
  return selection;
}

async function loadChooser(): Promise<Consensus> {
  const { loadConsensus } = await import("../generation/consensus");
  return loadConsensus();
}

/** Tasks in the order they first appear, each task's samples in file order (the executor's numbering). */
function groupByTask(samples: readonly GeneratedSample[]): Map<string, GeneratedSample[]> {
  const groups = new Map<string, GeneratedSample[]>();
  for (const sample of samples) {
    const list = groups.get(sample.taskId) ?? [];
    list.push(sample);
    groups.set(sample.taskId, list);
  }
  return groups;
}

/** The same n for every task: a task with fewer samples is an unfinished generation. */
function samplesPerTask(groups: ReadonlyMap<string, GeneratedSample[]>, path: string): number {
  const [[firstTask, first]] = groups;
  for (const [taskId, list] of groups) {
    if (list.length !== first.length) {
      const odd = list.length < first.length ? list[list.length - 1] : list[first.length];
      fail(
        { file: path, line: odd.line },
        "task_id",
        `${JSON.stringify(taskId)} has ${list.length} samples, ${JSON.stringify(firstTask)} ${first.length}: every task needs the same number (was the generation cut short?)`,
      );
    }
  }
  return first.length;
}

async function readResults(inputs: SelectionInputs): Promise<EvalResults | null> {
  try {
    return await readEvalResults(inputs.resultsPath);
  } catch (err) {
    if (err instanceof EvalFileError && err.code === "ENOENT" && !inputs.resultsRequired) return null;
    throw err;
  }
}

/** results.json must score these very samples: the same tasks, with as many samples each. */
function checkResultsMatch(results: EvalResults, groups: ReadonlyMap<string, GeneratedSample[]>, inputs: SelectionInputs): void {
  const origin: Origin = { file: results.path };
  const scored = new Map(results.tasks.map((t) => [t.taskId, t.samples.length]));
  for (const [taskId, list] of groups) {
    const count = scored.get(taskId);
    if (count === undefined) fail(origin, "eval", `no results for ${JSON.stringify(taskId)} of ${inputs.samplesPath}: run eval execute on these samples again`);
    if (count !== list.length) fail(origin, member("eval", taskId), `${count} samples scored, ${inputs.samplesPath} has ${list.length}: run eval execute on these samples again`);
  }
  const stray = results.tasks.find((t) => !groups.has(t.taskId));
  if (stray) fail(origin, member("eval", stray.taskId), `a task that ${inputs.samplesPath} does not have: these results score other samples`);
}

/**
 * The program of each sample, as `codistill eval structure` scores it and the executor runs it:
 * `solution` is whole; a lone `completion` follows the task's prompt when the prompt is code
 * (HumanEval) and stands alone after prose (MBPP, TACO). A bare completion of a function body
 * would not even parse.
 */
async function programsOf(groups: ReadonlyMap<string, GeneratedSample[]>, tasksPath: string): Promise<Map<string, string[]>> {
  const needsPrompt = [...groups.values()].some((list) => list.some((s) => s.solution === null));
  const prompts = needsPrompt ? await readPrompts(tasksPath) : undefined;
  const syntax = needsPrompt ? await pythonSyntax() : undefined;
  const programs = new Map<string, string[]>();
  for (const [taskId, list] of groups) {
    programs.set(
      taskId,
      list.map((s) => {
        if (s.solution !== null) return s.solution;
        const prompt = prompts!.get(taskId);
        if (prompt === undefined) fail({ file: tasksPath }, undefined, `no task ${JSON.stringify(taskId)}, whose samples give only a completion to follow its prompt`);
        return syntax!.parsesAsPython3(prompt) ? prompt + s.completion! : s.completion!;
      }),
    );
  }
  return programs;
}

async function readPrompts(path: string): Promise<Map<string, string>> {
  const text = await readText(path, "missing: samples with only a completion need the tasks file for their prompts (--tasks <file> names one elsewhere)");
  const prompts = new Map<string, string>();
  text.split("\n").forEach((lineText, i) => {
    if (!lineText.trim()) return;
    const origin: Origin = { file: path, line: i + 1 };
    let value: unknown;
    try {
      value = JSON.parse(lineText);
    } catch (err) {
      fail(origin, undefined, `not valid JSON: ${errorMessage(err)}`);
    }
    if (!isRecord(value)) fail(origin, undefined, "expected a Task object");
    prompts.set(expectString(origin, value.id, "id"), expectString(origin, value.prompt, "prompt"));
  });
  return prompts;
}

function passAtOne(results: EvalResults, chosen: Readonly<Record<string, number>>): { chosen: number; plain: number } {
  const byTask = new Map(results.tasks.map((t) => [t.taskId, t]));
  const taskIds = Object.keys(chosen);
  const counts = new Map(countPasses(results.tasks).map((c) => [c.taskId, c]));
  return {
    chosen: mean(taskIds.map((id) => (byTask.get(id)!.samples[chosen[id]].status === "passed" ? 1 : 0))),
    plain: mean(taskIds.map((id) => counts.get(id)!.c / counts.get(id)!.n)),
  };
}

async function readText(path: string, hintWhenMissing: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === "ENOENT";
    throw new EvalFileError(path, undefined, undefined, missing ? hintWhenMissing : `cannot read: ${errorMessage(err)}`, { cause: err });
  }
}
