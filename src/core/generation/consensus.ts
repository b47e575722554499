// Structural consensus: of k candidate programs for one prompt, choose the one most like the
// others in structure (CodeBLEU's syntax and dataflow match), and find the lines of the chosen one
// where the others disagree. The editor's `samples` setting and `codistill eval select` use it.
//
// Scores. sim(a, b) for one ordered pair is structuralMatch(b as the reference, a as the
// hypothesis): (syntax + dataflow) / 2, or syntax alone when the reference b has no dataflow
// (dataflow null: nothing to match, so it says nothing either way). Both matches count the
// reference's subtrees (edges) found in the hypothesis, so they are asymmetric: a short candidate
// is "contained" in a long one but not the reverse. The pairwise similarity is the mean of both
// directions, sym(a, b) = (sim(a, b) + sim(b, a)) / 2, so that it does not depend on which of the
// two is called the reference, and a candidate's score is its mean sym over the others.
//
// Choice. The highest score among the candidates that parse without error (tree-sitter ERROR or
// MISSING nodes); only when none does, among all of them. Ties go to the lowest index, so the
// choice is deterministic. Bad code never throws: a pair CodeBLEU cannot score counts 0.
//
// Disagreements. Each statement of a program (a child of the module, of a block or of a
// decorated definition, and each elif/else/except/finally/case clause) has a structural key: its
// syntax tree without identifier names, literal values and comments (CodeBLEU's s-expression,
// which keeps node kinds and field names) plus its anonymous tokens (operators and keywords, so
// that `<` and `<=` differ), where a compound statement (if, for, def, ...) keeps only its header:
// its bodies and clauses are statements of their own. A statement of the chosen candidate is
// agreed by another candidate when that candidate has a statement with the same key anywhere.
// A line of the chosen candidate that holds code (not blank, not only a comment) is a
// disagreement when, for one of the statements it belongs to (its header lines, or all the lines
// of a simple statement), fewer than half of the others agree; `agreeing` is the least count among
// them, `of` the number of others.
import type { CodeBleu } from "../codebleu/index";
import { loadCodeBleu } from "../codebleu/index";
import { parseToCopy } from "../codebleu/engine";
import { LineIndex, type SyntaxNode } from "../codebleu/tree";

export interface DisagreementLine {
  /** 0-based line of the chosen candidate. */
  line: number;
  /** How many of the other candidates have this line's statement structure (the least, where a line holds several statements). */
  agreeing: number;
  /** How many other candidates there are. */
  of: number;
}

export interface ConsensusChoice {
  /** The chosen candidate. */
  index: number;
  /** Per candidate: the mean over the others of the symmetric structural similarity (see the module comment); [1] for a single candidate. */
  scores: number[];
  /** Lines of the chosen candidate where fewer than half of the others agree structurally, in line order. */
  disagreements: DisagreementLine[];
}

export interface Consensus {
  choose(candidates: readonly string[]): ConsensusChoice;
}

/** Loads the CodeBLEU engine (the Python grammar) once; the returned chooser is synchronous. */
export async function loadConsensus(): Promise<Consensus> {
  const codeBleu = await loadCodeBleu();
  return { choose: (candidates) => choose(codeBleu, candidates) };
}

function choose(codeBleu: CodeBleu, candidates: readonly string[]): ConsensusChoice {
  if (!candidates.length) throw new Error("consensus: no candidates to choose from");
  if (candidates.length === 1) return { index: 0, scores: [1], disagreements: [] };
  // Sampling often repeats itself: each distinct program is parsed once.
  const distinct = new Map<string, Program>();
  const programs = candidates.map((code) => {
    let program = distinct.get(code);
    if (!program) distinct.set(code, (program = analyzeProgram(code)));
    return program;
  });
  const scores = meanSimilarities(codeBleu, candidates);
  const index = best(scores, programs);
  return { index, scores, disagreements: disagreements(programs, index) };
}

/** One direction: `hypothesis` scored against `reference`; 0 when CodeBLEU cannot score the pair. */
function directed(codeBleu: CodeBleu, reference: string, hypothesis: string): number {
  try {
    const { syntax, dataflow } = codeBleu.structuralMatch(reference, hypothesis, "default");
    const value = dataflow === null ? syntax : (syntax + dataflow) / 2;
    return Number.isFinite(value) ? value : 0;
  } catch {
    return 0;
  }
}

function meanSimilarities(codeBleu: CodeBleu, candidates: readonly string[]): number[] {
  const k = candidates.length;
  const sums = new Array<number>(k).fill(0);
  for (let a = 0; a < k; a++) {
    for (let b = a + 1; b < k; b++) {
      const same = candidates[a] === candidates[b];
      const sym = same ? directed(codeBleu, candidates[a], candidates[a]) : (directed(codeBleu, candidates[b], candidates[a]) + directed(codeBleu, candidates[a], candidates[b])) / 2;
      sums[a] += sym;
      sums[b] += sym;
    }
  }
  return sums.map((s) => s / (k - 1));
}

function best(scores: readonly number[], programs: readonly Program[]): number {
  const anyValid = programs.some((p) => !p.hasError);
  let chosen = -1;
  scores.forEach((score, i) => {
    if (anyValid && programs[i].hasError) return;
    if (chosen < 0 || score > scores[chosen]) chosen = i;
  });
  return chosen;
}

// ---------------------------------------------------------------------------------------------
// Statements and their structural keys

interface Statement {
  key: string;
  /** The lines it owns: a simple statement's all, a compound statement's header. */
  first: number;
  last: number;
}

interface Program {
  hasError: boolean;
  statements: Statement[];
  keys: Set<string>;
  /** Per line: whether it holds code (not blank, not only a comment). */
  code: boolean[];
}

/** Statement kinds whose children are statements. */
const CONTAINERS = new Set(["module", "block", "decorated_definition"]);
/** Children of a compound statement that are statements of their own (a body is a block). */
const CLAUSES = new Set(["elif_clause", "else_clause", "except_clause", "except_group_clause", "finally_clause", "case_clause"]);

function analyzeProgram(code: string): Program {
  let root: SyntaxNode;
  try {
    root = parseToCopy(code);
  } catch {
    return { hasError: true, statements: [], keys: new Set(), code: [] };
  }
  const lines = new LineIndex(code);
  const shapes = new Map<SyntaxNode, string>();
  const statements: Statement[] = [];
  const rowOf = (index: number): number => lines.point(index).row;
  const visitContainer = (node: SyntaxNode): void => {
    for (const child of node.children) {
      if (!child.named || child.type === "comment") continue;
      if (child.type === "decorated_definition") visitContainer(child);
      else visitStatement(child);
    }
  };
  const visitStatement = (node: SyntaxNode): void => {
    const header: SyntaxNode[] = [];
    for (const child of node.children) {
      if (child.type === "comment") continue;
      if (CONTAINERS.has(child.type)) visitContainer(child);
      else if (CLAUSES.has(child.type)) visitStatement(child);
      else header.push(child);
    }
    const first = rowOf(node.startIndex);
    const end = header.length ? header[header.length - 1].endIndex : node.endIndex;
    statements.push({ key: `${node.type}(${header.map((c) => shapeOf(c, shapes)).join(" ")})`, first, last: Math.max(first, rowOf(Math.max(end - 1, node.startIndex))) });
  };
  visitContainer(root);
  return {
    hasError: hasError(root),
    statements,
    keys: new Set(statements.map((s) => s.key)),
    code: code.split("\n").map((line) => {
      const text = line.trim();
      return text !== "" && !text.startsWith("#");
    }),
  };
}

/** A subtree's structure: kinds, fields and anonymous tokens; no names, values or comments. */
function shapeOf(node: SyntaxNode, memo: Map<SyntaxNode, string>): string {
  const known = memo.get(node);
  if (known !== undefined) return known;
  const field = node.field ? `${node.field}:` : "";
  let shape: string;
  if (node.missing) shape = `${field}(MISSING ${node.type})`;
  else if (!node.children.length) shape = node.named ? `${field}${node.type}` : `${field}${JSON.stringify(node.type)}`;
  else
    shape = `${field}(${node.type} ${node.children
      .filter((c) => c.type !== "comment")
      .map((c) => shapeOf(c, memo))
      .join(" ")})`;
  memo.set(node, shape);
  return shape;
}

function hasError(node: SyntaxNode): boolean {
  if (node.type === "ERROR" || node.missing) return true;
  return node.children.some(hasError);
}

function disagreements(programs: readonly Program[], index: number): DisagreementLine[] {
  const chosen = programs[index];
  const others = programs.filter((_, i) => i !== index);
  const of = others.length;
  const agreeingByKey = new Map<string, number>();
  const least = new Map<number, number>();
  for (const statement of chosen.statements) {
    let agreeing = agreeingByKey.get(statement.key);
    if (agreeing === undefined) {
      agreeing = others.filter((p) => p.keys.has(statement.key)).length;
      agreeingByKey.set(statement.key, agreeing);
    }
    for (let line = statement.first; line <= statement.last; line++) {
      if (!chosen.code[line]) continue;
      least.set(line, Math.min(least.get(line) ?? Infinity, agreeing));
    }
  }
  return [...least]
    .filter(([, agreeing]) => agreeing * 2 < of)
    .sort(([a], [b]) => a - b)
    .map(([line, agreeing]) => ({ line, agreeing, of }));
}
