// Turns evaluation results into what the webview shows: the comparison rows (core/evaluation/table)
// flattened per model × benchmark, and the drill-down rows of one results file. Pure.
import type { EvalResults } from "../../core/evaluation/results";
import { isolationLevel } from "../../core/evaluation/isolation";
import { buildComparison, type Metric } from "../../core/evaluation/table";
import { BASE_MODEL_ID, type EvalModel } from "../../core/evaluation/runner";
import type { ResultRowView, StructuralCell, TaskRowView } from "./protocol";

export interface LoadedResults {
  model: EvalModel;
  benchmark: string;
  results: EvalResults;
}

function structuralCell(metric: Metric): StructuralCell {
  return metric.available ? { available: true, value: metric.value } : { available: false, reason: metric.reason };
}

/** One row per loaded results file, grouped by benchmark; deltas are against the base model. */
export function comparisonRows(loaded: LoadedResults[]): ResultRowView[] {
  const inputs = loaded.map(({ model, benchmark, results }) => ({ label: model.label, runId: model.id, benchmark, results }));
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

/** Per task of one results file: how many samples passed, and the first failure's test and message. */
export function drillDownRows(results: EvalResults): TaskRowView[] {
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
    };
  });
}
