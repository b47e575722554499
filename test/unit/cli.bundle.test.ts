import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { execa } from "execa";
import { REPO } from "./helpers";

// The CLI users run is the esbuild bundle behind package.json's "bin", not the TypeScript source:
// it must find the tree-sitter WebAssembly beside itself.
describe("the bundled CLI (npx codistill)", () => {
  before(async () => {
    if (!existsSync(join(REPO, "dist", "cli.js"))) await execa(process.execPath, ["esbuild.mjs"], { cwd: REPO });
  });

  it("indexes the TACO Parquet fixture with the Python-only filter", async () => {
    const { stdout } = await execa("npx", ["codistill", "dataset", "stats", "test/fixtures/datasets/taco-fixture.parquet", "--python-only"], { cwd: REPO });
    const stats = JSON.parse(stdout) as { format: string; rows: number; rejected: { where: string; reason: string }[] };
    assert.equal(stats.format, "taco");
    assert.equal(stats.rows, 11);
    assert.deepEqual(stats.rejected.map((r) => r.where), ["test/fixtures/datasets/taco-fixture.parquet row 8"]);
    assert.match(stats.rejected[0]!.reason, /parses as Python 3/);
  });
});
