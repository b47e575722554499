import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { openDataset } from "../../src/core/datasets/index";
import { parsePanelMessage } from "../../src/panels/shared/messages";
import { sidecarStatusValidators } from "../../src/panels/sidecarStatus/protocol";
import { formDefaults } from "../../src/core/training/launch";
import { parseExperimentConfig } from "../../src/core/experiment/config";
import { COT_STATUS_FILTERS, trainingValidators } from "../../src/panels/training/protocol";
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

describe("the Training panel's messages", () => {
  const parse = (raw: unknown) => parsePanelMessage(raw, trainingValidators);
  const yaml = "datasets:\n  - { name: mbpp, path: data/mbpp.jsonl }\nstudent: { model: ./s }\nencoder: { model: ./e }\ntraining:\n  datasets: [mbpp]\n  cots: [mbpp-cots]\n";
  const form = formDefaults(parseExperimentConfig(yaml, "/ws/codistill.yaml").config);

  it("starts a run with the picked CoT sets and status filter", () => {
    assert.deepEqual(form.cotSets, ["mbpp-cots"]);
    assert.ok(parse({ id: 1, method: "training/start", params: form }).ok);
    assert.ok(parse({ id: 1, method: "training/start", params: { ...form, cotSets: [], cotStatuses: [] } }).ok, "code-only SFT needs no filter");
    assert.ok(parse({ id: 1, method: "training/start", params: { ...form, cotStatuses: [...COT_STATUS_FILTERS] } }).ok);
    assert.deepEqual(COT_STATUS_FILTERS, ["verified", "valid", "accepted", "failed-verification", "invalid"]);
  });

  it("refuses a form whose CoT fields are wrong, naming the field", () => {
    const start = (params: unknown) => parse({ id: 1, method: "training/start", params });
    assert.deepEqual(start({ ...form, cotStatuses: [] }), { ok: false, error: "training/start params: cotStatuses: check at least one status of the CoT records to train on" });
    assert.deepEqual(start({ ...form, cotStatuses: ["rejected"] }), { ok: false, error: "training/start params: cotStatuses: expected a list of verified, valid, accepted, failed-verification, invalid" });
    assert.deepEqual(start({ ...form, cotSets: [3] }), { ok: false, error: "training/start params: cotSets: expected a list of CoT set names" });
    const { cotSets: _cotSets, ...withoutSets } = form;
    assert.deepEqual(start(withoutSets), { ok: false, error: "training/start params: cotSets: expected a list of CoT set names" });
  });
});

describe("the Dataset Browser's CoT messages", () => {
  const parse = async (raw: unknown) => parsePanelMessage(raw, (await import("../../src/panels/datasetBrowser/protocol")).datasetBrowserValidators);

  it("accepts a review action on a task, picking a set or none, and a query with a status filter", async () => {
    for (const action of ["accept", "reject", "regenerate", "edit"]) {
      assert.ok((await parse({ id: 1, method: "datasetBrowser/cotAction", params: { index: 0, action } })).ok, action);
    }
    assert.ok((await parse({ id: 2, method: "datasetBrowser/selectCotSet", params: { name: "humaneval-cots" } })).ok);
    assert.ok((await parse({ id: 2, method: "datasetBrowser/selectCotSet", params: { name: "mbpp_v2.cots" } })).ok);
    assert.ok((await parse({ id: 2, method: "datasetBrowser/selectCotSet", params: { name: null } })).ok);
    assert.ok((await parse({ id: 3, method: "datasetBrowser/query", params: { filter: {}, cot: "failedVerification" } })).ok);
    assert.ok((await parse({ id: 3, method: "datasetBrowser/query", params: { filter: { text: "prime" }, cot: "unreviewed" } })).ok);
    assert.ok((await parse({ id: 3, method: "datasetBrowser/query", params: { filter: {} } })).ok, "no status filter is any");
  });

  it("refuses a wrong action, index, set name or status filter, naming the field", async () => {
    const action = "action: expected one of accept, reject, regenerate, edit";
    assert.deepEqual(await parse({ id: 1, method: "datasetBrowser/cotAction", params: { index: 0, action: "delete" } }), { ok: false, error: `datasetBrowser/cotAction params: ${action}` });
    assert.deepEqual(await parse({ id: 1, method: "datasetBrowser/cotAction", params: { index: 0 } }), { ok: false, error: `datasetBrowser/cotAction params: ${action}` });
    for (const index of [-1, 1.5, "3", undefined]) {
      assert.deepEqual(await parse({ id: 1, method: "datasetBrowser/cotAction", params: { index, action: "accept" } }), { ok: false, error: "datasetBrowser/cotAction params: index: expected a non-negative integer" });
    }
    const name = 'datasetBrowser/selectCotSet params: name: expected a CoT set name (letters, digits, ".", "-", "_") or null';
    for (const bad of ["../secrets", "a/b", "", ".hidden", 7, undefined, "x".repeat(101)]) {
      assert.deepEqual(await parse({ id: 2, method: "datasetBrowser/selectCotSet", params: { name: bad } }), { ok: false, error: name }, String(bad));
    }
    assert.deepEqual(await parse({ id: 2, method: "datasetBrowser/selectCotSet" }), { ok: false, error: name });
    assert.deepEqual(await parse({ id: 3, method: "datasetBrowser/query", params: { filter: {}, cot: "failed-verification" } }), {
      ok: false,
      error: "datasetBrowser/query params: cot: expected one of any, verified, valid, failedVerification, invalid, failed, none, accepted, rejected, edited, unreviewed",
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
