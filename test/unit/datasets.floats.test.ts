// Floats with an integral value (1.0, -0.0, 1e+22) stay floats from the source file to the
// exported Task JSONL, where Python reads them as float, not int: a solution that formats or
// type-checks its argument must see what EvalPlus gives it.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseJson, serializeTask } from "../../src/core/datasets/index";
import { stringifyValue } from "../../src/core/datasets/json";
import { encodeBigInts } from "../../src/panels/datasetBrowser/protocol";
import { pyArgs, pyRepr } from "../../webview/datasetBrowser/format";
import { roundTrip, scratchDir, tasksOf } from "./datasetRoundTrip";

const tmp = scratchDir("codistill-floats-");

describe("integral floats in JSON", () => {
  it("are written back as floats; the values stay plain numbers", () => {
    const value = parseJson("[[1.0, 2.0, 3.9], 0.3]");
    assert.deepEqual(value, [[1, 2, 3.9], 0.3]);
    assert.equal(stringifyValue(value), "[[1.0,2.0,3.9],0.3]");
    assert.equal(roundTrip('{"x": 1.0, "y": 1, "z": [0.0, 0, -0.0, -0]}'), '{"x":1.0,"y":1,"z":[0.0,0,-0.0,0]}');
    assert.ok(Object.is((parseJson("[-0.0]") as number[])[0], -0));
  });

  it("with an exponent, or digits beyond a double's precision, as Python's repr writes them", () => {
    assert.equal(roundTrip("[1e+22, -1e+100, 1E5, 1.5e1, 2.5e-3, 1e400, 12345678901234567.0]"), "[1e+22,-1e+100,100000.0,15.0,0.0025,Infinity,1.2345678901234568e+16]");
    assert.equal(roundTrip("[1.00000000000000000001, 100.000]"), "[1.0,100.0]");
  });

  it("next to big integers and non-finite tokens; strings untouched", () => {
    const value = parseJson('[1.0, 123456789098765432101234567890, NaN, -Infinity, "1.0 NaN 12345678901234567890", {"k": 3.0}]') as unknown[];
    assert.equal(value[1], 123456789098765432101234567890n);
    assert.equal(value[4], "1.0 NaN 12345678901234567890");
    assert.equal(stringifyValue(value), '[1.0,123456789098765432101234567890,NaN,-Infinity,"1.0 NaN 12345678901234567890",{"k":3.0}]');
    assert.equal(roundTrip("[9007199254740993, 1.5, 2]"), "[9007199254740993,1.5,2]");
  });
});

describe("integral floats through the dataset formats", () => {
  const evalPlusRow = {
    task_id: "HumanEval/0",
    prompt: "def has_close_elements(numbers, threshold):\n",
    entry_point: "has_close_elements",
    canonical_solution: "    return str(numbers) + str(threshold)\n",
    base_input: [[[1.0, 2.0, 3.9], 0.3]],
    plus_input: "[[[1.0, 2.0, 5.9, 4.0, 5.0], 0.95]]",
    atol: 0.0,
  };
  // JSON.stringify cannot write 1.0: build the row's text by hand, as Python's json module would.
  const rowText = JSON.stringify(evalPlusRow).replace('"atol":0', '"atol":0.0').replace("[[[1,2,3.9],0.3]]", "[[[1.0, 2.0, 3.9], 0.3]]");

  it("an EvalPlus row: inputs (a list or a JSON string of one) and atol", async () => {
    const file = join(tmp, "evalplus.jsonl");
    writeFileSync(file, `${rowText}\n`);
    const [task] = await tasksOf(file, "humaneval+");
    const line = serializeTask(task!);
    assert.match(line, /"inputs":\[\[\[1\.0,2\.0,3\.9\],0\.3\],\[\[1\.0,2\.0,5\.9,4\.0,5\.0\],0\.95\]\]/);
    assert.match(line, /"atol":0\.0/);
  });

  it("normalized Task JSONL re-exports byte for byte, floats in meta included", async () => {
    const file = join(tmp, "evalplus-2.jsonl");
    writeFileSync(file, `${rowText}\n`);
    const [task] = await tasksOf(file, "humaneval+");
    const exported = join(tmp, "floats.tasks.jsonl");
    const text = `${serializeTask(task!).replace('"plusInputs":1}', '"plusInputs":1,"score":2.0}')}\n`;
    assert.match(text, /"score":2\.0/);
    writeFileSync(exported, text);
    const again = await tasksOf(exported, "tasks");
    assert.equal(`${serializeTask(again[0]!)}\n`, text);
  });

  it("TACO call-based tests (input_output is a JSON string)", async () => {
    const file = join(tmp, "taco.jsonl");
    const row = { question: "Halve.", solutions: '["def half(x):\\n    return x / 2\\n"]', input_output: '{"fn_name": "half", "inputs": [[4.0], [3]], "outputs": [[2.0], [1.5]]}' };
    writeFileSync(file, `${JSON.stringify(row)}\n`);
    const [task] = await tasksOf(file, "taco");
    assert.match(serializeTask(task!), /"inputs":\[\[4\.0\],\[3\]\],"outputs":\[\[2\.0\],\[1\.5\]\]/);
  });
});

describe("integral floats in the Dataset Browser", () => {
  it("cross to the webview as { $float } and print as 1.0", () => {
    const task = parseJson('{"tests": {"inputs": [[[1.0, 2.0, 3.9], 0.3, 12345678901234567890]], "atol": 0.0}, "meta": {"n": 1}}');
    const encoded = JSON.parse(JSON.stringify(encodeBigInts(task))) as { tests: { inputs: unknown[][]; atol: unknown } };
    assert.deepEqual(encoded, {
      tests: { inputs: [[[{ $float: "1.0" }, { $float: "2.0" }, 3.9], 0.3, { $bigint: "12345678901234567890" }]], atol: { $float: "0.0" } },
      meta: { n: 1 },
    });
    assert.equal(pyArgs(encoded.tests.inputs[0]), "[1.0, 2.0, 3.9], 0.3, 12345678901234567890");
    assert.equal(pyRepr(encoded.tests.atol), "0.0");
  });
});
