// src/core/structure on real HumanEval and MBPP solutions and on hand-made variants: the scores
// per function, what the findings say, where they point, and how functions are paired.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { loadStructureComparer, type StructureComparer, type UnitComparison } from "../../src/core/structure/index";
import { pythonGrammar } from "../../src/core/python/grammar";
import { REPO } from "./helpers";

const DATA = process.env.CODISTILL_DATA ?? join(REPO, "..", "shared", "data");

function humanEval(taskId: string): string {
  for (const line of readFileSync(join(DATA, "humaneval", "HumanEval.jsonl"), "utf8").split("\n")) {
    if (!line) continue;
    const row = JSON.parse(line) as { task_id: string; prompt: string; canonical_solution: string };
    if (row.task_id === taskId) return row.prompt + row.canonical_solution;
  }
  throw new Error(`no ${taskId} in HumanEval.jsonl`);
}

function mbppSolutions(): { id: number; code: string }[] {
  return readFileSync(join(DATA, "mbpp", "mbpp.jsonl"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { task_id: number; code: string })
    .map((row) => ({ id: row.task_id, code: row.code.replace(/\r\n/g, "\n") }));
}

function only(units: UnitComparison[]): UnitComparison {
  assert.equal(units.length, 1, `expected one compared function, got ${units.map((u) => u.name).join(", ")}`);
  return units[0]!;
}

let comparer: StructureComparer;
before(async () => {
  comparer = await loadStructureComparer();
});

const SUM = `def total_of(nums):
    total = 0
    for x in nums:
        total += x
    return total
`;

describe("structural comparison", () => {
  it("a solution against itself: full scores, nothing to say", () => {
    const code = humanEval("HumanEval/0");
    const unit = only(comparer.compare(code, code).units);
    assert.equal(unit.name, "has_close_elements");
    assert.equal(unit.syntax, 1);
    assert.equal(unit.dataflow, 1);
    assert.deepEqual(unit.findings, []);
    assert.equal(unit.severity, "none");
    assert.equal(unit.scores, "syntax 1.00 · dataflow 1.00");
  });

  it("HumanEval/0 with its loops deleted: the missing loop is named, and located in the reference", () => {
    const reference = humanEval("HumanEval/0");
    const withoutLoops = reference.replace(/    for idx, elem[\s\S]*?return True\n/, "");
    assert.ok(!withoutLoops.includes("for "), "the variant has no loop left");
    const unit = only(comparer.compare(reference, withoutLoops).units);
    assert.ok(unit.syntax < 1 && unit.syntax > 0, `syntax ${unit.syntax}`);
    assert.notEqual(unit.severity, "none");
    const loop = unit.findings.find((f) => f.message === "the reference loops inside `has_close_elements`; this version has no loop");
    assert.ok(loop, unit.message);
    const loopLine = reference.split("\n").findIndex((line) => line.startsWith("    for idx, elem"));
    assert.equal(loop.reference?.start.row, loopLine);
    assert.match(unit.message, /^`has_close_elements` differs in structure from the reference: syntax 0\.\d\d · dataflow \d\.\d\d\.\n- the reference loops/);
    assert.equal(unit.document.anchor.start.row, 3, "the diagnostic sits on the function's name");
  });

  it("a variable that no longer depends on a parameter, and a result that no longer does", () => {
    const broken = SUM.replace("for x in nums", "for x in range(10)");
    const unit = only(comparer.compare(SUM, broken).units);
    const messages = unit.findings.map((f) => f.message);
    assert.ok(messages.includes("in the reference `total` is computed from `nums`; here `total` never depends on `nums`"), messages.join("\n"));
    assert.ok(messages.includes("in the reference the result of `total_of` depends on `nums`; here it never does"), messages.join("\n"));
    assert.ok(unit.dataflow !== null && unit.dataflow < 1);
    const total = unit.findings.find((f) => f.message.startsWith("in the reference `total`"))!;
    assert.equal(total.reference?.start.row, 3, "points at the reference's `total += x`");
  });

  it("renamed variables keep the dataflow findings quiet", () => {
    const renamed = SUM.replace(/total/g, "acc").replace(/\bx\b/g, "item").replace("def acc_of", "def total_of");
    const unit = only(comparer.compare(SUM, renamed).units);
    assert.deepEqual(unit.findings, []);
    assert.equal(unit.dataflow, 1, "dataflow match normalizes variable names");
  });

  it("control structures: extra loop, lost branch, lost recursion, lost try, lost return", () => {
    const reference = `def fact(n):
    try:
        if n <= 1:
            return 1
        return n * fact(n - 1)
    except RecursionError:
        return None
`;
    const iterative = `def fact(n):
    result = 1
    for k in range(2, n + 1):
        result *= k
    print(result)
`;
    const messages = only(comparer.compare(reference, iterative).units).findings.map((f) => f.message);
    assert.deepEqual(messages.slice(0, 5), [
      "this version loops inside `fact`; the reference has no loop",
      "the reference branches (if) inside `fact`; this version has no condition",
      "the reference is recursive (`fact` calls itself); this version is not",
      "the reference handles exceptions (try) inside `fact`; this version does not",
      "the reference returns a value from `fact`; this version never returns one",
    ]);
  });

  it("loop nesting: a quadratic reference against a single loop", () => {
    const reference = humanEval("HumanEval/0");
    const single = `from typing import List


def has_close_elements(numbers: List[float], threshold: float) -> bool:
    ordered = sorted(numbers)
    for i in range(1, len(ordered)):
        if ordered[i] - ordered[i - 1] < threshold:
            return True
    return False
`;
    const messages = only(comparer.compare(reference, single).units).findings.map((f) => f.message);
    assert.ok(messages.includes("the reference nests 2 loops inside `has_close_elements`; this version nests 1"), messages.join("\n"));
  });

  it("a comprehension counts as iteration", () => {
    const comprehension = "def total_of(nums):\n    return sum([x for x in nums])\n";
    const messages = only(comparer.compare(SUM, comprehension).units).findings.map((f) => f.message);
    assert.ok(!messages.some((m) => m.includes("loop")), messages.join("\n"));
  });

  it("functions pair by name, then by position; methods are Class.method; missing ones are listed", () => {
    const reference = `class Solution:
    def solve(self, nums):
        return sorted(nums)

    def helper(self, x):
        return x * 2

def unused():
    return 0
`;
    const document = `class Solution:
    def helper(self, x):
        return x + x

    def solve_it(self, nums):
        nums.sort()
        return nums
`;
    const report = comparer.compare(reference, document);
    assert.deepEqual(
      report.units.map((u) => [u.name, u.referenceName, u.matchedBy]),
      [
        ["Solution.helper", "Solution.helper", "name"],
        ["Solution.solve_it", "Solution.solve", "position"],
      ],
    );
    assert.deepEqual(report.missing.map((m) => m.name), ["unused"]);
    assert.match(report.units[1]!.message, /\(compared with the reference's `Solution\.solve`\)/);
    assert.equal(report.units[1]!.document.anchor.start.column, 8, "a method's anchor is its indented name");
  });

  it("scripts without functions compare as whole modules", () => {
    const reference = "n = int(input())\ntotal = 0\nfor i in range(n):\n    total += int(input())\nprint(total)\n";
    const document = "n = int(input())\nprint(n)\n";
    const unit = only(comparer.compare(reference, document).units);
    assert.equal(unit.name, "<module>");
    assert.equal(unit.findings[0]?.message, "the reference loops; this version has no loop");
    assert.match(unit.message, /^This file differs in structure from the reference/);
  });

  it("thresholds decide the severity", () => {
    const broken = SUM.replace("for x in nums", "for x in range(10)");
    const unit = only(comparer.compare(SUM, broken).units);
    const low = Math.min(unit.syntax, unit.dataflow ?? 1);
    assert.equal(only(comparer.compare(SUM, broken, { informationBelow: low + 0.01, warningBelow: low - 0.01 }).units).severity, "information");
    assert.equal(only(comparer.compare(SUM, broken, { informationBelow: 1, warningBelow: low + 0.01 }).units).severity, "warning");
    assert.equal(only(comparer.compare(SUM, broken, { informationBelow: low - 0.01, warningBelow: 0 }).units).severity, "none");
  });
});

describe("structural comparison on real MBPP solutions", () => {
  const solutions = mbppSolutions();

  it("every solution against itself scores 1 with no findings", () => {
    for (const { id, code } of solutions.slice(0, 200)) {
      for (const unit of comparer.compare(code, code).units) {
        assert.equal(unit.syntax, 1, `MBPP ${id} ${unit.name}`);
        assert.ok(unit.dataflow === null || unit.dataflow === 1, `MBPP ${id} ${unit.name}: dataflow ${unit.dataflow}`);
        assert.deepEqual(unit.findings, [], `MBPP ${id} ${unit.name}`);
      }
    }
  });

  it("deleting a solution's only loop is always reported, pointing at that loop", async () => {
    const grammar = await pythonGrammar();
    const parser = grammar.newParser();
    let checked = 0;
    for (const { id, code } of solutions) {
      const tree = parser.parse(code)!;
      const functions = tree.rootNode.namedChildren.filter((n) => n?.type === "function_definition");
      const loops = tree.rootNode.descendantsOfType(["for_statement", "while_statement", "list_comprehension", "set_comprehension", "dictionary_comprehension", "generator_expression"]);
      const loop = loops[0];
      if (functions.length !== 1 || loops.length !== 1 || loop?.type !== "for_statement") {
        tree.delete();
        continue;
      }
      // The loop becomes `pass`, so the function still parses.
      const indent = " ".repeat(loop.startPosition.column);
      const variant = `${code.slice(0, loop.startIndex)}pass\n${indent}${code.slice(loop.endIndex).replace(/^\n/, "")}`;
      const loopRow = loop.startPosition.row;
      tree.delete();
      // A for/else, or a loop that is a one-line suite, does not leave valid Python behind.
      const variantTree = parser.parse(variant)!;
      const parses = !variantTree.rootNode.hasError;
      variantTree.delete();
      if (!parses) continue;
      const unit = only(comparer.compare(code, variant).units);
      const finding = unit.findings.find((f) => f.message.startsWith("the reference loops inside"));
      assert.ok(finding, `MBPP ${id}: ${unit.message}\n--- variant ---\n${variant}`);
      assert.equal(finding.reference?.start.row, loopRow, `MBPP ${id}`);
      assert.ok(unit.syntax < 1, `MBPP ${id}`);
      checked++;
    }
    assert.ok(checked >= 100, `only ${checked} MBPP solutions with one function and one for loop`);
  });
});
