// `codistill dataset stats|show|export` run as the real CLI (node --import tsx src/cli.ts), and
// its exports compared byte for byte with the golden normalized Task files, which the sidecar's
// tests (sidecar/tests/test_tasks.py) read too. CODISTILL_UPDATE_GOLDEN=1 rewrites the goldens.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { main } from "../../src/core/cli/main";
import { REPO, runCli, type CliRun } from "./helpers";

const DATA = process.env.CODISTILL_DATA ?? join(REPO, "..", "shared", "data");
const FIXTURES = join(REPO, "test", "fixtures", "datasets");
const GOLDEN = join(FIXTURES, "golden");
const tmp = mkdtempSync(join(tmpdir(), "codistill-cli-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

type Run = CliRun;

const cli = (...args: string[]): Promise<Run> => runCli(args);

/** main() in-process, for the argument checks that need no subprocess. */
async function inProcess(...args: string[]): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const code = await main(args, { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) } });
  return { code, stdout, stderr };
}

const GOLDENS: { golden: string; source: string; options?: string[] }[] = [
  { golden: "taco-fixture.tasks.jsonl", source: "taco-fixture.parquet" },
  { golden: "taco-fixture.tasks.jsonl", source: "taco-fixture.jsonl" },
  { golden: "taco-fixture.python-spj.tasks.jsonl", source: "taco-fixture.parquet", options: ["--python-only", "--spj", join(FIXTURES, "taco-fixture.spj.jsonl")] },
  { golden: "humaneval-slice.tasks.jsonl", source: "humaneval-slice.jsonl" },
  { golden: "mbpp-slice.tasks.jsonl", source: "mbpp-slice.jsonl" },
  { golden: "sanitized-mbpp-slice.tasks.jsonl", source: "sanitized-mbpp-slice.json" },
  { golden: "humanevalplus-slice.tasks.jsonl", source: "humanevalplus-slice.jsonl.gz" },
  { golden: "mbppplus-slice.tasks.jsonl", source: "mbppplus-slice.jsonl.gz" },
];

describe("dataset export", () => {
  for (const { golden, source, options = [] } of GOLDENS) {
    it(`${source} ${options.length ? "(python-only, special judges) " : ""}exports ${golden} byte for byte`, async () => {
      const out = join(tmp, `${source}.${options.length}.tasks.jsonl`);
      const run = await cli("dataset", "export", join(FIXTURES, source), "--out", out, ...options);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stderr, /^wrote \d+ tasks to /);
      if (process.env.CODISTILL_UPDATE_GOLDEN === "1") writeFileSync(join(GOLDEN, golden), readFileSync(out));
      assert.ok(readFileSync(out).equals(readFileSync(join(GOLDEN, golden))), `${out} differs from ${golden}`);
    });
  }

  it("a golden file re-exports to itself (format tasks)", async () => {
    const out = join(tmp, "roundtrip.tasks.jsonl");
    const golden = join(GOLDEN, "humanevalplus-slice.tasks.jsonl");
    const run = await cli("dataset", "export", golden, "--out", out);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(readFileSync(out).equals(readFileSync(golden)));
  });

  it("says how many rows were rejected, and fails on a folder it cannot write to", async () => {
    const bad = join(tmp, "mbpp-bad.jsonl");
    writeFileSync(bad, `${readFileSync(join(FIXTURES, "mbpp-slice.jsonl"), "utf8")}{"broken\n`);
    const run = await cli("dataset", "export", bad, "--out", join(tmp, "ok.tasks.jsonl"));
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /wrote 5 tasks to .*; 1 rows rejected/);
    const denied = await inProcess("dataset", "export", bad, "--out", join(tmp, "no", "such", "dir", "x.jsonl"));
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /^codistill: cannot write .*x\.jsonl: ENOENT/);
  });
});

describe("dataset stats and show", () => {
  it("stats prints {format, rows, rejected, sources, difficulties} as JSON", async () => {
    const run = await cli("dataset", "stats", join(DATA, "mbpp", "mbpp.jsonl"));
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { format: "mbpp", rows: 974, rejected: [], sources: { mbpp: 974 }, difficulties: { unspecified: 974 } });
    const bad = join(tmp, "he-bad.jsonl");
    writeFileSync(bad, `${readFileSync(join(FIXTURES, "humaneval-slice.jsonl"), "utf8")}{"task_id": "HumanEval/x", "prompt": 3}\n`);
    const stats = JSON.parse((await inProcess("dataset", "stats", bad, "--format", "humaneval")).stdout) as { rows: number; rejected: unknown[] };
    assert.equal(stats.rows, 5);
    assert.deepEqual(stats.rejected, [{ where: `${bad}:6`, field: "prompt", reason: "expected a string, got number" }]);
  });

  it("show prints one normalized Task; an unknown id fails with exit code 1", async () => {
    const run = await cli("dataset", "show", join(FIXTURES, "taco-fixture.parquet"), "taco/9");
    assert.equal(run.code, 0, run.stderr);
    const expected = readFileSync(join(GOLDEN, "taco-fixture.tasks.jsonl"), "utf8").split("\n")[9];
    assert.equal(run.stdout, `${expected}\n`);
    const missing = await cli("dataset", "show", join(FIXTURES, "taco-fixture.parquet"), "taco/99");
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^codistill: no task "taco\/99" in .*taco-fixture\.parquet \(ids look like taco\/0, taco\/1, taco\/2\)\n$/);
  });

  it("custom format from --map options", async () => {
    const run = await inProcess("dataset", "stats", join(FIXTURES, "mbpp-slice.jsonl"), "--map", "id=task_id", "--map", "prompt=text", "--map", "solutions=code", "--map", "tests=test_list");
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout).sources, { custom: 5 });
  });
});

describe("usage and IO errors exit 1 with a message", () => {
  const cases: [string[], RegExp][] = [
    [[], /no command given/],
    [["dataset"], /no dataset command given/],
    [["dataset", "list", "x"], /unknown dataset command "list"/],
    [["dataset", "stats"], /dataset stats: missing <path>/],
    [["dataset", "export", "x"], /missing --out <file>/],
    [["dataset", "show", "x"], /expected <path> <task-id>/],
    [["dataset", "stats", "x", "--format", "csv"], /--format: expected one of taco, mbpp/],
    [["dataset", "stats", "x", "--map", "title=x"], /unknown field "title"/],
    [["dataset", "stats", "x", "--map", "id=a"], /--map needs at least id=\.\.\. and prompt=\.\.\./],
    [["dataset", "stats", "x", "--bogus"], /Unknown option '--bogus'/],
    [["dataset", "stats", "x", "--out", "y"], /--out only applies to dataset export/],
  ];
  for (const [args, message] of cases) {
    it(`codistill ${args.join(" ") || "(nothing)"}`, async () => {
      const run = await inProcess(...args);
      assert.equal(run.code, 1);
      assert.match(run.stderr, message);
      assert.match(run.stderr, /Usage:/);
    });
  }

  it("a path that does not exist, a file of unknown format, and --help", async () => {
    const missing = await cli("dataset", "stats", join(tmp, "nope.jsonl"));
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^codistill: cannot open .*nope\.jsonl: ENOENT/);
    const unknown = join(tmp, "unknown.jsonl");
    writeFileSync(unknown, '{"a": 1}\n');
    const run = await inProcess("dataset", "stats", unknown);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /cannot tell the format of .*unknown\.jsonl from its fields \(a\)/);
    const help = await inProcess("--help");
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage:/);
    assert.ok(existsSync(join(GOLDEN, "taco-fixture.tasks.jsonl")));
  });
});
