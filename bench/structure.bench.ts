// Structural comparison of a 200-line Python file against its reference, as the inline
// diagnostics run it after an edit (parse both, list and pair the functions, syntax and dataflow
// match and the findings per function). Prints figures; never part of the pass/fail tests.
// Target: p95 <= 30 ms after warm-up, with nothing remembered between runs (every function of both
// files parsed and analysed). Also printed: the usual case while typing, where CodeBLEU's memo
// still holds the reference and the functions the keystroke did not touch.
//   npm run bench:structure          (node --import tsx bench/structure.bench.ts)
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { loadStructureComparer, type StructureComparer } from "../src/core/structure/index";

const DATA = process.env.CODISTILL_DATA ?? join(import.meta.dirname, "..", "..", "shared", "data");
const TARGET_LINES = 200;
const WARM_UP = 10;
const RUNS = 100;

/** Real MBPP solutions with one function each, joined until the file has 200 lines. */
function twoHundredLineFile(): string {
  const parts: string[] = [];
  let lines = 0;
  for (const line of readFileSync(join(DATA, "mbpp", "mbpp.jsonl"), "utf8").split("\n")) {
    if (!line || lines >= TARGET_LINES) continue;
    const code = (JSON.parse(line) as { code: string }).code.replace(/\r\n/g, "\n").trimEnd();
    if ((code.match(/^def /gm) ?? []).length !== 1 || code.split("\n").length < 6) continue;
    parts.push(code);
    lines += code.split("\n").length + 1;
  }
  return `${parts.join("\n\n")}\n`;
}

/** What an edit in progress looks like: some loops gone, some operators changed, a name changed. */
function edited(reference: string): string {
  return reference
    .replace(/for (\w+) in range\((\w+)\)/g, "for $1 in range($2 - 1)")
    .replace(/ \+= /g, " -= ")
    .replace(/\bresult\b/g, "res");
}

/** The document after the run-th keystroke: a new comment-free statement in one function. */
function typed(document: string, run: number): string {
  const lines = document.split("\n");
  const defs = lines.flatMap((line, i) => (line.startsWith("def ") ? [i] : []));
  const at = defs[run % defs.length]! + 1;
  lines.splice(at, 0, `    typed_${run} = ${run}`);
  return lines.join("\n");
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function measure(comparer: StructureComparer, reference: string, documentAt: (run: number) => string): number[] {
  for (let i = 0; i < WARM_UP; i++) comparer.compare(reference, documentAt(i));
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const document = documentAt(WARM_UP + i);
    const started = performance.now();
    comparer.compare(reference, document);
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b);
}

function line(label: string, times: number[]): string {
  return `  ${label.padEnd(44)} p50 ${percentile(times, 50).toFixed(1).padStart(5)} ms   p95 ${percentile(times, 95).toFixed(1).padStart(5)} ms   max ${times[times.length - 1]!.toFixed(1).padStart(5)} ms`;
}

const reference = twoHundredLineFile();
const document = edited(reference);
const loadStarted = performance.now();
const uncached = await loadStructureComparer({ cacheSize: 0 });
const loadMs = performance.now() - loadStarted;
const report = uncached.compare(reference, document);
const flagged = report.units.filter((u) => u.severity !== "none").length;
console.log(`structure comparison, ${reference.split("\n").length - 1}-line file against its edited copy (${report.units.length} functions, ${flagged} flagged), ${RUNS} runs after ${WARM_UP} warm-up:`);
console.log(line("whole file, nothing remembered (target p95 <= 30 ms)", measure(uncached, reference, () => document)));
console.log(line("after a keystroke in one function (memo on)", measure(await loadStructureComparer(), reference, (run) => typed(document, run))));
console.log(`  first load (grammar + CodeBLEU tables): ${loadMs.toFixed(0)} ms`);
