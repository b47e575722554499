// The evaluation panel's rows, built from real results files (test/fixtures/eval): the numbers
// the webview shows, the baseline delta, and CodeBLEU columns marked unavailable rather than 0.
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { isolationLevel } from "../../src/core/evaluation/isolation";
import { readEvalResults } from "../../src/core/evaluation/results";
import type { EvalModel } from "../../src/core/evaluation/runner";
import { evaluationValidators } from "../../src/panels/evaluation/protocol";
import { comparisonRows, drillDownRows, type LoadedResults } from "../../src/panels/evaluation/view";
import { parsePanelMessage } from "../../src/panels/shared/messages";
import { REPO } from "./helpers";

const FIXTURES = join(REPO, "test", "fixtures", "eval");
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
      assert.deepEqual(row.syntax, { available: false, reason: "CodeBLEU lands with the structure issue" });
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
