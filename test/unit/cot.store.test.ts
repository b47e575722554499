// The CoT set on disk: append-only, the last record of a task counts, a torn last line is
// reported and cut off at the next append, corruption elsewhere is named; a writer killed with
// SIGKILL at random points and resumed leaves every task exactly once; the training reader
// (codistill.training.cot, a real Python process) reads what the store wrote.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { CotStore, type CotRecord } from "../../src/core/cot/store";
import { REPO, sidecarPython } from "./helpers";

const tmp = mkdtempSync(join(tmpdir(), "codistill-cot-store-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

function record(taskId: string, status: CotRecord["status"] = "valid", intent = `Solve ${taskId}.`): CotRecord {
  return {
    taskId,
    teacher: { model: "teacher-70b", endpoint: "http://127.0.0.1:8000/v1", temperature: 0.2, promptHash: `sha256:${"0".repeat(64)}` },
    createdAt: "2026-12-04T00:00:00Z",
    intent,
    steps: ["Read the input.", "Compute the answer."],
    formulas: [],
    edgeCases: ["empty input"],
    raw: JSON.stringify({ intent }),
    status,
    problems: [],
  };
}

/** The training side's reader over the file: {taskId: intent} of the records that count. */
function readByTraining(path: string): Record<string, string> {
  const script = "import json,sys\nfrom codistill.training.cot import load_cots\nprint(json.dumps({k: v['intent'] for k, v in load_cots(sys.argv[1]).items()}))";
  return JSON.parse(execFileSync(sidecarPython(), ["-c", script, path], { encoding: "utf8" })) as Record<string, string>;
}

describe("the CoT store", () => {
  it("appends, and the last record of a task is the one that counts; the history stays", async () => {
    const path = join(tmp, "history.jsonl");
    const store = await CotStore.open(path);
    await store.append(record("t/1"));
    await store.append(record("t/2", "invalid"));
    await store.append(record("t/1", "valid", "Solve t/1 again."));
    const reopened = await CotStore.open(path);
    assert.equal(reopened.lines, 3);
    assert.equal((await reopened.get("t/1"))?.intent, "Solve t/1 again.");
    assert.equal((await reopened.get("t/2"))?.status, "invalid");
    assert.deepEqual(readByTraining(path), { "t/1": "Solve t/1 again.", "t/2": "Solve t/2." });
  });

  it("reports a torn last line, cuts it off at the next append, and the file is valid JSONL again", async () => {
    const path = join(tmp, "torn.jsonl");
    const store = await CotStore.open(path);
    await store.append(record("t/1"));
    await store.append(record("t/2"));
    appendFileSync(path, JSON.stringify(record("t/3")).slice(0, 80));
    const reopened = await CotStore.open(path);
    assert.deepEqual(reopened.tornLine, { line: 3, bytes: 80 });
    assert.ok(!reopened.has("t/3"), "a torn record is not done: resume asks again");
    await reopened.append(record("t/3"));
    assert.equal(reopened.tornLine, null);
    const lines = readFileSync(path, "utf8").split("\n");
    assert.equal(lines.pop(), "");
    assert.deepEqual(lines.map((l) => (JSON.parse(l) as CotRecord).taskId), ["t/1", "t/2", "t/3"]);
    assert.deepEqual(Object.keys(readByTraining(path)), ["t/1", "t/2", "t/3"]);
  });

  it("a record whose newline was lost is kept, and the next record starts on its own line", async () => {
    const path = join(tmp, "no-newline.jsonl");
    writeFileSync(path, JSON.stringify(record("t/1")));
    const store = await CotStore.open(path);
    assert.equal(store.tornLine, null);
    assert.ok(store.has("t/1"));
    await store.append(record("t/2"));
    assert.deepEqual(Object.keys(readByTraining(path)), ["t/1", "t/2"]);
  });

  it("appends made at once go out together, and every record reads back from where the index says", async () => {
    const path = join(tmp, "concurrent.jsonl");
    const store = await CotStore.open(path);
    await store.append(record("t/0"));
    await Promise.all(Array.from({ length: 200 }, (_, i) => store.append(record(`t/${i % 150}`, i % 3 ? "valid" : "invalid", `intent ${i} ${"é".repeat(i % 7)}`))));
    assert.equal(store.lines, 201);
    assert.equal(store.taskCount, 150);
    for (const s of [store, await CotStore.open(path)]) {
      for (let t = 0; t < 150; t++) {
        const last = t + 150 < 200 ? t + 150 : t;
        assert.equal((await s.get(`t/${t}`))?.intent, `intent ${last} ${"é".repeat(last % 7)}`);
      }
    }
    const reopened = await CotStore.open(path);
    assert.equal(await reopened.changedOnDisk(), false);
    const summary = reopened.summary();
    assert.equal(summary.total, 150);
    assert.equal(summary.valid + summary.invalid, 150);
    let streamed = 0;
    for await (const r of reopened.records()) streamed += r.taskId.startsWith("t/") ? 1 : 0;
    assert.equal(streamed, 150);
    appendFileSync(path, `${JSON.stringify(record("t/other"))}\n`);
    assert.equal(await reopened.changedOnDisk(), true, "another writer's append is noticed");
  });

  it("a bad line before the last is corruption, named with its line", async () => {
    const path = join(tmp, "corrupt.jsonl");
    writeFileSync(path, `${JSON.stringify(record("t/1"))}\n{broken\n${JSON.stringify(record("t/2"))}\n`);
    await assert.rejects(CotStore.open(path), new RegExp(`${path.replace(/[.]/g, "\\.")}:2: not a CoT record \\(only a torn last line is repaired\\)`));
  });

  it("SIGKILL at random points, then resume: every task once, nothing lost", async () => {
    const path = join(tmp, "killed.jsonl");
    const writer = join(tmp, "writer.mts");
    const tasks = 2000;
    // Each record carries a large `raw`, so a kill can land inside a write.
    writeFileSync(
      writer,
      `import { CotStore } from ${JSON.stringify(join(REPO, "src", "core", "cot", "store.ts"))};
const store = await CotStore.open(process.argv[2]);
process.stdout.write("open\\n");
for (let i = 0; i < ${tasks}; i++) {
  const taskId = "t/" + i;
  if (store.has(taskId)) continue;
  await store.append({ taskId, teacher: { model: "m", endpoint: "e", temperature: 0, promptHash: "sha256:0" }, createdAt: "2026-12-04T00:00:00Z",
    intent: "Solve " + taskId + ".", steps: ["s"], formulas: [], edgeCases: [], raw: "x".repeat(20000), status: "valid", problems: [] });
}
process.stdout.write("done\\n");
`,
    );
    let finished = false;
    let killedMidway = 0;
    for (let run = 0; run < 12 && !finished; run++) {
      const child = spawn(process.execPath, ["--import", "tsx", writer, path], { cwd: REPO, stdio: ["ignore", "pipe", "inherit"] });
      let output = "";
      child.stdout.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes("open") && !child.killed && run < 8) setTimeout(() => child.kill("SIGKILL"), 5 + Math.floor(Math.random() * 60));
      });
      const signal = await new Promise((resolve) => child.on("close", (_code, sig) => resolve(sig)));
      finished = output.includes("done");
      if (signal === "SIGKILL" && !finished) killedMidway++;
    }
    assert.ok(finished, "the last resumed run finishes");
    assert.ok(killedMidway >= 3, `only ${killedMidway} runs were killed before they finished`);
    const lines = readFileSync(path, "utf8").split("\n").filter(Boolean);
    const ids = lines.map((l) => (JSON.parse(l) as CotRecord).taskId);
    assert.equal(new Set(ids).size, ids.length, "no task twice");
    assert.equal(ids.length, tasks, "every task once");
    assert.equal(Object.keys(readByTraining(path)).length, tasks);
  });
});
