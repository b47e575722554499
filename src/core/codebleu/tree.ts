// A plain JavaScript copy of a tree-sitter tree, in the shape the reference CodeBLEU's grammar
// (tree-sitter-python 0.21) gives the same code. Every CodeBLEU component walks nodes many times
// (children, fields, s-expressions); crossing into WebAssembly for each step costs more than
// copying the tree once.
//
// Where tree-sitter-python 0.25 (ours) and 0.21 (the reference's) differ on valid code, the copy
// follows 0.21, so that s-expressions and tokens compare with the reference:
// - `not in` / `is not`: 0.25 wraps the two keywords in an anonymous node; 0.21 has two leaves
//   typed "not in" / "is not" directly under comparison_operator.
// - except clauses: 0.25 labels the exception `value:` (and `alias:`); 0.21 has no fields there,
//   and spells `except*` as one token in an `except_group_clause`.
// - `type X = ...`: 0.25 labels `left:` / `right:`; 0.21 does not.
// - `\0`, `\12`: 0.25 makes an escape_sequence of one or two octal digits; 0.21 needs three.
// - `\s` and other backslashes that start no escape: 0.25 shows an anonymous "\" child in the
//   string_content; in 0.21 that token is hidden.
// Parses that differ beyond these (error recovery, `match(x)` as a call) cannot be mapped; the
// parity test detects and counts them.
import type { Language, Node, TreeCursor } from "web-tree-sitter";
import type { Point, SyntaxNode } from "./node";
import { recordHiddenMissing } from "./sexp";

export type { Point, SyntaxNode } from "./node";

const OPERATOR_ALIASES = new Set(["not in", "is not"]);
const SHORT_OCTAL_ESCAPE = /^\\[0-9]{1,2}$/;

/** Rows and UTF-16 columns from offsets, as tree-sitter counts them (a row ends at each line feed). */
export class LineIndex {
  private readonly starts: number[] = [0];

  constructor(source: string) {
    for (let i = source.indexOf("\n"); i !== -1; i = source.indexOf("\n", i + 1)) this.starts.push(i + 1);
  }

  point(index: number): Point {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= index) lo = mid;
      else hi = mid - 1;
    }
    return { row: lo, column: index - this.starts[lo] };
  }
}

/** What the copy reads per node, with as few calls into WebAssembly as possible. */
class CursorReader {
  private readonly named: boolean[] = [];

  constructor(
    private readonly cursor: TreeCursor,
    private readonly language: Language,
    private readonly exact: boolean,
  ) {}

  /**
   * The node under the cursor and its descendants. When scoring, only leaves ask tree-sitter for
   * their offsets and an inner node is given the span of its children, which is its own except
   * where a hidden token sits at an end (the module's trailing newline, text of a string_content
   * around its escapes, some ERROR nodes): nothing that scoring reads.
   */
  read(reshape: boolean): SyntaxNode {
    const { cursor, language } = this;
    const typeId = cursor.nodeTypeId;
    const node: SyntaxNode = {
      type: language.types[typeId] || "ERROR",
      named: this.isNamed(typeId),
      field: language.fields[cursor.currentFieldId] ?? null,
      children: [],
      startIndex: 0,
      endIndex: 0,
      missing: false,
    };
    if (this.exact) this.readRange(node);
    if (!isKnownLeaf(node) && cursor.gotoFirstChild()) {
      do node.children.push(this.read(reshape));
      while (cursor.gotoNextSibling());
      cursor.gotoParent();
      if (this.exact) {
        if (reshape) reshapeAs021(node);
        return node;
      }
      if (node.type === "string_content") {
        // Its text runs around its escapes, and the 0.21 shape may take the escapes away.
        this.readRange(node);
      } else {
        node.startIndex = node.children[0].startIndex;
        node.endIndex = node.children[node.children.length - 1].endIndex;
      }
    } else {
      if (!this.exact) this.readRange(node);
      node.missing = node.startIndex === node.endIndex && cursor.nodeIsMissing;
      if (node.type === "ERROR" && node.endIndex > node.startIndex) node.unexpected = cursor.currentNode.toString();
      else if (node.type === "escape_sequence" && SHORT_OCTAL_ESCAPE.test(cursor.nodeText)) node.shortOctal = true;
    }
    if (reshape) reshapeAs021(node);
    return node;
  }

  private readRange(node: SyntaxNode): void {
    const { cursor } = this;
    node.startIndex = cursor.startIndex;
    node.endIndex = cursor.endIndex;
    if (this.exact) {
      node.start = cursor.startPosition;
      node.end = cursor.endPosition;
    }
  }

  private isNamed(typeId: number): boolean {
    let named = this.named[typeId];
    if (named === undefined) {
      named = typeId === ERROR_TYPE_ID || this.language.nodeTypeIsNamed(typeId);
      this.named[typeId] = named;
    }
    return named;
  }
}

const ERROR_TYPE_ID = 65535;

/**
 * Types that are always leaves: tokens. Anonymous nodes are tokens except the two operator
 * aliases; the named tokens are listed. Asking tree-sitter for the first child of a token is the
 * commonest call of the copy, and always answered "none".
 */
const NAMED_TOKENS = new Set(["identifier", "integer", "float", "true", "false", "none", "comment", "string_start", "string_end", "escape_sequence", "escape_interpolation", "type_conversion", "line_continuation", "ellipsis"]);

function isKnownLeaf(node: SyntaxNode): boolean {
  return node.named ? NAMED_TOKENS.has(node.type) : !OPERATOR_ALIASES.has(node.type);
}

/**
 * Copies a tree-sitter node and its descendants, mapped to the 0.21 shape described above;
 * `shape: "0.25"` keeps our grammar's own shape (the tests check the s-expressions against it).
 * `exactRanges` asks tree-sitter for the span and position of every node (see CursorReader.read).
 */
export function copyTree(root: Node, options: { shape?: "0.21" | "0.25"; exactRanges?: boolean } = {}): SyntaxNode {
  const cursor = root.walk();
  const reshape = (options.shape ?? "0.21") === "0.21";
  try {
    const reader = new CursorReader(cursor, root.tree.language, options.exactRanges ?? false);
    if (!root.hasError) return reader.read(reshape);
    // Error recovery can leave hidden tokens MISSING, which tree-sitter prints and lists nowhere:
    // find them in its own printing, then map to the 0.21 shape.
    const copy = reader.read(false);
    try {
      recordHiddenMissing(copy, root.toString());
    } catch {
      // Printing out of step with tree-sitter's (the tests check it never is on real code): score
      // without the hidden tokens rather than not at all.
    }
    if (reshape) reshapeTree(copy);
    return copy;
  } finally {
    cursor.delete();
  }
}

function reshapeTree(node: SyntaxNode): void {
  for (const c of node.children) reshapeTree(c);
  reshapeAs021(node);
}

function reshapeAs021(node: SyntaxNode): void {
  if (node.children.some((c) => OPERATOR_ALIASES.has(c.type) && !c.named && c.children.length)) {
    node.children = node.children.flatMap((c) => (OPERATOR_ALIASES.has(c.type) && !c.named && c.children.length ? c.children.map((k) => ({ ...k, type: c.type, field: c.field })) : [c]));
  }
  if (node.type === "string_content") {
    node.children = node.children.filter((c) => !c.shortOctal && !(c.type === "\\" && !c.named));
  }
  if (node.type === "except_clause") reshapeExceptClause(node);
  if (node.type === "type_alias_statement") {
    for (const c of node.children) if (c.field === "left" || c.field === "right") c.field = null;
  }
}

function reshapeExceptClause(node: SyntaxNode): void {
  for (const c of node.children) if (c.field === "value" || c.field === "alias") c.field = null;
  const [keyword, star] = node.children;
  if (keyword?.type === "except" && star?.type === "*" && !star.named && keyword.endIndex === star.startIndex) {
    node.type = "except_group_clause";
    node.children.splice(0, 2, { ...keyword, type: "except*", endIndex: star.endIndex, end: star.end });
  }
}

/** The first child filling `field`, as py-tree-sitter's child_by_field_name. */
export function childByField(node: SyntaxNode, field: string): SyntaxNode | null {
  for (const c of node.children) if (c.field === field) return c;
  return null;
}

/** A token of the reference's tree_to_token_index: a leaf, or a whole string; never a comment. */
export function isTokenLeaf(node: SyntaxNode): boolean {
  return (node.children.length === 0 || node.type === "string" || node.type === "string_literal" || node.type === "character_literal") && node.type !== "comment";
}

/** The tokens (see isTokenLeaf) of a tree, in source order. */
export function tokenLeaves(root: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  const visit = (node: SyntaxNode): void => {
    if (isTokenLeaf(node)) out.push(node);
    else if (node.type !== "comment") for (const c of node.children) visit(c);
  };
  visit(root);
  return out;
}
