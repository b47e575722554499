// The encoder folder's checks and the pooling arithmetic, without Python: what loadEncoder says
// about a folder it cannot use, and windows, token-weighted means and cosines on known numbers.
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { cosine, loadEncoder } from "../../src/core/inference/encoder";
import { PooledSum, splitWindows } from "../../src/core/inference/pooling";
import { REPO } from "./helpers";

const RECORD = { format: 1, source: "/models/tiny", quantize: null, hiddenSize: 2, maxPositions: 4 };
// A minimal byte-level BPE tokenizer.json: enough for the checks that come before the model loads.
const TOKENIZER = { version: "1.0", added_tokens: [], normalizer: null, pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true }, post_processor: null, decoder: null, model: { type: "BPE", vocab: { a: 0 }, merges: [] } };

describe("loadEncoder: a folder it cannot use is named with the file and field", () => {
  let root: string;

  before(() => {
    root = mkdtempSync(join(tmpdir(), "codistill-encoder-folder-"));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  /** A folder with every file an export writes (model.onnx empty), `files` replacing some. */
  function folder(name: string, files: Record<string, string>): string {
    const dir = join(root, name);
    mkdirSync(dir);
    const all = { "model.onnx": "", "tokenizer.json": JSON.stringify(TOKENIZER), "tokenizer_config.json": "{}", "export.json": JSON.stringify(RECORD), ...files };
    for (const [file, text] of Object.entries(all)) writeFileSync(join(dir, file), text);
    return dir;
  }

  it("a folder that does not exist", async () => {
    await assert.rejects(loadEncoder(join(root, "missing")), /missing: no such encoder folder \(export one with "python -m codistill export encoder/);
  });

  for (const file of ["model.onnx", "tokenizer.json", "tokenizer_config.json", "export.json"]) {
    it(`a folder without ${file}`, async () => {
      const dir = folder(`without-${file}`, {});
      unlinkSync(join(dir, file));
      await assert.rejects(loadEncoder(dir), (error: Error) => error.message.startsWith(`${join(dir, file)}: missing from the encoder folder ${dir}`));
    });
  }

  it("an export.json that is not JSON", async () => {
    const dir = folder("bad-json", { "export.json": "{ not json" });
    await assert.rejects(loadEncoder(dir), (error: Error) => error.message.startsWith(`${join(dir, "export.json")}: not JSON:`));
  });

  it("an export.json of another format", async () => {
    const dir = folder("format-2", { "export.json": JSON.stringify({ ...RECORD, format: 2 }) });
    await assert.rejects(loadEncoder(dir), new RegExp(`export\\.json: format: expected 1, got 2`));
  });

  it("an export.json without a usable window", async () => {
    const dir = folder("no-window", { "export.json": JSON.stringify({ ...RECORD, maxPositions: 0 }) });
    await assert.rejects(loadEncoder(dir), /export\.json: maxPositions: expected a positive integer, got 0/);
  });

  it("a model.onnx onnxruntime cannot load", async () => {
    const dir = folder("bad-model", { "model.onnx": "not a model" });
    await assert.rejects(loadEncoder(dir), (error: Error) => error.message.startsWith(`${join(dir, "model.onnx")}: onnxruntime cannot load it:`));
  });

  it("a model without the encoder's inputs and output (the ONNX self-test model)", async () => {
    const dir = folder("wrong-signature", {});
    copyFileSync(join(REPO, "media", "onnx", "selftest.onnx"), join(dir, "model.onnx"));
    await assert.rejects(loadEncoder(dir), /model\.onnx: expected inputs input_ids, attention_mask and output last_hidden_state, found inputs x and outputs y/);
  });
});

describe("pooling arithmetic", () => {
  it("splits ids into consecutive windows, the last one shorter", () => {
    assert.deepEqual(splitWindows([1, 2, 3, 4, 5, 6, 7], 3), [[1, 2, 3], [4, 5, 6], [7]]);
    assert.deepEqual(splitWindows([1, 2, 3], 3), [[1, 2, 3]]);
    assert.deepEqual(splitWindows([], 3), []);
    assert.throws(() => splitWindows([1], 0), /window: expected a positive integer, got 0/);
  });

  it("weights each window by its tokens: the mean over all tokens", () => {
    const pooled = new PooledSum(2);
    pooled.add(Float32Array.from([1, 0, 3, 0, 5, 0]), 3); // window mean (3, 0)
    pooled.add(Float32Array.from([0, 8]), 1); // window mean (0, 8)
    // Token-weighted: (1 + 3 + 5 + 0) / 4 and 8 / 4; a plain mean of windows would be (1.5, 4).
    assert.deepEqual(Array.from(pooled.mean()), [2.25, 2]);
  });

  it("refuses a block of the wrong size and an empty pool", () => {
    const pooled = new PooledSum(2);
    assert.throws(() => pooled.add(Float32Array.from([1, 2, 3]), 2), /last_hidden_state: expected 2 × 2 values, got 3/);
    assert.throws(() => pooled.mean(), /no tokens were pooled/);
  });

  it("cosine: 1 for the same direction, -1 opposite, 0 orthogonal or for a zero vector", () => {
    assert.equal(cosine([1, 2, 3], [2, 4, 6]), 1);
    assert.equal(cosine([1, 0], [-3, 0]), -1);
    assert.equal(cosine([1, 0], [0, 5]), 0);
    assert.equal(cosine([0, 0], [1, 1]), 0);
    assert.ok(Math.abs(cosine(Float32Array.from([1, 1]), [1, 0]) - Math.SQRT1_2) < 1e-12);
    assert.throws(() => cosine([1], [1, 2]), /cosine: vectors of 1 and 2 values/);
  });
});
