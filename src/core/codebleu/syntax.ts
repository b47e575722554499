// The syntax match's building blocks, for the structural diagnostics too: comment and docstring
// removal, and the subtree s-expressions the match compares.
import type { Node } from "web-tree-sitter";
import { stripWithTree, type Mode } from "./engine";
import { allSubtrees } from "./sexp";
import { copyTree, type Point } from "./tree";

/**
 * The code the syntax and data-flow matches see. Reference: codebleu's tokenize-based removal,
 * exactly; default: comments and real docstrings only. Needs loadCodeBleu() to have resolved.
 */
export function stripCommentsAndDocstrings(code: string, mode: Mode): string {
  return stripWithTree(code, mode).code;
}

/**
 * Every subtree that has children, as `str(node)` in the reference grammar's shape, with its depth
 * (root 1) and where it is.
 */
export function subtreeSexps(root: Node): { sexp: string; depth: number; start: Point; end: Point }[] {
  return allSubtrees(copyTree(root, { exactRanges: true })).map(({ sexp, depth, node }) => ({ sexp, depth, start: node.start!, end: node.end! }));
}
