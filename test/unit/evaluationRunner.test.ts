// Which models the evaluation offers (base, run adapters, checkpoints) and where each one's
// results go, on a real workspace tree; then whole evaluations through a real sidecar.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { openDataset, type Dataset } from "../../src/core/datasets/index";
import { readEvalResults } from "../../src/core/evaluation/results";
import { readStructure, structureInputs, structureStatus } from "../../src/core/evaluation/structure";
import { baseRunId, evalDir, expectedOutputsCacheDir, listEvalModels, runEvaluation, type EvalModel, type EvalProgress, type EvalSidecar } from "../../src/core/evaluation/runner";
import { EVALUATION_DEFAULTS } from "../../src/core/experiment/config";
import { sidecarLaunchArgs } from "../../src/sidecar/interpreter";
import { consoleLogger } from "../../src/sidecar/logger";
import { SidecarSupervisor } from "../../src/sidecar/supervisor";
import { REPO, sidecarPython, waitFor } from "./helpers";

describe("evaluation models", () => {
  const root = mkdtempSync(join(tmpdir(), "codistill-evalmodels-"));
  after(() => rmSync(root, { recursive: true, force: true }));
  const runs = join(root, ".codistill", "runs");
  const adapterConfig = (dir: string, base: string) => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "adapter_config.json"), JSON.stringify({ peft_type: "LORA", base_model_name_or_path: base, r: 4 }));
  };

  it("lists the student's base model, each run's adapter and its checkpoints in step order", async () => {
    const otherBase = join(root, "other-base");
    mkdirSync(otherBase);
    adapterConfig(join(runs, "run-a", "adapter"), otherBase);
    adapterConfig(join(runs, "run-a", "checkpoints", "step-20"), "");
    adapterConfig(join(runs, "run-a", "checkpoints", "step-5"), "/moved/away");
    mkdirSync(join(runs, "run-a", "checkpoints", "not-a-step"), { recursive: true });
    mkdirSync(join(runs, "run-empty"), { recursive: true });
    const models = await listEvalModels(root, "/models/tiny-student");
    assert.deepEqual(
      models.map((m) => [m.id, m.kind, m.model, m.adapter ?? null]),
      [
        ["base", "base", "/models/tiny-student", null],
        ["run-a", "adapter", otherBase, join(runs, "run-a", "adapter")],
        ["run-a@step-5", "checkpoint", "/models/tiny-student", join(runs, "run-a", "checkpoints", "step-5")],
        ["run-a@step-20", "checkpoint", "/models/tiny-student", join(runs, "run-a", "checkpoints", "step-20")],
      ],
    );
    assert.equal(evalDir(models[0]!, "humaneval"), join(runs, baseRunId("/models/tiny-student"), "eval", "humaneval"));
    assert.equal(baseRunId("/models/tiny-student"), "base-tiny-student");
    assert.equal(evalDir(models[2]!, "mbpp"), join(runs, "run-a", "checkpoints", "step-5", "eval", "mbpp"));
    assert.equal(expectedOutputsCacheDir(root), join(root, ".codistill", "cache", "expected-outputs"));
  });

  it("offers no base model without student.model, and adapters only when their base is known", async () => {
    const models = await listEvalModels(root, undefined);
    assert.deepEqual(models.map((m) => m.id), ["run-a"]);
  });

  it("keeps one order between renders: base, then runs newest created first, each with its checkpoints, labelled by name", async () => {
    const ordered = mkdtempSync(join(tmpdir(), "codistill-evalorder-"));
    try {
      const run = (id: string, createdAt: string, name?: string) => {
        const dir = join(ordered, ".codistill", "runs", id);
        adapterConfig(join(dir, "adapter"), "");
        adapterConfig(join(dir, "checkpoints", "step-10"), "");
        adapterConfig(join(dir, "checkpoints", "step-2"), "");
        writeFileSync(join(dir, "manifest.json"), JSON.stringify({ runId: id, createdAt, state: "finished" }));
        if (name) writeFileSync(join(dir, "run.json"), JSON.stringify({ name, createdAt }));
        return dir;
      };
      const older = run("20261126-090000-paper", "2026-11-26T09:00:00Z", "tiny sft 09:00");
      run("20261126-100000-paper", "2026-11-26T10:00:00Z");
      const ids = async () => (await listEvalModels(ordered, "/models/tiny")).map((m) => m.id);
      const expected = ["base", "20261126-100000-paper", "20261126-100000-paper@step-2", "20261126-100000-paper@step-10", "20261126-090000-paper", "20261126-090000-paper@step-2", "20261126-090000-paper@step-10"];
      assert.deepEqual(await ids(), expected);
      // Evaluating the older run writes <run>/eval/ (the folder's mtime moves past the newer run's):
      // the order used to follow the mtime, and the panel's list reordered itself after a run.
      mkdirSync(join(older, "eval", "humaneval"), { recursive: true });
      const later = Date.now() / 1000 + 60;
      utimesSync(older, later, later);
      assert.deepEqual(await ids(), expected);
      const labels = (await listEvalModels(ordered, "/models/tiny")).map((m) => m.label);
      assert.deepEqual(labels.slice(4), ["tiny sft 09:00 (adapter)", "tiny sft 09:00 step 2", "tiny sft 09:00 step 10"]);
      assert.equal(labels[1], "20261126-100000-paper (adapter)", "a run without a name: its id");
    } finally {
      rmSync(ordered, { recursive: true, force: true });
    }
  });
});

describe("runEvaluation with a real sidecar and a tiny model", () => {
  const root = mkdtempSync(join(tmpdir(), "codistill-evalrun-"));
  const modelDir = join(root, "tiny");
  const supervisor = new SidecarSupervisor({
    launch: async () => ({ command: sidecarPython(), args: sidecarLaunchArgs("info") }),
    log: consoleLogger("evaluation", "error"),
    clientName: "unit-test",
    clientVersion: "0",
    requestTimeoutMs: 30_000,
    backoff: { initialMs: 100, maxMs: 1000, resetAfterMs: 60_000 },
    stopGraceMs: 1500,
  });
  // The supervisor is what the panel hands runEvaluation.
  const sidecar: EvalSidecar = supervisor;
  const cacheDir = expectedOutputsCacheDir(root);
  let humaneval: Dataset;
  let humanevalPlus: Dataset;

  before(async () => {
    execFileSync(sidecarPython(), [join(REPO, "scripts", "make-tiny-model.py"), modelDir], { stdio: "ignore" });
    const golden = join(REPO, "test", "fixtures", "datasets", "golden");
    humaneval = await openDataset(join(golden, "humaneval-slice.tasks.jsonl"));
    humanevalPlus = await openDataset(join(golden, "humanevalplus-slice.tasks.jsonl"));
  });
  after(async () => {
    await supervisor.stop();
    await humaneval?.close();
    await humanevalPlus?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it("exports the tasks, generates, executes, scores the structure and reports progress of each phase, across a sidecar restart", async () => {
    await supervisor.start();
    // Notification handlers outlive the process they were registered with.
    process.kill(supervisor.snapshot().pid!, "SIGKILL");
    await waitFor("crashed", () => supervisor.state === "crashed");
    await waitFor("ready again", () => supervisor.state === "ready", 30_000);

    const model: EvalModel = { id: "base", label: "Base: tiny", kind: "base", model: modelDir, home: join(root, ".codistill", "runs", "base-tiny") };
    const progress: EvalProgress[] = [];
    const settings = { ...EVALUATION_DEFAULTS, maxNewTokens: 16, limit: 2 };
    const outcome = await runEvaluation({ model, benchmark: "humaneval", tasks: humaneval, settings, cacheDir }, sidecar, (p) => progress.push(p));

    assert.equal(outcome.dir, join(model.home, "eval", "humaneval"));
    const tasks = readFileSync(outcome.tasksPath, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { id: string });
    assert.equal(tasks.length, 2);
    const results = await readEvalResults(outcome.resultsPath);
    assert.deepEqual(results.tasks.map((t) => t.taskId), tasks.map((t) => t.id));
    assert.ok(results.tasks.every((t) => t.samples.length === 1));
    assert.equal(results.generation?.model, modelDir);
    for (const phase of ["export", "generate", "execute", "score"] as const) {
      const last = progress.filter((p) => p.phase === phase).at(-1);
      assert.ok(last && last.done === last.total, `${phase} progress reaches its total: ${JSON.stringify(progress)}`);
    }
    assert.equal(progress.find((p) => p.phase === "generate" && p.done === p.total)?.total, 2);
    assert.deepEqual([...new Set(progress.map((p) => p.phase))], ["export", "generate", "execute", "score"]);

    // Every sample the sandbox ran has its syntax and dataflow match, in results.json's order.
    assert.equal(outcome.structurePath, join(outcome.dir, "structure.json"));
    const structure = await readStructure(outcome.structurePath);
    assert.equal(structure.mode, "default");
    assert.deepEqual(structure.tasks.map((t) => [t.taskId, t.samples.length]), results.tasks.map((t) => [t.taskId, t.samples.length]));
    assert.equal(structure.summary.syntaxSamples, 2);
    for (const sample of structure.tasks.flatMap((t) => t.samples)) assert.ok(sample.syntax! >= 0 && sample.syntax! <= 1, JSON.stringify(sample));
    assert.equal((await structureStatus(structureInputs(outcome.dir))).state, "current");
  });

  it("keeps the expected outputs of EvalPlus reference runs in the workspace cache and records the limits", async () => {
    const model: EvalModel = { id: "base", label: "Base: tiny", kind: "base", model: modelDir, home: join(root, ".codistill", "runs", "base-plus") };
    // minIsolation from codistill.yaml reaches the sandbox, which has all of it here.
    const settings = { ...EVALUATION_DEFAULTS, maxNewTokens: 16, timeoutS: 3, minIsolation: "full" as const };
    const outcome = await runEvaluation({ model, benchmark: "humaneval+", tasks: humanevalPlus, settings, cacheDir }, sidecar, () => {});
    // HumanEval+ expected outputs come from running each task's reference: one outputs file and
    // one file of reference times per task of the slice (HumanEval/2, HumanEval/53).
    const cached = readdirSync(cacheDir).sort();
    assert.equal(cached.filter((f) => f.endsWith(".outputs.jsonl")).length, 2, cached.join(", "));
    assert.equal(cached.filter((f) => /^[0-9a-f]{64}\.json$/.test(f)).length, 2, cached.join(", "));
    assert.ok(!cached.some((f) => f.endsWith(".tmp")), cached.join(", "));
    const raw = JSON.parse(readFileSync(outcome.resultsPath, "utf8")) as { limits?: unknown; summary: { isolation: string } };
    assert.deepEqual(raw.limits, { timeoutS: 3, timeLimitFactor: 4, minTimeLimitS: 1 });
    assert.match(raw.summary.isolation, /^landlock-v\d+\+uid\+netns\+pidns$/);
    // The reader takes the extra member in its stride.
    assert.equal((await readEvalResults(outcome.resultsPath)).tasks.length, 2);
  });

  it("cancels through the AbortSignal and leaves no results file", async () => {
    const model: EvalModel = { id: "base", label: "Base: tiny", kind: "base", model: modelDir, home: join(root, ".codistill", "runs", "cancelled") };
    const abort = new AbortController();
    const settings = { ...EVALUATION_DEFAULTS, maxNewTokens: 64, limit: undefined, n: 4, temperature: 0.8 };
    const run = runEvaluation({ model, benchmark: "humaneval", tasks: humaneval, settings, cacheDir }, sidecar, (p) => {
      if (p.phase === "generate") abort.abort();
    }, abort.signal);
    await assert.rejects(run, /cancelled/);
    assert.ok(!existsSync(join(model.home, "eval", "humaneval", "results.json")));
    // The sidecar is still there for the next request.
    assert.deepEqual((await supervisor.request("health/ping", {})).pong, true);
  });
});
