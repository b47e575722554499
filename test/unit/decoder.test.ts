// The editor's decoder (src/core/inference/decoder.ts) on the tiny student exported by the real
// `python -m codistill export onnx` (float32 and float16): the KV cache against re-running the
// whole sequence, stop sequences, maxNewTokens, end of sequence, cancelling, seeded sampling,
// streaming; the worker-thread decoder (workerDecoder.ts) against the in-thread one; the folder's
// errors; and `codistill generate` as a real process.
import assert from "node:assert/strict";
import { cpSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { loadDecoder, type GenerateRequest, type GenerationResult, type StudentDecoder } from "../../src/core/inference/decoder";
import { readDecoderFolder } from "../../src/core/inference/decoderFolder";
import { loadTokenizer } from "../../src/core/inference/onnxFolder";
import { startDecoderWorker } from "../../src/core/inference/workerDecoder";
import { makeTinyStudent, python, type TinyStudent } from "./decoder.fixture";
import { main } from "../../src/core/cli/main";
import { runCli, type CliRun } from "./helpers";

const PROMPT = 'def is_palindrome(text):\n    """True when text reads the same backwards."""\n';
const GREEDY: GenerateRequest = { prompt: PROMPT, maxNewTokens: 48 };

/** A copy of the export folder with export.json edited. */
function editedCopy(student: TinyStudent, name: string, edit: (record: Record<string, unknown>) => void): string {
  const folder = join(student.root, name);
  cpSync(student.onnx, folder, { recursive: true });
  const path = join(folder, "export.json");
  const record = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  edit(record);
  writeFileSync(path, JSON.stringify(record));
  return folder;
}

describe("decoder: the exported student generating in Node", () => {
  let student: TinyStudent;
  let fp16Folder: string;
  let decoder: StudentDecoder;
  let greedy: GenerationResult;

  before(async () => {
    student = await makeTinyStudent("codistill-decoder-");
    fp16Folder = join(student.root, "onnx-fp16");
    await python(["-m", "codistill", "export", "onnx", "--model", student.model, "--adapter", student.adapter, "--out", fp16Folder, "--dtype", "fp16"]);
    decoder = await loadDecoder(student.onnx, { intraOpNumThreads: 1 });
    greedy = await decoder.generate(GREEDY);
  });

  after(async () => {
    await decoder?.dispose();
    student?.remove();
  });

  it("decodes text as transformers does: no clean-up of the spaces before punctuation unless the config asks", () => {
    const files = readDecoderFolder(student.onnx);
    const code = "if idx != idx2 and a , b . c ? d ! e 's:\n    return x\n";
    const tokenizer = loadTokenizer(files);
    assert.equal(tokenizer.decode(tokenizer.encode(code, { add_special_tokens: false }).ids, { skip_special_tokens: true }), code);
    const cleaning = loadTokenizer({ ...files, tokenizerConfig: { ...files.tokenizerConfig, clean_up_tokenization_spaces: true } });
    assert.notEqual(cleaning.decode(cleaning.encode(code, { add_special_tokens: false }).ids, { skip_special_tokens: true }), code);
  });

  it("reads export.json: layers, vocabulary, special ids, dtype", () => {
    const { prompt, ...info } = decoder.info;
    const record = JSON.parse(readFileSync(join(student.onnx, "export.json"), "utf8")) as { prompt?: unknown };
    assert.deepEqual(prompt, record.prompt);
    assert.deepEqual(
      info,
      { folder: student.onnx, modelPath: join(student.onnx, "model.onnx"), numLayers: 2, vocabSize: 512, eosTokenIds: [1], bosTokenId: 0, dtype: "fp32", quantize: null },
    );
    assert.equal(greedy.finishReason, "length");
    assert.equal(greedy.newTokens, 48);
    assert.equal(greedy.tokenIds.length, 48);
    assert.ok(greedy.promptTokens > 5 && greedy.firstTokenMs > 0 && greedy.tokensPerS > 0, JSON.stringify(greedy));
  });

  it("gives the same greedy ids with the KV cache as re-running the whole sequence each step", async () => {
    const uncached = await decoder.generate({ ...GREEDY, useCache: false });
    assert.deepEqual(uncached.tokenIds, greedy.tokenIds);
    assert.equal(uncached.text, greedy.text);
  });

  it("float16 exports: float16 pasts carried over, the same greedy ids with and without the cache", async () => {
    const half = await loadDecoder(fp16Folder, { intraOpNumThreads: 1 });
    try {
      assert.equal(half.info.dtype, "fp16");
      const cached = await half.generate({ ...GREEDY, maxNewTokens: 24 });
      const uncached = await half.generate({ ...GREEDY, maxNewTokens: 24, useCache: false });
      assert.equal(cached.newTokens, 24);
      assert.deepEqual(cached.tokenIds, uncached.tokenIds);
    } finally {
      await half.dispose();
    }
  });

  it("stops at maxNewTokens with finishReason length", async () => {
    const result = await decoder.generate({ ...GREEDY, maxNewTokens: 5 });
    assert.equal(result.finishReason, "length");
    assert.deepEqual(result.tokenIds, greedy.tokenIds.slice(0, 5));
  });

  it("cuts the text before a stop sequence, the stop excluded, finishReason stop", async () => {
    // A stop made of the greedy text's own characters, first seen part-way through it.
    const at = Math.max(1, Math.floor(greedy.text.length / 2));
    const stop = greedy.text.slice(at, at + 3);
    const first = greedy.text.indexOf(stop);
    assert.ok(stop.length === 3 && first > 0, `stop ${JSON.stringify(stop)} in ${JSON.stringify(greedy.text)}`);
    const deltas: string[] = [];
    const result = await decoder.generate({ ...GREEDY, stop: ["never in the text", stop] }, { onText: (delta) => deltas.push(delta) });
    assert.equal(result.finishReason, "stop");
    assert.equal(result.text, greedy.text.slice(0, first));
    assert.equal(deltas.join(""), result.text);
    assert.ok(result.newTokens < greedy.newTokens);
    assert.deepEqual(result.tokenIds, greedy.tokenIds.slice(0, result.newTokens));
  });

  it("ends at an end-of-sequence id, which is not part of the ids or the text", async () => {
    // The same model with the 6th greedy token declared end-of-sequence.
    const eos = greedy.tokenIds[5]!;
    const folder = editedCopy(student, "eos", (record) => (record.eosTokenId = [1, eos]));
    const other = await loadDecoder(folder, { intraOpNumThreads: 1 });
    try {
      const result = await other.generate(GREEDY);
      const cut = greedy.tokenIds.indexOf(eos);
      assert.equal(result.finishReason, "eos");
      assert.deepEqual(result.tokenIds, greedy.tokenIds.slice(0, cut));
      assert.ok(greedy.text.startsWith(result.text));
    } finally {
      await other.dispose();
    }
  });

  it("streams text deltas that concatenate to the text, with the ids so far", async () => {
    const deltas: string[] = [];
    const counts: number[] = [];
    const result = await decoder.generate(GREEDY, { onText: (delta, ids) => (deltas.push(delta), counts.push(ids.length)) });
    assert.equal(deltas.join(""), result.text);
    assert.equal(result.text, greedy.text);
    assert.ok(deltas.length > 1 && deltas.every((d) => d.length > 0));
    assert.ok(counts.every((n, i) => n >= (counts[i - 1] ?? 0) && n <= result.newTokens));
  });

  it("returns what was generated so far, finishReason cancelled, when the signal aborts", async () => {
    const controller = new AbortController();
    const result = await decoder.generate(GREEDY, { signal: controller.signal, onText: (_, ids) => ids.length >= 8 && controller.abort() });
    assert.equal(result.finishReason, "cancelled");
    assert.ok(result.newTokens >= 8 && result.newTokens < GREEDY.maxNewTokens, `${result.newTokens} tokens`);
    assert.deepEqual(result.tokenIds, greedy.tokenIds.slice(0, result.newTokens));
    assert.ok(greedy.text.startsWith(result.text));
    const early = await decoder.generate(GREEDY, { signal: AbortSignal.abort() });
    assert.deepEqual({ text: early.text, newTokens: early.newTokens, finishReason: early.finishReason }, { text: "", newTokens: 0, finishReason: "cancelled" });
  });

  it("samples reproducibly for a seed, differently for another seed", async () => {
    const sampled = { ...GREEDY, temperature: 1.5, topP: 0.95 };
    const [a, b, c] = [await decoder.generate({ ...sampled, seed: 7 }), await decoder.generate({ ...sampled, seed: 7 }), await decoder.generate({ ...sampled, seed: 8 })];
    assert.deepEqual(a.tokenIds, b.tokenIds);
    assert.equal(a.text, b.text);
    assert.notDeepEqual(a.tokenIds, c.tokenIds);
    assert.notDeepEqual(a.tokenIds, greedy.tokenIds);
  });

  it("runs overlapping calls one after the other, each as if alone", async () => {
    const [x, y] = await Promise.all([decoder.generate(GREEDY), decoder.generate({ ...GREEDY, maxNewTokens: 7 })]);
    assert.deepEqual(x.tokenIds, greedy.tokenIds);
    assert.deepEqual(y.tokenIds, greedy.tokenIds.slice(0, 7));
  });

  it("refuses bad requests naming the field", async () => {
    await assert.rejects(decoder.generate({ ...GREEDY, maxNewTokens: 0 }), /maxNewTokens: expected a positive integer/);
    await assert.rejects(decoder.generate({ ...GREEDY, temperature: -1 }), /temperature: expected a number >= 0/);
    await assert.rejects(decoder.generate({ ...GREEDY, topP: 0 }), /topP: expected a number in \(0, 1\]/);
    await assert.rejects(decoder.generate({ ...GREEDY, stop: [""] }), /stop: expected a list of non-empty strings/);
    await assert.rejects(decoder.generate({ ...GREEDY, prompt: "" }), /the prompt has no tokens/);
  });

  describe("in a worker thread", () => {
    let worker: StudentDecoder;

    before(async () => {
      worker = await startDecoderWorker(student.onnx, { intraOpNumThreads: 1 });
    });

    after(async () => {
      await worker?.dispose();
    });

    it("gives the in-thread results: greedy, sampled, stopped, streamed", async () => {
      assert.deepEqual(worker.info, decoder.info);
      const sampled = { ...GREEDY, temperature: 1.2, topP: 0.9, seed: 3 };
      const stop = { ...GREEDY, stop: [greedy.text.slice(10, 13)] };
      for (const request of [GREEDY, sampled, stop]) {
        const deltas: string[] = [];
        const inWorker = await worker.generate(request, { onText: (delta) => deltas.push(delta) });
        assert.deepEqual(untimed(inWorker), untimed(await decoder.generate(request)));
        assert.equal(deltas.join(""), inWorker.text);
      }
    });

    it("does not block the event loop while it generates", async () => {
      let ticks = 0;
      let last = performance.now();
      let longestGap = 0;
      const timer = setInterval(() => {
        const now = performance.now();
        longestGap = Math.max(longestGap, now - last);
        last = now;
        ticks++;
      }, 5);
      const started = performance.now();
      const slow = await worker.generate({ ...GREEDY, maxNewTokens: 200, useCache: false });
      const elapsed = performance.now() - started;
      clearInterval(timer);
      assert.deepEqual(slow.tokenIds.slice(0, 48), greedy.tokenIds);
      assert.ok(ticks >= elapsed / 50, `${ticks} ticks in ${elapsed.toFixed(0)} ms`);
      assert.ok(longestGap < 250, `the event loop stood still for ${longestGap.toFixed(0)} ms`);
    });

    it("cancels through the signal, returning the partial output", async () => {
      const controller = new AbortController();
      const result = await worker.generate({ ...GREEDY, maxNewTokens: 400, useCache: false }, { signal: controller.signal, onText: (_, ids) => ids.length >= 8 && controller.abort() });
      assert.equal(result.finishReason, "cancelled");
      assert.ok(result.newTokens >= 8 && result.newTokens < 400, `${result.newTokens} tokens`);
      assert.deepEqual(result.tokenIds.slice(0, 48), greedy.tokenIds.slice(0, Math.min(48, result.newTokens)));
    });

    it("re-throws the worker's errors with their message; dispose ends it", async () => {
      await assert.rejects(worker.generate({ ...GREEDY, maxNewTokens: -1 }), /maxNewTokens: expected a positive integer, got -1/);
      await assert.rejects(startDecoderWorker(join(student.root, "missing")), new RegExp(`${student.root}/missing: no such decoder folder`));
      const other = await startDecoderWorker(student.onnx, { intraOpNumThreads: 1 });
      const running = other.generate({ ...GREEDY, maxNewTokens: 4 });
      await other.dispose();
      assert.equal((await running).newTokens, 4, "dispose waits for the generation in flight");
      await assert.rejects(other.generate(GREEDY), /already disposed/);
    });
  });

  describe("the export folder", () => {
    const cases: [string, (record: Record<string, unknown>) => void, RegExp][] = [
      ["numLayers", (r) => (r.numLayers = 0), /export\.json: numLayers: expected a positive integer, got 0/],
      ["headDim", (r) => delete r.headDim, /export\.json: headDim: expected a positive integer, got undefined/],
      ["dtype", (r) => (r.dtype = "bf16"), /export\.json: dtype: expected "fp32" or "fp16", got "bf16"/],
      ["format", (r) => (r.format = 2), /export\.json: format: expected 1, got 2/],
      ["kind", (r) => (r.kind = "encoder"), /export\.json: kind: expected "decoder", got "encoder"/],
      ["eos", (r) => (r.eosTokenId = "x"), /export\.json: eosTokenId: expected a token id/],
      ["inputs", (r) => (r.numLayers = 3), /export\.json: inputs: expected input_ids, .* for numLayers 3/],
      ["prompt", (r) => (r.prompt = "text"), /export\.json: prompt: expected a JSON object, got "text"/],
    ];
    for (const [name, edit, message] of cases) {
      it(`names export.json and the field: ${name}`, () => {
        const folder = editedCopy(student, `bad-${name}`, edit);
        assert.throws(() => readDecoderFolder(folder), (error: Error) => error.message.startsWith(join(folder, "export.json")) && message.test(error.message));
      });
    }

    it("names a missing folder or file", async () => {
      const missing = join(student.root, "nowhere");
      await assert.rejects(loadDecoder(missing), new RegExp(`^Error: ${missing}: no such decoder folder`));
      const folder = editedCopy(student, "no-tokenizer", () => undefined);
      rmSync(join(folder, "tokenizer.json"));
      await assert.rejects(loadDecoder(folder), new RegExp(`${folder}/tokenizer.json: missing from the decoder folder`));
      writeFileSync(join(folder, "tokenizer.json"), "{not json");
      await assert.rejects(loadDecoder(folder), new RegExp(`${folder}/tokenizer.json: not JSON`));
    });

    it("passes export.json's prompt object through", async () => {
      const prompt = { template: "{prompt}", anything: [1, 2] };
      const folder = editedCopy(student, "with-prompt", (r) => (r.prompt = prompt));
      const withPrompt = await loadDecoder(folder, { intraOpNumThreads: 1 });
      try {
        assert.deepEqual(withPrompt.info.prompt, prompt);
        const without = editedCopy(student, "without-prompt", (r) => delete r.prompt);
        assert.equal("prompt" in readDecoderFolder(without).record, false);
      } finally {
        await withPrompt.dispose();
      }
    });
  });

  describe("codistill generate", () => {
    it("prints one JSON line with the result's keys, in order", async () => {
      const run = await runCli(["generate", "--model", student.onnx, "--prompt", PROMPT, "--max-new-tokens", "12", "--threads", "1"]);
      assert.equal(run.code, 0, run.stderr);
      const lines = run.stdout.trimEnd().split("\n");
      assert.equal(lines.length, 1);
      const printed = JSON.parse(lines[0]!) as GenerationResult;
      assert.deepEqual(Object.keys(printed), ["text", "tokenIds", "promptTokens", "newTokens", "firstTokenMs", "tokensPerS", "finishReason"]);
      assert.deepEqual(printed.tokenIds, greedy.tokenIds.slice(0, 12));
      assert.equal(printed.promptTokens, greedy.promptTokens);
      assert.equal(printed.finishReason, "length");
    });

    it("reads --prompt-file and samples with --temperature/--top-p/--seed, stops at --stop", async () => {
      const file = join(student.root, "prompt.py");
      writeFileSync(file, PROMPT);
      const args = ["generate", "--model", student.onnx, "--prompt-file", file, "--max-new-tokens", "20", "--temperature", "1.2", "--top-p", "0.9", "--seed", "3"];
      const run = await runCli(args);
      assert.equal(run.code, 0, run.stderr);
      const expected = await decoder.generate({ ...GREEDY, maxNewTokens: 20, temperature: 1.2, topP: 0.9, seed: 3 });
      assert.deepEqual((JSON.parse(run.stdout) as GenerationResult).tokenIds, expected.tokenIds);
      const stop = greedy.text.slice(10, 13);
      const stopped = await runCli(["generate", "--model", student.onnx, "--prompt", PROMPT, "--stop", stop]);
      assert.equal((JSON.parse(stopped.stdout) as GenerationResult).text, greedy.text.slice(0, greedy.text.indexOf(stop)));
    });

    it("exits 1 on usage errors, naming the flag", async () => {
      const model = ["--model", student.onnx];
      const cases: [string[], string][] = [
        [["generate", "--prompt", "x"], "generate: missing --model"],
        [["generate", ...model], "missing --prompt <text> or --prompt-file <file>"],
        [["generate", ...model, "--prompt", "x", "--prompt-file", "f"], "give --prompt or --prompt-file, not both"],
        [["generate", ...model, "--prompt", "x", "--max-new-tokens", "0"], '--max-new-tokens: expected an integer >= 1, got "0"'],
        [["generate", ...model, "--prompt", "x", "--max-new-tokens", "many"], '--max-new-tokens: expected an integer >= 1, got "many"'],
        [["generate", ...model, "--prompt", "x", "--temperature=-1"], '--temperature: expected a number >= 0, got "-1"'],
        [["generate", ...model, "--prompt", "x", "--top-p", "1.5"], '--top-p: expected a number in (0, 1], got "1.5"'],
        [["generate", ...model, "--prompt", "x", "--seed", "1.5"], '--seed: expected an integer >= 0, got "1.5"'],
        [["generate", ...model, "--prompt", "x", "--stop", ""], "--stop: an empty stop sequence"],
        [["generate", ...model, "--prompt", "x", "--bogus"], "Unknown option '--bogus'"],
      ];
      // The first two as real processes, the others through the CLI's main() in this process.
      const runs = await Promise.all(cases.map(([args], i) => (i < 2 ? runCli(args) : inProcess(args))));
      runs.forEach((run, i) => {
        assert.equal(run.code, 1, cases[i]![0].join(" "));
        assert.equal(run.stdout, "");
        assert.ok(run.stderr.includes(cases[i]![1]), `${cases[i]![1]} in ${run.stderr.slice(0, 200)}`);
      });
      const badModel = await runCli(["generate", "--model", join(student.root, "nowhere"), "--prompt", "x"]);
      assert.equal(badModel.code, 1);
      assert.match(badModel.stderr, /nowhere: no such decoder folder/);
      const badFile = await runCli(["generate", ...model, "--prompt-file", join(student.root, "none.txt")]);
      assert.equal(badFile.code, 1);
      assert.match(badFile.stderr, /cannot read --prompt-file .*none\.txt/);
    });
  });
});

/** `codistill ...` through main() with its output captured. */
async function inProcess(args: string[]): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const code = await main(args, { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) } });
  return { code, stdout, stderr };
}

/** A result without its timings. */
function untimed(result: GenerationResult): Omit<GenerationResult, "firstTokenMs" | "tokensPerS"> {
  const { firstTokenMs: _first, tokensPerS: _rate, ...rest } = result;
  return rest;
}
