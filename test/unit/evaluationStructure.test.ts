// structure.json of a real evaluation folder: real HumanEval and MBPP tasks (the golden Task
// exports), samples of the kinds a model writes, scored by the real CodeBLEU. Then what makes a
// structure.json stale, how a broken one is refused, and the panel's background scoring.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { loadCodeBleu, type CodeBleu } from "../../src/core/codebleu/index";
import {
  STRUCTURE_VERSION,
  parseStructure,
  readStructure,
  scoreEvalDir,
  structureInputs,
  structureStatus,
  type EvalStructure,
  type TaskStructure,
} from "../../src/core/evaluation/structure";
import { StructureJobs } from "../../src/core/evaluation/structureJobs";
import { REPO, waitFor } from "./helpers";

const GOLDEN = join(REPO, "test", "fixtures", "datasets", "golden");
const tmp = mkdtempSync(join(tmpdir(), "codistill-structure-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

interface TaskJson {
  id: string;
  prompt: string;
  solutions: string[];
  [key: string]: unknown;
}

function goldenTask(file: string, id: string): TaskJson {
  const lines = readFileSync(join(GOLDEN, file), "utf8").trim().split("\n");
  const task = lines.map((l) => JSON.parse(l) as TaskJson).find((t) => t.id === id);
  assert.ok(task, `${id} in ${file}`);
  return task;
}

const he0 = goldenTask("humaneval-slice.tasks.jsonl", "HumanEval/0");
const he2 = goldenTask("humaneval-slice.tasks.jsonl", "HumanEval/2");
const hePlus2 = goldenTask("humanevalplus-slice.tasks.jsonl", "HumanEval/2");
const mbpp11 = goldenTask("mbpp-slice.tasks.jsonl", "mbpp/11");
const mbpp2 = goldenTask("mbpp-slice.tasks.jsonl", "mbpp/2");

/** HumanEval/2 with both of its real references: HumanEval+'s and the original HumanEval's. */
const he2TwoReferences: TaskJson = { ...he2, solutions: [hePlus2.solutions[0]!, he2.solutions[0]!] };
/** mbpp/2 as a dataset without a reference solution would give it. */
const mbpp2NoReference: TaskJson = { ...mbpp2, solutions: [] };

const SAMPLES = {
  reference: he0.solutions[0]!,
  // The reference with its inner loop removed: neighbours only.
  loopRemoved: `${he0.prompt}    for idx, elem in enumerate(numbers):
        if idx + 1 < len(numbers):
            distance = abs(elem - numbers[idx + 1])
            if distance < threshold:
                return True

    return False
`,
  unrelated: `class Stack:
    def __init__(self):
        self.items = []

    def push(self, item):
        self.items.append(item)

    def pop(self):
        return self.items.pop()
`,
  unparsable: `${he0.prompt}    for idx, elem in enumerate(numbers)
        if abs(elem - ) < threshold
            return True
    return False
`,
};

/** In file order; interleaved across tasks as a sampler writes them. */
const SAMPLE_LINES = [
  { task_id: "HumanEval/0", solution: SAMPLES.reference },
  { task_id: "mbpp/11", completion: mbpp11.solutions[0]! },
  { task_id: "HumanEval/0", solution: SAMPLES.loopRemoved },
  { task_id: "HumanEval/2", solution: he2.solutions[0]! },
  { task_id: "HumanEval/0", solution: SAMPLES.unrelated },
  { task_id: "mbpp/2", solution: mbpp2.solutions[0]! },
  { task_id: "HumanEval/0", solution: SAMPLES.unparsable },
  // A bare completion follows HumanEval's prompt, which is code: the program is the reference.
  { task_id: "HumanEval/0", completion: he0.solutions[0]!.slice(he0.prompt.length) },
  { task_id: "HumanEval/2", solution: SAMPLES.unrelated },
];

const jsonl = (rows: readonly unknown[]) => rows.map((r) => `${JSON.stringify(r)}\n`).join("");
let folders = 0;

/** A fresh evaluation folder as runEvaluation leaves it (results.json aside). */
function evalFolder(tasks: readonly TaskJson[] = [he0, mbpp11, he2TwoReferences, mbpp2NoReference], samples: readonly unknown[] = SAMPLE_LINES): string {
  const dir = join(tmp, `run-${++folders}`, "eval", "humaneval");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "tasks.jsonl"), jsonl(tasks));
  writeFileSync(join(dir, "samples.jsonl"), jsonl(samples));
  return dir;
}

const task = (s: EvalStructure, id: string): TaskStructure => s.tasks.find((t) => t.taskId === id) ?? assert.fail(`no ${id}`);

describe("structure.json of an evaluation folder", () => {
  let codeBleu: CodeBleu;
  let dir: string;
  let structure: EvalStructure;

  before(async () => {
    codeBleu = await loadCodeBleu();
    dir = evalFolder();
    structure = await scoreEvalDir(structureInputs(dir));
  });

  it("scores the reference itself 1 and 1, the reference without its inner loop lower, unrelated code lowest", () => {
    const [reference, loopRemoved, unrelated] = task(structure, "HumanEval/0").samples;
    assert.deepEqual(reference, { syntax: 1, dataflow: 1 });
    assert.ok(loopRemoved!.syntax! < 1 && loopRemoved!.dataflow! < 1, JSON.stringify(loopRemoved));
    assert.ok(unrelated!.syntax! < loopRemoved!.syntax!, `unrelated ${unrelated!.syntax} < loop removed ${loopRemoved!.syntax}`);
    assert.ok(unrelated!.dataflow! < loopRemoved!.dataflow!, `unrelated ${unrelated!.dataflow} < loop removed ${loopRemoved!.dataflow}`);
    // The numbers are CodeBLEU's own, in default mode.
    assert.equal(loopRemoved!.syntax, codeBleu.syntaxMatch(SAMPLES.reference, SAMPLES.loopRemoved, "default"));
    assert.equal(loopRemoved!.dataflow, codeBleu.dataflowMatch(SAMPLES.reference, SAMPLES.loopRemoved, "default"));
  });

  it("scores a sample that does not parse, below the reference", () => {
    const unparsable = task(structure, "HumanEval/0").samples[3]!;
    assert.ok(unparsable.syntax !== null && unparsable.syntax >= 0 && unparsable.syntax < 1, JSON.stringify(unparsable));
    assert.ok(unparsable.dataflow === null || (unparsable.dataflow >= 0 && unparsable.dataflow <= 1), JSON.stringify(unparsable));
  });

  it("scores a bare completion as the program the sandbox runs: after a code prompt, alone after prose", () => {
    assert.deepEqual(task(structure, "HumanEval/0").samples[4], { syntax: 1, dataflow: 1 });
    assert.deepEqual(task(structure, "mbpp/11").samples, [{ syntax: 1, dataflow: 1 }]);
  });

  it("takes the best score of each component over several reference solutions", () => {
    const [own, unrelated] = task(structure, "HumanEval/2").samples;
    const [plusReference, originalReference] = he2TwoReferences.solutions;
    const against = (reference: string, program: string) => ({
      syntax: codeBleu.syntaxMatch(reference, program, "default"),
      dataflow: codeBleu.dataflowMatch(reference, program, "default"),
    });
    // The original HumanEval reference as a sample: below 1 against HumanEval+'s, 1 against its own.
    assert.ok(against(plusReference!, he2.solutions[0]!).syntax < 1);
    assert.equal(own!.syntax, 1);
    for (const [scores, program] of [[own!, he2.solutions[0]!], [unrelated!, SAMPLES.unrelated]] as const) {
      const each = [against(plusReference!, program), against(originalReference!, program)];
      assert.equal(scores.syntax, Math.max(...each.map((s) => s.syntax)));
      const flows = each.flatMap((s) => (s.dataflow === null ? [] : [s.dataflow]));
      assert.equal(scores.dataflow, flows.length ? Math.max(...flows) : null);
    }
    assert.equal(task(structure, "HumanEval/2").references, 2);
  });

  it("gives a task without a reference solution null scores and says why", () => {
    const none = task(structure, "mbpp/2");
    assert.deepEqual(none.samples, [{ syntax: null, dataflow: null }]);
    assert.equal(none.references, 0);
    assert.equal(none.note, "no reference solution in tasks.jsonl");
  });

  it("writes a versioned structure.json: scores per task in sample order, averages over samples, the inputs' hashes", async () => {
    assert.equal(structure.path, join(dir, "structure.json"));
    const written = await readStructure(structure.path);
    assert.deepEqual(written, structure);
    assert.equal(written.version, STRUCTURE_VERSION);
    assert.equal(written.mode, "default");
    // Tasks in the order they first appear in samples.jsonl, as results.json lists them.
    assert.deepEqual(written.tasks.map((t) => [t.taskId, t.samples.length]), [["HumanEval/0", 5], ["mbpp/11", 1], ["HumanEval/2", 2], ["mbpp/2", 1]]);
    const scored = written.tasks.flatMap((t) => t.samples).filter((s) => s.syntax !== null);
    const flows = scored.flatMap((s) => (s.dataflow === null ? [] : [s.dataflow]));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    assert.equal(written.summary.tasks, 4);
    assert.equal(written.summary.samples, 9);
    assert.equal(written.summary.syntaxSamples, 8, "every sample of a task with a reference");
    assert.equal(written.summary.dataflowSamples, flows.length);
    assert.ok(Math.abs(written.summary.syntaxMatch! - mean(scored.map((s) => s.syntax!))) < 1e-12);
    assert.ok(Math.abs(written.summary.dataflowMatch! - mean(flows)) < 1e-12);
    const sha = (file: string) => createHash("sha256").update(readFileSync(join(dir, file))).digest("hex");
    assert.deepEqual([written.tasksSha256, written.samplesSha256], [sha("tasks.jsonl"), sha("samples.jsonl")]);
    const raw = JSON.parse(readFileSync(structure.path, "utf8")) as { tasks: Record<string, unknown> };
    assert.deepEqual(Object.keys(raw.tasks), ["HumanEval/0", "mbpp/11", "HumanEval/2", "mbpp/2"]);
  });

  it("records the mode it was asked for", async () => {
    const other = evalFolder([he0], [{ task_id: "HumanEval/0", solution: SAMPLES.reference }]);
    const reference = await scoreEvalDir(structureInputs(other), { mode: "reference" });
    assert.equal(reference.mode, "reference");
    assert.deepEqual(reference.tasks[0]!.samples, [{ syntax: 1, dataflow: 1 }]);
    assert.equal((await readStructure(reference.path)).mode, "reference");
  });

  it("is current until tasks.jsonl or samples.jsonl changes, and is recomputed then", async () => {
    const d = evalFolder([he0, mbpp11], SAMPLE_LINES.filter((s) => s.task_id === "HumanEval/0" || s.task_id === "mbpp/11"));
    const inputs = structureInputs(d);
    const sha = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");
    assert.deepEqual(await structureStatus(inputs), { state: "outdated", reason: "not scored yet", inputs: `${sha(inputs.tasksPath)}:${sha(inputs.samplesPath)}` });
    const first = await scoreEvalDir(inputs);
    const current = await structureStatus(inputs);
    assert.equal(current.state, "current");
    assert.deepEqual(current.state === "current" && current.structure, first);

    appendFileSync(inputs.samplesPath, jsonl([{ task_id: "mbpp/11", solution: SAMPLES.unrelated }]));
    const staleSamples = await structureStatus(inputs);
    assert.equal(staleSamples.state, "outdated");
    assert.equal(staleSamples.state === "outdated" && staleSamples.reason, "samples.jsonl changed since structure.json was written");
    const second = await scoreEvalDir(inputs);
    assert.equal(second.summary.samples, first.summary.samples + 1);
    assert.equal((await structureStatus(inputs)).state, "current");

    writeFileSync(inputs.tasksPath, jsonl([he0, { ...mbpp11, solutions: [] }]));
    const staleTasks = await structureStatus(inputs);
    assert.equal(staleTasks.state === "outdated" && staleTasks.reason, "tasks.jsonl changed since structure.json was written");
    const third = await scoreEvalDir(inputs);
    assert.deepEqual(task(third, "mbpp/11").samples, [{ syntax: null, dataflow: null }, { syntax: null, dataflow: null }]);

    rmSync(inputs.tasksPath);
    assert.deepEqual(await structureStatus(inputs), { state: "unscorable", reason: `no tasks.jsonl in ${d}` });
  });

  it("treats a broken structure.json as not scored, naming what is wrong", async () => {
    const d = evalFolder([he0], [{ task_id: "HumanEval/0", solution: SAMPLES.reference }]);
    const inputs = structureInputs(d);
    writeFileSync(inputs.structurePath, "{ not json");
    const status = await structureStatus(inputs);
    assert.equal(status.state, "outdated");
    assert.match(status.state === "outdated" ? status.reason : "", new RegExp(`^${inputs.structurePath}: not valid JSON`));
    await scoreEvalDir(inputs);
    assert.equal((await structureStatus(inputs)).state, "current");
  });

  it("gives the event loop turns while it scores, and stops when aborted without writing", async () => {
    const many = Array.from({ length: 300 }, (_, i) => ({ task_id: "HumanEval/0", solution: i % 2 ? SAMPLES.loopRemoved : SAMPLES.unrelated }));
    const d = evalFolder([he0], many);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    try {
      const scored = await scoreEvalDir(structureInputs(d));
      assert.equal(scored.summary.samples, 300);
    } finally {
      clearInterval(timer);
    }
    assert.ok(ticks > 0, "timers ran while 300 samples were scored");

    const e = evalFolder([he0], many);
    const abort = new AbortController();
    const progress: number[] = [];
    const run = scoreEvalDir(structureInputs(e), {
      signal: abort.signal,
      onProgress: (done) => {
        progress.push(done);
        if (done === 10) abort.abort();
      },
    });
    await assert.rejects(run, { name: "AbortError" });
    assert.ok(progress.at(-1)! < 300, `stopped after ${progress.at(-1)} samples`);
    assert.ok(!existsSync(join(e, "structure.json")));
  });
});

describe("bad evaluation folders", () => {
  const fails = async (dir: string, pattern: RegExp) => assert.rejects(scoreEvalDir(structureInputs(dir)), (err: Error) => (assert.match(err.message, pattern), true));

  it("names a missing tasks.jsonl or samples.jsonl", async () => {
    const d = evalFolder([he0], [{ task_id: "HumanEval/0", solution: SAMPLES.reference }]);
    rmSync(join(d, "samples.jsonl"));
    await fails(d, new RegExp(`^${join(d, "samples.jsonl")}: missing: structure scores need the evaluation's samples file`));
    rmSync(join(d, "tasks.jsonl"));
    await fails(d, new RegExp(`^${join(d, "tasks.jsonl")}: missing`));
  });

  it("names the file, line and field of a bad line", async () => {
    const d = evalFolder([he0, mbpp11], [{ task_id: "HumanEval/0", solution: SAMPLES.reference }]);
    writeFileSync(join(d, "samples.jsonl"), `${JSON.stringify({ task_id: "HumanEval/0", solution: "x = 1\n" })}\n{"task_id": "mbpp/11"\n`);
    await fails(d, new RegExp(`^${join(d, "samples.jsonl")}:2: not valid JSON`));
    writeFileSync(join(d, "samples.jsonl"), `\n${JSON.stringify({ task_id: "mbpp/11" })}\n`);
    await fails(d, new RegExp(`^${join(d, "samples.jsonl")}:2: solution: missing`));
    writeFileSync(join(d, "samples.jsonl"), jsonl([{ task_id: "HumanEval/0", solution: "x = 1\n" }, { task_id: "HumanEval/99", solution: "x = 1\n" }]));
    await fails(d, new RegExp(`^${join(d, "samples.jsonl")}:2: task_id: "HumanEval/99" is not in ${join(d, "tasks.jsonl")}`));
    writeFileSync(join(d, "tasks.jsonl"), jsonl([he0, { ...mbpp11, solutions: "def f(): pass" }]));
    await fails(d, new RegExp(`^${join(d, "tasks.jsonl")}:2: solutions: expected a list, got string`));
    writeFileSync(join(d, "tasks.jsonl"), jsonl([he0, { ...mbpp11, solutions: ["def f(): pass", 3] }]));
    await fails(d, new RegExp(`^${join(d, "tasks.jsonl")}:2: solutions\\[1\\]: expected a string, got number`));
    writeFileSync(join(d, "tasks.jsonl"), jsonl([he0, he0]));
    await fails(d, new RegExp(`^${join(d, "tasks.jsonl")}:2: id: duplicate id "HumanEval/0" \\(first on line 1\\)`));
  });
});

describe("reading structure.json", () => {
  const path = "/ws/.codistill/runs/run-1/eval/humaneval/structure.json";
  type Scores = { syntax: number | null; dataflow: number | null };
  const good = () => ({
    version: 1,
    mode: "default",
    date: "2025-06-03T10:00:00.000Z",
    tasksPath: "tasks.jsonl",
    samplesPath: "samples.jsonl",
    tasksSha256: "a".repeat(64),
    samplesSha256: "b".repeat(64),
    summary: { tasks: 2, samples: 3, syntaxMatch: 0.5 as number | null, syntaxSamples: 2, dataflowMatch: 0.25, dataflowSamples: 1 },
    tasks: {
      "HumanEval/0": { references: 1, note: "dataflow match is undefined: the reference solutions have no dataflow", samples: [{ syntax: 0.75, dataflow: 0.25 }, { syntax: 0.25, dataflow: null }] as Scores[] },
      "mbpp/2": { references: 0, note: "no reference solution in tasks.jsonl", samples: [{ syntax: null, dataflow: null }] as Scores[] },
    },
  });
  const refuses = (edit: (doc: ReturnType<typeof good>) => unknown, message: string) => {
    const doc = good();
    const edited = edit(doc);
    // A string is the file's text as it is; anything else is the document to write.
    const text = typeof edited === "string" ? edited : JSON.stringify(edited ?? doc);
    assert.throws(() => parseStructure(text, path), (err: Error) => (assert.equal(err.message, `${path}: ${message}`), true));
  };

  it("reads a well-formed file, tasks in file order", () => {
    const s = parseStructure(JSON.stringify(good()), path);
    assert.deepEqual(s.tasks.map((t) => t.taskId), ["HumanEval/0", "mbpp/2"]);
    assert.deepEqual(s.summary, good().summary);
    assert.equal(s.path, path);
  });

  it("names the file and the field of what is wrong", () => {
    refuses(() => "[", "not valid JSON: Unexpected end of JSON input");
    refuses((d) => ({ ...d, version: 2 }), "version: expected 1, got 2 (written by another version of Codistill)");
    refuses((d) => ({ ...d, mode: "paper" }), 'mode: expected one of "default", "reference", got "paper"');
    refuses((d) => ({ ...d, tasksSha256: "abc" }), 'tasksSha256: expected a sha256 (64 lowercase hex digits), got "abc"');
    refuses((d) => void (d.tasks["HumanEval/0"].samples[1]!.syntax = 1.5), 'tasks["HumanEval/0"].samples[1].syntax: expected a score between 0 and 1, got 1.5');
    refuses((d) => void delete (d.tasks["HumanEval/0"].samples[0] as { dataflow?: unknown }).dataflow, 'tasks["HumanEval/0"].samples[0].dataflow: missing (expected a score between 0 and 1, or null)');
    refuses((d) => void (d.tasks["mbpp/2"].samples[0] = { syntax: 0.5, dataflow: null }), 'tasks["mbpp/2"].samples[0]: has a score, but the task has no reference solution to score against');
    refuses((d) => void (d.tasks["HumanEval/0"].samples[0]!.syntax = null), 'tasks["HumanEval/0"].samples[0].syntax: expected a score: the task has reference solutions');
    refuses((d) => void (d.tasks["HumanEval/0"].samples = []), 'tasks["HumanEval/0"].samples: expected at least one sample');
    refuses((d) => void (d.summary.syntaxMatch = 0.6), "summary.syntaxMatch: expected 0.5 (from the per-sample scores under tasks), got 0.6");
    refuses((d) => void (d.summary.samples = 2), "summary.samples: expected 3 (from the per-sample scores under tasks), got 2");
  });
});

describe("background scoring for the panel", () => {
  it("says pending, scores one folder at a time, then has the scores; a failure is not retried until the files change", async () => {
    const settled: { dir: string; error?: string }[] = [];
    const jobs = new StructureJobs({ onSettled: (dir, error) => settled.push({ dir, ...(error ? { error: error.message } : {}) }) });
    after(() => jobs.dispose());
    const good = evalFolder([he0], [{ task_id: "HumanEval/0", solution: SAMPLES.loopRemoved }]);
    const broken = evalFolder([he0], [{ task_id: "HumanEval/7", solution: SAMPLES.reference }]);
    const missing = evalFolder([he0], []);
    rmSync(join(missing, "samples.jsonl"));

    assert.deepEqual(await jobs.state(good), { state: "pending" });
    assert.deepEqual(await jobs.state(broken), { state: "pending" });
    // Asked again while queued (or, on a fast machine, already scored): never queued twice, which
    // the settled list below shows.
    const again = await jobs.state(good);
    assert.ok(again.state === "pending" || again.state === "scored", `asked again: ${again.state}`);
    assert.deepEqual(await jobs.state(missing), { state: "unavailable", reason: `no samples.jsonl in ${missing}` });
    await waitFor("both settled", () => settled.length === 2 && jobs.idle, 60_000);
    assert.deepEqual(settled.map((s) => s.dir), [good, broken]);
    assert.match(settled[1]!.error ?? "", /samples\.jsonl:1: task_id: "HumanEval\/7" is not in/);

    const scored = await jobs.state(good);
    assert.equal(scored.state, "scored");
    assert.equal(scored.state === "scored" && scored.structure.summary.samples, 1);
    const failed = await jobs.state(broken);
    assert.equal(failed.state, "unavailable");
    assert.match(failed.state === "unavailable" ? failed.reason : "", /^scoring failed: .*HumanEval\/7/);
    assert.ok(jobs.idle, "a failure is not queued again for the same files");

    writeFileSync(join(broken, "samples.jsonl"), jsonl([{ task_id: "HumanEval/0", solution: SAMPLES.reference }]));
    assert.deepEqual(await jobs.state(broken), { state: "pending" });
    await waitFor("rescored", () => settled.length === 3 && jobs.idle, 60_000);
    const fixed = await jobs.state(broken);
    assert.deepEqual(fixed.state === "scored" && fixed.structure.tasks[0]!.samples, [{ syntax: 1, dataflow: 1 }]);
  });

  it("leaves a folder that an evaluation is writing to that evaluation", async () => {
    const jobs = new StructureJobs({ onSettled: () => assert.fail("nothing is queued") });
    after(() => jobs.dispose());
    const busy = evalFolder([he0], [{ task_id: "HumanEval/0", solution: SAMPLES.reference }]);
    assert.deepEqual(await jobs.state(busy, true), { state: "pending" });
    assert.ok(jobs.idle);
    assert.ok(!existsSync(join(busy, "structure.json")));
  });
});
