// The demo workspace's own data (demo/data/): what scripts/make-demo-data.mjs writes from the full
// benchmark files (CODISTILL_DATA, default <repo>/../shared/data), byte for byte, loadable by the
// dataset loaders with nothing rejected, and every file attributed in ATTRIBUTION.md.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, describe, it } from "node:test";
import { openDataset, parseJson } from "../../src/core/datasets/index";
import { REPO } from "./helpers";

const DATA = process.env.CODISTILL_DATA ?? join(REPO, "..", "shared", "data");
const DEMO_DATA = join(REPO, "demo", "data");
const tmp = mkdtempSync(join(tmpdir(), "codistill-demo-data-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

const DATASETS = [
  { file: "humaneval.jsonl", format: "humaneval", tasks: 12, first: "HumanEval/0" },
  { file: "mbpp-train.json", format: "mbpp-sanitized", tasks: 40 },
  { file: "mbpp.jsonl", format: "mbpp", tasks: 12 },
  { file: "mbpp-plus.jsonl", format: "mbpp+", tasks: 12 },
] as const;

const lines = (file: string) => readFileSync(join(DEMO_DATA, file), "utf8").split("\n").filter(Boolean);
const ids = (records: unknown[]) => records.map((r) => (r as { task_id: number | string }).task_id);

describe("demo/data", () => {
  it("is what scripts/make-demo-data.mjs writes, byte for byte", async () => {
    const out = join(tmp, "data");
    await promisify(execFile)(process.execPath, [join(REPO, "scripts", "make-demo-data.mjs"), out], { cwd: REPO, env: { ...process.env, CODISTILL_DATA: DATA } });
    const committed = readdirSync(DEMO_DATA).sort();
    assert.deepEqual(readdirSync(out).sort(), committed);
    for (const file of committed) assert.ok(readFileSync(join(out, file)).equals(readFileSync(join(DEMO_DATA, file))), `${file} differs from a fresh run of the script`);
  });

  for (const { file, format, tasks } of DATASETS) {
    it(`${file}: ${tasks} ${format} tasks, none rejected`, async () => {
      const dataset = await openDataset(join(DEMO_DATA, file));
      try {
        assert.equal(dataset.format, format);
        const stats = dataset.stats();
        assert.deepEqual(stats.rejected, []);
        assert.equal(stats.rows, tasks);
        assert.equal(new Set(dataset.summaries.map((s) => s.id)).size, tasks, "ids are unique");
      } finally {
        await dataset.close();
      }
    });
  }

  it("keeps training tasks out of MBPP's test split, and evaluates the same tasks on MBPP and MBPP+", () => {
    const train = ids(parseJson(readFileSync(join(DEMO_DATA, "mbpp-train.json"), "utf8")) as unknown[]) as number[];
    assert.ok(train.every((id) => id < 11 || id > 510), `train ids outside 11..510: ${train.join(", ")}`);
    const test = ids(lines("mbpp.jsonl").map((l) => parseJson(l))) as number[];
    assert.ok(test.every((id) => id >= 11 && id <= 510), `test ids in 11..510: ${test.join(", ")}`);
    const plus = lines("mbpp-plus.jsonl").map((l) => parseJson(l) as { task_id: string; plus_input: unknown[] });
    assert.deepEqual(ids(plus), test.map((id) => `Mbpp/${id}`));
    for (const task of plus) assert.ok(task.plus_input.length <= 20, `${task.task_id}: ${task.plus_input.length} plus inputs`);
    assert.deepEqual(ids(lines("humaneval.jsonl").map((l) => parseJson(l))), Array.from({ length: 12 }, (_, k) => `HumanEval/${k}`));
  });

  it("names every file in ATTRIBUTION.md, with its license", () => {
    const attribution = readFileSync(join(DEMO_DATA, "ATTRIBUTION.md"), "utf8");
    for (const file of readdirSync(DEMO_DATA).filter((f) => f !== "ATTRIBUTION.md")) assert.ok(attribution.includes(file), `ATTRIBUTION.md does not name ${file}`);
    for (const text of ["Copyright (c) 2021 OpenAI", "Austin et al., Program Synthesis with Large Language Models, 2021", "https://creativecommons.org/licenses/by/4.0/", "Apache", "plus_input"]) {
      assert.ok(attribution.includes(text), `ATTRIBUTION.md says "${text}"`);
    }
  });
});
