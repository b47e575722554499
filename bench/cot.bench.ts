// Reasoning generation against a loopback teacher with a fixed latency L per request and
// concurrency c: the whole path (dataset index, prompt rendering, HTTP, parsing, validation,
// append to the CoT set). The teacher answers from its own process, as a real one runs elsewhere.
// Prints figures; never part of the pass/fail tests.
// Targets: on 500 tasks the achieved rate is >= 0.9 * c / L; over 10,000 tasks the heap stays
// flat (the store keeps a small entry per task, never the records).
//   npm run bench:cot          (node --expose-gc --import tsx bench/cot.bench.ts)
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { datasetTasks, generateCots } from "../src/core/cot/generate";
import { promptTemplate } from "../src/core/cot/prompt";
import { rationalize } from "../src/core/cot/rationalizer";
import { teacherSource } from "../src/core/cot/sources";
import { CotStore } from "../src/core/cot/store";
import { TeacherClient } from "../src/core/cot/teacher";
import { openDataset } from "../src/core/datasets/index";
import { spawn } from "node:child_process";
import { once } from "node:events";

const DATA = process.env.CODISTILL_DATA ?? join(import.meta.dirname, "..", "..", "shared", "data");
const TEMPLATE = promptTemplate("=== system ===\nYou explain.\n=== user ===\nTask id: {{taskId}}\n{{prompt}}\n", "bench");
const tmp = mkdtempSync(join(tmpdir(), "codistill-cot-bench-"));

function writeTasks(count: number): string {
  const path = join(tmp, `tasks-${count}.jsonl`);
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const prompt = `Write a function add_${i}(a, b) that returns the sum of a and b, and ${i} more words of a realistic task description.`;
    lines.push(JSON.stringify({ id: `bench/${i}`, source: "custom", prompt, entryPoint: `add_${i}`, solutions: [`def add_${i}(a, b):\n    return a + b\n`], tests: { kind: "assert", code: `assert add_${i}(1, 2) == 3` }, meta: {} }));
  }
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
}

interface Run {
  seconds: number;
  rate: number;
  heapMb: number[];
}

/** The loopback teacher (test/unit/fakeTeacher.ts) in its own process, answering after latencyMs. */
async function startTeacher(latencyMs: number): Promise<{ endpoint: string; close(): Promise<void> }> {
  const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "fakeTeacherProcess.ts"), String(latencyMs)], { stdio: ["pipe", "pipe", "inherit"] });
  let out = "";
  for await (const chunk of child.stdout) {
    out += String(chunk);
    if (out.includes("\n")) break;
  }
  return {
    endpoint: out.trim(),
    close: async () => {
      child.stdin.end();
      if (child.exitCode === null) await once(child, "exit");
    },
  };
}

async function run(tasks: number, latencyMs: number, concurrency: number, sampleEvery = 0): Promise<Run> {
  const teacher = await startTeacher(latencyMs);
  const dataset = await openDataset(writeTasks(tasks), { format: "tasks" });
  const out = join(tmp, `cots-${tasks}-${latencyMs}-${concurrency}.jsonl`);
  const settings = { endpoint: teacher.endpoint, model: "bench-teacher", temperature: 0 };
  const client = new TeacherClient({ ...settings, maxTokens: 512, concurrency });
  const heapMb: number[] = [];
  const started = performance.now();
  try {
    await generateCots(datasetTasks(dataset), await CotStore.open(out), {
      source: teacherSource(client, settings, TEMPLATE, "blind"),
      concurrency,
      onProgress: (p) => {
        if (sampleEvery && p.done % sampleEvery === 0) {
          globalThis.gc?.();
          heapMb.push(process.memoryUsage().heapUsed / 2 ** 20);
        }
      },
    });
  } finally {
    await dataset.close();
    await teacher.close();
  }
  const seconds = (performance.now() - started) / 1000;
  return { seconds, rate: tasks / seconds, heapMb };
}

/** The offline teacher over real benchmark tasks: what a demo or CI run costs per task. */
async function rationalizerRate(): Promise<void> {
  for (const file of [join(DATA, "humaneval", "HumanEval.jsonl"), join(DATA, "mbpp", "mbpp.jsonl")]) {
    const dataset = await openDataset(file);
    const tasks = await Promise.all(dataset.summaries.map((_, i) => dataset.task(i)));
    await dataset.close();
    await rationalize(tasks[0]!);
    const started = performance.now();
    for (const task of tasks) await rationalize(task);
    const seconds = (performance.now() - started) / 1000;
    console.log(`  ${file.split("/").pop()}: ${tasks.length} tasks in ${seconds.toFixed(2)} s, ${(tasks.length / seconds).toFixed(0)} tasks/s`);
  }
}

async function main(): Promise<void> {
  console.log("offline rationalizer");
  await rationalizerRate();
  if (!globalThis.gc) console.log("(run with node --expose-gc for exact heap figures)");
  console.log("rate on 500 tasks (target: >= 0.9 * c / L)");
  for (const [latencyMs, concurrency] of [
    [100, 8],
    [50, 16],
    [200, 32],
  ] as const) {
    const ideal = concurrency / (latencyMs / 1000);
    const r = await run(500, latencyMs, concurrency);
    console.log(`  L=${latencyMs} ms c=${concurrency}: ${r.rate.toFixed(1)} tasks/s in ${r.seconds.toFixed(2)} s; c/L = ${ideal.toFixed(1)}/s; ratio ${(r.rate / ideal).toFixed(3)} ${r.rate >= 0.9 * ideal ? "OK" : "BELOW TARGET"}`);
  }
  console.log("heap over 10,000 tasks (L=20 ms, c=32), after GC, every 1,000 tasks (MB)");
  const long = await run(10_000, 20, 32, 1000);
  console.log(`  ${long.heapMb.map((mb) => mb.toFixed(1)).join("  ")}`);
  const growth = long.heapMb.at(-1)! - long.heapMb[0]!;
  console.log(`  growth from task 1,000 to 10,000: ${growth.toFixed(1)} MB (${((growth * 2 ** 20) / 9000).toFixed(0)} bytes a task); ${long.rate.toFixed(1)} tasks/s`);
}

try {
  await main();
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
