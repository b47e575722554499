import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { loadConsensus, type Consensus } from "../../src/core/generation/consensus";

const LOOP = `def count_positive(values):
    count = 0
    for value in values:
        if value > 0:
            count += 1
    return count
`;

/** LOOP with every name changed: the same structure. */
const LOOP_RENAMED = `def positives(xs):
    n = 0
    for x in xs:
        if x > 0:
            n += 1
    return n
`;

const LOOP_RENAMED_AGAIN = `def how_many(items):
    total = 0
    for item in items:
        # only the strictly positive ones
        if item > 0:
            total += 1
    return total
`;

/** LOOP with lines 3 and 4 done differently. */
const LOOP_OTHER = `def count_positive(values):
    count = 0
    for value in values:
        if value >= 0:
            count = count + 1
    return count
`;

const LOOP_OTHER_RENAMED = `def nonnegative(seq):
    k = 0
    for s in seq:
        if s >= 0:
            k = k + 1
    return k
`;

/** The same task, another structure altogether. */
const COMPREHENSION = `def count_positive(values):
    return len([v for v in values if v > 0])
`;

/** LOOP without the colon of its loop: a syntax error, structurally closest to LOOP. */
const LOOP_BROKEN = LOOP.replace("for value in values:", "for value in values");

describe("structural consensus", () => {
  let consensus: Consensus;
  before(async () => {
    consensus = await loadConsensus();
  });

  it("takes the single candidate as it is", () => {
    assert.deepEqual(consensus.choose([LOOP]), { index: 0, scores: [1], disagreements: [] });
  });

  it("refuses an empty list", () => {
    assert.throws(() => consensus.choose([]), /no candidates/);
  });

  it("finds no disagreement among identical candidates, and ties go to the first", () => {
    const choice = consensus.choose([LOOP, LOOP, LOOP]);
    assert.equal(choice.index, 0);
    assert.deepEqual(choice.disagreements, []);
    assert.equal(choice.scores.length, 3);
    for (const score of choice.scores) assert.ok(Math.abs(score - 1) < 1e-12, `score ${score}`);
  });

  it("does not choose the odd one out of three structurally equal candidates, and flags nothing the majority has", () => {
    const choice = consensus.choose([COMPREHENSION, LOOP, LOOP_RENAMED, LOOP_RENAMED_AGAIN]);
    assert.notEqual(choice.index, 0);
    for (const i of [1, 2, 3]) assert.ok(choice.scores[i] > choice.scores[0], `candidate ${i} scores ${choice.scores[i]}, the odd one ${choice.scores[0]}`);
    // Every line of the chosen one is missing from the comprehension, but two of the three others have it.
    assert.deepEqual(choice.disagreements, []);
  });

  it("flags the lines where the candidates split two against two", () => {
    const candidates = [LOOP, LOOP_RENAMED, LOOP_OTHER, LOOP_OTHER_RENAMED];
    const choice = consensus.choose(candidates);
    // Both pairs are equally central, so the tie goes to the first.
    assert.equal(choice.index, 0);
    assert.deepEqual(choice.disagreements, [
      { line: 3, agreeing: 1, of: 3 },
      { line: 4, agreeing: 1, of: 3 },
    ]);
    // Seen from the other pair, its own two lines are the disputed ones.
    const other = consensus.choose([LOOP_OTHER, LOOP, LOOP_OTHER_RENAMED, LOOP_RENAMED]);
    assert.equal(other.index, 0);
    assert.deepEqual(
      other.disagreements.map((d) => d.line),
      [3, 4],
    );
  });

  it("flags a line with an operator of its own (identifier names do not count, operators do)", () => {
    const strict = LOOP;
    const choice = consensus.choose([strict, LOOP.replace("value > 0", "value >= 0")]);
    assert.deepEqual(choice.disagreements, [{ line: 3, agreeing: 0, of: 1 }]);
  });

  it("flags no comment line and no blank line", () => {
    const commented = `# counts\n\n${LOOP_RENAMED_AGAIN}`;
    const choice = consensus.choose([commented, LOOP_OTHER]);
    assert.equal(choice.index, 0);
    // Lines 0 and 1 are the comment and the blank line, line 5 the comment inside the loop.
    assert.deepEqual(
      choice.disagreements.map((d) => d.line),
      [6, 7],
    );
  });

  it("never chooses a candidate with a syntax error over a valid one", () => {
    const choice = consensus.choose([LOOP_BROKEN, LOOP_BROKEN, COMPREHENSION, LOOP]);
    assert.ok(choice.index >= 2, `chose ${choice.index}`);
    // The two broken copies agree with each other and with LOOP most: they would win on score alone.
    assert.ok(choice.scores[0] > choice.scores[2], JSON.stringify(choice.scores));
    assert.equal(choice.index, 3);
  });

  it("scores code that does not parse without throwing", () => {
    const candidates = ["", ")))(", "def", "x = [1, 2", "\u0000\u0000", "if x:\n"];
    const choice = consensus.choose(candidates);
    assert.equal(choice.index, 0, "the empty program is the only one that parses");
    assert.equal(choice.scores.length, candidates.length);
    for (const score of choice.scores) assert.ok(Number.isFinite(score) && score >= 0 && score <= 1, `score ${score}`);
    const allBroken = consensus.choose([")))(", "def", "x = [1, 2"]);
    assert.ok(allBroken.index >= 0 && allBroken.index < 3);
  });

  it("is deterministic and symmetric in its pairs", () => {
    const candidates = [COMPREHENSION, LOOP_OTHER, LOOP, LOOP_RENAMED, LOOP_BROKEN];
    const first = consensus.choose(candidates);
    const again = consensus.choose(candidates);
    assert.deepEqual(again, first);
    // Two candidates alone: the same score each, whichever comes first.
    const pair = consensus.choose([LOOP, COMPREHENSION]);
    const swapped = consensus.choose([COMPREHENSION, LOOP]);
    assert.equal(pair.scores[0], pair.scores[1]);
    assert.equal(swapped.scores[0], pair.scores[0]);
    assert.equal(pair.index, 0);
    assert.equal(swapped.index, 0);
  });
});
