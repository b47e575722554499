import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { openDataset } from "../../src/core/datasets/index";
import { parsePanelMessage } from "../../src/panels/shared/messages";
import { sidecarStatusValidators } from "../../src/panels/sidecarStatus/protocol";
import { REPO } from "./helpers";

describe("webview messages are validated before the host acts on them", () => {
  const parse = (raw: unknown) => parsePanelMessage(raw, sidecarStatusValidators);

  it("accepts the panel's notifications and requests", () => {
    assert.deepEqual(parse({ method: "sidecarStatus/ready" }), { ok: true, value: { method: "sidecarStatus/ready" } });
    const request = parse({ id: 3, method: "sidecarStatus/restart", params: {} });
    assert.ok(request.ok);
  });

  it("rejects anything else, naming what is wrong", () => {
    assert.deepEqual(parse("restart"), { ok: false, error: "message: expected an object" });
    assert.deepEqual(parse({ params: {} }), { ok: false, error: "method: expected a string" });
    assert.deepEqual(parse({ method: "training/start" }), { ok: false, error: 'method: unknown method "training/start"' });
    assert.deepEqual(parse({ id: "x", method: "sidecarStatus/restart" }), { ok: false, error: "id: expected a non-negative integer" });
    assert.deepEqual(parse({ method: "sidecarStatus/restart", params: { force: true } }), {
      ok: false,
      error: "sidecarStatus/restart params: expected no parameters",
    });
  });
});

describe("big integers cross to the webview exactly", () => {
  it("encodes BigInt as its digits, deep inside a task", async () => {
    const { encodeBigInts, isBigIntValue } = await import("../../src/panels/datasetBrowser/protocol");
    const encoded = encodeBigInts({ tests: { inputs: [[1, 123456789098765432101234567890n], [-98765432101234567890123456789n]] } });
    assert.deepEqual(JSON.parse(JSON.stringify(encoded)), {
      tests: { inputs: [[1, { $bigint: "123456789098765432101234567890" }], [{ $bigint: "-98765432101234567890123456789" }]] },
    });
    assert.ok(isBigIntValue({ $bigint: "12" }));
    assert.ok(!isBigIntValue({ $bigint: "12", other: 1 }));
  });

  it("encodes a whole task as encodeBigInts does, on every golden dataset", async () => {
    const { encodeBigInts, encodeTask } = await import("../../src/panels/datasetBrowser/protocol");
    const golden = join(REPO, "test", "fixtures", "datasets", "golden");
    let tasks = 0;
    for (const file of readdirSync(golden)) {
      const dataset = await openDataset(join(golden, file));
      try {
        await dataset.whenIndexed();
        for (let i = 0; i < dataset.summaries.length; i++, tasks++) {
          const task = await dataset.task(i);
          assert.equal(JSON.stringify(encodeTask(task)), JSON.stringify(encodeBigInts(task)), `${file} task ${i}`);
        }
      } finally {
        await dataset.close();
      }
    }
    assert.ok(tasks > 20, `only ${tasks} tasks`);
  });
});
