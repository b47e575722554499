// The structural diagnostics in a real VS Code: a task opened from the Dataset Browser holds its
// solution; deleting the solution's loop in the editor brings a structural diagnostic into the
// Problems view, and the function's Code Lens shows the scores; once the workspace's encoder is
// exported ("Codistill: Export Encoder to ONNX", through the sidecar), the lens adds its cosine.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { existsSync } from "node:fs";
import { runCommand, screenshot, waitForNotification, webviewFrame, type VsCodeSession } from "./harness";
import { DATA, PYTHON, demoWorkspaceCopy, editConfig, makeTinyModel, startTrusted, stopAndRemove } from "./workspace";

const TASK_ID = "HumanEval/0";

function humanEvalSolution(taskId: string): string {
  const rows = readFileSync(join(DATA, "humaneval", "HumanEval.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { task_id: string; prompt: string; canonical_solution: string });
  const row = rows.find((r) => r.task_id === taskId)!;
  return row.prompt + row.canonical_solution;
}

/** "Go to Line/Column…" in the focused editor, waiting for its box rather than typing into the void. */
async function goToLine(session: VsCodeSession, where: string): Promise<void> {
  const { page } = session;
  const box = page.locator(".quick-input-widget input.input");
  await page.keyboard.press("Control+G");
  await box.waitFor({ state: "visible", timeout: 15_000 });
  // The box opens holding ":", the go-to-line prefix of Quick Open.
  await box.fill(`:${where}`);
  await page.keyboard.press("Enter");
  await box.waitFor({ state: "hidden", timeout: 15_000 });
}

describe("structural diagnostics", () => {
  let session: VsCodeSession;
  let workspace: string;
  const solution = humanEvalSolution(TASK_ID);

  before(async () => {
    workspace = demoWorkspaceCopy();
    // The user's work in progress: the task file already holds a solution (the reference's), which
    // "Open Task in Editor" opens as it is.
    const taskDir = join(workspace, ".codistill", "tasks", "humaneval");
    mkdirSync(taskDir, { recursive: true });
    writeFileSync(join(taskDir, "HumanEval_0.py"), solution);
    // For "Compare Structure With…": a reference and an attempt that lost the reference's branch.
    mkdirSync(join(workspace, "scratch"), { recursive: true });
    writeFileSync(join(workspace, "scratch", "solution.py"), solution);
    writeFileSync(join(workspace, "scratch", "attempt.py"), solution.replace(/            if idx != idx2:\n                distance = abs\(elem - elem2\)\n                if distance < threshold:\n                    return True\n/, "            return abs(elem - elem2) < threshold\n"));
    makeTinyModel(workspace, "--encoder", join(workspace, "models", "tiny-encoder"));
    editConfig(workspace, (config) => config.setIn(["encoder", "model"], "./models/tiny-encoder"));
    session = await startTrusted(workspace, { "codistill.pythonPath": PYTHON });
  });

  after(() => stopAndRemove(session, workspace));

  it("deleting the loop of a task's solution brings a diagnostic and a Code Lens with the scores", async () => {
    const { page } = session;
    await runCommand(session, "Codistill: Open Dataset…");
    const input = page.locator(".quick-input-widget input.input");
    await input.fill("humaneval");
    await page.locator(".quick-input-widget .monaco-list-row").filter({ has: page.locator(".label-name", { hasText: /^humaneval$/ }) }).first().click();
    const frame = await webviewFrame(session, "Codistill Datasets: humaneval");
    await frame.locator(`[data-testid="task-row"][data-id="${TASK_ID}"]`).click({ timeout: 60_000 });
    await frame.locator('[data-testid="detail-id"]', { hasText: TASK_ID }).waitFor({ timeout: 20_000 });
    await frame.locator('[data-testid="open-in-editor"]').click();
    await page.locator(".tabs-container .tab", { hasText: `${TASK_ID}: reference solution ↔ task` }).waitFor({ timeout: 20_000 });

    // Lines 12-17 (1-based) are the two nested loops; the function keeps `return False`.
    const lines = solution.split("\n");
    const loopLine = lines.findIndex((l) => l.startsWith("    for idx, elem")) + 1;
    const loopEnd = lines.findIndex((l) => l.includes("return True")) + 1;
    const modified = page.locator(".monaco-diff-editor .editor.modified .view-lines");
    await modified.click();
    await goToLine(session, String(loopLine));
    for (let i = loopLine; i <= loopEnd; i++) await page.keyboard.press("Control+Shift+K");
    await modified.filter({ hasNotText: "for idx" }).waitFor({ timeout: 15_000 });
    await page.keyboard.press("Control+S");
    const taskFile = join(workspace, ".codistill", "tasks", "humaneval", "HumanEval_0.py");
    const saved = Date.now() + 10_000;
    while (readFileSync(taskFile, "utf8").includes("for idx") && Date.now() < saved) await new Promise((r) => setTimeout(r, 200));
    const onDisk = readFileSync(taskFile, "utf8");
    assert.ok(!onDisk.includes("for idx") && onDisk.includes("return False"), `the loop is gone from the saved file:\n${onDisk}`);

    await runCommand(session, "View: Focus Problems (Errors, Warnings, Infos)");
    const problem = page.locator(".markers-panel .monaco-list-row", { hasText: "differs in structure from the reference" });
    await problem.first().waitFor({ timeout: 30_000 });
    const text = await page.locator(".markers-panel").innerText();
    assert.match(text, /`has_close_elements` differs in structure from the reference: syntax 0\.\d\d · dataflow \d\.\d\d/);
    assert.match(text, /the reference loops inside `has_close_elements`; this version has no loop/);
    await screenshot(session, "structure-problems-view");

    // Code Lenses show in a plain editor (VS Code hides them in diff editors by default).
    await page.locator(".explorer-folders-view .monaco-list-row", { hasText: "HumanEval_0.py" }).dblclick();
    await page.locator(".tabs-container .tab.active", { hasText: "HumanEval_0.py" }).waitFor({ timeout: 20_000 });
    const lens = page.locator(".editor-instance .codelens-decoration", { hasText: "Structure vs reference:" });
    await lens.first().waitFor({ timeout: 30_000 });
    assert.match(await lens.first().innerText(), /^Structure vs reference: syntax 0\.\d\d · dataflow \d\.\d\d/);
    await screenshot(session, "structure-code-lens");
  });

  it("exports the workspace's encoder to ONNX, and the Code Lens adds the encoder cosine", async () => {
    const { page } = session;
    await runCommand(session, "Codistill: Export Encoder to ONNX");
    await page.locator(".quick-input-widget .monaco-list-row", { hasText: "int8" }).first().click({ timeout: 15_000 });
    await waitForNotification(session, /Encoder exported to .*tiny-encoder/, { timeoutMs: 180_000 });
    assert.ok(existsSync(join(workspace, ".codistill", "encoders", "tiny-encoder", "model.onnx")));
    const lens = page.locator(".editor-instance .codelens-decoration", { hasText: "encoder" });
    await lens.first().waitFor({ timeout: 30_000 });
    assert.match(await lens.first().innerText(), /^Structure vs reference: syntax 0\.\d\d · dataflow \d\.\d\d · encoder -?[01]\.\d{3}$/);
    await screenshot(session, "structure-code-lens-encoder");
  });

  it("compares a file with the selection in another editor, and the quick fix shows the reference beside it", async () => {
    const { page } = session;
    const attempt = readFileSync(join(workspace, "scratch", "attempt.py"), "utf8");
    assert.ok(!attempt.includes("if idx"), "the attempt has no branch");
    const explorerRow = (name: string) => page.locator(".explorer-folders-view .monaco-list-row", { hasText: name });
    if (!(await explorerRow("solution.py").isVisible())) await explorerRow("scratch").click();
    await explorerRow("solution.py").dblclick();
    await page.locator(".tabs-container .tab.active", { hasText: "solution.py" }).waitFor({ timeout: 20_000 });
    // The selection starts at the function (line 4): related locations must still be the file's lines.
    await page.locator(".editor-instance .view-lines").first().click();
    await goToLine(session, "4");
    await page.keyboard.press("Shift+Control+End");
    await runCommand(session, "View: Split Editor Right");
    await explorerRow("attempt.py").dblclick();
    await page.locator(".tabs-container .tab.active", { hasText: "attempt.py" }).waitFor({ timeout: 20_000 });

    await runCommand(session, "Codistill: Compare Structure With…");
    await page.locator(".quick-input-widget .monaco-list-row", { hasText: "The selection in solution.py" }).click({ timeout: 15_000 });

    await runCommand(session, "View: Focus Problems (Errors, Warnings, Infos)");
    await page.locator(".markers-panel .monaco-list-row", { hasText: "the reference branches (if) inside `has_close_elements`; this version has no condition" }).first().waitFor({ timeout: 30_000 });
    const branchLine = solution.split("\n").findIndex((l) => l.includes("if idx != idx2")) + 1;
    await page.locator(".markers-panel .monaco-list-row", { hasText: `solution.py[Ln ${branchLine}, Col 13]` }).first().waitFor({ timeout: 10_000 });
    await screenshot(session, "structure-compare-with-selection");

    // The quick fix, from the diagnostic's line in the attempt.
    await explorerRow("attempt.py").dblclick();
    await page.locator(".tabs-container .tab.active", { hasText: "attempt.py" }).waitFor({ timeout: 20_000 });
    await goToLine(session, "4:10");
    await page.keyboard.press("Control+.");
    await page.locator(".action-widget", { hasText: "Show Reference Side by Side" }).waitFor({ timeout: 15_000 });
    await screenshot(session, "structure-quick-fix");
    await page.keyboard.press("Enter");
    await page.locator(".tabs-container .tab.active", { hasText: "the selection in solution.py ↔ attempt.py" }).waitFor({ timeout: 20_000 });
    await screenshot(session, "structure-quick-fix-side-by-side");
  });
});
