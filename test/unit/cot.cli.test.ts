// `codistill cots generate|stats` as real processes: the offline rationalizer on real benchmark
// files, a loopback teacher (the API key from the environment, in the header only), resume,
// verification in the sidecar's real sandbox, SIGKILL at random points then resume, and the
// summary's keys, which scripts read.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { CotRecord } from "../../src/core/cot/store";
import { goodAnswer, startFakeTeacher } from "./fakeTeacher";
import { REPO, runCli, sidecarPython } from "./helpers";

const tmp = mkdtempSync(join(tmpdir(), "codistill-cots-cli-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

const GOLDEN = join(REPO, "test", "fixtures", "datasets", "golden");
const DATA = process.env.CODISTILL_DATA ?? join(REPO, "..", "shared", "data");
const SUMMARY_KEYS = ["total", "valid", "invalid", "verified", "failedVerification", "failed", "promptTokens", "completionTokens"];

/** The default template with the task id in it, so the loopback teacher knows which task it is asked. */
function templateWithTaskId(): string {
  const path = join(tmp, "prompt.md");
  writeFileSync(path, readFileSync(join(REPO, "media", "cot-prompt.md"), "utf8").replace("Task:\n", "Task id: {{taskId}}\nTask:\n"));
  return path;
}

function records(path: string): CotRecord[] {
  return readFileSync(path, "utf8").split("\n").filter(Boolean).map((line) => JSON.parse(line) as CotRecord);
}

describe("codistill cots", () => {
  it("generates with the offline rationalizer from a raw benchmark file, resumes, and stats prints the same counts", async () => {
    const out = join(tmp, "workspace", ".codistill", "cots", "mbpp.jsonl");
    const first = await runCli(["cots", "generate", "--tasks", join(DATA, "mbpp", "sanitized-mbpp.json"), "--out", out, "--limit", "12"]);
    assert.equal(first.code, 0, first.stderr);
    const summary = JSON.parse(first.stdout) as Record<string, number>;
    assert.deepEqual(Object.keys(summary), SUMMARY_KEYS);
    assert.equal(summary.total, 12);
    assert.equal(summary.valid, 12, first.stderr);
    assert.match(first.stderr, /cots: 12\/12 \(0 failed, 0 invalid\)/);
    const written = records(out);
    assert.equal(written.length, 12);
    assert.ok(written.every((r) => r.teacher.model === "codistill-rationalizer" && r.teacher.endpoint === "" && r.steps.length > 0 && r.intent));

    const again = await runCli(["cots", "generate", "--tasks", join(DATA, "mbpp", "sanitized-mbpp.json"), "--out", out, "--limit", "20"]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /8 asked, 12 already done/);
    assert.equal(records(out).length, 20);

    const stats = await runCli(["cots", "stats", out]);
    assert.equal(stats.code, 0, stats.stderr);
    assert.deepEqual(JSON.parse(stats.stdout), { ...JSON.parse(again.stdout) });
    assert.match(stats.stderr, /20 records for 20 tasks; verified share n\/a/);
  });

  it("asks a loopback teacher with the key from the environment, never writing the key", async () => {
    const teacher = await startFakeTeacher(({ taskId, attempt }) =>
      taskId === "HumanEval/0" && attempt === 1 ? { kind: "status", status: 429, retryAfter: "0" } : taskId === "HumanEval/2" ? { kind: "json", content: "no json here" } : { kind: "json", content: goodAnswer(taskId) },
    );
    try {
      const out = join(tmp, "teacher.jsonl");
      const run = await cliWithEnv(
        ["cots", "generate", "--tasks", join(GOLDEN, "humaneval-slice.tasks.jsonl"), "--out", out, "--endpoint", teacher.endpoint, "--model", "teacher-70b", "--prompt", templateWithTaskId(), "--mode", "rationalize", "--max-retries", "1", "--concurrency", "3"],
        { CODISTILL_TEACHER_API_KEY: "sk-do-not-store" },
      );
      assert.equal(run.code, 0, run.stderr);
      const summary = JSON.parse(run.stdout) as Record<string, number>;
      const all = records(out);
      assert.equal(summary.total, all.length);
      assert.equal(summary.invalid, 1);
      assert.equal(summary.valid, all.length - 1);
      assert.ok(summary.promptTokens > 0 && summary.completionTokens > 0);
      assert.equal(teacher.asks.get("HumanEval/0"), 2, "the 429 was retried");
      assert.equal(teacher.asks.get("HumanEval/2"), 2, "the JSON-less answer was asked again once");
      const text = readFileSync(out, "utf8");
      assert.ok(!text.includes("sk-do-not-store"), "the API key is in no record");
      assert.ok(!run.stderr.includes("sk-do-not-store") && !run.stdout.includes("sk-do-not-store"));
      assert.ok(all.every((r) => r.teacher.model === "teacher-70b" && r.teacher.endpoint === teacher.endpoint && /^sha256:[0-9a-f]{64}$/.test(r.teacher.promptHash)));
    } finally {
      await teacher.close();
    }
  });

  it("--verify runs the teacher's code in the sidecar's sandbox: references pass, wrong code fails with its test", async () => {
    const teacher = await startFakeTeacher(({ taskId }) => ({ kind: "json", content: goodAnswer(taskId, "def wrong():\n    return None\n") }));
    try {
      const tasks = join(GOLDEN, "mbpp-slice.tasks.jsonl");
      const offline = join(tmp, "verified.jsonl");
      const run = await runCli(["cots", "generate", "--tasks", tasks, "--out", offline, "--verify", "--python", sidecarPython(), "--limit", "3"]);
      assert.equal(run.code, 0, run.stderr);
      const summary = JSON.parse(run.stdout) as Record<string, number>;
      assert.equal(summary.verified, 3, run.stderr);
      assert.match((await runCli(["cots", "stats", offline])).stderr, /verified share 100\.0% of 3 checked/);

      const wrong = join(tmp, "wrong.jsonl");
      const bad = await runCli(["cots", "generate", "--tasks", tasks, "--out", wrong, "--endpoint", teacher.endpoint, "--model", "m", "--prompt", templateWithTaskId(), "--verify", "--python", sidecarPython(), "--limit", "2"]);
      assert.equal(bad.code, 0, bad.stderr);
      assert.equal((JSON.parse(bad.stdout) as Record<string, number>).failedVerification, 2);
      const last = records(wrong).at(-1)!;
      assert.equal(last.status, "failed-verification");
      assert.equal(last.verification?.status, "failed");
      assert.match(last.problems[0]!, /^verification: failed/);
    } finally {
      await teacher.close();
    }
  });

  it("a verifier that cannot start leaves the reasoning written and says so (exit 1)", async () => {
    const out = join(tmp, "no-python.jsonl");
    const run = await runCli(["cots", "generate", "--tasks", join(GOLDEN, "mbpp-slice.tasks.jsonl"), "--out", out, "--verify", "--python", join(tmp, "no-such-python"), "--limit", "2"]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /verification stopped: .*no-such-python/);
    assert.equal(records(out).length, 2);
  });

  it("SIGKILL at random points, then resume: every task once, nothing lost", async () => {
    const teacher = await startFakeTeacher(({ taskId }) => ({ kind: "json", content: goodAnswer(taskId) }), 5);
    try {
      const tasks = join(tmp, "many.tasks.jsonl");
      const lines = readFileSync(join(GOLDEN, "mbpp-slice.tasks.jsonl"), "utf8").split("\n").filter(Boolean);
      const many: string[] = [];
      for (let i = 0; i < 300; i++) {
        const task = JSON.parse(lines[i % lines.length]!) as { id: string };
        many.push(JSON.stringify({ ...task, id: `many/${i}` }));
      }
      writeFileSync(tasks, `${many.join("\n")}\n`);
      const out = join(tmp, "killed.jsonl");
      const args = [join(REPO, "src", "cli.ts"), "cots", "generate", "--tasks", tasks, "--out", out, "--endpoint", teacher.endpoint, "--model", "m", "--prompt", templateWithTaskId(), "--concurrency", "8"];
      let killed = 0;
      let finished = false;
      for (let run = 0; run < 12 && !finished; run++) {
        const child = spawn(process.execPath, ["--import", "tsx", ...args], { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
        let stderr = "";
        child.stderr.on("data", (chunk: Buffer) => {
          stderr += chunk.toString();
          // Kill once it has written something, at a random moment.
          if (run < 6 && !child.killed && /cots: \d+\/\d+/.test(stderr)) setTimeout(() => child.kill("SIGKILL"), Math.floor(Math.random() * 150));
        });
        const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on("close", (c, s) => resolve([c, s])));
        if (signal === "SIGKILL") killed++;
        finished = code === 0;
      }
      assert.ok(finished, "a resumed run finishes");
      assert.ok(killed >= 3, `only ${killed} runs were killed`);
      const ids = records(out).map((r) => r.taskId);
      assert.equal(new Set(ids).size, ids.length, "no task twice");
      assert.equal(ids.length, 300, "every task once");
    } finally {
      await teacher.close();
    }
  });

  it("names its usage mistakes", async () => {
    const cases: [string[], RegExp][] = [
      [["cots", "generate", "--out", "x.jsonl"], /missing --tasks/],
      [["cots", "generate", "--tasks", "t.jsonl"], /missing --out/],
      [["cots", "generate", "--tasks", "t", "--out", "o", "--endpoint", "http://x/v1"], /--endpoint needs --model/],
      [["cots", "generate", "--tasks", "t", "--out", "o", "--mode", "guess"], /--mode: expected blind or rationalize, got "guess"/],
      [["cots", "generate", "--tasks", "t", "--out", "o", "--concurrency", "0"], /--concurrency: expected a number > 0|--concurrency: expected an integer >= 1/],
      [["cots", "stats"], /cots stats: expected <cots\.jsonl>/],
      [["cots", "sort"], /unknown cots command "sort"/],
    ];
    for (const [args, message] of cases) {
      const run = await runCli(args);
      assert.equal(run.code, 1, args.join(" "));
      assert.match(run.stderr, message);
    }
    const missing = await runCli(["cots", "generate", "--tasks", join(tmp, "nope.jsonl"), "--out", join(tmp, "o.jsonl")]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /nope\.jsonl/);
  });
});

/** runCli with extra environment variables. */
async function cliWithEnv(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", join(REPO, "src", "cli.ts"), ...args], { cwd: REPO, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number>((resolve) => child.on("close", (c) => resolve(c ?? 1)));
  return { code, stdout, stderr };
}
