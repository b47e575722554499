// A Python document against its reference, function by function: CodeBLEU's syntax and
// dataflow match per function, and what differs, said the way a reviewer would say it. The host
// (src/diagnostics) turns the report into diagnostics, Code Lenses and hovers.
import { loadCodeBleu, type CodeBleu } from "../codebleu/index";
import { copyTree } from "../codebleu/tree";
import { pythonGrammar } from "../python/grammar";
import { unitFacts, type ControlKind, type UnitFacts } from "./facts";
import { listUnits, moduleUnit, pairUnits, Source, type CodeUnit, type Span, type UnitPair } from "./units";

export interface StructureThresholds {
  /** A function whose lower score is below this gets an Information diagnostic. */
  informationBelow: number;
  /** ... and below this, a Warning. */
  warningBelow: number;
}

export const DEFAULT_THRESHOLDS: StructureThresholds = { informationBelow: 0.8, warningBelow: 0.5 };

export type Severity = "none" | "information" | "warning";

export interface Finding {
  message: string;
  /** Where it shows in the document, when it is one place. */
  document: Span | null;
  /** The corresponding place in the reference. */
  reference: Span | null;
}

export interface UnitComparison {
  /** The document's function (or `<module>`). */
  name: string;
  referenceName: string;
  matchedBy: UnitPair["matchedBy"];
  document: { span: Span; anchor: Span };
  reference: { span: Span; anchor: Span };
  syntax: number;
  /** null when the reference function has no dataflow to match (no variables at all). */
  dataflow: number | null;
  findings: Finding[];
  severity: Severity;
  /** "syntax 0.62 · dataflow 0.40". */
  scores: string;
  /** The diagnostic's text: a headline, then one finding per line. */
  message: string;
}

export interface StructureReport {
  units: UnitComparison[];
  /** Reference functions with no counterpart in the document. */
  missing: { name: string; span: Span }[];
}

export interface StructureComparer {
  compare(reference: string, document: string, thresholds?: StructureThresholds): StructureReport;
}

/** At most this many dataflow findings per function: past that they repeat one cause. */
const MAX_DATAFLOW_FINDINGS = 4;

export interface StructureComparerOptions {
  /**
   * Analysed functions CodeBLEU remembers by text (default 1024): while the user types in one
   * function, the reference's and the other functions' analyses are reused. 0 analyses all each time.
   */
  cacheSize?: number;
}

export async function loadStructureComparer(options: StructureComparerOptions = {}): Promise<StructureComparer> {
  const [grammar, codebleu] = await Promise.all([pythonGrammar(), loadCodeBleu(options.cacheSize === undefined ? {} : { cacheSize: options.cacheSize })]);
  const parser = grammar.newParser();
  /** The file as CodeBLEU's plain copy of its tree: read many times, it is copied out of WebAssembly once. */
  const read = (code: string): Source => {
    const tree = parser.parse(code);
    if (!tree) throw new Error("tree-sitter returned no tree");
    try {
      return new Source(code, copyTree(tree.rootNode));
    } finally {
      tree.delete();
    }
  };
  return {
    compare: (reference, document, thresholds = DEFAULT_THRESHOLDS) => compareSources(codebleu, read(reference), read(document), thresholds),
  };
}

function compareSources(codebleu: CodeBleu, reference: Source, document: Source, thresholds: StructureThresholds): StructureReport {
  const referenceUnits = listUnits(reference);
  const documentUnits = listUnits(document);
  const pairs: UnitPair[] =
    referenceUnits.length && documentUnits.length
      ? pairUnits(referenceUnits, documentUnits)
      : [{ reference: moduleUnit(reference), document: moduleUnit(document), matchedBy: "module" }];
  const paired = new Set(pairs.map((p) => p.reference));
  return {
    units: pairs.map((pair) => compareUnits(codebleu, pair, thresholds)),
    missing: pairs[0]?.matchedBy === "module" ? [] : referenceUnits.filter((u) => !paired.has(u)).map((u) => ({ name: u.name, span: u.anchor })),
  };
}

function compareUnits(codebleu: CodeBleu, pair: UnitPair, thresholds: StructureThresholds): UnitComparison {
  const { syntax, dataflow } = codebleu.structuralMatch(pair.reference.text, pair.document.text, "default");
  const referenceFacts = unitFacts(pair.reference);
  const documentFacts = unitFacts(pair.document);
  const name = pair.document.name;
  const findings = [...controlFindings(name, referenceFacts, documentFacts), ...dataflowFindings(name, pair, referenceFacts, documentFacts)];
  const scores = `syntax ${syntax.toFixed(2)} · dataflow ${dataflow === null ? "n/a" : dataflow.toFixed(2)}`;
  const severity = severityOf(Math.min(syntax, dataflow ?? 1), thresholds);
  const subject = pair.document.kind === "module" ? "This file" : `\`${name}\``;
  const counterpart = pair.matchedBy === "position" ? ` (compared with the reference's \`${pair.reference.name}\`)` : "";
  const headline = `${subject} differs in structure from the reference${counterpart}: ${scores}.`;
  return {
    name,
    referenceName: pair.reference.name,
    matchedBy: pair.matchedBy,
    document: { span: pair.document.span, anchor: pair.document.anchor },
    reference: { span: pair.reference.span, anchor: pair.reference.anchor },
    syntax,
    dataflow,
    findings,
    severity,
    scores,
    message: [headline, ...findings.map((f) => `- ${f.message}`)].join("\n"),
  };
}

function severityOf(score: number, thresholds: StructureThresholds): Severity {
  if (score < thresholds.warningBelow) return "warning";
  if (score < thresholds.informationBelow) return "information";
  return "none";
}

/** "inside `solve`", or nothing for a whole module. */
function inside(name: string): string {
  return name === "<module>" ? "" : ` inside \`${name}\``;
}

function first(facts: UnitFacts, kind: ControlKind): Span | null {
  return facts.control.sites[kind][0] ?? null;
}

function has(facts: UnitFacts, kind: ControlKind): boolean {
  return facts.control.sites[kind].length > 0;
}

function controlFindings(name: string, reference: UnitFacts, document: UnitFacts): Finding[] {
  const findings: Finding[] = [];
  const add = (message: string, kind: ControlKind | null, referenceSpan?: Span | null, documentSpan?: Span | null): void => {
    findings.push({
      message,
      reference: referenceSpan !== undefined ? referenceSpan : kind ? first(reference, kind) : null,
      document: documentSpan !== undefined ? documentSpan : kind ? first(document, kind) : null,
    });
  };
  const at = inside(name);
  const iterates = (f: UnitFacts) => has(f, "loop") || has(f, "comprehension");
  if (has(reference, "loop") && !iterates(document)) add(`the reference loops${at}; this version has no loop`, "loop");
  else if (has(reference, "comprehension") && !iterates(document)) add(`the reference iterates${at} (a comprehension); this version never iterates`, "comprehension");
  else if (!iterates(reference) && has(document, "loop")) add(`this version loops${at}; the reference has no loop`, "loop");
  else if (reference.control.loopDepth > 1 && document.control.loopDepth > 0 && document.control.loopDepth < reference.control.loopDepth) {
    add(`the reference nests ${reference.control.loopDepth} loops${at}; this version nests ${document.control.loopDepth}`, null, reference.control.deepestLoop, document.control.deepestLoop);
  } else if (document.control.loopDepth > 1 && reference.control.loopDepth > 0 && document.control.loopDepth > reference.control.loopDepth) {
    add(`this version nests ${document.control.loopDepth} loops${at}; the reference nests ${reference.control.loopDepth}`, null, reference.control.deepestLoop, document.control.deepestLoop);
  }
  if (has(reference, "branch") && !has(document, "branch")) add(`the reference branches (if)${at}; this version has no condition`, "branch");
  else if (!has(reference, "branch") && has(document, "branch")) add(`this version branches (if)${at}; the reference has no condition`, "branch");
  if (has(reference, "recursion") && !has(document, "recursion")) add(`the reference is recursive (\`${name.split(".").pop()}\` calls itself); this version is not`, "recursion");
  else if (!has(reference, "recursion") && has(document, "recursion")) add(`this version is recursive; the reference is not`, "recursion");
  if (has(reference, "try") && !has(document, "try")) add(`the reference handles exceptions (try)${at}; this version does not`, "try");
  else if (!has(reference, "try") && has(document, "try")) add(`this version catches exceptions (try)${at}; the reference does not`, "try");
  if (has(reference, "return") && !has(document, "return")) add(`the reference returns a value${at ? ` from \`${name}\`` : ""}; this version never returns one`, "return");
  return findings;
}

function dataflowFindings(name: string, pair: UnitPair, reference: UnitFacts, document: UnitFacts): Finding[] {
  const findings: Finding[] = [];
  const own = (unit: CodeUnit) => unit.name.split(".").pop();
  const ignored = new Set([own(pair.reference), own(pair.document)]);
  const documentNames = new Set([...document.dataflow.parameters, ...document.dataflow.assigned.keys()]);
  const known = (variable: string) => documentNames.has(variable) && !ignored.has(variable);

  if (first(document, "return")) {
    for (const parameter of reference.dataflow.parameters) {
      if (!known(parameter) || !document.dataflow.parameters.has(parameter)) continue;
      if (reference.dataflow.resultDependsOn.has(parameter) && !document.dataflow.resultDependsOn.has(parameter)) {
        const subject = pair.document.kind === "module" ? "the result" : `the result of \`${name}\``;
        findings.push({ message: `in the reference ${subject} depends on \`${parameter}\`; here it never does`, reference: first(reference, "return"), document: first(document, "return") });
      }
    }
  }
  for (const [variable, sources] of reference.dataflow.dependsOn) {
    if (!document.dataflow.assigned.has(variable) || ignored.has(variable)) continue;
    const documentSources = document.dataflow.dependsOn.get(variable);
    for (const [source, where] of sources) {
      if (source === variable || !known(source) || documentSources?.has(source)) continue;
      findings.push({
        message: `in the reference \`${variable}\` is computed from \`${source}\`; here \`${variable}\` never depends on \`${source}\``,
        reference: where,
        document: document.dataflow.assigned.get(variable) ?? null,
      });
    }
  }
  return findings.slice(0, MAX_DATAFLOW_FINDINGS);
}
