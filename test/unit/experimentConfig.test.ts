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
        "/ws/codistill.yaml:6:10 evaluation.beams: unknown setting; expected one of n, temperature, topP, maxNewTokens, limit, workers, timeoutS, minIsolation",
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
        "  gpus: 0",
        "  lr: 2.0e-4",
        "  lora: { preset: r32 }",
      ].join("\n"),
      FILE,
    );
    assert.deepEqual(config.encoder, { model: "/ws/codebert" });
    assert.deepEqual(config.training, { datasets: ["mbpp"], cots: ["mbpp-llama"], settings: { gpus: 0, lr: 2e-4, lora: { preset: "r32" } } });
    assert.deepEqual(
      problems.map((p) => `${p.where} ${p.field}: ${p.reason}`),
      ['/ws/codistill.yaml:5:20 training.datasets[1]: no dataset named "nope" in datasets'],
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

  it("turns a declared dataset into the registry's request, leaving out what is not set", () => {
    const { config } = parseExperimentConfig("datasets:\n  - name: t\n    path: /d/t\n    format: taco\n    pythonOnly: false\n  - name: h\n    path: /d/h.jsonl\n", FILE);
    assert.deepEqual(config.datasets.map(datasetRequest), [
      { name: "t", path: "/d/t", format: "taco", pythonOnly: false },
      { name: "h", path: "/d/h.jsonl" },
    ]);
  });
});
