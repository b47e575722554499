// Sidecar latency: cold start to an `initialize` answer, and request round trips once ready.
// Prints figures; never part of the pass/fail tests. Target: round trip p50 under 5 ms.
//   npm run bench            (CODISTILL_PYTHON selects the interpreter, default .venv)
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { execa } from "execa";
import { consoleLogger } from "../src/sidecar/logger";
import { sidecarLaunchArgs } from "../src/sidecar/interpreter";
import { RpcClient } from "../src/sidecar/rpcClient";

const python = process.env.CODISTILL_PYTHON ?? join(import.meta.dirname, "..", ".venv", "bin", "python");
const COLD_STARTS = Number(process.env.COLD_STARTS ?? 5);
const ROUND_TRIPS = Number(process.env.ROUND_TRIPS ?? 2000);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function launch() {
  const child = execa(python, sidecarLaunchArgs("warning"), { stdin: "pipe", stdout: "pipe", stderr: "inherit", buffer: false, reject: false });
  return { child, client: new RpcClient(child.stdin!, child.stdout!, consoleLogger("bench", "warn")) };
}

async function coldStart(): Promise<{ spawnToInitialize: number; torch: string | null }> {
  const started = performance.now();
  const { child, client } = launch();
  const result = await client.request("initialize", { protocolVersion: "1" });
  const elapsed = performance.now() - started;
  await client.request("shutdown", undefined);
  await child;
  return { spawnToInitialize: elapsed, torch: result.packages.torch };
}

async function roundTrips(): Promise<number[]> {
  const { child, client } = launch();
  await client.request("initialize", { protocolVersion: "1" });
  for (let i = 0; i < 200; i++) await client.request("health/ping", {}); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < ROUND_TRIPS; i++) {
    const t = performance.now();
    await client.request("health/ping", {});
    samples.push(performance.now() - t);
  }
  await client.request("shutdown", undefined);
  await child;
  return samples.sort((a, b) => a - b);
}

const colds: number[] = [];
let torch: string | null = null;
for (let i = 0; i < COLD_STARTS; i++) {
  const r = await coldStart();
  colds.push(r.spawnToInitialize);
  torch = r.torch;
}
colds.sort((a, b) => a - b);
const rt = await roundTrips();
console.log(`sidecar bench (python ${python}, torch ${torch ?? "missing"})`);
console.log(`cold start to initialize: median ${percentile(colds, 50).toFixed(0)} ms, min ${colds[0]!.toFixed(0)} ms, max ${colds.at(-1)!.toFixed(0)} ms over ${COLD_STARTS} starts`);
console.log(`health/ping round trip:   p50 ${percentile(rt, 50).toFixed(3)} ms, p99 ${percentile(rt, 99).toFixed(3)} ms over ${ROUND_TRIPS} sequential requests (target p50 < 5 ms)`);
