// CodeBLEU on 1,000 pairs: our TypeScript (reference mode) against the reference package (the
// `codebleu` PyPI package in the project's venv, PYTHONHASHSEED=0) on the same pairs, in this one
// run. Prints both times, the speed-up and the largest difference of each component. Target: at
// least 5x faster, the same numbers. Never part of the pass/fail tests.
//   npm run bench:codebleu            (needs .venv and the HumanEval/MBPP data, see CODISTILL_DATA)
//
// Pairs come from scripts/make-codebleu-pairs.py (real solutions against their perturbations and
// other tasks' solutions). The reference times only its scoring loop (perf_counter, after its
// imports). Ours is timed in-process after the grammar has loaded: the first pass (cold JIT), then
// the best of three, each with a fresh scorer and its memo off so every pair parses all its code;
// and once more with the default memo, which parses a reference shared by several pairs once.
// Differences are over all pairs and over the pairs whose code both grammars parse alike
// (tree-sitter-python 0.21 for the reference, 0.25 for us; see test/unit/codebleu.parity.test.ts).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { stripWithTree } from "../src/core/codebleu/engine";
import { loadCodeBleu, type CodeBleuScores } from "../src/core/codebleu/index";
import { pyStrip } from "../src/core/codebleu/pythonCompat";
import { sexpOf } from "../src/core/codebleu/sexp";

const REPO = resolve(import.meta.dirname, "..");
const PYTHON = process.env.CODISTILL_PYTHON ?? join(REPO, ".venv", "bin", "python");
const PAIRS = 1000;
const KEYS: readonly (keyof CodeBleuScores)[] = ["ngram_match_score", "weighted_ngram_match_score", "syntax_match_score", "dataflow_match_score", "codebleu"];

interface Pair {
  ref: string | string[];
  hyp: string;
}

type ReferenceLine = CodeBleuScores & { refs: { sexp: string }[]; hyp: { sexp: string } };

function python(args: string[]): string {
  return execFileSync(PYTHON, args, { cwd: REPO, env: { ...process.env, PYTHONHASHSEED: "0" }, maxBuffer: 1 << 30, encoding: "utf8" });
}

function jsonLines<T>(text: string): T[] {
  return text
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as T);
}

async function timeOurs(pairs: Pair[], cacheSize: number): Promise<{ ms: number; scores: CodeBleuScores[] }> {
  const codeBleu = await loadCodeBleu({ cacheSize });
  const started = performance.now();
  const scores = pairs.map((p) => codeBleu.score(p.ref, p.hyp, { mode: "reference" }));
  return { ms: performance.now() - started, scores };
}

/** Whether both grammars see the same trees for every piece of code of a pair. */
function parsesAlike(pair: Pair, reference: ReferenceLine): boolean {
  const codes = [...(typeof pair.ref === "string" ? [pair.ref] : pair.ref), pair.hyp];
  const seen = [...reference.refs, reference.hyp];
  return codes.every((code, i) => sexpOf(stripWithTree(pyStrip(code), "reference").root) === seen[i].sexp);
}

function maxDifferences(ours: CodeBleuScores[], reference: ReferenceLine[], include: (i: number) => boolean): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of KEYS) {
    let max = 0;
    ours.forEach((s, i) => {
      if (include(i)) max = Math.max(max, Math.abs((s[key] ?? Number.NaN) - (reference[i][key] ?? Number.NaN)));
    });
    out[key] = max;
  }
  return out;
}

function formatDifferences(diffs: Record<string, number>): string {
  return KEYS.map((k) => `${k} ${diffs[k].toExponential(1)}`).join(", ");
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "codistill-codebleu-bench-"));
  try {
    const file = join(dir, "pairs.jsonl");
    python([join(REPO, "scripts", "make-codebleu-pairs.py"), "--count", String(PAIRS), "--out", file]);
    const pairs = jsonLines<Pair>(readFileSync(file, "utf8"));
    const distinct = new Set(pairs.flatMap((p) => [...(typeof p.ref === "string" ? [p.ref] : p.ref), p.hyp])).size;

    const lines = jsonLines<ReferenceLine | { timing: { seconds: number } }>(python([join(REPO, "scripts", "codebleu-reference.py"), file, "--time"]));
    const timing = lines.find((l): l is { timing: { seconds: number } } => "timing" in l)!;
    const reference = lines.filter((l): l is ReferenceLine => !("timing" in l));
    const referenceMs = timing.timing.seconds * 1000;

    const cold = await timeOurs(pairs, 0);
    const warm: number[] = [];
    let scores = cold.scores;
    for (let i = 0; i < 3; i++) {
      const run = await timeOurs(pairs, 0);
      warm.push(run.ms);
      scores = run.scores;
    }
    const best = Math.min(...warm);
    const memo = await timeOurs(pairs, 1024);

    const alike = pairs.map((p, i) => parsesAlike(p, reference[i]));
    const all = maxDifferences(scores, reference, () => true);
    const same = maxDifferences(scores, reference, (i) => alike[i]);
    const memoDiff = maxDifferences(memo.scores, scores as ReferenceLine[], () => true);

    const out = process.stdout;
    out.write(`CodeBLEU, ${pairs.length} pairs (${distinct} distinct pieces of code), reference mode\n`);
    out.write(`  reference package (codebleu 0.7.0, Python):  ${referenceMs.toFixed(0)} ms  (${(referenceMs / pairs.length).toFixed(2)} ms/pair)\n`);
    out.write(`  ours, first pass (cold JIT):                  ${cold.ms.toFixed(0)} ms  -> ${(referenceMs / cold.ms).toFixed(1)}x\n`);
    out.write(`  ours, best of 3 (memo off):                   ${best.toFixed(0)} ms  (${(best / pairs.length).toFixed(2)} ms/pair) -> ${(referenceMs / best).toFixed(1)}x faster\n`);
    out.write(`  ours, default memo (shared references once):  ${memo.ms.toFixed(0)} ms  -> ${(referenceMs / memo.ms).toFixed(1)}x faster\n`);
    out.write(`  max |ours - reference|, all pairs:            ${formatDifferences(all)}\n`);
    out.write(`  max |ours - reference|, ${alike.filter(Boolean).length} pairs parsed alike: ${formatDifferences(same)}\n`);
    out.write(`  (${alike.filter((a) => !a).length} pairs have code that tree-sitter-python 0.21 and 0.25 parse differently)\n`);
    out.write(`  max |memo - memo off|:                        ${formatDifferences(memoDiff)}\n`);
    const verdict = (x: number): string => `${x.toFixed(1)}x, ${x >= 5 ? "met" : "NOT met"}`;
    out.write(`  target >= 5x: default memo ${verdict(referenceMs / memo.ms)}; memo off ${verdict(referenceMs / best)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
