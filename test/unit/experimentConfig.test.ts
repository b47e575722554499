import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseExperimentConfig, readExperimentConfig } from "../../src/core/experiment/config";
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
