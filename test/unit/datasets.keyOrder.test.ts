// Dict keys keep the order the source file gives them, from the source to the exported Task JSONL
// and the Dataset Browser, although a JS object puts array-index keys ("8", not "-51" or "08")
// first: Python's dict keeps the file's order, and a solution iterating a dict argument sees it.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseJson, serializeTask } from "../../src/core/datasets/index";
import { sourceKeyOrder, stringifyValue } from "../../src/core/datasets/json";
import { encodeBigInts } from "../../src/panels/datasetBrowser/protocol";
import { pyArgs, pyRepr } from "../../webview/datasetBrowser/format";
import { roundTrip, scratchDir, tasksOf } from "./datasetRoundTrip";

const tmp = scratchDir("codistill-key-order-");

describe("dict key order in JSON", () => {
  it("keys like 8 stay where the source has them; the object reads as usual", () => {
    const value = parseJson('{"b": 1, "8": 2, "a": 3}') as Record<string, number>;
    assert.deepEqual(value, { b: 1, 8: 2, a: 3 });
    assert.deepEqual(Object.keys(value), ["8", "b", "a"]);
    assert.deepEqual(sourceKeyOrder(value), ["b", "8", "a"]);
    assert.equal(stringifyValue(value), '{"b":1,"8":2,"a":3}');
  });

  it("nested, beside floats, big integers and non-finite tokens", () => {
    const text = '[{"z": [{"10": 1.0, "9": NaN, "x": {"y": 1, "0": 12345678901234567890}}], "3": "\\"8\\": 1", "1": -0.0}]';
    assert.equal(roundTrip(text), '[{"z":[{"10":1.0,"9":NaN,"x":{"y":1,"0":12345678901234567890}}],"3":"\\"8\\": 1","1":-0.0}]');
  });

  it("only array-index keys move in JS; the others, and objects JS keeps in order, are not noted", () => {
    assert.equal(roundTrip('{"a": 1, "4294967295": 2, "4294967294": 3, "-51": 4, "08": 5, "1.5": 6}'), '{"a":1,"4294967295":2,"4294967294":3,"-51":4,"08":5,"1.5":6}');
    const inOrder = parseJson('{"0": 1, "7": 2, "a": 3}') as object;
    assert.equal(sourceKeyOrder(inOrder), undefined);
    assert.equal(stringifyValue(inOrder), '{"0":1,"7":2,"a":3}');
    assert.equal(sourceKeyOrder(parseJson('{"-51": 1, "a": 2}') as object), undefined);
  });

  it("a key written twice or with escapes is one key, as Python reads it", () => {
    // json.loads: {"8": 4, "a": 3}. The key keeps its first place and takes its last value.
    assert.equal(roundTrip('{"a": 3, "8": 1, "\\u0038": 2, "8": 4}'), '{"a":3,"8":4}');
    assert.equal(roundTrip('{"__proto__": 1, "8": 2}'), '{"__proto__":1,"8":2}');
    assert.equal(Object.getPrototypeOf(parseJson('{"__proto__": 1, "8": 2}')), Object.prototype);
  });

  it("keys added or removed later: the rest keep the source order, new ones come last", () => {
    const value = parseJson('{"b": 1, "8": 2, "a": 3}') as Record<string, number>;
    delete value.b;
    value[1] = 4;
    value.c = 5;
    assert.equal(stringifyValue(value), '{"8":2,"a":3,"1":4,"c":5}');
  });
});

describe("dict key order through the dataset formats", () => {
  // HumanEval/95 (check_dict_case) passes dicts such as {"p": "pineapple", "5": "banana", "a": "apple"}.
  const rowText = JSON.stringify({
    task_id: "HumanEval/95",
    prompt: "def check_dict_case(dict):\n",
    entry_point: "check_dict_case",
    canonical_solution: "    return list(dict)\n",
    base_input: "BASE",
    plus_input: '[[{"b": 1, "8": 2, "a": 3}]]',
  }).replace('"BASE"', '[[{"p": "pineapple", "5": "banana", "a": "apple"}], [{"x": {"2": 1, "1": 2}, "0": []}]]');

  it("an EvalPlus row: inputs as a list and as a JSON string of one", async () => {
    const file = join(tmp, "evalplus.jsonl");
    writeFileSync(file, `${rowText}\n`);
    const [task] = await tasksOf(file, "humaneval+");
    assert.match(serializeTask(task!), /"inputs":\[\[\{"p":"pineapple","5":"banana","a":"apple"\}\],\[\{"x":\{"2":1,"1":2\},"0":\[\]\}\],\[\{"b":1,"8":2,"a":3\}\]\]/);
  });

  it("normalized Task JSONL re-exports byte for byte; meta's keys stay sorted", async () => {
    const file = join(tmp, "evalplus-2.jsonl");
    writeFileSync(file, `${rowText}\n`);
    const [task] = await tasksOf(file, "humaneval+");
    task!.meta["10"] = "ten";
    task!.meta["9"] = "nine";
    const text = `${serializeTask(task!)}\n`;
    assert.match(text, /"meta":\{"10":"ten","9":"nine","baseInputs":2,"plusInputs":1\}/);
    const exported = join(tmp, "order.tasks.jsonl");
    writeFileSync(exported, text);
    const again = await tasksOf(exported, "tasks");
    assert.equal(`${serializeTask(again[0]!)}\n`, text);
  });
});

describe("dict key order in the Dataset Browser", () => {
  it("a reordered dict crosses to the webview as { $dict } and prints in the source's order", () => {
    const task = parseJson('{"tests": {"inputs": [[{"b": 1.0, "8": 2, "a": [{"3": 1, "2": 2}]}, {"0": 1, "c": 2}]]}}');
    const encoded = JSON.parse(JSON.stringify(encodeBigInts(task))) as { tests: { inputs: unknown[][] } };
    assert.deepEqual(encoded.tests.inputs[0], [
      { $dict: [["b", { $float: "1.0" }], ["8", 2], ["a", [{ $dict: [["3", 1], ["2", 2]] }]]] },
      { 0: 1, c: 2 },
    ]);
    assert.equal(pyArgs(encoded.tests.inputs[0]), '{"b": 1.0, "8": 2, "a": [{"3": 1, "2": 2}]}, {"0": 1, "c": 2}');
    assert.equal(pyRepr({ $dict: [["b", 1], ["8", 2], ["a", 3]] }, 12), '{"b": 1, "8…');
  });
});
