// The comparison table of the evaluation panel: one table per benchmark, one row per model run,
// each with pass@k, confidence intervals and the change against a chosen baseline run, and one
// drill-down row per task. Plain data, so it can be posted to a webview as it is.
import type { EvalResults, GenerationInfo, SampleStatus, TaskResults } from "./results";
import type { StructureMode, StructureState } from "./structureFile";
import {
  bootstrapCI,
  compareTaskIds,
  countPasses,
  meanPassAtK,
  pairedBootstrap,
  perTaskPassAtK,
  taskOverlap,
  type BootstrapOptions,
  type ConfidenceInterval,
  type PairedDifference,
  type TaskCounts,
} from "./stats";

/** The k of the pass@k columns, as EvalPlus reports them. */
export const PASS_KS: readonly number[] = [1, 10, 100];

/**
 * A number the table may not have yet. Metrics that are not computed say why instead of showing
 * 0, which would read as "the model scored zero".
 */
export type Metric<T = number> = { available: true; value: T } | { available: false; reason: string };

/** A CodeBLEU component averaged over samples, as the paper reports it. */
export interface SampleAverage {
  mean: number;
  /** Samples the mean is over: those with a score (a task without reference, or a null dataflow, has none). */
  samples: number;
  /** Every sample of the run. */
  totalSamples: number;
  mode: StructureMode;
}

/** Like Metric, and `pending` while structure.json is being computed, so the table says "scoring…" rather than "unavailable". */
export type StructureMetric = { available: true; value: SampleAverage } | { available: false; pending: boolean; reason: string };

export interface ComparisonInput {
  label: string;
  runId: string;
  benchmark: string;
  results: EvalResults;
  /** The run's structure.json as it stands; absent: not scored. */
  structure?: StructureState;
}

export interface PassAtKCell {
  k: number;
  /** Undefined when some task has fewer than k samples. */
  value: number | undefined;
}

export interface BaselineDelta extends PairedDifference {
  /** Whether both runs used the same tasks file (by hash); if not, equal task ids may be different tasks. */
  sameTasksFile: boolean;
}

export interface ModelRow {
  label: string;
  runId: string;
  resultsPath: string;
  isBaseline: boolean;
  generation: GenerationInfo | null;
  tasks: number;
  samplesPerTask: { min: number; max: number };
  /** Mean over tasks of c/n, with a bootstrap interval over tasks. */
  pass1: ConfidenceInterval;
  /** One cell per PASS_KS entry, in that order. */
  passAtK: PassAtKCell[];
  /** CodeBLEU syntax (AST) match against the best reference solution, averaged over samples. */
  syntaxMatch: StructureMetric;
  /** CodeBLEU dataflow match against the best reference solution, averaged over the samples where it is defined. */
  dataflowMatch: StructureMetric;
  /** pass@1 of this row minus the baseline's, paired over shared tasks; null on the baseline row. */
  delta: Metric<BaselineDelta> | null;
}

export interface FirstFailure {
  /** Index of the sample among the task's samples. */
  sample: number;
  status: SampleStatus;
  /** Whether it still passed the benchmark's original tests (failing only EvalPlus's extra ones). */
  basePass: boolean;
  failedTest: number | null;
  message: string | null;
}

export interface TaskCell {
  statuses: SampleStatus[];
  passed: number;
  n: number;
  firstFailure: FirstFailure | null;
}

export interface TaskRow {
  taskId: string;
  /** Aligned with the table's rows; null where that run has no results for the task. */
  cells: (TaskCell | null)[];
}

export interface BenchmarkTable {
  benchmark: string;
  /** The baseline run's row in this table, or null when the baseline was not evaluated on it. */
  baseline: { runId: string; label: string } | null;
  ks: readonly number[];
  rows: ModelRow[];
  /** Every task any row has, in natural order. */
  tasks: TaskRow[];
}

/** One table per benchmark, in the order benchmarks first appear in `inputs`; rows keep their input order. */
export function buildComparison(inputs: readonly ComparisonInput[], baselineRunId: string, options: BootstrapOptions = {}): BenchmarkTable[] {
  return groupByBenchmark(inputs).map(([benchmark, group]) => buildBenchmarkTable(benchmark, group, baselineRunId, options));
}

function groupByBenchmark(inputs: readonly ComparisonInput[]): [string, ComparisonInput[]][] {
  const groups = new Map<string, ComparisonInput[]>();
  for (const input of inputs) {
    const group = groups.get(input.benchmark) ?? [];
    // The baseline and the drill-down columns are picked by run id, so it must be unique per table.
    if (group.some((other) => other.runId === input.runId)) {
      throw new Error(`buildComparison: run "${input.runId}" is listed twice for benchmark ${input.benchmark}`);
    }
    groups.set(input.benchmark, [...group, input]);
  }
  return [...groups];
}

function buildBenchmarkTable(benchmark: string, inputs: ComparisonInput[], baselineRunId: string, options: BootstrapOptions): BenchmarkTable {
  const baseline = inputs.find((input) => input.runId === baselineRunId);
  const baselinePass1 = baseline ? pass1ByTask(baseline.results) : undefined;
  const rows = inputs.map((input) => {
    const isBaseline = input === baseline;
    const delta = isBaseline ? null : deltaVsBaseline(input.results, baseline?.results, baselinePass1, baselineRunId, benchmark, options);
    return modelRow(input, isBaseline, delta, options);
  });
  return {
    benchmark,
    baseline: baseline ? { runId: baseline.runId, label: baseline.label } : null,
    ks: PASS_KS,
    rows,
    tasks: taskRows(inputs.map((input) => input.results)),
  };
}

function modelRow(input: ComparisonInput, isBaseline: boolean, delta: Metric<BaselineDelta> | null, options: BootstrapOptions): ModelRow {
  const counts = countPasses(input.results.tasks);
  return {
    label: input.label,
    runId: input.runId,
    resultsPath: input.results.path,
    isBaseline,
    generation: input.results.generation,
    tasks: counts.length,
    samplesPerTask: samplesPerTask(counts),
    pass1: bootstrapCI(sortedValues(pass1Map(counts)), options),
    passAtK: PASS_KS.map((k) => ({ k, value: meanPassAtK(counts, k) })),
    ...structureMetrics(input.structure),
    delta,
  };
}

function structureMetrics(state: StructureState | undefined): Pick<ModelRow, "syntaxMatch" | "dataflowMatch"> {
  const missing = (pending: boolean, reason: string): StructureMetric => ({ available: false, pending, reason });
  if (!state) return { syntaxMatch: missing(false, "not scored (no structure.json)"), dataflowMatch: missing(false, "not scored (no structure.json)") };
  if (state.state === "pending") return { syntaxMatch: missing(true, "being scored"), dataflowMatch: missing(true, "being scored") };
  if (state.state === "unavailable") return { syntaxMatch: missing(false, state.reason), dataflowMatch: missing(false, state.reason) };
  const { summary, mode, tasks } = state.structure;
  const average = (mean: number | null, samples: number, reason: string): StructureMetric =>
    mean === null ? missing(false, reason) : { available: true, value: { mean, samples, totalSamples: summary.samples, mode } };
  const noReference = summary.samples === 0 ? "no samples" : (tasks.find((t) => t.references === 0)?.note ?? "no reference solutions");
  return {
    syntaxMatch: average(summary.syntaxMatch, summary.syntaxSamples, noReference),
    dataflowMatch: average(summary.dataflowMatch, summary.dataflowSamples, summary.syntaxSamples ? "no reference solution has dataflow to match" : noReference),
  };
}

/** Reduced rather than spread into Math.min: a benchmark with tens of thousands of tasks would overflow the call stack. */
function samplesPerTask(counts: readonly TaskCounts[]): { min: number; max: number } {
  return counts.reduce((range, t) => ({ min: Math.min(range.min, t.n), max: Math.max(range.max, t.n) }), { min: Infinity, max: -Infinity });
}

function pass1ByTask(results: EvalResults): Map<string, number> {
  return pass1Map(countPasses(results.tasks));
}

/** Every task has at least one sample (readEvalResults checks it), so pass@1 always exists. */
function pass1Map(counts: readonly TaskCounts[]): Map<string, number> {
  return perTaskPassAtK(counts, 1)!;
}

/** Values in task order, so a bootstrap depends on the data and the seed, not on file order. */
function sortedValues(byTask: Map<string, number>): number[] {
  return [...byTask.keys()].sort(compareTaskIds).map((id) => byTask.get(id)!);
}

function deltaVsBaseline(
  results: EvalResults,
  baseline: EvalResults | undefined,
  baselinePass1: Map<string, number> | undefined,
  baselineRunId: string,
  benchmark: string,
  options: BootstrapOptions,
): Metric<BaselineDelta> {
  if (!baseline || !baselinePass1) return { available: false, reason: `the baseline run "${baselineRunId}" has no ${benchmark} results` };
  const pass1 = pass1ByTask(results);
  if (taskOverlap(baselinePass1, pass1).shared.length === 0) return { available: false, reason: "no tasks in common with the baseline" };
  const difference = pairedBootstrap(baselinePass1, pass1, options);
  return { available: true, value: { ...difference, sameTasksFile: results.hash === baseline.hash } };
}

function taskRows(runs: EvalResults[]): TaskRow[] {
  const byRun = runs.map((results) => new Map(results.tasks.map((t) => [t.taskId, t])));
  const taskIds = [...new Set(byRun.flatMap((tasks) => [...tasks.keys()]))].sort(compareTaskIds);
  return taskIds.map((taskId) => ({ taskId, cells: byRun.map((tasks) => taskCell(tasks.get(taskId))) }));
}

function taskCell(task: TaskResults | undefined): TaskCell | null {
  if (!task) return null;
  const failing = task.samples.findIndex((s) => s.status !== "passed");
  const failed = task.samples[failing];
  return {
    statuses: task.samples.map((s) => s.status),
    passed: task.samples.filter((s) => s.status === "passed").length,
    n: task.samples.length,
    firstFailure: failed
      ? { sample: failing, status: failed.status, basePass: failed.basePass, failedTest: failed.failedTest, message: failed.message }
      : null,
  };
}
