import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { EvalFileError } from "../../src/core/evaluation/fields";
import { listEvalResults, parseEvalResults, parseSamples, readEvalResults, readSamples } from "../../src/core/evaluation/results";
import { countPasses, meanPassAtK } from "../../src/core/evaluation/stats";
import { REPO } from "./helpers";

const FIXTURES = join(REPO, "test", "fixtures", "eval");
const FIXTURE_NAMES = ["humanevalplus-base-n1", "humanevalplus-base-n5", "humanevalplus-student-n1", "humanevalplus-student-n5"];
const fixture = (name: string) => join(FIXTURES, `${name}.results.json`);

const REMOVE = Symbol("remove the field");

/** The base-n5 fixture as JSON text with the value at `path` replaced (or removed), for one malformed-file case. */
function brokenFixture(path: (string | number)[], value: unknown): string {
  const doc = JSON.parse(readFileSync(fixture("humanevalplus-base-n5"), "utf8")) as unknown;
  const parent = path.slice(0, -1).reduce<unknown>((node, key) => (node as Record<string | number, unknown>)[key], doc) as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (value === REMOVE) delete parent[last];
  else parent[last] = value;
  return JSON.stringify(doc);
}

function assertEvalError(run: () => unknown, expected: { file: string; line?: number; field?: string; message: string }): void {
  assert.throws(run, (err: unknown) => {
    assert.ok(err instanceof EvalFileError, `expected an EvalFileError, got ${String(err)}`);
    assert.equal(err.message, expected.message);
    assert.equal(err.file, expected.file);
    assert.equal(err.line, expected.line);
    assert.equal(err.field, expected.field);
    return true;
  });
}

describe("results.json", () => {
  it("reads a fixture in the spec format", async () => {
    const path = fixture("humanevalplus-base-n5");
    const results = await readEvalResults(path);
    assert.equal(results.path, path);
    assert.equal(results.date, "2025-06-02T09:14:07Z");
    assert.match(results.hash, /^[0-9a-f]{64}$/);
    assert.equal(results.samplesPath, ".codistill/runs/baseline-qwen15b-t08/eval/humaneval+/samples.jsonl");
    assert.deepEqual(results.generation, {
      model: "models/Qwen2.5-Coder-1.5B-Instruct",
      adapter: null,
      n: 5,
      temperature: 0.8,
      topP: 0.95,
      maxNewTokens: 512,
      backend: "vllm",
      promptFormat: "chat",
      chatTemplate: true,
      date: "2025-06-02T09:14:07Z",
    });
    assert.deepEqual(results.summary.statuses, { passed: 23, failed: 25, timeout: 1, error: 1 });
    assert.equal(results.summary.samples, 50);
    assert.deepEqual(
      results.tasks.map((t) => t.taskId),
      Array.from({ length: 10 }, (_, i) => `HumanEval/${i}`),
    );
    assert.ok(results.tasks.every((t) => t.samples.length === 5));
  });

  it("keeps each sample's outcome, the failing test and the message", async () => {
    const results = await readEvalResults(fixture("humanevalplus-base-n5"));
    const sample = (taskId: string, i: number) => results.tasks.find((t) => t.taskId === taskId)!.samples[i]!;
    const outcome = (taskId: string, i: number) => {
      const { status, basePass, plusPass, failedTest, message } = sample(taskId, i);
      return { status, basePass, plusPass, failedTest, message };
    };
    assert.deepEqual(outcome("HumanEval/0", 0), { status: "passed", basePass: true, plusPass: true, failedTest: null, message: null });
    // Passes HumanEval's 7 original tests, fails EvalPlus's extra test 18.
    assert.deepEqual(outcome("HumanEval/0", 1), {
      status: "failed",
      basePass: true,
      plusPass: false,
      failedTest: 18,
      message: "wrong output: got true, expected false",
    });
    assert.deepEqual(outcome("HumanEval/2", 1), { status: "failed", basePass: false, plusPass: false, failedTest: 0, message: "wrong output: got -0.5, expected 0.5" });
    assert.equal(sample("HumanEval/5", 1).status, "timeout");
    assert.equal(sample("HumanEval/5", 1).message, "no progress within 5 s");
    assert.ok(sample("HumanEval/5", 1).durationS >= 5);
    assert.equal(sample("HumanEval/6", 1).status, "error");
    assert.match(sample("HumanEval/6", 1).message!, /^SyntaxError: /);
    assert.equal(sample("HumanEval/6", 1).failedTest, null);
    assert.match(sample("HumanEval/2", 0).solution, /def truncate_number\(number: float\) -> float:\n {4}return number % 1\.0\n/);
  });

  it("gives the pass@1 the sidecar summarized, for every fixture", async () => {
    for (const name of FIXTURE_NAMES) {
      const results = await readEvalResults(fixture(name));
      const recomputed = meanPassAtK(countPasses(results.tasks), 1)!;
      assert.ok(Math.abs(recomputed - results.summary.passAtK["pass@1"]!) < 1e-12, `${name}: ${recomputed} vs ${results.summary.passAtK["pass@1"]}`);
    }
  });

  it("accepts generation null and a generation without adapter", () => {
    assert.equal(parseEvalResults(brokenFixture(["generation"], null), "r.json").generation, null);
    assert.equal(parseEvalResults(brokenFixture(["generation", "adapter"], REMOVE), "r.json").generation!.adapter, null);
  });

  it("reads files with members it does not use, such as the limits eval/execute records", () => {
    const expected = parseEvalResults(readFileSync(fixture("humanevalplus-base-n5"), "utf8"), "r.json");
    const limits = { timeoutS: 5, timeLimitFactor: 4, minTimeLimitS: 1 };
    assert.deepEqual(parseEvalResults(brokenFixture(["limits"], limits), "r.json"), expected);
    assert.deepEqual(parseEvalResults(brokenFixture(["summary", "futureStat"], 1), "r.json"), expected);
  });

  it("names the file and the field of a mistyped sample", () => {
    const file = "/ws/.codistill/runs/a/eval/humaneval+/results.json";
    assertEvalError(() => parseEvalResults(brokenFixture(["eval", "HumanEval/0", 1, "status"], 3), file), {
      file,
      field: 'eval["HumanEval/0"][1].status',
      message: `${file}: eval["HumanEval/0"][1].status: expected a string, got number`,
    });
    assertEvalError(() => parseEvalResults(brokenFixture(["eval", "HumanEval/3", 4, "status"], "crashed"), file), {
      file,
      field: 'eval["HumanEval/3"][4].status',
      message: `${file}: eval["HumanEval/3"][4].status: expected one of "passed", "failed", "timeout", "error", "oom", "needs_judge", got "crashed"`,
    });
    assertEvalError(() => parseEvalResults(brokenFixture(["eval", "HumanEval/9", 0, "failed_test"], -1), file), {
      file,
      field: 'eval["HumanEval/9"][0].failed_test',
      message: `${file}: eval["HumanEval/9"][0].failed_test: expected an integer >= 0, got -1`,
    });
    assertEvalError(() => parseEvalResults(brokenFixture(["eval", "HumanEval/2", 2, "duration_s"], REMOVE), file), {
      file,
      field: 'eval["HumanEval/2"][2].duration_s',
      message: `${file}: eval["HumanEval/2"][2].duration_s: missing (expected a number)`,
    });
  });

  it("rejects samples filed under another task or whose outcomes contradict their status", () => {
    const file = "results.json";
    assertEvalError(() => parseEvalResults(brokenFixture(["eval", "HumanEval/1", 0, "task_id"], "HumanEval/2"), file), {
      file,
      field: 'eval["HumanEval/1"][0].task_id',
      message: `${file}: eval["HumanEval/1"][0].task_id: expected "HumanEval/1" (the key it is listed under), got "HumanEval/2"`,
    });
    assertEvalError(() => parseEvalResults(brokenFixture(["eval", "HumanEval/0", 0, "plus_status"], "fail"), file), {
      file,
      field: 'eval["HumanEval/0"][0]',
      message: `${file}: eval["HumanEval/0"][0]: base_status "pass" and plus_status "fail" contradict status "passed"`,
    });
    assertEvalError(() => parseEvalResults(brokenFixture(["eval", "HumanEval/4"], []), file), {
      file,
      field: 'eval["HumanEval/4"]',
      message: `${file}: eval["HumanEval/4"]: expected at least one sample`,
    });
  });

  it("names the field of a broken header, summary or generation", () => {
    const file = "results.json";
    const cases: [(string | number)[], unknown, string, string][] = [
      [["hash"], REMOVE, "hash", "missing (expected a string)"],
      [["generation"], REMOVE, "generation", "missing (expected an object or null)"],
      [["generation", "n"], 0, "generation.n", "expected an integer >= 1, got 0"],
      [["generation", "temperature"], "0.8", "generation.temperature", "expected a number, got string"],
      [["summary", "wallS"], REMOVE, "summary.wallS", "missing (expected a number)"],
      [["summary", "passAtK", "pass@1"], 46, 'summary.passAtK["pass@1"]', "expected a fraction between 0 and 1, got 46"],
      [["summary", "statuses", "passed"], 2.5, "summary.statuses.passed", "expected an integer, got number"],
      [["eval"], {}, "eval", "expected at least one task"],
      [["eval"], [], "eval", "expected an object, got array"],
    ];
    for (const [path, value, field, reason] of cases) {
      assertEvalError(() => parseEvalResults(brokenFixture(path, value), file), { file, field, message: `${file}: ${field}: ${reason}` });
    }
  });

  it("reports a file that is not JSON, not an object, or not there", async () => {
    assertEvalError(() => parseEvalResults('{"date": ', "cut.json"), {
      file: "cut.json",
      message: `cut.json: not valid JSON: ${(() => {
        try {
          JSON.parse('{"date": ');
        } catch (err) {
          return (err as Error).message;
        }
      })()}`,
    });
    assertEvalError(() => parseEvalResults("[]", "list.json"), { file: "list.json", message: "list.json: expected an object, got array" });
    const missing = join(tmpdir(), "codistill-no-such-dir", "results.json");
    await assert.rejects(readEvalResults(missing), (err: unknown) => {
      assert.ok(err instanceof EvalFileError);
      assert.equal(err.code, "ENOENT");
      assert.match(err.message, new RegExp(`^${missing.replace(/[.+]/g, "\\$&")}: cannot read: ENOENT`));
      return true;
    });
  });
});

describe("samples.jsonl", () => {
  let dir = "";
  before(() => (dir = mkdtempSync(join(tmpdir(), "codistill-samples-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("reads samples with their line and their index within the task", async () => {
    const path = join(dir, "samples.jsonl");
    const lines = [
      { task_id: "HumanEval/0", solution: "def f():\n    return 1\n", completion: "    return 1\n", raw: "```python\ndef f():\n    return 1\n```" },
      { task_id: "HumanEval/1", solution: "def g():\n    pass\n", completion: "    pass\n", raw: "def g():\n    pass" },
      { task_id: "HumanEval/0", completion: "    return 2\n" },
    ];
    writeFileSync(path, `${JSON.stringify(lines[0])}\n${JSON.stringify(lines[1])}\n\n${JSON.stringify(lines[2])}\r\n`);
    assert.deepEqual(await readSamples(path), [
      { line: 1, index: 0, taskId: "HumanEval/0", solution: lines[0]!.solution, completion: lines[0]!.completion, raw: lines[0]!.raw },
      { line: 2, index: 0, taskId: "HumanEval/1", solution: lines[1]!.solution, completion: lines[1]!.completion, raw: lines[1]!.raw },
      { line: 4, index: 1, taskId: "HumanEval/0", solution: null, completion: "    return 2\n", raw: null },
    ]);
  });

  it("names the file and line of a bad sample", () => {
    const good = JSON.stringify({ task_id: "Mbpp/2", solution: "x = 1\n" });
    assertEvalError(() => parseSamples(`${good}\n{"task_id": 2, "solution": ""}\n`, "s.jsonl"), {
      file: "s.jsonl",
      line: 2,
      field: "task_id",
      message: "s.jsonl:2: task_id: expected a string, got number",
    });
    assertEvalError(() => parseSamples(`${good}\n${good}\n{"task_id": "Mbpp/3"}\n`, "s.jsonl"), {
      file: "s.jsonl",
      line: 3,
      field: "solution",
      message: "s.jsonl:3: solution: missing (a sample needs a string solution or completion)",
    });
    assertEvalError(() => parseSamples(`${good}\n["Mbpp/2"]\n`, "s.jsonl"), { file: "s.jsonl", line: 2, message: "s.jsonl:2: expected an object, got array" });
    assert.throws(() => parseSamples(`${good}\n{"task_id": "Mbpp/2", "solution`, "s.jsonl"), /^EvalFileError: s\.jsonl:2: not valid JSON: /);
  });
});

describe("evaluation results in a workspace", () => {
  it("is empty for a workspace without runs", async () => {
    const root = mkdtempSync(join(tmpdir(), "codistill-ws-"));
    try {
      assert.deepEqual(await listEvalResults(root), []);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("finds results.json per run and benchmark, runs newest first", async () => {
    const root = mkdtempSync(join(tmpdir(), "codistill-ws-"));
    const runs = join(root, ".codistill", "runs");
    const write = (path: string) => {
      mkdirSync(join(path, ".."), { recursive: true });
      writeFileSync(path, "{}");
    };
    try {
      write(join(runs, "distill-0602", "eval", "mbpp+", "results.json"));
      write(join(runs, "distill-0602", "eval", "humaneval+", "results.json"));
      write(join(runs, "distill-0602", "eval", "notes.txt"));
      // Generated but not executed yet: samples without results.
      write(join(runs, "distill-0602", "eval", "taco", "samples.jsonl"));
      write(join(runs, "baseline", "eval", "humaneval+", "results.json"));
      // A run that was trained but never evaluated.
      mkdirSync(join(runs, "distill-0601", "adapter"), { recursive: true });
      for (const [id, age] of [["baseline", 300], ["distill-0601", 200], ["distill-0602", 100]] as const) {
        const t = Date.now() / 1000 - age;
        utimesSync(join(runs, id), t, t);
      }
      const found = await listEvalResults(root);
      assert.deepEqual(
        found.map(({ runId, benchmark, path }) => ({ runId, benchmark, path })),
        [
          { runId: "distill-0602", benchmark: "humaneval+", path: join(runs, "distill-0602", "eval", "humaneval+", "results.json") },
          { runId: "distill-0602", benchmark: "mbpp+", path: join(runs, "distill-0602", "eval", "mbpp+", "results.json") },
          { runId: "baseline", benchmark: "humaneval+", path: join(runs, "baseline", "eval", "humaneval+", "results.json") },
        ],
      );
      assert.ok(found.every((f) => f.modifiedMs > 0));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
