// The edge cases the solution itself singles out: guards (an `if` whose branch returns, raises,
// continues or breaks: "When `n < 2`, `is_prime` returns `False` early.") and branches on an
// empty, zero or missing value ("The special case `len(xs) == 0` (an empty `xs`) gets its own
// branch."). The tests' smallest cases are added in examples.ts.
import type { Node } from "web-tree-sitter";
import { raisedOf } from "./statements";
import { code, comparisonOperators, emptyLiteralKind, enclosingFunction, field, isPlainReference, nameOf, namedKids, squash, statementsOf, unparenthesized } from "./syntax";

const EXITS = new Set(["return_statement", "raise_statement", "continue_statement", "break_statement"]);
/** A guard leaves at once (perhaps after one statement); a longer branch that ends in `return` is the main path. */
const GUARD_STATEMENTS = 2;

/** One sentence per guard or special-case branch, in source order, without repeats. */
export function conditionCasesOf(root: Node): string[] {
  const cases: string[] = [];
  for (const branch of root.descendantsOfType(["if_statement", "elif_clause"])) {
    if (!branch) continue;
    const condition = field(branch, "condition");
    if (!condition || /__name__/.test(condition.text)) continue;
    const sentence = guardSentence(branch, condition) ?? specialCaseSentence(condition);
    if (sentence && !cases.includes(sentence)) cases.push(sentence);
  }
  return cases;
}

/** "When `cond`, `f` returns `x` early." for a branch that ends by leaving the function or loop. */
function guardSentence(branch: Node, condition: Node): string | undefined {
  const body = statementsOf(field(branch, "consequence"));
  const exit = body[body.length - 1];
  if (!exit || !EXITS.has(exit.type) || body.length > GUARD_STATEMENTS) return undefined;
  const when = `When ${code(unparenthesized(condition))}${noteOf(condition, " (", ")")}`;
  const owner = enclosingFunction(branch);
  const who = owner ? code(nameOf(owner)) : "the program";
  switch (exit.type) {
    case "return_statement": {
      const value = namedKids(exit)[0];
      return value ? `${when}, ${who} returns ${code(value)} early.` : `${when}, ${who} returns early.`;
    }
    case "raise_statement":
      return `${when}, ${who} raises ${raisedOf(exit) ?? "the current exception again"}.`;
    case "continue_statement":
      return `${when}, the loop skips to the next item.`;
    default:
      return `${when}, the loop stops early.`;
  }
}

function specialCaseSentence(condition: Node): string | undefined {
  const note = noteOf(condition, "", "");
  return note ? `The special case ${code(unparenthesized(condition))} (${note}) gets its own branch.` : undefined;
}

/** What an empty/zero/None test is about ("an empty `xs`"), wrapped in `open`/`close`; "" when the condition is no such test. */
function noteOf(condition: Node, open: string, close: string): string {
  const note = specialNote(unparenthesized(condition));
  return note ? `${open}${note}${close}` : "";
}

function specialNote(condition: Node, whole = true): string | undefined {
  if (condition.type === "boolean_operator") {
    return [field(condition, "left"), field(condition, "right")].map((side) => (side ? specialNote(unparenthesized(side), false) : undefined)).find(Boolean);
  }
  if (condition.type === "not_operator") {
    // `not xs` alone guards an empty input; inside `and`/`or` it is mostly a flag test.
    const argument = field(condition, "argument");
    return whole && argument?.type === "identifier" ? `an empty or zero ${code(argument)}` : undefined;
  }
  if (condition.type !== "comparison_operator") return undefined;
  const operands = namedKids(condition);
  const operators = comparisonOperators(condition);
  if (operands.length !== 2 || operators.length !== 1) return undefined;
  const [a, b] = operands as [Node, Node];
  const note = comparedNote(a, operators[0]!, b) ?? comparedNote(b, mirrored(operators[0]!), a);
  // Inside `and`/`or`, a comparison with zero is mostly an index bound (`i < 0 or ...`).
  return whole || !note || !/zero|negative/.test(note) ? note : undefined;
}

/** `0 < x` reads as `x > 0`. */
function mirrored(op: string): string {
  return ({ "<": ">", ">": "<", "<=": ">=", ">=": "<=" } as Record<string, string>)[op] ?? op;
}

/** The note for `subject op value` when value is None, 0, 1 or empty; undefined otherwise. */
function comparedNote(subject: Node, op: string, value: Node): string | undefined {
  if (!["==", "is", "<", "<="].includes(op)) return undefined;
  const measured = lengthOf(subject);
  const n = value.type === "integer" ? Number(value.text) : undefined;
  if (value.type === "none" && (op === "is" || op === "==")) return `${code(subject)} being \`None\``;
  if (measured && n !== undefined) {
    if ((op === "==" && n === 0) || (op === "<" && n === 1) || (op === "<=" && n === 0)) return `an empty ${code(measured)}`;
    if ((op === "==" && n === 1) || (op === "<" && n === 2) || (op === "<=" && n === 1)) return `a ${code(measured)} of at most one element`;
    return undefined;
  }
  if (!isPlainReference(subject)) return undefined;
  const empty = emptyLiteralKind(value);
  if (empty && op === "==") return `an empty ${code(subject)}`;
  if (n !== 0) return undefined;
  return op === "<" ? `a negative ${code(subject)}` : op === "<=" ? `a zero or negative ${code(subject)}` : `${code(subject)} equal to zero`;
}

/** `xs` for `len(xs)`. */
function lengthOf(node: Node): Node | undefined {
  if (node.type !== "call" || squash(field(node, "function")?.text ?? "") !== "len") return undefined;
  const args = field(node, "arguments");
  const only = args ? namedKids(args) : [];
  return only.length === 1 ? only[0] : undefined;
}
