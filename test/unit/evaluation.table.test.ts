import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { parseEvalResults, readEvalResults, type EvalResults, type SampleStatus } from "../../src/core/evaluation/results";
import { passAtK } from "../../src/core/evaluation/stats";
import { parseStructure, type EvalStructure } from "../../src/core/evaluation/structureFile";
import { buildComparison, PASS_KS, type BaselineDelta, type ComparisonInput, type Metric } from "../../src/core/evaluation/table";
import { REPO } from "./helpers";

const FIXTURES = join(REPO, "test", "fixtures", "eval");
const BENCHMARK = "humaneval+";
const BASELINE = "baseline-qwen15b-t08";
const STUDENT = "distill-taco-0602-t08";
const NOT_SCORED = { available: false, pending: false, reason: "not scored (no structure.json)" };

/** A structure.json as the scorer writes it, for tasks with the given per-sample [syntax, dataflow] scores (null: no reference). */
function structureWith(byTask: Record<string, ([number, number | null] | null)[]>): EvalStructure {
  const tasks = Object.fromEntries(
    Object.entries(byTask).map(([taskId, samples]) => {
      const references = samples.some((s) => s === null) ? 0 : 1;
      const note = references ? (samples.some((s) => s![1] === null) ? "dataflow match is undefined: the reference solutions have no dataflow" : null) : "no reference solution in tasks.jsonl";
      return [taskId, { references, note, samples: samples.map((s) => ({ syntax: s?.[0] ?? null, dataflow: s ? s[1] : null })) }];
    }),
  );
  const all = Object.values(byTask).flat();
  const syntax = all.flatMap((s) => (s ? [s[0]] : []));
  const dataflow = all.flatMap((s) => (s && s[1] !== null ? [s[1]] : []));
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
  const doc = {
    version: 1,
    mode: "default",
    date: "2025-06-03T10:00:00.000Z",
    tasksPath: "tasks.jsonl",
    samplesPath: "samples.jsonl",
    tasksSha256: "c".repeat(64),
    samplesSha256: "d".repeat(64),
    summary: { tasks: Object.keys(byTask).length, samples: all.length, syntaxMatch: mean(syntax), syntaxSamples: syntax.length, dataflowMatch: mean(dataflow), dataflowSamples: dataflow.length },
    tasks,
  };
  return parseStructure(JSON.stringify(doc), "/ws/eval/mbpp+/structure.json");
}

const load = (name: string) => readEvalResults(join(FIXTURES, `humanevalplus-${name}.results.json`));

/** The fixture without the given tasks, as if the run had been cut short or limited. */
function withoutTasks(name: string, taskIds: string[]): EvalResults {
  const path = join(FIXTURES, `humanevalplus-${name}.results.json`);
  const doc = JSON.parse(readFileSync(path, "utf8")) as { eval: Record<string, unknown> };
  for (const id of taskIds) delete doc.eval[id];
  return parseEvalResults(JSON.stringify(doc), path);
}

/** A results.json in the spec format whose tasks have the given sample statuses (for n beyond the fixtures'). */
function resultsWithStatuses(path: string, byTask: Record<string, SampleStatus[]>): EvalResults {
  const sample = (taskId: string, status: SampleStatus, i: number) => ({
    task_id: taskId,
    solution: `def solve(x):\n    return x + ${i}\n`,
    status,
    base_status: status === "passed" ? "pass" : "fail",
    plus_status: null,
    failed_test: status === "failed" ? 0 : null,
    message: status === "passed" ? null : "wrong output: got 1, expected 2",
    duration_s: 0.02,
  });
  const samples = Object.values(byTask).flat();
  const doc = {
    date: "2025-06-03T10:00:00Z",
    hash: "9f2c".repeat(16),
    tasksPath: "mbpp.tasks.jsonl",
    samplesPath: "samples.jsonl",
    generation: { model: "models/Qwen2.5-Coder-1.5B-Instruct", adapter: null, n: samples.length, temperature: 0.8 },
    summary: { samples: samples.length, tasks: Object.keys(byTask).length, statuses: {}, passAtK: {}, wallS: 1.5 },
    eval: Object.fromEntries(Object.entries(byTask).map(([taskId, statuses]) => [taskId, statuses.map((s, i) => sample(taskId, s, i))])),
  };
  return parseEvalResults(JSON.stringify(doc), path);
}

function available<T>(metric: Metric<T> | null): T {
  assert.ok(metric?.available, `expected a value, got ${JSON.stringify(metric)}`);
  return metric.value;
}

describe("comparison table", () => {
  let base: EvalResults;
  let student: EvalResults;
  let inputs: ComparisonInput[];
  before(async () => {
    base = await load("base-n5");
    student = await load("student-n5");
    inputs = [
      { label: "Qwen2.5-Coder-1.5B", runId: BASELINE, benchmark: BENCHMARK, results: base },
      { label: "distilled (TACO CoT)", runId: STUDENT, benchmark: BENCHMARK, results: student },
    ];
  });

  it("has pass@1 with an interval, pass@k only where n >= k, and CodeBLEU marked as not scored without a structure.json", () => {
    const [table] = buildComparison(inputs, BASELINE);
    assert.equal(table!.benchmark, BENCHMARK);
    assert.deepEqual(table!.baseline, { runId: BASELINE, label: "Qwen2.5-Coder-1.5B" });
    assert.deepEqual(table!.ks, PASS_KS);
    const [baseRow, studentRow] = table!.rows;
    for (const [row, pass1] of [[baseRow!, 0.46], [studentRow!, 0.84]] as const) {
      assert.ok(Math.abs(row.pass1.mean - pass1) < 1e-12);
      assert.ok(row.pass1.low < row.pass1.mean && row.pass1.mean < row.pass1.high);
      assert.deepEqual(row.passAtK.map((cell) => cell.k), [1, 10, 100]);
      assert.equal(row.passAtK[0]!.value, row.pass1.mean);
      assert.equal(row.passAtK[1]!.value, undefined);
      assert.equal(row.passAtK[2]!.value, undefined);
      assert.deepEqual(row.syntaxMatch, NOT_SCORED);
      assert.deepEqual(row.dataflowMatch, NOT_SCORED);
      assert.equal(row.tasks, 10);
      assert.deepEqual(row.samplesPerTask, { min: 5, max: 5 });
    }
    assert.equal(baseRow!.isBaseline, true);
    assert.equal(baseRow!.delta, null);
    assert.equal(studentRow!.generation!.adapter, ".codistill/runs/distill-taco-0602/adapter");
  });

  it("shows the distilled model's gain over the baseline with a paired interval above 0", () => {
    const [table] = buildComparison(inputs, BASELINE);
    const delta = available(table!.rows[1]!.delta);
    assert.ok(Math.abs(delta.mean - 0.38) < 1e-12);
    assert.ok(delta.low > 0 && delta.high > delta.mean, `[${delta.low}, ${delta.high}]`);
    assert.ok(delta.fractionNotBetter < 0.05);
    assert.equal(delta.sharedTasks, 10);
    assert.deepEqual([delta.onlyBase, delta.onlyStudent], [[], []]);
    assert.equal(delta.sameTasksFile, true);
  });

  it("measures against whichever run is the baseline", () => {
    const [table] = buildComparison(inputs, STUDENT);
    assert.deepEqual(table!.rows.map((r) => r.isBaseline), [false, true]);
    const delta = available(table!.rows[0]!.delta);
    assert.ok(Math.abs(delta.mean + 0.38) < 1e-12);
    assert.ok(delta.high < 0);
    assert.equal(delta.fractionNotBetter, 1);
  });

  it("sees no difference between a run and an identical copy", () => {
    const [table] = buildComparison([...inputs, { label: "baseline, again", runId: "baseline-copy", benchmark: BENCHMARK, results: base }], BASELINE);
    const delta = available(table!.rows[2]!.delta);
    assert.deepEqual([delta.mean, delta.low, delta.high, delta.fractionNotBetter], [0, 0, 0, 1]);
  });

  it("is reproducible, and follows the seed and interval options", () => {
    assert.deepEqual(buildComparison(inputs, BASELINE), buildComparison(inputs, BASELINE));
    const narrow = buildComparison(inputs, BASELINE, { confidence: 0.5, iterations: 500, seed: 3 })[0]!.rows[0]!.pass1;
    const wide = buildComparison(inputs, BASELINE, { confidence: 0.99, iterations: 500, seed: 3 })[0]!.rows[0]!.pass1;
    assert.equal(narrow.iterations, 500);
    assert.ok(narrow.high - narrow.low < wide.high - wide.low);
  });

  it("pairs only shared tasks and lists the ones either run lacks", () => {
    const partial = withoutTasks("student-n5", ["HumanEval/3", "HumanEval/8"]);
    const [table] = buildComparison([inputs[0]!, { ...inputs[1]!, results: partial }], BASELINE);
    const delta: BaselineDelta = available(table!.rows[1]!.delta);
    assert.equal(delta.sharedTasks, 8);
    assert.deepEqual(delta.onlyBase, ["HumanEval/3", "HumanEval/8"]);
    assert.deepEqual(delta.onlyStudent, []);
    assert.equal(table!.rows[1]!.tasks, 8);
    // The drill-down keeps every task, with no cell where the run has no results.
    const row = table!.tasks.find((t) => t.taskId === "HumanEval/3")!;
    assert.equal(row.cells[1], null);
    assert.notEqual(row.cells[0], null);
  });

  it("says why there is no delta when no task is shared or the baseline lacks the benchmark", () => {
    const disjoint = withoutTasks("student-n5", ["HumanEval/0", "HumanEval/1", "HumanEval/2", "HumanEval/3", "HumanEval/4"]);
    const firstHalf = withoutTasks("base-n5", ["HumanEval/5", "HumanEval/6", "HumanEval/7", "HumanEval/8", "HumanEval/9"]);
    const [table] = buildComparison([{ ...inputs[0]!, results: firstHalf }, { ...inputs[1]!, results: disjoint }], BASELINE);
    assert.deepEqual(table!.rows[1]!.delta, { available: false, reason: "no tasks in common with the baseline" });

    const tables = buildComparison([...inputs, { label: "distilled", runId: STUDENT, benchmark: "humaneval", results: student }], BASELINE);
    assert.deepEqual(tables.map((t) => t.benchmark), ["humaneval+", "humaneval"]);
    assert.equal(tables[1]!.baseline, null);
    assert.deepEqual(tables[1]!.rows[0]!.delta, { available: false, reason: `the baseline run "${BASELINE}" has no humaneval results` });
  });

  it("flags a comparison between runs on different tasks files", () => {
    const other = { ...student, hash: "0".repeat(64) };
    const [table] = buildComparison([inputs[0]!, { ...inputs[1]!, results: other }], BASELINE);
    assert.equal(available(table!.rows[1]!.delta).sameTasksFile, false);
  });

  it("reports pass@10 and pass@100 once every task has enough samples", () => {
    const statuses = (passed: number, n: number): SampleStatus[] => Array.from({ length: n }, (_, i) => (i < passed ? "passed" : "failed"));
    const hundred = resultsWithStatuses("big.json", { "Mbpp/2": statuses(3, 100), "Mbpp/3": statuses(40, 100), "Mbpp/4": statuses(0, 100) });
    const [table] = buildComparison([{ label: "sampled", runId: "big", benchmark: "mbpp+", results: hundred }], "big");
    const expected = (k: number) => (passAtK(100, 3, k) + passAtK(100, 40, k) + passAtK(100, 0, k)) / 3;
    assert.deepEqual(
      table!.rows[0]!.passAtK.map((cell) => cell.k),
      [1, 10, 100],
    );
    for (const cell of table!.rows[0]!.passAtK) assert.ok(Math.abs(cell.value! - expected(cell.k)) < 1e-12, `pass@${cell.k}`);

    const uneven = resultsWithStatuses("uneven.json", { "Mbpp/2": statuses(3, 12), "Mbpp/3": statuses(1, 9) });
    const [unevenTable] = buildComparison([{ label: "uneven", runId: "uneven", benchmark: "mbpp+", results: uneven }], "uneven");
    assert.deepEqual(unevenTable!.rows[0]!.samplesPerTask, { min: 9, max: 12 });
    assert.equal(unevenTable!.rows[0]!.passAtK[1]!.value, undefined);
  });

  it("drills down per task: statuses of every sample and the first failure", async () => {
    const greedy = await load("base-n1");
    const [table] = buildComparison([...inputs, { label: "Qwen greedy", runId: "baseline-greedy", benchmark: BENCHMARK, results: greedy }], BASELINE);
    assert.deepEqual(
      table!.tasks.map((t) => t.taskId),
      Array.from({ length: 10 }, (_, i) => `HumanEval/${i}`),
    );
    const [baseCell, studentCell, greedyCell] = table!.tasks[0]!.cells;
    assert.deepEqual(baseCell, {
      statuses: ["passed", "failed", "failed", "passed", "failed"],
      passed: 2,
      n: 5,
      firstFailure: { sample: 1, status: "failed", basePass: true, failedTest: 18, message: "wrong output: got true, expected false" },
    });
    assert.equal(studentCell!.passed, 4);
    assert.deepEqual(greedyCell!.statuses, ["failed"]);
    const timeout = table!.tasks[5]!.cells[0]!.firstFailure!;
    assert.deepEqual(timeout, { sample: 1, status: "timeout", basePass: false, failedTest: 1, message: "no progress within 5 s" });
    const allPassed = table!.tasks[7]!.cells[1]!;
    assert.deepEqual([allPassed.passed, allPassed.firstFailure], [5, null]);
  });

  it("averages syntax and dataflow match over samples (not tasks), dataflow over the samples where it is defined", () => {
    const statuses = (n: number): SampleStatus[] => Array.from({ length: n }, () => "passed");
    const results = resultsWithStatuses("scored.json", { "Mbpp/2": statuses(3), "Mbpp/3": statuses(1), "Mbpp/4": statuses(1) });
    // Mbpp/3's reference has no dataflow; Mbpp/4 has no reference at all.
    const structure = structureWith({ "Mbpp/2": [[1, 1], [0.5, 0.25], [0.25, 0]], "Mbpp/3": [[0.75, null]], "Mbpp/4": [null] });
    const [table] = buildComparison([{ label: "scored", runId: "scored", benchmark: "mbpp+", results, structure: { state: "scored", structure } }], "scored");
    const row = table!.rows[0]!;
    assert.deepEqual(row.syntaxMatch, { available: true, value: { mean: (1 + 0.5 + 0.25 + 0.75) / 4, samples: 4, totalSamples: 5, mode: "default" } });
    assert.deepEqual(row.dataflowMatch, { available: true, value: { mean: (1 + 0.25 + 0) / 3, samples: 3, totalSamples: 5, mode: "default" } });
  });

  it("says why a structural column is empty: scoring, no reference solutions, no dataflow, or the reason given", () => {
    const results = resultsWithStatuses("r.json", { "Mbpp/2": ["passed"], "Mbpp/3": ["failed"] });
    const row = (structure: ComparisonInput["structure"]) => buildComparison([{ label: "m", runId: "m", benchmark: "mbpp+", results, ...(structure ? { structure } : {}) }], "m")[0]!.rows[0]!;
    const pending = row({ state: "pending" });
    assert.deepEqual([pending.syntaxMatch, pending.dataflowMatch], [{ available: false, pending: true, reason: "being scored" }, { available: false, pending: true, reason: "being scored" }]);
    const noReferences = row({ state: "scored", structure: structureWith({ "Mbpp/2": [null], "Mbpp/3": [null] }) });
    assert.deepEqual(noReferences.syntaxMatch, { available: false, pending: false, reason: "no reference solution in tasks.jsonl" });
    assert.deepEqual(noReferences.dataflowMatch, { available: false, pending: false, reason: "no reference solution in tasks.jsonl" });
    const noDataflow = row({ state: "scored", structure: structureWith({ "Mbpp/2": [[1, null]], "Mbpp/3": [[0.5, null]] }) });
    assert.equal(noDataflow.syntaxMatch.available && noDataflow.syntaxMatch.value.mean, 0.75);
    assert.deepEqual(noDataflow.dataflowMatch, { available: false, pending: false, reason: "no reference solution has dataflow to match" });
    const failed = row({ state: "unavailable", reason: "no tasks.jsonl in /ws/eval/mbpp+" });
    assert.deepEqual(failed.syntaxMatch, { available: false, pending: false, reason: "no tasks.jsonl in /ws/eval/mbpp+" });
  });

  it("refuses the same run twice in one benchmark", () => {
    assert.throws(() => buildComparison([inputs[0]!, inputs[0]!], BASELINE), /run "baseline-qwen15b-t08" is listed twice for benchmark humaneval\+/);
  });
});
