// The data-flow graph of the data-flow match, with positions, for the structural diagnostics too.
import type { Node } from "web-tree-sitter";
import { dataflowOf, type Mode } from "./engine";
import { copyTree, LineIndex, type SyntaxNode } from "./tree";

export interface CodeToken {
  text: string;
  start: { row: number; column: number };
  end: { row: number; column: number };
}

export interface DataflowEdge {
  variable: string;
  index: number;
  relation: "comesFrom" | "computedFrom";
  sources: string[];
  sourceIndices: number[];
}

/**
 * DFG_python over a parsed tree: the tokens (leaves, as the reference's tree_to_token_index) and
 * the edges indexing into them, after get_data_flow's filtering and merging. Columns are UTF-16
 * code units (web-tree-sitter's). In reference mode token texts are what the reference reads
 * (shifted on lines with non-ASCII text).
 */
export function extractDataflow(root: Node, code: string, mode: Mode): { tokens: CodeToken[]; edges: DataflowEdge[] } {
  return dataflowOfCopy(copyTree(root), code, mode, new LineIndex(code));
}

/** extractDataflow over a subtree of a tree already copied (copyTree): a caller reading several units of one file copies it once. */
export function dataflowOfCopy(root: SyntaxNode, code: string, mode: Mode, lines: LineIndex): { tokens: CodeToken[]; edges: DataflowEdge[] } {
  const { table, dfg } = dataflowOf(root, code, mode);
  return {
    tokens: table.leaves.map((leaf, i) => ({ text: table.texts[i], start: lines.point(leaf.startIndex), end: lines.point(leaf.endIndex) })),
    edges: dfg.map((e) => ({ variable: e.code, index: e.idx, relation: e.relation, sources: e.names, sourceIndices: e.indices })),
  };
}
