import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  bootstrapCI,
  compareTaskIds,
  meanPassAtK,
  mulberry32,
  pairedBootstrap,
  passAtK,
  perTaskPassAtK,
  taskOverlap,
} from "../../src/core/evaluation/stats";

function binomial(n: number, k: number): bigint {
  let result = 1n;
  for (let i = 0; i < k; i++) result = (result * BigInt(n - i)) / BigInt(i + 1);
  return result;
}

/** 1 - C(n-c,k)/C(n,k) in exact integer arithmetic, rounded to a double only at the end. */
function exactPassAtK(n: number, c: number, k: number): number {
  if (n - c < k) return 1;
  const scale = 10n ** 40n;
  const allWrong = (binomial(n - c, k) * scale) / binomial(n, k);
  return 1 - Number(allWrong) / Number(scale);
}

/** n tasks with values from a repeating pattern, so tests know the exact mean. */
function pattern(values: number[], tasks: number): number[] {
  return Array.from({ length: tasks }, (_, i) => values[i % values.length]!);
}

function byTask(values: number[]): Map<string, number> {
  return new Map(values.map((v, i) => [`HumanEval/${i}`, v]));
}

describe("pass@k", () => {
  it("matches the exact fractions for n = 10, c = 3, k = 1..10", () => {
    const expected = [3 / 10, 8 / 15, 17 / 24, 5 / 6, 11 / 12, 29 / 30, 119 / 120, 1, 1, 1];
    for (let k = 1; k <= 10; k++) {
      assert.ok(Math.abs(passAtK(10, 3, k) - expected[k - 1]!) < 1e-12, `pass@${k}: ${passAtK(10, 3, k)} vs ${expected[k - 1]}`);
      assert.ok(Math.abs(passAtK(10, 3, k) - exactPassAtK(10, 3, k)) < 1e-12);
    }
  });

  it("is 0 without a correct sample and exactly 1 when fewer than k samples are wrong", () => {
    for (const k of [1, 5, 10]) assert.equal(passAtK(10, 0, k), 0);
    assert.equal(passAtK(10, 8, 3), 1);
    assert.equal(passAtK(5, 5, 1), 1);
    assert.equal(passAtK(200, 101, 100), 1);
  });

  it("stays accurate where the binomials overflow a double (n = 200, k = 100)", () => {
    assert.equal(Number(binomial(200, 100)) > 1e58, true);
    for (const c of [1, 2, 17, 50, 99]) {
      const value = passAtK(200, c, 100);
      assert.ok(Math.abs(value - exactPassAtK(200, c, 100)) < 1e-12, `c = ${c}: ${value} vs ${exactPassAtK(200, c, 100)}`);
    }
  });

  it("rejects k above n, c outside 0..n and fractional counts", () => {
    assert.throws(() => passAtK(5, 2, 10), /pass@10 needs at least 10 samples per task, got 5/);
    assert.throws(() => passAtK(5, 6, 1), /correct count 6 outside 0\.\.5/);
    assert.throws(() => passAtK(5, -1, 1), /correct count -1/);
    assert.throws(() => passAtK(5, 2, 0), /k must be at least 1/);
    assert.throws(() => passAtK(5, 2.5, 1), /c must be an integer/);
  });

  it("averages per task only when every task has at least k samples", () => {
    const counts = [
      { taskId: "HumanEval/0", n: 10, c: 3 },
      { taskId: "HumanEval/1", n: 10, c: 10 },
      { taskId: "HumanEval/2", n: 5, c: 0 },
    ];
    assert.deepEqual(perTaskPassAtK(counts, 1), new Map([["HumanEval/0", 0.3], ["HumanEval/1", 1], ["HumanEval/2", 0]]));
    assert.ok(Math.abs(meanPassAtK(counts, 1)! - 1.3 / 3) < 1e-15);
    assert.ok(Math.abs(meanPassAtK(counts, 5)! - (11 / 12 + 1 + 0) / 3) < 1e-12);
    assert.equal(perTaskPassAtK(counts, 10), undefined);
    assert.equal(meanPassAtK(counts, 10), undefined);
  });
});

describe("seeded generator", () => {
  it("repeats its sequence for a seed, differs across seeds and stays in [0, 1)", () => {
    const draw = (seed: number) => Array.from({ length: 1000 }, mulberry32(seed));
    assert.deepEqual(draw(42), draw(42));
    assert.notDeepEqual(draw(42), draw(43));
    const values = draw(7);
    assert.ok(values.every((v) => v >= 0 && v < 1));
    const average = values.reduce((a, b) => a + b) / values.length;
    assert.ok(Math.abs(average - 0.5) < 0.05, `mean of 1000 uniform draws: ${average}`);
  });
});

describe("bootstrap confidence interval over tasks", () => {
  const perTask = pattern([1, 0, 0.4, 1, 0.2, 0, 0.8], 35);

  it("gives the same interval for the same seed and contains the mean", () => {
    const a = bootstrapCI(perTask, { seed: 11 });
    const b = bootstrapCI(perTask, { seed: 11 });
    assert.deepEqual(a, b);
    assert.equal(a.iterations, 2000);
    assert.equal(a.confidence, 0.95);
    assert.ok(Math.abs(a.mean - perTask.reduce((x, y) => x + y) / perTask.length) < 1e-15);
    assert.ok(a.low < a.mean && a.mean < a.high, `${a.low} < ${a.mean} < ${a.high}`);
    assert.ok(a.low >= 0 && a.high <= 1);
  });

  it("moves only slightly with the seed", () => {
    const a = bootstrapCI(perTask, { seed: 1 });
    const b = bootstrapCI(perTask, { seed: 2 });
    assert.notDeepEqual(a, b);
    assert.ok(Math.abs(a.low - b.low) < 0.05 && Math.abs(a.high - b.high) < 0.05);
  });

  it("narrows as the benchmark has more tasks (about 1/sqrt(tasks))", () => {
    const width = (tasks: number) => {
      const ci = bootstrapCI(pattern([1, 0], tasks), { seed: 3 });
      return ci.high - ci.low;
    };
    const few = width(20);
    const many = width(320);
    // 16 times the tasks: a quarter of the width, give or take resampling noise.
    assert.ok(many < few / 3 && many > few / 5, `width with 20 tasks ${few}, with 320 tasks ${many}`);
  });

  it("is a single point when every task scores the same", () => {
    assert.deepEqual(bootstrapCI([0.6, 0.6, 0.6], { iterations: 50 }), { mean: 0.6, low: 0.6, high: 0.6, confidence: 0.95, iterations: 50 });
  });

  it("widens with the confidence asked for", () => {
    const ninety = bootstrapCI(perTask, { confidence: 0.9, seed: 5 });
    const ninetyNine = bootstrapCI(perTask, { confidence: 0.99, seed: 5 });
    assert.ok(ninetyNine.low < ninety.low && ninetyNine.high > ninety.high);
  });

  it("rejects no tasks and meaningless options", () => {
    assert.throws(() => bootstrapCI([]), /no tasks to resample/);
    assert.throws(() => bootstrapCI([1], { confidence: 1 }), /confidence must lie strictly between 0 and 1/);
    assert.throws(() => bootstrapCI([1], { iterations: 0 }), /iterations must be a positive integer/);
  });
});

describe("paired bootstrap of a student against its base model", () => {
  it("finds a clear improvement: interval above 0 and few resamples not better", () => {
    const base = pattern([0, 0.2, 1, 0, 0.6, 0.4, 0], 60);
    // The student gains on four tasks in seven and never loses.
    const student = base.map((v, i) => (i % 7 < 4 ? Math.min(1, v + 0.4) : v));
    const result = pairedBootstrap(byTask(base), byTask(student), { seed: 9 });
    assert.equal(result.sharedTasks, 60);
    assert.ok(result.mean > 0.15);
    assert.ok(result.low > 0, `interval [${result.low}, ${result.high}] should exclude 0`);
    assert.equal(result.fractionNotBetter, 0);
  });

  it("does not call a null difference an improvement: interval includes 0", () => {
    const base = pattern([0.2, 0.8, 0.4, 0.6], 40);
    // Gains and losses of the same size on alternating tasks: no difference on average.
    const student = base.map((v, i) => (i % 2 === 0 ? v + 0.2 : v - 0.2));
    const result = pairedBootstrap(byTask(base), byTask(student), { seed: 9 });
    assert.ok(Math.abs(result.mean) < 1e-12);
    assert.ok(result.low < 0 && result.high > 0, `interval [${result.low}, ${result.high}] should include 0`);
    assert.ok(result.fractionNotBetter > 0.3 && result.fractionNotBetter < 0.8, `fraction not better: ${result.fractionNotBetter}`);
  });

  it("does not depend on the order the tasks were inserted in", () => {
    const base = byTask(pattern([0, 1, 0.4], 30));
    const student = byTask(pattern([1, 1, 0.2, 0.6], 30));
    const reversed = new Map([...student].reverse());
    assert.deepEqual(pairedBootstrap(base, student, { seed: 4 }), pairedBootstrap(base, reversed, { seed: 4 }));
  });

  it("pairs only the tasks both sides have and reports the others", () => {
    const base = new Map([["HumanEval/10", 1], ["HumanEval/2", 0], ["HumanEval/3", 1], ["HumanEval/7", 0]]);
    const student = new Map([["HumanEval/2", 1], ["HumanEval/10", 1], ["HumanEval/11", 0]]);
    const result = pairedBootstrap(base, student, { seed: 1 });
    assert.equal(result.sharedTasks, 2);
    assert.deepEqual(result.shared, ["HumanEval/2", "HumanEval/10"]);
    assert.deepEqual(result.onlyBase, ["HumanEval/3", "HumanEval/7"]);
    assert.deepEqual(result.onlyStudent, ["HumanEval/11"]);
    assert.equal(result.mean, 0.5);
  });

  it("refuses to compare runs without a task in common", () => {
    assert.throws(
      () => pairedBootstrap(new Map([["Mbpp/2", 1]]), new Map([["HumanEval/0", 1], ["HumanEval/1", 0]])),
      /no tasks in common \(1 only in base, 2 only in student\)/,
    );
  });

  it("orders task ids naturally", () => {
    assert.deepEqual(["HumanEval/10", "HumanEval/2", "HumanEval/1"].sort(compareTaskIds), ["HumanEval/1", "HumanEval/2", "HumanEval/10"]);
    assert.deepEqual(taskOverlap(new Map([["a", 1]]), new Map([["a", 2]])), { shared: ["a"], onlyBase: [], onlyStudent: [] });
  });
});
