// `codistill eval select <eval-dir>` as the real CLI, on an evaluation folder of real HumanEval
// tasks whose results.json the real executor wrote (`python -m codistill eval execute`).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { selectEvalDir, selectionInputs, type Selection } from "../../src/core/evaluation/select";
import { REPO, runCli, sidecarPython } from "./helpers";

const GOLDEN = join(REPO, "test", "fixtures", "datasets", "golden");
const tmp = mkdtempSync(join(tmpdir(), "codistill-select-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

interface TaskJson {
  id: string;
  prompt: string;
  solutions: string[];
}

const tasks = readFileSync(join(GOLDEN, "humaneval-slice.tasks.jsonl"), "utf8")
  .trim()
  .split("\n")
  .slice(0, 3)
  .map((l) => JSON.parse(l) as TaskJson);
const jsonl = (rows: readonly unknown[]) => rows.map((r) => `${JSON.stringify(r)}\n`).join("");

const right = (t: TaskJson) => t.solutions[0]!;
/** Fails every test, and shares none of the reference's body structure. */
const wrong = (t: TaskJson) => `${t.prompt}    return None\n`;

/**
 * Three samples per task. Task 0: right, right, wrong -> the first right one (a tie, lowest index).
 * Task 1: wrong, right, right -> sample 1. Task 2: right, wrong, wrong -> the wrong pair wins, 1.
 * Chosen pass@1: 2 of 3 tasks; plain pass@1: (2/3 + 2/3 + 1/3) / 3 = 5/9.
 */
const samples = [
  [right, right, wrong],
  [wrong, right, right],
  [right, wrong, wrong],
].flatMap((kinds, i) => kinds.map((kind) => ({ task_id: tasks[i]!.id, solution: kind(tasks[i]!) })));

function folder(name: string, rows: readonly unknown[] = samples): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "tasks.jsonl"), jsonl(tasks));
  writeFileSync(join(dir, "samples.jsonl"), jsonl(rows));
  return dir;
}

/** results.json as the executor writes it. */
function execute(dir: string): void {
  execFileSync(sidecarPython(), ["-m", "codistill", "eval", "execute", "--tasks", join(dir, "tasks.jsonl"), "--samples", join(dir, "samples.jsonl"), "--out-dir", dir, "--ks", "1"], {
    cwd: REPO,
    stdio: ["ignore", "ignore", "pipe"],
  });
}

const near = (actual: number, expected: number, what: string) => assert.ok(Math.abs(actual - expected) < 1e-12, `${what}: ${actual}, expected ${expected}`);

describe("codistill eval select", () => {
  let executed: string;
  before(() => {
    executed = folder("executed");
    execute(executed);
  });

  it("chooses by consensus and puts pass@1 of the chosen beside plain pass@1", async () => {
    const run = await runCli(["eval", "select", executed]);
    assert.equal(run.code, 0, run.stderr);
    const printed = JSON.parse(run.stdout) as Selection;
    const written = JSON.parse(readFileSync(join(executed, "selection.json"), "utf8")) as Selection;
    assert.deepEqual(printed, written);
    assert.deepEqual(Object.keys(written), ["select", "n", "tasks", "chosen", "pass@1"]);
    assert.equal(written.select, "consensus");
    assert.equal(written.n, 3);
    assert.equal(written.tasks, 3);
    assert.deepEqual(written.chosen, { [tasks[0]!.id]: 0, [tasks[1]!.id]: 1, [tasks[2]!.id]: 1 });
    near(written["pass@1"]!.chosen, 2 / 3, "chosen");
    near(written["pass@1"]!.plain, 5 / 9, "plain");
    // The executor's own pass@1 of the same samples is the plain one.
    const results = JSON.parse(readFileSync(join(executed, "results.json"), "utf8")) as { summary: { passAtK: Record<string, number> } };
    near(written["pass@1"]!.plain, results.summary.passAtK["pass@1"]!, "the executor's pass@1");
    assert.match(run.stderr, /^chose 1 of 3 samples for 3 tasks \(pass@1 0\.6667 chosen, 0\.5556 plain\) -> .*selection\.json\n$/);
  });

  it("chooses without results.json, and takes samples and results kept elsewhere", async () => {
    const dir = folder("unexecuted");
    const run = await runCli(["eval", "select", dir]);
    assert.equal(run.code, 0, run.stderr);
    const written = JSON.parse(readFileSync(join(dir, "selection.json"), "utf8")) as Selection;
    assert.equal(written["pass@1"], null);
    assert.deepEqual(Object.values(written.chosen), [0, 1, 1]);

    const elsewhere = folder("elsewhere", []);
    const selection = await selectEvalDir(selectionInputs(elsewhere, { samples: join(executed, "samples.jsonl"), results: join(executed, "results.json") }));
    near(selection["pass@1"]!.plain, 5 / 9, "plain");
    assert.deepEqual(JSON.parse(readFileSync(join(elsewhere, "selection.json"), "utf8")), selection);
  });

  it("builds the programs of completion-only samples from the tasks' prompts", async () => {
    const completions = samples.map((s) => ({ task_id: s.task_id, completion: s.solution.slice(tasks.find((t) => t.id === s.task_id)!.prompt.length) }));
    assert.ok(samples.every((s) => s.solution.startsWith(tasks.find((t) => t.id === s.task_id)!.prompt)));
    const selection = await selectEvalDir(selectionInputs(folder("completions", completions)));
    assert.deepEqual(Object.values(selection.chosen), [0, 1, 1]);
  });

  it("names the file and line of bad input, and results that score other samples", async () => {
    const bad = folder("bad");
    writeFileSync(join(bad, "samples.jsonl"), `${jsonl(samples.slice(0, 2))}{"task_id": 3}\n`);
    const badLine = await runCli(["eval", "select", bad]);
    assert.equal(badLine.code, 1);
    assert.equal(badLine.stderr, `codistill: ${join(bad, "samples.jsonl")}:3: task_id: expected a string, got number\n`);

    const uneven = folder("uneven", samples.slice(0, 8));
    const short = await runCli(["eval", "select", uneven]);
    assert.equal(short.code, 1);
    assert.match(short.stderr, new RegExp(`^codistill: ${join(uneven, "samples.jsonl")}:8: task_id: .* has 2 samples, .* 3: every task needs the same number`));

    const mismatched = folder("mismatched", samples.slice(0, 6));
    const other = await runCli(["eval", "select", mismatched, "--results", join(executed, "results.json")]);
    assert.equal(other.code, 1);
    assert.match(other.stderr, new RegExp(`^codistill: ${join(executed, "results.json")}: eval\\["HumanEval/32"\\]: a task that .* does not have`));

    const missing = await runCli(["eval", "select", join(tmp, "nowhere")]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /samples\.jsonl: missing: eval select needs the evaluation's samples file \(--samples <file> names one elsewhere\)/);
    const noResults = await runCli(["eval", "select", mismatched, "--results", join(tmp, "none.json")]);
    assert.equal(noResults.code, 1);
    assert.match(noResults.stderr, /none\.json: cannot read: .* \(--results <file> names one elsewhere\)/);
  });

  it("refuses stray options and arguments with the usage", async () => {
    const mode = await runCli(["eval", "select", executed, "--mode", "reference"]);
    assert.equal(mode.code, 1);
    assert.match(mode.stderr, /eval select: --mode is an option of eval structure/);
    const noDir = await runCli(["eval", "select"]);
    assert.equal(noDir.code, 1);
    assert.match(noDir.stderr, /eval select: missing <eval-dir>/);
    const help = await runCli(["--help"]);
    assert.match(help.stdout, /codistill eval select <eval-dir> \[options\]/);
  });
});
