// The Dataset Browser in a real VS Code: open the shared HumanEval file, search, open a task,
// open it in the editor; a broken file shows what was rejected and why.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { FrameLocator } from "playwright-core";
import { runCommand, screenshot, webviewFrame, type VsCodeSession } from "./harness";
import { DATA, demoWorkspaceCopy, startTrusted, stopAndRemove } from "./workspace";

async function pickInQuickOpen(session: VsCodeSession, label: string): Promise<void> {
  const input = session.page.locator(".quick-input-widget input.input");
  await input.waitFor({ state: "visible", timeout: 15_000 });
  await input.fill(label);
  const row = session.page.locator(".quick-input-widget .monaco-list-row").filter({ has: session.page.locator(".label-name", { hasText: new RegExp(`^${label}$`) }) });
  await row.first().click({ timeout: 15_000 });
}

async function openDataset(session: VsCodeSession, name: string): Promise<FrameLocator> {
  await runCommand(session, "Codistill: Open Dataset…");
  await pickInQuickOpen(session, name);
  const frame = await webviewFrame(session, `Codistill Datasets: ${name}`);
  await frame.locator('[data-testid="task-row"]').first().waitFor({ timeout: 60_000 });
  return frame;
}

const matchedCount = async (frame: FrameLocator) => Number(/([\d,]+)/.exec(await frame.locator('[data-testid="matched"]').innerText())?.[1]?.replace(/,/g, ""));

describe("the Dataset Browser", () => {
  let session: VsCodeSession;
  let workspace: string;
  let brokenFile: string;

  before(async () => {
    workspace = demoWorkspaceCopy();
    // A copy of HumanEval with three bad lines: the browser must show what it rejected.
    brokenFile = join(workspace, "HumanEval-broken.jsonl");
    const lines = readFileSync(join(DATA, "humaneval", "HumanEval.jsonl"), "utf8").trim().split("\n").slice(0, 10);
    writeFileSync(brokenFile, [...lines.slice(0, 5), "{not json", JSON.stringify({ task_id: "HumanEval/x" }), ...lines.slice(5), '{"task_id": 5, "prompt": 1}'].join("\n") + "\n");
    const config = readFileSync(join(workspace, "codistill.yaml"), "utf8").replace("datasets:\n", `datasets:\n  - name: broken\n    path: ${brokenFile}\n    format: humaneval\n`);
    writeFileSync(join(workspace, "codistill.yaml"), config);
    session = await startTrusted(workspace);
  });

  after(() => stopAndRemove(session, workspace));

  it("opens HumanEval, narrows the list on a search, and shows a task's prompt and tests", async () => {
    const frame = await openDataset(session, "humaneval");
    assert.match(await frame.locator('[data-testid="loaded-count"]').innerText(), /164 loaded/);
    assert.equal(await matchedCount(frame), 164);
    await screenshot(session, "datasets-humaneval-opened");

    await frame.locator('[data-testid="search"]').fill("prime");
    await frame.locator('[data-testid="matched"]', { hasText: /^\D*\d{1,2}\D/ }).waitFor({ timeout: 10_000 });
    const matched = await matchedCount(frame);
    assert.ok(matched > 0 && matched < 164, `"prime" narrows 164 tasks to ${matched}`);
    const rows = frame.locator('[data-testid="task-row"]');
    assert.equal(await rows.count(), matched);

    await rows.first().click();
    const id = (await frame.locator('[data-testid="detail-id"]').innerText()).trim();
    assert.match(id, /^HumanEval\/\d+$/);
    const prompt = await frame.locator('[data-testid="detail-prompt"]').innerText();
    assert.match(prompt, /prime/i);
    const tests = await frame.locator('[data-testid="tests-summary"]').innerText();
    assert.match(tests, /check/);
    await frame.locator('[data-testid="cot-empty"]').waitFor();
    await screenshot(session, "datasets-humaneval-prime-task");

    await frame.locator('[data-testid="open-in-editor"]').click();
    const tab = session.page.locator(".tabs-container .tab", { hasText: `${id}: reference solution ↔ task` });
    await tab.waitFor({ timeout: 20_000 });
    // Right: the editable task file (HumanEval's prompt); left: the reference solution.
    const modified = session.page.locator(".monaco-diff-editor .editor.modified .view-lines");
    const original = session.page.locator(".monaco-diff-editor .editor.original .view-lines");
    await modified.filter({ hasText: '"""' }).waitFor({ timeout: 20_000 });
    assert.match(await original.innerText(), /return/);
    // The task file is a real file of the workspace, holding the HumanEval prompt.
    const taskFile = join(workspace, ".codistill", "tasks", "humaneval", `${id.replace("/", "_")}.py`);
    const humaneval = readFileSync(join(DATA, "humaneval", "HumanEval.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(readFileSync(taskFile, "utf8"), humaneval.find((t) => t.task_id === id).prompt);
    await screenshot(session, "datasets-task-in-editor");
  });

  it("keeps the search, selection and list after the panel is hidden and shown, and navigates by keyboard", async () => {
    // The diff editor of the last test hid the panel, which destroyed its webview.
    await session.page.locator(".tabs-container .tab", { hasText: "Codistill Datasets: humaneval" }).click();
    const frame = await webviewFrame(session, "Codistill Datasets: humaneval");
    await frame.locator('[data-testid="detail-id"]').waitFor({ timeout: 20_000 });
    assert.equal(await frame.locator('[data-testid="search"]').inputValue(), "prime");
    const selected = frame.locator('[data-testid="task-row"][aria-selected="true"]');
    const firstId = await selected.getAttribute("data-id");
    assert.equal((await frame.locator('[data-testid="detail-id"]').innerText()).trim(), firstId);

    await selected.click();
    await frame.locator('[data-testid="task-list"]').press("ArrowDown");
    await frame.locator('[data-testid="task-row"][aria-selected="true"]').and(frame.locator(`:not([data-id="${firstId}"])`)).waitFor();
    const secondId = await frame.locator('[data-testid="task-row"][aria-selected="true"]').getAttribute("data-id");
    assert.notEqual(secondId, firstId);
    await frame.locator('[data-testid="detail-id"]', { hasText: secondId! }).waitFor({ timeout: 10_000 });

    // "Open Task in Editor" from the command palette takes the browser's selection.
    await runCommand(session, "Codistill: Open Task in Editor");
    await session.page.locator(".tabs-container .tab", { hasText: `${secondId}: reference solution ↔ task` }).waitFor({ timeout: 20_000 });
    await screenshot(session, "datasets-open-task-command");
  });

  it("shows a larger dataset's first page at once and completes it when indexing ends", async () => {
    const frame = await openDataset(session, "mbpp");
    // The first page arrives after 200 rows; the rest is indexed in the background.
    await frame.locator('[data-testid="loaded-count"]', { hasText: "974 loaded" }).waitFor({ timeout: 60_000 });
    await frame.locator('[data-testid="matched"]', { hasText: /974 \/ 974/ }).waitFor({ timeout: 10_000 });
    await frame.locator('[data-testid="task-list"]').press("End");
    await frame.locator('[data-testid="task-row"][data-id="mbpp/974"]').waitFor({ timeout: 10_000 });
  });

  it("shows how many rows were rejected and why", async () => {
    const frame = await openDataset(session, "broken");
    assert.match(await frame.locator('[data-testid="loaded-count"]').innerText(), /10 loaded/);
    const rejected = frame.locator('[data-testid="rejected-count"]');
    assert.match(await rejected.innerText(), /3 rejected/);
    await rejected.click();
    const reasons = await frame.locator('[data-testid="rejections"]').innerText();
    assert.match(reasons, /HumanEval-broken\.jsonl:6/);
    assert.match(reasons, /HumanEval-broken\.jsonl:7/);
    assert.match(reasons, /HumanEval-broken\.jsonl:13/);
    await screenshot(session, "datasets-rejections");
  });
});
