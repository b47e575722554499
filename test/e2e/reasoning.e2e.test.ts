// Teacher reasoning in a real VS Code: "Generate Reasoning for Dataset…" on a five-task HumanEval
// slice with the offline teacher (no endpoint configured) and the sandbox verifying its code; the
// explorer lists the set with its counts; the Dataset Browser opens on it from the notification and
// shows the CoT of a task (status, sections, teacher code, meta line); a reviewer accepts with the
// button and rejects with the keyboard, each moving on to the next task; the status filter counts
// and narrows the list; an edit saved in the editor, a regeneration and a record appended on disk
// by another process reach the browser; the set's file holds the review records and the explorer's
// row and tooltip count them. Last, a generation of 427 tasks cancelled while the sandbox verifies
// is finished by the notification's Resume, with one answer per task.
import assert from "node:assert/strict";
import { appendFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { FrameLocator } from "playwright-core";
import { cotSetDescription, cotSetDetails, readCotSetSummary } from "../../src/core/cot/cotSets";
import { CotStore, type CotRecord } from "../../src/core/cot/store";
import { repoRoot, runCommand, screenshot, waitForNotification, webviewFrame, type VsCodeSession } from "./harness";
import { PYTHON, demoWorkspaceCopy, editConfig, startTrusted, stopAndRemove } from "./workspace";

const DATASET = "humaneval-slice";
const SET = `${DATASET}-cots`;
const TASKS = ["HumanEval/0", "HumanEval/2", "HumanEval/32", "HumanEval/53", "HumanEval/163"];

const squash = (t: string) => t.replace(/\s+/g, "");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `read` until `ok` holds of its value; fails with the last value seen. */
async function until<T>(what: string, read: () => Promise<T> | T, ok: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!ok(value)) {
    if (Date.now() > deadline) assert.fail(`${what}: still ${JSON.stringify(value)}`);
    await sleep(250);
    value = await read();
  }
  return value;
}

describe("teacher reasoning, generated and reviewed", () => {
  let session: VsCodeSession;
  let workspace: string;
  let setPath: string;
  let frame: FrameLocator;

  const records = async () => {
    const store = await CotStore.open(setPath);
    return { store, lines: readFileSync(setPath, "utf8").trim().split("\n").map((l) => JSON.parse(l) as CotRecord) };
  };
  const detailId = () => frame.locator('[data-testid="detail-id"]').innerText().then((t) => t.trim());
  const row = (id: string) => frame.locator(`[data-testid="task-row"][data-id="${id}"]`);
  const explorerRow = () => session.page.locator(".part.sidebar .monaco-list-row", { hasText: SET });

  /** "Generate Reasoning for Dataset…" from the palette: the dataset picked, its proposed set name (<dataset>-cots) accepted. */
  const generateFromPalette = async (dataset: string) => {
    const { page } = session;
    await runCommand(session, "Codistill: Generate Reasoning for Dataset…");
    const input = page.locator(".quick-input-widget input.input");
    await input.waitFor({ state: "visible", timeout: 15_000 });
    await input.fill(dataset);
    await page.locator(".quick-input-widget .monaco-list-row").filter({ has: page.locator(".label-name", { hasText: new RegExp(`^${dataset}$`) }) }).first().click({ timeout: 15_000 });
    await until("the CoT set name box", () => input.inputValue().catch(() => ""), (v) => v === `${dataset}-cots`, 15_000);
    await page.keyboard.press("Enter");
  };

  before(async () => {
    workspace = demoWorkspaceCopy();
    setPath = join(workspace, ".codistill", "cots", `${SET}.jsonl`);
    editConfig(workspace, (config) => {
      const datasets = config.get("datasets") as { add(item: unknown): void };
      datasets.add(config.createNode({ name: DATASET, path: join(repoRoot(), "test", "fixtures", "datasets", "humaneval-slice.jsonl") }));
    });
    session = await startTrusted(workspace, { "codistill.pythonPath": PYTHON });
  });

  after(() => stopAndRemove(session, workspace));

  it("generates the set with the offline teacher and the sandbox, and the explorer lists it with its counts", async () => {
    await generateFromPalette(DATASET);

    const done = await waitForNotification(session, new RegExp(`${SET}: Done\\.`), { timeoutMs: 240_000 });
    const { summary, reviews } = await readCotSetSummary(setPath);
    assert.equal(summary.total, 5);
    assert.equal(summary.failed, 0, done);
    assert.ok(summary.verified > 0, `the sandbox verified the teacher's code: ${done}`);
    assert.deepEqual(reviews, { accepted: 0, rejected: 0, edited: 0 });
    assert.match(done, /5 tasks: \d+ verified/);
    const { store } = await records();
    assert.deepEqual([...store.entries()].map((e) => e.taskId).sort(), [...TASKS].sort());
    assert.equal((await store.get("HumanEval/0"))?.teacher.model, "codistill-rationalizer");

    await runCommand(session, "Codistill: Focus on Explorer View");
    const expected = squash(`${SET} ${cotSetDescription(await readCotSetSummary(setPath))}`);
    await until("the CoT set's row in the explorer", () => explorerRow().innerText().then(squash).catch(() => ""), (t) => t === expected);
    await screenshot(session, "reasoning-generated-tree");
  });

  it("opens the browser on the set from the notification and shows a task's reasoning", async () => {
    const toast = session.page.locator(".notifications-toasts .notification-toast", { hasText: `${SET}: Done` });
    await toast.locator(".monaco-button", { hasText: "Open in Browser" }).click({ timeout: 15_000 });
    frame = await webviewFrame(session, `Codistill Datasets: ${DATASET}`);
    await row(TASKS[0]!).waitFor({ timeout: 60_000 });
    assert.equal(await frame.locator('[data-testid="cot-set-select"]').inputValue(), SET);
    // Every row carries its reasoning's status.
    await until("the rows' CoT badges", () => frame.locator('[data-testid="row-cot"]:not([hidden])').count(), (n) => n === 5);

    await row(TASKS[0]!).click();
    await frame.locator('[data-testid="detail-id"]', { hasText: TASKS[0]! }).waitFor({ timeout: 20_000 });
    const cot = frame.locator('[data-testid="detail-cot"]');
    await cot.locator('[data-testid="cot-intent"]').waitFor({ timeout: 20_000 });
    assert.equal(await cot.getAttribute("data-set"), SET);
    const record = (await (await records()).store.get(TASKS[0]!))!;
    const status = { verified: "verified", valid: "valid", "failed-verification": "failed verification", invalid: "invalid" }[record.status];
    assert.equal(await cot.locator('[data-testid="cot-status-badge"]').innerText().then((t) => t.toLowerCase()), status);
    assert.equal(await cot.locator('[data-testid="cot-intent"]').innerText(), record.intent.replace(/`/g, ""), "backticked spans are code");
    assert.equal(await cot.locator('[data-testid="cot-steps"] li').count(), record.steps.length);
    if (record.teacherCode) assert.match(await cot.locator('[data-testid="cot-code-block"]').innerText(), /def has_close_elements/);
    assert.match(await cot.locator('[data-testid="cot-meta"]').innerText(), /^codistill-rationalizer · 0 prompt \/ 0 completion tokens · 1 attempt · created \d{4}-\d\d-\d\d \d\d:\d\d$/);
    assert.equal(await cot.locator('[data-testid="cot-review-badge"]').count(), 0);
    assert.equal(await cot.locator('[data-testid="cot-accept"]').innerText(), "Accept (A)");
    // The status filter counts the dataset's tasks per status.
    const statusFilter = frame.locator('[data-testid="cot-filter"]');
    assert.match(await statusFilter.locator('option[value="unreviewed"]').innerText(), /^not reviewed \(5\)$/);
    assert.match(await statusFilter.locator('option[value="none"]').innerText(), /^no reasoning \(0\)$/);
    await cot.scrollIntoViewIfNeeded();
    await screenshot(session, "reasoning-cot-view");
  });

  it("accepts with the button and rejects with the key, moving on after each, and writes the reviews", async () => {
    const cot = frame.locator('[data-testid="detail-cot"]');
    await cot.locator('[data-testid="cot-accept"]').click();
    // Accept moves to the next task.
    await frame.locator('[data-testid="detail-id"]', { hasText: TASKS[1]! }).waitFor({ timeout: 20_000 });
    await cot.locator('[data-testid="cot-intent"]').waitFor({ timeout: 20_000 });
    await frame.locator('[data-testid="task-list"]').focus();
    await frame.locator('[data-testid="task-list"]').press("r");
    await frame.locator('[data-testid="detail-id"]', { hasText: TASKS[2]! }).waitFor({ timeout: 20_000 });
    await until("the rows' review badges", async () => [await row(TASKS[0]!).locator('[data-testid="row-cot"]').getAttribute("data-review"), await row(TASKS[1]!).locator('[data-testid="row-cot"]').getAttribute("data-review")], (r) => r[0] === "accepted" && r[1] === "rejected");
    // j and k walk the list; the task goes back to the reviewed one, whose badge says so.
    await frame.locator('[data-testid="task-list"]').press("k");
    await frame.locator('[data-testid="detail-id"]', { hasText: TASKS[1]! }).waitFor({ timeout: 20_000 });
    await cot.locator('[data-testid="cot-review-badge"]', { hasText: "rejected" }).waitFor({ timeout: 20_000 });
    await frame.locator('[data-testid="task-list"]').press("j");
    await frame.locator('[data-testid="detail-id"]', { hasText: TASKS[2]! }).waitFor({ timeout: 20_000 });

    // On disk: a review record appended for each, the last record of the task counting.
    const { store, lines } = await records();
    assert.equal(store.entry(TASKS[0]!)?.review, "accepted");
    assert.equal(store.entry(TASKS[1]!)?.review, "rejected");
    assert.equal(store.entry(TASKS[2]!)?.review, undefined);
    assert.deepEqual(lines.filter((l) => l.review).map((l) => [l.taskId, l.review!.decision]), [[TASKS[0], "accepted"], [TASKS[1], "rejected"]]);

    // The filter's counts follow; "accepted" narrows the list to the one accepted task.
    const statusFilter = frame.locator('[data-testid="cot-filter"]');
    await until("the filter's counts", () => statusFilter.locator('option[value="unreviewed"]').innerText(), (t) => t === "not reviewed (3)");
    assert.equal(await statusFilter.locator('option[value="accepted"]').innerText(), "accepted (1)");
    await statusFilter.selectOption("accepted");
    await frame.locator('[data-testid="matched"]', { hasText: /^1 \/ 5/ }).waitFor({ timeout: 10_000 });
    assert.deepEqual(await frame.locator('[data-testid="task-row"]').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.id)), [TASKS[0]]);
    await row(TASKS[0]!).click();
    await frame.locator('[data-testid="detail-id"]', { hasText: TASKS[0]! }).waitFor({ timeout: 20_000 });
    await cot.locator('[data-testid="cot-review-badge"]', { hasText: "accepted" }).waitFor({ timeout: 20_000 });
    await cot.scrollIntoViewIfNeeded();
    await screenshot(session, "reasoning-after-review");
    await statusFilter.selectOption("any");
    await frame.locator('[data-testid="matched"]', { hasText: /^5 \/ 5/ }).waitFor({ timeout: 10_000 });

    // The explorer: the tooltip counts the decisions, the row reads what the file says.
    const details = cotSetDetails(await readCotSetSummary(setPath));
    assert.ok(details.includes("review: 1 accepted · 1 rejected · 0 edited"), details.join("\n"));
    const rowText = squash(`${SET} ${cotSetDescription(await readCotSetSummary(setPath))}`);
    assert.match(rowText, /\|1accepted·1rejected$/, "the row's counts change with the reviews (squashed: no spaces)");
    await until("the CoT set's row after the reviews", () => explorerRow().innerText().then(squash).catch(() => ""), (t) => t === rowText);
    await explorerRow().hover();
    const hover = session.page.locator(".monaco-hover, .workbench-hover", { hasText: "review:" });
    const words = (t: string) => t.replace(/\s+/g, " ");
    await until("the CoT set's tooltip", () => hover.first().innerText().then(words).catch(() => ""), (t) => t.includes("review: 1 accepted · 1 rejected · 0 edited"), 15_000);
    await screenshot(session, "reasoning-explorer-tooltip");
    await session.page.mouse.move(700, 500);
  });

  it("regenerates with g, and follows records another process appends to the set", async () => {
    const cot = frame.locator('[data-testid="detail-cot"]');
    await row(TASKS[2]!).click();
    await frame.locator('[data-testid="detail-id"]', { hasText: TASKS[2]! }).waitFor({ timeout: 20_000 });
    await cot.locator('[data-testid="cot-intent"]').waitFor({ timeout: 20_000 });
    const before = (await records()).lines.length;
    await frame.locator('[data-testid="task-list"]').press("g");
    // Asked again and, with verification on, judged: one or two records appended.
    await until("the regenerated records", async () => (await records()).lines.length, (n) => n > before, 120_000);
    await cot.locator('[data-testid="cot-regenerate"]', { hasText: "Regenerate (G)" }).waitFor({ timeout: 120_000 });
    assert.equal(await detailId(), TASKS[2]);

    // Another process (the CLI) writes to the set: task 3 fails verification, task 5's teacher
    // failed. The file watcher brings both to the open browser.
    const { store } = await records();
    const current = (await store.get(TASKS[2]!))!;
    const judged: CotRecord = {
      ...current,
      status: "failed-verification",
      verification: { status: "failed", failedTest: 2, message: "AssertionError: poly(xs, x) is not 0" },
      problems: ["verification: failed on test 2: AssertionError: poly(xs, x) is not 0", "steps: step 3 repeats `begin, end`"],
    };
    const failed: CotRecord = { ...current, taskId: TASKS[4]!, intent: "", steps: [], formulas: [], edgeCases: [], teacherCode: undefined, raw: "", status: "invalid", problems: [], failure: "HTTP 503 after 3 retries" };
    delete failed.verification;
    appendFileSync(setPath, `${JSON.stringify(judged)}\n${JSON.stringify(failed)}\n`);
    await cot.locator('[data-testid="cot-status-badge"]', { hasText: "failed verification" }).waitFor({ timeout: 20_000 });
    assert.equal(await cot.locator('[data-testid="cot-verification"]').innerText(), "Verification failed on test #2: AssertionError: poly(xs, x) is not 0");
    assert.deepEqual(await cot.locator('[data-testid="cot-problem"]').allInnerTexts(), ["steps: step 3 repeats begin, end"]);
    await until("the rows' badges", async () => [await row(TASKS[2]!).locator('[data-testid="row-cot"]').innerText(), await row(TASKS[4]!).locator('[data-testid="row-cot"]').innerText()], (t) => t[0] === "failed verification" && t[1] === "failed");
    await cot.scrollIntoViewIfNeeded();
    await screenshot(session, "reasoning-failed-verification");

    // A failed record has no answer to judge: Accept and Reject are off, and the key does nothing.
    await row(TASKS[4]!).click();
    await cot.locator('[data-testid="cot-failure"]').waitFor({ timeout: 20_000 });
    assert.match(await cot.locator('[data-testid="cot-failure"]').innerText(), /no usable answer: HTTP 503 after 3 retries/);
    assert.equal(await cot.locator('[data-testid="cot-accept"]').getAttribute("disabled"), "");
    assert.equal(await cot.locator('[data-testid="cot-reject"]').getAttribute("disabled"), "");
    await frame.locator('[data-testid="task-list"]').press("a");
    await sleep(500);
    assert.equal(await detailId(), TASKS[4]);
    assert.equal((await records()).store.entry(TASKS[4]!)?.review, undefined);
  });

  it("edits a task's reasoning in the editor; the saved edit reaches the browser as edited", async () => {
    const { page } = session;
    await row(TASKS[3]!).click();
    await frame.locator('[data-testid="detail-id"]', { hasText: TASKS[3]! }).waitFor({ timeout: 20_000 });
    await frame.locator('[data-testid="detail-cot"] [data-testid="cot-intent"]').waitFor({ timeout: 20_000 });
    await frame.locator('[data-testid="task-list"]').press("e");
    const tab = page.locator(".tabs-container .tab", { hasText: ".cot.json" });
    await tab.waitFor({ timeout: 20_000 });
    const editor = page.locator(".editor-instance .monaco-editor .view-lines").first();
    await editor.filter({ hasText: '"intent"' }).waitFor({ timeout: 20_000 });
    await editor.click();
    // Line 2 is the intent: replaced as a whole, then saved.
    await page.keyboard.press("Control+G");
    const box = page.locator(".quick-input-widget input.input");
    await box.waitFor({ state: "visible", timeout: 15_000 });
    await box.fill(":2");
    await page.keyboard.press("Enter");
    await box.waitFor({ state: "hidden", timeout: 15_000 });
    await page.keyboard.press("Home");
    await page.keyboard.press("Shift+End");
    await page.keyboard.insertText('"intent": "Edited by hand: decide whether a list has two numbers closer than the threshold.",');
    // What the editor's auto-closing added after the text goes.
    await page.keyboard.press("Shift+End");
    await page.keyboard.press("Delete");
    await editor.filter({ hasText: "threshold.\"," }).waitFor({ timeout: 10_000 });
    await page.keyboard.press("Control+S");
    await waitForNotification(session, new RegExp(`edited reasoning of ${TASKS[3]!.replace("/", "\\/")} is saved to ${SET}`), { timeoutMs: 20_000 });
    const { store } = await records();
    assert.equal(store.entry(TASKS[3]!)?.review, "edited");
    assert.match((await store.get(TASKS[3]!))!.intent, /^Edited by hand/);

    await page.locator(".tabs-container .tab", { hasText: `Codistill Datasets: ${DATASET}` }).click();
    frame = await webviewFrame(session, `Codistill Datasets: ${DATASET}`);
    const cot = frame.locator('[data-testid="detail-cot"]');
    await cot.locator('[data-testid="cot-review-badge"]', { hasText: "edited" }).waitFor({ timeout: 20_000 });
    assert.match(await cot.locator('[data-testid="cot-intent"]').innerText(), /^Edited by hand/);
    // The set picked is kept when the panel comes back.
    assert.equal(await frame.locator('[data-testid="cot-set-select"]').inputValue(), SET);
    assert.equal(await detailId(), TASKS[3]);
  });

  it("cancels a generation while its code is being verified, and Resume finishes it: every task once", async () => {
    const { page } = session;
    const big = "mbpp-sanitized";
    const bigSet = `${big}-cots`;
    const bigPath = join(workspace, ".codistill", "cots", `${bigSet}.jsonl`);
    await generateFromPalette(big);
    // The offline teacher answers at once; the sandbox takes a while: cancel once some code is judged.
    const progress = page.locator(".notifications-toasts .notification-toast", { hasText: /\d+\/427/ });
    await until("verification under way", () => progress.first().innerText().catch(() => ""), (t) => /· [1-9]\d*\/\d+ verified/.test(t), 120_000);
    await progress.first().locator(".monaco-button", { hasText: "Cancel" }).click({ timeout: 10_000 });
    const cancelled = await waitForNotification(session, new RegExp(`${bigSet}: Cancelled\\.`), { timeoutMs: 60_000 });
    const partial = (await readCotSetSummary(bigPath)).summary;
    assert.ok(partial.valid > 0, `some code was left unjudged by the cancel: ${cancelled}`);
    await screenshot(session, "reasoning-cancelled");

    const toast = page.locator(".notifications-toasts .notification-toast", { hasText: `${bigSet}: Cancelled` });
    await toast.locator(".monaco-button", { hasText: "Resume" }).click({ timeout: 15_000 });
    const done = await waitForNotification(session, new RegExp(`${bigSet}: Done\\.`), { timeoutMs: 300_000 });
    const { summary } = await readCotSetSummary(bigPath);
    assert.equal(summary.total, 427, done);
    assert.equal(summary.valid, 0, "Resume judged the code the cancel left");
    assert.equal(summary.verified + summary.failedVerification, 427);
    const answers = readFileSync(bigPath, "utf8").trim().split("\n").map((l) => JSON.parse(l) as CotRecord).filter((r) => !r.verification);
    assert.equal(answers.length, 427, "one answer per task: Resume asked nothing twice");
    assert.equal(new Set(answers.map((r) => r.taskId)).size, 427);
  });
});
