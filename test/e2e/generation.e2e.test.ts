// Code generation in a real VS Code: a HumanEval task opened from the Dataset Browser, the
// cursor under its docstring, "Codistill: Generate Code". The student is the tiny random model
// after it learned one answer by heart (test/fixtures/memorize_student.py): a reasoning comment
// block and HumanEval/0's canonical solution. With no export yet, the message offers the fix; its
// button exports the run's student through the sidecar (export/onnx), and the next Generate Code
// streams the code into the editor as one undoable edit, with the reasoning beside it and the
// structural diagnostics against the task's reference. With codistill.generation.samples = 3 at
// temperature 1 (the student knows one answer only, so its samples stray far), the consensus
// picks a candidate and marks where the candidates disagree.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { execFileSync } from "node:child_process";
import { repoRoot, runCommand, screenshot, waitForNotification, waitForStatusBarText, webviewFrame, type VsCodeSession } from "./harness";
import { DATA, PYTHON, demoWorkspaceCopy, makeTinyModel, startTrusted, stopAndRemove } from "./workspace";

const TASK_ID = "HumanEval/0";
const RUN_ID = "20261205-000000-tiny-r4";
const REASONING = [
  "    # Intent: Tell whether two numbers of the list are closer than the threshold.",
  "    # Steps:",
  "    # 1. Compare every pair of distinct positions.",
  "    # 2. Return True at the first pair closer than the threshold.",
  "    # Edge cases:",
  "    # - An empty list has no pairs.",
  "",
].join("\n");

function humanEval(taskId: string): { prompt: string; solution: string } {
  const rows = readFileSync(join(DATA, "humaneval", "HumanEval.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { task_id: string; prompt: string; canonical_solution: string });
  const row = rows.find((r) => r.task_id === taskId)!;
  return { prompt: row.prompt, solution: row.canonical_solution };
}

async function waitForFile(file: string, ok: (text: string) => boolean, what: string, timeoutMs = 15_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const text = existsSync(file) ? readFileSync(file, "utf8") : "";
    if (ok(text)) return text;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; ${file} holds:\n${text}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Replaces the workspace's settings and gives VS Code a moment to read them again. */
async function workspaceSettings(workspace: string, settings: Record<string, unknown>): Promise<void> {
  writeFileSync(join(workspace, ".vscode", "settings.json"), JSON.stringify(settings, null, 2));
  await new Promise((r) => setTimeout(r, 3000));
}

describe("Generate Code", () => {
  let session: VsCodeSession;
  let workspace: string;
  let taskFile: string;
  let prompt: string;

  before(async () => {
    workspace = demoWorkspaceCopy();
    const run = join(workspace, ".codistill", "runs", RUN_ID);
    mkdirSync(run, { recursive: true });
    makeTinyModel(workspace);
    const task = humanEval(TASK_ID);
    writeFileSync(join(workspace, "prompt.txt"), task.prompt);
    writeFileSync(join(workspace, "answer.txt"), REASONING + task.solution);
    const model = join(workspace, "models", "tiny");
    execFileSync(PYTHON, [join(repoRoot(), "test", "fixtures", "memorize_student.py"), model, "--prompt-file", join(workspace, "prompt.txt"), "--answer-file", join(workspace, "answer.txt"), "--adapter", join(run, "adapter")], { stdio: "inherit" });
    mkdirSync(join(workspace, "scratch"), { recursive: true });
    writeFileSync(join(workspace, "scratch", "close.py"), task.prompt);
    // Present from the start, so VS Code watches it and sees the tests' changes to it.
    mkdirSync(join(workspace, ".vscode"));
    writeFileSync(join(workspace, ".vscode", "settings.json"), "{}\n");
    // As training writes it: the adapter names its base model's folder.
    const adapterConfig = join(run, "adapter", "adapter_config.json");
    writeFileSync(adapterConfig, JSON.stringify({ ...JSON.parse(readFileSync(adapterConfig, "utf8")), base_model_name_or_path: join(workspace, "models", "tiny") }, null, 2));
    taskFile = join(workspace, ".codistill", "tasks", "humaneval", "HumanEval_0.py");
    session = await startTrusted(workspace, { "codistill.pythonPath": PYTHON });
  });

  after(() => stopAndRemove(session, workspace));

  it("offers the export when the run has none, then streams the student's code in as one undoable edit", async () => {
    const { page } = session;
    await runCommand(session, "Codistill: Open Dataset…");
    await page.locator(".quick-input-widget input.input").fill("humaneval");
    await page.locator(".quick-input-widget .monaco-list-row").filter({ has: page.locator(".label-name", { hasText: /^humaneval$/ }) }).first().click();
    const frame = await webviewFrame(session, "Codistill Datasets: humaneval");
    await frame.locator(`[data-testid="task-row"][data-id="${TASK_ID}"]`).click({ timeout: 60_000 });
    await frame.locator('[data-testid="detail-id"]', { hasText: TASK_ID }).waitFor({ timeout: 20_000 });
    await frame.locator('[data-testid="open-in-editor"]').click();
    await page.locator(".tabs-container .tab", { hasText: `${TASK_ID}: reference solution ↔ task` }).waitFor({ timeout: 20_000 });
    prompt = await waitForFile(taskFile, (t) => t.includes('"""'), "the task file");

    const modified = page.locator(".monaco-diff-editor .editor.modified .view-lines:not(.line-delete)");
    await modified.click();
    await page.keyboard.press("Control+End");
    await runCommand(session, "Codistill: Generate Code");
    const missing = page.locator(".notifications-toasts .notification-toast", { hasText: `${RUN_ID}, has no ONNX export yet` });
    await missing.waitFor({ timeout: 30_000 });
    await screenshot(session, "generate-no-export");
    await missing.locator(".monaco-button", { hasText: "Export Student to ONNX" }).click();
    await waitForNotification(session, /Exported .* to .*onnx/, { timeoutMs: 300_000 });
    assert.ok(existsSync(join(workspace, ".codistill", "runs", RUN_ID, "onnx", "export.json")), "the run's student is exported into its onnx/ folder");

    await modified.click();
    await page.keyboard.press("Control+End");
    await runCommand(session, "Codistill: Generate Code");
    const done = await waitForStatusBarText(session, "Codistill: Generated", /tokens\/s/, { timeoutMs: 120_000 });
    assert.match(done, /Codistill: Generated: \d+ tokens, first after \d+ ms, [\d.]+ tokens\/s \(onnx: .*onnx\)/);
    await page.locator(".tabs-container .tab", { hasText: "HumanEval_0.py.reasoning.md" }).waitFor({ timeout: 30_000 });
    // The reasoning beside the editor, without its comment markers.
    const reasoningView = page.locator(".editor-instance .view-lines", { hasText: "An empty list has no pairs." });
    await reasoningView.first().waitFor({ timeout: 15_000 });
    // Monaco draws spaces as no-break spaces and wraps long lines: compare the words.
    const shown = (await reasoningView.first().innerText()).replace(/\s+/g, " ");
    assert.ok(
      shown.includes("Intent: Tell whether two numbers of the list are closer than the threshold. Steps: 1. Compare every pair of distinct positions. 2. Return True at the first pair closer than the threshold. Edge cases: - An empty list has no pairs."),
      `the reasoning view shows the student's reasoning: ${shown}`,
    );
    await screenshot(session, "generate-code-inserted");

    await modified.click();
    await page.keyboard.press("Control+S");
    const generated = await waitForFile(taskFile, (t) => t.length > prompt.length, "the generated code saved");
    assert.equal(generated, prompt + humanEval(TASK_ID).solution, "the code goes under the docstring, the reasoning does not");

    // The task's reference is known: the structure diagnostics run on what was inserted (a plain
    // editor shows their Code Lens; VS Code hides lenses in diff editors).
    await page.locator(".explorer-folders-view .monaco-list-row", { hasText: "HumanEval_0.py" }).dblclick();
    await page.locator(".tabs-container .tab.active", { hasText: "HumanEval_0.py", hasNotText: "reasoning" }).waitFor({ timeout: 20_000 });
    const lens = page.locator(".editor-instance .codelens-decoration", { hasText: "Structure vs reference:" });
    await lens.first().waitFor({ timeout: 30_000 });
    assert.match(await lens.first().innerText(), /^Structure vs reference: syntax 1\.00 · dataflow 1\.00/);
    await screenshot(session, "generate-code-structure");

    // One Undo takes the whole answer back: it was one edit, however many pieces streamed in.
    await page.locator(".editor-instance .view-lines", { hasText: "has_close_elements" }).last().click();
    await page.keyboard.press("Control+Z");
    await page.keyboard.press("Control+S");
    await waitForFile(taskFile, (t) => t === prompt, "one Undo to take the whole answer back");
  });

  it("puts the reasoning above the code when the setting says so, and offers the code as an inline completion", async () => {
    const { page } = session;
    const scratch = join(workspace, "scratch", "close.py");
    const { prompt: taskPrompt, solution } = humanEval(TASK_ID);
    await workspaceSettings(workspace, { "codistill.generation.reasoning": "comment", "codistill.generation.inlineCompletion": true });
    const explorerRow = (name: string) => page.locator(".explorer-folders-view .monaco-list-row", { hasText: name });
    if (!(await explorerRow("close.py").isVisible())) await explorerRow("scratch").click();
    await explorerRow("close.py").dblclick();
    await page.locator(".tabs-container .tab.active", { hasText: "close.py", hasNotText: "reasoning" }).waitFor({ timeout: 20_000 });
    const editor = page.locator(".editor-instance .view-lines", { hasText: "has_close_elements" }).last();
    await editor.click();
    await page.keyboard.press("Control+End");
    await runCommand(session, "Codistill: Generate Code");
    // Saved once the answer is complete: VS Code puts an undo stop at every save.
    await page.locator(".editor-instance .view-lines", { hasText: "An empty list has no pairs." }).filter({ hasText: "return False" }).waitFor({ timeout: 60_000 });
    await page.keyboard.press("Control+S");
    await waitForFile(scratch, (t) => t === taskPrompt + REASONING + solution, "the reasoning as comments above the code");
    await screenshot(session, "generate-code-reasoning-comment");
    await page.keyboard.press("Control+Z");
    await page.keyboard.press("Control+S");
    await waitForFile(scratch, (t) => t === taskPrompt, "one Undo to take the answer back");

    // The same student as ghost text on the empty line under the docstring; Tab accepts it.
    await editor.click();
    await page.keyboard.press("Control+End");
    await runCommand(session, "Trigger Inline Suggestion");
    // Monaco draws ghost text as syntax-highlighted spans, one per token.
    const ghostText = () => page.locator('.editor-instance [class*="ghost-text"]').evaluateAll((els) => els.map((e) => e.textContent ?? "").join("").replace(/\s+/g, " "));
    const ghostDeadline = Date.now() + 60_000;
    while (!(await ghostText()).includes("for idx2, elem2 in enumerate(numbers): if idx != idx2:")) {
      if (Date.now() > ghostDeadline) throw new Error(`no ghost text with the student's code; shown: ${await ghostText()}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.ok(!(await ghostText()).includes("Intent:"), "the reasoning is left out of the ghost text");
    await screenshot(session, "generate-code-inline-completion");
    // The completion starts with the body's indentation: on an empty line, VS Code's first Tab
    // indents up to it, and the next one accepts.
    let tabs = 0;
    for (; tabs < 3 && (await ghostText()).includes("return False"); tabs++) {
      await page.keyboard.press("Tab");
      await new Promise((r) => setTimeout(r, 500));
    }
    await page.keyboard.press("Control+S");
    await waitForFile(scratch, (t) => t === taskPrompt + solution.trimEnd(), "the accepted inline completion, without the reasoning");
    for (let i = 0; i < tabs; i++) await page.keyboard.press("Control+Z");
    await page.keyboard.press("Control+S");
    await waitForFile(scratch, (t) => t === taskPrompt, "the file back to its prompt");
  });

  it("with three candidates, inserts the consensus and marks the lines where they disagree", async () => {
    const { page } = session;
    await workspaceSettings(workspace, { "codistill.generation.samples": 3, "codistill.generation.temperature": 1.0, "codistill.generation.topP": 1, "codistill.generation.maxNewTokens": 300 });
    const explorerRow = (name: string) => page.locator(".explorer-folders-view .monaco-list-row", { hasText: name });
    if (!(await explorerRow("close.py").isVisible())) await explorerRow("scratch").click();
    await explorerRow("close.py").dblclick();
    await page.locator(".tabs-container .tab.active", { hasText: "close.py", hasNotText: "reasoning" }).waitFor({ timeout: 20_000 });
    await page.locator(".editor-instance .view-lines", { hasText: "has_close_elements" }).last().click();
    await page.keyboard.press("Control+End");
    await runCommand(session, "Codistill: Generate Code");
    await runCommand(session, "View: Focus Problems (Errors, Warnings, Infos)");
    const disagreement = page.locator(".markers-panel .monaco-list-row", { hasText: "The candidates disagree here" });
    await disagreement.first().waitFor({ timeout: 180_000 });
    assert.match(await page.locator(".markers-panel").innerText(), /The candidates disagree here: [01] of the other 2 candidates have this line's structure \(3 generated\)/);
    await page.locator(".tabs-container .tab", { hasText: /close\.py\.reasoning\.md/ }).waitFor({ timeout: 15_000 });
    await screenshot(session, "generate-code-consensus");
  });
});
