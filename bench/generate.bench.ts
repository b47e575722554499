// The editor's decoder (src/core/inference/decoder.ts) generating 256 new tokens greedily on this
// machine, for the tiny student (scripts/make-tiny-model.py with its adapter) and a ~100M-parameter
// Llama-shaped model with random weights (bench/llama-100m.json, built by
// bench/generate_make_model.py with the tiny student's tokenizer), both exported float32 by
// `python -m codistill export onnx`: tokens/s and first-token latency with the KV cache and
// without it (the whole sequence re-run each step; target: the cache >= 5x faster), and the same
// ONNX file and prompt ids run by Python onnxruntime with the same greedy KV-cache loop
// (bench/generate_ort.py; target: TS within 10% of Python's tokens/s). The same intra-op threads
// on both sides. Random weights time the same as trained ones: the same shapes and operators.
// Also the bare cost of one cached decode step's run() on both sides (one token after a 64-token
// past, no sampling, no detokenizing): for the tiny student that fixed per-call cost is most of a
// step, so it bounds what the TS loop can reach against Python there.
// Prints figures; never part of the pass/fail tests.
//   npm run bench:generate [-- --tokens 256 --threads 2 --runs 3 --no-cache-tokens 256 --only tiny|100m]
// The models and their exports are kept in .cache/bench/generate-* (about 850 MB; delete to redo).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { loadDecoder, type GenerationResult, type StudentDecoder } from "../src/core/inference/decoder";

const REPO = resolve(import.meta.dirname, "..");
const PYTHON = process.env.CODISTILL_PYTHON ?? join(REPO, ".venv", "bin", "python");
const DATA = process.env.CODISTILL_DATA ?? join(REPO, "..", "shared", "data");
const CACHE = join(REPO, ".cache", "bench");
const PROMPT = 'def is_palindrome(text):\n    """Return True when text reads the same forwards and backwards."""\n';

function python(args: string[]): string {
  return execFileSync(PYTHON, args, {
    cwd: REPO,
    env: { ...process.env, CODISTILL_DATA: DATA, CODISTILL_LOG_LEVEL: "warning" },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 1 << 26,
  });
}

function exportOnnx(model: string, out: string, adapter?: string): void {
  if (existsSync(join(out, "export.json"))) return;
  console.error(`exporting ${model} to ${out}`);
  const result = JSON.parse(python(["-m", "codistill", "export", "onnx", "--model", model, ...(adapter ? ["--adapter", adapter] : []), "--out", out])) as { wallS: number; maxAbsDiff: number };
  console.error(`exported in ${result.wallS.toFixed(1)} s (max |diff| against PyTorch ${result.maxAbsDiff.toExponential(2)})`);
}

/** The tiny student with its adapter, exported; its folder has the tokenizer the 100M model borrows. */
function tinyStudent(): { model: string; onnx: string } {
  const root = join(CACHE, "generate-tiny");
  const model = join(root, "model");
  const adapter = join(root, "adapter");
  if (!existsSync(join(adapter, "adapter_config.json"))) {
    mkdirSync(root, { recursive: true });
    console.error(`making the tiny student in ${model}`);
    python(["scripts/make-tiny-model.py", model, "--adapter", adapter]);
  }
  const onnx = join(root, "onnx");
  exportOnnx(model, onnx, adapter);
  return { model, onnx };
}

function llama100m(tokenizer: string): string {
  const root = join(CACHE, "generate-llama-100m");
  const model = join(root, "model");
  if (!existsSync(join(model, "model.safetensors"))) {
    console.error(`making a ~100M-parameter Llama (bench/llama-100m.json) in ${model}`);
    const made = JSON.parse(python(["bench/generate_make_model.py", "bench/llama-100m.json", tokenizer, model])) as { parameters: number };
    console.error(`${(made.parameters / 1e6).toFixed(1)}M parameters`);
  }
  const onnx = join(root, "onnx");
  exportOnnx(model, onnx);
  return onnx;
}

interface Timing {
  tokensPerS: number;
  firstTokenMs: number;
  newTokens: number;
  tokenIds: number[];
  stepMs?: number;
}

const STEP_TIMING_STEPS = 1000;

/** The mean time of onnxruntime-node's run() for one cached decode step (generate_ort.py's step_ms). */
async function tsStepMs(folder: string, threads: number, pastLength: number, steps: number): Promise<number> {
  const ort = await import("onnxruntime-node");
  const record = JSON.parse(readFileSync(join(folder, "export.json"), "utf8")) as { inputs: string[]; outputs: string[]; numKeyValueHeads: number; headDim: number; dtype: string };
  const session = await ort.InferenceSession.create(join(folder, "model.onnx"), { executionProviders: ["cpu"], graphOptimizationLevel: "all", executionMode: "sequential", interOpNumThreads: 1, intraOpNumThreads: threads });
  const shape = [1, record.numKeyValueHeads, pastLength, record.headDim];
  const size = shape.reduce((a, b) => a * b, 1);
  const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {
    input_ids: new ort.Tensor("int64", BigInt64Array.from([5n]), [1, 1]),
    attention_mask: new ort.Tensor("int64", new BigInt64Array(pastLength + 1).fill(1n), [1, pastLength + 1]),
    position_ids: new ort.Tensor("int64", BigInt64Array.from([BigInt(pastLength)]), [1, 1]),
  };
  for (const name of record.inputs.filter((n) => n.startsWith("past_key_values."))) {
    feeds[name] = record.dtype === "fp16" ? new ort.Tensor("float16", new Uint16Array(size), shape) : new ort.Tensor("float32", new Float32Array(size), shape);
  }
  for (let i = 0; i <= steps / 10; i++) await session.run(feeds, record.outputs);
  const started = performance.now();
  for (let i = 0; i < steps; i++) await session.run(feeds, record.outputs);
  const ms = (performance.now() - started) / steps;
  await session.release();
  return ms;
}

/**
 * The best of `runs` generations by tokens/s, after a warm-up of `warmUp` new tokens. With the
 * cache the warm-up is a whole run: onnxruntime's arena grows for each new past length on the
 * first pass (generate_ort.py warms up the same way). Without it each step is long enough that
 * a short one does, and a whole one would take minutes on the 100M model.
 */
async function timeTs(decoder: StudentDecoder, tokens: number, useCache: boolean, runs: number): Promise<Timing> {
  await decoder.generate({ prompt: PROMPT, maxNewTokens: useCache ? tokens : 8, useCache });
  let best: GenerationResult | undefined;
  for (let i = 0; i < runs; i++) {
    const result = await decoder.generate({ prompt: PROMPT, maxNewTokens: tokens, useCache });
    if (!best || result.tokensPerS > best.tokensPerS) best = result;
  }
  return { tokensPerS: best!.tokensPerS, firstTokenMs: best!.firstTokenMs, newTokens: best!.newTokens, tokenIds: best!.tokenIds };
}

function timePython(folder: string, promptIds: number[], tokens: number, threads: number, runs: number): Timing {
  const file = join(CACHE, "generate-prompt.json");
  writeFileSync(file, JSON.stringify(promptIds));
  const out = JSON.parse(python(["bench/generate_ort.py", folder, file, String(tokens), String(threads), "--runs", String(runs), "--step-ms", String(STEP_TIMING_STEPS)])) as Timing;
  return { ...out, newTokens: out.tokenIds.length };
}

function figure(timing: Timing): { tokensPerS: number; firstTokenMs: number; newTokens: number } {
  return { tokensPerS: +timing.tokensPerS.toFixed(1), firstTokenMs: +timing.firstTokenMs.toFixed(1), newTokens: timing.newTokens };
}

async function bench(name: string, folder: string, options: { tokens: number; noCacheTokens: number; threads: number; runs: number }): Promise<void> {
  const record = JSON.parse(readFileSync(join(folder, "export.json"), "utf8")) as { parameters: number; dtype: string; quantize: string | null };
  const decoder = await loadDecoder(folder, { intraOpNumThreads: options.threads });
  const promptIds = (await decoder.generate({ prompt: PROMPT, maxNewTokens: 1 })).promptTokens;
  const cached = await timeTs(decoder, options.tokens, true, options.runs);
  console.error(`${name}: TS with the cache ${cached.tokensPerS.toFixed(1)} tokens/s; now without it`);
  const uncached = await timeTs(decoder, options.noCacheTokens, false, 1);
  await decoder.dispose();
  const ids = tokenIdsOf(folder);
  const py = timePython(folder, ids, options.tokens, options.threads, options.runs);
  const tsStep = await tsStepMs(folder, options.threads, 64, STEP_TIMING_STEPS);
  const cacheSpeedup = cached.tokensPerS / uncached.tokensPerS;
  const tsOverPython = cached.tokensPerS / py.tokensPerS;
  const figures = {
    model: name,
    parametersM: +(record.parameters / 1e6).toFixed(1),
    dtype: record.dtype,
    quantize: record.quantize,
    promptTokens: promptIds,
    intraOpThreads: options.threads,
    runs: options.runs,
    tsCache: figure(cached),
    tsNoCache: figure(uncached),
    pythonOrtCache: figure(py),
    sameIdsAsPython: cached.tokenIds.join() === py.tokenIds.join(),
    sameIdsWithoutCache: cached.tokenIds.slice(0, uncached.newTokens).join() === uncached.tokenIds.join(),
    cacheSpeedup: +cacheSpeedup.toFixed(2),
    tsOverPythonTokensPerS: +tsOverPython.toFixed(3),
    bareStepMs: { onnxruntimeNode: +tsStep.toFixed(4), pythonOnnxruntime: py.stepMs ?? null },
  };
  console.log(JSON.stringify(figures, null, 1));
  console.log(
    `${name}: cache ${figures.tsCache.tokensPerS} tokens/s (first token ${figures.tsCache.firstTokenMs} ms) vs no cache ${figures.tsNoCache.tokensPerS} tokens/s ` +
      `(first token ${figures.tsNoCache.firstTokenMs} ms): ${figures.cacheSpeedup}x (target >= 5x); ` +
      `TS ${figures.tsCache.tokensPerS} vs Python onnxruntime ${figures.pythonOrtCache.tokensPerS} tokens/s: ${figures.tsOverPythonTokensPerS} (target >= 0.9); ` +
      `one bare cached step's run(): onnxruntime-node ${figures.bareStepMs.onnxruntimeNode} ms, Python ${figures.bareStepMs.pythonOnnxruntime} ms`,
  );
}

/** The prompt's token ids, as the decoder feeds them (the tokenizer of the folder, special tokens added). */
function tokenIdsOf(folder: string): number[] {
  return JSON.parse(
    python(["-c", "import json,sys; from transformers import AutoTokenizer; print(json.dumps(AutoTokenizer.from_pretrained(sys.argv[1])(sys.argv[2])['input_ids']))", folder, PROMPT]),
  ) as number[];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      tokens: { type: "string", default: "256" },
      "no-cache-tokens": { type: "string", default: "256" },
      threads: { type: "string", default: "2" },
      runs: { type: "string", default: "3" },
      only: { type: "string" },
    },
  });
  const options = { tokens: Number(values.tokens), noCacheTokens: Number(values["no-cache-tokens"]), threads: Number(values.threads), runs: Number(values.runs) };
  console.error(`${cpus().length} × ${cpus()[0]?.model ?? "?"}; ${options.threads} intra-op threads`);
  const tiny = tinyStudent();
  if (values.only !== "100m") await bench("tiny student (adapter merged)", tiny.onnx, options);
  if (values.only !== "tiny") await bench("Llama ~100M (bench/llama-100m.json, random weights)", llama100m(tiny.model), options);
}

await main();
