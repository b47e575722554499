// `codistill codebleu` as a real process (node --import tsx src/cli.ts codebleu ...): one pair
// from files, many from JSONL with a bad line in the middle, and the usage and IO errors.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { loadCodeBleu, type CodeBleu } from "../../src/core/codebleu/index";
import { runCli, type CliRun } from "./helpers";

const KEYS = ["ngram_match_score", "weighted_ngram_match_score", "syntax_match_score", "dataflow_match_score", "codebleu"];
const tmp = mkdtempSync(join(tmpdir(), "codistill-codebleu-cli-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

type Run = CliRun;

const cli = (args: string[], input?: string): Promise<Run> => runCli(["codebleu", ...args], input);

function file(name: string, text: string): string {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
}

const REF = "def total(xs):\n    # add them up\n    s = 0\n    for x in xs:\n        s += x\n    return s\n";
const HYP = "def total(values):\n    return sum(values)\n";
const OTHER = "def total(xs):\n    s = 0\n    for x in xs:\n        s = s + x\n    return s\n";

describe("codistill codebleu", () => {
  let codeBleu: CodeBleu;
  before(async () => {
    codeBleu = await loadCodeBleu();
  });

  it("--ref/--hyp prints one JSON object with the reference's keys, in its order", async () => {
    const run = await cli(["--ref", file("ref.py", REF), "--hyp", file("hyp.py", HYP)]);
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trim().split("\n");
    assert.equal(lines.length, 1);
    const scores = JSON.parse(lines[0]) as Record<string, number>;
    assert.deepEqual(Object.keys(scores), KEYS);
    assert.deepEqual(scores, { ...codeBleu.score(REF, HYP) });
  });

  it("--mode reference, --weights and repeated --ref reach the scorer", async () => {
    const run = await cli(["--ref", file("ref.py", REF), "--ref", file("other.py", OTHER), "--hyp", file("hyp.py", HYP), "--mode", "reference", "--weights", "0.1,0.2,0.3,0.4"]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { ...codeBleu.score([REF, OTHER], HYP, { mode: "reference", weights: [0.1, 0.2, 0.3, 0.4] }) });
  });

  it("--pairs prints one line per pair in order, and reports a bad line by number in its place", async () => {
    const pairs = [JSON.stringify({ ref: REF, hyp: HYP }), '{"ref": "x = 1", "hyp": ', JSON.stringify({ ref: [REF, OTHER], hyp: OTHER }), "", JSON.stringify({ ref: 3, hyp: "x" }), JSON.stringify({ ref: OTHER, hyp: REF })];
    const run = await cli(["--pairs", file("pairs.jsonl", pairs.join("\n") + "\n"), "--mode", "reference"]);
    assert.equal(run.code, 1);
    const lines = run.stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 5, "four pairs and the blank line skipped");
    assert.deepEqual(lines[0], { ...codeBleu.score(REF, HYP, { mode: "reference" }) });
    assert.equal(lines[1].line, 2);
    assert.match(String(lines[1].error), /not JSON/);
    assert.deepEqual(lines[2], { ...codeBleu.score([REF, OTHER], OTHER, { mode: "reference" }) });
    assert.deepEqual(lines[3], { line: 5, error: '"ref" must be a string or a non-empty list of strings, got number' });
    assert.deepEqual(lines[4], { ...codeBleu.score(OTHER, REF, { mode: "reference" }) });
    assert.match(run.stderr, /pairs\.jsonl:2: not JSON/);
    assert.match(run.stderr, /pairs\.jsonl:5: "ref" must be/);
    assert.match(run.stderr, /2 bad lines/);
  });

  it("--pairs - reads stdin; a reference without data flow gets a warning on stderr and null", async () => {
    const run = await cli(["--pairs", "-"], JSON.stringify({ ref: "print('hi')", hyp: "print('hi')" }) + "\n");
    assert.equal(run.code, 0, run.stderr);
    assert.equal((JSON.parse(run.stdout) as Record<string, unknown>).dataflow_match_score, null);
    assert.match(run.stderr, /warning: -:1: There is no reference data-flows/);
  });

  it("names a missing file", async () => {
    const missing = join(tmp, "missing.py");
    const run = await cli(["--ref", missing, "--hyp", file("hyp.py", HYP)]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, new RegExp(`cannot read --ref ${missing.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
    const pairs = await cli(["--pairs", join(tmp, "missing.jsonl")]);
    assert.equal(pairs.code, 1);
    assert.match(pairs.stderr, /cannot read --pairs .*missing\.jsonl/);
    assert.equal(pairs.stdout, "");
  });

  it("refuses a bad --mode, bad --weights and incomplete arguments, with the usage", async () => {
    for (const [args, message] of [
      [["--ref", "a.py", "--hyp", "b.py", "--mode", "paper"], /--mode: expected "default" or "reference", got "paper"/],
      [["--ref", "a.py", "--hyp", "b.py", "--weights", "1,2,3"], /--weights: expected four numbers/],
      [["--ref", "a.py"], /give --ref <file> and --hyp <file>, or --pairs/],
      [["--pairs", "p.jsonl", "--ref", "a.py"], /--pairs replaces --ref and --hyp/],
    ] as const) {
      const run = await cli([...args]);
      assert.equal(run.code, 1, args.join(" "));
      assert.match(run.stderr, message);
      assert.match(run.stderr, /Usage:/);
    }
  });
});
