// Generating a CoT set against a real loopback teacher with injected faults (429 with Retry-After,
// 500, a stream slower than the timeout, a connection reset mid-stream, truncated JSON, prose with
// no JSON): every task ends valid, invalid or failed, each with its reason; a rerun resumes (only
// the failed task is asked again); verification appends a verdict record; review and edit append.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { Task } from "../../src/core/datasets/task";
import { applyEdit, CotEditError, editableText, reviewed } from "../../src/core/cot/curate";
import { generateCots, planRun, type TaskSource } from "../../src/core/cot/generate";
import { promptTemplate } from "../../src/core/cot/prompt";
import { teacherSource } from "../../src/core/cot/sources";
import { CotStore, type CotRecord } from "../../src/core/cot/store";
import { TeacherClient, type TeacherSettings } from "../../src/core/cot/teacher";
import type { Verifier } from "../../src/core/cot/verify";
import { goodAnswer, startFakeTeacher, type Script } from "./fakeTeacher";

const tmp = mkdtempSync(join(tmpdir(), "codistill-cot-generate-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

const TEMPLATE = promptTemplate("=== system ===\nYou explain.\n=== user ===\nTask id: {{taskId}}\n{{prompt}}\n", "test-template");

function task(id: string): Task {
  return { id, source: "custom", prompt: `Write solve() for ${id}.`, entryPoint: "solve", solutions: ["def solve():\n    return 1\n"], tests: { kind: "assert", code: "assert solve() == 1" }, meta: {} } as Task;
}

function tasksOf(ids: string[]): TaskSource {
  return { ids, task: async (i) => task(ids[i]!) };
}

function sourceFor(endpoint: string, extra: Partial<TeacherSettings> = {}, pauses: number[] = []) {
  const settings = { endpoint, model: "teacher-70b", temperature: 0.2 };
  const client = new TeacherClient({ ...settings, maxTokens: 256, maxRetries: 2, timeoutMs: 400, ...extra }, () => 0.5, async (ms) => void pauses.push(ms));
  return teacherSource(client, settings, TEMPLATE, "blind");
}

const FAULTS: Record<string, Script> = {
  "t/ok": ({ taskId }) => ({ kind: "json", content: goodAnswer(taskId) }),
  "t/429": ({ taskId, attempt }) => (attempt === 1 ? { kind: "status", status: 429, retryAfter: "7" } : { kind: "json", content: goodAnswer(taskId) }),
  "t/500": ({ taskId, attempt }) => (attempt === 1 ? { kind: "status", status: 500, body: "boom" } : { kind: "json", content: goodAnswer(taskId) }),
  "t/slow": ({ taskId, attempt }) => ({ kind: "json", content: goodAnswer(taskId), delayMs: attempt === 1 ? 1500 : 0 }),
  "t/reset": ({ taskId, attempt }) => (attempt === 1 ? { kind: "stream", pieces: ["{", '"intent": ', '"x"', "}"], resetAfter: 2 } : { kind: "json", content: goodAnswer(taskId) }),
  "t/truncated": ({ taskId, attempt }) => (attempt === 1 ? { kind: "json", content: goodAnswer(taskId).slice(0, 60), finish: "length" } : { kind: "json", content: goodAnswer(taskId) }),
  "t/prose": () => ({ kind: "json", content: "I think the answer is to add the numbers, and that is all." }),
  "t/down": () => ({ kind: "status", status: 503, body: "overloaded" }),
  "t/badsteps": () => ({ kind: "json", content: JSON.stringify({ intent: "Add.", steps: [], formulas: [], edgeCases: [] }) }),
};

const script: Script = (ask) => (FAULTS[ask.taskId] ?? FAULTS["t/ok"]!)(ask);

describe("generating a CoT set", () => {
  it("ends every task valid, invalid or failed with its reason, under every fault; a rerun asks only the failed one", async () => {
    const teacher = await startFakeTeacher(script);
    try {
      const path = join(tmp, "faults.jsonl");
      const ids = Object.keys(FAULTS);
      const pauses: number[] = [];
      const progress: number[] = [];
      const report = await generateCots(tasksOf(ids), await CotStore.open(path), { source: sourceFor(teacher.endpoint, { stream: false }, pauses), concurrency: 4, maxReasks: 2, onProgress: (p) => progress.push(p.done) });
      assert.equal(report.asked, ids.length);
      assert.deepEqual(progress, ids.map((_, i) => i + 1));
      const store = await CotStore.open(path);
      const byId = new Map<string, CotRecord>();
      for await (const record of store.records()) byId.set(record.taskId, record);
      for (const id of ["t/ok", "t/429", "t/500", "t/slow", "t/reset"]) {
        assert.equal(byId.get(id)?.status, "valid", `${id}: ${JSON.stringify(byId.get(id)?.problems)}`);
        assert.equal(byId.get(id)?.teacherCode, "def solve():\n    return 1\n");
      }
      assert.equal(byId.get("t/429")!.attempts, 2);
      assert.ok(pauses.includes(7000), `Retry-After 7 s honoured: ${pauses.join(", ")}`);
      assert.equal(byId.get("t/truncated")!.status, "valid");
      assert.match(byId.get("t/truncated")!.problems[0]!, /^answer 1: truncated: the answer was cut off at max tokens; asked again$/);
      assert.equal(byId.get("t/truncated")!.attempts, 2);
      assert.equal(byId.get("t/prose")!.status, "invalid");
      assert.match(byId.get("t/prose")!.problems.at(-1)!, /^answer: no-json: the answer holds no JSON object \(after 3 asks\)$/);
      assert.equal(teacher.asks.get("t/prose"), 3);
      assert.equal(byId.get("t/badsteps")!.status, "invalid");
      assert.ok(byId.get("t/badsteps")!.problems.includes("steps: expected at least one step"));
      const down = byId.get("t/down")!;
      assert.equal(down.status, "invalid");
      assert.match(down.failure!, /HTTP 503: overloaded \(gave up after 3 attempts\)/);
      assert.equal(down.attempts, 3);
      assert.deepEqual(report.failures.map((f) => f.taskId), ["t/down"]);
      assert.deepEqual(store.summary(), {
        total: 9,
        valid: 6,
        invalid: 2,
        verified: 0,
        failedVerification: 0,
        failed: 1,
        promptTokens: [...byId.values()].reduce((n, r) => n + (r.usage?.promptTokens ?? 0), 0),
        completionTokens: [...byId.values()].reduce((n, r) => n + (r.usage?.completionTokens ?? 0), 0),
      });
      assert.ok(store.summary().promptTokens >= 100 * 7, "token usage recorded per answer");

      // Resume once the server is healthy: only the failed task is asked.
      const before = new Map(teacher.asks);
      FAULTS["t/down"] = FAULTS["t/ok"]!;
      const again = await generateCots(tasksOf(ids), await CotStore.open(path), { source: sourceFor(teacher.endpoint), concurrency: 4 });
      assert.equal(again.asked, 1);
      assert.equal(again.skipped, ids.length - 1);
      for (const id of ids) assert.equal(teacher.asks.get(id), (before.get(id) ?? 0) + (id === "t/down" ? 1 : 0), id);
      assert.equal(again.summary.failed, 0);
      assert.equal(again.summary.valid, 7);
    } finally {
      await teacher.close();
    }
  });

  it("reads streamed answers the same way: a reset and a stream slower than the timeout are retried", async () => {
    const teacher = await startFakeTeacher(script);
    try {
      const path = join(tmp, "stream.jsonl");
      const ids = ["t/ok", "t/reset", "t/slow", "t/truncated", "t/prose"];
      await generateCots(tasksOf(ids), await CotStore.open(path), { source: sourceFor(teacher.endpoint, { stream: true }), maxReasks: 1 });
      const store = await CotStore.open(path);
      assert.deepEqual(
        ids.map((id) => store.entry(id)?.bucket),
        ["valid", "valid", "valid", "valid", "invalid"],
      );
    } finally {
      await teacher.close();
    }
  });

  it("cancelling stops asking and writes nothing for the requests cut off; a rerun finishes the rest", async () => {
    const teacher = await startFakeTeacher(({ taskId }) => ({ kind: "json", content: goodAnswer(taskId) }), 50);
    try {
      const path = join(tmp, "cancel.jsonl");
      const ids = Array.from({ length: 40 }, (_, i) => `c/${i}`);
      const stop = new AbortController();
      const report = await generateCots(tasksOf(ids), await CotStore.open(path), { source: sourceFor(teacher.endpoint, { timeoutMs: 5000 }), concurrency: 2, signal: stop.signal, onProgress: (p) => p.done === 5 && stop.abort() });
      assert.ok(report.cancelled);
      const store = await CotStore.open(path);
      assert.ok(store.taskCount >= 5 && store.taskCount < 40, `${store.taskCount} written`);
      assert.equal(store.summary().failed, 0, "a cancelled request is not recorded as a failure");
      await generateCots(tasksOf(ids), store, { source: sourceFor(teacher.endpoint) });
      const lines = readFileSync(path, "utf8").trim().split("\n").map((l) => (JSON.parse(l) as CotRecord).taskId);
      assert.deepEqual([...lines].sort(), [...ids].sort(), "every task once");
    } finally {
      await teacher.close();
    }
  });

  it("a task that cannot be read stops the run with its error; what was written stays, and nothing is asked after", async () => {
    const teacher = await startFakeTeacher(({ taskId }) => ({ kind: "json", content: goodAnswer(taskId) }), 20);
    try {
      const path = join(tmp, "broken.jsonl");
      const ids = Array.from({ length: 30 }, (_, i) => `b/${i}`);
      const broken: TaskSource = { ids, task: async (i) => (i === 6 ? Promise.reject(new Error("tasks.jsonl changed on disk")) : task(ids[i]!)) };
      await assert.rejects(generateCots(broken, await CotStore.open(path), { source: sourceFor(teacher.endpoint), concurrency: 3 }), /tasks\.jsonl changed on disk/);
      const asked = [...teacher.asks.keys()].length;
      await new Promise((r) => setTimeout(r, 100));
      assert.equal([...teacher.asks.keys()].length, asked, "no worker goes on once the run has failed");
      const store = await CotStore.open(path);
      assert.ok(store.taskCount >= 6 && store.taskCount < 30, `${store.taskCount} written`);
      assert.ok(!store.has("b/6"));
    } finally {
      await teacher.close();
    }
  });

  it("verifies teacher code in batches and appends the verdict; a rerun with verification judges only what is left", async () => {
    const teacher = await startFakeTeacher(({ taskId }) => ({ kind: "json", content: goodAnswer(taskId, taskId.endsWith("bad") ? "def solve():\n    return 2\n" : undefined) }));
    const batches: string[][] = [];
    const verifier: Verifier = {
      async verify(items) {
        batches.push(items.map((i) => i.task.id));
        return new Map(items.map(({ task: t, record }) => [t.id, record.teacherCode!.includes("return 1") ? { status: "passed", failedTest: null, message: null } : { status: "failed", failedTest: 0, message: "AssertionError" }]));
      },
    };
    try {
      const path = join(tmp, "verify.jsonl");
      const ids = ["v/1", "v/2", "v/bad", "v/4", "v/5"];
      // First without verification, then a rerun that only verifies.
      await generateCots(tasksOf(ids.slice(0, 2)), await CotStore.open(path), { source: sourceFor(teacher.endpoint) });
      const store = await CotStore.open(path);
      assert.deepEqual(planRun(ids, store, true), { ask: [2, 3, 4], verifyOnly: [0, 1], skipped: 0 });
      const report = await generateCots(tasksOf(ids), store, { source: sourceFor(teacher.endpoint), verifier, verifyBatch: 2, concurrency: 1 });
      assert.equal(report.verified, 5);
      assert.deepEqual(batches.flat().sort(), [...ids].sort());
      assert.ok(batches.every((b) => b.length <= 2));
      const bad = (await store.get("v/bad"))!;
      assert.equal(bad.status, "failed-verification");
      assert.deepEqual(bad.verification, { status: "failed", failedTest: 0, message: "AssertionError" });
      assert.equal(bad.problems[0], "verification: failed on test 0: AssertionError");
      assert.equal((await store.get("v/1"))!.status, "verified");
      const summary = store.summary();
      assert.equal(summary.verified, 4);
      assert.equal(summary.failedVerification, 1);
      assert.equal(store.lines, 10, "each task: its answer, then its verdict");
      assert.deepEqual(planRun(ids, store, true), { ask: [], verifyOnly: [], skipped: 5 });
    } finally {
      await teacher.close();
    }
  });
});

describe("reviewing a CoT record", () => {
  const base: CotRecord = {
    taskId: "r/1",
    teacher: { model: "m", endpoint: "e", temperature: 0, promptHash: "sha256:0" },
    createdAt: "2026-12-04T00:00:00.000Z",
    intent: "Add two numbers.",
    steps: ["Add them."],
    formulas: ["a + b"],
    edgeCases: [],
    teacherCode: "def add(a, b):\n    return a + b\n",
    raw: "{}",
    status: "verified",
    problems: [],
    verification: { status: "passed", failedTest: null, message: null },
  };
  const at = new Date("2026-12-05T10:00:00Z");

  it("accept and reject append a newer record with the decision; the last counts", async () => {
    const path = join(tmp, "review.jsonl");
    const store = await CotStore.open(path);
    await store.append(base);
    await store.append(reviewed(base, "rejected", at));
    assert.equal(store.entry("r/1")?.review, "rejected");
    await store.append(reviewed((await store.get("r/1"))!, "accepted", at));
    const reopened = await CotStore.open(path);
    assert.deepEqual((await reopened.get("r/1"))!.review, { decision: "accepted", at: "2026-12-05T10:00:00.000Z" });
    assert.equal(reopened.lines, 3);
    assert.deepEqual(reopened.reviews(), { accepted: 1, rejected: 0, edited: 0 });
  });

  it("an edit is validated; unchanged code keeps its verdict, changed code loses it", () => {
    const text = editableText(base);
    assert.deepEqual(Object.keys(JSON.parse(text) as object), ["intent", "steps", "formulas", "edgeCases", "code"]);
    const same = applyEdit(base, text.replace("Add them.", "Add a and b."), "edit.json", at);
    assert.deepEqual(same.steps, ["Add a and b."]);
    assert.equal(same.status, "verified");
    assert.deepEqual(same.review, { decision: "edited", at: "2026-12-05T10:00:00.000Z" });
    const changed = applyEdit(base, text.replace("return a + b", "return b + a"), "edit.json", at);
    assert.equal(changed.status, "valid");
    assert.equal(changed.verification, undefined);
    const emptied = applyEdit(base, JSON.stringify({ intent: "", steps: [], formulas: [], edgeCases: [] }), "edit.json", at);
    assert.equal(emptied.status, "invalid");
    assert.ok(emptied.problems.includes("steps: expected at least one step"));
    assert.equal(emptied.teacherCode, undefined);
  });

  it("a bad edit names the file and line, and the field", () => {
    assert.throws(() => applyEdit(base, '{\n  "intent": "x",\n  "steps": [,]\n}', "/w/edit.json", at), (err: Error) => err instanceof CotEditError && /^\/w\/edit\.json:3: not valid JSON/.test(err.message));
    assert.throws(() => applyEdit(base, JSON.stringify({ intent: "x", steps: ["a"], formulas: [], edgeCases: [], note: 1 }), "e.json", at), /e\.json: unknown field "note"/);
    assert.throws(() => applyEdit(base, JSON.stringify({ intent: "x", steps: ["a"], formulas: [] }), "e.json", at), /e\.json: "edgeCases" is missing/);
  });
});
