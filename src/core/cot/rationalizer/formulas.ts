// The formulas: the arithmetic the solution computes, as its own source text on one line. Only
// outermost expressions count (`n * (n - 1) // 2`, not also `n - 1`), a comparison that tests
// arithmetic is kept whole (`i * i <= n`), and an expression assigned to a name keeps the name
// (`mid = (lo + hi) // 2`). Index arithmetic (`i + 1`, `len(xs) - 1`) and string or list
// concatenation are noise, not formulas.
import type { Node } from "web-tree-sitter";
import { argumentsOf, calleeOf, clip, field, flatText, isPlainReference, namedKids, operatorOf, unparenthesized } from "./syntax";

export const MAX_FORMULAS = 8;
const FORMULA_CHARS = 120;
const ARITHMETIC = new Set(["+", "-", "*", "/", "//", "%", "**"]);
/** Operands that make `+` or `*` build a string or a list rather than compute a number. */
const NON_NUMERIC = new Set(["string", "concatenated_string", "list", "tuple", "dictionary", "set", "list_comprehension", "set_comprehension", "dictionary_comprehension", "generator_expression"]);
const SKIPPED = new Set(["string", "concatenated_string", "comment"]);

export function formulasOf(root: Node): string[] {
  const formulas: string[] = [];
  const visit = (node: Node): void => {
    if (formulas.length >= MAX_FORMULAS || SKIPPED.has(node.type)) return;
    const verdict = formulaAt(node);
    if (verdict === "trivial") return;
    if (verdict !== undefined) {
      if (!formulas.includes(verdict)) formulas.push(verdict);
      return;
    }
    for (const child of namedKids(node)) visit(child);
  };
  visit(root);
  return formulas;
}

/** The formula this node is, "trivial" for index noise (nothing inside it counts either), undefined to look inside. */
function formulaAt(node: Node): string | "trivial" | undefined {
  if (node.type === "binary_operator") {
    if (!isArithmetic(node)) return undefined;
    return isIndexNoise(node) ? "trivial" : withTarget(node);
  }
  if (node.type === "comparison_operator") {
    const operands = namedKids(node).filter((k) => k.type === "binary_operator");
    if (operands.some((o) => isArithmetic(o) && !isIndexNoise(o))) return clip(flatText(node), FORMULA_CHARS);
  }
  return undefined;
}

function isArithmetic(node: Node): boolean {
  return ARITHMETIC.has(operatorOf(node)) && !buildsNonNumber(node);
}

/** `s + " " + t`, `[0] * n`: some operand of the chain is a string or a collection. */
function buildsNonNumber(node: Node): boolean {
  const inner = unparenthesized(node);
  if (NON_NUMERIC.has(inner.type)) return true;
  if (inner.type !== "binary_operator") return false;
  return [field(inner, "left"), field(inner, "right")].some((o) => o !== undefined && buildsNonNumber(o));
}

/** `i + 1`, `n - 1`, `len(xs) - 1`: a name stepped by one, which says nothing about the method. */
function isIndexNoise(node: Node): boolean {
  const op = operatorOf(node);
  if (op !== "+" && op !== "-") return false;
  const left = field(node, "left");
  const right = field(node, "right");
  if (!left || !right) return false;
  const one = (n: Node) => n.type === "integer" && /^(?:1|0)$/.test(n.text);
  return (one(right) && isSimpleOperand(left)) || (one(left) && isSimpleOperand(right));
}

function isSimpleOperand(node: Node): boolean {
  if (isPlainReference(node) || node.type === "integer") return true;
  const args = node.type === "call" ? argumentsOf(node) : [];
  return calleeOf(node) === "len" && args.length === 1 && isPlainReference(args[0]!);
}

/** `name = expr` when the expression is the whole value assigned to a name, else the expression. */
function withTarget(expression: Node): string {
  const parent = expression.parent;
  const text = flatText(expression);
  if (parent && (parent.type === "assignment" || parent.type === "augmented_assignment") && field(parent, "right")?.equals(expression)) {
    const target = field(parent, "left");
    if (target && isPlainReference(target) && target.text.length <= 30) {
      return clip(`${flatText(target)} ${parent.type === "assignment" ? "=" : operatorOf(parent)} ${text}`, FORMULA_CHARS);
    }
  }
  return clip(text, FORMULA_CHARS);
}
