// The copied tree's node (see tree.ts), on its own so that the modules reading it (s-expressions,
// data flow, removal) need not import the module that makes it.

export interface Point {
  row: number;
  /** UTF-16 code units, as web-tree-sitter counts (the reference counts UTF-8 bytes). */
  column: number;
}

export interface SyntaxNode {
  type: string;
  named: boolean;
  /** The field this node fills in its parent (`left`, `right`, `name`, ...), if any. */
  field: string | null;
  children: SyntaxNode[];
  /** UTF-16 offsets into the source. */
  startIndex: number;
  endIndex: number;
  /** Rows and columns, only in copies made with `exactRanges` (others convert offsets with a LineIndex). */
  start?: Point;
  end?: Point;
  missing: boolean;
  /** tree-sitter's own rendering of an error leaf, `(UNEXPECTED 'x')`, which needs its lookahead character. */
  unexpected?: string;
  /** Hidden MISSING tokens this node prints before a child (`before`) or at its end (null); see recordHiddenMissing. */
  hiddenMissing?: { before: SyntaxNode | null; field: string | null; sexp: string }[];
  /** The number of this subtree's s-expression, and the SexpInterner that gave it. */
  sexpId?: number;
  sexpOwner?: object;
  /** Set on token leaves by the data-flow pass: the reference's token index. */
  tokenIndex?: number;
  /** An escape_sequence of one or two octal digits, which 0.21 does not have. */
  shortOctal?: boolean;
}
