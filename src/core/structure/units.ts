// The units the structural comparison works on: the functions of a Python file (methods named
// `Class.method`), or the whole module when neither side defines a function (TACO's stdin/stdout
// solutions). Nested functions stay inside their outer function: they are part of how it works.
// Units are read from CodeBLEU's plain copy of the tree (src/core/codebleu/tree.ts): walking it
// costs nothing, where every step through web-tree-sitter's nodes crosses into WebAssembly.
import { LineIndex, type SyntaxNode } from "../codebleu/tree";

export interface Position {
  /** 0-based line. */
  row: number;
  /** 0-based column, in UTF-16 code units (what VS Code and tree-sitter's JS binding use). */
  column: number;
}

export interface Span {
  start: Position;
  end: Position;
}

/** One file: its text, its copied tree, and offsets to positions. */
export class Source {
  readonly lines: LineIndex;

  constructor(
    readonly code: string,
    readonly root: SyntaxNode,
  ) {
    this.lines = new LineIndex(code);
  }

  span(node: SyntaxNode): Span {
    return { start: this.lines.point(node.startIndex), end: this.lines.point(node.endIndex) };
  }

  point(index: number): Position {
    return this.lines.point(index);
  }

  text(node: SyntaxNode): string {
    return this.code.slice(node.startIndex, node.endIndex);
  }
}

export interface CodeUnit {
  /** `solve`, `Solution.solve`, or `<module>`. */
  name: string;
  kind: "function" | "module";
  /** The definition (decorators included) or the whole file. */
  span: Span;
  /** Where a diagnostic or a Code Lens goes: the function's name, or the file's first line. */
  anchor: Span;
  /** The definition's source, dedented so that it parses on its own (a method is indented). */
  text: string;
  node: SyntaxNode;
  source: Source;
}

export const MODULE_UNIT = "<module>";

export function namedChildren(node: SyntaxNode): SyntaxNode[] {
  return node.children.filter((c) => c.named);
}

export function field(node: SyntaxNode, name: string): SyntaxNode | undefined {
  return node.children.find((c) => c.field === name);
}

/** Top-level functions and the methods of top-level classes, in source order. */
export function listUnits(source: Source): CodeUnit[] {
  const units: CodeUnit[] = [];
  const visit = (parent: SyntaxNode, prefix: string): void => {
    for (const child of namedChildren(parent)) {
      const definition = child.type === "decorated_definition" ? field(child, "definition") : child;
      if (!definition) continue;
      if (definition.type === "function_definition") units.push(functionUnit(source, child, definition, prefix));
      else if (definition.type === "class_definition") {
        const name = field(definition, "name");
        const body = field(definition, "body");
        if (body) visit(body, `${prefix}${name ? source.text(name) : ""}.`);
      }
    }
  };
  visit(source.root, "");
  return units;
}

/** The whole file as one unit. */
export function moduleUnit(source: Source): CodeUnit {
  const firstLine = source.code.split("\n", 1)[0] ?? "";
  return {
    name: MODULE_UNIT,
    kind: "module",
    span: { start: { row: 0, column: 0 }, end: source.point(source.code.length) },
    anchor: { start: { row: 0, column: 0 }, end: { row: 0, column: firstLine.length } },
    text: source.code,
    node: source.root,
    source,
  };
}

function functionUnit(source: Source, outer: SyntaxNode, definition: SyntaxNode, prefix: string): CodeUnit {
  const nameNode = field(definition, "name");
  const span = source.span(outer);
  return {
    name: `${prefix}${nameNode ? source.text(nameNode) : "<anonymous>"}`,
    kind: "function",
    span,
    anchor: source.span(nameNode ?? definition),
    text: dedentedLines(source.code, span),
    node: definition,
    source,
  };
}

/** The lines of `span`, less the indentation of its first line (so a method parses as a module). */
function dedentedLines(code: string, span: Span): string {
  const lines = code.split("\n").slice(span.start.row, span.end.row + 1);
  const indent = span.start.column;
  if (indent === 0) return lines.join("\n");
  // A continuation line indented less than the definition (inside a string, say) loses only what it has.
  return lines.map((line) => line.slice(Math.min(indent, line.length - line.trimStart().length))).join("\n");
}

export interface UnitPair {
  reference: CodeUnit;
  document: CodeUnit;
  matchedBy: "name" | "position" | "module";
}

/**
 * Pairs by name first (`solve` with `solve`), then the functions left over by their order in
 * the file, so a renamed function is still compared with its counterpart.
 */
export function pairUnits(reference: CodeUnit[], document: CodeUnit[]): UnitPair[] {
  const pairs: UnitPair[] = [];
  const freeReferences = new Set(reference);
  const freeDocuments: CodeUnit[] = [];
  for (const unit of document) {
    const counterpart = reference.find((r) => freeReferences.has(r) && r.name === unit.name);
    if (counterpart) {
      freeReferences.delete(counterpart);
      pairs.push({ reference: counterpart, document: unit, matchedBy: "name" });
    } else {
      freeDocuments.push(unit);
    }
  }
  const leftovers = [...freeReferences];
  freeDocuments.forEach((unit, i) => {
    const counterpart = leftovers[i];
    if (counterpart) pairs.push({ reference: counterpart, document: unit, matchedBy: "position" });
  });
  return pairs.sort((a, b) => a.document.span.start.row - b.document.span.start.row);
}
