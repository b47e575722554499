// S-expressions of subtrees exactly as tree-sitter's ts_node_string prints them (what the reference
// gets from `str(node)`), built bottom-up in one pass instead of one WebAssembly call per node.
import type { SyntaxNode } from "./node";

export interface Subtree {
  sexp: string;
  depth: number;
  node: SyntaxNode;
}

function isVisible(node: SyntaxNode): boolean {
  return node.named || node.missing;
}

/** One thing a node prints between its parentheses: a visible descendant, or a hidden MISSING token. */
interface Printed {
  field: string | null;
  node?: SyntaxNode;
  /** `(MISSING _newline)`: tree-sitter prints a missing hidden token, which no child list shows. */
  missing?: string;
}

/** What a visible node prints inside its parentheses, in order: invisible children are see-through, fields inherited. */
function printed(node: SyntaxNode): Printed[] {
  const out: Printed[] = [];
  const markers = node.hiddenMissing;
  let next = 0;
  const add = (child: SyntaxNode, field: string | null): void => {
    if (isVisible(child)) {
      while (markers && next < markers.length && markers[next].before === child) out.push({ field: markers[next].field, missing: markers[next++].sexp });
      out.push({ field, node: child });
    } else for (const c of child.children) add(c, c.field ?? field);
  };
  for (const c of node.children) add(c, c.field);
  while (markers && next < markers.length) out.push({ field: markers[next].field, missing: markers[next++].sexp });
  return out;
}

function body(node: SyntaxNode, memo: Map<SyntaxNode, string>): string {
  const known = memo.get(node);
  if (known !== undefined) return known;
  let out: string;
  if (node.unexpected !== undefined) out = node.unexpected;
  else if (node.missing) out = `(MISSING ${node.named ? node.type : `"${node.type}"`})`;
  else out = `(${node.type}${inside(node, memo)})`;
  memo.set(node, out);
  return out;
}

function inside(node: SyntaxNode, memo: Map<SyntaxNode, string>): string {
  let out = "";
  for (const item of printed(node)) out += ` ${item.field ? `${item.field}: ` : ""}${item.node ? body(item.node, memo) : item.missing}`;
  return out;
}

/** `str(node)`: ts_node_string of one node. */
export function sexpOf(node: SyntaxNode, memo: Map<SyntaxNode, string> = new Map()): string {
  if (isVisible(node)) return body(node, memo);
  // An invisible root prints its name and its children but, as in tree-sitter, no closing parenthesis.
  if (!node.children.length) return `("${node.type}")`;
  return `(${node.type}${inside(node, memo)}`;
}

/**
 * Finds the hidden MISSING tokens (`_newline`, `_indent`, ...) that tree-sitter's own printing of
 * `root` shows and its child lists do not, and records them on the nodes that print them. Only
 * trees with errors have them; `printedByTreeSitter` is the root's toString() in our grammar's
 * own shape, which `root` must still have.
 */
export function recordHiddenMissing(root: SyntaxNode, printedByTreeSitter: string): void {
  const memo = new Map<SyntaxNode, string>();
  const text = printedByTreeSitter;
  let at = 0;
  const expect = (s: string): void => {
    if (!text.startsWith(s, at)) throw new Error(`s-expression out of step at ${at}: expected ${JSON.stringify(s)}, found ${JSON.stringify(text.slice(at, at + 40))}`);
    at += s.length;
  };
  /** A hidden MISSING token next (after its space and field label), if any: its label and text. */
  const hiddenAt = (): { field: string | null; sexp: string; length: number } | undefined => {
    const match = /^ (?:([a-z_]+): )?(\(MISSING _[A-Za-z0-9_]*\))/.exec(text.slice(at, at + 80));
    return match ? { field: match[1] ?? null, sexp: match[2], length: match[0].length } : undefined;
  };
  const visit = (node: SyntaxNode): void => {
    if (node.unexpected !== undefined || node.missing) return expect(body(node, memo));
    expect(`(${node.type}`);
    const markers: NonNullable<SyntaxNode["hiddenMissing"]> = [];
    const takeHidden = (before: SyntaxNode | null): void => {
      for (let hidden = hiddenAt(); hidden; hidden = hiddenAt()) {
        markers.push({ before, field: hidden.field, sexp: hidden.sexp });
        at += hidden.length;
      }
    };
    for (const item of printed(node)) {
      const child = item.node!;
      // A missing visible child prints like a hidden one only if its name starts with "_", which visible names never do.
      takeHidden(child);
      expect(` ${item.field ? `${item.field}: ` : ""}`);
      visit(child);
    }
    takeHidden(null);
    expect(")");
    if (markers.length) node.hiddenMissing = markers;
  };
  visit(root);
}

/**
 * The reference's get_all_sub_trees: every node that has children, with its depth (root 1),
 * in the order its stack pops them.
 */
export function allSubtrees(root: SyntaxNode): Subtree[] {
  const memo = new Map<SyntaxNode, string>();
  const out: Subtree[] = [];
  const stack: [SyntaxNode, number][] = [[root, 1]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    out.push({ sexp: sexpOf(node, memo), depth, node });
    for (const c of node.children) if (c.children.length) stack.push([c, depth + 1]);
  }
  return out;
}

interface TrieNode {
  id: number;
  next: Map<number, TrieNode> | undefined;
}

/** printed(node) for the common case without hidden MISSING tokens, with less allocation. */
function directItems(node: SyntaxNode): Printed[] {
  let simple = true;
  for (const c of node.children) if (!isVisible(c) && c.children.length) simple = false;
  if (!simple) return printed(node);
  const out: Printed[] = [];
  for (const c of node.children) if (isVisible(c)) out.push({ field: c.field, node: c });
  return out;
}

/**
 * Numbers for s-expressions: two subtrees get the same number exactly when their s-expressions are
 * equal. A node's number is found from its kind and its children's (field, number) pairs in a
 * trie, so no long string is made or hashed; one interner is shared by the trees being compared.
 */
const FIELD_CODES = new Map<string | null, number>([[null, 0]]);

/** A small number per field name (Python's grammar has a few dozen), the same for every interner. */
function fieldCode(field: string | null): number {
  let code = FIELD_CODES.get(field);
  if (code === undefined) {
    code = FIELD_CODES.size;
    if (code >= 128) throw new Error("more than 127 field names");
    FIELD_CODES.set(field, code);
  }
  return code;
}

export class SexpInterner {
  private count = 0;

  /** How many distinct s-expressions it has numbered. */
  get size(): number {
    return this.count;
  }

  private readonly heads = new Map<string, TrieNode>();

  private step(from: Map<number, TrieNode> | undefined, key: number, owner: TrieNode): TrieNode {
    const next = from ?? (owner.next = new Map());
    let node = next.get(key);
    if (!node) {
      node = { id: -1, next: undefined };
      next.set(key, node);
    }
    return node;
  }

  private idOf(node: SyntaxNode): number {
    if (node.sexpOwner === this) return node.sexpId!;
    let head: string;
    let keys: number[] | undefined;
    if (node.unexpected !== undefined) head = `U${node.unexpected}`;
    else if (node.missing) head = `M${node.named ? "n" : "a"}${node.type}`;
    else {
      // An invisible node with children prints without its closing parenthesis (see sexpOf).
      head = `${isVisible(node) ? "(" : "["}${node.type}`;
      keys = [];
      for (const item of node.hiddenMissing ? printed(node) : directItems(node)) {
        const id = item.node ? this.idOf(item.node) : this.leafId(`H${item.missing!}`);
        keys.push(id * 128 + fieldCode(item.field));
      }
    }
    let at = this.head(head);
    if (keys) for (const key of keys) at = this.step(at.next, key, at);
    if (at.id < 0) at.id = this.count++;
    node.sexpOwner = this;
    node.sexpId = at.id;
    return at.id;
  }

  private head(head: string): TrieNode {
    let at = this.heads.get(head);
    if (!at) {
      at = { id: -1, next: undefined };
      this.heads.set(head, at);
    }
    return at;
  }

  private leafId(head: string): number {
    const at = this.head(head);
    if (at.id < 0) at.id = this.count++;
    return at.id;
  }

  /** The numbers of allSubtrees(root), in the same order. */
  subtreeIds(root: SyntaxNode): number[] {
    const out: number[] = [];
    const stack: SyntaxNode[] = [root];
    while (stack.length) {
      const node = stack.pop()!;
      out.push(this.idOf(node));
      for (const c of node.children) if (c.children.length) stack.push(c);
    }
    return out;
  }
}
