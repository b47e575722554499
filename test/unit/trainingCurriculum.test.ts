// The panel's curriculum preview against the trainer's own (codistill.training.curriculum), run
// in the sidecar's Python: both must draw the same α/β at the same steps.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";
import { curriculumPreview, curriculumProblem, curriculumWeights, DEFAULT_CURRICULUM, type Curriculum } from "../../src/core/training/curriculum";
import { REPO, sidecarPython } from "./helpers";

const CASES: { c: Curriculum; total: number }[] = [
  { c: DEFAULT_CURRICULUM, total: 100 },
  { c: { ...DEFAULT_CURRICULUM, schedule: "cosine", warmupFraction: 0.6, alphaEnd: 0.2, betaEnd: 0.8 }, total: 333 },
  { c: { ...DEFAULT_CURRICULUM, schedule: "step", steps: 4, warmupFraction: 0.5 }, total: 97 },
  { c: { ...DEFAULT_CURRICULUM, warmupFraction: 0 }, total: 10 },
  { c: { ...DEFAULT_CURRICULUM, schedule: "step", steps: 3 }, total: 7 },
];

function pythonPreviews(): { step: number; alpha: number; beta: number }[][] {
  const script = `
import json, sys
from codistill.training.curriculum import CurriculumConfig, preview
cases = json.load(sys.stdin)
out = []
for case in cases:
    c = case["c"]
    cfg = CurriculumConfig(alpha_start=c["alphaStart"], alpha_end=c["alphaEnd"], beta_start=c["betaStart"], beta_end=c["betaEnd"],
                           schedule=c["schedule"], warmup_fraction=c["warmupFraction"], steps=c["steps"])
    out.append(preview(cfg, case["total"]))
print(json.dumps(out))
`;
  const output = execFileSync(sidecarPython(), ["-c", script], { input: JSON.stringify(CASES), encoding: "utf8", env: { ...process.env, PYTHONPATH: join(REPO, "sidecar", "src") } });
  return JSON.parse(output) as { step: number; alpha: number; beta: number }[][];
}

describe("curriculum preview", () => {
  it("gives the trainer's steps and weights for linear, cosine and step schedules", () => {
    const python = pythonPreviews();
    CASES.forEach(({ c, total }, i) => {
      const ts = curriculumPreview(c, total);
      assert.deepEqual(ts.map((p) => p.step), python[i]!.map((p) => p.step), `case ${i}: steps`);
      ts.forEach((p, j) => {
        assert.ok(Math.abs(p.alpha - python[i]![j]!.alpha) < 1e-12 && Math.abs(p.beta - python[i]![j]!.beta) < 1e-12, `case ${i} step ${p.step}`);
      });
    });
  });

  it("reaches the end values at the end of the move and names a bad field", () => {
    assert.deepEqual(curriculumWeights(DEFAULT_CURRICULUM, 0, 10), { alpha: 1, beta: 0 });
    assert.deepEqual(curriculumWeights({ ...DEFAULT_CURRICULUM, warmupFraction: 0.5 }, 5, 10), { alpha: 0.5, beta: 0.5 });
    assert.equal(curriculumProblem(DEFAULT_CURRICULUM), undefined);
    assert.match(curriculumProblem({ ...DEFAULT_CURRICULUM, betaEnd: -1 }) ?? "", /^betaEnd:/);
    assert.match(curriculumProblem({ ...DEFAULT_CURRICULUM, warmupFraction: 2 }) ?? "", /^warmupFraction:/);
    assert.match(curriculumProblem({ ...DEFAULT_CURRICULUM, schedule: "step", steps: 0 }) ?? "", /^steps:/);
  });
});
