// One English sentence per simple statement: assignments, calls, prints, input reads, returns,
// raises and jumps. Each sentence names what the statement does and quotes only short inline
// code, so the step explains the line instead of repeating it. Compound statements (loops,
// branches, try, with) are walked in steps.ts, which nests these sentences under their context.
import type { Node } from "web-tree-sitter";
import { counted, listed } from "./prose";
import { argumentsOf, argumentText, calleeOf, code, emptyLiteralKind, field, flatText, isLiteral, namedKids, operatorOf, unparenthesized } from "./syntax";

/** What a step is about; the summary of steps past the cap counts them by kind. */
export type StepKind = "input" | "assignment" | "update" | "loop" | "condition" | "call" | "output" | "return" | "raise" | "jump" | "definition" | "other";

export interface Step {
  text: string;
  kind: StepKind;
}

const step = (kind: StepKind, text: string): Step => ({ kind, text });

/** The sentence for a simple statement; undefined for statements with nothing to explain (imports, docstrings, `global`). */
export function simpleStatement(node: Node): Step | undefined {
  switch (node.type) {
    case "expression_statement":
      return expressionStatement(node);
    case "return_statement":
      return returnStatement(node);
    case "raise_statement":
      return step("raise", `Raise ${raisedOf(node) ?? "the current exception again"}.`);
    case "assert_statement":
      return step("condition", `Check that ${code(namedKids(node)[0] ?? node)} holds.`);
    case "pass_statement":
      return step("other", "Do nothing.");
    case "break_statement":
      return step("jump", "Leave the loop.");
    case "continue_statement":
      return step("jump", "Skip to the next iteration.");
    case "delete_statement":
      return step("update", `Delete ${code(namedKids(node)[0] ?? node)}.`);
    case "print_statement":
      return printSentence(namedKids(node).map((arg) => flatText(arg)).join(", "), namedKids(node).length);
    case "exec_statement":
      return step("call", `Execute ${code(namedKids(node)[0] ?? node)} as code.`);
    default:
      return undefined;
  }
}

/** `ValueError` for `raise ValueError("...")`, with the message when it is short. */
export function raisedOf(raise: Node): string | undefined {
  const raised = namedKids(raise)[0];
  if (!raised) return undefined;
  if (raised.type !== "call") return code(raised);
  const message = argumentsOf(raised)[0];
  const name = code(calleeOf(raised));
  return message && message.type === "string" && message.text.length <= 40 ? `${name} with ${code(message)}` : name;
}

function returnStatement(node: Node): Step {
  const value = namedKids(node)[0];
  if (!value) return step("return", "Return without a value.");
  const inner = unparenthesized(value);
  if (["comparison_operator", "boolean_operator", "not_operator"].includes(inner.type)) return step("return", `Return whether ${code(inner)}.`);
  return step("return", `Return ${code(inner)}.`);
}

function expressionStatement(node: Node): Step | undefined {
  const expr = namedKids(node)[0];
  if (!expr || expr.type === "string" || expr.type === "concatenated_string") return undefined;
  switch (expr.type) {
    case "assignment":
      return assignment(expr);
    case "augmented_assignment":
      return augmentedAssignment(expr);
    case "call":
      return callStatement(expr);
    case "yield":
      return step("return", namedKids(expr)[0] ? `Yield ${code(namedKids(expr)[0]!)}.` : "Yield control.");
    case "await":
      return step("call", `Wait for ${code(namedKids(expr)[0] ?? expr)}.`);
    case "ellipsis":
      return undefined;
    case "identifier":
      // Python 2's bare `print` (a print statement of nothing) prints an empty line.
      return expr.text === "print" ? step("output", "Print an empty line.") : step("other", `Evaluate ${code(expr)}.`);
    default:
      return readsInput(expr) ? step("input", "Read an input line and ignore it.") : step("other", `Evaluate ${code(expr)}.`);
  }
}

// --- assignments -----------------------------------------------------------------------------

/** `a = b = 0` is one assignment with a chain of targets; the value is the innermost right side. */
function assignmentChain(node: Node): { targets: Node[]; value: Node | undefined } {
  const targets: Node[] = [];
  let current: Node | undefined = node;
  while (current && current.type === "assignment") {
    const left = field(current, "left");
    if (left) targets.push(left);
    current = field(current, "right");
  }
  return { targets, value: current };
}

function assignment(node: Node): Step | undefined {
  const { targets, value } = assignmentChain(node);
  if (!value || !targets.length) return undefined; // `x: int` declares, it does nothing
  const target = listed(targets.map((t) => code(t)));
  const inner = unparenthesized(value);
  if (isInputAlias(inner)) return step("input", `Use ${code(inner)} to read the input, under the name ${target}.`);
  if (readsInput(inner)) return inputSentence(inner, targets);
  const empty = emptyLiteralKind(inner);
  if (empty) return step("assignment", `Start ${target} as an empty ${empty}.`);
  const single = targets.length === 1 ? targets[0]! : undefined;
  if (single && (single.type === "subscript" || single.type === "attribute")) return step("update", `Store ${code(inner)} in ${target}.`);
  if (isSimpleValue(inner)) return step("assignment", `Set ${target} to ${code(inner)}.`);
  const repeated = repeatedList(inner);
  if (repeated) return step("assignment", `Set ${target} to a list of ${code(repeated.count)} copies of ${code(repeated.item)}.`);
  if (/comprehension$/.test(inner.type)) return step("assignment", `Build ${target} with the comprehension ${code(inner)}.`);
  if (inner.type === "lambda") return step("definition", `Define ${target} as the function ${code(inner)}.`);
  if (single && selfReferencing(single, inner)) return step("update", `Update ${target} to ${code(inner)}.`);
  return step("assignment", `Compute ${target} as ${code(inner)}.`);
}

/** `[0] * n`: n copies of one item. */
function repeatedList(node: Node): { item: Node; count: Node } | undefined {
  if (node.type !== "binary_operator" || operatorOf(node) !== "*") return undefined;
  const left = field(node, "left");
  const count = field(node, "right");
  const items = left?.type === "list" ? namedKids(left) : [];
  return items.length === 1 && count ? { item: items[0]!, count: unparenthesized(count) } : undefined;
}

/** A value a sentence can just name: a literal, a name, or a tuple of them (`a, b = 0, 1`). */
function isSimpleValue(node: Node): boolean {
  if (isLiteral(node) || node.type === "identifier" || node.type === "attribute") return true;
  if (node.type === "pair") return namedKids(node).every(isSimpleValue);
  return ["expression_list", "tuple", "list", "set", "dictionary"].includes(node.type) && namedKids(node).every(isSimpleValue);
}

/** `total = total + x`: the target is the left operand of its own new value. */
function selfReferencing(target: Node, value: Node): boolean {
  return value.type === "binary_operator" && field(value, "left")?.text === target.text;
}

const AUGMENTED = new Map<string, (target: string, value: string) => string>([
  ["+=", (t, v) => `Add ${v} to ${t}.`],
  ["-=", (t, v) => `Subtract ${v} from ${t}.`],
  ["*=", (t, v) => `Multiply ${t} by ${v}.`],
  ["/=", (t, v) => `Divide ${t} by ${v}.`],
  ["//=", (t, v) => `Divide ${t} by ${v}, rounding down.`],
  ["%=", (t, v) => `Reduce ${t} modulo ${v}.`],
  ["**=", (t, v) => `Raise ${t} to the power ${v}.`],
]);

function augmentedAssignment(node: Node): Step {
  const target = code(field(node, "left") ?? node);
  const valueNode = field(node, "right");
  const value = valueNode ? code(valueNode) : "``";
  const op = operatorOf(node);
  if (valueNode?.text === "1" && (op === "+=" || op === "-=")) return step("update", `${op === "+=" ? "Increment" : "Decrement"} ${target}.`);
  const phrase = AUGMENTED.get(op);
  return step("update", phrase ? phrase(target, value) : `Update ${target} with ${code(`${op} ${valueNode?.text ?? ""}`)}.`);
}

// --- input -----------------------------------------------------------------------------------

const INPUT_CALL = /\b(?:raw_)?input\s*\(|\bstdin\b|\bopen\s*\(\s*0\s*\)/;

/** The expression reads standard input: `input()`, `sys.stdin...`, `open(0)`. */
export function readsInput(node: Node): boolean {
  return INPUT_CALL.test(node.text) && !/^\s*print\b/.test(node.text);
}

/** `input = sys.stdin.readline`: a faster reader under a familiar name, not a read. */
function isInputAlias(node: Node): boolean {
  return (node.type === "attribute" || node.type === "identifier") && /\bstdin\b|\binput\b/.test(node.text);
}

/** "Read an input line, split it and parse each part as an integer into `a`." */
function inputSentence(value: Node, targets: Node[]): Step {
  const text = value.text;
  const whole = /\.read\s*\(\s*\)|\bopen\s*\(\s*0\s*\)\.read\b/.test(text);
  const lines = /\.readlines\s*\(/.test(text);
  const source = whole ? "all of the input" : lines ? "all input lines" : "an input line";
  const split = /\.split\s*\(/.test(text);
  const parsed = /\bint\b/.test(text) ? "integer" : /\bfloat\b/.test(text) ? "number" : undefined;
  const collection = /^(list|tuple|set|sorted)\s*\(|^\[/.exec(text.trim());
  const noun = collection?.[1] === "sorted" ? "sorted list" : (collection?.[1] ?? "list");
  const stripped = !split && /\.strip\s*\(|\.rstrip\s*\(/.test(text);
  let sentence = `Read ${source}`;
  if (split) sentence += parsed ? ", split it and parse each part as an " + parsed : " and split it into parts";
  else if (parsed) sentence += ` and parse it as an ${parsed}`;
  else if (stripped) sentence += " without its surrounding whitespace";
  const into = targets.length === 1 && collection ? `the ${noun} ${code(targets[0]!)}` : listed(targets.map((t) => code(t)));
  return step("input", `${sentence} into ${into}.`);
}

// --- calls -----------------------------------------------------------------------------------

/** Methods whose call says what it does better than "Call ...": (object, arguments) -> sentence. */
const METHOD_PHRASES = new Map<string, (o: string, args: Node[]) => string>([
  ["append", (o, a) => `Append ${codes(a)} to ${o}.`],
  ["appendleft", (o, a) => `Put ${codes(a)} at the front of ${o}.`],
  ["extend", (o, a) => `Extend ${o} with ${codes(a)}.`],
  ["add", (o, a) => `Add ${codes(a)} to the set ${o}.`],
  ["insert", (o, a) => (a.length === 2 ? `Insert ${code(a[1]!)} into ${o} at position ${code(a[0]!)}.` : `Insert ${codes(a)} into ${o}.`)],
  ["remove", (o, a) => `Remove ${codes(a)} from ${o}.`],
  ["discard", (o, a) => `Remove ${codes(a)} from ${o} if present.`],
  ["pop", (o, a) => (a.length ? `Remove the item at ${codes(a)} from ${o}.` : `Remove the last item of ${o}.`)],
  ["popleft", (o) => `Remove the first item of ${o}.`],
  ["sort", (o, a) => (a.length ? `Sort ${o} in place, with ${codes(a)}.` : `Sort ${o} in place.`)],
  ["reverse", (o) => `Reverse ${o} in place.`],
  ["update", (o, a) => `Update ${o} with ${codes(a)}.`],
  ["clear", (o) => `Empty ${o}.`],
  ["write", (o, a) => (/stdout/.test(o) ? `Write ${codes(a)} to the output.` : `Write ${codes(a)} to ${o}.`)],
]);

const HEAP_PHRASES = new Map<string, (args: Node[]) => string>([
  ["heappush", (args) => `Push ${code(args[1] ?? args[0]!)} onto the heap ${code(args[0]!)}.`],
  ["heappop", (args) => `Pop the smallest item off the heap ${code(args[0]!)}.`],
  ["heapify", (args) => `Turn ${code(args[0]!)} into a heap.`],
]);

/** Arguments as one inline snippet: `a, b`. */
function codes(args: Node[]): string {
  return code(args.map((a) => flatText(a)).join(", "));
}

function callStatement(call: Node): Step {
  const callee = calleeOf(call);
  const args = argumentsOf(call);
  if (callee === "print") return printSentence(argumentText(call), args.length, args);
  if (readsInput(call)) return step("input", "Read an input line and ignore it.");
  const fn = field(call, "function");
  const method = fn?.type === "attribute" ? (field(fn, "attribute")?.text ?? "") : "";
  const object = fn?.type === "attribute" ? field(fn, "object") : undefined;
  const heap = HEAP_PHRASES.get(method || callee);
  if (heap && args.length && (!object || object.text === "heapq")) return step("call", heap(args));
  const phrase = object ? METHOD_PHRASES.get(method) : undefined;
  if (phrase && object) return step(method === "write" ? "output" : "update", phrase(code(object), args));
  return step("call", `Call ${code(call)}.`);
}

/** "Print `x`.", "Print the items of `arr` separated by spaces.", "Print an empty line." */
function printSentence(argsText: string, count: number, args: Node[] = []): Step {
  if (!count) return step("output", "Print an empty line.");
  const only = args.length === 1 ? args[0]! : undefined;
  if (only?.type === "list_splat") return step("output", `Print the items of ${code(namedKids(only)[0] ?? only)} separated by spaces.`);
  const shown = args.filter((a) => a.type !== "keyword_argument");
  const what = shown.length && shown.length < args.length ? shown.map((a) => flatText(a)).join(", ") : argsText;
  return step("output", `Print ${code(what)}.`);
}

/** "2 assignments, 1 loop and 1 return", for the steps left out past the cap. */
export function kindSummary(steps: readonly Step[]): string {
  const counts = new Map<StepKind, number>();
  for (const s of steps) counts.set(s.kind, (counts.get(s.kind) ?? 0) + 1);
  return listed([...counts].map(([kind, n]) => counted(n, KIND_NOUNS[kind][0], KIND_NOUNS[kind][1])));
}

const KIND_NOUNS: Record<StepKind, [string, string]> = {
  input: ["input read", "input reads"],
  assignment: ["assignment", "assignments"],
  update: ["update", "updates"],
  loop: ["loop", "loops"],
  condition: ["check", "checks"],
  call: ["call", "calls"],
  output: ["print", "prints"],
  return: ["return", "returns"],
  raise: ["raise", "raises"],
  jump: ["jump", "jumps"],
  definition: ["definition", "definitions"],
  other: ["other statement", "other statements"],
};
