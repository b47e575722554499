// The Training panel in a real VS Code: a tiny random Llama student and RoBERTa encoder (made by
// scripts/make-tiny-model.py) are trained on CPU by the real sidecar from codistill.yaml's training
// section; the panel previews the curriculum, shows the sidecar's error for a bad model folder and
// for a CUDA GPU it does not have, warns that device: auto fell back to the CPU, explains running out
// of memory (for real: the sidecar runs under an address-space limit), shows live progress
// and metric charts, lists the checkpoints, and stops and resumes a run. The form lists the CoT
// sets of .codistill/cots/ with their counts and the status filter, which reach the run config;
// the explorer shows a set's counts by status and follows the set as it is appended to.
import assert from "node:assert/strict";
import { appendFileSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { FrameLocator, Locator } from "playwright-core";
import { cotSetDescription, describeCotSet, readCotSetSummary } from "../../src/core/cot/cotSets";
import { repoRoot, runCommand, screenshot, waitForNotification, webviewFrame, type VsCodeSession } from "./harness";
import { PYTHON, demoWorkspaceCopy, editConfig, makeTinyModel, startTrusted, stopAndRemove } from "./workspace";

/**
 * The set-up Python behind an 8 GiB address-space limit, as a machine with that little memory
 * would have: a run that asks for more fails for real, in the allocator, and everything else fits.
 */
function cappedPython(workspace: string): string {
  const path = join(workspace, "python-8g.sh");
  writeFileSync(path, `#!/bin/sh\nulimit -v ${8 * 1024 * 1024}\nexec "${PYTHON}" "$@"\n`, { mode: 0o755 });
  return path;
}

function setTraining(workspace: string, settings: Record<string, unknown>): void {
  editConfig(workspace, (config) => {
    for (const [key, value] of Object.entries(settings)) config.setIn(["training", key], value);
  });
}

const cotSetPath = (workspace: string) => join(workspace, ".codistill", "cots", "humaneval-fixture.jsonl");
const checked = (box: Locator) => box.evaluate((e) => (e as HTMLElement & { checked: boolean }).checked);
const statusBox = (frame: FrameLocator, status: string) => frame.locator(`[data-testid="cot-status"][data-status="${status}"]`);

/** The status filter's checkboxes, in order: [word, checked]. */
function statusBoxes(frame: FrameLocator): Promise<[string, boolean][]> {
  return frame.locator('[data-testid="cot-status"]').evaluateAll((boxes) => boxes.map((b) => [(b as HTMLElement).dataset.status ?? "", (b as HTMLElement & { checked: boolean }).checked] as [string, boolean]));
}

describe("the Training panel", () => {
  let session: VsCodeSession;
  let workspace: string;
  let frame: FrameLocator;

  before(async () => {
    workspace = demoWorkspaceCopy();
    makeTinyModel(workspace, "--encoder", join(workspace, "models", "tiny-encoder"));
    mkdirSync(join(workspace, ".codistill", "cots"), { recursive: true });
    cpSync(join(repoRoot(), "test", "fixtures", "cots", "humaneval-slice.jsonl"), join(workspace, ".codistill", "cots", "humaneval-fixture.jsonl"));
    editConfig(workspace, (config) => {
      config.setIn(["student", "model"], "./models/tiny");
      config.setIn(["encoder", "model"], "./models/tiny-encoder");
    });
    setTraining(workspace, {
      datasets: ["humaneval"],
      cots: ["humaneval-fixture"],
      max_steps: 4,
      batch_size: 2,
      max_length: 512,
      save_every: 2,
      eval_every: 2,
      device: "cpu",
      lora: { preset: "r16" },
      curriculum: { beta_end: 0.5 },
    });
    session = await startTrusted(workspace, { "codistill.pythonPath": cappedPython(workspace) });
  });

  after(() => stopAndRemove(session, workspace));

  it("previews the curriculum, trains a run with live metrics, and lists its checkpoints", async () => {
    await runCommand(session, "Codistill: Open Training");
    frame = await webviewFrame(session, "Codistill Training");
    await frame.locator('[data-testid="preview-note"]').waitFor({ timeout: 60_000 });
    assert.match(await frame.locator('[data-testid="preview-note"]').innerText(), /about 4 optimizer steps/, "max_steps of codistill.yaml");
    assert.equal(await frame.locator("canvas#curriculum-chart").count(), 1);
    assert.equal(await frame.locator('[data-testid="lora"]').evaluate((e) => (e as HTMLElement & { value: string }).value), "r16");
    // Before any run: one line of guidance, not eight empty charts.
    assert.equal(await frame.locator('[data-testid="metrics-guidance"]').innerText(), "Start a run to see its metrics.");
    assert.equal(await frame.locator('[data-testid="metric-charts"]').isVisible(), false);
    // codistill.yaml's max_steps, and what decides the run's length (humaneval's tasks over batch 2, by epochs).
    const humanevalLabel = await frame.locator('[data-testid="dataset"][data-dataset="humaneval"] [data-testid="dataset-label"]').innerText();
    const byEpochs = Math.ceil(Number(/^humaneval — (\d+) tasks$/.exec(humanevalLabel)?.[1]) / 2);
    assert.equal(await frame.locator('[data-testid="max-steps"] input').inputValue(), "4");
    assert.match(await frame.locator('[data-testid="length-note"]').innerText(), new RegExp(`after 4 optimizer steps, before its 1 epoch \\(about ${byEpochs} steps\\).*max_steps, when set, ends the run before the epochs do`, "s"));
    await frame.locator('[data-testid="max-steps"] input').fill("");
    await frame.locator('[data-testid="length-note"]', { hasText: "The epochs decide the length" }).waitFor();
    assert.match(await frame.locator('[data-testid="preview-note"]').innerText(), new RegExp(`about ${byEpochs} optimizer steps`));
    await frame.locator('[data-testid="max-steps"] input').fill("4");
    await frame.locator('[data-testid="preview-note"]', { hasText: "about 4 optimizer steps" }).waitFor();
    // Path fields full width, each with a folder picker.
    for (const field of ["student", "encoder"]) {
      assert.equal(await frame.locator(`[data-testid="${field}-browse"]`).innerText(), "Browse…");
      const [fieldBox, formBox] = await Promise.all([frame.locator(`[data-testid="${field}"]`).boundingBox(), frame.locator("section.train-form").boundingBox()]);
      assert.ok(fieldBox && formBox && fieldBox.width > formBox.width * 0.6, `${field}: ${fieldBox?.width} of ${formBox?.width}`);
    }
    // The datasets of codistill.yaml, training.datasets checked.
    const datasetBoxes = await frame.locator('[data-testid="dataset"]').evaluateAll((boxes) => boxes.map((b) => [(b as HTMLElement).dataset.dataset, (b as HTMLElement & { checked: boolean }).checked] as [string, boolean]));
    assert.ok(datasetBoxes.length >= 2, JSON.stringify(datasetBoxes));
    assert.deepEqual(datasetBoxes.filter(([, on]) => on), [["humaneval", true]], "training.datasets checked, the others not");
    await frame.locator('[data-testid="dataset"][data-dataset="humaneval"]').click();
    assert.match(await frame.locator('[data-testid="dataset-problem"]').innerText(), /Check at least one dataset/);
    await frame.locator("vscode-button", { hasText: "Start Training" }).click();
    assert.match(await frame.locator('[data-testid="form-problem"]').innerText(), /^datasets: check at least one dataset/);
    await frame.locator('[data-testid="dataset"][data-dataset="humaneval"]').click();
    await frame.locator('[data-testid="dataset-problem"]').waitFor({ state: "hidden" });
    // Each schedule's fields only: no "Steps" for linear; a hint saying what the schedule does.
    assert.equal(await frame.locator('[data-testid="schedule-steps"]').count(), 0);
    assert.match(await frame.locator('[data-testid="schedule-hint"]').innerText(), /^Linear: /);
    await frame.locator('[data-testid="schedule"]').evaluate((e) => ((e as HTMLElement & { value: string }).value = "step", e.dispatchEvent(new Event("change"))));
    await frame.locator('[data-testid="schedule-steps"]').waitFor();
    assert.match(await frame.locator('[data-testid="schedule-hint"]').innerText(), /^Step: .*equal jumps/);
    await frame.locator('[data-testid="schedule"]').evaluate((e) => ((e as HTMLElement & { value: string }).value = "linear", e.dispatchEvent(new Event("change"))));
    await frame.locator('[data-testid="schedule-steps"]').waitFor({ state: "detached" });
    await screenshot(session, "training-before-run");
    // A curriculum the trainer would refuse is named before anything starts.
    await frame.locator('[data-testid="warmup-fraction"] input').fill("2");
    assert.match(await frame.locator('[data-testid="preview-problem"]').innerText(), /curriculum\.warmupFraction/);
    await frame.locator('[data-testid="warmup-fraction"] input').fill("1");
    await frame.locator('[data-testid="preview-problem"]').waitFor({ state: "detached" });

    // Every CoT set of .codistill/cots/ with its counts, codistill.yaml's training.cots checked,
    // and the status filter (the sidecar's default: no data.cot_statuses in codistill.yaml).
    const fixtureSet = frame.locator('[data-testid="cot-set"][data-set="humaneval-fixture"]');
    const counts = describeCotSet(await readCotSetSummary(cotSetPath(workspace)));
    assert.match(counts, /^5 tasks: 1 verified, 3 valid, 1 invalid/);
    assert.equal(await fixtureSet.locator('[data-testid="cot-set-label"]').textContent(), `humaneval-fixture — ${counts}`);
    assert.equal(await checked(fixtureSet), true);
    assert.deepEqual(await statusBoxes(frame), [["verified", true], ["valid", true], ["accepted", true], ["failed-verification", false], ["invalid", false]]);
    const mode = frame.locator('[data-testid="cot-mode"]');
    assert.equal(await mode.textContent(), "Training on 1 CoT set: humaneval-fixture.");
    await fixtureSet.click();
    await frame.locator('[data-testid="cot-mode"]', { hasText: "code-only SFT" }).waitFor();
    await fixtureSet.click();
    await frame.locator('[data-testid="cot-mode"]', { hasText: "Training on 1 CoT set" }).waitFor();
    // A set picked with no status checked trains on nothing: said at once, and Start refuses it.
    for (const status of ["verified", "valid", "accepted"]) await statusBox(frame, status).click();
    assert.match(await frame.locator('[data-testid="cot-status-problem"]').innerText(), /Check at least one status/);
    await frame.locator("vscode-button", { hasText: "Start Training" }).click();
    assert.match(await frame.locator('[data-testid="form-problem"]').innerText(), /^cotStatuses: check at least one status/);
    for (const status of ["verified", "valid"]) await statusBox(frame, status).click();
    await frame.locator('[data-testid="cot-status-problem"]').waitFor({ state: "hidden" });
    assert.deepEqual(await statusBoxes(frame), [["verified", true], ["valid", true], ["accepted", false], ["failed-verification", false], ["invalid", false]]);
    await screenshot(session, "training-form");

    // The sidecar's own message, naming what is wrong, when a run cannot start.
    const student = frame.locator('[data-testid="student"] input');
    const studentFolder = await student.inputValue();
    await student.fill(join(workspace, "models", "missing"));
    await frame.locator("vscode-button", { hasText: "Start Training" }).click();
    assert.match(await frame.locator('[data-testid="failure"]').innerText({ timeout: 60_000 }), /student/);
    await student.fill(studentFolder);
    // No CUDA GPU (this torch is a CPU build): asking for one is refused, saying how to fall back.
    setTraining(workspace, { device: "cuda" });
    await frame.locator("vscode-button", { hasText: "Start Training" }).click();
    assert.match(await frame.locator('[data-testid="failure"]', { hasText: "cuda" }).innerText({ timeout: 60_000 }), /device: cuda was asked for, but torch .* sees no CUDA GPU.*use device: auto or cpu/s);
    // device: auto falls back to the CPU, with a warning that it suits small models only.
    setTraining(workspace, { device: "auto" });
    // Out of memory (a 10 GB LoRA matrix under the 8 GiB limit): the allocator's words, and what to change.
    setTraining(workspace, { lora: { preset: "r16", r: 40_000_000 } });
    await frame.locator("vscode-button", { hasText: "Start Training" }).click();
    const failure = frame.locator('[data-testid="failure"]', { hasText: "out of CPU memory" });
    assert.match(await failure.innerText({ timeout: 120_000 }), /while loading the models .*you tried to allocate 10240000000 bytes/s);
    assert.match(await failure.locator("li").allInnerTexts().then((items) => items.join("\n")), /^lora\.r: 20000000 \(now 40000000\)$/m);
    await screenshot(session, "training-out-of-memory");
    const failedRow = frame.locator('[data-testid="run-row"]', { has: frame.locator('[data-testid="run-state"]', { hasText: "failed" }) });
    assert.match(await failedRow.locator('[data-testid="run-error"]').innerText({ timeout: 30_000 }), /out of CPU memory/);
    setTraining(workspace, { lora: { preset: "r16" } });

    await frame.locator("vscode-button", { hasText: "Start Training" }).click();
    await waitForNotification(session, /no CUDA GPU: training runs on the CPU, which is practical for small models only/, { timeoutMs: 60_000 });
    await frame.locator('[data-testid="live-text"]').waitFor({ timeout: 60_000 });
    await waitForNotification(session, /run .* finished/, { timeoutMs: 300_000 });
    const row = frame.locator('[data-testid="run-row"]').first();
    await row.locator('[data-testid="run-state"]', { hasText: "finished" }).waitFor({ timeout: 30_000 });
    assert.match(await row.locator('[data-testid="run-checkpoints"]').innerText(), /step-4/);
    assert.equal(await frame.locator('[data-testid="metric-charts"] canvas').count(), 8);
    assert.equal(await frame.locator('[data-testid="metrics-guidance"]').isVisible(), false);
    // A CPU run logs no GPU memory: the chart says so, in GiB.
    assert.equal(await frame.locator('[data-testid="no-gpu"]').innerText(), "no GPU in this run");
    assert.equal(await frame.locator('[data-metric="gpu_mem_peak"] figcaption').innerText(), "GPU memory, peak (GiB)");
    // The Loss chart: the total with its weighted parts, and what Loss is.
    const lossSeries = JSON.parse((await frame.locator("canvas#metric-loss").getAttribute("data-series")) ?? "[]") as string[];
    // One run: "loss", "α·CE", "β·L_struct"; several overlaid (the failed ones above are): "<run> · loss", …
    for (const part of ["loss", "α·CE", "β·L_struct"]) assert.ok(lossSeries.some((label) => label === part || label.endsWith(` · ${part}`)), `${part} in ${lossSeries.join(", ")}`);
    assert.equal(await frame.locator('[data-testid="loss-note"]').innerText(), "Loss = α·CE + β·L_struct; α and β follow the curriculum");
    await screenshot(session, "training-finished");

    const runId = (await row.getAttribute("data-run"))!;
    const runDir = join(workspace, ".codistill", "runs", runId);
    assert.ok(existsSync(join(runDir, "adapter", "adapter_config.json")), "the final adapter");
    const lines = readFileSync(join(runDir, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.at(-1)?.step, 4);
    assert.ok(lines.some((l) => typeof l.l_struct === "number"), "the structural loss ran once β > 0");
    assert.ok(existsSync(join(runDir, "data", "humaneval.tasks.jsonl")), "the tasks it trained on are in the run");
    const manifest = JSON.parse(readFileSync(join(runDir, "manifest.json"), "utf8")) as { config: { cots: string[] | null; data: { cot_statuses: string[] } } };
    // The form's CoT set and status filter, in the run config.
    assert.deepEqual(manifest.config.cots?.map((p) => p.split("/").pop()), ["humaneval-fixture.jsonl"]);
    assert.deepEqual(manifest.config.data.cot_statuses, ["verified", "valid"]);
  });

  it("stops a run with a checkpoint and resumes it to the end", async () => {
    setTraining(workspace, { max_steps: 400, save_every: 20 });
    // The form's max steps go into the run config (codistill.yaml's was its default).
    await frame.locator('[data-testid="max-steps"] input').fill("400");
    await frame.locator("vscode-button", { hasText: "Start Training" }).click();
    await frame.locator('[data-testid="live-text"]', { hasText: /step [2-9]\d*\// }).waitFor({ timeout: 120_000 });
    // One step: the progress line and the run's row read the same one.
    for (let i = 0; i < 3; i++) {
      const [live, row] = await frame.locator("body").evaluate(() => {
        const text = document.querySelector('[data-testid="live-text"]')?.textContent ?? "";
        const runId = text.split(": ")[0] ?? "";
        return [text, document.querySelector(`[data-testid="run-row"][data-run="${CSS.escape(runId)}"] [data-testid="run-step"]`)?.textContent ?? ""];
      });
      assert.equal(/step (\d+\/\d+)$/.exec(live)?.[1], row, `${live} against the row's ${row}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    // A panel closed and opened again finds the run the sidecar is still training (train/status).
    await runCommand(session, "View: Close Editor");
    await runCommand(session, "Codistill: Open Training");
    frame = await webviewFrame(session, "Codistill Training");
    await frame.locator('[data-testid="live-text"]', { hasText: /step \d+/ }).waitFor({ timeout: 60_000 });
    await frame.locator("vscode-button", { hasText: "Stop" }).click();
    await waitForNotification(session, /stopped; it can be resumed/, { timeoutMs: 120_000 });
    const row = frame.locator('[data-testid="run-row"]').first();
    await row.locator('[data-testid="run-state"]', { hasText: "stopped" }).waitFor({ timeout: 30_000 });
    await row.locator("vscode-button", { hasText: "Resume" }).click();
    await row.locator('[data-testid="run-state"]', { hasText: "finished" }).waitFor({ timeout: 300_000 });
    assert.match(await row.innerText(), /400\/400/);
    await screenshot(session, "training-resumed");
  });

  it("shows a CoT set's counts by status in the explorer and the form, and follows the set as it grows", async () => {
    await runCommand(session, "Codistill: Focus on Explorer View");
    // A row's label and description are separate elements: compare without whitespace.
    const squash = (t: string) => t.replace(/\s+/g, "");
    // The set's own row: a run trained on it is named after it too ("tiny humaneval-fixture 09:30").
    const row = session.page.locator(".part.sidebar .monaco-list-row").filter({ has: session.page.locator(".label-name", { hasText: /^humaneval-fixture$/ }) });
    const waitForRow = async (expected: string) => {
      const deadline = Date.now() + 30_000;
      let text = "";
      while (Date.now() < deadline) {
        text = squash(await row.innerText().catch(() => ""));
        if (text === squash(expected)) return;
        await new Promise((r) => setTimeout(r, 250));
      }
      assert.fail(`the CoT set's row reads ${JSON.stringify(text)}, not ${JSON.stringify(expected)}`);
    };
    await waitForRow(`humaneval-fixture ${cotSetDescription(await readCotSetSummary(cotSetPath(workspace)))}`);
    // Another task's record, appended as generation does: the file watcher refreshes the row.
    const first = JSON.parse(readFileSync(cotSetPath(workspace), "utf8").split("\n")[0]!) as Record<string, unknown>;
    const { review: _review, ...record } = first;
    // "valid": the first record has no teacher code, which a "verified" one needs (the run after this one trains on the set).
    appendFileSync(cotSetPath(workspace), `${JSON.stringify({ ...record, taskId: "HumanEval/1", status: "valid" })}\n`);
    const grown = await readCotSetSummary(cotSetPath(workspace));
    assert.equal(grown.summary.total, 6);
    await waitForRow(`humaneval-fixture ${cotSetDescription(grown)}`);
    await screenshot(session, "training-explorer-cots");
    // The panel, shown again, lists the set's new counts.
    await runCommand(session, "Codistill: Open Training");
    frame = await webviewFrame(session, "Codistill Training");
    const label = frame.locator('[data-testid="cot-set"][data-set="humaneval-fixture"] [data-testid="cot-set-label"]', { hasText: "6 tasks" });
    assert.equal(await label.textContent({ timeout: 30_000 }), `humaneval-fixture — ${describeCotSet(grown)}`);
  });

  it("starts codistill.yaml's run from the palette with Start Training Run", async () => {
    setTraining(workspace, { max_steps: 4, save_every: 2 });
    await runCommand(session, "Codistill: Start Training Run");
    const started = await waitForNotification(session, /run \S+ started; the Training panel follows it/, { timeoutMs: 120_000 });
    const runId = /run (\S+) started/.exec(started)![1]!;
    frame = await webviewFrame(session, "Codistill Training");
    const row = frame.locator(`[data-testid="run-row"][data-run="${runId}"]`);
    try {
      await row.locator('[data-testid="run-state"]', { hasText: "finished" }).waitFor({ timeout: 300_000 });
    } catch (err) {
      const failure = await frame.locator('[data-testid="failure"]').innerText({ timeout: 1000 }).catch(() => "(no failure shown)");
      throw new Error(`${runId} did not finish: ${failure}`, { cause: err });
    } finally {
      await screenshot(session, "training-start-training-run");
    }
    assert.match(await row.locator('[data-testid="run-step"]').innerText(), /^4\/4$/);
    const manifest = JSON.parse(readFileSync(join(workspace, ".codistill", "runs", runId, "manifest.json"), "utf8")) as { config: { max_steps: number; tasks: string[] } };
    assert.equal(manifest.config.max_steps, 4, "codistill.yaml's run, as configured");
    assert.deepEqual(manifest.config.tasks.map((p) => p.split("/").pop()), ["humaneval.tasks.jsonl"]);
  });
});
