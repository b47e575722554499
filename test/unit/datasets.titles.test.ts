// Titles in the Dataset Browser's list: the first sentence of the task's description, never a
// heading word such as "Task" (HumanEval/112's docstring starts with one), never empty.
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { openDataset, type Task } from "../../src/core/datasets/index";
import { titleOf } from "../../src/core/datasets/summary";
import { REPO } from "./helpers";

const DATA = process.env.CODISTILL_DATA ?? join(REPO, "..", "shared", "data");
const FIXTURES = join(REPO, "test", "fixtures", "datasets");

/** One word, or a word and a colon: what a heading says, not a title. */
const GENERIC = /^[\p{L}\p{N}'-]*:?$/u;

async function titles(file: string): Promise<Map<string, string>> {
  const dataset = await openDataset(file);
  try {
    assert.deepEqual(dataset.stats().rejected, []);
    return new Map(dataset.summaries.map((s) => [s.id, s.title]));
  } finally {
    await dataset.close();
  }
}

function assertUseful(all: Map<string, string>): void {
  for (const [id, title] of all) {
    assert.ok(title.trim() !== "", `${id}: empty title`);
    assert.ok(!GENERIC.test(title.trim()), `${id}: generic title ${JSON.stringify(title)}`);
    assert.ok(title !== id, `${id}: the title is only the id`);
    assert.ok(!/^["'\s]/.test(title), `${id}: title ${JSON.stringify(title)} starts with a quote or a space`);
    assert.ok(title.length <= 120, `${id}: title longer than 120 characters`);
    assert.ok(title.split(" ").length >= 4, `${id}: title of fewer than four words: ${JSON.stringify(title)}`);
  }
}

const task = (prompt: string, extra: Partial<Task> = {}): Task => ({
  id: "t/1",
  source: "humaneval",
  prompt,
  solutions: [],
  tests: { kind: "assert", code: "" },
  meta: {},
  ...extra,
});

describe("task titles", () => {
  it("HumanEval: the first sentence of the entry point's docstring, for all 164 tasks", async () => {
    const all = await titles(join(DATA, "humaneval", "HumanEval.jsonl"));
    assert.equal(all.size, 164);
    assertUseful(all);
    // The docstring starts with "Task", a heading: the title is the sentence after it.
    assert.match(all.get("HumanEval/112")!, /^We are given two strings s and c, you have to deleted all the characters in s/);
    assert.match(all.get("HumanEval/66")!, /^Write a function that takes a string as input and returns the sum of the upper characters/);
    // A docstring opened with four quotes: the stray quote is not part of the title.
    assert.equal(all.get("HumanEval/142"), "This function will take a list of integers.");
    // A helper with its own docstring comes before the entry point: the entry point's is the title.
    assert.equal(all.get("HumanEval/38"), "takes as input string encoded with encode_cyclic function.");
    assert.equal(all.get("HumanEval/10"), "Find the shortest palindrome that begins with a supplied string.");
    // FIX = """Add more test cases.""" before the function is not its description.
    assert.match(all.get("HumanEval/64")!, /^Write a function vowels_count which takes a string/);
    // The first sentence, not the first line, and "Given an integer." is too short alone.
    assert.equal(all.get("HumanEval/1"), "Input to this function is a string containing multiple groups of nested parentheses.");
    assert.equal(all.get("HumanEval/155"), "Given an integer. return a tuple that has the number of even and odd digits respectively.");
    assert.equal(all.get("HumanEval/0"), "Check if in given list of numbers, are any two numbers closer to each other than given threshold.");
  });

  it("MBPP, MBPP sanitized and the EvalPlus files: none generic, none empty", async () => {
    for (const [file, rows] of [
      ["mbpp/mbpp.jsonl", 974],
      ["mbpp/sanitized-mbpp.json", 427],
      ["evalplus/HumanEvalPlus-v0.1.10.jsonl.gz", 164],
      ["evalplus/MbppPlus-v0.2.0.jsonl.gz", 378],
    ] as const) {
      const all = await titles(join(DATA, file));
      assert.equal(all.size, rows, file);
      assertUseful(all);
    }
    const mbpp = await titles(join(DATA, "mbpp", "mbpp.jsonl"));
    assert.equal(mbpp.get("mbpp/2"), "Write a function to find the similar elements from the given two tuple lists.");
  });

  it("TACO: none empty, none a heading", async () => {
    const all = await titles(join(FIXTURES, "taco-fixture.parquet"));
    assert.ok(all.size > 0);
    for (const [id, title] of all) {
      assert.ok(title.trim() && !GENERIC.test(title.trim()) && !/^-{3,}/.test(title), `${id}: ${JSON.stringify(title)}`);
    }
  });

  it("skips headings, stops at examples and keeps abbreviations and decimals inside a sentence", () => {
    assert.equal(titleOf(task('def f(x):\n    """Task\n    Return x doubled, e.g. 2 for 1.\n    Example:\n    >>> f(1)\n    2\n    """\n', { entryPoint: "f" })), "Return x doubled, e.g. 2 for 1.");
    assert.equal(titleOf(task('def f(x):\n    """\n    Examples:\n    >>> f(1.5)\n    """\n', { entryPoint: "f" })), ">>> f(1.5)");
    assert.equal(titleOf(task("Note:\nRound 3.5 up to the next integer and print it\n\nInput\n3.5", { source: "taco" })), "Round 3.5 up to the next integer and print it");
    assert.equal(titleOf(task("-----Problem-----\nChef has N coins. He gives one away each day.", { source: "taco" })), "Chef has N coins.");
    // Nothing but a heading: the heading rather than nothing; nothing at all: the id.
    assert.equal(titleOf(task("Task", { source: "custom" })), "Task");
    assert.equal(titleOf(task("   \n", { source: "custom" })), "t/1");
    const long = titleOf(task(`${"word ".repeat(60)}end.`, { source: "mbpp" }));
    assert.equal(long.length, 120);
    assert.ok(long.endsWith("…"));
  });
});
