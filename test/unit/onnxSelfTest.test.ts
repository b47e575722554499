import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { expectedSelfTestOutput, runOnnxSelfTest } from "../../src/core/inference/onnxSelfTest";
import { REPO } from "./helpers";

describe("onnxruntime-node self-test", () => {
  it("loads the native binding and runs the shipped model", async () => {
    const report = await runOnnxSelfTest(join(REPO, "media", "onnx", "selftest.onnx"));
    assert.equal(report.ok, true);
    assert.deepEqual(report.output, [[1.5, 1.5], [9.5, 11.5]]);
    assert.deepEqual(report.expected, expectedSelfTestOutput());
    assert.match(report.onnxruntimeVersion, /^1\.\d+\.\d+$/);
    assert.ok(report.backends.includes("cpu"));
  });

  it("names the file when the model is missing", async () => {
    await assert.rejects(runOnnxSelfTest(join(REPO, "media", "onnx", "absent.onnx")), /absent\.onnx/);
  });
});
