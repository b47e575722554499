// The experiment's stage runner (core/experiment/pipeline.ts) on stages that write real files:
// what runs, what is skipped as up to date, what runs again when an input or an output changes,
// --only, cancellation and failure (nothing recorded for the stage), and the ETA.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { fileSha256OrMissing } from "../../src/core/experiment/fingerprint";
import { PipelineCancelled, readStageRecord, runPipeline, selectStages, stageRecordPath, stageSecondsLeft, type PipelineEvent, type Stage, type StageKind } from "../../src/core/experiment/pipeline";

let out: string;
let runs: string[];

/** A stage that copies `from` (its input) to `to` (its output) and counts its runs. */
function copyStage(id: string, kind: StageKind, from: string, to: string, work?: (signal: AbortSignal) => Promise<void>): Stage {
  return {
    id,
    kind,
    inputs: async () => ({ from: await fileSha256OrMissing(join(out, from)) }),
    outputs: () => [join(out, to)],
    run: async (context) => {
      runs.push(id);
      context.progress(0.5, `copying ${from}`);
      await work?.(context.signal);
      writeFileSync(join(out, to), readFileSync(join(out, from)));
      context.progress(1, "copied");
    },
  };
}

function chain(): Stage[] {
  return [copyStage("baseline", "baseline", "student", "base.out"), copyStage("train:a", "train", "config", "a.out"), copyStage("eval:a", "eval", "a.out", "a.eval"), copyStage("report", "report", "a.eval", "report.md")];
}

beforeEach(() => {
  out = mkdtempSync(join(tmpdir(), "codistill-pipeline-"));
  runs = [];
  writeFileSync(join(out, "config"), "lr: 1\n");
  writeFileSync(join(out, "student"), "weights 1\n");
});
afterEach(() => rmSync(out, { recursive: true, force: true }));

describe("runPipeline", () => {
  it("runs every stage once, then finds them all up to date", async () => {
    const first = await runPipeline(chain(), { out });
    assert.deepEqual(runs, ["baseline", "train:a", "eval:a", "report"]);
    assert.deepEqual(first.map((o) => o.outcome), ["ran", "ran", "ran", "ran"]);
    for (const id of runs) assert.ok(existsSync(stageRecordPath(out, id)), `${id} recorded`);
    runs = [];
    const events: PipelineEvent[] = [];
    const second = await runPipeline(chain(), { out, onEvent: (e) => events.push(e) });
    assert.deepEqual(runs, []);
    assert.deepEqual(second.map((o) => o.outcome), ["up to date", "up to date", "up to date", "up to date"]);
    assert.deepEqual(events.map((e) => `${e.type} ${e.stage.id} ${e.index + 1}/${e.total}`), ["up-to-date baseline 1/4", "up-to-date train:a 2/4", "up-to-date eval:a 3/4", "up-to-date report 4/4"]);
  });

  it("runs again what a changed input reaches, and a stage whose output is gone", async () => {
    await runPipeline(chain(), { out });
    runs = [];
    writeFileSync(join(out, "config"), "lr: 2\n");
    await runPipeline(chain(), { out });
    assert.deepEqual(runs, ["train:a", "eval:a", "report"]);
    runs = [];
    writeFileSync(join(out, "student"), "weights 2\n");
    await runPipeline(chain(), { out });
    assert.deepEqual(runs, ["baseline"]);
    runs = [];
    rmSync(join(out, "a.eval"));
    await runPipeline(chain(), { out });
    assert.deepEqual(runs, ["eval:a"]);
  });

  it("--only picks stages by kind or by id, leaves the others as they are, and names a word that picks none", async () => {
    await runPipeline(chain(), { out, only: ["train"] });
    assert.deepEqual(runs, ["train:a"]);
    await runPipeline(chain(), { out, only: ["eval:a", "report"] });
    assert.deepEqual(runs, ["train:a", "eval:a", "report"]);
    assert.equal(await readStageRecord(out, "baseline"), undefined);
    assert.throws(() => selectStages(chain(), ["training"]), /--only training: no such stage; expected a kind \(baseline, cots, train, eval, report\) or one of baseline, train:a, eval:a, report/);
  });

  it("stops at a cancelled stage without recording it; the next run carries on from there", async () => {
    const stop = new AbortController();
    const slow = (signal: AbortSignal) =>
      new Promise<void>((resolve, reject) => {
        stop.abort(new Error("cancelled"));
        if (signal.aborted) reject(signal.reason as Error);
        else resolve();
      });
    const stages = chain();
    stages[1] = copyStage("train:a", "train", "config", "a.out", slow);
    await assert.rejects(runPipeline(stages, { out, signal: stop.signal }), (err: unknown) => err instanceof PipelineCancelled && err.stage === "train:a" && /running again carries on/.test(err.message));
    assert.ok(await readStageRecord(out, "baseline"));
    assert.equal(await readStageRecord(out, "train:a"), undefined);
    runs = [];
    await runPipeline(chain(), { out });
    assert.deepEqual(runs, ["train:a", "eval:a", "report"]);
  });

  it("rejects with a failing stage's error, keeps what finished before it and runs nothing after it", async () => {
    const stages = chain();
    stages[2] = { ...copyStage("eval:a", "eval", "a.out", "a.eval"), run: async () => Promise.reject(new Error("eval:a: the sandbox is gone")) };
    await assert.rejects(runPipeline(stages, { out }), /the sandbox is gone/);
    assert.deepEqual(runs, ["baseline", "train:a"]);
    assert.equal(await readStageRecord(out, "eval:a"), undefined);
    assert.equal(await readStageRecord(out, "report"), undefined);
  });

  it("treats a torn record as no record", async () => {
    await runPipeline(chain(), { out });
    writeFileSync(stageRecordPath(out, "report"), '{"id": "report", "inputsHa');
    runs = [];
    await runPipeline(chain(), { out });
    assert.deepEqual(runs, ["report"]);
  });

  it("estimates the time left from the last run's durations, and from the stage's own progress", async () => {
    await runPipeline(chain(), { out });
    writeFileSync(join(out, "student"), "weights 3\n");
    const events: PipelineEvent[] = [];
    await runPipeline(chain(), { out, onEvent: (e) => events.push(e) });
    const start = events.find((e) => e.type === "start" && e.stage.id === "baseline");
    assert.ok(start && start.type === "start" && start.etaS !== null && start.etaS >= 0, "an ETA from the recorded durations");
    assert.equal(stageSecondsLeft(10, 0.5, null), 10);
    assert.equal(stageSecondsLeft(3, 0.01, 20), 17);
    assert.equal(stageSecondsLeft(3, 0, null), null);
  });
});
