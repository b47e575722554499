// The editor's encoder embeddings (src/core/inference/encoder.ts) against PyTorch: a tiny
// RoBERTa made by scripts/make-tiny-model.py, exported by the real `python -m codistill export
// encoder` (float32 and int8), embeds real MBPP and HumanEval solutions in Node; a Python child
// embeds the same code with the loss's own functions (training/loss.py). Token ids must be the
// same, float32 embeddings the same to rounding, int8 ones close.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { execa } from "execa";
import { cosine, loadEncoder, type EncoderEmbedder } from "../../src/core/inference/encoder";
import { REPO, sidecarPython } from "./helpers";

const DATA = process.env.CODISTILL_DATA ?? join(REPO, "..", "shared", "data");
const FLOAT32_COSINE = 0.9999;
const INT8_COSINE = 0.99;

// The loss's embedding of each code (encode_ids over encode_ground_truth's tokens), window by
// window for code longer than the encoder reads at once, then the token-weighted mean of the
// windows' means, as encoder.ts does. Also the loss's own (truncated) token ids.
const REFERENCE = String.raw`
import json, sys
import torch
from transformers import AutoTokenizer
from codistill.training.loss import encode_ground_truth, encode_ids, encoder_max_tokens, load_frozen_encoder

folder, snippets = sys.argv[1], json.load(open(sys.argv[2], encoding="utf-8"))
tokenizer = AutoTokenizer.from_pretrained(folder)
encoder = load_frozen_encoder(folder, dtype=torch.float32)
window = encoder_max_tokens(encoder)
out = []
for code in snippets:
    ids = tokenizer(code, add_special_tokens=False)["input_ids"]
    total = torch.zeros(encoder.config.hidden_size, dtype=torch.float64)
    for start in range(0, len(ids), window):
        chunk = torch.tensor([ids[start:start + window]])
        with torch.no_grad():
            mean = encode_ids(encoder, chunk, torch.ones_like(chunk, dtype=torch.bool))[0]
        total += mean.double() * chunk.shape[1]
    loss_ids = encode_ground_truth(tokenizer, [code], window)["input_ids"][0].tolist()
    out.append({"ids": ids, "lossIds": loss_ids, "window": window, "embedding": (total / len(ids)).tolist()})
json.dump(out, sys.stdout)
`;

interface Reference {
  ids: number[];
  lossIds: number[];
  window: number;
  embedding: number[];
}

function jsonl(path: string): Record<string, unknown>[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Five HumanEval functions (prompt + canonical solution), five MBPP solutions (\r\n and tabs), and one long text. */
function snippets(): string[] {
  const humaneval = jsonl(join(DATA, "humaneval", "HumanEval.jsonl"))
    .slice(0, 5)
    .map((row) => `${row.prompt as string}${row.canonical_solution as string}`);
  const mbpp = jsonl(join(DATA, "mbpp", "mbpp.jsonl")).map((row) => row.code as string);
  // Longer than two windows of the tiny encoder, so the last window is a partial one.
  const long = mbpp.slice(0, 40).join("\n\n\n");
  return [...humaneval, ...mbpp.slice(0, 5), long];
}

async function python(args: string[]): Promise<string> {
  const { stdout } = await execa(sidecarPython(), args, { cwd: REPO, env: { CODISTILL_DATA: DATA } });
  return stdout;
}

async function exportEncoder(model: string, out: string, quantize: boolean): Promise<void> {
  const stdout = await python(["-m", "codistill", "export", "encoder", "--model", model, "--out", out, ...(quantize ? ["--quantize", "int8"] : [])]);
  const result = JSON.parse(stdout) as { quantized: boolean; outDir: string };
  assert.equal(result.quantized, quantize);
}

describe("encoder embeddings: onnxruntime-node + @huggingface/tokenizers against PyTorch", () => {
  let root: string;
  let codes: string[];
  let reference: Reference[];
  let float32: EncoderEmbedder;
  let int8: EncoderEmbedder;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), "codistill-encoder-"));
    const model = join(root, "tiny-encoder");
    await python(["scripts/make-tiny-model.py", "--encoder", model]);
    await Promise.all([exportEncoder(model, join(root, "float32"), false), exportEncoder(model, join(root, "int8"), true)]);
    codes = snippets();
    writeFileSync(join(root, "snippets.json"), JSON.stringify(codes));
    reference = JSON.parse(await python(["-c", REFERENCE, model, join(root, "snippets.json")])) as Reference[];
    [float32, int8] = await Promise.all([loadEncoder(join(root, "float32"), { intraOpNumThreads: 2 }), loadEncoder(join(root, "int8"), { intraOpNumThreads: 2 })]);
  });

  after(async () => {
    await Promise.all([float32?.dispose(), int8?.dispose()]);
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it("reads the window and hidden size from export.json", () => {
    assert.deepEqual(
      { hiddenSize: float32.info.hiddenSize, window: float32.info.window, quantized: float32.info.quantized },
      { hiddenSize: 32, window: 512, quantized: false },
    );
    assert.equal(int8.info.quantized, true);
    assert.equal(float32.info.source, join(root, "tiny-encoder"));
    assert.equal(reference[0]!.window, float32.info.window);
  });

  it("tokenizes exactly as the Python tokenizer, and as the loss within a window", () => {
    assert.equal(codes.length, 11);
    codes.forEach((code, i) => {
      const ids = float32.tokenize(code);
      assert.deepEqual(ids, reference[i]!.ids, `snippet ${i}`);
      assert.deepEqual(ids.slice(0, float32.info.window), reference[i]!.lossIds, `snippet ${i}: the loss's tokens`);
    });
    const longest = float32.tokenize(codes.at(-1)!).length;
    assert.ok(longest > 2 * float32.info.window && longest % float32.info.window !== 0, `long snippet: ${longest} tokens`);
  });

  it("float32: the same embedding as PyTorch (cosine >= 0.9999) for every snippet, the long one windowed", async (t) => {
    const embeddings = await Promise.all(codes.map((code) => float32.embed(code)));
    const cosines = embeddings.map((embedding, i) => cosine(embedding, reference[i]!.embedding));
    const maxDiff = Math.max(...embeddings.flatMap((e, i) => Array.from(e, (v, d) => Math.abs(v - reference[i]!.embedding[d]!))));
    t.diagnostic(`float32: lowest cosine ${Math.min(...cosines).toFixed(8)}, max |diff| ${maxDiff.toExponential(2)}`);
    cosines.forEach((c, i) => assert.ok(c >= FLOAT32_COSINE, `snippet ${i}: cosine ${c}`));
    // The bound that tells the windowing apart: a plain mean of the long snippet's ten windows
    // is still at cosine 0.99996 to the token-weighted one, but 7e-3 away in a value.
    assert.ok(maxDiff < 1e-4, `max |diff| ${maxDiff}`);
    for (const embedding of embeddings) assert.equal(embedding.length, 32);
  });

  it("int8: close to PyTorch (cosine >= 0.99) for every snippet", async (t) => {
    const cosines: number[] = [];
    for (const [i, code] of codes.entries()) cosines.push(cosine(await int8.embed(code), reference[i]!.embedding));
    t.diagnostic(`int8: cosine to PyTorch min ${Math.min(...cosines).toFixed(5)}, mean ${(cosines.reduce((a, b) => a + b) / cosines.length).toFixed(5)}`);
    cosines.forEach((c, i) => assert.ok(c >= INT8_COSINE, `snippet ${i}: cosine ${c}`));
  });

  it("gives the same values for concurrent and one-at-a-time calls", async () => {
    const sequential: Float32Array[] = [];
    for (const code of codes.slice(0, 4)) sequential.push(await float32.embed(code));
    const concurrent = await Promise.all(codes.slice(0, 4).map((code) => float32.embed(code)));
    assert.deepEqual(concurrent, sequential);
  });

  it("tells different code apart: a function is closer to itself renamed than to another task's", async () => {
    const [a, b] = codes;
    const renamed = a!.replaceAll("has_close_elements", "close_pairs");
    const [ea, eRenamed, eb] = await Promise.all([float32.embed(a!), float32.embed(renamed), float32.embed(b!)]);
    assert.ok(cosine(ea!, eRenamed!) > cosine(ea!, eb!));
  });

  it("refuses empty code, naming the encoder", async () => {
    await assert.rejects(float32.embed(""), new RegExp(`encoder ${root}/float32: nothing to embed`));
  });
});
