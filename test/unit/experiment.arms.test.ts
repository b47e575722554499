// The ablation matrix (core/experiment/arms.ts): which arms codistill.yaml asks for, what keeps
// one from running, and the training run each arm is (what it trains on, its rank and its loss).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { armForm, planArms } from "../../src/core/experiment/arms";
import { parseExperimentConfig, type ExperimentConfig } from "../../src/core/experiment/config";
import { planTrainingRun } from "../../src/core/training/launch";

const FILE = "/ws/codistill.yaml";

function config(...lines: string[]): ExperimentConfig {
  const base = [
    "datasets:",
    "  - { name: taco, path: taco.jsonl }",
    "student: { model: /models/student }",
    "encoder: { model: /models/codebert }",
    "training:",
    "  datasets: [taco]",
    "  cots: [taco-70b]",
    "  max_steps: 20",
    "  lora: { preset: r32 }",
    "  curriculum: { alpha_start: 1.0, alpha_end: 0.5, beta_start: 0.0, beta_end: 0.5, schedule: cosine }",
  ];
  const { config: parsed, problems } = parseExperimentConfig([...base, ...lines].join("\n"), FILE);
  assert.deepEqual(problems, []);
  return parsed;
}

describe("the experiment's arms", () => {
  it("are the four of the paper's ablation by default, in the report's order", () => {
    const { arms, problems } = planArms(config());
    assert.deepEqual(problems, []);
    assert.deepEqual(
      arms.map((a) => [a.name, a.trains, a.cotSets.join(), a.structural]),
      [
        ["base", false, "", false],
        ["sft-code", true, "", false],
        ["sft-cot", true, "taco-70b", false],
        ["sft-cot-struct", true, "taco-70b", true],
      ],
    );
  });

  it("add sft-cot-struct at other LoRA ranks and on other teachers' CoT sets", () => {
    const { arms } = planArms(config("experiment: { arms: [base], ranks: [16, 64], teachers: [taco-8b] }"));
    assert.deepEqual(arms.map((a) => [a.name, a.loraPreset ?? null, a.cotSets.join()]), [
      ["base", null, ""],
      ["sft-cot-struct-r16", "r16", "taco-70b"],
      ["sft-cot-struct-r64", "r64", "taco-70b"],
      ["sft-cot-struct@taco-8b", null, "taco-8b"],
    ]);
  });

  it("say what keeps them from running, naming the field", () => {
    const noCots = parseExperimentConfig(["datasets: [{ name: taco, path: t.jsonl }]", "student: { model: /s }", "training: { datasets: [taco], curriculum: { beta_start: 0, beta_end: 0 } }"].join("\n"), FILE).config;
    assert.deepEqual(planArms(noCots).problems, [
      "training.cots: the sft-cot arms train on the teacher's reasoning: name a CoT set (cots: declares how the experiment writes one)",
      "encoder.model: the sft-cot-struct arms need the encoder of the structural loss",
      "training.curriculum: beta_start and beta_end are both 0, so sft-cot-struct would be sft-cot: give β a value above 0",
    ]);
    const bare = parseExperimentConfig("name: x\n", FILE).config;
    assert.deepEqual(planArms(bare).problems.slice(0, 2), [
      "training: the experiment's training arms need a training section (datasets, steps, LoRA, curriculum)",
      "student.model: the experiment needs a student",
    ]);
    // base alone needs neither training nor CoT sets.
    assert.deepEqual(planArms(parseExperimentConfig("student: { model: /s }\nexperiment: { arms: [base] }\n", FILE).config).problems, []);
  });

  it("train as plain SFT (α = 1, β = 0, no encoder) except sft-cot-struct, which keeps the curriculum", () => {
    const parsed = config("experiment: { ranks: [64] }");
    const { arms } = planArms(parsed);
    const run = (name: string) => planTrainingRun("/ws", parsed, armForm(parsed, arms.find((a) => a.name === name)!), name, `/ws/exp/arms/${name}`).config as Record<string, unknown> & { curriculum: Record<string, unknown>; lora: Record<string, unknown> };
    const code = run("sft-code");
    assert.equal(code.cots, null);
    assert.equal(code.encoder, null);
    assert.deepEqual([code.curriculum.alpha_start, code.curriculum.alpha_end, code.curriculum.beta_start, code.curriculum.beta_end], [1, 1, 0, 0]);
    assert.equal(code.output_dir, "/ws/exp/arms/sft-code");
    assert.deepEqual(code.tasks, ["/ws/exp/arms/sft-code/data/taco.tasks.jsonl"]);
    const cot = run("sft-cot");
    assert.deepEqual(cot.cots, ["/ws/.codistill/cots/taco-70b.jsonl"]);
    assert.equal(cot.curriculum.beta_end, 0);
    const struct = run("sft-cot-struct");
    assert.equal(struct.encoder, "/models/codebert");
    assert.deepEqual([struct.curriculum.alpha_end, struct.curriculum.beta_end, struct.curriculum.schedule], [0.5, 0.5, "cosine"]);
    assert.equal(struct.lora.preset, "r32");
    assert.equal(run("sft-cot-struct-r64").lora.preset, "r64");
    assert.equal(struct.max_steps, 20);
  });
});
