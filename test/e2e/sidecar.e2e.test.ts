// The extension in a real VS Code (code-server 4.100.3), driven through Chromium like a user:
// the built VSIX is installed, commands run from the command palette, and assertions read the
// screen. Screenshots land in test-results/.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { FrameLocator } from "playwright-core";
import {
  leftoverProcesses,
  restrictWorkspace,
  runCommand,
  screenshot,
  startVsCode,
  stop,
  trustWorkspace,
  waitForNotification,
  waitForStatusBarText,
  webviewFrame,
  type VsCodeSession,
} from "./harness";
import { PYTHON, VSIX, demoWorkspaceCopy, startTrusted, stopAndRemove } from "./workspace";

const PANEL = "Codistill Sidecar";


async function text(frame: FrameLocator, selector: string): Promise<string> {
  return (await frame.locator(selector).first().innerText()).trim();
}

async function waitForState(frame: FrameLocator, state: string, timeout = 60_000): Promise<void> {
  await frame.locator(`[data-testid="state"].state-${state}`).waitFor({ state: "visible", timeout });
}

async function sidecarPid(frame: FrameLocator): Promise<number> {
  const pid = Number(/pid (\d+)/.exec(await text(frame, '[data-testid="process"]'))?.[1]);
  assert.ok(pid > 0, "the panel shows the sidecar's pid");
  return pid;
}

describe("the packaged VSIX", () => {
  it("ships onnxruntime-node's linux-x64 binaries and no other platform's", () => {
    assert.ok(existsSync(VSIX), `${VSIX} is missing: run "npm run package"`);
    const listing = execFileSync("unzip", ["-Z1", VSIX], { encoding: "utf8" }).split("\n");
    const binaries = listing.filter((f) => /onnxruntime-node\/bin\//.test(f) && !f.endsWith("/"));
    assert.ok(binaries.some((f) => f.endsWith("linux/x64/onnxruntime_binding.node")), binaries.join("\n"));
    assert.deepEqual(binaries.filter((f) => !f.includes("/linux/x64/")), []);
    assert.ok(listing.includes("extension/dist/extension.js"));
    assert.ok(listing.includes("extension/dist/package.json"), "marks the host bundle as CommonJS");
    assert.ok(listing.includes("extension/dist/webview/sidecarStatus.js"));
    assert.ok(listing.includes("extension/sidecar/pyproject.toml"), "the sidecar ships for Set Up Python Environment");
    assert.ok(!listing.some((f) => f.includes("/src/") && f.endsWith(".ts")), "no TypeScript sources");
  });
});

describe("Codistill in a trusted workspace", () => {
  let session: VsCodeSession;
  let workspace: string;

  before(async () => {
    workspace = demoWorkspaceCopy();
    session = await startTrusted(workspace, { "codistill.pythonPath": PYTHON });
  });

  after(() => stopAndRemove(session, workspace));

  it("lists codistill.yaml's datasets with their task counts, and CoT sets and Runs with their empty states", async () => {
    await runCommand(session, "Codistill: Focus on Explorer View");
    const rows = session.page.locator(".part.sidebar .monaco-list-row");
    // Counting indexes each dataset in the background; rows update as counts arrive. A row's
    // label and description are separate elements: compare without whitespace.
    const squash = (t: string) => t.replace(/\s+/g, "");
    const expected = ["Datasets", "humaneval 164 tasks", "mbpp 974 tasks", "mbpp-sanitized 427 tasks", "humaneval-plus 164 tasks", "mbpp-plus 378 tasks", "CoT sets", "No reasoning yet", "Runs", "No training runs yet"];
    const missing = async () => {
      const texts = (await rows.allInnerTexts()).map(squash);
      return { texts, missing: expected.filter((e) => !texts.some((t) => t.startsWith(squash(e)))) };
    };
    const deadline = Date.now() + 90_000;
    let state = await missing();
    while (state.missing.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      state = await missing();
    }
    assert.deepEqual(state.missing, [], `tree rows ${JSON.stringify(state.texts)}`);
    await waitForStatusBarText(session, "codistill", "Codistill: stopped");
    await screenshot(session, "codistill-explorer");
  });

  it("reports a codistill.yaml problem once, with its line and key, and re-reads the file when it changes", async () => {
    const file = join(workspace, "codistill.yaml");
    const original = readFileSync(file, "utf8");
    const lines = original.split("\n");
    const line = lines.findIndex((l) => l.startsWith("name:")) + 1;
    assert.ok(line > 0, "the demo's codistill.yaml names its experiment");
    const problem = new RegExp(`codistill\\.yaml:${line}:\\d+ name: expected a string`);
    const rows = session.page.locator(".part.sidebar .monaco-list-row");
    try {
      writeFileSync(file, lines.map((l, i) => (i === line - 1 ? "name: [not, a, string]" : l)).join("\n"));
      await waitForNotification(session, problem, { timeoutMs: 30_000 });
      await rows.filter({ hasText: problem }).first().waitFor({ timeout: 30_000 });
      // Every reader (tree, commands, panels) reads the same parse; the problem is shown once.
      const refresh = session.page.locator('.part.sidebar .title-actions a.action-label[aria-label="Refresh"]');
      await refresh.click();
      await refresh.click();
      await new Promise((r) => setTimeout(r, 1000));
      // The notification center keeps toasts that have hidden themselves since.
      await runCommand(session, "Notifications: Show Notifications");
      const center = session.page.locator(".notifications-center .notification-list-item-message");
      await center.first().waitFor({ timeout: 10_000 });
      assert.equal((await center.allInnerTexts()).filter((t) => problem.test(t)).length, 1);
      await screenshot(session, "codistill-yaml-problem");
    } finally {
      writeFileSync(file, original);
    }
    await rows.filter({ hasText: problem }).first().waitFor({ state: "detached", timeout: 30_000 });
    await runCommand(session, "Notifications: Clear All Notifications");
  });

  it("shows the sidecar's versions after Show Sidecar Status", async () => {
    await runCommand(session, "Codistill: Show Sidecar Status");
    const frame = await webviewFrame(session, PANEL);
    await waitForState(frame, "ready");
    const versions = await text(frame, "#versions");
    assert.match(versions, /Codistill sidecar\s+0\.1\.0/);
    assert.match(versions, /Protocol\s+1/);
    assert.match(versions, /Python\s+3\.\d+\.\d+/);
    assert.match(versions, /torch\s+2\.13\.0/);
    assert.match(versions, /transformers\s+\d+\.\d+/);
    assert.match(versions, /peft\s+\d+\.\d+/);
    assert.match(await text(frame, "#devices"), /CUDA (not available|.* available)/);
    // What keeps generated code in, as the sandbox reports it (as root: a uid of its own).
    const sandbox = frame.locator('[data-testid="sandbox"]');
    await sandbox.waitFor({ timeout: 30_000 });
    assert.match(await sandbox.innerText(), /^landlock-v\d+\+uid\+netns\+pidns \(full\): generated code cannot write outside its folder/);
    await waitForStatusBarText(session, "codistill", "Codistill: ready");
    await screenshot(session, "sidecar-ready");
  });

  it("shows crashed, then ready again, after the sidecar is killed with SIGKILL", async () => {
    const frame = await webviewFrame(session, PANEL);
    const firstPid = await sidecarPid(frame);
    process.kill(firstPid, "SIGKILL");
    // The restart waits out a 1 s backoff, so the status bar shows the crash meanwhile.
    await waitForStatusBarText(session, "codistill", "Codistill: crashed", { timeoutMs: 10_000 });
    await frame.locator("#history li.state-crashed", { hasText: "killed by SIGKILL" }).waitFor({ timeout: 30_000 });
    await waitForState(frame, "ready");
    const secondPid = await sidecarPid(frame);
    assert.notEqual(secondPid, firstPid, "a new sidecar process answered");
    const history = await text(frame, "#history");
    // Newest first: ready (new pid) <- starting <- crashed <- ready (old pid).
    assert.match(history, new RegExp(`ready — pid ${secondPid}[\\s\\S]*starting[\\s\\S]*crashed — was killed by SIGKILL[\\s\\S]*ready — pid ${firstPid}`));
    assert.match(await text(frame, '[data-testid="restarts"]'), /^1$/);
    await waitForStatusBarText(session, "codistill", "Codistill: ready");
    await screenshot(session, "sidecar-restarted-after-sigkill");
  });

  it("loads onnxruntime-node inside the extension host", async () => {
    await runCommand(session, "Codistill: Check ONNX Runtime");
    const message = await waitForNotification(session, /ONNX Runtime \S+ works in the extension host/);
    assert.match(message, /self-test output \[\[1\.5,1\.5\],\[9\.5,11\.5\]\]/);
    await screenshot(session, "onnxruntime-in-extension-host");
  });
});

describe("Codistill in an untrusted workspace", () => {
  it("does not start the sidecar, and says why", async () => {
    const workspace = demoWorkspaceCopy();
    const session = await startVsCode({ vsix: VSIX, workspace, userSettings: { "codistill.pythonPath": PYTHON } });
    try {
      await restrictWorkspace(session);
      await runCommand(session, "Codistill: Show Sidecar Status");
      const frame = await webviewFrame(session, PANEL);
      await frame.locator('[data-testid="problem"]', { hasText: "not trusted" }).waitFor({ timeout: 30_000 });
      await waitForStatusBarText(session, "codistill", "Codistill: stopped");
      assert.deepEqual(
        leftoverProcesses(session.marker).filter((p) => p.cmdline.includes("codistill serve")),
        [],
        "no sidecar process in Restricted Mode",
      );
      await screenshot(session, "sidecar-untrusted-workspace");
    } finally {
      await stop(session);
      rmSync(workspace, { recursive: true, force: true });
    }
    assert.deepEqual(leftoverProcesses(session.marker), []);
  });
});

describe("Codistill on a machine where no Python has the sidecar yet", () => {
  it("says which interpreter lacks it, then Set Up Python Environment installs it and the sidecar starts", async () => {
    const workspace = demoWorkspaceCopy();
    // No codistill.pythonPath: discovery falls through to python3 on PATH, which lacks the sidecar.
    const session = await startVsCode({ vsix: VSIX, workspace });
    try {
      await trustWorkspace(session);
      await runCommand(session, "Codistill: Show Sidecar Status");
      const frame = await webviewFrame(session, PANEL);
      const problem = frame.locator('[data-testid="problem"]');
      await problem.waitFor({ timeout: 60_000 });
      assert.match(await problem.innerText(), /Python 3\.\d+\.\d+ at \S+ \(python3 on PATH\) does not have the Codistill sidecar[\s\S]*Set Up Python Environment/);
      await screenshot(session, "sidecar-not-installed");

      await runCommand(session, "Codistill: Set Up Python Environment");
      await waitForNotification(session, /Codistill: setting up Python/, { timeoutMs: 30_000 });
      await waitForNotification(session, /Codistill's Python environment is ready in .*venv \(CPU build of torch\)/, { timeoutMs: 900_000 });
      await waitForState(frame, "ready", 120_000);
      assert.match(await text(frame, '[data-testid="interpreter"]'), /venv\/bin\/python \(Python 3\.\d+\.\d+, the venv made by Codistill: Set Up Python Environment\)/);
      assert.match(await text(frame, "#versions"), /torch\s+2\.13\.0/);
      await screenshot(session, "sidecar-after-python-setup");
    } finally {
      await stop(session);
      rmSync(workspace, { recursive: true, force: true });
    }
    assert.deepEqual(leftoverProcesses(session.marker), []);
  });
});
