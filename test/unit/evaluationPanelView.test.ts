// The evaluation panel's rows, built from real results files (test/fixtures/eval): the numbers
// the webview shows, the baseline delta, and the CodeBLEU columns: averages from a real scoring of
// the fixtures' samples against HumanEval+'s references, "scoring…" or a reason, never 0.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { openDataset, serializeTask } from "../../src/core/datasets/index";
import { isolationLevel } from "../../src/core/evaluation/isolation";
import { readEvalResults, type EvalResults } from "../../src/core/evaluation/results";
import type { EvalModel } from "../../src/core/evaluation/runner";
import { scoreEvalDir, structureInputs, type EvalStructure } from "../../src/core/evaluation/structure";
import { evaluationValidators } from "../../src/panels/evaluation/protocol";
import { comparisonRows, drillDownRows, type LoadedResults } from "../../src/panels/evaluation/view";
import { parsePanelMessage } from "../../src/panels/shared/messages";
import { REPO } from "./helpers";

const FIXTURES = join(REPO, "test", "fixtures", "eval");
const DATA = process.env.CODISTILL_DATA ?? join(REPO, "..", "shared", "data");
const base: EvalModel = { id: "base", label: "Base: tiny", kind: "base", model: "/m/tiny", home: "/ws/.codistill/runs/base-tiny" };
const student: EvalModel = { id: "run-1", label: "run-1 (adapter)", kind: "adapter", model: "/m/tiny", adapter: "/ws/.codistill/runs/run-1/adapter", home: "/ws/.codistill/runs/run-1" };

async function load(model: EvalModel, file: string, benchmark = "humaneval-plus"): Promise<LoadedResults> {
  return { model, benchmark, results: await readEvalResults(join(FIXTURES, file)) };
}

describe("evaluation panel rows", () => {
  it("show pass@1 with its interval, pass@k where n allows, and the student's paired delta against the base", async () => {
    const rows = comparisonRows([await load(base, "humanevalplus-base-n5.results.json"), await load(student, "humanevalplus-student-n5.results.json")]);
    assert.equal(rows.length, 2);
    const [b, s] = rows as [(typeof rows)[0], (typeof rows)[0]];
    assert.equal(b.isBaseline, true);
    assert.equal(b.delta, null);
    assert.equal(b.deltaNote, null);
    assert.ok(Math.abs(b.pass1.value - 0.46) < 1e-9 && b.pass1.low <= 0.46 && b.pass1.high >= 0.46);
    assert.ok(Math.abs(s.pass1.value - 0.84) < 1e-9);
    assert.deepEqual(s.passK.map((p) => p.k), [1], "pass@10 needs 10 samples per task; these have 5");
    assert.equal(s.n, 5);
    assert.equal(s.temperature, 0.8);
    assert.ok(s.delta, "the student row has a delta");
    assert.ok(Math.abs(s.delta.value - 0.38) < 1e-9);
    assert.equal(s.delta.sharedTasks, 10);
    assert.ok(s.delta.low <= s.delta.value && s.delta.value <= s.delta.high);
    for (const row of rows) {
      assert.deepEqual(row.syntax, { available: false, pending: false, reason: "not scored (no structure.json)" });
      assert.equal(row.dataflow.available, false);
    }
  });

  it("name the sandbox's isolation and its level, and null for results written before it was recorded", async () => {
    const old = await load(base, "humanevalplus-base-n5.results.json");
    const weak = await load(student, "humanevalplus-student-n5.results.json");
    weak.results.summary.isolation = "landlock-v7";
    const [b, s] = comparisonRows([old, weak]) as [ReturnType<typeof comparisonRows>[0], ReturnType<typeof comparisonRows>[0]];
    assert.equal(b.isolation, null);
    assert.deepEqual(s.isolation, { name: "landlock-v7", level: "partial" });
    // The sidecar's levels (sidecar/src/codistill/execution/isolation.py, level_of).
    assert.equal(isolationLevel("landlock-v7+userns+netns+pidns"), "full");
    assert.equal(isolationLevel("landlock-v7+uid+netns+pidns"), "full");
    assert.equal(isolationLevel("userns+netns+pidns"), "partial");
    assert.equal(isolationLevel("landlock-v3+userns+netns"), "partial");
    assert.equal(isolationLevel("rlimits-only"), "none");
  });

  it("say why a row has no delta when the base model has no results on that benchmark", async () => {
    const rows = comparisonRows([await load(base, "humanevalplus-base-n1.results.json", "humaneval"), await load(student, "humanevalplus-student-n1.results.json", "humaneval-plus")]);
    const s = rows.find((r) => r.modelId === "run-1")!;
    assert.equal(s.delta, null);
    assert.match(s.deltaNote ?? "", /has no humaneval-plus results/);
  });

  it("drill down to each task's passes, its first failing sample, test and message", async () => {
    const results = await readEvalResults(join(FIXTURES, "humanevalplus-base-n5.results.json"));
    const rows = drillDownRows(results);
    assert.equal(rows.length, 10);
    const first = rows[0]!;
    assert.equal(first.taskId, "HumanEval/0");
    assert.deepEqual(first.statuses, ["passed", "failed", "failed", "passed", "failed"]);
    assert.equal(first.passed, 2);
    assert.equal(first.failingSample, 1);
    assert.equal(first.failedTest, results.tasks[0]!.samples[1]!.failedTest);
    assert.equal(first.message, results.tasks[0]!.samples[1]!.message);
    const allPassed = rows.find((r) => r.passed === r.samples);
    if (allPassed) assert.equal(allPassed.failingSample, null);
  });
});

describe("evaluation panel structure columns", () => {
  const tmp = mkdtempSync(join(tmpdir(), "codistill-panel-structure-"));
  after(() => rmSync(tmp, { recursive: true, force: true }));
  const scored: { results: EvalResults; structure: EvalStructure }[] = [];

  /** The fixture's evaluation folder: HumanEval+ v0.1.10's first ten tasks, and its samples in results.json order. */
  async function scoreFixture(name: string, tasksText: string): Promise<{ results: EvalResults; structure: EvalStructure }> {
    const results = await readEvalResults(join(FIXTURES, `humanevalplus-${name}.results.json`));
    const dir = join(tmp, name, "eval", "humaneval-plus");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "tasks.jsonl"), tasksText);
    const samples = results.tasks.flatMap((t) => t.samples.map((s) => `${JSON.stringify({ task_id: t.taskId, solution: s.solution })}\n`));
    writeFileSync(join(dir, "samples.jsonl"), samples.join(""));
    return { results, structure: await scoreEvalDir(structureInputs(dir)) };
  }

  before(async () => {
    const dataset = await openDataset(join(DATA, "evalplus", "HumanEvalPlus-v0.1.10.jsonl.gz"));
    try {
      const tasks = await Promise.all(Array.from({ length: 10 }, (_, i) => dataset.task(i)));
      const text = tasks.map((t) => `${serializeTask(t)}\n`).join("");
      scored.push(await scoreFixture("base-n5", text), await scoreFixture("student-n5", text));
    } finally {
      await dataset.close();
    }
  });

  it("show the averages over every sample with their counts, per model", () => {
    const rows = comparisonRows(scored.map(({ results, structure }, i) => ({ model: i ? student : base, benchmark: "humaneval-plus", results, structure: { state: "scored", structure } })));
    for (const [i, row] of rows.entries()) {
      const summary = scored[i]!.structure.summary;
      assert.ok(row.syntax.available && row.dataflow.available, JSON.stringify(row));
      assert.deepEqual(row.syntax, { available: true, value: summary.syntaxMatch, samples: 50, totalSamples: 50, mode: "default" });
      assert.deepEqual(row.dataflow, { available: true, value: summary.dataflowMatch, samples: summary.dataflowSamples, totalSamples: 50, mode: "default" });
      assert.ok(row.syntax.value > 0 && row.syntax.value < 1, `${row.modelLabel} syntax ${row.syntax.value}`);
      assert.ok(row.dataflow.value >= 0 && row.dataflow.value < 1, `${row.modelLabel} dataflow ${row.dataflow.value}`);
    }
    // The average is over samples: every one weighs the same.
    const all = scored[0]!.structure.tasks.flatMap((t) => t.samples.map((s) => s.syntax!));
    assert.ok(Math.abs(rows[0]!.syntax.available ? rows[0]!.syntax.value - all.reduce((a, b) => a + b, 0) / all.length : 1) < 1e-12);
  });

  it("drill down to each sample's syntax and dataflow match, in sample order", () => {
    const { results, structure } = scored[0]!;
    const rows = drillDownRows(results, { state: "scored", structure });
    assert.equal(rows.length, 10);
    for (const [i, row] of rows.entries()) {
      assert.equal(row.scoresPending, false);
      assert.deepEqual(row.scores, structure.tasks[i]!.samples, row.taskId);
      assert.equal(row.scores!.length, row.samples);
    }
    // HumanEval/0's five samples: passing and failing programs score differently.
    assert.equal(new Set(rows[0]!.scores!.map((s) => s.syntax)).size > 1, true, JSON.stringify(rows[0]!.scores));
  });

  it("say scoring… while pending, and why when there are no scores", async () => {
    const results = await readEvalResults(join(FIXTURES, "humanevalplus-base-n1.results.json"));
    const [pending] = comparisonRows([{ model: base, benchmark: "humaneval-plus", results, structure: { state: "pending" } }]);
    assert.deepEqual(pending!.syntax, { available: false, pending: true, reason: "being scored" });
    const drillPending = drillDownRows(results, { state: "pending" })[0]!;
    assert.deepEqual([drillPending.scores, drillPending.scoresNote, drillPending.scoresPending], [null, "scoring…", true]);
    const reason = "no tasks.jsonl in /ws/.codistill/runs/base-tiny/eval/humaneval-plus";
    const [unscorable] = comparisonRows([{ model: base, benchmark: "humaneval-plus", results, structure: { state: "unavailable", reason } }]);
    assert.deepEqual(unscorable!.dataflow, { available: false, pending: false, reason });
    assert.deepEqual(drillDownRows(results, { state: "unavailable", reason })[0]!.scoresNote, reason);
    // Scores of other samples (five per task) are not put beside these (one per task).
    const other = drillDownRows(results, { state: "scored", structure: scored[0]!.structure })[0]!;
    assert.equal(other.scores, null);
    assert.match(other.scoresNote ?? "", /scores 5 samples of HumanEval\/0, results\.json has 1/);
  });
});

describe("evaluation panel messages", () => {
  const parse = (method: string, params: unknown) => parsePanelMessage({ id: 1, method, params }, evaluationValidators);
  it("accept a run and refuse bad settings with the field named", () => {
    assert.equal(parse("evaluation/run", { models: ["base"], benchmarks: ["humaneval"], n: 1, temperature: 0, limit: null }).ok, true);
    const bad = (params: unknown) => {
      const r = parse("evaluation/run", params);
      return r.ok ? "" : r.error;
    };
    assert.match(bad({ models: [], benchmarks: ["h"], n: 1, temperature: 0, limit: null }), /models: choose at least one/);
    assert.match(bad({ models: ["b"], benchmarks: ["h"], n: 0, temperature: 0, limit: null }), /n: expected an integer >= 1/);
    assert.match(bad({ models: ["b"], benchmarks: ["h"], n: 5, temperature: 0, limit: null }), /greedy decoding/);
    assert.match(bad({ models: ["b"], benchmarks: ["h"], n: 1, temperature: Number.NaN, limit: null }), /temperature/);
    assert.match(bad({ models: ["b"], benchmarks: ["h"], n: 1, temperature: 0, limit: 2.5 }), /limit/);
    const open = parse("evaluation/openSample", { modelId: "base", benchmark: "h", taskId: "HumanEval/0", sample: -1 });
    assert.equal(open.ok, false);
  });
});
