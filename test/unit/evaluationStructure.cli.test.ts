// `codistill eval structure <eval-dir>` as the real CLI (node --import tsx src/cli.ts): the
// headless path after `python -m codistill eval generate` and `eval execute`, on real HumanEval
// and MBPP tasks (the golden Task exports).
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { readStructure } from "../../src/core/evaluation/structure";
import { REPO, runCli, type CliRun } from "./helpers";

const GOLDEN = join(REPO, "test", "fixtures", "datasets", "golden");
const tmp = mkdtempSync(join(tmpdir(), "codistill-structure-cli-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

type Run = CliRun;

const cli = (...args: string[]): Promise<Run> => runCli(args);

interface TaskJson {
  id: string;
  prompt: string;
  solutions: string[];
}

const tasksOf = (file: string) => readFileSync(join(GOLDEN, file), "utf8").trim().split("\n").map((l) => JSON.parse(l) as TaskJson);
const humaneval = tasksOf("humaneval-slice.tasks.jsonl");
const mbpp = tasksOf("mbpp-slice.tasks.jsonl");
const jsonl = (rows: readonly unknown[]) => rows.map((r) => `${JSON.stringify(r)}\n`).join("");

/** An evaluation folder as `python -m codistill eval generate --out-dir` leaves it, with the tasks beside. */
function folder(name: string, tasks: readonly TaskJson[], samples: readonly unknown[]): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "tasks.jsonl"), jsonl(tasks));
  writeFileSync(join(dir, "samples.jsonl"), jsonl(samples));
  return dir;
}

describe("codistill eval structure", () => {
  it("writes structure.json into the folder and prints its summary", async () => {
    // Each task's reference as its first sample, then another task's reference: 1 and below 1.
    const samples = humaneval.flatMap((t, i) => [
      { task_id: t.id, solution: t.solutions[0] },
      { task_id: t.id, solution: humaneval[(i + 1) % humaneval.length]!.solutions[0] },
    ]);
    const dir = folder("humaneval", humaneval, samples);
    const run = await cli("eval", "structure", dir);
    assert.equal(run.code, 0, run.stderr);
    const printed = JSON.parse(run.stdout) as { structure: string; mode: string; summary: Record<string, number | null> };
    assert.equal(printed.structure, join(dir, "structure.json"));
    assert.equal(printed.mode, "default");
    const written = await readStructure(printed.structure);
    assert.deepEqual(printed.summary, written.summary);
    assert.equal(written.summary.samples, 10);
    assert.equal(written.summary.syntaxSamples, 10);
    assert.ok(written.summary.syntaxMatch! > 0.5 && written.summary.syntaxMatch! < 1, String(written.summary.syntaxMatch));
    for (const task of written.tasks) {
      assert.equal(task.samples[0]!.syntax, 1, task.taskId);
      assert.ok(task.samples[1]!.syntax! < 1, task.taskId);
    }
    assert.match(run.stderr, /^scored 10 samples of 5 tasks -> .*structure\.json\n$/);
  });

  it("takes --mode reference and tasks or samples kept elsewhere", async () => {
    const dir = folder("mbpp", [], []);
    const tasks = join(tmp, "mbpp.tasks.jsonl");
    const samples = join(tmp, "mbpp.samples.jsonl");
    writeFileSync(tasks, jsonl(mbpp));
    writeFileSync(samples, jsonl(mbpp.map((t) => ({ task_id: t.id, completion: t.solutions[0] }))));
    const run = await cli("eval", "structure", dir, "--mode", "reference", "--tasks", tasks, "--samples", samples);
    assert.equal(run.code, 0, run.stderr);
    const written = await readStructure(join(dir, "structure.json"));
    assert.equal(written.mode, "reference");
    assert.deepEqual([written.tasksPath, written.samplesPath], [tasks, samples]);
    assert.ok(written.tasks.every((t) => t.samples[0]!.syntax === 1), JSON.stringify(written.tasks));
  });

  it("names the missing file, or the file and line of a bad one, and exits 1", async () => {
    const empty = join(tmp, "empty");
    mkdirSync(empty);
    const missing = await cli("eval", "structure", empty);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, new RegExp(`^codistill: ${join(empty, "(tasks|samples)\\.jsonl")}: missing`));
    assert.equal(missing.stdout, "");

    const dir = folder("bad", humaneval, [{ task_id: humaneval[0]!.id, solution: "x = 1\n" }]);
    writeFileSync(join(dir, "samples.jsonl"), `${JSON.stringify({ task_id: humaneval[0]!.id, solution: "x = 1\n" })}\n{"task_id": 3}\n`);
    const bad = await cli("eval", "structure", dir);
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr, `codistill: ${join(dir, "samples.jsonl")}:2: task_id: expected a string, got number\n`);
  });

  it("refuses a bad mode or a missing folder argument with the usage", async () => {
    const mode = await cli("eval", "structure", tmp, "--mode", "paper");
    assert.equal(mode.code, 1);
    assert.match(mode.stderr, /--mode: expected one of default, reference, got "paper"/);
    assert.match(mode.stderr, /codistill eval structure <eval-dir>/);
    const noDir = await cli("eval", "structure");
    assert.equal(noDir.code, 1);
    assert.match(noDir.stderr, /eval structure: missing <eval-dir>/);
    const generate = await cli("eval", "generate");
    assert.match(generate.stderr, /python -m codistill eval generate --help/);
    const help = await cli("--help");
    assert.match(help.stdout, /codistill eval structure <eval-dir> \[options\]/);
  });
});
