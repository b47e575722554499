// The rationalizer's view of Python source: one tree-sitter parser for the process (from the
// shared grammar loader), small accessors over web-tree-sitter nodes that hide its nullable
// children, and the inline-code snippets every sentence quotes. A tree is only read while it is
// alive, inside withPythonTree, so no node outlives the WebAssembly memory behind it.
import type { Node, Parser } from "web-tree-sitter";
import { pythonGrammar } from "../../python/grammar";

let loading: Promise<Parser> | undefined;

/** One parser for every rationalized task; parsing is synchronous, so callers never interleave. */
function pythonParser(): Promise<Parser> {
  loading ??= pythonGrammar()
    .then((grammar) => grammar.newParser())
    .catch((err: unknown) => {
      loading = undefined; // a failed load is retried by the next task
      throw err;
    });
  return loading;
}

/** Parses `source` and gives its module node to `read`; the tree is freed when `read` returns. */
export async function withPythonTree<T>(source: string, read: (root: Node) => T): Promise<T> {
  const parser = await pythonParser();
  const tree = parser.parse(source);
  if (!tree) throw new Error("tree-sitter returned no tree");
  try {
    return read(tree.rootNode);
  } finally {
    tree.delete();
  }
}

/** The named children that carry meaning: no comments, no holes left by error recovery. */
export function namedKids(node: Node): Node[] {
  const kids: Node[] = [];
  for (const child of node.namedChildren) if (child && child.type !== "comment") kids.push(child);
  return kids;
}

export function field(node: Node, name: string): Node | undefined {
  return node.childForFieldName(name) ?? undefined;
}

/** The statements of a block, module or clause body. */
export function statementsOf(node: Node | undefined): Node[] {
  return node ? namedKids(node) : [];
}

/** A bare string statement: a docstring, or a string used as a comment. */
export function isDocstring(statement: Node): boolean {
  if (statement.type !== "expression_statement") return false;
  const kids = namedKids(statement);
  return kids.length === 1 && (kids[0]!.type === "string" || kids[0]!.type === "concatenated_string");
}

/** A function or class definition, seen through its decorators. */
export function undecorated(node: Node): Node {
  return node.type === "decorated_definition" ? (field(node, "definition") ?? node) : node;
}

export function nameOf(definition: Node): string {
  return field(definition, "name")?.text ?? "";
}

/** The docstring of a function, class or module body, without its quotes; undefined when absent. */
export function docstringOf(body: Node | undefined): string | undefined {
  const first = statementsOf(body)[0];
  if (!first || !isDocstring(first)) return undefined;
  return stringValue(namedKids(first)[0]!.text);
}

const QUOTED = /^[rRuUbBfF]{0,2}("""|'''|"|')([\s\S]*?)\1$/;

/** A string literal's text without its prefix and quotes (escapes stay as written). */
export function stringValue(literal: string): string {
  return QUOTED.exec(literal.trim())?.[2] ?? literal;
}

/** The depth of a node below the module: top-level statements are 1. */
export function depthOf(node: Node): number {
  let depth = 0;
  for (let up = node.parent; up; up = up.parent) depth++;
  return depth;
}

/** Whether `inner` lies within `outer` (or is it). */
export function contains(outer: Node, inner: Node): boolean {
  return inner.startIndex >= outer.startIndex && inner.endIndex <= outer.endIndex;
}

/**
 * The source text of a node on one line: comments cut out (their text would read as code),
 * line continuations and runs of whitespace collapsed to one space.
 */
export function flatText(node: Node): string {
  let text = node.text;
  if (text.includes("#")) {
    const comments = node.descendantsOfType("comment").filter((c): c is Node => c !== null);
    for (const comment of comments.reverse()) {
      const from = comment.startIndex - node.startIndex;
      text = text.slice(0, from) + text.slice(from + comment.endIndex - comment.startIndex);
    }
  }
  return squash(text);
}

export function squash(text: string): string {
  return text.replace(/\\\r?\n/g, " ").replace(/\s+/g, " ").trim();
}

/** Inline code snippets are capped so a step stays an explanation, never a pasted solution. */
export const SNIPPET_CHARS = 60;

/** `text` as inline code, elided with … past `max` characters; backticks inside become quotes. */
export function code(text: string | Node, max = SNIPPET_CHARS): string {
  const flat = typeof text === "string" ? squash(text) : flatText(text);
  return `\`${clip(flat.replace(/`/g, "'"), max)}\``;
}

export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1).trimEnd()}…`;
}

/** The called function's text of a call node (`print`, `sys.stdout.write`, `x.append`). */
export function calleeOf(call: Node): string {
  return field(call, "function")?.text ?? "";
}

/** The argument nodes of a call (keyword arguments included), or [] for a generator argument. */
export function argumentsOf(call: Node): Node[] {
  const args = field(call, "arguments");
  return args && args.type === "argument_list" ? namedKids(args) : [];
}

/** The inner text of a call's argument list: `a, b` for `f(a, b)`. */
export function argumentText(call: Node): string {
  return argumentsOf(call)
    .map((arg) => flatText(arg))
    .join(", ");
}

/** Unwraps `( expr )`, which changes nothing a sentence says. */
export function unparenthesized(node: Node): Node {
  let inner = node;
  while (inner.type === "parenthesized_expression" && namedKids(inner).length === 1) inner = namedKids(inner)[0]!;
  return inner;
}

/** The operator token of a binary, boolean, comparison or augmented assignment node. */
export function operatorOf(node: Node): string {
  const op = field(node, "operator");
  if (op) return op.text;
  for (const child of node.children) if (child && !child.isNamed) return child.text;
  return "";
}

/** The operator tokens of a comparison chain (`a < b <= c` has two). */
export function comparisonOperators(node: Node): string[] {
  return node.childrenForFieldName("operators").map((op) => (op ? squash(op.text) : ""));
}

const LITERALS = new Set(["integer", "float", "string", "true", "false", "none", "concatenated_string"]);

export function isLiteral(node: Node): boolean {
  if (LITERALS.has(node.type)) return true;
  const argument = node.type === "unary_operator" ? field(node, "argument") : undefined;
  return argument !== undefined && isLiteral(argument);
}

/** A name, a dotted name or an index into one: what a sentence can call by name. */
export function isPlainReference(node: Node): boolean {
  if (node.type === "identifier") return true;
  const base = node.type === "attribute" ? field(node, "object") : node.type === "subscript" ? field(node, "value") : undefined;
  return base !== undefined && isPlainReference(base);
}

const EMPTY_CONSTRUCTORS = new Map([
  ["list", "list"],
  ["tuple", "tuple"],
  ["set", "set"],
  ["dict", "dictionary"],
  ["str", "string"],
  ["deque", "deque"],
  ["collections.deque", "deque"],
  ["Counter", "counter"],
  ["collections.Counter", "counter"],
  ["OrderedDict", "ordered dictionary"],
]);

/** An empty literal collection or string: `[]`, `()`, `{}`, `""`, `set()`. */
export function emptyLiteralKind(node: Node): string | undefined {
  const inner = unparenthesized(node);
  switch (inner.type) {
    case "list":
      return namedKids(inner).length ? undefined : "list";
    case "tuple":
      return namedKids(inner).length ? undefined : "tuple";
    case "dictionary":
      return namedKids(inner).length ? undefined : "dictionary";
    case "string":
      return stringValue(inner.text) === "" ? "string" : undefined;
    case "call": {
      const callee = calleeOf(inner);
      if (argumentsOf(inner).length) return undefined;
      return EMPTY_CONSTRUCTORS.get(callee);
    }
    default:
      return undefined;
  }
}

/** The function definition a node lies in, if any. */
export function enclosingFunction(node: Node): Node | undefined {
  for (let up = node.parent; up; up = up.parent) if (up.type === "function_definition") return up;
  return undefined;
}
