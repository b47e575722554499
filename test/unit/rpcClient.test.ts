import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { execa, type ResultPromise } from "execa";
import { consoleLogger } from "../../src/sidecar/logger";
import { validateResult } from "../../src/sidecar/protocol";
import {
  ConnectionClosedError,
  RequestCancelledError,
  RequestTimeoutError,
  RpcClient,
  RpcError,
} from "../../src/sidecar/rpcClient";
import { sidecarPython, waitFor } from "./helpers";

interface Harness {
  child: ResultPromise<{ buffer: false; reject: false }>;
  client: RpcClient;
  log: ReturnType<typeof consoleLogger>;
}

function startSidecar(args: string[] = ["-m", "codistill", "serve", "--log-level", "debug"]): Harness {
  const child = execa(sidecarPython(), args, { stdin: "pipe", stdout: "pipe", stderr: "pipe", buffer: false, reject: false });
  const log = consoleLogger("test", "error");
  return { child, client: new RpcClient(child.stdin!, child.stdout!, log, 10_000), log };
}

describe("RpcClient against a real sidecar process", () => {
  let h: Harness;
  before(() => {
    h = startSidecar();
  });
  after(async () => {
    await h.client.request("shutdown", undefined).catch(() => undefined);
    const result = await h.child;
    assert.equal(result.exitCode, 0, "shutdown makes the sidecar exit 0");
  });

  it("round-trips initialize with versions and devices", async () => {
    const result = await h.client.request("initialize", { protocolVersion: "1", clientName: "unit-test" });
    assert.deepEqual(validateResult("initialize", result), []);
    assert.equal(result.protocolVersion, "1");
    assert.equal(result.pid, h.child.pid);
    assert.match(result.python.version, /^3\.\d+\.\d+$/);
    assert.match(result.packages.torch ?? "", /^2\./, "torch is installed by the set-up");
    assert.equal(typeof result.devices.cuda, "boolean");
  });

  it("times out a slow request, tells the sidecar to cancel it, and keeps working", async () => {
    const started = Date.now();
    await assert.rejects(h.client.request("health/ping", { delayMs: 20_000 }, { timeoutMs: 300 }), RequestTimeoutError);
    assert.ok(Date.now() - started < 2000);
    // The sidecar got $/cancelRequest: it answers the abandoned request early, with -32800.
    await waitFor("the cancelled request's late answer", () => h.log.lines.some((l) => l.includes("acknowledged the cancel of abandoned request")), 5000);
    const pong = await h.client.request("health/ping", {});
    assert.equal(pong.pong, true);
    assert.equal(h.client.pendingCount, 0);
  });

  it("cancels a request through an AbortSignal", async () => {
    const abort = new AbortController();
    const pending = h.client.request("health/ping", { delayMs: 20_000 }, { signal: abort.signal });
    setTimeout(() => abort.abort(), 100);
    await assert.rejects(pending, RequestCancelledError);
    assert.equal(h.client.pendingCount, 0);
  });

  it("surfaces JSON-RPC errors with their code", async () => {
    await assert.rejects(h.client.requestUntyped("train/teleport", {}), (err: RpcError) => err.code === -32601);
    await assert.rejects(h.client.requestUntyped("health/ping", { delayMs: "soon" }), (err: RpcError) => err.code === -32602);
  });

  it("answers many concurrent requests", async () => {
    const results = await Promise.all(Array.from({ length: 50 }, () => h.client.request("health/ping", {})));
    assert.equal(results.length, 50);
    assert.ok(results.every((r) => r.pong === true));
  });
});

describe("RpcClient when the sidecar misbehaves", () => {
  it("logs a malformed line from the child and keeps working", async () => {
    const script = [
      "import os",
      "os.write(1, b'this is not json\\n[1, 2]\\n')",
      "from codistill.cli import main",
      "raise SystemExit(main(['serve']))",
    ].join("\n");
    const h = startSidecar(["-c", script]);
    const result = await h.client.request("initialize", { protocolVersion: "1" });
    assert.equal(result.protocolVersion, "1");
    assert.ok(h.log.lines.some((l) => l.includes("not JSON") && l.includes("this is not json")), h.log.lines.join("\n"));
    assert.ok(h.log.lines.some((l) => l.includes("not a JSON-RPC message")));
    await h.client.request("shutdown", undefined);
    assert.equal((await h.child).exitCode, 0);
  });

  it("fails outstanding requests when the process dies, and later ones at once", async () => {
    const h = startSidecar();
    await h.client.request("initialize", { protocolVersion: "1" });
    const pending = h.client.request("health/ping", { delayMs: 20_000 });
    h.child.kill("SIGKILL");
    await assert.rejects(pending, ConnectionClosedError);
    await assert.rejects(h.client.request("health/ping", {}), ConnectionClosedError);
    assert.equal((await h.child).signal, "SIGKILL");
  });
});
