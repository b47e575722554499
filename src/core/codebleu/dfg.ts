// DFG_python and get_data_flow of the reference CodeBLEU (parser/DFG.py, dataflow_match.py),
// step for step: the same traversal, the same (stable) sorts, the same merges. Only the merges
// differ by mode: the reference's `list(set(...))` follows CPython's set layout (emulated with
// PYTHONHASHSEED=0); default mode keeps the first appearance of each name and sorts indices.
import { pySetOrder } from "./pythonCompat";
import { childByField, isTokenLeaf, tokenLeaves, type SyntaxNode } from "./tree";

export type Relation = "comesFrom" | "computedFrom";

/** One DFG tuple: (code, idx, relation, source names, source token indices). */
export interface DfgEntry {
  code: string;
  idx: number;
  relation: Relation;
  names: string[];
  indices: number[];
}

export interface DfgPolicy {
  /** list(set(names)) */
  mergeNames(names: string[]): string[];
  /** list(set(indices)), before any sort the reference applies */
  mergeIndices(indices: number[]): number[];
  /** Whether a leaf is an operator or keyword rather than a name or literal. */
  isKeywordLeaf(node: SyntaxNode, code: string): boolean;
}

export const REFERENCE_POLICY: DfgPolicy = {
  mergeNames: (names) => pySetOrder(names),
  mergeIndices: (indices) => pySetOrder(indices),
  isKeywordLeaf: (node, code) => node.type === code,
};

const OPERATOR_LEAF_TYPES = new Set(["not in", "is not"]);

export const DEFAULT_POLICY: DfgPolicy = {
  mergeNames: (names) => [...new Set(names)],
  mergeIndices: (indices) => sortedUnique(indices),
  // The reference grammar types the keywords of `not in` / `is not` as the pair, so its DFG took
  // `not` and `in` for variables.
  isKeywordLeaf: (node, code) => node.type === code || OPERATOR_LEAF_TYPES.has(node.type),
};

/** The tokens of a tree and their texts; tokenIndex (on each leaf) numbers them as the reference does. */
export interface TokenTable {
  leaves: SyntaxNode[];
  texts: string[];
}

export function tokenTable(root: SyntaxNode, textOf: (leaf: SyntaxNode) => string): TokenTable {
  const leaves = tokenLeaves(root);
  const texts = leaves.map(textOf);
  // index_to_code is keyed by (start_point, end_point): only empty leaves can share a key, and
  // the later one wins.
  const lastEmptyAt = new Map<number, number>();
  leaves.forEach((leaf, i) => {
    if (leaf.startIndex === leaf.endIndex) lastEmptyAt.set(leaf.startIndex, i);
  });
  leaves.forEach((leaf, i) => (leaf.tokenIndex = leaf.startIndex === leaf.endIndex ? lastEmptyAt.get(leaf.startIndex)! : i));
  return { leaves, texts };
}

type States = Map<string, number[]>;

/** Tokens under a node that are names or literals: their indices and texts, in source order. */
interface VariableTokens {
  indices: number[];
  codes: string[];
}

/**
 * DFG_python. The reference passes the variable states in and out of every call, copying them on
 * entry; here `states` is the current map, changed in place only while no one else holds it
 * (`owned`; an if statement holds the maps of its branches), and entries are appended to `out` in
 * visiting order. The reference sorts each node's list by token index; a stable sort composes, so
 * sorting once at the end gives the same order (the loops, which merge entries, sort their part).
 */
class DfgBuilder {
  private states: States = new Map();
  private owned = true;
  private readonly variables = new Map<SyntaxNode, VariableTokens>();
  readonly out: DfgEntry[] = [];

  constructor(
    private readonly table: TokenTable,
    private readonly policy: DfgPolicy,
  ) {}

  private indexOf(node: SyntaxNode): number {
    const idx = node.tokenIndex;
    if (idx === undefined) throw new Error(`no token at offset ${node.startIndex}`);
    return idx;
  }

  /** tree_to_variable_index: the tokens under `node` that are not keywords or operators (read-only: loops ask twice). */
  private variableTokens(node: SyntaxNode | null): VariableTokens {
    if (!node) throw new TypeError("tree_to_variable_index of None");
    let found = this.variables.get(node);
    if (!found) {
      found = this.collectVariables(node, { indices: [], codes: [] });
      this.variables.set(node, found);
    }
    return found;
  }

  private collectVariables(node: SyntaxNode, into: VariableTokens): VariableTokens {
    if (isTokenLeaf(node)) {
      const idx = this.indexOf(node);
      const code = this.table.texts[idx];
      if (!this.policy.isKeywordLeaf(node, code)) {
        into.indices.push(idx);
        into.codes.push(code);
      }
    } else for (const c of node.children) this.collectVariables(c, into);
    return into;
  }

  /** states[code] = [idx], on a map this builder may change. */
  private bind(code: string, idx: number): void {
    if (!this.owned) {
      this.states = new Map(this.states);
      this.owned = true;
    }
    this.states.set(code, [idx]);
  }

  /** The current states, which the caller keeps: later binds copy first. */
  private share(): States {
    this.owned = false;
    return this.states;
  }

  visit(node: SyntaxNode): void {
    if (isTokenLeaf(node)) return this.leaf(node);
    switch (node.type) {
      case "default_parameter":
        return this.defaultParameter(node);
      case "assignment":
      case "augmented_assignment":
      case "for_in_clause":
        return this.assignment(node);
      case "if_statement":
        return this.ifStatement(node);
      case "for_statement":
        return this.loop(node);
      case "while_statement":
        return this.loop(node);
      default:
        return this.sequence(node);
    }
  }

  private leaf(node: SyntaxNode): void {
    const idx = this.indexOf(node);
    const code = this.table.texts[idx];
    if (this.policy.isKeywordLeaf(node, code)) return;
    const known = this.states.get(code);
    if (known) {
      this.out.push({ code, idx, relation: "comesFrom", names: [code], indices: known.slice() });
      return;
    }
    if (node.type === "identifier") this.bind(code, idx);
    this.out.push({ code, idx, relation: "comesFrom", names: [], indices: [] });
  }

  private defaultParameter(node: SyntaxNode): void {
    const name = childByField(node, "name");
    const value = childByField(node, "value");
    if (!value) {
      const { indices, codes } = this.variableTokens(name);
      for (let i = 0; i < indices.length; i++) {
        this.out.push({ code: codes[i], idx: indices[i], relation: "comesFrom", names: [], indices: [] });
        this.bind(codes[i], indices[i]);
      }
      return;
    }
    const names = this.variableTokens(name);
    const values = this.variableTokens(value);
    this.visit(value);
    for (let i = 0; i < names.indices.length; i++) {
      for (let k = 0; k < values.indices.length; k++) {
        this.out.push({ code: names.codes[i], idx: names.indices[i], relation: "comesFrom", names: [values.codes[k]], indices: [values.indices[k]] });
      }
      this.bind(names.codes[i], names.indices[i]);
    }
  }

  /** Left and right sides paired as the reference pairs them (element-wise for tuples of equal length). */
  private sides(node: SyntaxNode): [(SyntaxNode | null)[], (SyntaxNode | null)[]] {
    const left = childByField(node, "left");
    const right = childByField(node, "right");
    if (!left || !right) throw new TypeError(`${node.type} without left or right`);
    let lefts: (SyntaxNode | null)[] = left.children.filter(notComma);
    let rights: (SyntaxNode | null)[] = right.children.filter(notComma);
    if (lefts.length !== rights.length) {
      lefts = [left];
      rights = [right];
    }
    if (!lefts.length) lefts = [left];
    if (!rights.length) rights = [right];
    return [lefts, rights];
  }

  /** The right sides, then a computedFrom entry for each variable of each left side, rebound. */
  private assign(lefts: (SyntaxNode | null)[], rights: (SyntaxNode | null)[]): void {
    for (const right of rights) {
      if (!right) throw new TypeError("DFG of None");
      this.visit(right);
    }
    const pairs = Math.min(lefts.length, rights.length);
    for (let i = 0; i < pairs; i++) {
      const targets = this.variableTokens(lefts[i]);
      const sources = this.variableTokens(rights[i]);
      for (let k = 0; k < targets.indices.length; k++) {
        this.out.push({ code: targets.codes[k], idx: targets.indices[k], relation: "computedFrom", names: sources.codes.slice(), indices: sources.indices.slice() });
        this.bind(targets.codes[k], targets.indices[k]);
      }
    }
  }

  private assignment(node: SyntaxNode): void {
    if (node.type === "for_in_clause") return this.assign([childByField(node, "left")], [node.children[node.children.length - 1] ?? null]);
    if (!childByField(node, "right")) return;
    const [lefts, rights] = this.sides(node);
    this.assign(lefts, rights);
  }

  private ifStatement(node: SyntaxNode): void {
    const before = this.share();
    const branches: States[] = [];
    let current = before;
    let hasElse = false;
    for (const child of node.children) {
      if (child.type.includes("else")) hasElse = true;
      if (child.type !== "elif_clause" && child.type !== "else_clause") {
        this.states = current;
        this.visit(child);
        current = this.share();
      } else {
        this.states = before;
        this.owned = false;
        this.visit(child);
        branches.push(this.share());
      }
    }
    branches.push(current);
    if (!hasElse) branches.push(before);
    // new_states[key] = sorted(set(all branches' indices)), keys in order of first appearance.
    // State lists are always sorted and distinct, so a list every branch shares stays as it is.
    const lists = new Map<string, number[][]>();
    for (const branch of branches) {
      for (const [key, indices] of branch) {
        const seen = lists.get(key);
        if (!seen) lists.set(key, [indices]);
        else if (!seen.includes(indices)) seen.push(indices);
      }
    }
    const merged: States = new Map();
    for (const [key, seen] of lists) merged.set(key, seen.length === 1 ? seen[0] : sortedUnique(seen.flat()));
    this.states = merged;
    this.owned = true;
  }

  private forPass(node: SyntaxNode): void {
    const [lefts, rights] = this.sides(node);
    this.assign(lefts, rights);
    const last = node.children[node.children.length - 1];
    if (last.type === "block") this.visit(last);
  }

  /** A loop is walked twice; its entries for the same (code, idx, relation) are then merged. */
  private loop(node: SyntaxNode): void {
    const start = this.out.length;
    for (let pass = 0; pass < 2; pass++) {
      if (node.type === "for_statement") this.forPass(node);
      else for (const child of node.children) this.visit(child);
    }
    // Keyed by (code, idx, relation) in the reference; the code is the text of token idx.
    const merged = new Map<number, DfgEntry>();
    for (let i = start; i < this.out.length; i++) {
      const entry = this.out[i];
      const key = entry.idx * 2 + (entry.relation === "comesFrom" ? 0 : 1);
      const seen = merged.get(key);
      if (!seen) merged.set(key, { ...entry });
      else {
        seen.names = this.policy.mergeNames(seen.names.concat(entry.names));
        seen.indices = sortedUnique(seen.indices.concat(entry.indices));
      }
    }
    this.out.length = start;
    for (const entry of byIndex([...merged.values()])) this.out.push(entry);
  }

  private sequence(node: SyntaxNode): void {
    const children = node.children;
    let clauses = false;
    for (const child of children) if (child.type === "for_in_clause") clauses = true;
    if (!clauses) {
      for (const child of children) this.visit(child);
      return;
    }
    // Comprehensions bind their loop variables before the element expression uses them.
    for (const child of children) if (child.type === "for_in_clause") this.visit(child);
    for (const child of children) if (child.type !== "for_in_clause") this.visit(child);
  }
}

function notComma(node: SyntaxNode): boolean {
  return node.type !== ",";
}

function byNumber(a: number, b: number): number {
  return a - b;
}

/** sorted(list(set(indices))) */
function sortedUnique(indices: number[]): number[] {
  let ordered = true;
  for (let i = 1; i < indices.length && ordered; i++) ordered = indices[i - 1] < indices[i];
  if (ordered) return indices.slice();
  return [...new Set(indices)].sort(byNumber);
}

function byEntryIndex(a: DfgEntry, b: DfgEntry): number {
  return a.idx - b.idx;
}

/** sorted(DFG, key=lambda x: x[1]): stable, by token index. */
function byIndex(dfg: DfgEntry[]): DfgEntry[] {
  return dfg.sort(byEntryIndex);
}

/**
 * get_data_flow after parsing: DFG_python from the root (an exception anywhere leaves no data
 * flow, as the reference's try/except does), then the entries that take part in an edge, with
 * entries of the same token merged.
 */
export function dataflowGraph(root: SyntaxNode, table: TokenTable, policy: DfgPolicy): DfgEntry[] {
  let dfg: DfgEntry[];
  try {
    const builder = new DfgBuilder(table, policy);
    builder.visit(root);
    dfg = byIndex(builder.out);
  } catch {
    dfg = [];
  }
  const linked = new Set<number>();
  for (const entry of dfg) {
    if (entry.indices.length) linked.add(entry.idx);
    for (const i of entry.indices) linked.add(i);
  }
  const merged = new Map<number, DfgEntry>();
  for (const entry of dfg) {
    if (!linked.has(entry.idx)) continue;
    const seen = merged.get(entry.idx);
    merged.set(
      entry.idx,
      seen
        ? { code: entry.code, idx: entry.idx, relation: entry.relation, names: policy.mergeNames([...seen.names, ...entry.names]), indices: policy.mergeIndices([...seen.indices, ...entry.indices]) }
        : entry,
    );
  }
  return [...merged.values()];
}

/** normalize_dataflow: variables renamed var_0, var_1, ... by first appearance (sources before the target). */
export function normalizeDataflow(dfg: readonly DfgEntry[]): string[] {
  const names = new Map<string, string>();
  const rename = (name: string): string => {
    let renamed = names.get(name);
    if (renamed === undefined) {
      renamed = `var_${names.size}`;
      names.set(name, renamed);
    }
    return renamed;
  };
  return dfg.map((entry) => {
    const sources = entry.names.map(rename);
    return `${rename(entry.code)}\u0000${entry.relation}\u0000${sources.join("\u0001")}`;
  });
}
