// What a programmer means by "the same structure", read off one unit: which control structures it
// uses (and where), and what its variables and its result are computed from. The dataflow comes
// from CodeBLEU's data-flow graph (src/core/codebleu/dataflow.ts), so the messages and the
// dataflow-match score describe the same graph.
import { dataflowOfCopy, type DataflowEdge } from "../codebleu/dataflow";
import type { SyntaxNode } from "../codebleu/tree";
import { field, namedChildren, type CodeUnit, type Span } from "./units";

export type ControlKind = "loop" | "comprehension" | "branch" | "try" | "recursion" | "return";

export interface ControlFacts {
  /** Where each kind occurs, in source order. */
  sites: Record<ControlKind, Span[]>;
  /** The deepest nesting of for/while loops (0 without a loop). */
  loopDepth: number;
  /** The outermost loop of that deepest nest. */
  deepestLoop: Span | null;
}

export interface DataflowFacts {
  parameters: Set<string>;
  /** Every variable the unit assigns (parameters excluded), with where it is first computed. */
  assigned: Map<string, Span>;
  /** Variable -> the variables and parameters it is (transitively) computed from -> the first assignment that does. */
  dependsOn: Map<string, Map<string, Span>>;
  /** What the values the unit returns are (transitively) computed from. */
  resultDependsOn: Set<string>;
}

export interface UnitFacts {
  control: ControlFacts;
  dataflow: DataflowFacts;
}

const LOOPS = new Set(["for_statement", "while_statement"]);
const COMPREHENSIONS = new Set(["list_comprehension", "set_comprehension", "dictionary_comprehension", "generator_expression"]);
const BRANCHES = new Set(["if_statement", "conditional_expression", "match_statement"]);
// A nested function or class is another scope: its loops are not this unit's loops.
const SCOPES = new Set(["function_definition", "class_definition", "lambda"]);

export function unitFacts(unit: CodeUnit): UnitFacts {
  const control = controlFacts(unit);
  return { control, dataflow: dataflowFacts(unit, control.sites.return) };
}

/** A function's body, or the whole module. */
function bodyOf(unit: CodeUnit): SyntaxNode {
  return unit.kind === "function" ? (field(unit.node, "body") ?? unit.node) : unit.node;
}

function emptySites(): Record<ControlKind, Span[]> {
  return { loop: [], comprehension: [], branch: [], try: [], recursion: [], return: [] };
}

function controlFacts(unit: CodeUnit): ControlFacts {
  const sites = emptySites();
  const ownName = unit.kind === "function" ? unit.name.split(".").pop() : undefined;
  let loopDepth = 0;
  let deepestLoop: Span | null = null;
  const spanOf = (node: SyntaxNode) => unit.source.span(node);
  const walk = (node: SyntaxNode, depth: number, outerLoop: Span | null): void => {
    for (const child of namedChildren(node)) {
      if (SCOPES.has(child.type)) continue;
      let childDepth = depth;
      let childOuter = outerLoop;
      if (LOOPS.has(child.type)) {
        sites.loop.push(spanOf(child));
        childDepth = depth + 1;
        childOuter = outerLoop ?? spanOf(child);
        if (childDepth > loopDepth) {
          loopDepth = childDepth;
          deepestLoop = childOuter;
        }
      } else if (COMPREHENSIONS.has(child.type)) sites.comprehension.push(spanOf(child));
      else if (BRANCHES.has(child.type)) sites.branch.push(spanOf(child));
      else if (child.type === "try_statement") sites.try.push(spanOf(child));
      else if (child.type === "return_statement" && namedChildren(child).length > 0) sites.return.push(spanOf(child));
      else if (child.type === "call" && ownName && calleeName(unit, child) === ownName) sites.recursion.push(spanOf(child));
      walk(child, childDepth, childOuter);
    }
  };
  walk(bodyOf(unit), 0, null);
  return { sites, loopDepth, deepestLoop };
}

/** `f(...)` -> "f"; `self.f(...)` -> "f" (a method calling itself). */
function calleeName(unit: CodeUnit, call: SyntaxNode): string | undefined {
  const fn = field(call, "function");
  const name = fn?.type === "attribute" ? field(fn, "attribute") : fn;
  return name?.type === "identifier" ? unit.source.text(name) : undefined;
}

/** `returns`: the unit's `return <value>` statements (ControlFacts found them). */
function dataflowFacts(unit: CodeUnit, returns: readonly Span[]): DataflowFacts {
  const { tokens, edges } = dataflowOfCopy(unit.node, unit.source.code, "default", unit.source.lines);
  const spanAt = (index: number): Span => ({ start: tokens[index]!.start, end: tokens[index]!.end });
  const parameterPositions = parameterStarts(unit);
  // From the signature, not the graph: the graph drops a parameter nothing reads.
  const parameters = new Set(parameterPositions.values());
  const assigned = new Map<string, Span>();
  const edgesAt = new Map<number, DataflowEdge[]>();
  for (const edge of edges) {
    const list = edgesAt.get(edge.index) ?? [];
    list.push(edge);
    edgesAt.set(edge.index, list);
    const token = tokens[edge.index];
    if (token && parameterPositions.has(positionKey(token.start))) continue;
    if (edge.relation === "computedFrom" && !assigned.has(edge.variable)) assigned.set(edge.variable, spanAt(edge.index));
  }
  const reach = reachability(edgesAt);
  const dependsOn = new Map<string, Map<string, Span>>();
  for (const edge of edges) {
    if (edge.relation !== "computedFrom" || parameters.has(edge.variable)) continue;
    const names = dependsOn.get(edge.variable) ?? new Map<string, Span>();
    for (const name of reach(edge.index)) if (name !== edge.variable && !names.has(name)) names.set(name, spanAt(edge.index));
    dependsOn.set(edge.variable, names);
  }
  const resultDependsOn = new Set<string>();
  tokens.forEach((token, index) => {
    if (!returns.some((span) => contains(span, token.start))) return;
    for (const name of reach(index)) resultDependsOn.add(name);
  });
  return { parameters, assigned, dependsOn, resultDependsOn };
}

/** The variable names a token's value flows from, following the graph's edges to their roots. */
function reachability(edgesAt: Map<number, DataflowEdge[]>): (index: number) => Set<string> {
  const memo = new Map<number, Set<string>>();
  const visit = (index: number, seen: Set<number>): Set<string> => {
    const cached = memo.get(index);
    if (cached) return cached;
    const names = new Set<string>();
    seen.add(index);
    for (const edge of edgesAt.get(index) ?? []) {
      names.add(edge.variable);
      edge.sourceIndices.forEach((source, i) => {
        const name = edge.sources[i];
        if (name !== undefined) names.add(name);
        // Loops make the graph cyclic; a token already on the path adds nothing new.
        if (!seen.has(source)) for (const reached of visit(source, seen)) names.add(reached);
      });
    }
    seen.delete(index);
    memo.set(index, names);
    return names;
  };
  return (index) => visit(index, new Set());
}

/** Where each parameter name is in the signature -> the name. */
function parameterStarts(unit: CodeUnit): Map<string, string> {
  const starts = new Map<string, string>();
  const collect = (node: SyntaxNode): void => {
    if (node.type === "identifier") {
      starts.set(positionKey(unit.source.point(node.startIndex)), unit.source.text(node));
      return;
    }
    // A default value or an annotation is not a parameter name.
    for (const child of namedChildren(node)) if (child.field !== "value" && child.field !== "type") collect(child);
  };
  const parameters = unit.kind === "function" ? field(unit.node, "parameters") : undefined;
  if (parameters) collect(parameters);
  return starts;
}

function positionKey(p: { row: number; column: number }): string {
  return `${p.row}:${p.column}`;
}

function contains(span: Span, p: { row: number; column: number }): boolean {
  const after = p.row > span.start.row || (p.row === span.start.row && p.column >= span.start.column);
  const before = p.row < span.end.row || (p.row === span.end.row && p.column < span.end.column);
  return after && before;
}
