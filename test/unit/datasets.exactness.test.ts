import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { execa } from "execa";
import { REPO, sidecarPython } from "./helpers";

const DATA = process.env.CODISTILL_DATA ?? join(REPO, "..", "shared", "data");
const tmp = mkdtempSync(join(tmpdir(), "codistill-exact-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

// Python's json module reads the raw file and the export alike, integers of any size exactly:
// the export must carry every EvalPlus input as the raw file has it (some exceed 2^53), floats as
// floats (1.0 is not 1 to a solution that formats or type-checks it), so the inputs are compared
// as json.dumps writes them. (With sorted keys: a JS object puts integer-like keys such as "8"
// first, whatever their order in the file.)
const COMPARE = `
import gzip, json, sys
raw = {}
for line in gzip.open(sys.argv[1], "rt"):
    d = json.loads(line)
    base, plus = d["base_input"], d["plus_input"]
    base = json.loads(base) if isinstance(base, str) else base
    plus = json.loads(plus) if isinstance(plus, str) else plus
    raw[d["task_id"]] = list(base) + list(plus or [])
exported = {t["id"]: t["tests"]["inputs"] for t in map(json.loads, open(sys.argv[2]))}
exact = lambda value: json.dumps(value, sort_keys=True)
diff = [k for k in raw if exact(raw[k]) != exact(exported.get(k))]
print(json.dumps({"tasks": len(raw), "differ": diff}))
`;

describe("EvalPlus inputs are exported exactly", () => {
  for (const file of ["HumanEvalPlus-v0.1.10.jsonl.gz", "MbppPlus-v0.2.0.jsonl.gz"]) {
    it(`${file}: every input equals the raw file's, big integers and integral floats included`, async () => {
      const out = join(tmp, `${file}.tasks.jsonl`);
      await execa(process.execPath, ["--import", "tsx", "src/cli.ts", "dataset", "export", join(DATA, "evalplus", file), "--out", out], { cwd: REPO });
      const { stdout } = await execa(sidecarPython(), ["-c", COMPARE, join(DATA, "evalplus", file), out]);
      const result = JSON.parse(stdout) as { tasks: number; differ: string[] };
      assert.ok(result.tasks >= 164);
      assert.deepEqual(result.differ, []);
    });
  }
});
