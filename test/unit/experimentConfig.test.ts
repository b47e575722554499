import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { EVALUATION_DEFAULTS, datasetRequest, parseExperimentConfig, readExperimentConfig } from "../../src/core/experiment/config";
import { ExperimentConfigCache } from "../../src/core/experiment/configCache";
import { REPO } from "./helpers";

const FILE = "/ws/codistill.yaml";

describe("codistill.yaml", () => {
  it("reads datasets, resolving paths against the file's folder", () => {
    const { config, problems } = parseExperimentConfig(
      [
        "name: paper",
        "datasets:",
        "  - name: humaneval",
        "    path: data/HumanEval.jsonl",
        "  - name: taco",
        "    path: /data/taco",
        "    format: taco",
        "    pythonOnly: true",
        "  - name: mine",
        "    path: mine.jsonl",
        "    format: custom",
        "    mapping: { id: uid, prompt: question, solutions: answers }",
        "teacher: { model: llama-70b, temperature: 0.2 }",
      ].join("\n"),
      FILE,
    );
    assert.deepEqual(problems, []);
    assert.equal(config.name, "paper");
    assert.deepEqual(config.datasets, [
      { name: "humaneval", path: "/ws/data/HumanEval.jsonl" },
      { name: "taco", path: "/data/taco", format: "taco", pythonOnly: true },
      { name: "mine", path: "/ws/mine.jsonl", format: "custom", mapping: { id: "uid", prompt: "question", solutions: "answers" } },
    ]);
    assert.deepEqual(config.teacher, { model: "llama-70b", temperature: 0.2 });
  });

  it("names the file, line and field of every problem and keeps the good entries", () => {
    const { config, problems } = parseExperimentConfig(
      [
        "datasets:",
        "  - name: ok",
        "    path: ok.jsonl",
        "  - name: nopath",
        "  - name: badformat",
        "    path: x.jsonl",
        "    format: csv",
        "  - name: ok",
        "    path: again.jsonl",
        "  - name: custom-without-mapping",
        "    path: c.jsonl",
        "    format: custom",
        "teacher:",
        "  temperature: hot",
      ].join("\n"),
      FILE,
    );
    assert.deepEqual(config.datasets.map((d) => d.name), ["ok"]);
    assert.deepEqual(
      problems.map((p) => `${p.where} ${p.field}: ${p.reason}`),
      [
        "/ws/codistill.yaml:4:5 datasets[1].path: missing",
        "/ws/codistill.yaml:7:13 datasets[2].format: expected one of taco, mbpp, mbpp-sanitized, humaneval, humaneval+, mbpp+, tasks, custom",
        '/ws/codistill.yaml:8:11 datasets[3].name: duplicate dataset name "ok"',
        '/ws/codistill.yaml:10:5 datasets[4].mapping: format "custom" needs a mapping of at least id and prompt',
        "/ws/codistill.yaml:14:16 teacher.temperature: expected a non-negative number",
      ],
    );
  });

  it("reads the student model and evaluation settings, with defaults for what is absent", () => {
    const { config, problems } = parseExperimentConfig(
      ["student:", "  model: ../models/tiny", "evaluation:", "  n: 5", "  temperature: 0.8", "  limit: 20"].join("\n"),
      FILE,
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(config.student, { model: "/models/tiny" });
    assert.deepEqual(config.evaluation, { ...EVALUATION_DEFAULTS, n: 5, temperature: 0.8, limit: 20 });
    assert.deepEqual(parseExperimentConfig("student: { model: models/Qwen2.5-Coder-0.5B }", FILE).config.student, { model: "/ws/models/Qwen2.5-Coder-0.5B" });
    assert.deepEqual(parseExperimentConfig("name: x", FILE).config.evaluation, EVALUATION_DEFAULTS);
  });

  it("names each bad evaluation setting and keeps the default for it", () => {
    const { config, problems } = parseExperimentConfig(
      ["student: {}", "evaluation:", "  n: 2.5", "  topP: 0", "  temperature: -1", "  beams: 4", "  workers: 3", "  minIsolation: strong"].join("\n"),
      FILE,
    );
    assert.equal(config.student, undefined);
    assert.deepEqual(config.evaluation, { ...EVALUATION_DEFAULTS, workers: 3 });
    assert.deepEqual(
      problems.map((p) => `${p.where} ${p.field}: ${p.reason}`),
      [
        "/ws/codistill.yaml:1:10 student.model: missing",
        "/ws/codistill.yaml:3:6 evaluation.n: expected an integer >= 1",
        "/ws/codistill.yaml:4:9 evaluation.topP: expected a number > 0 and <= 1",
        "/ws/codistill.yaml:5:16 evaluation.temperature: expected a number >= 0",
        "/ws/codistill.yaml:6:10 evaluation.beams: unknown setting; expected one of n, temperature, topP, maxNewTokens, limit, workers, timeoutS, minIsolation, benchmarks",
        "/ws/codistill.yaml:8:17 evaluation.minIsolation: expected one of none, partial, full",
      ],
    );
    assert.equal(parseExperimentConfig("evaluation: { minIsolation: full }", FILE).config.evaluation.minIsolation, "full");
    const greedy = parseExperimentConfig("evaluation: { n: 4 }", FILE).problems;
    assert.match(greedy[0]!.reason, /greedy decoding/);
  });

  it("reads the encoder and the training section: its datasets, CoT sets and the sidecar's own settings", () => {
    const { config, problems } = parseExperimentConfig(
      [
        "datasets:",
        "  - { name: mbpp, path: mbpp.jsonl }",
        "encoder: { model: ./codebert }",
        "training:",
        "  datasets: [mbpp, nope]",
        "  cots: [mbpp-llama]",
        "  processes: 2",
        "  lr: 2.0e-4",
        "  lora: { preset: r32 }",
      ].join("\n"),
      FILE,
    );
    assert.deepEqual(config.encoder, { model: "/ws/codebert" });
    assert.deepEqual(config.training, { datasets: ["mbpp"], cots: ["mbpp-llama"], settings: { processes: 2, lr: 2e-4, lora: { preset: "r32" } } });
    assert.deepEqual(
      problems.map((p) => `${p.where} ${p.field}: ${p.reason}`),
      ['/ws/codistill.yaml:5:20 training.datasets[1]: no dataset named "nope" in datasets'],
    );
  });

  it("checks the sidecar's settings in training against the schema, at the line of each bad key or value, and keeps them as given", () => {
    const settings = [
      "  curriculum:",
      "    beta_end: 0.5",
      "    schedule: exponential",
      "  learning_rate: 1.0e-4",
      "  lr: -0.001",
      "  lora: { preset: r8, r: 8 }",
      "  max_steps: twenty",
      "  report_to: [tensorboard, mlflow]",
    ];
    const { config, problems } = parseExperimentConfig(["datasets:", "  - { name: mbpp, path: mbpp.jsonl }", "training:", "  datasets: [mbpp]", ...settings].join("\n"), FILE);
    const trainingKeys = "datasets, cots, processes, name, cache_dir, lora, lr, epochs, max_steps, batch_size, grad_accum, max_length, warmup_ratio, lr_schedule, weight_decay, max_grad_norm, gradient_checkpointing, precision, qlora, device, eval_every, eval_fraction, save_every, keep_last, log_every, seed, deterministic, data, curriculum, structural, report_to, distributed";
    assert.deepEqual(
      problems.map((p) => `${p.where} ${p.field}: ${p.reason}`),
      [
        "/ws/codistill.yaml:7:15 training.curriculum.schedule: expected one of linear, cosine, step",
        `/ws/codistill.yaml:8:18 training.learning_rate: unknown setting; expected one of ${trainingKeys}`,
        "/ws/codistill.yaml:9:7 training.lr: expected a number > 0",
        "/ws/codistill.yaml:10:19 training.lora.preset: expected one of r16, r32, r64, null",
        "/ws/codistill.yaml:11:14 training.max_steps: expected an integer >= 1 or null",
        "/ws/codistill.yaml:12:28 training.report_to[1]: expected one of tensorboard, wandb",
      ],
    );
    assert.deepEqual(config.training, {
      datasets: ["mbpp"],
      cots: [],
      settings: { curriculum: { beta_end: 0.5, schedule: "exponential" }, learning_rate: 1e-4, lr: -0.001, lora: { preset: "r8", r: 8 }, max_steps: "twenty", report_to: ["tensorboard", "mlflow"] },
    });
    const unset = parseExperimentConfig("training:\n  max_steps: null\n  lora: { preset: ~, r: 16 }\n  cache_dir:\n  curriculum: {}\n", FILE);
    assert.deepEqual(unset.problems, [], "null where the schema allows it, an empty section");
    const wrongSection = parseExperimentConfig("training:\n  curriculum: linear\n  processes: 0\n", FILE).problems;
    assert.deepEqual(
      wrongSection.map((p) => `${p.where} ${p.field}: ${p.reason}`),
      [
        "/ws/codistill.yaml:2:15 training.curriculum: expected a mapping (alpha_start, alpha_end, beta_start, beta_end, schedule, warmup_fraction, steps) or null",
        "/ws/codistill.yaml:3:14 training.processes: expected an integer >= 1",
      ],
    );
  });

  it("reports YAML syntax errors with their position", () => {
    const { problems } = parseExperimentConfig("datasets:\n  - name: a\n   path: [unclosed\n", FILE);
    assert.ok(problems.length > 0);
    assert.match(problems[0]!.where, /^\/ws\/codistill\.yaml:\d+:\d+$/);
    assert.equal(problems[0]!.field, "(syntax)");
  });

  it("reads the demo workspace's file, and nothing when there is none", async () => {
    const demo = await readExperimentConfig(join(REPO, "demo"));
    assert.ok(demo);
    assert.deepEqual(demo.problems, []);
    const empty = mkdtempSync(join(tmpdir(), "codistill-cfg-"));
    try {
      assert.equal(await readExperimentConfig(empty), undefined);
      writeFileSync(join(empty, "codistill.yaml"), "");
      assert.deepEqual((await readExperimentConfig(empty))?.config.datasets, []);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe("codistill.yaml as the extension keeps it (ExperimentConfigCache)", () => {
  const withFolder = async (body: (root: string, cache: ExperimentConfigCache) => Promise<void>) => {
    const root = mkdtempSync(join(tmpdir(), "codistill-cfg-cache-"));
    try {
      await body(root, new ExperimentConfigCache(root));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  };

  it("is empty without a file, parses once per version of the file, and re-reads it when it changes", () =>
    withFolder(async (root, cache) => {
      assert.deepEqual(await cache.load(), { root, config: undefined, problems: [] });
      writeFileSync(join(root, "codistill.yaml"), "datasets:\n  - name: a\n    path: a.jsonl\n");
      const first = await cache.load();
      assert.deepEqual(first.config?.datasets.map((d) => d.name), ["a"]);
      assert.equal(await cache.load(), first, "an unchanged file is not parsed again");
      writeFileSync(join(root, "codistill.yaml"), "datasets:\n  - name: b\n    path: b.jsonl\nname: [1]\n");
      const second = await cache.load();
      assert.deepEqual(second.config?.datasets.map((d) => d.name), ["b"]);
      assert.equal(second.problems.length, 1);
      assert.match(second.problems[0]!, new RegExp(`^${join(root, "codistill.yaml")}:4:\\d+ name: expected a string$`));
      rmSync(join(root, "codistill.yaml"));
      assert.equal((await cache.load()).config, undefined);
    }));

  it("names the file when it cannot be read, instead of throwing", () =>
    withFolder(async (root, cache) => {
      mkdirSync(join(root, "codistill.yaml"));
      const loaded = await cache.load();
      assert.equal(loaded.config, undefined);
      assert.equal(loaded.problems.length, 1);
      assert.match(loaded.problems[0]!, new RegExp(`^${join(root, "codistill.yaml")}: .*EISDIR`));
    }));

  it("reads the experiment: its CoT sets, benchmarks and ablation matrix, with defaults", () => {
    const { config, problems } = parseExperimentConfig(
      [
        "name: paper run",
        "datasets:",
        "  - { name: taco, path: taco.jsonl }",
        "  - { name: humaneval, path: he.jsonl }",
        "cots:",
        "  - { name: taco-70b, dataset: taco, limit: 100 }",
        "  - { name: taco-8b, dataset: taco, teacher: offline, mode: rationalize, verify: false }",
        "evaluation: { benchmarks: [humaneval] }",
        "experiment: { out: runs/paper, arms: [sft-cot-struct, base], ranks: [64, 16, 64], teachers: [taco-8b] }",
      ].join("\n"),
      FILE,
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(config.cots, [
      { name: "taco-70b", dataset: "taco", teacher: "endpoint", mode: "blind", verify: true, limit: 100 },
      { name: "taco-8b", dataset: "taco", teacher: "offline", mode: "rationalize", verify: false },
    ]);
    assert.deepEqual(config.evaluation.benchmarks, ["humaneval"]);
    // Arms keep the report's order, whatever order the file lists them in.
    assert.deepEqual(config.experiment, { out: "/ws/runs/paper", arms: ["base", "sft-cot-struct"], ranks: [64, 16], teachers: ["taco-8b"] });
    const defaults = parseExperimentConfig("name: demo\n", FILE).config;
    assert.deepEqual(defaults.experiment, { out: "/ws/.codistill/experiments/demo", arms: ["base", "sft-code", "sft-cot", "sft-cot-struct"], ranks: [], teachers: [] });
    assert.deepEqual(defaults.cots, []);
    assert.deepEqual(defaults.evaluation.benchmarks, []);
  });

  it("names the line and field of each problem in cots, evaluation.benchmarks and experiment", () => {
    const { config, problems } = parseExperimentConfig(
      [
        "datasets:",
        "  - { name: taco, path: taco.jsonl }",
        "cots:",
        "  - { name: a, dataset: nope }",
        "  - { name: 'a b', dataset: taco, teacher: gpt, mode: smart, verify: yes, limit: 0, colour: red }",
        "  - { name: ok, dataset: taco }",
        "  - { name: ok, dataset: taco }",
        "evaluation: { benchmarks: [taco, humaneval] }",
        "experiment:",
        "  arms: [base, sft-dpo]",
        "  ranks: [8, 32]",
        "  teachers: oops",
        "  seed: 1",
      ].join("\n"),
      FILE,
    );
    assert.deepEqual(
      problems.map((p) => `${p.where} ${p.field}: ${p.reason}`),
      [
        '/ws/codistill.yaml:4:25 cots[0].dataset: no dataset named "nope" in datasets',
        "/ws/codistill.yaml:5:93 cots[1].colour: unknown setting; expected one of name, dataset, teacher, mode, verify, limit",
        "/ws/codistill.yaml:5:13 cots[1].name: expected a file name (letters, digits, '.', '_' and '-')",
        "/ws/codistill.yaml:5:44 cots[1].teacher: expected offline or endpoint (the rationalizer, or the teacher model at codistill.teacher.endpoint)",
        "/ws/codistill.yaml:5:55 cots[1].mode: expected blind (the teacher sees the task) or rationalize (and its reference solution)",
        "/ws/codistill.yaml:5:70 cots[1].verify: expected true or false",
        "/ws/codistill.yaml:5:82 cots[1].limit: expected an integer >= 1",
        '/ws/codistill.yaml:7:13 cots[3].name: duplicate CoT set name "ok"',
        '/ws/codistill.yaml:8:34 evaluation.benchmarks[1]: no dataset named "humaneval" in datasets',
        "/ws/codistill.yaml:13:9 experiment.seed: unknown setting; expected one of out, arms, ranks, teachers",
        '/ws/codistill.yaml:10:16 experiment.arms[1]: unknown arm "sft-dpo"; expected some of base, sft-code, sft-cot, sft-cot-struct',
        "/ws/codistill.yaml:11:11 experiment.ranks[0]: expected one of 16, 32, 64 (the LoRA presets r16, r32, r64)",
        "/ws/codistill.yaml:12:13 experiment.teachers: expected a list of names",
      ],
    );
    assert.deepEqual(config.cots.map((c) => c.name), ["ok"]);
    assert.deepEqual(config.evaluation.benchmarks, ["taco"]);
    assert.deepEqual(config.experiment.arms, ["base"]);
    assert.deepEqual(config.experiment.ranks, [32]);
  });

  it("turns a declared dataset into the registry's request, leaving out what is not set", () => {
    const { config } = parseExperimentConfig("datasets:\n  - name: t\n    path: /d/t\n    format: taco\n    pythonOnly: false\n  - name: h\n    path: /d/h.jsonl\n", FILE);
    assert.deepEqual(config.datasets.map(datasetRequest), [
      { name: "t", path: "/d/t", format: "taco", pythonOnly: false },
      { name: "h", path: "/d/h.jsonl" },
    ]);
  });
});
