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
// floats (1.0 is not 1 to a solution that formats or type-checks it), and dicts with their keys
// in the file's order (a JS object puts keys like "8" first, but a solution iterating the dict
// sees Python's order), so the inputs are compared as json.dumps writes them, each dict read as
// its list of (key, value) pairs. `reordered` names the tasks with a dict whose order JS changes.
const COMPARE = `
import gzip, json, re, sys
INDEX = re.compile(r"(0|[1-9][0-9]{0,9})\\Z")
found = []
def pairs(items):
    keys = [k for k, _ in items]
    first = sorted((k for k in keys if INDEX.match(k) and int(k) <= 4294967294), key=int)
    if keys[: len(first)] != first:
        found.append(keys)
    return list(items)
load = lambda text: json.loads(text, object_pairs_hook=pairs)
raw, reordered = {}, []
for line in gzip.open(sys.argv[1], "rt"):
    found.clear()
    d = dict(load(line))
    base, plus = d["base_input"], d["plus_input"]
    base = load(base) if isinstance(base, str) else base
    plus = load(plus) if isinstance(plus, str) else plus
    raw[d["task_id"]] = list(base) + list(plus or [])
    if found:
        reordered.append(d["task_id"])
exported = {}
for line in open(sys.argv[2]):
    t = dict(load(line))
    exported[t["id"]] = dict(t["tests"])["inputs"]
exact = lambda value: json.dumps(value)
diff = [k for k in raw if exact(raw[k]) != exact(exported.get(k))]
print(json.dumps({"tasks": len(raw), "differ": diff, "reordered": reordered}))
`;

describe("EvalPlus inputs are exported exactly", () => {
  for (const file of ["HumanEvalPlus-v0.1.10.jsonl.gz", "MbppPlus-v0.2.0.jsonl.gz"]) {
    it(`${file}: every input equals the raw file's, big integers, integral floats and dict key order included`, async () => {
      const out = join(tmp, `${file}.tasks.jsonl`);
      await execa(process.execPath, ["--import", "tsx", "src/cli.ts", "dataset", "export", join(DATA, "evalplus", file), "--out", out], { cwd: REPO });
      const { stdout } = await execa(sidecarPython(), ["-c", COMPARE, join(DATA, "evalplus", file), out]);
      const result = JSON.parse(stdout) as { tasks: number; differ: string[]; reordered: string[] };
      assert.ok(result.tasks >= 164);
      assert.deepEqual(result.differ, []);
      // The comparison covers dicts whose order JS would change: HumanEval+ 22 and 95, Mbpp/69...
      for (const id of file.startsWith("HumanEval") ? ["HumanEval/22", "HumanEval/95"] : ["Mbpp/69", "Mbpp/87", "Mbpp/277"]) assert.ok(result.reordered.includes(id), id);
    });
  }
});
