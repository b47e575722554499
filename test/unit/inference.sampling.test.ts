// Choosing tokens and stopping: greedy is torch.argmax (first on a tie); sampling follows its seed
// and never leaves the nucleus; the tempered softmax matches its formula; stop sequences split
// across pieces are never shown, and the text ends right before the first one.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { argmax, checkSampling, chooseToken, nucleusOf, SamplingError, seededRandom, softmax } from "../../src/core/inference/sampling";
import { StopMatcher } from "../../src/core/inference/stops";

describe("choosing the next token", () => {
  it("greedy is the first largest logit", () => {
    assert.equal(argmax([0.1, 3, -2, 3]), 1);
    assert.equal(chooseToken(Float32Array.from([1, 2, 5, 5]), {}, () => 0.99), 2);
    assert.equal(chooseToken([1, 2, 5, 5], { temperature: 0, topP: 0.1 }, () => 0.5), 2);
  });

  it("softmax over tempered logits matches its formula and sums to 1", () => {
    const logits = [1000, 999, 990];
    const p = softmax(logits, 2);
    const expected = [0, -0.5, -5].map(Math.exp);
    const sum = expected.reduce((a, b) => a + b, 0);
    expected.forEach((e, i) => assert.ok(Math.abs(p[i]! - e / sum) < 1e-12));
    assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  });

  it("the nucleus is the smallest set of most likely tokens that reaches p", () => {
    const p = Float64Array.from([0.1, 0.5, 0.25, 0.15]);
    assert.deepEqual(nucleusOf(p, 0.5), [1]);
    assert.deepEqual(nucleusOf(p, 0.7), [1, 2]);
    assert.deepEqual(nucleusOf(p, 0.76), [1, 2, 3]);
    assert.deepEqual(nucleusOf(p, 1), [1, 2, 3, 0]);
  });

  it("sampling follows the seed, stays in the nucleus, and draws in proportion", () => {
    const logits = [2, 1, 0, -1, -8];
    const draw = (seed: number) => {
      const random = seededRandom(seed);
      return Array.from({ length: 200 }, () => chooseToken(logits, { temperature: 1, topP: 0.9 }, random));
    };
    assert.deepEqual(draw(7), draw(7));
    assert.notDeepEqual(draw(7), draw(8));
    const nucleus = new Set(nucleusOf(softmax(logits), 0.9));
    const random = seededRandom(1);
    const many = Array.from({ length: 20_000 }, () => chooseToken(logits, { temperature: 1, topP: 0.9 }, random));
    assert.ok(many.every((t) => nucleus.has(t)), "never outside the nucleus");
    const p = softmax(logits);
    const mass = [...nucleus].reduce((a, i) => a + p[i]!, 0);
    for (const i of nucleus) {
      const share = many.filter((t) => t === i).length / many.length;
      assert.ok(Math.abs(share - p[i]! / mass) < 0.02, `token ${i}: ${share} vs ${p[i]! / mass}`);
    }
  });

  it("refuses settings it cannot honour, naming them", () => {
    assert.throws(() => checkSampling({ temperature: -1 }), (e: Error) => e instanceof SamplingError && /^temperature: expected a number >= 0, got -1$/.test(e.message));
    assert.throws(() => checkSampling({ topP: 0 }), (e: Error) => e.message === "topP: expected a number in (0, 1], got 0");
    assert.doesNotThrow(() => checkSampling({ temperature: 0.7, topP: 0.95 }));
  });
});

describe("stop sequences over streamed pieces", () => {
  const run = (stops: string[], pieces: string[]) => {
    const matcher = new StopMatcher(stops);
    const shown: string[] = [];
    let stopped = false;
    for (const piece of pieces) {
      const step = matcher.push(piece);
      shown.push(step.emit);
      if (step.stopped) {
        stopped = true;
        break;
      }
    }
    if (!stopped) shown.push(matcher.flush());
    return { text: shown.join(""), stopped, shown };
  };

  it("ends right before a stop split across pieces, never showing part of it", () => {
    const { text, stopped, shown } = run(["\ndef ", "\nclass "], ["    return x", "\n", "\nde", "f g():"]);
    assert.equal(text, "    return x\n");
    assert.ok(stopped);
    assert.ok(shown.every((s) => !s.includes("\nd")), JSON.stringify(shown));
  });

  it("lets held text out when it turns out not to be a stop, and at the end", () => {
    const fence = run(["```"], ["a `", "b`` c", "``"]);
    assert.deepEqual([fence.text, fence.stopped], ["a `b`` c``", false]);
    assert.deepEqual(fence.shown, ["a ", "`b`` c", "", "``"], "a backtick is held until the next piece shows it is no fence");
    assert.equal(run(["<|end|>"], ["x <|e"]).text, "x <|e");
  });

  it("stops at the earliest of several stops in one piece", () => {
    assert.equal(run(["B", "A"], ["xxAyyB"]).text, "xx");
    assert.throws(() => new StopMatcher([""]), /an empty one would stop at once/);
  });
});
