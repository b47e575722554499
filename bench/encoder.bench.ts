// The editor's code embedding (src/core/inference/encoder.ts) at CodeBERT's size: a RoBERTa-base-
// shaped encoder with random weights (hidden 768, 12 layers, 12 heads, intermediate 3072, vocab
// 50265, 514 positions) made by scripts/make-tiny-model.py --encoder-config, exported int8 by
// `python -m codistill export encoder --quantize int8`, then one 256-token input embedded in Node
// with 2 intra-op threads: warm-up, then p50/p95 over the timed runs. Random weights time the same
// as CodeBERT's: the same shapes and operators. Prints figures; never part of the pass/fail tests.
// Target: p50 <= 150 ms on a 2-core machine.
//   npm run bench:encoder [-- --runs 30 --threads 2 --tokens 256]
// The model and its export are kept in .cache/bench/encoder-base (about 650 MB; delete to redo).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { loadEncoder, type EncoderEmbedder } from "../src/core/inference/encoder";

const REPO = resolve(import.meta.dirname, "..");
const PYTHON = process.env.CODISTILL_PYTHON ?? join(REPO, ".venv", "bin", "python");
const DATA = process.env.CODISTILL_DATA ?? join(REPO, "..", "shared", "data");
const CACHE = join(REPO, ".cache", "bench", "encoder-base");
const WARMUP_RUNS = 3;

// RoBERTa-base, CodeBERT's architecture (microsoft/codebert-base's config.json, less its weights).
const ROBERTA_BASE = {
  architectures: ["RobertaModel"],
  model_type: "roberta",
  vocab_size: 50265,
  hidden_size: 768,
  intermediate_size: 3072,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  hidden_act: "gelu",
  hidden_dropout_prob: 0.1,
  attention_probs_dropout_prob: 0.1,
  max_position_embeddings: 514,
  type_vocab_size: 1,
  initializer_range: 0.02,
  layer_norm_eps: 1e-5,
  bos_token_id: 0,
  pad_token_id: 1,
  eos_token_id: 2,
};

function python(args: string[]): string {
  return execFileSync(PYTHON, args, { cwd: REPO, env: { ...process.env, CODISTILL_DATA: DATA }, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
}

function makeModel(model: string): void {
  if (existsSync(join(model, "model.safetensors"))) return;
  mkdirSync(CACHE, { recursive: true });
  const config = join(CACHE, "config.json");
  writeFileSync(config, JSON.stringify(ROBERTA_BASE, null, 1));
  console.error(`making a RoBERTa-base-shaped encoder in ${model}`);
  python(["scripts/make-tiny-model.py", "--encoder", model, "--encoder-config", config]);
}

function exportInt8(model: string, out: string): Record<string, unknown> {
  if (!existsSync(join(out, "export.json"))) {
    console.error(`exporting it to ${out} (int8)`);
    const result = JSON.parse(python(["-m", "codistill", "export", "encoder", "--model", model, "--out", out, "--quantize", "int8", "--log-level", "warning"])) as { wallS: number };
    console.error(`exported in ${result.wallS.toFixed(1)} s`);
  }
  return JSON.parse(readFileSync(join(out, "export.json"), "utf8")) as Record<string, unknown>;
}

/** The shortest prefix of real code (MBPP solutions) that tokenizes to at least `tokens` tokens. */
function inputOf(encoder: EncoderEmbedder, tokens: number): string {
  const code = readFileSync(join(DATA, "mbpp", "mbpp.jsonl"), "utf8")
    .split("\n")
    .filter((line) => line.trim())
    .map((line) => (JSON.parse(line) as { code: string }).code)
    .join("\n\n");
  let low = 1;
  let high = code.length;
  if (encoder.tokenize(code).length < tokens) throw new Error(`the MBPP solutions give fewer than ${tokens} tokens`);
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    if (encoder.tokenize(code.slice(0, middle)).length >= tokens) high = middle;
    else low = middle + 1;
  }
  return code.slice(0, low);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: "string", default: "30" }, threads: { type: "string", default: "2" }, tokens: { type: "string", default: "256" } } });
  const runs = Number(values.runs);
  const threads = Number(values.threads);
  const model = join(CACHE, "model");
  const out = join(CACHE, "onnx-int8");
  makeModel(model);
  const record = exportInt8(model, out);

  let started = performance.now();
  const encoder = await loadEncoder(out, { intraOpNumThreads: threads });
  const loadMs = performance.now() - started;
  const text = inputOf(encoder, Number(values.tokens));
  started = performance.now();
  const tokenCount = encoder.tokenize(text).length;
  const tokenizeMs = performance.now() - started;

  for (let i = 0; i < WARMUP_RUNS; i++) await encoder.embed(text);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    started = performance.now();
    await encoder.embed(text);
    times.push(performance.now() - started);
  }
  await encoder.dispose();
  const sorted = [...times].sort((a, b) => a - b);
  const figures = {
    model: "RoBERTa-base shape (random weights), int8",
    modelMb: +(statSync(join(out, "model.onnx")).size / 1e6).toFixed(1),
    validation: record.validation,
    cpus: `${cpus().length} × ${cpus()[0]?.model ?? "?"}`,
    intraOpThreads: threads,
    tokens: tokenCount,
    loadMs: +loadMs.toFixed(0),
    tokenizeMs: +tokenizeMs.toFixed(2),
    runs,
    p50Ms: +percentile(sorted, 50).toFixed(1),
    p95Ms: +percentile(sorted, 95).toFixed(1),
    minMs: +sorted[0]!.toFixed(1),
    meanMs: +(times.reduce((a, b) => a + b, 0) / runs).toFixed(1),
    targetP50Ms: 150,
  };
  console.log(JSON.stringify(figures, null, 1));
  console.log(`embed ${tokenCount} tokens: p50 ${figures.p50Ms} ms, p95 ${figures.p95Ms} ms (target p50 <= 150 ms)`);
}

await main();
