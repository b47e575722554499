import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { consoleLogger } from "../../src/sidecar/logger";
import { sidecarLaunchArgs } from "../../src/sidecar/interpreter";
import { backoffDelay, SidecarSupervisor, type LaunchSpec, type StateChange } from "../../src/sidecar/supervisor";
import { processAlive, sidecarPython, waitFor } from "./helpers";

function supervisorFor(launch: () => Promise<LaunchSpec | { problem: string; fix: string }>, initialMs = 200) {
  const log = consoleLogger("supervisor", "error");
  const changes: StateChange[] = [];
  const supervisor = new SidecarSupervisor({
    launch,
    log,
    clientName: "unit-test",
    clientVersion: "0",
    requestTimeoutMs: 10_000,
    backoff: { initialMs, maxMs: 1000, resetAfterMs: 60_000 },
    stopGraceMs: 1500,
  });
  supervisor.on("state", (c: StateChange) => changes.push(c));
  return { supervisor, changes, log };
}

const realSidecar = async (): Promise<LaunchSpec> => ({ command: sidecarPython(), args: sidecarLaunchArgs("info") });

describe("SidecarSupervisor with a real sidecar", () => {
  it("goes stopped -> starting -> ready and answers requests", async () => {
    const { supervisor, changes } = supervisorFor(realSidecar);
    assert.equal(supervisor.state, "stopped");
    await supervisor.start();
    assert.equal(supervisor.state, "ready");
    assert.deepEqual(changes.map((c) => c.state), ["starting", "ready"]);
    const snapshot = supervisor.snapshot();
    assert.equal(snapshot.initialize?.pid, snapshot.pid);
    assert.equal((await supervisor.request("health/ping", {})).pid, snapshot.pid);
    await supervisor.stop();
    assert.equal(supervisor.state, "stopped");
    assert.equal(processAlive(snapshot.pid!), false, "shutdown ended the process");
  });

  it("restarts after SIGKILL: crashed, then ready again with a new process", async () => {
    const { supervisor, changes } = supervisorFor(realSidecar);
    await supervisor.start();
    const firstPid = supervisor.snapshot().pid!;
    process.kill(firstPid, "SIGKILL");
    await waitFor("crashed", () => supervisor.state === "crashed");
    assert.match(supervisor.snapshot().lastError ?? "", /killed by SIGKILL/);
    await waitFor("ready again", () => supervisor.state === "ready", 30_000);
    const snapshot = supervisor.snapshot();
    assert.notEqual(snapshot.pid, firstPid);
    assert.equal(snapshot.restarts, 1);
    assert.deepEqual(changes.map((c) => c.state), ["starting", "ready", "crashed", "starting", "ready"]);
    assert.equal((await supervisor.request("health/ping", {})).pid, snapshot.pid);
    await supervisor.stop();
    assert.equal(processAlive(snapshot.pid!), false);
  });

  it("times out and cancels requests through the supervisor", async () => {
    const { supervisor } = supervisorFor(realSidecar);
    await supervisor.start();
    await assert.rejects(supervisor.request("health/ping", { delayMs: 30_000 }, { timeoutMs: 200 }), /timed out after 200 ms/);
    // The default timeout follows the setting without a restart.
    supervisor.setRequestTimeout(150);
    await assert.rejects(supervisor.request("health/ping", { delayMs: 30_000 }), /timed out after 150 ms/);
    const abort = new AbortController();
    const pending = supervisor.request("health/ping", { delayMs: 30_000 }, { signal: abort.signal });
    setTimeout(() => abort.abort(), 50);
    await assert.rejects(pending, /was cancelled/);
    assert.equal(supervisor.state, "ready");
    await supervisor.stop();
  });

  it("escalates to SIGTERM and SIGKILL when the process ignores shutdown", async () => {
    // A real sidecar whose shutdown handler hangs and which ignores SIGTERM.
    const script = [
      "import signal, threading",
      "from codistill import server",
      "from codistill.cli import main",
      "signal.signal(signal.SIGTERM, signal.SIG_IGN)",
      "server.install_signal_handlers = lambda *_: None",
      "server.Server._shutdown = lambda self, params, token: threading.Event().wait()",
      "raise SystemExit(main(['serve']))",
    ].join("\n");
    const { supervisor, log } = supervisorFor(async () => ({ command: sidecarPython(), args: ["-c", script] }));
    await supervisor.start();
    assert.equal(supervisor.state, "ready", log.lines.join("\n"));
    const pid = supervisor.snapshot().pid!;
    await supervisor.stop();
    assert.equal(processAlive(pid), false);
    assert.ok(log.lines.some((l) => l.includes("sending SIGTERM")));
    assert.ok(log.lines.some((l) => l.includes("sending SIGKILL")));
    assert.equal(supervisor.state, "stopped");
  });
});

describe("SidecarSupervisor without a usable sidecar", () => {
  it("reports a launch problem instead of crash-looping", async () => {
    const { supervisor, changes } = supervisorFor(async () => ({ problem: "No Python interpreter was found.", fix: "Install Python." }));
    await supervisor.start();
    assert.equal(supervisor.state, "stopped");
    assert.equal(supervisor.snapshot().launchProblem?.problem, "No Python interpreter was found.");
    await assert.rejects(supervisor.ready(), /No Python interpreter was found\. Install Python\./);
    assert.deepEqual(changes.map((c) => c.state), ["starting", "stopped", "starting", "stopped"]);
  });

  it("crashes and backs off when the process dies during start", async () => {
    const { supervisor } = supervisorFor(async () => ({ command: sidecarPython(), args: ["-c", "import sys; sys.stderr.write('boom: no sidecar here\\n'); sys.exit(3)"] }), 100);
    await supervisor.start();
    assert.equal(supervisor.state, "crashed");
    assert.match(supervisor.snapshot().lastError ?? "", /exited with code 3[\s\S]*boom: no sidecar here/);
    await waitFor("a second attempt", () => supervisor.snapshot().restarts >= 2, 10_000);
    await supervisor.stop();
    assert.equal(supervisor.state, "stopped");
    const restarts = supervisor.snapshot().restarts;
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(supervisor.snapshot().restarts, restarts, "no restart after stop()");
  });
});

describe("backoffDelay", () => {
  it("doubles per consecutive crash and is capped", () => {
    const policy = { initialMs: 1000, maxMs: 30_000, resetAfterMs: 60_000 };
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map((n) => backoffDelay(n, policy)), [1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  });
});
