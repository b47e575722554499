// From codistill.yaml and the panel's form to the sidecar's run config.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseExperimentConfig } from "../../src/core/experiment/config";
import { DEFAULT_COT_STATUSES, estimateSteps, formDefaults, missingCotSetsProblem, newRunId, planTrainingRun, type TrainingFormValues } from "../../src/core/training/launch";
import { trainingFormProblem } from "../../src/panels/training/protocol";
import { cleanRunName, defaultRunName, MAX_RUN_NAME_LENGTH } from "../../src/core/runs/runNames";

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
      maxSteps: null,
      batchSize: 4,
      maxLength: 2048,
      processes: 2,
      curriculum: { alphaStart: 1, alphaEnd: 0.5, betaStart: 0, betaEnd: 0.7, schedule: "cosine", warmupFraction: 1, steps: 1 },
      cotSets: ["mbpp-llama70b"],
      cotStatuses: ["verified", "valid", "accepted"],
      datasets: ["mbpp", "taco"],
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
    assert.equal(estimateSteps(1000, { ...form, maxSteps: 30 }, { grad_accum: 4 }), 30, "the form's max steps win over epochs");
    assert.equal(estimateSteps(1000, { ...form, maxSteps: null, batchSize: 4, epochs: 3 }, { grad_accum: 4, max_steps: 30 }), 188, "cleared in the form: the epochs decide");
    const { maxSteps: _omitted, ...older } = form;
    assert.equal(estimateSteps(1000, older as TrainingFormValues, { grad_accum: 4, max_steps: 30 }), 30, "a form without the field: codistill.yaml's");
    // A step takes a batch on each process.
    assert.equal(estimateSteps(1000, { ...form, batchSize: 4, epochs: 3, processes: 2 }, { grad_accum: 4 }), 94);
  });

  it("takes max steps from codistill.yaml into the form, and sends the form's in the run config", () => {
    const capped = parseExperimentConfig(`${YAML}\n  max_steps: 20\n`, "/ws/codistill.yaml").config;
    const form = formDefaults(capped);
    assert.equal(form.maxSteps, 20);
    assert.equal(planTrainingRun("/ws", capped, form, "r").config.max_steps, 20);
    assert.equal(planTrainingRun("/ws", capped, { ...form, maxSteps: 7 }, "r").config.max_steps, 7);
    // Cleared in the form: sent as null, so the yaml's cap does not end the run.
    assert.equal(planTrainingRun("/ws", capped, { ...form, maxSteps: null }, "r").config.max_steps, null);
    assert.equal("max_steps" in planTrainingRun("/ws", config, formDefaults(config), "r").config, false, "no cap anywhere: no key");
    for (const bad of ["  max_steps: 0", "  max_steps: 2.5", "  max_steps: many"]) assert.equal(formDefaults(parseExperimentConfig(`${YAML}\n${bad}\n`, "/ws/codistill.yaml").config).maxSteps, null, bad);
    assert.equal(trainingFormProblem({ ...form, maxSteps: null }), undefined);
    assert.equal(trainingFormProblem({ ...form, maxSteps: 0 }), "maxSteps: expected an integer >= 1, or empty to let the epochs decide");
    assert.equal(trainingFormProblem({ ...form, maxSteps: 2.5 }), "maxSteps: expected an integer >= 1, or empty to let the epochs decide");
  });

  it("trains on the datasets picked in the form, training.datasets by default", () => {
    const form = formDefaults(config);
    assert.deepEqual(form.datasets, ["mbpp", "taco"]);
    const plan = planTrainingRun("/ws", config, { ...form, datasets: ["taco"] }, "r");
    assert.deepEqual(plan.exports, [{ dataset: "taco", out: "/ws/.codistill/runs/r/data/taco.tasks.jsonl" }]);
    assert.deepEqual(plan.config.tasks, ["/ws/.codistill/runs/r/data/taco.tasks.jsonl"]);
    assert.deepEqual(planTrainingRun("/ws", config, { ...form, datasets: ["taco", "mbpp", "taco"] }, "r").exports.map((e) => e.dataset), ["taco", "mbpp"], "once each");
    assert.throws(() => planTrainingRun("/ws", config, { ...form, datasets: ["nope"] }, "r"), /datasets: no dataset "nope" in codistill\.yaml's datasets/);
    assert.throws(() => planTrainingRun("/ws", config, { ...form, datasets: [] }, "r"), /datasets: check at least one dataset/);
    assert.equal(trainingFormProblem({ ...form, datasets: [] }), "datasets: check at least one dataset to train on");
    assert.match(trainingFormProblem({ ...form, datasets: "mbpp" }) ?? "", /^datasets: /);
  });
});

describe("run names", () => {
  const at = new Date(2026, 10, 26, 9, 5, 30);

  it("defaults to the student's folder, the arm (CoT sets, or sft) and the time", () => {
    assert.equal(defaultRunName("/ws/models/tiny-student/", [], at), "tiny-student sft 09:05");
    assert.equal(defaultRunName("./models/tiny", ["humaneval-cots", "mbpp-cots", "humaneval-cots"], at), "tiny humaneval-cots+mbpp-cots 09:05");
    assert.equal(defaultRunName("Qwen/Qwen2.5-Coder-1.5B", ["c"], at), "Qwen2.5-Coder-1.5B c 09:05");
    assert.equal(defaultRunName("  ", [], at), "run sft 09:05");
    assert.equal(cleanRunName("  my   run \n"), "my run");
    assert.equal(cleanRunName(42), "");
    assert.equal(cleanRunName("x".repeat(200)).length, MAX_RUN_NAME_LENGTH);
  });

  it("takes training.name from codistill.yaml into the form and the plan, never into the run config", () => {
    const { config, problems } = parseExperimentConfig(`${YAML}\n  name: "  r64 with CoTs "\n`, "/ws/codistill.yaml");
    assert.deepEqual(problems, []);
    const form = formDefaults(config);
    assert.equal(form.name, "r64 with CoTs");
    const plan = planTrainingRun("/ws", config, form, "20261126-090530-paper", undefined, at);
    assert.equal(plan.name, "r64 with CoTs");
    assert.equal("name" in plan.config, false, "the sidecar's TrainConfig rejects unknown keys");
    assert.equal("processes" in plan.config, false);
  });

  it("names a run with the form's name, else the default at the time it is planned", () => {
    const { config } = parseExperimentConfig(YAML, "/ws/codistill.yaml");
    const form = formDefaults(config);
    assert.equal("name" in form, false, "no training.name: the default is computed at Start");
    assert.equal(planTrainingRun("/ws", config, form, "r", undefined, at).name, "student mbpp-llama70b 09:05");
    assert.equal(planTrainingRun("/ws", config, { ...form, name: "   " }, "r", undefined, at).name, "student mbpp-llama70b 09:05");
    assert.equal(planTrainingRun("/ws", config, { ...form, cotSets: [], name: "ablation" }, "r", undefined, at).name, "ablation");
    assert.equal(planTrainingRun("/ws", config, { ...form, cotSets: [] }, "r", undefined, at).name, "student sft 09:05");
    assert.equal(trainingFormProblem({ ...form, name: "fine" }), undefined);
    assert.match(trainingFormProblem({ ...form, name: 3 }) ?? "", /^name: /);
    assert.match(trainingFormProblem({ ...form, name: "x".repeat(MAX_RUN_NAME_LENGTH + 1) }) ?? "", /^name: /);
  });
});
