// The demo experiment headless, as a user runs it on a server: `npx codistill run` (the bundled
// CLI) on a copy of demo/ with its shipped data and set-up's tiny student and encoder, its own
// sidecar, nothing faked. Every stage's outputs exist and agree with each other and with the
// report; a rerun does nothing; an interrupted training stage resumes from its checkpoint.
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { execa } from "execa";
import { CotStore } from "../../src/core/cot/store";
import { readEvalResults } from "../../src/core/evaluation/results";
import type { ExperimentReport } from "../../src/core/experiment/reportModel";
import { repoRoot } from "./harness";
import { PYTHON, demoWorkspaceCopy, editConfig } from "./workspace";

const CLI = join(repoRoot(), "dist", "cli.js");
const ARMS = ["base", "sft-code", "sft-cot", "sft-cot-struct"];
const BENCHMARKS = ["humaneval", "mbpp", "mbpp-plus"];
const TASKS = 12;

interface RunOutput {
  out: string;
  stages: { id: string; outcome: string; wallS: number }[];
}

function run(workspace: string, ...args: string[]) {
  return execa(process.execPath, [CLI, "run", "--config", join(workspace, "codistill.yaml"), "--python", PYTHON, ...args], { cwd: workspace, reject: false, all: true });
}

function lines(path: string): string[] {
  return readFileSync(path, "utf8").split("\n").filter(Boolean);
}

describe("the demo experiment, headless (npx codistill run)", () => {
  let workspace: string;
  let out: string;
  let first: RunOutput;

  before(async () => {
    workspace = demoWorkspaceCopy({ full: false });
    out = join(workspace, ".codistill", "experiments", "demo");
    const result = await run(workspace);
    assert.equal(result.exitCode, 0, result.all);
    first = JSON.parse(result.stdout) as RunOutput;
  });
  after(() => rmSync(workspace, { recursive: true, force: true }));

  it("runs every stage in order", () => {
    assert.equal(first.out, out);
    assert.deepEqual(
      first.stages.map((s) => `${s.id} ${s.outcome}`),
      ["baseline", "cots:mbpp-train-cots", "train:sft-code", "train:sft-cot", "train:sft-cot-struct", "eval:sft-code", "eval:sft-cot", "eval:sft-cot-struct", "report"].map((id) => `${id} ran`),
    );
  });

  it("writes the CoT set, each arm's run and each arm's evaluation on every benchmark", async () => {
    const cots = await CotStore.open(join(workspace, ".codistill", "cots", "mbpp-train-cots.jsonl"));
    assert.equal(cots.summary().total, 40);
    assert.equal(cots.summary().verified, 40, "the rationalizer's code passes its own tasks' tests");
    for (const arm of ARMS) {
      const dir = join(out, "arms", arm);
      if (arm !== "base") {
        assert.ok(existsSync(join(dir, "adapter", "adapter_config.json")), `${arm}: adapter`);
        const metrics = lines(join(dir, "metrics.jsonl")).map((l) => JSON.parse(l) as { step: number; loss: number; beta: number });
        assert.equal(metrics.at(-1)!.step, 20, `${arm}: trained its 20 steps`);
        assert.equal(JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")).state, "finished");
        assert.equal(metrics.some((m) => m.beta > 0), arm === "sft-cot-struct", `${arm}: β above 0 only with the structural loss`);
      }
      for (const benchmark of BENCHMARKS) {
        const evalDir = join(dir, "eval", benchmark);
        assert.equal(lines(join(evalDir, "tasks.jsonl")).length, TASKS, `${arm}/${benchmark}: tasks`);
        assert.equal(lines(join(evalDir, "samples.jsonl")).length, TASKS, `${arm}/${benchmark}: one greedy sample per task`);
        const results = await readEvalResults(join(evalDir, "results.json"));
        assert.equal(results.tasks.length, TASKS);
        assert.equal(results.generation?.adapter ?? null, arm === "base" ? null : join(dir, "adapter"));
        assert.ok(existsSync(join(evalDir, "structure.json")), `${arm}/${benchmark}: structure`);
      }
    }
  });

  it("reports every arm on every benchmark with the figures of its results, and says the numbers mean nothing", async () => {
    const report = JSON.parse(readFileSync(join(out, "report.json"), "utf8")) as ExperimentReport;
    assert.match(report.caveat ?? "", /mean nothing/);
    assert.deepEqual(report.tables.map((t) => t.benchmark), BENCHMARKS);
    for (const table of report.tables) {
      assert.deepEqual(table.rows.map((r) => r.arm), ARMS);
      for (const row of table.rows) {
        const results = await readEvalResults(join(out, row.results));
        const pass1 = results.tasks.reduce((sum, t) => sum + t.samples.filter((s) => s.status === "passed").length / t.samples.length, 0) / results.tasks.length;
        assert.equal(row.pass1.value, pass1, `${row.arm}/${table.benchmark}: pass@1 as its results say`);
        assert.equal(row.tasks, TASKS);
        assert.equal(typeof row.syntaxMatch, "number");
        assert.equal(row.deltaVsBase === null, row.arm === "base");
      }
    }
    assert.deepEqual(report.arms.map((a) => [a.name, a.loss.length > 0]), ARMS.map((arm) => [arm, arm !== "base"]));
    assert.deepEqual(report.cots.map((c) => [c.name, c.total]), [["mbpp-train-cots", 40]]);
    const markdown = readFileSync(join(out, "report.md"), "utf8");
    const html = readFileSync(join(out, "report.html"), "utf8");
    assert.ok(markdown.indexOf("**Warning:**") < markdown.indexOf("| Arm"), "the caveat comes before any figure");
    for (const arm of ARMS) {
      const rows = BENCHMARKS.length + 1 + (arm === "base" ? 0 : 1);
      assert.equal(markdown.split("\n").filter((l) => l.startsWith(`| ${arm} |`)).length, rows, `${arm}: a row per benchmark, in the arms table and (trained) in the loss table`);
      assert.ok(html.includes(`data-arm="${arm}"`), `${arm} in report.html`);
    }
  });

  it("does nothing when run again, and writes only the report again with --only report", async () => {
    const before = statSync(join(out, "report.html")).mtimeMs;
    const again = await run(workspace);
    assert.equal(again.exitCode, 0, again.all);
    assert.deepEqual((JSON.parse(again.stdout) as RunOutput).stages.map((s) => s.outcome), Array(9).fill("up to date"));
    assert.equal(statSync(join(out, "report.html")).mtimeMs, before);
    rmSync(join(out, "report.md"));
    const only = await run(workspace, "--only", "report");
    assert.equal(only.exitCode, 0, only.all);
    assert.deepEqual((JSON.parse(only.stdout) as RunOutput).stages.map((s) => `${s.id} ${s.outcome}`), ["report ran"]);
    assert.ok(existsSync(join(out, "report.md")));
  });

  it("stops a training arm at a checkpoint on Ctrl+C, and carries on from it on the next run", async () => {
    editConfig(workspace, (doc) => {
      doc.setIn(["training", "max_steps"], 400);
      doc.setIn(["training", "save_every"], 5);
      doc.setIn(["experiment", "arms"], ["base", "sft-code"]);
    });
    const recordBefore = readFileSync(join(out, "stages", "train_sft-code.json"), "utf8");
    // No SIGKILL after execa's default 5 s: stopping at a checkpoint and shutting the sidecar down may take longer.
    const interrupted = execa(process.execPath, [CLI, "run", "--config", join(workspace, "codistill.yaml"), "--python", PYTHON], { cwd: workspace, reject: false, all: true, forceKillAfterDelay: false });
    let log = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no training step after 120 s:\n${log}`)), 120_000);
      interrupted.all!.on("data", (chunk: Buffer) => {
        log += chunk.toString();
        if (/train:sft-code: \d+% sft-code: step (1\d|[2-9]\d)\//.test(log)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    interrupted.kill("SIGINT");
    const stopping = Date.now();
    const stopped = await interrupted;
    assert.equal(stopped.exitCode, 130, stopped.all);
    assert.ok(Date.now() - stopping < 30_000, "stops within 30 s");
    assert.match(stopped.all ?? "", /cancelled during train:sft-code; running again carries on from there/);
    const runDir = join(out, "arms", "sft-code");
    assert.ok(!existsSync(join(runDir, "adapter", "adapter_config.json")), "no final adapter: the run stopped early");
    assert.equal(readFileSync(join(out, "stages", "train_sft-code.json"), "utf8"), recordBefore, "the stage is not recorded as done (its record is the first run's)");
    const resumed = await run(workspace);
    assert.equal(resumed.exitCode, 0, resumed.all);
    assert.match(resumed.all ?? "", /sft-code: resuming from its last checkpoint/);
    const manifest = JSON.parse(readFileSync(join(runDir, "manifest.json"), "utf8")) as { state: string; step: number; resumes: unknown[] };
    assert.deepEqual([manifest.state, manifest.step, manifest.resumes.length], ["finished", 400, 1]);
    const stages = (JSON.parse(resumed.stdout) as RunOutput).stages.map((s) => `${s.id} ${s.outcome}`);
    assert.deepEqual(stages, ["baseline up to date", "cots:mbpp-train-cots up to date", "train:sft-code ran", "eval:sft-code ran", "report ran"]);
  });
});
