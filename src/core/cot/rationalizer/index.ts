// codistill-rationalizer: the offline teacher, used when no teacher endpoint is configured (demos,
// tests, CI). It writes the reasoning context a teacher would, derived from the task alone:
// - intent: the problem's first sentence(s), from the entry point's docstring or the prose
//   statement (intent.ts);
// - steps: the reference solution read aloud with tree-sitter, one sentence per statement,
//   nesting flattened into lead-ins (steps.ts, statements.ts);
// - formulas: its outermost arithmetic, as source text (formulas.ts);
// - edge cases: its guards and special-case branches (edgeCases.ts), then the tests' smallest
//   cases (examples.ts);
// - code: the reference solution unchanged, for the sandbox to verify.
// Everything is a function of the task's text, so the same task gives byte-identical output.
import type { Task } from "../../datasets/task";
import { conditionCasesOf } from "./edgeCases";
import { MAX_TEST_CASES, testCasesOf } from "./examples";
import { formulasOf } from "./formulas";
import { intentOf } from "./intent";
import { stepsOf } from "./steps";
import { withPythonTree } from "./syntax";

export const RATIONALIZER_MODEL = "codistill-rationalizer";

export interface RationalizedCot {
  intent: string;
  steps: string[];
  formulas: string[];
  edgeCases: string[];
  code?: string;
}

/** Edge cases in all; the solution's own branches come first, up to MAX_BRANCH_CASES of them. */
const MAX_EDGE_CASES = 6;
const MAX_BRANCH_CASES = 4;

/** The reasoning context for a task; throws, naming the task, when it has no usable reference solution. */
export async function rationalize(task: Task): Promise<RationalizedCot> {
  const solution = task.solutions[0];
  if (!solution?.trim()) throw new Error(`${task.id}: no reference solution to rationalize`);
  const entryPoint = task.entryPoint ?? (task.tests.kind === "call" ? task.tests.fnName : undefined);
  const fromCode = await withPythonTree(solution, (root) => ({
    steps: stepsOf(root, entryPoint),
    formulas: formulasOf(root),
    branchCases: conditionCasesOf(root),
    parses: !root.hasError,
  }));
  if (!fromCode.steps.length) {
    throw new Error(`${task.id}: the reference solution ${fromCode.parses ? "has no statement to explain" : "does not parse as Python"}`);
  }
  const intent = await intentOf(task);
  const testCases = await testCasesOf(task, entryPoint);
  return { intent, steps: fromCode.steps, formulas: fromCode.formulas, edgeCases: edgeCasesOf(fromCode.branchCases, testCases), code: solution };
}

/** Branch cases first (the reasoning's own), then enough tests to fill the list. */
function edgeCasesOf(branchCases: string[], testCases: string[]): string[] {
  const branches = branchCases.slice(0, MAX_BRANCH_CASES);
  const tests = testCases.slice(0, Math.min(MAX_TEST_CASES, MAX_EDGE_CASES - branches.length));
  return [...new Set([...branches, ...tests])];
}
