// The Runs view in a real VS Code: two training runs (a finished one with a real LoRA adapter of a
// tiny random student, and a stopped one with a checkpoint, laid out as the sidecar writes them:
// manifest.json, metrics.jsonl, checkpoints/, adapter/, data/, and the extension's run.json with
// the run's name) and the base model's evaluation folder. The view groups training runs apart
// from evaluations, newest first, labelled by name; a click opens the Training panel on the run;
// the context menu offers Resume, Evaluate, Reveal Folder and Delete, and Delete asks first.
import assert from "node:assert/strict";
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Locator } from "playwright-core";
import { METRIC_KEYS } from "../../src/core/training/runs";
import { runCommand, screenshot, webviewFrame, type VsCodeSession } from "./harness";
import { PYTHON, demoWorkspaceCopy, editConfig, makeTinyModel, startTrusted, stopAndRemove } from "./workspace";

const FINISHED = { id: "20261126-100000-demo", name: "tiny humaneval-cots 10:00", createdAt: "2026-11-26T10:00:00.000Z" };
const STOPPED = { id: "20261125-090000-demo", name: "tiny sft 09:00", createdAt: "2026-11-25T09:00:00.000Z" };
const BASE = "base-tiny";

const metricsLine = (step: number, total: number) =>
  JSON.stringify({ ...Object.fromEntries(METRIC_KEYS.map((k) => [k, null])), step, total_steps: total, epoch: step / total, loss: 2 - step / 10, ce: 2 - step / 10, lr: 2e-4, alpha: 1, beta: 0 });

/** A run folder as a training run leaves it: run.json (the extension's), manifest, metrics, data, checkpoints. */
function writeRun(runs: string, run: typeof FINISHED, state: "finished" | "stopped", steps: number, total: number, checkpoints: number[]): string {
  const dir = join(runs, run.id);
  mkdirSync(join(dir, "data"), { recursive: true });
  writeFileSync(join(dir, "run.json"), `${JSON.stringify({ name: run.name, createdAt: run.createdAt }, null, 2)}\n`);
  writeFileSync(join(dir, "data", "humaneval.tasks.jsonl"), "");
  writeFileSync(join(dir, "metrics.jsonl"), Array.from({ length: steps }, (_, i) => `${metricsLine(i + 1, total)}\n`).join(""));
  writeFileSync(join(dir, "manifest.json"), JSON.stringify({ runId: run.id, createdAt: run.createdAt, updatedAt: run.createdAt, state, step: steps, totalSteps: total, config: { output_dir: dir } }, null, 2));
  for (const step of checkpoints) cpSync(join(runs, "adapter-template"), join(dir, "checkpoints", `step-${step}`), { recursive: true });
  return dir;
}

describe("the Runs view", () => {
  let session: VsCodeSession;
  let workspace: string;
  let runs: string;

  before(async () => {
    workspace = demoWorkspaceCopy();
    runs = join(workspace, ".codistill", "runs");
    // One real adapter of the tiny student: the finished run's, and each checkpoint's copy.
    makeTinyModel(workspace, "--adapter", join(runs, "adapter-template"));
    const finished = writeRun(runs, FINISHED, "finished", 4, 4, [2, 4]);
    cpSync(join(runs, "adapter-template"), join(finished, "adapter"), { recursive: true });
    writeRun(runs, STOPPED, "stopped", 2, 8, [2]);
    // The base model's evaluation: what the Evaluation panel writes for it, without a run of its own.
    mkdirSync(join(runs, BASE, "eval", "humaneval"), { recursive: true });
    writeFileSync(join(runs, BASE, "eval", "humaneval", "tasks.jsonl"), "");
    rmSync(join(runs, "adapter-template"), { recursive: true, force: true });
    editConfig(workspace, (config) => config.setIn(["student", "model"], "./models/tiny"));
    session = await startTrusted(workspace, { "codistill.pythonPath": PYTHON });
  });

  after(() => stopAndRemove(session, workspace));

  const sidebarRows = () => session.page.locator(".part.sidebar .monaco-list-row");
  const row = (text: string) => sidebarRows().filter({ hasText: text }).first();
  const squash = (t: string) => t.replace(/\s+/g, " ").trim();
  /** A row's label and description are separate elements: compare without whitespace. */
  const bare = (t: string) => t.replace(/\s+/g, "");

  /** Runs a context menu item the way a user picks it: pointing at it, then Enter. */
  async function pick(menu: Locator, item: string): Promise<void> {
    await menu.locator(".action-item", { hasText: item }).first().hover();
    await session.page.keyboard.press("Enter");
    await menu.waitFor({ state: "hidden", timeout: 10_000 });
  }

  /**
   * Clicks a row once the tree is settled: while the datasets are being counted the tree refreshes,
   * and a click on a row drawn before a refresh runs a command VS Code has already dropped.
   */
  async function clickRow(text: string): Promise<void> {
    await session.page.locator(".part.sidebar .monaco-list-row", { hasText: "indexing" }).first().waitFor({ state: "detached", timeout: 120_000 });
    await row(text).click();
  }

  /** The context menu of a row: its items' labels. */
  async function contextMenu(target: Locator): Promise<{ items: string[]; menu: Locator }> {
    await target.click({ button: "right" });
    const menu = session.page.locator(".context-view .monaco-menu").first();
    await menu.waitFor({ timeout: 10_000 });
    const items = (await menu.locator(".action-item:not(.disabled) .action-label").allInnerTexts()).map(squash).filter(Boolean);
    return { items, menu };
  }

  it("groups training runs apart from evaluations, newest first, by name", async () => {
    await runCommand(session, "Codistill: Focus on Explorer View");
    await row(FINISHED.name).waitFor({ timeout: 30_000 });
    await row(BASE).waitFor({ timeout: 30_000 });
    const texts = (await sidebarRows().allInnerTexts()).map(squash);
    const at = (prefix: string) => {
      const i = texts.findIndex((t) => t.startsWith(prefix));
      assert.ok(i >= 0, `no row "${prefix}" in ${JSON.stringify(texts)}`);
      return i;
    };
    const order = ["Runs", "Training runs", FINISHED.name, STOPPED.name, "Evaluations", BASE].map(at);
    assert.deepEqual([...order].sort((a, b) => a - b), order, `rows: ${JSON.stringify(texts)}`);
    assert.equal(order[5], order[4] + 1, "the base model's evaluation is the only evaluation");
    // The label is the name; the timestamp id and the state follow in the description.
    assert.equal(bare(texts[order[2]]!), bare(`${FINISHED.name} ${FINISHED.id} · finished at step 4/4, 2 checkpoint(s)`));
    assert.equal(bare(texts[order[3]]!), bare(`${STOPPED.name} ${STOPPED.id} · stopped at step 2/8, 1 checkpoint(s)`));
    await screenshot(session, "runs-view-groups");
  });

  it("opens the Training panel on a clicked training run, its row selected and charted", async () => {
    await clickRow(FINISHED.name);
    const frame = await webviewFrame(session, "Codistill Training");
    const selected = frame.locator('[data-testid="selected-run"]');
    await selected.waitFor({ timeout: 60_000 });
    assert.match(await selected.innerText(), new RegExp(`Showing ${FINISHED.name} \\(${FINISHED.id}\\): finished at step 4/4; checkpoints: step-2, step-4`));
    const selectedRow = frame.locator(`[data-testid="run-row"][data-run="${FINISHED.id}"]`);
    assert.equal(await selectedRow.getAttribute("aria-selected"), "true");
    assert.equal(await selectedRow.locator('[data-testid="run-name"]').innerText(), FINISHED.name);
    assert.equal(await frame.locator('[data-testid="run-row"] [data-testid="run-name"]').allInnerTexts().then((t) => t.join("|")), `${FINISHED.name}|${STOPPED.name}`);
    await screenshot(session, "runs-view-training-panel");

    // The other run, clicked next: the same panel follows it.
    await clickRow(STOPPED.name);
    await frame.locator('[data-testid="selected-run"]', { hasText: STOPPED.name }).waitFor({ timeout: 30_000 });
    assert.equal(await frame.locator(`[data-testid="run-row"][data-run="${STOPPED.id}"]`).getAttribute("aria-selected"), "true");
  });

  it("offers Resume, Evaluate, Reveal Folder and Delete; Evaluate selects the run's model", async () => {
    const stopped = await contextMenu(row(STOPPED.name));
    for (const item of ["Resume", "Evaluate", "Reveal Folder", "Delete"]) assert.ok(stopped.items.includes(item), `${item} in ${JSON.stringify(stopped.items)}`);
    await screenshot(session, "runs-view-context-menu");
    await session.page.keyboard.press("Escape");
    const finished = await contextMenu(row(FINISHED.name));
    assert.ok(!finished.items.includes("Resume"), `a finished run does not resume: ${JSON.stringify(finished.items)}`);
    for (const item of ["Evaluate", "Reveal Folder", "Delete"]) assert.ok(finished.items.includes(item), `${item} in ${JSON.stringify(finished.items)}`);
    await pick(finished.menu, "Evaluate");
    const frame = await webviewFrame(session, "Codistill Evaluation");
    const adapterBox = frame.locator(`[data-testid="model-${FINISHED.id}"]`);
    await adapterBox.waitFor({ timeout: 30_000 });
    await frame.locator(`[data-testid="model-${FINISHED.id}"][aria-checked="true"]`).waitFor({ timeout: 30_000 });
    assert.equal(await frame.locator('[data-testid="model-base"]').getAttribute("aria-checked"), "false");
    // One order: base, then runs newest first, each run's checkpoints after it in step order; labelled by name.
    const ids = await frame.locator('[data-testid^="model-"]').evaluateAll((boxes) => boxes.map((b) => (b as HTMLElement).dataset.testid));
    assert.deepEqual(ids, ["model-base", `model-${FINISHED.id}`, `model-${FINISHED.id}@step-2`, `model-${FINISHED.id}@step-4`, `model-${STOPPED.id}@step-2`]);
    assert.match(await adapterBox.innerText(), new RegExp(`${FINISHED.name} \\(adapter\\)`));
    await screenshot(session, "runs-view-evaluate");

    // The base model's evaluation, clicked: the Evaluation panel with the base model selected.
    await runCommand(session, "Codistill: Focus on Explorer View");
    await clickRow(BASE);
    await frame.locator('[data-testid="model-base"][aria-checked="true"]').waitFor({ timeout: 30_000 });
    assert.equal(await adapterBox.getAttribute("aria-checked"), "false");
  });

  it("deletes a run only after a confirmation naming it", async () => {
    await runCommand(session, "Codistill: Focus on Explorer View");
    const dir = join(runs, STOPPED.id);
    const ask = async () => {
      const { menu } = await contextMenu(row(STOPPED.name));
      await pick(menu, "Delete");
      const dialog = session.page.locator(".monaco-dialog-box");
      await dialog.waitFor({ timeout: 10_000 });
      assert.match(squash(await dialog.innerText()), new RegExp(`Delete the run "${STOPPED.name}" \\(${STOPPED.id}\\)\\?`));
      return dialog;
    };
    const first = await ask();
    await screenshot(session, "runs-view-delete-confirmation");
    await first.locator(".monaco-button", { hasText: "Cancel" }).click();
    await first.waitFor({ state: "hidden" });
    assert.ok(existsSync(dir), "Cancel keeps the folder");

    const second = await ask();
    await second.locator(".monaco-button", { hasText: "Delete" }).click();
    await second.waitFor({ state: "hidden" });
    await row(STOPPED.name).waitFor({ state: "detached", timeout: 30_000 });
    assert.equal(existsSync(dir), false, "the run's folder is gone");
    assert.ok(existsSync(join(runs, FINISHED.id)), "the other run stays");
    await row(FINISHED.name).waitFor();
    await screenshot(session, "runs-view-deleted");
  });
});
