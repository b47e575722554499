// The offline teacher (codistill-rationalizer) on the real benchmarks (CODISTILL_DATA): every
// HumanEval, MBPP, MBPP+ and TACO example task gives a reasoning context that validateCot accepts,
// the same bytes on every run; known tasks get the steps, formulas, edge cases and intent their
// solutions and prompts call for; a task without a usable solution is refused by name.
import assert from "node:assert/strict";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { RATIONALIZER_MODEL, rationalize, type RationalizedCot } from "../../src/core/cot/rationalizer";
import { looksLikeCode, validateCot } from "../../src/core/cot/validate";
import { openDataset, type OpenDatasetOptions, type Task } from "../../src/core/datasets/index";
import { REPO } from "./helpers";

const DATA = process.env.CODISTILL_DATA ?? join(REPO, "..", "shared", "data");
const TACO_EXAMPLES: OpenDatasetOptions = { format: "custom", mapping: { id: "task_id", prompt: "prompt", solutions: "output" } };

async function tasksOf(path: string, options: OpenDatasetOptions = {}): Promise<Task[]> {
  const dataset = await openDataset(path, options);
  try {
    const tasks: Task[] = [];
    await dataset.forEachTask((task) => void tasks.push(task));
    return tasks;
  } finally {
    await dataset.close();
  }
}

/** Why a task's context is not acceptable, or [] when it is: valid, deterministic, explanatory. */
async function problemsOf(task: Task): Promise<string[]> {
  const first = await rationalize(task);
  const again = await rationalize(task);
  const problems: string[] = [];
  if (JSON.stringify(first) !== JSON.stringify(again)) problems.push(`${task.id}: differs between runs`);
  const verdict = validateCot({ ...first }, []);
  if (verdict.status !== "valid") problems.push(`${task.id}: ${verdict.problems.join("; ")}`);
  if (verdict.problems.length) problems.push(`${task.id}: repaired: ${verdict.problems.join("; ")}`);
  if (first.code !== task.solutions[0]) problems.push(`${task.id}: code is not the reference solution`);
  for (const step of first.steps) {
    if (looksLikeCode(step) || step.includes("\n")) problems.push(`${task.id}: step reads as code: ${step}`);
    if ([...step.matchAll(/`([^`]*)`/g)].some((m) => m[1]!.length > 60)) problems.push(`${task.id}: inline code over 60 characters: ${step}`);
  }
  if (first.intent.includes(">>>") || first.intent.length > 300) problems.push(`${task.id}: intent: ${first.intent}`);
  if (first.steps.length > 20 || first.formulas.length > 8 || first.edgeCases.length > 6) problems.push(`${task.id}: over a cap`);
  return problems;
}

async function allProblems(tasks: Task[]): Promise<string[]> {
  const problems: string[] = [];
  for (const task of tasks) problems.push(...(await problemsOf(task)));
  return problems;
}

function byId(tasks: Task[], id: string): Task {
  const task = tasks.find((t) => t.id === id);
  assert.ok(task, `no task ${id}`);
  return task;
}

let humanEval: Task[];
let mbpp: Task[];
let mbppPlus: Task[];
let tacoExamples: Task[];
let tacoFixture: Task[];

before(async () => {
  [humanEval, mbpp, mbppPlus, tacoExamples, tacoFixture] = await Promise.all([
    tasksOf(join(DATA, "humaneval", "HumanEval.jsonl")),
    tasksOf(join(DATA, "mbpp", "mbpp.jsonl")),
    tasksOf(join(DATA, "evalplus", "MbppPlus-v0.2.0.jsonl.gz")),
    tasksOf(join(DATA, "taco", "taco_generation_example.json"), TACO_EXAMPLES),
    tasksOf(join(REPO, "test", "fixtures", "datasets", "taco-fixture.jsonl")),
  ]);
});

describe("the rationalizer on every benchmark task", () => {
  it("HumanEval: all 164 valid and deterministic", async () => {
    assert.equal(humanEval.length, 164);
    assert.deepEqual(await allProblems(humanEval), []);
  });

  it("MBPP: all 974 valid and deterministic", async () => {
    assert.equal(mbpp.length, 974);
    assert.deepEqual(await allProblems(mbpp), []);
  });

  it("MBPP+: all valid and deterministic", async () => {
    assert.ok(mbppPlus.length > 300);
    assert.deepEqual(await allProblems(mbppPlus), []);
  });

  it("TACO: the 1000 examples and the fixture's stdin tasks, valid and deterministic", async () => {
    assert.equal(tacoExamples.length, 1000);
    assert.deepEqual(await allProblems([...tacoExamples, ...tacoFixture]), []);
  });
});

describe("what the context says for known tasks", () => {
  let cot: RationalizedCot;

  it("HumanEval/0: intent from the docstring without doctests, a loop step, a formula, a guard and tests", async () => {
    const task = byId(humanEval, "HumanEval/0");
    assert.match(task.prompt, />>>/);
    cot = await rationalize(task);
    assert.equal(cot.intent, "Check if in given list of numbers, are any two numbers closer to each other than given threshold.");
    assert.deepEqual(cot.steps, [
      "Loop over each index `idx` and item `elem` of `numbers`.",
      "For each `idx, elem`, loop over each index `idx2` and item `elem2` of `numbers`.",
      "When `idx != idx2`, compute `distance` as `abs(elem - elem2)`.",
      "When `idx != idx2`, if `distance < threshold`, return `True`.",
      "Return `False`.",
    ]);
    assert.deepEqual(cot.formulas, ["elem - elem2"]);
    assert.equal(cot.edgeCases[0], "When `distance < threshold`, `has_close_elements` returns `True` early.");
    assert.ok(cot.edgeCases.slice(1).every((e) => e.startsWith("`has_close_elements([")));
    assert.equal(cot.code, task.solutions[0]);
  });

  it("HumanEval/10: a helper told in one sentence, an empty-input guard and an empty-input test", async () => {
    cot = await rationalize(byId(humanEval, "HumanEval/10"));
    assert.equal(cot.steps[0], "Define a helper `is_palindrome(string)` that returns `string == string[::-1]`.");
    assert.ok(cot.steps.includes("If `not string`, return `''`."));
    assert.ok(cot.edgeCases.includes("When `not string` (an empty or zero `string`), `make_palindrome` returns `''` early."));
    assert.ok(cot.edgeCases.includes("`make_palindrome('') == ''`: an empty input."));
  });

  it("no HumanEval intent keeps a doctest or an example call", async () => {
    for (const task of humanEval) {
      const { intent } = await rationalize(task);
      assert.ok(!/>>>|=>|\bcandidate\(/.test(intent), `${task.id}: ${intent}`);
    }
  });

  it("MBPP: the prose intent, arithmetic as formulas with their target, asserts as tests", async () => {
    cot = await rationalize(byId(mbpp, "mbpp/17"));
    assert.equal(cot.intent, "Write a function to find the perimeter of a square.");
    assert.deepEqual(cot.steps, ["Compute `perimeter` as `4*a`.", "Return `perimeter`."]);
    assert.deepEqual(cot.formulas, ["perimeter = 4*a"]);
    assert.equal(cot.edgeCases[0], "`square_perimeter(5)==20`: the smallest example.");
    const minCost = await rationalize(byId(mbpp, "mbpp/1"));
    assert.ok(minCost.formulas.includes("tc[i][j] = min(tc[i-1][j-1], tc[i-1][j], tc[i][j-1]) + cost[i][j]"));
    // `i+1` in `range(1, m+1)` is index noise, not a formula.
    assert.ok(!minCost.formulas.some((f) => f === "m+1"));
  });

  it("MBPP+: the module docstring's first sentence, call tests with what makes them edge cases", async () => {
    cot = await rationalize(byId(mbppPlus, "Mbpp/2"));
    assert.equal(cot.intent, "Write a function to find the shared elements from the given two lists.");
    assert.equal(cot.edgeCases[0], "`similar_elements([], [])`: an empty input.");
  });

  it("TACO stdin task: a read-input step, the formulas, a story intent with its task sentence, stdio tests", async () => {
    cot = await rationalize(byId(tacoFixture, "taco/0"));
    assert.equal(cot.intent, "The city park of IT City contains n east to west paths and n north to south paths. Help the park administration count the number of ways to place the benches.");
    assert.equal(cot.steps[0], "Read an input line and parse it as an integer into `n`.");
    assert.equal(cot.steps[cot.steps.length - 1], "Print `cn5 * an5`.");
    assert.equal(cot.formulas[0], "cn5 = n * (n - 1) // 2 * (n - 2) // 3 * (n - 3) // 4 * (n - 4) // 5");
    assert.deepEqual(cot.edgeCases, ["Input `5` gives `120`."]);
    const example = await rationalize(byId(tacoExamples, "0"));
    assert.deepEqual(example.edgeCases, ["The statement's example: input `5` gives `120`."]);
  });

  it("TACO: every stdin program reads its input in some step", async () => {
    const readers = tacoExamples.filter((t) => /\binput\(\)|sys\.stdin/.test(t.solutions[0] ?? "") && !/^\s*(?:def|class)\s/m.test(t.solutions[0] ?? ""));
    assert.ok(readers.length > 100);
    for (const task of readers) {
      const { steps } = await rationalize(task);
      assert.ok(
        steps.some((s) => /\bread\b|\binput\b/i.test(s)),
        `${task.id}: ${steps.join(" | ")}`,
      );
    }
  });
});

describe("the rationalizer on made-up tasks", () => {
  const task = (solution: string | undefined, extra: Partial<Task> = {}): Task => ({
    id: "custom/7",
    source: "custom",
    prompt: "Add up the numbers. The list may be empty.",
    solutions: solution === undefined ? [] : [solution],
    tests: { kind: "assert", code: "" },
    meta: {},
    ...extra,
  });

  it("names itself codistill-rationalizer", () => {
    assert.equal(RATIONALIZER_MODEL, "codistill-rationalizer");
  });

  it("refuses a task without a solution, or with one that is blank or not Python, naming the task", async () => {
    await assert.rejects(rationalize(task(undefined)), /^Error: custom\/7: no reference solution/);
    await assert.rejects(rationalize(task("  \n")), /custom\/7: no reference solution/);
    await assert.rejects(rationalize(task("}}} ((( ")), /custom\/7: the reference solution does not parse as Python/);
    await assert.rejects(rationalize(task("import os\n# nothing else\n")), /custom\/7: the reference solution has no statement to explain/);
  });

  it("accumulation, empty-input guard, stdio test, intent fallback", async () => {
    const solution = "def total(xs):\n    if not xs:\n        return 0\n    s = 0\n    for x in xs:\n        s += x\n    return s\n";
    const cot = await rationalize(task(solution, { prompt: "   ", entryPoint: "total", tests: { kind: "stdio", inputs: ["1 2 3\n", ""], outputs: ["6\n", "0\n"] } }));
    assert.deepEqual(cot, {
      intent: "Implement `total`.",
      steps: ["If `not xs`, return `0`.", "Set `s` to `0`.", "For each `x` in `xs`, add `x` to `s`.", "Return `s`."],
      formulas: [],
      edgeCases: ["When `not xs` (an empty or zero `xs`), `total` returns `0` early.", "An empty input gives `0`.", "Input `1 2 3` gives `6`."],
      code: solution,
    });
  });

  it("caps steps at 20 with a summary, and inline code at 60 characters", async () => {
    const lines = Array.from({ length: 30 }, (_, i) => `v${i} = compute_something_rather_long(first_argument_${i}, second_argument_${i}, third)`);
    const cot = await rationalize(task(lines.join("\n")));
    assert.equal(cot.steps.length, 20);
    assert.equal(cot.steps[19], "Then 11 assignments follow (11 more statements).");
    assert.equal(cot.steps[0], "Compute `v0` as `compute_something_rather_long(first_argument_0, second_argu…`.");
  });

  it("the same task rationalized concurrently gives the same context", async () => {
    const solution = "n = int(input())\nprint(n * (n + 1) // 2)\n";
    const results = await Promise.all(Array.from({ length: 8 }, () => rationalize(task(solution))));
    for (const result of results) assert.deepEqual(result, results[0]);
    assert.deepEqual(results[0]!.steps, ["Read an input line and parse it as an integer into `n`.", "Print `n * (n + 1) // 2`."]);
    assert.deepEqual(results[0]!.formulas, ["n * (n + 1) // 2"]);
  });
});
