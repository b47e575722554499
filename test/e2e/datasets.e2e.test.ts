// The Dataset Browser in a real VS Code: open the shared HumanEval file, search, open a task,
// open it in the editor; a broken file shows what was rejected and why; code drawn as the editor
// draws it in light, dark and high contrast themes; the filters each dataset has; the activity
// bar's Codistill icon.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { FrameLocator } from "playwright-core";
import { repoRoot, runCommand, screenshot, webviewFrame, type VsCodeSession } from "./harness";
import { DATA, demoWorkspaceCopy, editConfig, startTrusted, stopAndRemove } from "./workspace";

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

/** Switches the color theme with "Preferences: Color Theme" (`label`: as the picker names it), and waits until the workbench wears it. */
async function setColorTheme(session: VsCodeSession, label: string, workbenchClass: string): Promise<void> {
  await runCommand(session, "Preferences: Color Theme");
  await pickInQuickOpen(session, label);
  await session.page.locator(`.monaco-workbench.${workbenchClass}`).waitFor({ timeout: 20_000 });
}

/** A PNG of one element to <repo>/test-results/<name>.png. */
async function elementShot(session: VsCodeSession, selector: string, name: string): Promise<string> {
  const dir = join(repoRoot(), "test-results");
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  await session.page.locator(selector).first().screenshot({ path, timeout: 15_000 });
  return path;
}

/** Computed styles of the code blocks of the task shown: what the editor-like look depends on. */
async function codeStyles(frame: FrameLocator) {
  return frame.locator('[data-testid="detail-prompt"] pre.dsb-code > code').evaluate((code) => {
    const solution = document.querySelector('[data-testid="solution-code"] > code');
    const keyword = [...code.querySelectorAll(".hljs-keyword")].find((k) => k.textContent === "def");
    const control = [...document.querySelectorAll('[data-testid="solution-code"] .hljs-keyword')].find((k) => k.textContent === "return");
    const string = code.querySelector(".hljs-string");
    return {
      body: document.body.className,
      codeBackground: getComputedStyle(code).backgroundColor,
      codeDisplay: getComputedStyle(code).display,
      solutionBackground: solution ? getComputedStyle(solution).backgroundColor : "(none)",
      firstText: (code.firstChild?.textContent ?? "").slice(0, 20),
      text: code.textContent ?? "",
      keyword: keyword ? getComputedStyle(keyword).color : "(none)",
      control: control ? getComputedStyle(control).color : "(none)",
      string: string ? getComputedStyle(string).color : "(none)",
      foreground: getComputedStyle(code).color,
    };
  });
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
    // TACO rows with difficulties and tags, as the real TACO has (the fixture's have neither).
    const tagged = join(workspace, "taco-tagged.jsonl");
    const difficulties = ["EASY", "MEDIUM", "HARD", "MEDIUM_HARD"];
    const tags = [["Math"], ["Greedy algorithms", "Sorting"], ["Math", "Dynamic programming"], []];
    const taco = readFileSync(join(repoRoot(), "test", "fixtures", "datasets", "taco-fixture.jsonl"), "utf8").trim().split("\n");
    writeFileSync(tagged, taco.map((line, i) => JSON.stringify({ ...JSON.parse(line), difficulty: difficulties[i % 4], skill_types: tags[i % 4] })).join("\n") + "\n");
    editConfig(workspace, (doc) => {
      doc.addIn(["datasets"], { name: "taco", path: tagged, format: "taco" });
    });
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
  it("shows HumanEval's source filter only, and titles from the prompt's first sentence", async () => {
    const frame = await openDataset(session, "humaneval");
    await frame.locator('[data-testid="search"]').fill("reverse_delete");
    const row = frame.locator('[data-testid="task-row"][data-id="HumanEval/112"]');
    await row.waitFor({ timeout: 10_000 });
    // Its docstring starts with "Task": the title is the sentence after it.
    const title = (await row.locator(".dsb-row-title").innerText()).trim();
    assert.match(title, /^We are given two strings s and c/);
    // The source, always; HumanEval has no difficulty and no tags, so no such filters.
    await frame.locator('[data-testid="facet-sources"]').waitFor();
    assert.match(await frame.locator('[data-testid="facet-sources"]').innerText(), /Source/);
    assert.equal(await frame.locator('[data-testid="facet-difficulties"]').count(), 0);
    assert.equal(await frame.locator('[data-testid="facet-tags"]').count(), 0);
    await frame.locator('[data-testid="facet-sources"] summary').click();
    await frame.locator('[data-testid="facet-sources"] [data-testid="facet-option"][data-value="humaneval"]').waitFor();
    await row.click();
    await frame.locator('[data-testid="detail-id"]', { hasText: "HumanEval/112" }).waitFor({ timeout: 10_000 });
    await screenshot(session, "datasets-humaneval-filters-and-title");
  });

  it("draws code as the editor does in light, dark and high contrast themes", async () => {
    const frame = await webviewFrame(session, "Codistill Datasets: humaneval");
    await frame.locator('[data-testid="detail-id"]', { hasText: "HumanEval/112" }).waitFor({ timeout: 20_000 });
    const themes = [
      { theme: "Light Modern", workbench: "vs", body: "vscode-light", keyword: "rgb(0, 0, 255)", control: "rgb(175, 0, 219)", string: "rgb(163, 21, 21)" },
      { theme: "Dark Modern", workbench: "vs-dark", body: "vscode-dark", keyword: "rgb(86, 156, 214)", control: "rgb(197, 134, 192)", string: "rgb(206, 145, 120)" },
      { theme: "Dark High Contrast", workbench: "hc-black", body: "vscode-high-contrast", keyword: "rgb(86, 156, 214)", control: "rgb(197, 134, 192)", string: "rgb(206, 145, 120)" },
    ];
    for (const t of themes) {
      await setColorTheme(session, t.theme, t.workbench);
      await frame.locator(`body.${t.body}`).waitFor({ timeout: 20_000 });
      const styles = await codeStyles(frame);
      // No band behind each line: the <code> inside the block has no background of its own.
      assert.equal(styles.codeBackground, "rgba(0, 0, 0, 0)", `${t.theme}: code background`);
      assert.equal(styles.solutionBackground, "rgba(0, 0, 0, 0)", `${t.theme}: solution code background`);
      assert.equal(styles.codeDisplay, "block");
      // The problem block starts with its code, not with the blank lines HumanEval's prompt has.
      assert.doesNotMatch(styles.text, /^\s/, `${t.theme}: the problem block starts with ${JSON.stringify(styles.firstText)}`);
      assert.match(styles.text, /^def reverse_delete\(s,c\):/);
      // Token colors of the theme's Python: `def`, `return` and strings as the editor colors them.
      assert.equal(styles.keyword, t.keyword, `${t.theme}: def`);
      assert.equal(styles.control, t.control, `${t.theme}: return`);
      assert.equal(styles.string, t.string, `${t.theme}: docstring`);
      assert.notEqual(styles.foreground, styles.keyword);
      await frame.locator('[data-testid="detail-tests"]').scrollIntoViewIfNeeded();
      await frame.locator('[data-testid="detail-problem"]').scrollIntoViewIfNeeded();
      await screenshot(session, `datasets-code-${t.workbench}`);
    }
    await setColorTheme(session, "Light Modern", "vs");
  });

  it("shows TACO's difficulty and tag filters", async () => {
    const frame = await openDataset(session, "taco");
    await frame.locator('[data-testid="facet-sources"]').waitFor();
    await frame.locator('[data-testid="facet-difficulties"]').waitFor();
    await frame.locator('[data-testid="facet-tags"]').waitFor();
    await frame.locator('[data-testid="facet-difficulties"] summary').click();
    await frame.locator('[data-testid="facet-tags"] summary').click();
    const difficulties = await frame.locator('[data-testid="facet-difficulties"] [data-testid="facet-option"]').evaluateAll((boxes) => boxes.map((b) => (b as HTMLElement).dataset.value));
    assert.deepEqual([...difficulties].sort(), ["EASY", "HARD", "MEDIUM", "MEDIUM_HARD"]);
    const tags = await frame.locator('[data-testid="facet-tags"] [data-testid="facet-option"]').evaluateAll((boxes) => boxes.map((b) => (b as HTMLElement).dataset.value));
    assert.ok(tags.includes("Math") && tags.includes("Sorting"), `tags: ${tags.join(", ")}`);
    // Filtering by a tag narrows the list.
    await frame.locator('[data-testid="facet-tags"] [data-testid="facet-option"][data-value="Sorting"]').click();
    await frame.locator('[data-testid="matched"]', { hasText: /^\D*3\D/ }).waitFor({ timeout: 10_000 });
    await screenshot(session, "datasets-taco-filters");
  });

  it("has its own icon in the activity bar, not the Testing view's flask", async () => {
    const item = session.page.locator('.part.activitybar .action-item .action-label[aria-label^="Codistill"]').first();
    await item.waitFor({ timeout: 15_000 });
    const mask = await item.evaluate((el) => {
      const style = getComputedStyle(el);
      return `${style.webkitMaskImage} ${style.maskImage} ${style.backgroundImage}`;
    });
    assert.match(mask, /codistill-distil\.svg/);
    await elementShot(session, ".part.activitybar", "datasets-activity-bar-light");
    await setColorTheme(session, "Dark Modern", "vs-dark");
    await elementShot(session, ".part.activitybar", "datasets-activity-bar-dark");
    await setColorTheme(session, "Dark High Contrast", "hc-black");
    await elementShot(session, ".part.activitybar", "datasets-activity-bar-hc");
  });
});
