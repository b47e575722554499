// The tests' smallest cases as edge cases: the shortest asserts (`f([]) == 0`), call tests
// (`f(0)` returns `1`) or stdin/stdout pairs (input `5` gives `120`), with what makes them
// special when the arguments show it (an empty input, zero, a negative number, one element).
import type { Node } from "web-tree-sitter";
import { floatText, isMarkedFloat, sourceKeyOrder } from "../../datasets/json";
import type { Task } from "../../datasets/task";
import { argumentsOf, calleeOf, clip, code, emptyLiteralKind, field, flatText, namedKids, withPythonTree } from "./syntax";

/** Two or three tests say what the boundary looks like; more would crowd out the reasoning. */
export const MAX_TEST_CASES = 3;
const TEST_CHARS = 100;

/** The smallest tests, phrased, smallest first; without tests, the statement's own example. */
export async function testCasesOf(task: Task, entryPoint: string | undefined): Promise<string[]> {
  const cases = await storedTestCases(task, entryPoint);
  if (cases.length) return cases;
  const example = statementExample(task.prompt);
  return example ? [`The statement's example: input ${code(oneLine(example.input), TEST_CHARS)} gives ${code(oneLine(example.output), TEST_CHARS)}.`] : [];
}

async function storedTestCases(task: Task, entryPoint: string | undefined): Promise<string[]> {
  const tests = task.tests;
  switch (tests.kind) {
    case "assert":
      return tests.code.trim() ? await withPythonTree(tests.code, (root) => assertCases(root, entryPoint)) : [];
    case "call":
      return callCases(tests.fnName || entryPoint || "f", tests.inputs, tests.outputs);
    case "stdio":
      return stdioCases(tests.inputs, tests.outputs);
  }
}

function smallest<T extends { text: string }>(cases: T[]): T[] {
  return cases
    .map((c, i) => ({ c, i }))
    .sort((x, y) => x.c.text.length - y.c.text.length || x.i - y.i)
    .slice(0, MAX_TEST_CASES)
    .map(({ c }) => c);
}

// --- assert tests ----------------------------------------------------------------------------

/** Names a self-contained test may use besides the function under test. */
const TEST_BUILTINS = new Set(["abs", "set", "sorted", "tuple", "list", "math", "isclose", "round", "len", "str", "int", "float", "frozenset", "dict", "all", "any", "sum", "min", "max", "inf", "nan", "type", "bool"]);

function assertCases(root: Node, entryPoint: string | undefined): string[] {
  const cases: { text: string; call: Node }[] = [];
  for (const statement of root.descendantsOfType("assert_statement")) {
    const condition = statement && namedKids(statement)[0];
    const call = condition && callUnderTest(condition, entryPoint);
    if (!condition || !call || !selfContained(condition, entryPoint)) continue;
    let text = flatText(condition);
    if (entryPoint) text = text.replace(/\bcandidate\(/g, `${entryPoint}(`);
    cases.push({ text, call });
  }
  return smallest(cases).map(({ text, call }, i) => `${code(text, TEST_CHARS)}: ${argumentNote(argumentsOf(call)) ?? exampleNote(i)}.`);
}

/** The first call of the function under test (`candidate` in HumanEval, the entry point in MBPP). */
function callUnderTest(condition: Node, entryPoint: string | undefined): Node | undefined {
  for (const call of condition.descendantsOfType("call")) {
    const callee = call ? calleeOf(call) : "";
    if (call && (callee === "candidate" || callee === entryPoint || (!entryPoint && /^\w+$/.test(callee) && !TEST_BUILTINS.has(callee)))) return call;
  }
  return undefined;
}

/** Only literal arguments: a test built from loop variables or helpers says nothing on its own. */
function selfContained(condition: Node, entryPoint: string | undefined): boolean {
  for (const id of condition.descendantsOfType("identifier")) {
    if (!id) continue;
    const parent = id.parent;
    if (parent?.type === "keyword_argument" && field(parent, "name")?.equals(id)) continue;
    if (parent?.type === "attribute" && field(parent, "attribute")?.equals(id)) continue;
    if (id.text === "candidate" || id.text === entryPoint || TEST_BUILTINS.has(id.text)) continue;
    if (!entryPoint && parent?.type === "call" && field(parent, "function")?.equals(id)) continue;
    return false;
  }
  return true;
}

/** What the arguments make special, read from their syntax. */
function argumentNote(args: Node[]): string | undefined {
  if (args.some((a) => emptyLiteralKind(a))) return "an empty input";
  if (args.some((a) => a.type === "integer" && Number(a.text) === 0)) return "zero";
  if (args.some((a) => a.type === "unary_operator" && a.text.trim().startsWith("-"))) return "a negative number";
  if (args.some((a) => a.type === "list" && namedKids(a).length === 1)) return "a single-element list";
  return undefined;
}

function exampleNote(rank: number): string {
  return rank === 0 ? "the smallest example" : "a small example";
}

// --- call tests ------------------------------------------------------------------------------

function callCases(fnName: string, inputs: unknown[][], outputs: unknown[] | null): string[] {
  const cases = inputs.map((args, i) => ({ text: `${fnName}(${args.map((_, j) => pythonLiteral(args, j)).join(", ")})`, args, i }));
  return smallest(cases).map(({ text, args, i }, rank) => {
    const note = valueNote(args) ?? exampleNote(rank);
    const call = code(text, TEST_CHARS);
    return outputs && i < outputs.length ? `${call} returns ${code(clip(pythonLiteral(outputs, i), TEST_CHARS), TEST_CHARS)}: ${note}.` : `${call}: ${note}.`;
  });
}

/** The same notes as argumentNote, read from JSON values. */
function valueNote(args: unknown[]): string | undefined {
  const isEmpty = (v: unknown) => v === "" || (Array.isArray(v) && v.length === 0) || (v !== null && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 0);
  if (args.some(isEmpty)) return "an empty input";
  if (args.some((v) => v === 0 || v === 0n)) return "zero";
  if (args.some((v) => (typeof v === "number" || typeof v === "bigint") && v < 0)) return "a negative number";
  if (args.some((v) => Array.isArray(v) && v.length === 1)) return "a single-element list";
  return undefined;
}

/** holder[key] as Python writes it: True/False/None, floats as floats (1.0), dict keys in the data's order. */
export function pythonLiteral(holder: object, key: string | number): string {
  const value = (holder as Record<string | number, unknown>)[key];
  if (value === null || value === undefined) return "None";
  switch (typeof value) {
    case "boolean":
      return value ? "True" : "False";
    case "bigint":
      return value.toString();
    case "number":
      if (Number.isNaN(value)) return "float('nan')";
      if (!Number.isFinite(value)) return value > 0 ? "float('inf')" : "-float('inf')";
      return isMarkedFloat(holder, key) ? floatText(value) : String(value);
    case "string":
      return JSON.stringify(value);
    case "object":
      if (Array.isArray(value)) return `[${value.map((_, i) => pythonLiteral(value, i)).join(", ")}]`;
      return `{${(sourceKeyOrder(value) ?? Object.keys(value)).map((k) => `${JSON.stringify(k)}: ${pythonLiteral(value, k)}`).join(", ")}}`;
    default:
      return String(value);
  }
}

// --- stdin/stdout tests ----------------------------------------------------------------------

function stdioCases(inputs: string[], outputs: string[]): string[] {
  const cases = inputs.map((input, i) => ({ text: `${input}\n${outputs[i] ?? ""}`, input, output: outputs[i] }));
  return smallest(cases).map(({ input, output }) => {
    const given = oneLine(input) ? `Input ${code(oneLine(input), TEST_CHARS)}` : "An empty input";
    return output === undefined ? `${given} is a test input.` : `${given} gives ${oneLine(output) ? code(oneLine(output), TEST_CHARS) : "no output"}.`;
  });
}

/** Lines of a stdin/stdout text joined by ⏎, so a test stays on one line. */
function oneLine(text: string): string {
  return text
    .trim()
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line)
    .join(" ⏎ ");
}

// --- the statement's example (TACO rows without tests) -----------------------------------------

// Headings stay on their line ([ \t], not \s): "Output\n120" must not read 120 as "Output 120".
const EXAMPLES_HEADING = /^[- \t#*]*(?:examples?|sample tests?)[- \t#*:]*$/im;
const INPUT_HEADING = /^[- \t#*]*(sample[ \t]+)?input(?:[ \t]*\d+)?[- \t#*:]*$/gim;
const OUTPUT_HEADING = /^[- \t#*]*(?:sample[ \t]+)?output(?:[ \t]*\d+)?[- \t#*:]*$/im;
/** Where an example's output ends: a heading, an explanation, TACO's answer marker. */
const OUTPUT_END = /^\s*(?:-{2,}|#|\*\*|(?:sample\s+)?input\b|note\b|explanation\b|use (?:standard input|call-based) format|answer:)/i;
const INLINE_EXAMPLE = /^[ \t]*input[ \t]*:[ \t]*(\S.*)\n[ \t]*output[ \t]*:[ \t]*(\S.*)$/im;

/**
 * The first worked example of a prose statement: an "Input"/"Output" pair after its Examples
 * heading, a "Sample Input"/"Sample Output" pair, or LeetCode's "Input: ... Output: ..." lines.
 */
export function statementExample(prompt: string): { input: string; output: string } | undefined {
  const examples = EXAMPLES_HEADING.exec(prompt);
  const region = examples ? prompt.slice(examples.index + examples[0].length) : prompt;
  INPUT_HEADING.lastIndex = 0;
  for (let heading = INPUT_HEADING.exec(region); heading; heading = INPUT_HEADING.exec(region)) {
    // Before an Examples heading, a bare "Input" heads the input format, not an example.
    if (!examples && !heading[1]) continue;
    const rest = region.slice(heading.index + heading[0].length);
    const outputHeading = OUTPUT_HEADING.exec(rest);
    if (!outputHeading) break;
    const input = rest.slice(0, outputHeading.index).trim();
    const output = outputBlock(rest.slice(outputHeading.index + outputHeading[0].length));
    if (input && output) return { input, output };
  }
  const inline = INLINE_EXAMPLE.exec(prompt);
  return inline ? { input: inline[1]!.trim(), output: inline[2]!.trim() } : undefined;
}

/** The output lines: up to a blank line once something was read, or the next heading. */
function outputBlock(text: string): string {
  const lines: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (OUTPUT_END.test(line)) break;
    if (!line.trim()) {
      if (lines.length) break;
      continue;
    }
    lines.push(line.trim());
  }
  return lines.join("\n");
}
