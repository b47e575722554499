// The editor's two backends give the same greedy tokens: the tiny student with its LoRA adapter
// merged and exported to ONNX (onnxGenerator over the worker-thread decoder), and the same base
// model with the adapter unmerged on a real sidecar (sidecarGenerator over generate/start,
// generate/token and generate/finished). Both render the prompt in the student's trained format;
// the streamed text adds up to the answer on both; cancelling stops both.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { PromptKind } from "../../src/core/generation/editorPrompt";
import { onnxGenerator, type CodeGenerator } from "../../src/core/generation/generator";
import { sidecarGenerator } from "../../src/core/generation/sidecarGenerator";
import { startDecoderWorker } from "../../src/core/inference/workerDecoder";
import { sidecarLaunchArgs } from "../../src/sidecar/interpreter";
import { consoleLogger } from "../../src/sidecar/logger";
import { SidecarSupervisor } from "../../src/sidecar/supervisor";
import { makeTinyStudent, type TinyStudent } from "./decoder.fixture";
import { sidecarPython } from "./helpers";

const PROMPTS: { kind: PromptKind; text: string }[] = [
  { kind: "code", text: 'def fibonacci(n):\n    """Return the n-th Fibonacci number."""\n' },
  { kind: "code", text: "from typing import List\n\n\ndef below_zero(operations: List[int]) -> bool:\n    \"\"\"True when the balance falls below zero.\"\"\"\n" },
  { kind: "prose", text: "Write a function to find the shared elements of two lists." },
  { kind: "prose", text: "reverse the words of a sentence" },
];
const GREEDY = { maxNewTokens: 32, temperature: 0, topP: 1, seed: 0 };

describe("ONNX and sidecar backends", () => {
  let student: TinyStudent;
  let onnx: CodeGenerator;
  let sidecar: CodeGenerator;
  const supervisor = new SidecarSupervisor({
    launch: async () => ({ command: sidecarPython(), args: sidecarLaunchArgs("warning"), env: { OMP_NUM_THREADS: "2" } }),
    log: consoleLogger("generation", "error"),
    clientName: "unit-test",
    clientVersion: "0",
    requestTimeoutMs: 60_000,
    backoff: { initialMs: 100, maxMs: 1000, resetAfterMs: 60_000 },
    stopGraceMs: 1500,
  });

  before(async () => {
    student = await makeTinyStudent("codistill-backends-");
    onnx = onnxGenerator(await startDecoderWorker(student.onnx));
    await supervisor.start();
    sidecar = sidecarGenerator(supervisor, { model: student.model, adapter: student.adapter, device: "cpu", startTimeoutMs: 120_000 });
  });

  after(async () => {
    await onnx?.dispose();
    await supervisor.stop();
    student?.remove();
  });

  it("give the same greedy tokens and text for code and prose prompts, streamed and whole", async () => {
    for (const prompt of PROMPTS) {
      const streamed = { onnx: "", sidecar: "" };
      const fromOnnx = await onnx.generate(prompt, GREEDY, { onText: (d) => (streamed.onnx += d) });
      const fromSidecar = await sidecar.generate(prompt, GREEDY, { onText: (d) => (streamed.sidecar += d) });
      assert.ok(fromOnnx.newTokens > 0, "the student wrote something");
      assert.deepEqual(fromSidecar.tokenIds, fromOnnx.tokenIds, `same greedy tokens for ${JSON.stringify(prompt.text.slice(0, 30))}`);
      assert.equal(fromSidecar.text, fromOnnx.text);
      assert.equal(fromSidecar.promptTokens, fromOnnx.promptTokens, "the same rendered prompt, tokenized the same");
      assert.equal(fromOnnx.format, "completion");
      assert.equal(fromSidecar.format, "completion");
      assert.equal(streamed.onnx, fromOnnx.text);
      assert.equal(streamed.sidecar, fromSidecar.text);
    }
  });

  it("stop when cancelled, keeping what was written", async () => {
    for (const generator of [onnx, sidecar]) {
      const abort = new AbortController();
      let pieces = 0;
      const result = await generator.generate(PROMPTS[0]!, { ...GREEDY, maxNewTokens: 4000 }, {
        signal: abort.signal,
        onText: () => {
          if (++pieces === 2) abort.abort();
        },
      });
      assert.equal(result.finishReason, "cancelled", generator.label);
      assert.ok(result.newTokens < 4000, `${generator.label} stopped early (${result.newTokens} tokens)`);
    }
  });
});
