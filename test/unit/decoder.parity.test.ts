// The editor's decoder (src/core/inference/decoder.ts) against PyTorch: the tiny student with its
// LoRA adapter merged, exported by the real `python -m codistill export onnx`, continues the first
// 20 HumanEval prompts greedily for 64 new tokens in Node (KV cache fed back); a Python child runs
// transformers' generate on the merged float32 model (test/fixtures/decoder_reference.py). The
// prompt ids, every new token id and the decoded text must be the same.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { loadDecoder, type StudentDecoder } from "../../src/core/inference/decoder";
import { DATA, makeTinyStudent, python, type TinyStudent } from "./decoder.fixture";

const PROMPTS = 20;
const NEW_TOKENS = 64;

interface Reference {
  promptIds: number[];
  ids: number[];
  text: string;
  eos: boolean;
}

function humanEvalPrompts(count: number): string[] {
  return readFileSync(join(DATA, "humaneval", "HumanEval.jsonl"), "utf8")
    .split("\n")
    .filter((line) => line.trim())
    .slice(0, count)
    .map((line) => (JSON.parse(line) as { prompt: string }).prompt);
}

describe("decoder: greedy ids of onnxruntime-node with the KV cache against PyTorch generate", () => {
  let student: TinyStudent;
  let decoder: StudentDecoder;
  let prompts: string[];
  let reference: Reference[];

  before(async () => {
    student = await makeTinyStudent("codistill-decoder-parity-");
    prompts = humanEvalPrompts(PROMPTS);
    const promptsFile = join(student.root, "prompts.json");
    writeFileSync(promptsFile, JSON.stringify(prompts));
    const script = join("test", "fixtures", "decoder_reference.py");
    [reference, decoder] = await Promise.all([
      python([script, student.model, student.adapter, student.onnx, promptsFile, String(NEW_TOKENS)]).then((out) => JSON.parse(out) as Reference[]),
      loadDecoder(student.onnx, { intraOpNumThreads: 1 }),
    ]);
  });

  after(async () => {
    await decoder?.dispose();
    student?.remove();
  });

  it(`gives PyTorch's token ids for ${PROMPTS} HumanEval prompts x ${NEW_TOKENS} new tokens`, async (t) => {
    assert.equal(reference.length, PROMPTS);
    let tokens = 0;
    for (const [i, prompt] of prompts.entries()) {
      const result = await decoder.generate({ prompt, maxNewTokens: NEW_TOKENS });
      const expected = reference[i]!;
      assert.equal(result.promptTokens, expected.promptIds.length, `prompt ${i}: prompt tokens`);
      assert.deepEqual(result.tokenIds, expected.ids, `prompt ${i}: new token ids`);
      assert.equal(result.text, expected.text, `prompt ${i}: the text transformers decodes`);
      assert.equal(result.finishReason, expected.eos ? "eos" : "length", `prompt ${i}`);
      tokens += result.newTokens;
    }
    t.diagnostic(`${tokens} tokens compared, ${reference.filter((r) => r.eos).length} prompts ended at end-of-sequence`);
    assert.ok(tokens >= PROMPTS * NEW_TOKENS * 0.5, `${tokens} tokens compared`);
  });
});
