// Training run folders as the Runs view and the training panel read them.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { isResumable, METRIC_KEYS, parseMetrics, summarizeRun } from "../../src/core/training/runs";

const line = (step: number, extra: Record<string, number | null> = {}) =>
  JSON.stringify({ ...Object.fromEntries(METRIC_KEYS.map((k) => [k, null])), step, total_steps: 8, loss: 2 - step / 10, ...extra });

describe("training run folders", () => {
  const root = mkdtempSync(join(tmpdir(), "codistill-runs-"));
  after(() => rmSync(root, { recursive: true, force: true }));
  const run = (name: string) => {
    const dir = join(root, name);
    mkdirSync(dir, { recursive: true });
    return dir;
  };

  it("tells finished, stopped, started, evaluation-only and empty runs apart", async () => {
    const finished = run("finished");
    mkdirSync(join(finished, "adapter"));
    writeFileSync(join(finished, "adapter", "adapter_config.json"), "{}");
    writeFileSync(join(finished, "metrics.jsonl"), `${line(1)}\n${line(8)}\n`);
    const stopped = run("stopped");
    for (const s of [4, 2, 12]) mkdirSync(join(stopped, "checkpoints", `step-${s}`), { recursive: true });
    mkdirSync(join(stopped, "checkpoints", ".tmp-step-14-99"), { recursive: true });
    writeFileSync(join(stopped, "metrics.jsonl"), `${line(12)}\n{"step": 13, "los`);
    const started = run("started");
    writeFileSync(join(started, "metrics.jsonl"), `${line(1)}\n`);
    const evaluation = run("base-tiny");
    mkdirSync(join(evaluation, "eval", "humaneval"), { recursive: true });

    assert.deepEqual(await summarizeRun(finished), { state: "finished", step: 8, totalSteps: 8, checkpoints: [], error: null });
    assert.deepEqual(await summarizeRun(stopped), { state: "stopped", step: 12, totalSteps: 8, checkpoints: [2, 4, 12], error: null });
    assert.equal((await summarizeRun(started)).state, "started");
    assert.equal((await summarizeRun(evaluation)).state, "evaluation");
    assert.equal((await summarizeRun(run("empty"))).state, "empty");
  });

  it("tells failed runs by their manifest, resumable when they wrote a checkpoint", async () => {
    const manifest = (state: string, error?: string) => JSON.stringify({ runId: "r", state, ...(error ? { error } : {}) });
    const early = run("failed-loading");
    writeFileSync(join(early, "manifest.json"), manifest("failed", "TrainingError: out of CPU memory while loading the models"));
    const late = run("failed-later");
    mkdirSync(join(late, "checkpoints", "step-6"), { recursive: true });
    writeFileSync(join(late, "metrics.jsonl"), `${line(7)}\n`);
    writeFileSync(join(late, "manifest.json"), manifest("failed"));
    const finishedAnyway = run("failed-then-finished");
    mkdirSync(join(finishedAnyway, "adapter"));
    writeFileSync(join(finishedAnyway, "adapter", "adapter_config.json"), "{}");
    writeFileSync(join(finishedAnyway, "manifest.json"), manifest("failed", "an old failure"));
    const unreadable = run("manifest-not-json");
    mkdirSync(join(unreadable, "checkpoints", "step-2"), { recursive: true });
    writeFileSync(join(unreadable, "manifest.json"), "{");

    const loading = await summarizeRun(early);
    assert.deepEqual(loading, { state: "failed", step: null, totalSteps: null, checkpoints: [], error: "TrainingError: out of CPU memory while loading the models" });
    assert.equal(isResumable(loading), false);
    const later = await summarizeRun(late);
    assert.deepEqual(later, { state: "failed", step: 7, totalSteps: 8, checkpoints: [6], error: "no reason recorded" });
    assert.equal(isResumable(later), true);
    assert.equal((await summarizeRun(finishedAnyway)).state, "finished");
    const stopped = await summarizeRun(unreadable);
    assert.equal(stopped.state, "stopped");
    assert.equal(isResumable(stopped), true);
  });

  it("drops a partial last line of metrics.jsonl and names the file and line of a bad one", () => {
    assert.deepEqual(parseMetrics(`${line(1)}\n${line(2)}\n{"st`, "m.jsonl").map((m) => m.step), [1, 2]);
    assert.throws(() => parseMetrics(`${line(1)}\nnot json\n`, "m.jsonl"), /^Error: m\.jsonl:2: not JSON/);
    assert.throws(() => parseMetrics(`${JSON.stringify({ step: 1 })}\n`, "m.jsonl"), /m\.jsonl:1: total_steps: missing/);
    assert.throws(() => parseMetrics(`${line(1, { loss: "x" as unknown as number })}\n`, "m.jsonl"), /m\.jsonl:1: loss: expected a number or null/);
  });
});
