// From codistill.yaml and the panel's form to the sidecar's run config.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseExperimentConfig } from "../../src/core/experiment/config";
import { DEFAULT_COT_STATUSES, estimateSteps, formDefaults, missingCotSetsProblem, newRunId, planTrainingRun, type TrainingFormValues } from "../../src/core/training/launch";
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
      cotSets: ["mbpp-llama70b"],
      cotStatuses: ["verified", "valid", "accepted"],
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
    assert.deepEqual(form.cotSets, ["mbpp-llama70b"], "codistill.yaml's training.cots, preselected");
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
      data: { cot_statuses: ["verified", "valid", "accepted"] },
      output_dir: plan.runDir,
      lora: { preset: "r64", dropout: 0.1 },
      epochs: 1,
      batch_size: 8,
      max_length: 2048,
      curriculum: { alpha_start: 1, alpha_end: 0.5, beta_start: 0, beta_end: 0.7, schedule: "cosine", warmup_fraction: 1, steps: 1 },
    });
    assert.throws(() => planTrainingRun("/ws", parseExperimentConfig("name: x", "/ws/codistill.yaml").config, form, "r"), /training\.datasets/);
  });

  it("trains on the CoT sets picked in the form, with its status filter over the yaml's data settings", () => {
    const yaml = `${YAML}\n  data: { cot_statuses: [verified, accepted, great], difficulties: [easy] }\n`;
    const withData = parseExperimentConfig(yaml, "/ws/codistill.yaml").config;
    const form = formDefaults(withData);
    // codistill.yaml's filter preselects the checkboxes: the words the form knows, once each.
    assert.deepEqual(form.cotStatuses, ["verified", "accepted"]);
    assert.deepEqual(formDefaults(parseExperimentConfig(`${YAML}\n  data: { cot_statuses: [] }\n`, "/ws/codistill.yaml").config).cotStatuses, []);
    assert.deepEqual(formDefaults(config).cotStatuses, [...DEFAULT_COT_STATUSES]);
    assert.deepEqual(formDefaults(parseExperimentConfig(YAML.replace("  cots: [mbpp-llama70b]\n", ""), "/ws/codistill.yaml").config).cotSets, []);

    const picked: TrainingFormValues = { ...form, cotSets: ["humaneval-cots", "mbpp-cots", "humaneval-cots"], cotStatuses: ["failed-verification", "invalid"] };
    const plan = planTrainingRun("/ws", withData, picked, "r");
    assert.deepEqual(plan.config.cots, ["/ws/.codistill/cots/humaneval-cots.jsonl", "/ws/.codistill/cots/mbpp-cots.jsonl"], "the picked sets, not training.cots, once each");
    assert.deepEqual(plan.config.data, { difficulties: ["easy"], cot_statuses: ["failed-verification", "invalid"] }, "merged with the other data keys");

    // None picked: code-only SFT.
    const codeOnly = planTrainingRun("/ws", withData, { ...form, cotSets: [] }, "r");
    assert.equal(codeOnly.config.cots, null);
    assert.deepEqual(codeOnly.config.data, { difficulties: ["easy"], cot_statuses: ["verified", "accepted"] });
    // An empty filter (allowed only without sets) is left out rather than sent: it would keep no record.
    assert.deepEqual(planTrainingRun("/ws", withData, { ...form, cotSets: [], cotStatuses: [] }, "r").config.data, { difficulties: ["easy"] });
    assert.equal("data" in planTrainingRun("/ws", config, { ...form, cotSets: [], cotStatuses: [] }, "r").config, false);
    // A data setting that is not a mapping goes to the sidecar as it is, which names the problem.
    const broken = parseExperimentConfig(`${YAML}\n  data: 5\n`, "/ws/codistill.yaml").config;
    assert.equal(planTrainingRun("/ws", broken, form, "r").config.data, 5);
  });

  it("validates the CoT part of the form, and names picked sets that are not in .codistill/cots/", () => {
    const form = formDefaults(config);
    assert.equal(trainingFormProblem({ ...form, cotSets: [], cotStatuses: [] }), undefined, "code-only needs no filter");
    assert.equal(trainingFormProblem({ ...form, cotStatuses: [] }), "cotStatuses: check at least one status of the CoT records to train on");
    assert.match(trainingFormProblem({ ...form, cotStatuses: ["valid", "rejected"] }) ?? "", /^cotStatuses: expected a list of verified, valid, accepted, failed-verification, invalid$/);
    assert.match(trainingFormProblem({ ...form, cotSets: "mbpp" }) ?? "", /^cotSets: /);
    assert.match(trainingFormProblem({ ...form, cotSets: [""] }) ?? "", /^cotSets: /);
    const { cotStatuses: _omitted, ...withoutStatuses } = form;
    assert.match(trainingFormProblem(withoutStatuses) ?? "", /^cotStatuses: /);

    assert.equal(missingCotSetsProblem(["a", "b"], ["b", "a", "c"]), undefined);
    assert.equal(missingCotSetsProblem([], []), undefined);
    assert.equal(missingCotSetsProblem(["a", "gone", "x", "gone"], ["a"]), 'CoT sets: no CoT set "gone", "x" in .codistill/cots/');
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
