// Notifications from the sidecar are checked against src/sidecar/protocol.ts on arrival: an invalid
// one is logged with its method and first problem, and never reaches a handler.
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { describe, it } from "node:test";
import type { RunParams } from "../../src/panels/evaluation/protocol";
import type { TrainingReplies, TrainingToHost, TrainingToWebview, TrainingView } from "../../src/panels/training/protocol";
import type { ParamsValidators } from "../../src/panels/shared/messages";
import type { PanelChannel, PanelHandlers } from "../../src/panels/shared/webviewHost";
import { consoleLogger } from "../../src/sidecar/logger";
import { TRAIN_METRIC_KEYS, validateNotification, type NotificationName, type TrainProgressParams } from "../../src/sidecar/protocol";
import { RpcClient } from "../../src/sidecar/rpcClient";
import { SidecarSupervisor } from "../../src/sidecar/supervisor";
import type { HostConnection } from "../../webview/shared/host";
import { goldenMessages, sidecarPython } from "./helpers";

const NOTIFICATIONS: readonly NotificationName[] = ["eval/progress", "train/progress", "train/checkpoint", "train/finished", "train/failed", "generate/token", "generate/finished"];

describe("sidecar notifications are validated on arrival", () => {
  it("drops an invalid notification from a real sidecar process, logs its method and first problem, and delivers the valid one after it", async () => {
    const metrics = Object.fromEntries(TRAIN_METRIC_KEYS.map((key) => [key, key === "loss" ? 0.5 : null]));
    const sent: [string, unknown][] = [
      ["train/progress", { runId: "r1", step: "x", totalSteps: 10, epoch: 0.1, metrics }],
      ["train/progress", { runId: "r1", step: 3, totalSteps: 10, epoch: 0.3, metrics }],
      ["train/teleported", { runId: "r1" }],
    ];
    // A real sidecar that writes those notifications on its stdout, encoded as the server encodes
    // every message, before it serves: they arrive before the answer to initialize.
    const script = [
      "import json, os, sys",
      "from codistill import protocol",
      "from codistill.server import encode_message",
      "for method, params in json.loads(sys.argv[1]):",
      "    os.write(1, encode_message(protocol.notification(method, params)))",
      "from codistill.cli import main",
      "raise SystemExit(main(['serve']))",
    ].join("\n");
    const log = consoleLogger("notifications", "error");
    const supervisor = new SidecarSupervisor({
      launch: async () => ({ command: sidecarPython(), args: ["-c", script, JSON.stringify(sent)] }),
      log,
      clientName: "unit-test",
      clientVersion: "0",
      requestTimeoutMs: 10_000,
      stopGraceMs: 1500,
    });
    const received: TrainProgressParams[] = [];
    supervisor.onNotification("train/progress", (params) => received.push(params));
    try {
      await supervisor.start();
      assert.equal(supervisor.state, "ready", log.lines.join("\n"));
      assert.deepEqual(received, [sent[1]![1]]);
      assert.equal(received[0]!.step, 3);
      const dropped = log.lines.filter((l) => l.includes("dropped an invalid sidecar notification"));
      assert.deepEqual(dropped, [
        "[notifications] warn: dropped an invalid sidecar notification train/progress: params.step: expected a non-negative integer",
        '[notifications] warn: dropped an invalid sidecar notification train/teleported: method: no params schema for notification "train/teleported"',
      ]);
      // The sidecar goes on working after what it sent was dropped.
      assert.equal((await supervisor.request("health/ping", {})).pong, true);
    } finally {
      await supervisor.stop();
    }
  });

  it("delivers each valid golden notification and drops each invalid one, on a sidecar-shaped stream", async () => {
    const toClient = new PassThrough();
    const log = consoleLogger("golden", "error");
    const client = new RpcClient(new PassThrough(), toClient, log);
    const delivered: [string, unknown][] = [];
    for (const method of NOTIFICATIONS) client.onNotification(method, (params) => delivered.push([method, params]));

    const goldens = goldenMessages().filter((g) => g.direction === "toClient" && typeof g.message === "object" && g.message !== null && "method" in g.message && !("id" in g.message));
    assert.ok(goldens.some((g) => g.valid) && goldens.some((g) => !g.valid), "valid and invalid golden notifications");
    // One chunk per message, split mid-line: the client reassembles lines.
    for (const golden of goldens) {
      const line = `${JSON.stringify(golden.message)}\n`;
      toClient.write(line.slice(0, 7));
      toClient.write(line.slice(7));
    }
    await new Promise((resolve) => setImmediate(resolve));

    const methodOf = (message: unknown) => (message as { method: string }).method;
    assert.deepEqual(delivered, goldens.filter((g) => g.valid).map((g) => [methodOf(g.message), (g.message as { params: unknown }).params]));
    const expected = goldens.filter((g) => !g.valid).map((g) => `[golden] warn: dropped an invalid sidecar notification ${methodOf(g.message)}: ${validateNotification(g.message)[0]}`);
    assert.deepEqual(log.lines.filter((l) => l.includes("dropped")), expected);
  });

  it("rejects a wrong method or params shape at compile time (npm run typecheck checks the lines below)", () => {
    assert.equal(typeof compileTimeChecks, "function");
  });
});

/** Never called: each @ts-expect-error line must fail to compile, or typecheck fails. */
function compileTimeChecks(
  client: RpcClient,
  supervisor: SidecarSupervisor,
  channel: PanelChannel<TrainingToHost, TrainingToWebview, TrainingReplies>,
  host: HostConnection<unknown, TrainingToHost, TrainingToWebview, TrainingReplies>,
  view: TrainingView,
  run: RunParams,
): void {
  // Sidecar notifications: the method is one of NotificationMap's, the handler gets its params.
  client.onNotification("train/progress", (p) => p.metrics.loss);
  // @ts-expect-error: no such notification
  client.onNotification("train/progres", () => undefined);
  // @ts-expect-error: train/checkpoint params have no metrics
  supervisor.onNotification("train/checkpoint", (p) => p.metrics);

  // The host's validators and handlers: one per webview -> host method, each typed by its method.
  const none = () => undefined;
  // @ts-expect-error: training/metrics has no validator
  const validators: ParamsValidators<TrainingToHost> = { "training/ready": none, "training/start": none, "training/stop": none, "training/resume": none };
  void validators;
  const handlers: PanelHandlers<TrainingToHost, TrainingReplies> = {
    "training/ready": none,
    "training/start": (form) => form.student,
    "training/stop": none,
    // @ts-expect-error: training/resume's params have a runId, not a runDir
    "training/resume": ({ runDir }) => runDir,
    // @ts-expect-error: the reply of training/metrics is a record of metrics lines
    "training/metrics": () => "none",
  };
  void handlers;

  // Host -> webview.
  void channel.notify("training/state", view);
  // @ts-expect-error: no such host -> webview method
  void channel.notify("training/stat", view);
  // @ts-expect-error: training/progress params are { runId, line }
  void channel.notify("training/progress", view);

  // Webview -> host: notify, and request with its reply's type.
  host.notify("training/ready");
  host.notify("training/resume", { runId: "r1" });
  const metrics: Promise<TrainingReplies["training/metrics"]> = host.request("training/metrics", { runIds: ["r1"] });
  void metrics;
  // @ts-expect-error: an evaluation method, not a training one
  host.notify("evaluation/run", run);
  // @ts-expect-error: runIds is a list of run ids
  void host.request("training/metrics", { runIds: "r1" });
  // @ts-expect-error: training/resume needs its params
  host.notify("training/resume");
  // @ts-expect-error: the reply of training/metrics is a record of metrics lines, not a string
  const wrong: Promise<string> = host.request("training/metrics", { runIds: [] });
  void wrong;
  // @ts-expect-error: training/ready is not a request the host answers with a value
  void host.request("training/ready");
  host.on("training/progress", ({ line }) => line.step);
  // @ts-expect-error: training/state's params are a TrainingView, which has no line
  host.on("training/state", ({ line }) => line);
}
