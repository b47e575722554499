// Turns evaluation results into what the webview shows: the comparison rows (core/evaluation/table)
// flattened per model × benchmark, and the drill-down rows of one results file with each sample's
// structure scores. Pure.
import type { EvalResults, TaskResults } from "../../core/evaluation/results";
import { isolationLevel } from "../../core/evaluation/isolation";
import type { StructureState, TaskStructure } from "../../core/evaluation/structureFile";
import { buildComparison, type StructureMetric } from "../../core/evaluation/table";
import { BASE_MODEL_ID, type EvalModel } from "../../core/evaluation/runner";
import type { ResultRowView, StructuralCell, TaskRowView } from "./protocol";

export interface LoadedResults {
  model: EvalModel;
  benchmark: string;
  results: EvalResults;
  /** Its structure.json as it stands; absent: not scored. */
  structure?: StructureState;
}

function structuralCell(metric: StructureMetric): StructuralCell {
  if (!metric.available) return { available: false, pending: metric.pending, reason: metric.reason };
  const { mean, samples, totalSamples, mode } = metric.value;
  return { available: true, value: mean, samples, totalSamples, mode };
}

/** One row per loaded results file, grouped by benchmark; deltas are against the base model. */
export function comparisonRows(loaded: LoadedResults[]): ResultRowView[] {
  const inputs = loaded.map(({ model, benchmark, results, structure }) => ({ label: model.label, runId: model.id, benchmark, results, ...(structure ? { structure } : {}) }));
  const resultsOf = (runId: string, benchmark: string) => loaded.find((l) => l.model.id === runId && l.benchmark === benchmark)?.results;
  return buildComparison(inputs, BASE_MODEL_ID).flatMap((table) =>
    table.rows.map((row): ResultRowView => ({
      modelId: row.runId,
      modelLabel: row.label,
      benchmark: table.benchmark,
      isBaseline: row.isBaseline,
      tasks: row.tasks,
      n: row.samplesPerTask.min,
      temperature: row.generation?.temperature ?? null,
      date: resultsOf(row.runId, table.benchmark)?.date ?? "",
      pass1: { value: row.pass1.mean, low: row.pass1.low, high: row.pass1.high },
      passK: row.passAtK.flatMap((cell) => (cell.value === undefined ? [] : [{ k: cell.k, value: cell.value }])),
      syntax: structuralCell(row.syntaxMatch),
      dataflow: structuralCell(row.dataflowMatch),
      delta:
        row.delta?.available === true
          ? { value: row.delta.value.mean, low: row.delta.value.low, high: row.delta.value.high, sharedTasks: row.delta.value.sharedTasks }
          : null,
      deltaNote: row.delta?.available === false ? row.delta.reason : null,
      isolation: isolationOf(resultsOf(row.runId, table.benchmark)),
    })),
  );
}

function isolationOf(results: EvalResults | undefined): ResultRowView["isolation"] {
  const name = results?.summary.isolation;
  return name ? { name, level: isolationLevel(name) } : null;
}

/** Per task of one results file: how many samples passed, the first failure's test and message, and each sample's scores. */
export function drillDownRows(results: EvalResults, structure?: StructureState): TaskRowView[] {
  const scored = structure?.state === "scored" ? new Map(structure.structure.tasks.map((t) => [t.taskId, t])) : undefined;
  return results.tasks.map((task) => {
    const failing = task.samples.findIndex((s) => s.status !== "passed");
    const first = failing >= 0 ? task.samples[failing]! : undefined;
    return {
      taskId: task.taskId,
      samples: task.samples.length,
      passed: task.samples.filter((s) => s.status === "passed").length,
      statuses: task.samples.map((s) => s.status),
      failingSample: failing >= 0 ? failing : null,
      failedTest: first?.failedTest ?? null,
      message: first?.message ?? null,
      ...taskScores(task, structure, scored?.get(task.taskId)),
    };
  });
}

function taskScores(task: TaskResults, state: StructureState | undefined, scores: TaskStructure | undefined): Pick<TaskRowView, "scores" | "scoresNote" | "scoresPending"> {
  const none = (note: string, pending = false) => ({ scores: null, scoresNote: note, scoresPending: pending });
  if (!state) return none("not scored (no structure.json)");
  if (state.state === "pending") return none("scoring…", true);
  if (state.state === "unavailable") return none(state.reason);
  if (!scores) return none(`${state.structure.path} has no scores for ${task.taskId}`);
  // Both files follow samples.jsonl's order; equal hashes make equal counts, unless results.json came from other samples.
  if (scores.samples.length !== task.samples.length) return none(`${state.structure.path} scores ${scores.samples.length} samples of ${task.taskId}, results.json has ${task.samples.length}`);
  return { scores: scores.samples.map(({ syntax, dataflow }) => ({ syntax, dataflow })), scoresNote: scores.note, scoresPending: false };
}
