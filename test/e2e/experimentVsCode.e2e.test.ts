// "Codistill: Run Experiment" in a real VS Code, on a reduced demo experiment (base and
// sft-cot-struct on HumanEval, 300 tiny training steps): the progress notification names the stage and
// its arm, Cancel stops it cleanly, running it again carries on, and "Open Report" shows the
// report in a panel, charts drawn. codistill.yaml gets its problems on their keys as it is typed,
// completion and hovers. Then "Codistill: Open Experiment Report" finds the report again.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runCommand, screenshot, waitForNotification, webviewFrame, type VsCodeSession } from "./harness";
import { PYTHON, demoWorkspaceCopy, editConfig, startTrusted, stopAndRemove } from "./workspace";

describe("Run Experiment in VS Code", () => {
  let session: VsCodeSession;
  let workspace: string;
  let out: string;

  before(async () => {
    workspace = demoWorkspaceCopy({ full: false });
    out = join(workspace, ".codistill", "experiments", "demo");
    editConfig(workspace, (doc) => {
      doc.setIn(["experiment", "arms"], ["base", "sft-cot-struct"]);
      doc.setIn(["evaluation", "benchmarks"], ["humaneval"]);
      doc.setIn(["training", "max_steps"], 300);
      doc.setIn(["training", "save_every"], 5);
    });
    session = await startTrusted(workspace, { "codistill.pythonPath": PYTHON });
  });

  after(() => stopAndRemove(session, workspace));

  it("shows the stage in a notification, stops on Cancel, and carries on when run again", async () => {
    const { page } = session;
    await runCommand(session, "Codistill: Run Experiment");
    const training = page.locator(".notifications-toasts .notification-toast", { hasText: /train:sft-cot-struct: \d+% sft-cot-struct: step \d+\/300/ });
    await training.first().waitFor({ timeout: 180_000 });
    await screenshot(session, "experiment-running");
    await training.first().locator(".monaco-button", { hasText: "Cancel" }).click({ timeout: 10_000 });
    await waitForNotification(session, "cancelled during train:sft-cot-struct; running again carries on from there", { timeoutMs: 60_000 });
    assert.ok(!existsSync(join(out, "report.html")), "no report from a cancelled run");
    assert.ok(existsSync(join(out, "stages", "baseline.json")), "the baseline finished before the cancel, and stays done");

    await runCommand(session, "Codistill: Run Experiment");
    const done = page.locator(".notifications-toasts .notification-toast", { hasText: "the experiment is done" });
    await done.first().waitFor({ timeout: 300_000 });
    // baseline and the CoT set were done; training resumed from its checkpoint, then its evaluation and the report.
    assert.match(await done.first().innerText(), /3 stage\(s\) ran, 2 up to date/);
    const manifest = JSON.parse(readFileSync(join(out, "arms", "sft-cot-struct", "manifest.json"), "utf8")) as { state: string; resumes: unknown[] };
    assert.deepEqual([manifest.state, manifest.resumes.length], ["finished", 1]);
    await done.first().locator(".monaco-button", { hasText: "Open Report" }).click({ timeout: 10_000 });
  });

  it("shows the report with its caveat, every arm and three drawn charts", async () => {
    const frame = await webviewFrame(session, "Report: demo");
    await frame.locator("#summary").waitFor({ timeout: 20_000 });
    assert.match(await frame.locator('[role="alert"]').innerText(), /mean nothing/);
    for (const arm of ["base", "sft-cot-struct"]) assert.equal(await frame.locator(`#summary [data-arm="${arm}"]`).count(), 1, `${arm} in the summary`);
    for (const chart of ["#chart-pass1", "#chart-loss", "#chart-cots"]) {
      const box = await frame.locator(`${chart} canvas`).boundingBox();
      assert.ok(box && box.width > 50 && box.height > 50, `${chart} is drawn`);
    }
    await screenshot(session, "experiment-report");
    const report = JSON.parse(readFileSync(join(out, "report.json"), "utf8")) as { arms: { name: string; steps: number | null }[] };
    assert.deepEqual(report.arms.map((a) => [a.name, a.steps]), [["base", null], ["sft-cot-struct", 300]]);
  });

  it("checks codistill.yaml in the editor: problems on their keys, completion and hovers from the schema", async () => {
    const { page } = session;
    editConfig(workspace, (doc) => {
      doc.setIn(["experiment", "arms"], ["base", "sft-dpo"]);
      doc.setIn(["evaluation", "benchmarks"], ["humaneval", "nope"]);
    });
    await page.keyboard.press("Control+P");
    await page.locator(".quick-input-widget input.input").fill("codistill.yaml");
    await page.locator(".quick-input-widget .monaco-list-row", { hasText: "codistill.yaml" }).first().click();
    const editor = page.locator(".editor-instance .view-lines", { hasText: "datasets:" });
    await editor.waitFor({ timeout: 20_000 });
    await runCommand(session, "View: Focus Problems (Errors, Warnings, Infos)");
    const problems = page.locator(".markers-panel");
    await problems.locator(".monaco-list-row", { hasText: 'experiment.arms[1]: unknown arm "sft-dpo"' }).waitFor({ timeout: 20_000 });
    await problems.locator(".monaco-list-row", { hasText: 'evaluation.benchmarks[1]: no dataset named "nope" in datasets' }).waitFor({ timeout: 5_000 });

    // A new key under experiment (the file's last section; the file ends with a newline, so the
    // last line is empty): completion offers the keys it does not have yet.
    assert.ok(readFileSync(join(workspace, "codistill.yaml"), "utf8").endsWith("    - sft-dpo\n"), "arms is the last key, and the file ends with a newline");
    await editor.click();
    await page.keyboard.press("Control+End");
    await page.keyboard.type("  ");
    await page.keyboard.press("Control+Space");
    const suggestions = page.locator(".suggest-widget .monaco-list-row");
    await suggestions.first().waitFor({ timeout: 10_000 });
    const offered = (await suggestions.allInnerTexts()).map((t) => t.split("\n")[0]!.trim());
    for (const key of ["ranks", "teachers", "out"]) assert.ok(offered.some((o) => o.startsWith(key)), `${key} offered; got ${JSON.stringify(offered)}`);
    assert.ok(!offered.some((o) => o.startsWith("arms")), "arms is there already");
    await page.keyboard.press("Escape");
    await page.keyboard.type("ranks: [8]");
    await problems.locator(".monaco-list-row", { hasText: "experiment.ranks[0]: expected one of 16, 32, 64" }).waitFor({ timeout: 10_000 });
    await screenshot(session, "experiment-config-problems");

    await page.locator(".editor-instance .view-line span", { hasText: /^benchmarks$/ }).first().hover();
    const hover = page.locator(".monaco-hover-content", { hasText: /benchmark/i });
    await hover.first().waitFor({ timeout: 10_000 });
    assert.match(await hover.first().innerText(), /The experiment.s benchmarks: names of .?datasets/);
    await page.keyboard.press("Escape");
  });

  it("offers the demo's walkthrough, with every step", async () => {
    const { page } = session;
    await runCommand(session, "Welcome: Open Walkthrough...");
    await page.locator(".quick-input-widget input.input").fill("Distil a reasoning teacher");
    await page.locator(".quick-input-widget .monaco-list-row", { hasText: "Distil a reasoning teacher into a small code model" }).first().click();
    const steps = page.locator(".gettingStartedContainer .getting-started-step .step-title");
    await steps.first().waitFor({ timeout: 20_000 });
    const titles = (await steps.allInnerTexts()).map((t) => t.trim());
    for (const title of ["Open a dataset", "Check the reasoning", "Train the student", "Run the whole experiment", "Read the report"]) {
      assert.ok(titles.includes(title), `${title} in ${JSON.stringify(titles)}`);
    }
    await screenshot(session, "experiment-walkthrough");
  });

  it("opens the report again from the command palette", async () => {
    await runCommand(session, "View: Close All Editors");
    await runCommand(session, "Codistill: Open Experiment Report");
    const frame = await webviewFrame(session, "Report: demo");
    await frame.locator("#summary").waitFor({ timeout: 20_000 });
  });
});
