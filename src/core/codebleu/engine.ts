// What each component needs from one piece of code, computed once per score: the code without
// comments and docstrings, re-parsed; its subtree s-expressions; its normalized data-flow edges.
// The parser is loaded once (loadEngine) and then used synchronously, so that the lower-level
// exports (stripCommentsAndDocstrings, ...) can be plain functions.
import type { Parser, Tree } from "web-tree-sitter";
import { pythonGrammar } from "../python/grammar";
import { dataflowGraph, DEFAULT_POLICY, normalizeDataflow, REFERENCE_POLICY, tokenTable, type DfgEntry, type TokenTable } from "./dfg";
import { pyIsBlank } from "./pythonCompat";
import type { SexpInterner } from "./sexp";
import { defaultStrip, referenceStrip } from "./strip";
import { copyTree, type Point, type SyntaxNode } from "./tree";

export type Mode = "reference" | "default";

export interface Analysis {
  /** Every subtree's s-expression as a number of the interner given, duplicates kept (the reference counts each). */
  sexps: number[];
  /** The normalized data-flow edges, one string per edge. */
  dataflow: string[];
}

let parser: Parser | undefined;
let loading: Promise<void> | undefined;

export function loadEngine(): Promise<void> {
  loading ??= pythonGrammar().then(
    (grammar) => {
      parser = grammar.newParser();
    },
    (err: unknown) => {
      loading = undefined;
      throw err;
    },
  );
  return loading;
}

function parse(code: string): Tree {
  if (!parser) throw new Error("CodeBLEU is not loaded yet: await loadCodeBleu() before calling it");
  const tree = parser.parse(code);
  if (!tree) throw new Error("tree-sitter returned no tree");
  return tree;
}

/** Parses `code` and copies its tree (see tree.ts); the tree-sitter tree is freed at once. */
export function parseToCopy(code: string): SyntaxNode {
  const tree = parse(code);
  try {
    return copyTree(tree.rootNode);
  } finally {
    tree.delete();
  }
}

export interface Stripped {
  /** The code without comments and docstrings. */
  code: string;
  /** The tree the matches read, and the text it was parsed from (`code`, or the original when they parse alike). */
  root: SyntaxNode;
  source: string;
}

function withoutBlankLines(code: string): string {
  return code
    .split("\n")
    .filter((l) => !pyIsBlank(l))
    .join("\n");
}

/**
 * remove_comments_and_docstrings in either mode, with the tree of the result. Code that comes
 * back unchanged, or with only blank lines gone (tree-sitter skips them, and no multi-line string
 * loses a line), keeps its first tree.
 */
export function stripWithTree(code: string, mode: Mode): Stripped {
  const tree = parse(code);
  let stripped: string;
  try {
    if (mode === "reference") {
      const result = referenceStrip(code, tree.rootNode);
      stripped = result.code;
      if (stripped === code || (!result.multilineString && stripped === withoutBlankLines(code))) return { code: stripped, root: copyTree(tree.rootNode), source: code };
    } else {
      const root = copyTree(tree.rootNode);
      stripped = defaultStrip(code, root);
      if (stripped === code) return { code, root, source: code };
    }
  } finally {
    tree.delete();
  }
  return { code: stripped, root: parseToCopy(stripped), source: stripped };
}

const ASCII = /^[\x00-\x7f]*$/;

function utf8Length(s: string): number {
  return Buffer.byteLength(s, "utf8");
}

/** `line[a:b]` of a Python str: code points, indices clamped. */
function pySlice(line: string, a: number, b?: number): string {
  if (ASCII.test(line)) return line.slice(a, b);
  return Array.from(line).slice(a, b).join("");
}

/**
 * index_to_code_token: py-tree-sitter counts columns in UTF-8 bytes and the reference slices
 * Python strs with them, so on a line with non-ASCII text the token is shifted; a token over
 * several lines loses its line breaks.
 */
export function referenceTokenText(lines: readonly string[], ascii: readonly boolean[], start: Point, end: Point): string {
  if (start.row === end.row && ascii[start.row]) return lines[start.row].slice(start.column, end.column);
  const byteColumn = (row: number, column: number): number => (ascii[row] ? column : utf8Length(lines[row].slice(0, column)));
  if (start.row === end.row) return pySlice(lines[start.row], byteColumn(start.row, start.column), byteColumn(end.row, end.column));
  let text = pySlice(lines[start.row], byteColumn(start.row, start.column));
  for (let row = start.row + 1; row < end.row; row++) text += lines[row];
  return text + pySlice(lines[end.row], 0, byteColumn(end.row, end.column));
}

/** The reference's texts of a tree's tokens (see referenceTokenText), or default mode's: the source text. */
export function tokensOf(root: SyntaxNode, code: string, mode: Mode): TokenTable {
  if (mode === "default") return tokenTable(root, (leaf) => code.slice(leaf.startIndex, leaf.endIndex));
  const lines = code.split("\n");
  const ascii = lines.map((l) => ASCII.test(l));
  const starts: number[] = [];
  for (let at = 0, row = 0; row < lines.length; row++) {
    starts.push(at);
    at += lines[row].length + 1;
  }
  // Leaves come in source order, so their rows are found by walking forward.
  let row = 0;
  const pointAt = (index: number, from: number): Point => {
    let r = from;
    while (r + 1 < starts.length && starts[r + 1] <= index) r++;
    return { row: r, column: index - starts[r] };
  };
  return tokenTable(root, (leaf) => {
    const start = pointAt(leaf.startIndex, row);
    row = start.row;
    const end = leaf.endIndex - starts[row] <= lines[row].length ? { row, column: leaf.endIndex - starts[row] } : pointAt(leaf.endIndex, row);
    if (end.row === row && ascii[row]) return code.slice(leaf.startIndex, leaf.endIndex);
    return referenceTokenText(lines, ascii, start, end);
  });
}

export function dataflowOf(root: SyntaxNode, code: string, mode: Mode): { table: TokenTable; dfg: DfgEntry[] } {
  const table = tokensOf(root, code, mode);
  return { table, dfg: dataflowGraph(root, table, mode === "reference" ? REFERENCE_POLICY : DEFAULT_POLICY) };
}

/** What the syntax and data-flow matches compare, from code already stripped and its tree. */
export function analyze(stripped: Stripped, mode: Mode, sexps: SexpInterner): Analysis {
  return {
    sexps: sexps.subtreeIds(stripped.root),
    dataflow: normalizeDataflow(dataflowOf(stripped.root, stripped.source, mode).dfg),
  };
}
