// The index: search, tasks read back on demand, background indexing, cancellation, progress,
// and the Python 3 check of the Python-only filter against Python's own parser.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { appendFileSync, copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { openDataset, pythonSyntax, type Dataset } from "../../src/core/datasets/index";
import { REPO, sidecarPython } from "./helpers";

const DATA = process.env.CODISTILL_DATA ?? join(REPO, "..", "shared", "data");
const FIXTURES = join(REPO, "test", "fixtures", "datasets");
const tmp = mkdtempSync(join(tmpdir(), "codistill-index-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

const TACO_ROWS = readFileSync(join(FIXTURES, "taco-fixture.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);

/** The TACO fixture with difficulties and tags set, so that every filter has something to find. */
function labelledTaco(): string {
  const difficulties = ["EASY", "MEDIUM", "HARD"];
  const rows = TACO_ROWS.map((row, i) => ({ ...row, difficulty: difficulties[i % 3], tags: i % 2 ? "['Sorting']" : "['Dynamic programming', 'Sorting']" }));
  const file = join(tmp, "labelled.jsonl");
  writeFileSync(file, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
  return file;
}

/** MBPP's 974 real rows repeated with new task ids: a file of `copies` x 974 rows. */
function manyMbppRows(copies: number): string {
  const lines = readFileSync(join(DATA, "mbpp", "mbpp.jsonl"), "utf8").trim().split("\n");
  const file = join(tmp, `mbpp-x${copies}.jsonl`);
  const out: string[] = [];
  for (let c = 0; c < copies; c++) {
    for (const line of lines) {
      const row = JSON.parse(line) as { task_id: number };
      out.push(JSON.stringify({ ...row, task_id: c * 10_000 + row.task_id }));
    }
  }
  writeFileSync(file, out.join("\n") + "\n");
  return file;
}

describe("search", () => {
  let dataset: Dataset;
  before(async () => {
    dataset = await openDataset(labelledTaco());
  });
  after(() => dataset.close());

  it("free text: every word must match, case-insensitive, over titles and questions", () => {
    assert.deepEqual(dataset.search({}), Array.from({ length: 12 }, (_, i) => i));
    assert.deepEqual(dataset.search({ text: "BENCHES   park" }), [0]);
    assert.deepEqual(dataset.search({ text: "benches zookeeper" }), []);
    assert.deepEqual(dataset.search({ text: "taco/11" }), [11]);
    const coke = dataset.search({ text: "coke" });
    assert.deepEqual(coke, [2]);
  });

  it("sources, difficulties and tags filter, and combine with text", () => {
    assert.deepEqual(dataset.search({ difficulties: ["HARD"] }), [2, 5, 8, 11]);
    assert.deepEqual(dataset.search({ tags: ["Dynamic programming"] }), [0, 2, 4, 6, 8, 10]);
    assert.deepEqual(dataset.search({ tags: ["Dynamic programming"], difficulties: ["HARD", "EASY"] }), [0, 2, 6, 8]);
    assert.deepEqual(dataset.search({ sources: ["taco"], text: "numbers" }), dataset.search({ text: "numbers" }));
    assert.deepEqual(dataset.search({ sources: ["mbpp"] }), []);
    assert.deepEqual(dataset.search({ sources: [], difficulties: [], tags: [] }).length, 12);
  });

  it("a task without a difficulty is counted and found as unspecified", async () => {
    const mbpp = await openDataset(join(DATA, "mbpp", "mbpp.jsonl"));
    assert.deepEqual(mbpp.stats().difficulties, { unspecified: 974 });
    assert.equal(mbpp.search({ difficulties: ["unspecified"] }).length, 974);
    await mbpp.close();
  });

  it("stats count rows, sources and difficulties", () => {
    assert.deepEqual(dataset.stats(), { format: "taco", rows: 12, rejected: [], sources: { taco: 12 }, difficulties: { EASY: 4, MEDIUM: 4, HARD: 4 } });
  });
});

describe("tasks read on demand", () => {
  it("task(i) re-reads the row; out-of-range indices reject; the same promise serves repeated reads", async () => {
    const dataset = await openDataset(join(DATA, "humaneval", "HumanEval.jsonl"));
    const a = dataset.task(163);
    assert.equal(dataset.task(163), a);
    assert.equal((await a).id, "HumanEval/163");
    await assert.rejects(dataset.task(164), /task 164 is out of range: the dataset has 164 tasks/);
    await assert.rejects(dataset.task(-1), RangeError);
    await dataset.close();
  });

  it("reads that start together share one file handle, and close() releases it", async () => {
    const openFds = () => readdirSync("/proc/self/fd").length;
    const before = openFds();
    const dataset = await openDataset(join(DATA, "humaneval", "HumanEval.jsonl"));
    const tasks = await Promise.all(Array.from({ length: 64 }, (_, i) => dataset.task(i)));
    assert.deepEqual(tasks.map((t) => t.id), Array.from({ length: 64 }, (_, i) => `HumanEval/${i}`));
    assert.ok(openFds() <= before + 1, `${openFds() - before} handles open after 64 concurrent reads`);
    await dataset.close();
    assert.equal(openFds(), before);
  });

  it("a file changed on disk after indexing is reported, not misread", async () => {
    const file = join(tmp, "changing.jsonl");
    copyFileSync(join(DATA, "humaneval", "HumanEval.jsonl"), file);
    const dataset = await openDataset(file);
    appendFileSync(file, readFileSync(file, "utf8").split("\n")[0] + "\n");
    await assert.rejects(dataset.task(5), /changing\.jsonl changed on disk since it was indexed; open the dataset again/);
    await dataset.close();
  });

  it("Parquet rows are read back in windows: neighbours come from the same read", async () => {
    const dataset = await openDataset(join(FIXTURES, "taco-fixture.parquet"));
    const rows = await Promise.all(dataset.summaries.map((_, i) => dataset.task(i)));
    assert.deepEqual(rows.map((t) => t.id), dataset.summaries.map((s) => s.id));
    await dataset.close();
  });
});

describe("indexing", () => {
  it("firstPage resolves early and indexes the rest in the background", async () => {
    const file = manyMbppRows(4);
    const progress: number[] = [];
    const dataset = await openDataset(file, { firstPage: 10, onProgress: (rows) => progress.push(rows) });
    assert.ok(dataset.summaries.length >= 10);
    assert.equal(dataset.complete, false);
    assert.ok(dataset.summaries.length < 4 * 974, `${dataset.summaries.length} rows at first page`);
    await dataset.whenIndexed();
    assert.equal(dataset.complete, true);
    assert.equal(dataset.summaries.length, 4 * 974);
    assert.equal(dataset.summaries.at(-1)!.index, 4 * 974 - 1);
    assert.equal(progress.at(-1), 4 * 974);
    assert.equal((await dataset.task(3000)).id, `mbpp/${30_000 + 3000 - 3 * 974 + 1}`);
    await dataset.close();
  });

  it("without firstPage, openDataset resolves on a complete index", async () => {
    const dataset = await openDataset(join(DATA, "mbpp", "mbpp.jsonl"));
    assert.equal(dataset.complete, true);
    await dataset.whenIndexed();
    await dataset.close();
  });

  it("an abort before the first page rejects openDataset; after it, whenIndexed rejects", async () => {
    const file = manyMbppRows(4);
    const early = new AbortController();
    await assert.rejects(openDataset(file, { signal: early.signal, onProgress: () => early.abort(new Error("stop now")) }), /stop now/);
    const late = new AbortController();
    const dataset = await openDataset(file, { firstPage: 1, signal: late.signal });
    late.abort(new Error("stopped later"));
    await assert.rejects(dataset.whenIndexed(), /stopped later/);
    assert.equal(dataset.complete, false);
    await dataset.close();
  });

  it("close() during background indexing stops it", async () => {
    const dataset = await openDataset(manyMbppRows(4), { firstPage: 1 });
    await dataset.close();
    await assert.rejects(dataset.whenIndexed(), /was closed while it was being indexed/);
  });
});

describe("parses as Python 3", () => {
  it("rejects the Python 2 constructs tree-sitter-python tolerates, and syntax errors", async () => {
    const python = await pythonSyntax();
    const py2 = ['print "hi"', "print >>sys.stderr, 'x'", 'exec "x = 1"', "if a <> b:\n    pass", "x = 10L", "x = 0777", "try:\n    pass\nexcept ValueError, e:\n    pass", 'raise ValueError, "x"', "y = `x`", "def f(a, (b, c)):\n    pass", "f = lambda (a, b): a", "if x:\n", "def f():\n    # only a comment\n", "def f(:", "x = (1,"];
    for (const code of py2) assert.equal(python.parsesAsPython3(code), false, code);
    const py3 = ['print("hi")', "print", "x = 00", "x = 0o777 + 0x1F + 10", "x = 1e10 + 07j", "try:\n    pass\nexcept (ValueError, TypeError) as e:\n    pass", 'raise ValueError("x") from None', "def f(a, *args, b=(1, 2), **kw):\n    return a", "async def f():\n    await g()", 'y = f"{x!r:>10}"', "match x:\n    case [a, *_]:\n        pass"];
    for (const code of py3) assert.equal(python.parsesAsPython3(code), true, code);
  });

  it("agrees with Python's ast.parse on the real solutions and their Python 2 versions", async () => {
    const codes: string[] = [];
    for (const e of JSON.parse(readFileSync(join(DATA, "taco", "taco_generation_example.json"), "utf8")) as { output: string[] }[]) codes.push(e.output[0]!);
    for (const line of readFileSync(join(DATA, "mbpp", "mbpp.jsonl"), "utf8").trim().split("\n")) codes.push((JSON.parse(line) as { code: string }).code);
    for (const line of readFileSync(join(DATA, "humaneval", "HumanEval.jsonl"), "utf8").trim().split("\n")) {
      const r = JSON.parse(line) as { prompt: string; canonical_solution: string };
      codes.push(r.prompt + r.canonical_solution);
    }
    const py2 = codes.map((c) => c.replace(/\bprint\((.*)\)\s*$/gm, "print $1")).filter((c, i) => c !== codes[i]);
    const all = [...codes, ...py2];
    const input = join(tmp, "codes.json");
    writeFileSync(input, JSON.stringify(all));
    const oracle = JSON.parse(
      execFileSync(sidecarPython(), ["-c", "import ast, json, sys, warnings\nwarnings.simplefilter('ignore')\nout = []\nfor c in json.load(open(sys.argv[1])):\n    try:\n        ast.parse(c)\n        out.append(True)\n    except SyntaxError:\n        out.append(False)\nprint(json.dumps(out))", input], { encoding: "utf8", maxBuffer: 1 << 26 }),
    ) as boolean[];
    const python = await pythonSyntax();
    const disagree = all.filter((code, i) => python.parsesAsPython3(code) !== oracle[i]).map((c) => c.slice(0, 80));
    assert.ok(py2.length > 500, `${py2.length} Python 2 versions`);
    assert.deepEqual(disagree, []);
  });
});
