// Dataset index on a large TACO-shaped dataset (bench/make-taco-large.py), Parquet and JSONL:
// time to the first page of the list, full index time, keyword search once indexed, task reads,
// and peak RSS growth. Prints figures; never part of the pass/fail tests.
// Targets: first page (open + first 100 summaries) <= 1.5 s, search <= 200 ms, RSS growth <= 300 MB.
//   .venv/bin/python bench/make-taco-large.py /tmp/codistill-taco-large
//   node --import tsx bench/datasets.bench.ts [/tmp/codistill-taco-large]
// Each format runs in a child process of its own, so one's memory does not count for the other.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { openDataset, pythonSyntax, type TaskFilter } from "../src/core/datasets/index";
import { FIRST_PAGE_ROWS } from "../src/core/datasets/registry";

// What the Dataset Browser asks for (through DatasetRegistry) before it shows the list.
const FIRST_PAGE = FIRST_PAGE_ROWS;
const SEARCHES: TaskFilter[] = [
  { text: "array" },
  { text: "minimal number of" },
  { text: "graph vertices edges" },
  { text: "string", difficulties: ["HARD", "VERY_HARD"] },
  { tags: ["Dynamic programming"] },
  { text: "zzzz-not-there" },
];

interface Figures {
  file: string;
  firstPageMs: number;
  firstTaskMs: number;
  indexMs: number;
  rows: number;
  rejected: number;
  searchMs: { filter: string; matched: number; ms: number }[];
  taskReadMs: number[];
  rssBaseMb: number;
  rssPeakGrowthMb: number;
  pythonOnlyFirstPageMs?: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function rssMb(): number {
  return process.memoryUsage.rss() / 1e6;
}

async function measure(file: string): Promise<Figures> {
  const base = rssMb();
  let peak = base;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb())), 10);

  const started = performance.now();
  const index = await openDataset(file, { format: "taco", firstPage: FIRST_PAGE });
  const page = index.summaries.slice(0, FIRST_PAGE);
  const firstPageMs = performance.now() - started;
  if (page.length < FIRST_PAGE) throw new Error(`first page has ${page.length} rows`);
  const t = performance.now();
  await index.task(0);
  const firstTaskMs = performance.now() - t;

  await index.whenIndexed();
  const indexMs = performance.now() - started;
  const searchMs = SEARCHES.map((filter) => {
    const runs: number[] = [];
    let matched = 0;
    for (let i = 0; i < 5; i++) {
      const s = performance.now();
      matched = index.search(filter).length;
      runs.push(performance.now() - s);
    }
    return { filter: JSON.stringify(filter), matched, ms: median(runs) };
  });
  const taskReadMs: number[] = [];
  for (const i of [12_345, 24_999, 7, 18_000, 3_333]) {
    const s = performance.now();
    await index.task(Math.min(i, index.summaries.length - 1));
    taskReadMs.push(performance.now() - s);
  }
  const stats = index.stats();
  await index.close();
  clearInterval(sampler);
  peak = Math.max(peak, rssMb());

  // The Python-only filter parses every solution with tree-sitter: its first page is timed alone.
  await pythonSyntax();
  const p = performance.now();
  const filtered = await openDataset(file, { format: "taco", firstPage: FIRST_PAGE, pythonOnly: true });
  const pythonOnlyFirstPageMs = performance.now() - p;
  await filtered.close();

  return {
    file,
    firstPageMs,
    firstTaskMs,
    indexMs,
    rows: stats.rows,
    rejected: stats.rejected.length,
    searchMs,
    taskReadMs,
    rssBaseMb: base,
    rssPeakGrowthMb: peak - base,
    pythonOnlyFirstPageMs,
  };
}

async function pythonRate(): Promise<string> {
  const examples = JSON.parse(
    (await import("node:fs")).readFileSync(join(process.env.CODISTILL_DATA ?? join(import.meta.dirname, "..", "..", "shared", "data"), "taco", "taco_generation_example.json"), "utf8"),
  ) as { output: string[] }[];
  const python = await pythonSyntax();
  const codes = examples.map((e) => e.output[0]!);
  const bytes = codes.reduce((n, c) => n + Buffer.byteLength(c), 0);
  const s = performance.now();
  let ok = 0;
  for (const code of codes) if (python.parsesAsPython3(code)) ok++;
  const ms = performance.now() - s;
  return `${codes.length} real TACO solutions (${(bytes / 1e6).toFixed(2)} MB) checked in ${ms.toFixed(0)} ms = ${(bytes / 1e3 / ms).toFixed(2)} MB/s, ${ok} parse as Python 3`;
}

function report(f: Figures): void {
  console.log(`\n${f.file}`);
  console.log(`  first page (open + ${FIRST_PAGE} summaries): ${f.firstPageMs.toFixed(0)} ms (target <= 1500 ms); task(0) then ${f.firstTaskMs.toFixed(0)} ms`);
  console.log(`  full index: ${f.rows} rows, ${f.rejected} rejected, in ${(f.indexMs / 1000).toFixed(1)} s`);
  for (const s of f.searchMs) console.log(`  search ${s.filter}: ${s.matched} matches in ${s.ms.toFixed(1)} ms (target <= 200 ms)`);
  console.log(`  task(i) on the full index: ${f.taskReadMs.map((ms) => ms.toFixed(0)).join(", ")} ms`);
  console.log(`  RSS: ${f.rssBaseMb.toFixed(0)} MB before open, peak growth ${f.rssPeakGrowthMb.toFixed(0)} MB (target <= 300 MB)`);
  if (f.pythonOnlyFirstPageMs !== undefined) console.log(`  python-only first page: ${f.pythonOnlyFirstPageMs.toFixed(0)} ms`);
}

if (process.argv[2] === "--child") {
  process.stdout.write(JSON.stringify(await measure(process.argv[3]!)));
} else {
  const folder = process.argv[2] ?? "/tmp/codistill-taco-large";
  const files = ["taco-large.parquet", "taco-large.jsonl"].map((f) => join(folder, f));
  for (const file of files) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run .venv/bin/python bench/make-taco-large.py ${folder}`);
  }
  console.log(`dataset bench (node ${process.version}, ${(await import("node:os")).cpus().length} CPUs)`);
  for (const file of files) {
    const out = execFileSync(process.execPath, ["--import", "tsx", import.meta.filename, "--child", file], { encoding: "utf8", maxBuffer: 1 << 24, stdio: ["ignore", "pipe", "inherit"] });
    report(JSON.parse(out) as Figures);
  }
  console.log(`\npython-only check rate: ${await pythonRate()}`);
}
