import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { validateEnvelopeToServer, validateMessageToClient, validateParams, validateResponse } from "../../src/sidecar/protocol";
import { goldenMessages } from "./helpers";

function problemsOf(golden: ReturnType<typeof goldenMessages>[number]): string[] {
  if (golden.direction === "toClient") return validateMessageToClient(golden.message, golden.method);
  const envelope = validateEnvelopeToServer(golden.message);
  if (envelope.length) return envelope;
  const msg = golden.message as { method: string; params?: unknown };
  return validateParams(msg.method, msg.params);
}

describe("golden protocol messages (shared with the Python suite)", () => {
  const goldens = goldenMessages();

  it("has messages for both directions, valid and invalid", () => {
    assert.ok(goldens.length >= 10, `only ${goldens.length} golden messages`);
    for (const direction of ["toServer", "toClient"] as const) {
      for (const valid of [true, false]) {
        assert.ok(goldens.some((g) => g.direction === direction && g.valid === valid), `no ${valid ? "valid" : "invalid"} ${direction} message`);
      }
    }
  });

  for (const golden of goldens) {
    it(`${golden.file}: ${golden.valid ? "accepted" : "rejected"}`, () => {
      const problems = problemsOf(golden);
      if (golden.valid) assert.deepEqual(problems, [], `${golden.file} should be valid`);
      else assert.ok(problems.length > 0, `${golden.file} should be rejected: ${golden.description}`);
      for (const problem of problems) assert.match(problem, /^[\w.$[\]]+: /, "a problem names its field");
    });
  }

  it("names the exact field of a bad GPU entry", () => {
    const bad = goldens.find((g) => g.file === "initialize.response.bad-gpu.json")!;
    assert.deepEqual(validateResponse(bad.message, "initialize"), [
      "result.devices.gpus[0].totalMemory: expected a non-negative integer",
      "result.devices.gpus[0].freeMemory: expected a non-negative integer",
    ]);
  });

  it("names the train/progress metrics that are not numbers or are missing", () => {
    const bad = goldens.find((g) => g.file === "train-progress.notification.bad-metrics.json")!;
    assert.deepEqual(validateMessageToClient(bad.message), [
      "params.metrics.eta_s: expected a number or null",
      "params.metrics.loss: expected a number or null",
    ]);
  });

  it("has a golden for every train/* request, result and notification", () => {
    const methods = new Set(goldens.filter((g) => g.valid).map((g) => (g.message as { method?: string }).method ?? g.method));
    for (const method of ["train/start", "train/stop", "train/resume", "train/status", "train/progress", "train/checkpoint", "train/finished", "train/failed"]) {
      assert.ok(methods.has(method), `no valid golden for ${method}`);
    }
  });
});
