// From codistill.yaml and the panel's form to the sidecar's run config.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseExperimentConfig } from "../../src/core/experiment/config";
import { estimateSteps, formDefaults, newRunId, planTrainingRun } from "../../src/core/training/launch";
import { trainingFormProblem } from "../../src/panels/training/protocol";

const YAML = [
  "name: Paper Repro",
  "datasets:",
  "  - { name: mbpp, path: data/mbpp.jsonl }",
  "  - { name: taco, path: data/taco, format: taco }",
  "student: { model: ./models/student }",
  "encoder: { model: ./models/codebert }",
  "training:",
  "  datasets: [mbpp, taco]",
  "  cots: [mbpp-llama70b]",
  "  lr: 1.0e-4",
  "  grad_accum: 4",
  "  lora: { preset: r64, dropout: 0.1 }",
  "  processes: 2",
  "  curriculum: { beta_end: 0.7, schedule: cosine }",
].join("\n");

describe("training launch", () => {
  const { config, problems } = parseExperimentConfig(YAML, "/ws/codistill.yaml");

  it("fills the form from codistill.yaml", () => {
    assert.deepEqual(problems, []);
    const form = formDefaults(config);
    assert.deepEqual(form, {
      student: "/ws/models/student",
      encoder: "/ws/models/codebert",
      loraPreset: "r64",
      lr: 1e-4,
      epochs: 1,
      batchSize: 4,
      maxLength: 2048,
      processes: 2,
      curriculum: { alphaStart: 1, alphaEnd: 0.5, betaStart: 0, betaEnd: 0.7, schedule: "cosine", warmupFraction: 1, steps: 1 },
    });
    assert.equal(trainingFormProblem(form), undefined);
    assert.equal(trainingFormProblem({ ...form, processes: 0 }), "processes: expected an integer >= 1");
    assert.equal(trainingFormProblem({ ...form, processes: 1.5 }), "processes: expected an integer >= 1");
    // One process (the sidecar's own) unless codistill.yaml says otherwise; a bad value is not a number of processes.
    for (const value of ["", "  processes: 0", "  processes: four"]) {
      const other = parseExperimentConfig(`${YAML.replace("  processes: 2", value)}\n`, "/ws/codistill.yaml").config;
      assert.equal(formDefaults(other).processes, 1, value);
    }
    assert.match(trainingFormProblem({ ...form, encoder: "" }) ?? "", /^encoder: β > 0 needs/);
    assert.match(trainingFormProblem({ ...form, curriculum: { ...form.curriculum, warmupFraction: 3 } }) ?? "", /^curriculum\.warmupFraction/);
  });

  it("plans a run: tasks exported into the run folder, CoT sets, the form over the yaml settings", () => {
    const form = { ...formDefaults(config), lr: 3e-4, batchSize: 8 };
    const plan = planTrainingRun("/ws", config, form, "20261126-170000-paper-repro");
    assert.equal(plan.runDir, "/ws/.codistill/runs/20261126-170000-paper-repro");
    // train/start's processes, from the form: not a key of the sidecar's run config.
    assert.equal(plan.processes, 2);
    assert.equal(planTrainingRun("/ws", config, { ...form, processes: 1 }, "r").processes, 1);
    assert.deepEqual(plan.exports, [
      { dataset: "mbpp", out: `${plan.runDir}/data/mbpp.tasks.jsonl` },
      { dataset: "taco", out: `${plan.runDir}/data/taco.tasks.jsonl` },
    ]);
    assert.deepEqual(plan.config, {
      lr: 3e-4,
      grad_accum: 4,
      student: "/ws/models/student",
      encoder: "/ws/models/codebert",
      tasks: [`${plan.runDir}/data/mbpp.tasks.jsonl`, `${plan.runDir}/data/taco.tasks.jsonl`],
      cots: ["/ws/.codistill/cots/mbpp-llama70b.jsonl"],
      output_dir: plan.runDir,
      lora: { preset: "r64", dropout: 0.1 },
      epochs: 1,
      batch_size: 8,
      max_length: 2048,
      curriculum: { alpha_start: 1, alpha_end: 0.5, beta_start: 0, beta_end: 0.7, schedule: "cosine", warmup_fraction: 1, steps: 1 },
    });
    assert.throws(() => planTrainingRun("/ws", parseExperimentConfig("name: x", "/ws/codistill.yaml").config, form, "r"), /training\.datasets/);
  });

  it("names runs by start time and experiment, and estimates optimizer steps", () => {
    assert.equal(newRunId(new Date(2026, 10, 26, 17, 5, 9), "Paper Repro!"), "20261126-170509-paper-repro");
    assert.equal(newRunId(new Date(2026, 0, 2, 3, 4, 5), undefined), "20260102-030405-run");
    const form = { ...formDefaults(config), processes: 1 };
    assert.equal(estimateSteps(1000, { ...form, batchSize: 4, epochs: 3 }, { grad_accum: 4 }), 188);
    assert.equal(estimateSteps(1000, form, { grad_accum: 4, max_steps: 30 }), 30);
    // A step takes a batch on each process.
    assert.equal(estimateSteps(1000, { ...form, batchSize: 4, epochs: 3, processes: 2 }, { grad_accum: 4 }), 94);
  });
});
