// The Evaluation panel in a real VS Code: a tiny random model (made by scripts/make-tiny-model.py)
// and a LoRA adapter of it are evaluated on three HumanEval tasks by the real sidecar; the table
// shows pass@1 with its interval, the adapter's delta against the base, the average syntax and
// dataflow match (rescored in the background when structure.json goes missing), the chart; the
// drill-down shows each sample's scores; a task opens in the diff editor; a long run is cancelled.
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { FrameLocator } from "playwright-core";
import { runCommand, screenshot, waitForNotification, webviewFrame, type VsCodeSession } from "./harness";
import { PYTHON, demoWorkspaceCopy, editConfig, makeTinyModel, startTrusted, stopAndRemove } from "./workspace";

describe("the Evaluation panel", () => {
  let session: VsCodeSession;
  let workspace: string;
  let frame: FrameLocator;

  before(async () => {
    workspace = demoWorkspaceCopy();
    const adapter = join(workspace, ".codistill", "runs", "run-1", "adapter");
    makeTinyModel(workspace, "--adapter", adapter);
    editConfig(workspace, (config) => {
      config.setIn(["student", "model"], "./models/tiny");
      config.setIn(["evaluation", "maxNewTokens"], 24);
      config.setIn(["evaluation", "limit"], 3);
    });
    session = await startTrusted(workspace, { "codistill.pythonPath": PYTHON });
  });

  after(() => stopAndRemove(session, workspace));

  it("evaluates the base model and the adapter, and compares them with intervals and a chart", async () => {
    await runCommand(session, "Codistill: Open Evaluation");
    frame = await webviewFrame(session, "Codistill Evaluation");
    const adapterBox = frame.locator('[data-testid="model-run-1"]');
    await adapterBox.waitFor({ timeout: 30_000 });
    assert.equal(await frame.locator('[data-testid="model-base"]').getAttribute("aria-checked"), "true");
    assert.equal(await frame.locator('[data-testid="benchmark-humaneval"]').getAttribute("aria-checked"), "true");
    assert.equal(await frame.locator('[data-testid="no-results"]').count(), 1);
    await adapterBox.click();

    await frame.locator("vscode-button", { hasText: "Run Evaluation" }).click();
    await frame.locator('[data-testid="progress-text"]').waitFor({ timeout: 30_000 });
    await screenshot(session, "evaluation-running");
    const rows = frame.locator('[data-testid="result-row"]');
    const outcome = frame.locator('[data-testid="last-outcome"]');
    await rows.nth(1).or(outcome).waitFor({ timeout: 300_000 });
    if (await outcome.count()) assert.fail(`the run did not finish: ${await outcome.innerText()}`);
    await waitForNotification(session, "evaluation finished");
    assert.equal(await rows.count(), 2);

    const base = rows.filter({ hasText: "Base: tiny" });
    const student = rows.filter({ hasText: "run-1 (adapter)" });
    assert.match(await base.locator('[data-testid="pass1"]').innerText(), /^\d+\.\d \(\d+\.\d–\d+\.\d\)$/);
    assert.match(await base.innerText(), /baseline/);
    assert.match(await student.innerText(), /[+-]\d+\.\d \(-?\d+\.\d, -?\d+\.\d\) over 3 tasks/);
    // The paper's columns: CodeBLEU syntax and dataflow match averaged over the three samples.
    for (const row of [base, student]) {
      for (const column of ["syntax", "dataflow"]) {
        const cell = row.locator(`[data-testid="${column}"]`);
        assert.match(await cell.innerText(), /^[01]\.\d{3}$/, `${column} match of ${await row.innerText()}`);
        assert.match((await cell.getAttribute("title")) ?? "", /^mean over \d of 3 samples/);
      }
    }
    assert.equal(await frame.locator('[data-testid="result-row"] td', { hasText: /^unavailable$/ }).count(), 0);
    // The sandbox's isolation, as the sidecar probed it: all of it here (root: a uid of its own).
    for (const row of [base, student]) assert.match(await row.locator('[data-testid="isolation"]').innerText(), /^landlock-v\d+\+uid\+netns\+pidns \(full\)$/);
    assert.equal(await frame.locator('[data-testid="isolation-warning"]').count(), 0);
    assert.equal(await frame.locator("canvas#pass-chart").count(), 1);
    // Every bar has its value drawn above it, a 0% one too (the tiny model's pass@1 is about zero).
    const labels = JSON.parse((await frame.locator("canvas#pass-chart").getAttribute("data-value-labels")) ?? "[]") as string[];
    const pass1 = async (row: typeof base) => `${Number((await row.locator('[data-testid="pass1"]').innerText()).split(" ")[0]).toFixed(1)}%`;
    assert.deepEqual(labels.map((l) => l.split("|").slice(1)).sort(), [["humaneval", await pass1(base)], ["humaneval", await pass1(student)]].sort(), labels.join(", "));
    await screenshot(session, "evaluation-results");

    // What the run left in the workspace: EvalPlus-style samples and results per model × benchmark.
    const dir = join(workspace, ".codistill", "runs", "base-tiny", "eval", "humaneval");
    const samples = readFileSync(join(dir, "samples.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { task_id: string; solution: string });
    assert.deepEqual(samples.map((s) => s.task_id), ["HumanEval/0", "HumanEval/1", "HumanEval/2"]);
    const results = JSON.parse(readFileSync(join(dir, "results.json"), "utf8")) as { eval: Record<string, unknown[]>; summary: { isolation: string } };
    assert.deepEqual(Object.keys(results.eval), ["HumanEval/0", "HumanEval/1", "HumanEval/2"]);
    assert.match(results.summary.isolation, /^landlock-v\d+\+uid\+netns\+pidns$/);
    assert.ok(existsSync(join(workspace, ".codistill", "runs", "run-1", "eval", "humaneval", "results.json")));
    const structure = JSON.parse(readFileSync(join(dir, "structure.json"), "utf8")) as { mode: string; tasks: Record<string, { samples: unknown[] }> };
    assert.equal(structure.mode, "default");
    assert.deepEqual(Object.keys(structure.tasks), ["HumanEval/0", "HumanEval/1", "HumanEval/2"]);

    // Results without structure.json (the headless Python CLI writes none) are scored when the panel loads them.
    const adapterStructure = join(workspace, ".codistill", "runs", "run-1", "eval", "humaneval", "structure.json");
    const scoredSyntax = await student.locator('[data-testid="syntax"]').innerText();
    rmSync(adapterStructure);
    await frame.locator("vscode-button", { hasText: "Refresh" }).click();
    for (const deadline = Date.now() + 30_000; !existsSync(adapterStructure); await new Promise((r) => setTimeout(r, 200))) {
      assert.ok(Date.now() < deadline, "the panel writes structure.json again within 30 s");
    }
    // Then it re-renders with the same numbers: the same samples, the same scorer.
    await student.locator('[data-testid="syntax"][title^="mean over"]', { hasText: scoredSyntax }).waitFor({ timeout: 30_000 });
  });

  it("drills down to the tasks and opens a sample against its reference in the diff editor", async () => {
    await frame.locator('[data-testid="result-row"]', { hasText: "Base: tiny" }).locator("button", { hasText: "Tasks" }).click();
    const tasks = frame.locator('[data-testid="task-row"]');
    await tasks.nth(2).waitFor({ timeout: 15_000 });
    assert.equal(await tasks.count(), 3);
    const first = tasks.first();
    assert.match(await first.innerText(), /HumanEval\/0\s+\d\/1/);
    // One sample per task: its own syntax and dataflow match against the reference.
    for (const column of ["task-syntax", "task-dataflow"]) assert.match(await first.locator(`[data-testid="${column}"]`).innerText(), /^[01]\.\d{3}$/);
    await first.locator("button", { hasText: "Diff" }).click();
    await session.page.locator(".tabs-container .tab", { hasText: "HumanEval/0: reference ↔ Base: tiny sample 0" }).waitFor({ timeout: 20_000 });
    const original = session.page.locator(".monaco-diff-editor .editor.original .view-lines");
    await original.filter({ hasText: "has_close_elements" }).waitFor({ timeout: 20_000 });
    const modified = session.page.locator(".monaco-diff-editor .editor.modified .view-lines");
    assert.match(await modified.innerText(), /^#\s(passed|failed|error|timeout)/);
    await screenshot(session, "evaluation-diff");
  });

  it("names a bad setting, then cancels a long run and keeps what it generated", async () => {
    await session.page.locator(".tabs-container .tab", { hasText: "Codistill Evaluation" }).click();
    frame = await webviewFrame(session, "Codistill Evaluation");
    await frame.locator('[data-testid="result-row"]').first().waitFor({ timeout: 30_000 });
    // Every MBPP task, the base model only: minutes of work, cancelled after the first samples.
    await frame.locator('[data-testid="model-run-1"]').click();
    await frame.locator('[data-testid="benchmark-humaneval"]').click();
    await frame.locator('[data-testid="benchmark-mbpp"]').click();
    // A setting the run cannot honour is named before anything starts.
    await frame.locator('[data-testid="n"] input').fill("2");
    await frame.locator("vscode-button", { hasText: "Run Evaluation" }).click();
    assert.match(await frame.locator('[data-testid="form-problem"]').innerText(), /n: greedy decoding/);
    await frame.locator('[data-testid="n"] input').fill("1");
    await frame.locator('[data-testid="limit"] input').fill("");
    await frame.locator("vscode-button", { hasText: "Run Evaluation" }).click();
    await frame.locator('[data-testid="progress-text"]', { hasText: /Generating [1-9]\d*\// }).waitFor({ timeout: 120_000 });
    await frame.locator("vscode-button", { hasText: "Cancel" }).click();
    await waitForNotification(session, "evaluation cancelled", { timeoutMs: 60_000 });
    await frame.locator("vscode-button", { hasText: "Run Evaluation" }).waitFor({ timeout: 15_000 });
    const samples = join(workspace, ".codistill", "runs", "base-tiny", "eval", "mbpp", "samples.jsonl");
    const lines = readFileSync(samples, "utf8").trim().split("\n").filter(Boolean).length;
    assert.ok(lines > 0 && lines < 974, `a cancelled run keeps its ${lines} samples and stops early`);
    assert.ok(!existsSync(join(workspace, ".codistill", "runs", "base-tiny", "eval", "mbpp", "results.json")));
  });
});
