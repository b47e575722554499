import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Task } from "../../src/core/datasets/task";
import { referenceSolution, taskAsPythonFile, taskFileName } from "../../src/core/datasets/taskFile";

const humaneval: Task = {
  id: "HumanEval/0",
  source: "humaneval",
  prompt: 'def add(a, b):\n    """Add two numbers."""\n',
  entryPoint: "add",
  solutions: ['def add(a, b):\n    """Add two numbers."""\n    return a + b\n'],
  tests: { kind: "assert", code: "def check(candidate):\n    assert candidate(1, 2) == 3\n\ncheck(add)\n" },
  meta: {},
};

const taco: Task = {
  id: "taco/7",
  source: "taco",
  prompt: 'Read n and print n * 2.\n\nA path like C:\\temp and a """quote""".',
  solutions: ["print(int(input()) * 2)"],
  tests: { kind: "stdio", inputs: ["2\n"], outputs: ["4\n"] },
  difficulty: "EASY",
  meta: {},
};

describe("a task as a Python file", () => {
  it("keeps a HumanEval prompt as the code it is", () => {
    assert.equal(taskAsPythonFile(humaneval), humaneval.prompt);
    assert.equal(referenceSolution(humaneval), humaneval.solutions[0]);
  });

  it("wraps a text prompt in a docstring that Python can parse", () => {
    const file = taskAsPythonFile(taco);
    assert.equal(
      file,
      '"""\ntaco/7 (taco, EASY)\n\nRead n and print n * 2.\n\nA path like C:\\\\temp and a \\"\\"\\"quote\\"\\"\\".\n"""\n\n# Read the input from stdin and print the answer to stdout.\n',
    );
    assert.equal(referenceSolution(taco), "print(int(input()) * 2)\n");
  });

  it("appends the starter code, or names the function to write", () => {
    assert.match(taskAsPythonFile({ ...taco, starterCode: "def solve(n):\n\t" }), /"""\n\ndef solve\(n\):\n$/);
    const mbpp: Task = { ...taco, id: "mbpp/2", source: "mbpp", entryPoint: "similar_elements", tests: { kind: "assert", code: "assert True" } };
    assert.match(taskAsPythonFile(mbpp), /# Write the function `similar_elements` here\.\n$/);
  });

  it("makes safe file names", () => {
    assert.equal(taskFileName(humaneval), "HumanEval_0.py");
    assert.equal(taskFileName({ id: "Mbpp/2" }, ".reference"), "Mbpp_2.reference.py");
    assert.equal(taskFileName({ id: "///" }), "task.py");
  });

  it("says when there is no reference solution", () => {
    assert.equal(referenceSolution({ ...taco, solutions: [] }), "# taco/7 has no reference solution.\n");
  });
});
