// CodeBLEU (Ren et al. 2020) for Python in pure TypeScript: BLEU, keyword-weighted n-gram match,
// AST subtree match and data-flow match, combined 0.25 each by default. "reference" mode gives the
// numbers of the `codebleu` package on PyPI (calc_codebleu(lang="python"), PYTHONHASHSEED=0),
// quirks included; "default" mode fixes the quirks (see the README's CodeBLEU section).
import { bleu, NgramCounts, weightedBleu } from "./bleu";
import { analyze, loadEngine, stripWithTree, type Analysis } from "./engine";
import { pySplit, pyStrip } from "./pythonCompat";
import { SexpInterner } from "./sexp";

export type CodeBleuMode = "reference" | "default";

export interface CodeBleuScores {
  ngram_match_score: number;
  weighted_ngram_match_score: number;
  syntax_match_score: number;
  /** null in default mode when the reference has no dataflow (the reference package says 0 and warns). */
  dataflow_match_score: number | null;
  codebleu: number;
}

export interface CodeBleuOptions {
  mode?: CodeBleuMode /* default "default" */;
  weights?: readonly [number, number, number, number];
  /** Told what the reference package logs as a warning (a reference without data flow). */
  onWarning?: (message: string) => void;
}

export interface CodeBleu {
  /** One hypothesis against one or more references of the same task (calc_codebleu with one prediction). */
  score(references: string | readonly string[], hypothesis: string, options?: CodeBleuOptions): CodeBleuScores;
  syntaxMatch(references: string | readonly string[], hypothesis: string, mode?: CodeBleuMode): number;
  dataflowMatch(references: string | readonly string[], hypothesis: string, mode?: CodeBleuMode): number | null;
  /** Both structural components from one analysis of each piece of code (what the diagnostics show). */
  structuralMatch(references: string | readonly string[], hypothesis: string, mode?: CodeBleuMode): { syntax: number; dataflow: number | null };
}

export const DEFAULT_WEIGHTS: readonly [number, number, number, number] = [0.25, 0.25, 0.25, 0.25];

const NO_DATAFLOW_WARNING =
  "There is no reference data-flows extracted from the whole corpus, and the data-flow match score degenerates to 0. Please consider ignoring this score.";

/** The stripped and analysed forms of one hypothesis and its references, as the reference pairs them. */
interface Prepared {
  references: Analysis[];
  /** candidates[i] goes with references[i]: the reference strips the candidate again for each reference. */
  candidates: Analysis[];
}

interface Analysed {
  /** The code after comment and docstring removal. */
  stripped: string;
  analysis: Analysis;
}

/**
 * Strips and analyses code, remembering the last `capacity` results: evaluations score many
 * hypotheses against the same reference (and the same hypothesis against several references).
 * S-expression numbers are only comparable within one interner, so the memo and the interner are
 * dropped together.
 */
class Analyses {
  private interner = new SexpInterner();
  private readonly memo = new Map<string, Analysed>();

  constructor(private readonly capacity: number) {}

  of(code: string, mode: CodeBleuMode): Analysed {
    const key = `${mode}\u0000${code}`;
    const known = this.memo.get(key);
    if (known) {
      this.memo.delete(key);
      this.memo.set(key, known);
      return known;
    }
    const stripped = stripWithTree(code, mode);
    const analysed = { stripped: stripped.code, analysis: analyze(stripped, mode, this.interner) };
    if (this.capacity > 0) {
      if (this.memo.size >= this.capacity) this.memo.delete(this.memo.keys().next().value!);
      this.memo.set(key, analysed);
    }
    return analysed;
  }

  /** Between scores: a fresh interner when nothing is remembered, or when it has grown large. */
  settle(): void {
    if (this.capacity === 0 || this.interner.size > 200_000) {
      this.memo.clear();
      this.interner = new SexpInterner();
    }
  }

  prepare(references: readonly string[], hypothesis: string, mode: CodeBleuMode): Prepared {
    this.settle();
    const refs = references.map((r) => this.of(r, mode).analysis);
    const candidates: Analysis[] = [];
    let candidate = this.of(hypothesis, mode);
    for (let i = 0; i < references.length; i++) {
      if (i > 0 && mode === "reference") candidate = this.of(candidate.stripped, mode);
      candidates.push(candidate.analysis);
    }
    return { references: refs, candidates };
  }
}

function syntaxScore(prepared: Prepared): number {
  let matched = 0;
  let total = 0;
  prepared.references.forEach((ref, i) => {
    const candidate = new Set(prepared.candidates[i].sexps);
    for (const sexp of ref.sexps) if (candidate.has(sexp)) matched++;
    total += ref.sexps.length;
  });
  return matched / total;
}

/** Matched reference edges over all reference edges, each candidate edge used once; undefined without reference edges. */
function dataflowScore(prepared: Prepared): number | undefined {
  let matched = 0;
  let total = 0;
  prepared.references.forEach((ref, i) => {
    if (!ref.dataflow.length) return;
    total += ref.dataflow.length;
    const available = new Map<string, number>();
    for (const edge of prepared.candidates[i].dataflow) available.set(edge, (available.get(edge) ?? 0) + 1);
    for (const edge of ref.dataflow) {
      const left = available.get(edge) ?? 0;
      if (left > 0) {
        matched++;
        available.set(edge, left - 1);
      }
    }
  });
  return total === 0 ? undefined : matched / total;
}

function dataflowForMode(score: number | undefined, mode: CodeBleuMode, onWarning?: (message: string) => void): number | null {
  if (score !== undefined) return score;
  onWarning?.(NO_DATAFLOW_WARNING);
  return mode === "reference" ? 0 : null;
}

/**
 * Reference: α·ngram + β·weighted + γ·syntax + θ·(dataflow or 1), so a data-flow score of 0 counts
 * as 1 (codebleu issue #59). Default: the real data-flow score; without one, the weights of the
 * three other components are scaled up to the same total.
 */
function combined(parts: readonly [number, number, number, number | null], weights: readonly [number, number, number, number], mode: CodeBleuMode): number {
  const [a, b, c, d] = weights;
  const [ngram, weighted, syntax, dataflow] = parts;
  const three = a * ngram + b * weighted + c * syntax;
  if (mode === "reference") return three + d * (dataflow || 1);
  if (dataflow !== null) return three + d * dataflow;
  const kept = a + b + c;
  return kept === 0 ? 0 : (three * (kept + d)) / kept;
}

function listOf(references: string | readonly string[]): string[] {
  const list = typeof references === "string" ? [references] : [...references];
  if (!list.length) throw new Error("CodeBLEU needs at least one reference");
  return list;
}

function checkWeights(weights: readonly number[]): readonly [number, number, number, number] {
  if (weights.length !== 4 || weights.some((w) => !Number.isFinite(w))) throw new Error(`CodeBLEU weights must be 4 finite numbers, got [${weights.join(", ")}]`);
  return weights as unknown as readonly [number, number, number, number];
}

function score(analyses: Analyses, references: string | readonly string[], hypothesis: string, options: CodeBleuOptions = {}): CodeBleuScores {
  const mode = options.mode ?? "default";
  const weights = checkWeights(options.weights ?? DEFAULT_WEIGHTS);
  const refs = listOf(references).map(pyStrip);
  const hyp = pyStrip(hypothesis);
  const refTokens = refs.map(pySplit);
  const hypTokens = pySplit(hyp);
  const prepared = analyses.prepare(refs, hyp, mode);
  const ngrams = new NgramCounts([...refTokens, hypTokens]);
  const ngram = bleu(refTokens, hypTokens, ngrams);
  const weighted = weightedBleu(refTokens, hypTokens, ngrams);
  const syntax = syntaxScore(prepared);
  const dataflow = dataflowForMode(dataflowScore(prepared), mode, options.onWarning);
  return {
    ngram_match_score: ngram,
    weighted_ngram_match_score: weighted,
    syntax_match_score: syntax,
    dataflow_match_score: dataflow,
    codebleu: combined([ngram, weighted, syntax, dataflow], weights, mode),
  };
}

export interface LoadCodeBleuOptions {
  /**
   * How many stripped-and-analysed pieces of code to remember (default 1024): a reference scored
   * against many hypotheses is parsed once. 0 analyses every piece of code at every call.
   */
  cacheSize?: number;
}

function createCodeBleu(cacheSize: number): CodeBleu {
  const analyses = new Analyses(cacheSize);
  return {
    score: (references, hypothesis, options) => score(analyses, references, hypothesis, options),
    // corpus_syntax_match / corpus_dataflow_match called on their own do not trim the code first.
    syntaxMatch: (references, hypothesis, mode = "default") => syntaxScore(analyses.prepare(listOf(references), hypothesis, mode)),
    dataflowMatch: (references, hypothesis, mode = "default") => dataflowForMode(dataflowScore(analyses.prepare(listOf(references), hypothesis, mode)), mode),
    structuralMatch: (references, hypothesis, mode = "default") => {
      const prepared = analyses.prepare(listOf(references), hypothesis, mode);
      return { syntax: syntaxScore(prepared), dataflow: dataflowForMode(dataflowScore(prepared), mode) };
    },
  };
}

/** Loads the Python grammar once; the returned scorer is synchronous. */
export async function loadCodeBleu(options: LoadCodeBleuOptions = {}): Promise<CodeBleu> {
  const cacheSize = options.cacheSize ?? 1024;
  if (!Number.isInteger(cacheSize) || cacheSize < 0) throw new Error(`loadCodeBleu: cacheSize must be a non-negative integer, got ${cacheSize}`);
  await loadEngine();
  return createCodeBleu(cacheSize);
}

export { stripCommentsAndDocstrings, subtreeSexps } from "./syntax";
export { extractDataflow, type CodeToken, type DataflowEdge } from "./dataflow";
