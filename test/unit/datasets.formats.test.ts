// Every source format mapped to the Task schema, on the real benchmark files (CODISTILL_DATA,
// default <repo>/../shared/data) and the TACO fixture made by scripts/make-taco-fixture.py.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { detectFormat, openDataset, parseJson, serializeTask, type Dataset, type Task } from "../../src/core/datasets/index";
import { REPO } from "./helpers";

const DATA = process.env.CODISTILL_DATA ?? join(REPO, "..", "shared", "data");
const FIXTURES = join(REPO, "test", "fixtures", "datasets");
const tmp = mkdtempSync(join(tmpdir(), "codistill-formats-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

async function allTasks(dataset: Dataset): Promise<Task[]> {
  const tasks: Task[] = [];
  await dataset.forEachTask((task) => {
    tasks.push(task);
  });
  return tasks;
}

async function taskById(dataset: Dataset, id: string): Promise<Task> {
  const index = dataset.indexOfId(id);
  assert.ok(index !== undefined, `no task ${id}`);
  return dataset.task(index);
}

const BENCHMARKS = [
  { file: "humaneval/HumanEval.jsonl", format: "humaneval", rows: 164 },
  { file: "mbpp/mbpp.jsonl", format: "mbpp", rows: 974 },
  { file: "mbpp/sanitized-mbpp.json", format: "mbpp-sanitized", rows: 427 },
  { file: "evalplus/HumanEvalPlus-v0.1.10.jsonl.gz", format: "humaneval+", rows: 164 },
  { file: "evalplus/MbppPlus-v0.2.0.jsonl.gz", format: "mbpp+", rows: 378 },
] as const;

describe("the real benchmark files", () => {
  for (const { file, format, rows } of BENCHMARKS) {
    it(`${file}: detected as ${format}, every one of its ${rows} rows loaded`, async () => {
      const path = join(DATA, file);
      assert.equal(await detectFormat(path), format);
      const dataset = await openDataset(path);
      try {
        const stats = dataset.stats();
        assert.deepEqual(stats.rejected, []);
        assert.equal(stats.rows, rows);
        assert.equal(dataset.format, format);
        assert.equal(new Set(dataset.summaries.map((s) => s.id)).size, rows, "ids are unique");
        const tasks = await allTasks(dataset);
        assert.equal(tasks.length, rows);
        for (const task of tasks) {
          assert.ok(task.prompt.trim() && task.solutions.length === 1 && task.entryPoint, `${task.id} has prompt, one solution and an entry point`);
        }
        // task() re-reads the row from disk and maps it to the same Task as the sequential pass.
        assert.equal(serializeTask(await dataset.task(rows - 1)), serializeTask(tasks[rows - 1]!));
      } finally {
        await dataset.close();
      }
    });
  }

  it("HumanEval: the prompt is the signature and docstring, the tests are test + check(entry_point)", async () => {
    const dataset = await openDataset(join(DATA, "humaneval", "HumanEval.jsonl"));
    const task = await taskById(dataset, "HumanEval/0");
    await dataset.close();
    const raw = JSON.parse(readFileSync(join(DATA, "humaneval", "HumanEval.jsonl"), "utf8").split("\n")[0]!);
    assert.equal(task.source, "humaneval");
    assert.equal(task.prompt, raw.prompt);
    assert.equal(task.solutions[0], raw.prompt + raw.canonical_solution);
    assert.equal(task.tests.kind, "assert");
    assert.ok(task.tests.kind === "assert" && task.tests.code.startsWith(raw.test.trimEnd()) && task.tests.code.endsWith("\n\n\ncheck(has_close_elements)\n"));
    assert.equal(dataset.summaries[0]!.title, "Check if in given list of numbers, are any two numbers closer to each other than given threshold.");
    assert.equal(dataset.summaries[0]!.testCount, 7);
  });

  it("MBPP: setup code, asserts one per line, challenge tests apart, entry point from code and tests", async () => {
    const dataset = await openDataset(join(DATA, "mbpp", "mbpp.jsonl"));
    const withSetup = await taskById(dataset, "mbpp/367");
    const withChallenge = await taskById(dataset, "mbpp/11");
    await dataset.close();
    assert.ok(withSetup.tests.kind === "assert");
    assert.match(withSetup.tests.setup ?? "", /^root = Node\(1\)/);
    assert.equal(withSetup.tests.code.split("\n").filter(Boolean).length, 3);
    assert.equal(withSetup.entryPoint, "is_tree_balanced");
    assert.ok(withChallenge.tests.kind === "assert" && withChallenge.tests.challenge?.startsWith("assert remove_Occ("));
    assert.equal(withChallenge.entryPoint, "remove_Occ");
    assert.deepEqual(withChallenge.meta, { task_id: 11 });
  });

  it("sanitized MBPP: a JSON array; prompt, test_imports as setup", async () => {
    const dataset = await openDataset(join(DATA, "mbpp", "sanitized-mbpp.json"));
    const raw = (JSON.parse(readFileSync(join(DATA, "mbpp", "sanitized-mbpp.json"), "utf8")) as { task_id: number; test_imports: string[] }[]).find((r) => r.test_imports.length)!;
    const task = await taskById(dataset, `mbpp/${raw.task_id}`);
    await dataset.close();
    assert.equal(task.source, "mbpp-sanitized");
    assert.ok(task.tests.kind === "assert" && task.tests.setup === raw.test_imports.join("\n") + "\n");
    assert.equal(dataset.rejected.length, 0);
  });

  it("HumanEval+: base and plus inputs as CallTests without outputs, the full canonical program, atol", async () => {
    const dataset = await openDataset(join(DATA, "evalplus", "HumanEvalPlus-v0.1.10.jsonl.gz"));
    const task = await taskById(dataset, "HumanEval/2");
    await dataset.close();
    assert.ok(task.tests.kind === "call");
    assert.equal(task.tests.outputs, null);
    assert.equal(task.tests.fnName, "truncate_number");
    assert.equal(task.tests.atol, 1e-6);
    assert.equal(task.tests.inputs.length, (task.meta.baseInputs as number) + (task.meta.plusInputs as number));
    assert.equal(task.meta.baseInputs, 3);
    assert.ok(task.solutions[0]!.startsWith(task.prompt) && task.solutions[0]!.endsWith("    return number - int(number)\n\n"));
  });

  it("MBPP+: Infinity inputs kept as numbers, plus_input {} read as no inputs and noted", async () => {
    const dataset = await openDataset(join(DATA, "evalplus", "MbppPlus-v0.2.0.jsonl.gz"));
    const minimum = await taskById(dataset, "Mbpp/404");
    const last = await taskById(dataset, "Mbpp/793");
    await dataset.close();
    assert.ok(minimum.tests.kind === "call");
    const flat = minimum.tests.inputs.flat();
    assert.ok(flat.includes(Number.POSITIVE_INFINITY) && flat.includes(Number.NEGATIVE_INFINITY));
    assert.match(serializeTask(minimum), /\[Infinity,-Infinity\]|-Infinity/);
    assert.ok(last.tests.kind === "call");
    assert.equal(last.tests.inputs.length, 3);
    assert.equal(last.meta.plusInputs, 0);
    assert.deepEqual(last.meta.notes, ["plus_input is an empty object {}; read as no inputs"]);
    assert.equal(minimum.solutions[0], (parseJson(readFileSync(join(FIXTURES, "golden", "mbppplus-slice.tasks.jsonl"), "utf8").split("\n")[1]!) as Task).solutions[0]);
  });
});

describe("TACO", () => {
  const parquet = join(FIXTURES, "taco-fixture.parquet");
  const jsonl = join(FIXTURES, "taco-fixture.jsonl");

  it("the Parquet file and its JSONL export give the same Tasks", async () => {
    const [a, b] = await Promise.all([openDataset(parquet), openDataset(jsonl)]);
    assert.equal(a.format, "taco");
    assert.equal(b.format, "taco");
    const [ta, tb] = [await allTasks(a), await allTasks(b)];
    await Promise.all([a.close(), b.close()]);
    assert.equal(ta.length, 12);
    assert.deepEqual(ta.map(serializeTask), tb.map(serializeTask));
  });

  it("stdio rows and call-based rows (fn_name), starter code, TACO meta", async () => {
    const dataset = await openDataset(parquet);
    const stdio = await dataset.task(1);
    const call = await dataset.task(9);
    await dataset.close();
    assert.equal(stdio.id, "taco/1");
    assert.ok(stdio.tests.kind === "stdio");
    assert.deepEqual(stdio.tests.inputs.slice(0, 2), ["4\n0110\n", "7\n1101001\n"]);
    assert.deepEqual(stdio.tests.outputs.slice(0, 2), ["12\n", "30\n"]);
    assert.equal(stdio.difficulty, "UNKNOWN_DIFFICULTY");
    assert.equal(stdio.entryPoint, undefined);
    assert.ok(call.tests.kind === "call");
    assert.equal(call.tests.fnName, "min_cost");
    assert.equal(call.entryPoint, "min_cost");
    assert.deepEqual(call.tests.inputs[0], [[[1, 2, 3], [4, 8, 2], [1, 5, 3]], 2, 2]);
    assert.deepEqual(call.tests.outputs?.[0], [8]);
    assert.equal(call.starterCode, "def min_cost(cost, m, n):\n\t");
    assert.equal(call.meta.source, "mbpp");
    assert.equal(dataset.summaries[9]!.testKind, "call");
    assert.equal(dataset.summaries[0]!.solutionCount, 2);
  });

  it("the Python-only filter drops Python 2 solutions, counts them in meta, rejects a row left with none", async () => {
    const dataset = await openDataset(parquet, { pythonOnly: true });
    const first = await dataset.task(0);
    await dataset.close();
    assert.equal(dataset.summaries.length, 11);
    assert.deepEqual(dataset.rejected, [
      { where: `${parquet} row 8`, field: "solutions", reason: "python-only filter: none of the 1 solutions parses as Python 3" },
    ]);
    assert.equal(first.solutions.length, 1);
    assert.equal(first.meta.droppedSolutions, 1);
    assert.ok(!dataset.summaries.some((s) => s.id === "taco/8"));
    assert.equal(dataset.summaries[0]!.solutionCount, 1);
  });

  it("special judges from TACO's output_spj.jsonl, re-indexed to the fixture rows", async () => {
    const dataset = await openDataset(parquet, { specialJudgeFile: join(FIXTURES, "taco-fixture.spj.jsonl") });
    const judges = await Promise.all([3, 4, 6, 7, 0].map(async (i) => {
      const tests = (await dataset.task(i)).tests;
      return tests.kind === "stdio" ? tests.specialJudge : "not stdio";
    }));
    await dataset.close();
    assert.deepEqual(judges, ["non-deterministic", "non-deterministic", "float-tolerance", "case-insensitive", undefined]);
  });

  it("the real output_spj.jsonl reads idx -> case 1, 2, 3", async () => {
    const { loadSpecialJudges } = await import("../../src/core/datasets/index");
    const judges = await loadSpecialJudges(join(DATA, "taco", "output_spj.jsonl"));
    assert.equal(judges.get(5), "non-deterministic");
    assert.equal(judges.get(18), "float-tolerance");
    assert.equal(judges.get(20), "case-insensitive");
    assert.equal(judges.get(0), undefined);
  });

  it("special judges from a column; Python-list tags and skill types; real lists in JSONL", async () => {
    const rows = readFileSync(jsonl, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    rows[0]!.tags = "['Sorting', 'Greedy algorithms']";
    rows[0]!.skill_types = "['Sorting', \"Data structures\"]";
    rows[0]!.judge = 2;
    rows[1]!.tags = ["Dynamic programming"];
    rows[1]!.solutions = JSON.parse(rows[1]!.solutions as string);
    rows[1]!.input_output = JSON.parse(rows[1]!.input_output as string);
    rows[1]!.judge = "float-tolerance";
    const file = join(tmp, "taco-variants.jsonl");
    writeFileSync(file, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
    const dataset = await openDataset(file, { format: "taco", specialJudgeColumn: "judge" });
    const [a, b] = [await dataset.task(0), await dataset.task(1)];
    await dataset.close();
    assert.deepEqual(a.tags, ["Sorting", "Greedy algorithms", "Data structures"]);
    assert.deepEqual(a.meta.skill_types, ["Sorting", "Data structures"]);
    assert.ok(a.tests.kind === "stdio" && a.tests.specialJudge === "case-insensitive");
    assert.deepEqual(b.tags, ["Dynamic programming"]);
    assert.ok(b.tests.kind === "stdio" && b.tests.specialJudge === "float-tolerance");
    assert.equal(b.solutions.length, 1);
  });

  it("a folder of TACO files: rows numbered across files in name order", async () => {
    const folder = join(tmp, "taco-folder");
    mkdirSync(folder);
    copyFileSync(parquet, join(folder, "train-00000-of-00002.parquet"));
    copyFileSync(jsonl, join(folder, "train-00001-of-00002.jsonl"));
    writeFileSync(join(folder, "README.md"), "not data\n");
    assert.equal(await detectFormat(folder), "taco");
    const dataset = await openDataset(folder);
    const second = await dataset.task(12);
    await dataset.close();
    assert.equal(dataset.summaries.length, 24);
    assert.equal(second.id, "taco/12");
    assert.equal(second.prompt, (await openDataset(parquet).then(async (d) => { const t = await d.task(0); await d.close(); return t; })).prompt);
  });
});

describe("custom and tasks formats", () => {
  it("custom JSONL with a field mapping; unmapped fields go to meta", async () => {
    const file = join(tmp, "custom.jsonl");
    const rows = [
      { uid: 7, statement: "Add two numbers.", code: ["def add(a, b):\n    return a + b\n"], checks: ["assert add(1, 2) == 3"], level: "easy", topics: "['math']", extra: "kept" },
      { uid: "x1", statement: "Echo.", code: "print(input())", checks: { inputs: ["a\n"], outputs: ["a\n"] }, level: null },
      { uid: "x2", statement: "Call.", checks: '{"kind": "call", "fnName": "f", "inputs": [[1]], "outputs": [2]}' },
    ];
    writeFileSync(file, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
    const mapping = { id: "uid", prompt: "statement", solutions: "code", tests: "checks", difficulty: "level", tags: "topics" };
    const dataset = await openDataset(file, { format: "custom", mapping });
    const tasks = await allTasks(dataset);
    await dataset.close();
    assert.deepEqual(dataset.rejected, []);
    assert.deepEqual(tasks[0], {
      id: "7",
      source: "custom",
      prompt: "Add two numbers.",
      solutions: ["def add(a, b):\n    return a + b\n"],
      tests: { kind: "assert", code: "assert add(1, 2) == 3\n" },
      meta: { extra: "kept" },
      difficulty: "easy",
      tags: ["math"],
    });
    assert.deepEqual(tasks[1]!.tests, { kind: "stdio", inputs: ["a\n"], outputs: ["a\n"] });
    assert.deepEqual(tasks[1]!.solutions, ["print(input())"]);
    assert.deepEqual(tasks[2]!.tests, { kind: "call", fnName: "f", inputs: [[1]], outputs: [2] });
    assert.equal(tasks[2]!.entryPoint, "f");
  });

  it("custom Parquet: the TACO fixture through a mapping; a repeated id is rejected", async () => {
    const parquet = join(FIXTURES, "taco-fixture.parquet");
    const dataset = await openDataset(parquet, { format: "custom", mapping: { id: "picture_num", prompt: "question", solutions: "solutions", tests: "input_output" } });
    const [zero, twelve] = [await dataset.task(0), await dataset.task(1)];
    await dataset.close();
    // picture_num is "0" on every row but one ("12"): two ids, ten rows rejected by name.
    assert.deepEqual(dataset.summaries.map((s) => s.id), ["0", "12"]);
    assert.equal(dataset.rejected.length, 10);
    assert.deepEqual(dataset.rejected[0], { where: `${parquet} row 1`, field: "picture_num", reason: 'duplicate id "0" (first in record 1)' });
    assert.equal(zero.source, "custom");
    assert.ok(zero.tests.kind === "stdio" && zero.tests.inputs[0] === "5\n");
    assert.ok(twelve.tests.kind === "stdio" && twelve.tests.inputs.length === 2);
    assert.equal(zero.meta.difficulty, "UNKNOWN_DIFFICULTY");
  });

  it("normalized Task JSONL is re-read, validated and re-exported byte for byte", async () => {
    const golden = join(FIXTURES, "golden", "mbppplus-slice.tasks.jsonl");
    assert.equal(await detectFormat(golden), "tasks");
    const dataset = await openDataset(golden);
    const lines = (await allTasks(dataset)).map((t) => `${serializeTask(t)}\n`).join("");
    await dataset.close();
    assert.equal(lines, readFileSync(golden, "utf8"));
  });

  it("custom without a mapping, or TACO-only options on another format, is a usage error", async () => {
    await assert.rejects(openDataset(join(DATA, "mbpp", "mbpp.jsonl"), { format: "custom" }), /needs a field mapping/);
    await assert.rejects(openDataset(join(DATA, "mbpp", "mbpp.jsonl"), { pythonOnly: true }), /pythonOnly only applies to the taco format, not mbpp/);
  });
});
