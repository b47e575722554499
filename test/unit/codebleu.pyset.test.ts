// The CPython emulation behind reference mode, checked against real CPython 3.11 run with
// PYTHONHASHSEED=0: hash() of str (SipHash-1-3, zero key, PEP 393 widths) and the iteration order
// of list(set(items)) for strings and small ints, through resizes and probe collisions.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, it } from "node:test";
import { pyIsBlank, pySetOrder, pySplit, pyStrHash, pyStrip } from "../../src/core/codebleu/pythonCompat";
import { sidecarPython } from "./helpers";

/** A small deterministic generator (the lists must be the same at every run). */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const ALPHABETS = [
  ["a", "b", "x", "_", "1"],
  ["a", "b", "é", "ÿ"], // Latin-1: one byte per character
  ["a", "ж", "€", "ॐ"], // BMP: two
  ["a", "😀", "𝔘", "é"], // astral: four
];

function stringLists(count: number): string[][] {
  const next = random(2026);
  return Array.from({ length: count }, (_, i) => {
    const alphabet = ALPHABETS[i % ALPHABETS.length];
    const length = Math.floor(next() * 90);
    return Array.from({ length }, () => Array.from({ length: Math.floor(next() * 9) }, () => alphabet[Math.floor(next() * alphabet.length)]).join(""));
  });
}

function intLists(count: number): number[][] {
  const next = random(59);
  return Array.from({ length: count }, (_, i) => {
    const range = [8, 40, 300, 5000, 1 << 20][i % 5];
    return Array.from({ length: Math.floor(next() * 120) }, () => Math.floor(next() * range));
  });
}

/** CPython's answers, one JSON line per list: [list(set(items)), [str(hash(x)) for x in items]]. */
function cpython(lists: readonly unknown[][]): [unknown[], string[]][] {
  const script = "import json, sys\nfor line in sys.stdin:\n    items = json.loads(line)\n    print(json.dumps([list(set(items)), [str(hash(x)) for x in items]]))\n";
  const out = execFileSync(sidecarPython(), ["-c", script], { input: lists.map((l) => JSON.stringify(l)).join("\n") + "\n", env: { ...process.env, PYTHONHASHSEED: "0" }, encoding: "utf8" });
  return out
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as [unknown[], string[]]);
}

describe("CPython emulation (PYTHONHASHSEED=0)", () => {
  it("hashes str as CPython does, for every storage width", () => {
    const lists = stringLists(120);
    const expected = cpython(lists);
    let checked = 0;
    lists.forEach((list, i) =>
      list.forEach((s, k) => {
        assert.equal(BigInt.asIntN(64, pyStrHash(s)).toString(), expected[i][1][k], JSON.stringify(s));
        checked++;
      }),
    );
    assert.ok(checked > 3000, `${checked} strings`);
  });

  it("orders list(set(strings)) as CPython does", () => {
    const lists = [...stringLists(300), ["b", "a"], ["a", "b", "a", "b"], [], [""], ["", "a", ""]];
    const expected = cpython(lists);
    lists.forEach((list, i) => assert.deepEqual(pySetOrder(list), expected[i][0], JSON.stringify(list)));
    // The emulation is not first-appearance order in disguise.
    assert.ok(lists.some((l, i) => JSON.stringify(expected[i][0]) !== JSON.stringify([...new Set(l)])));
  });

  it("orders list(set(ints)) as CPython does, through resizes and probe chains", () => {
    const lists = [...intLists(300), [8, 0, 16, 24, 32, 40, 48, 56, 64, 72, 80, 1], [1 << 30, 3, 1 << 30]];
    const expected = cpython(lists);
    lists.forEach((list, i) => assert.deepEqual(pySetOrder(list), expected[i][0], JSON.stringify(list)));
  });

  it("splits and strips on str.isspace() whitespace", () => {
    assert.deepEqual(pySplit(" a\u00a0b\u2003c\x1cd\x85e\tf\ufeffg "), ["a", "b", "c", "d", "e", "f\ufeffg"]);
    assert.equal(pyStrip("\x1f\u3000 x \x0b\u2028"), "x");
    assert.equal(pyStrip("\ufeffx"), "\ufeffx");
    assert.ok(pyIsBlank(" \t\r\x0c"));
    assert.ok(!pyIsBlank(" \ufeff "));
  });
});
