import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { listCotSets } from "../../src/core/cot/cotSets";
import { listRunFolders } from "../../src/core/runs/runFolders";

describe("workspace artifacts for the explorer", () => {
  it("is empty for a workspace without .codistill", async () => {
    const root = mkdtempSync(join(tmpdir(), "codistill-ws-"));
    try {
      assert.deepEqual(await listRunFolders(root), []);
      assert.deepEqual(await listCotSets(root), []);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("lists CoT sets by name and runs newest first", async () => {
    const root = mkdtempSync(join(tmpdir(), "codistill-ws-"));
    try {
      mkdirSync(join(root, ".codistill", "cots"), { recursive: true });
      writeFileSync(join(root, ".codistill", "cots", "taco-llama70b.jsonl"), "");
      writeFileSync(join(root, ".codistill", "cots", "notes.txt"), "");
      writeFileSync(join(root, ".codistill", "cots", "humaneval.jsonl"), "");
      for (const [id, age] of [["run-old", 100], ["run-new", 10]] as const) {
        const dir = join(root, ".codistill", "runs", id);
        mkdirSync(dir, { recursive: true });
        const t = Date.now() / 1000 - age;
        utimesSync(dir, t, t);
      }
      assert.deepEqual((await listCotSets(root)).map((s) => s.name), ["humaneval", "taco-llama70b"]);
      assert.deepEqual((await listRunFolders(root)).map((r) => r.id), ["run-new", "run-old"]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
