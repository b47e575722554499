// media/codistill.schema.json against what reads codistill.yaml: parseExperimentConfig for every
// section but training's settings, and the sidecar's run config (codistill.training.config) for
// those. Both must accept the same good files and reject the same bad ones; then the editor
// helpers of src/core/experiment/schema.ts on cursor positions.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import Ajv, { type ErrorObject } from "ajv";
import { parse } from "yaml";
import { ARMS, COT_TEACHERS, LORA_RANKS, parseExperimentConfig } from "../../src/core/experiment/config";
import {
  ANNOTATION_KEYWORDS,
  EXPERIMENT_SCHEMA,
  VALIDATED_KEYWORDS,
  completionsAt,
  hoverAt,
  locateCursor,
  problemRange,
  schemaAt,
  validateValue,
  type SchemaNode,
} from "../../src/core/experiment/schema";
import { formDefaults, planTrainingRun } from "../../src/core/training/launch";
import { ISOLATION_LEVELS } from "../../src/sidecar/protocol";
import { REPO, sidecarPython } from "./helpers";

const FILE = "/ws/codistill.yaml";
const DEMO = join(REPO, "demo", "codistill.yaml");

// strictTypes: a keyword that cannot apply to the node's type (minItems on a string) is a schema bug.
const ajv = new Ajv({ allErrors: true, strictTypes: true });
ajv.addKeyword("markdownDescription");
const validateSchema = ajv.compile(EXPERIMENT_SCHEMA);

function schemaErrors(text: string): ErrorObject[] {
  return validateSchema(parse(text)) ? [] : [...(validateSchema.errors ?? [])];
}

const FULL = `
name: paper
datasets:
  - name: taco
    path: data/taco
    format: taco
    pythonOnly: true
  - name: humaneval
    path: data/HumanEval.jsonl
    format: humaneval
  - name: mine
    path: mine.jsonl
    format: custom
    mapping: { id: uid, prompt: question, solutions: answers, tests: checks, entryPoint: fn, starterCode: stub, difficulty: level, tags: labels }
teacher:
  model: llama-70b
  temperature: 0.2
student:
  model: ~/models/qwen-0.5b
encoder:
  model: ../models/codebert
cots:
  - name: taco-cots
    dataset: taco
    teacher: endpoint
    mode: blind
    verify: true
    limit: 100
  - name: taco-offline
    dataset: taco
    teacher: offline
    mode: rationalize
    verify: false
training:
  datasets: [taco]
  cots: [taco-cots]
  processes: 2
  cache_dir: .cache/codistill
  lora: { preset: r64, r: 64, alpha: 128, dropout: 0.1, target_modules: [q_proj, v_proj] }
  lr: 1.0e-4
  epochs: 2
  max_steps: 500
  batch_size: 8
  grad_accum: 2
  max_length: 1024
  warmup_ratio: 0.05
  lr_schedule: linear
  weight_decay: 0.01
  max_grad_norm: 0.5
  gradient_checkpointing: true
  precision: bf16
  qlora: false
  device: cuda
  eval_every: 25
  eval_fraction: 0.1
  save_every: 50
  keep_last: 2
  log_every: 5
  seed: 7
  deterministic: true
  data: { cot_statuses: [verified, accepted], difficulties: [EASY, MEDIUM], use_chat_template: false }
  curriculum:
    alpha_start: 1.0
    alpha_end: 0.5
    beta_start: 0.0
    beta_end: 0.5
    schedule: step
    warmup_fraction: 0.8
    steps: 4
  structural: { tau: 0.5, gt: encoder, mode: straight-through }
  report_to: [tensorboard]
  distributed: { strategy: fsdp }
evaluation:
  n: 5
  temperature: 0.8
  topP: 0.9
  maxNewTokens: 256
  limit: 50
  workers: 4
  timeoutS: 2.5
  minIsolation: partial
  benchmarks: [humaneval]
experiment:
  out: experiments/paper
  arms: [base, sft-code, sft-cot, sft-cot-struct]
  ranks: [16, 64]
  teachers: [taco-offline]
`;

const DATASETS = "datasets:\n  - name: taco\n    path: t.jsonl\n";

/** Each bad file, the schema error's instance path and parseExperimentConfig's field. */
const BAD_FILES: { name: string; text: string; instancePath: string; field: string }[] = [
  { name: "unknown arm", text: "experiment: { arms: [base, sft-magic] }", instancePath: "/experiment/arms/1", field: "experiment.arms[1]" },
  { name: "ranks not a list", text: "experiment: { ranks: 32 }", instancePath: "/experiment/ranks", field: "experiment.ranks" },
  { name: "a rank that is no preset", text: "experiment: { ranks: [48] }", instancePath: "/experiment/ranks/0", field: "experiment.ranks[0]" },
  { name: "no arm at all", text: "experiment: { arms: [] }", instancePath: "/experiment/arms", field: "experiment.arms" },
  { name: "unknown key in experiment", text: "experiment: { arm: [base] }", instancePath: "/experiment", field: "experiment.arm" },
  { name: "unknown key in evaluation", text: "evaluation: { topK: 40 }", instancePath: "/evaluation", field: "evaluation.topK" },
  { name: "evaluation number out of range", text: "evaluation: { topP: 0 }", instancePath: "/evaluation/topP", field: "evaluation.topP" },
  { name: "unknown isolation level", text: "evaluation: { minIsolation: strict }", instancePath: "/evaluation/minIsolation", field: "evaluation.minIsolation" },
  { name: "n > 1 with greedy decoding", text: "evaluation: { n: 5 }", instancePath: "/evaluation/n", field: "evaluation.n" },
  { name: "unknown key in a cots entry", text: `${DATASETS}cots:\n  - { name: a, dataset: taco, model: x }`, instancePath: "/cots/0", field: "cots[0].model" },
  { name: "unknown cot teacher", text: `${DATASETS}cots:\n  - { name: a, dataset: taco, teacher: gpt }`, instancePath: "/cots/0/teacher", field: "cots[0].teacher" },
  { name: "unknown cot mode", text: `${DATASETS}cots:\n  - { name: a, dataset: taco, mode: guess }`, instancePath: "/cots/0/mode", field: "cots[0].mode" },
  { name: "cot set name that is no file name", text: `${DATASETS}cots:\n  - { name: a/b, dataset: taco }`, instancePath: "/cots/0/name", field: "cots[0].name" },
  { name: "cot set without a dataset", text: "cots:\n  - { name: a }", instancePath: "/cots/0", field: "cots[0].dataset" },
  { name: "unknown dataset format", text: "datasets:\n  - { name: a, path: a.csv, format: csv }", instancePath: "/datasets/0/format", field: "datasets[0].format" },
  { name: "custom format without a mapping", text: "datasets:\n  - { name: a, path: a.jsonl, format: custom }", instancePath: "/datasets/0", field: "datasets[0].mapping" },
  { name: "unknown key in a dataset mapping", text: "datasets:\n  - { name: a, path: a.jsonl, format: custom, mapping: { id: i, prompt: p, answer: s } }", instancePath: "/datasets/0/mapping", field: "datasets[0].mapping.answer" },
  { name: "training on no dataset", text: "training: { datasets: [] }", instancePath: "/training/datasets", field: "training.datasets" },
  { name: "negative teacher temperature", text: "teacher: { temperature: -1 }", instancePath: "/teacher/temperature", field: "teacher.temperature" },
  { name: "student without a model", text: "student: { path: x }", instancePath: "/student", field: "student.model" },
];

/** Training settings the schema rejects, and the field the sidecar's run config names for them. */
const BAD_TRAINING: { name: string; settings: Record<string, unknown>; instancePath: string; field: string }[] = [
  { name: "bad curriculum schedule", settings: { curriculum: { schedule: "exponential" } }, instancePath: "/training/curriculum/schedule", field: "curriculum.schedule" },
  { name: "unknown training key", settings: { learning_rate: 1e-4 }, instancePath: "/training", field: "learning_rate" },
  { name: "unknown lora preset", settings: { lora: { preset: "r8" } }, instancePath: "/training/lora/preset", field: "lora.preset" },
  { name: "unknown curriculum key", settings: { curriculum: { gamma: 1 } }, instancePath: "/training/curriculum", field: "curriculum.gamma" },
  { name: "batch_size not an integer", settings: { batch_size: "big" }, instancePath: "/training/batch_size", field: "batch_size" },
  { name: "eval_fraction of 1", settings: { eval_fraction: 1 }, instancePath: "/training/eval_fraction", field: "eval_fraction" },
  { name: "unknown reporter", settings: { report_to: ["mlflow"] }, instancePath: "/training/report_to/0", field: "report_to[0]" },
];

/** More training sections for validateValue against Ajv: type arrays, anyOf, bounds, nulls. */
const MORE_TRAINING: Record<string, unknown>[] = [
  { lora: { target_modules: "all-linear", preset: null, r: 8, alpha: 16, dropout: 0 } },
  { lora: { target_modules: "attention" } },
  { lora: { target_modules: [] } },
  { lora: { target_modules: ["q_proj", ""] } },
  { lora: { alpha: 0, dropout: 1, r: 0.5 } },
  { lora: "r16" },
  { max_steps: null, cache_dir: null, data: null, curriculum: null },
  { max_steps: 0, cache_dir: "", warmup_ratio: 1.5, weight_decay: -1, seed: -3, epochs: 0 },
  { max_steps: 2.5, lr: "fast", qlora: "yes", precision: "fp8", report_to: "wandb" },
  { data: { cot_statuses: [], difficulties: [1], use_chat_template: 1, extra: true } },
  { curriculum: { schedule: null, steps: 0, warmup_fraction: -0.1 }, structural: { tau: 0, gt: "ast" }, distributed: { strategy: "zero3" } },
  { processes: 0, eval_every: -1 },
];

/** A problem's path as Ajv's instancePath writes it: /training/report_to/0. */
const pointer = (path: (string | number)[]) => path.map((p) => `/${String(p).replace(/~/g, "~0").replace(/\//g, "~1")}`).join("");

/**
 * The paths Ajv finds wrong: an unknown key's and a missing key's own path (Ajv names them in
 * params), an anyOf's path but none of its variants' errors, a then/else's errors but not the if
 * that chose them.
 */
function ajvPaths(value: unknown, node: SchemaNode = EXPERIMENT_SCHEMA): string[] {
  const validate = ajv.compile({ ...node, definitions: EXPERIMENT_SCHEMA.definitions });
  if (validate(value)) return [];
  const paths = (validate.errors ?? [])
    .filter((e) => e.keyword !== "if" && !e.schemaPath.includes("/anyOf/"))
    .map((e) => {
      const params = e.params as { additionalProperty?: string; missingProperty?: string };
      const key = e.keyword === "additionalProperties" ? params.additionalProperty : e.keyword === "required" ? params.missingProperty : undefined;
      return key === undefined ? e.instancePath : `${e.instancePath}${pointer([key])}`;
    });
  return [...new Set(paths)].sort();
}

const validatorPaths = (value: unknown, node: SchemaNode = EXPERIMENT_SCHEMA) => [...new Set(validateValue(value, node).map((p) => pointer(p.path)))].sort();

/** Keys of the run config that the extension fills from codistill.yaml's other sections. */
const FILLED_BY_THE_EXTENSION = ["student", "encoder", "tasks", "output_dir"];
/** Keys of `training:` that are the extension's, not the run config's. */
const EXTENSION_TRAINING_KEYS = ["datasets", "cots", "processes", "name"];

type FieldTree = { [key: string]: FieldTree | null };

/**
 * One sidecar Python run: the run config's field tree (nested sections as mappings) and, for each
 * settings mapping, the field config_from_dict names as wrong (null: accepted).
 */
function sidecarRunConfig(settingsList: Record<string, unknown>[]): { fields: FieldTree; rejected: (string | null)[] } {
  const script = `
import dataclasses, json, sys, typing
from codistill.training.config import TrainConfig, TrainConfigError, config_from_dict
def tree(cls):
    hints = typing.get_type_hints(cls)
    return {f.name: tree(hints[f.name]) if dataclasses.is_dataclass(hints[f.name]) else None for f in dataclasses.fields(cls)}
def rejected(settings):
    try:
        config_from_dict({"student": "/m/student", "encoder": "/m/encoder", "tasks": ["/t.jsonl"], "output_dir": "/run", **settings})
    except TrainConfigError as exc:
        return exc.field
    return None
print(json.dumps({"fields": tree(TrainConfig), "rejected": [rejected(s) for s in json.load(sys.stdin)]}))
`;
  const output = execFileSync(sidecarPython(), ["-c", script], { input: JSON.stringify(settingsList), encoding: "utf8", env: { ...process.env, PYTHONPATH: join(REPO, "sidecar", "src") } });
  return JSON.parse(output) as { fields: FieldTree; rejected: (string | null)[] };
}

/** The field names of an "unknown ...; expected one of a, b, c" problem: what config.ts accepts there. */
function acceptedKeys(text: string, field: string): string[] {
  const problem = parseExperimentConfig(text, FILE).problems.find((p) => p.field === field);
  const list = /expected one of (.+)$/.exec(problem?.reason ?? "")?.[1];
  assert.ok(list, `no "expected one of" problem for ${field}: ${JSON.stringify(problem)}`);
  return list.split(", ").sort();
}

const propertyNames = (path: (string | number)[]) => Object.keys(schemaAt(path)?.properties ?? {}).sort();

describe("codistill.schema.json", () => {
  it("is a valid draft-07 schema whose every key has a description", () => {
    assert.equal(ajv.validateSchema(EXPERIMENT_SCHEMA), true, ajv.errorsText(ajv.errors));
    const undocumented: string[] = [];
    // Through schemaAt, so a key whose $ref target has the description counts as described.
    const walk = (path: (string | number)[]) => {
      const node = schemaAt(path)!;
      for (const key of Object.keys(node.properties ?? {})) {
        if (!schemaAt([...path, key])?.description) undocumented.push([...path, key].join("."));
        walk([...path, key]);
      }
      if (node.items) walk([...path, 0]);
    };
    walk([]);
    assert.deepEqual(undocumented, []);
  });

  it("accepts the demo's codistill.yaml, as parseExperimentConfig does", () => {
    const text = readFileSync(DEMO, "utf8");
    assert.deepEqual(schemaErrors(text), []);
    assert.deepEqual(parseExperimentConfig(text, DEMO).problems, []);
  });

  it("accepts a file with every section and key, as parseExperimentConfig and the sidecar's run config do", () => {
    assert.deepEqual(schemaErrors(FULL), []);
    const { config, problems } = parseExperimentConfig(FULL, FILE);
    assert.deepEqual(problems, []);
    const run = planTrainingRun("/ws", config, formDefaults(config), "run-1");
    assert.deepEqual(sidecarRunConfig([run.config]).rejected, [null]);
  });

  for (const bad of BAD_FILES) {
    it(`rejects ${bad.name}, as parseExperimentConfig does`, () => {
      const errors = schemaErrors(bad.text);
      assert.ok(
        errors.some((e) => e.instancePath === bad.instancePath),
        `schema errors: ${errors.map((e) => `${e.instancePath} ${e.message}`).join("; ") || "none"}`,
      );
      const fields = parseExperimentConfig(bad.text, FILE).problems.map((p) => p.field);
      assert.ok(fields.includes(bad.field), `parseExperimentConfig fields: ${fields.join(", ") || "none"}`);
    });
  }

  // parseExperimentConfig checks training's settings against the schema and keeps them as given: the sidecar has the last word.
  it("rejects bad training settings, as parseExperimentConfig and the sidecar's run config do", () => {
    const { rejected } = sidecarRunConfig(BAD_TRAINING.map((bad) => bad.settings));
    BAD_TRAINING.forEach((bad, i) => {
      const text = `${DATASETS}training: ${JSON.stringify({ datasets: ["taco"], ...bad.settings })}`;
      const errors = schemaErrors(text);
      assert.ok(errors.some((e) => e.instancePath === bad.instancePath), `${bad.name}: schema errors: ${errors.map((e) => `${e.instancePath} ${e.message}`).join("; ") || "none"}`);
      assert.equal(rejected[i], bad.field, `${bad.name}: the sidecar's field`);
      const { config, problems } = parseExperimentConfig(text, FILE);
      assert.deepEqual(problems.map((p) => p.field), [`training.${bad.field}`], `${bad.name}: parseExperimentConfig's fields`);
      assert.deepEqual(config.training?.settings, bad.settings, `${bad.name}: the settings as given`);
    });
  });

  it("validates as Ajv does: the same failing paths in training, and in the whole file", () => {
    const training = schemaAt(["training"])!;
    const trainingSections = [
      ...[FULL, readFileSync(DEMO, "utf8"), ...BAD_FILES.map((bad) => bad.text)].map((text) => (parse(text) as { training?: unknown } | null)?.training),
      ...BAD_TRAINING.map((bad) => bad.settings),
      ...MORE_TRAINING,
    ].filter((section) => section !== undefined);
    for (const section of trainingSections) assert.deepEqual(validatorPaths(section, training), ajvPaths(section, training), JSON.stringify(section));
    assert.deepEqual(validatorPaths(parse(FULL), EXPERIMENT_SCHEMA), [], "the full example");
    assert.deepEqual(validatorPaths(parse(readFileSync(DEMO, "utf8")), EXPERIMENT_SCHEMA), [], "the demo");
    assert.equal(MORE_TRAINING.filter((section) => ajvPaths(section, training).length === 0).length, 2, "the bad ones fail");
    for (const text of BAD_FILES.map((bad) => bad.text)) {
      const paths = validatorPaths(parse(text));
      assert.deepEqual(paths, ajvPaths(parse(text)), text);
      assert.ok(paths.length > 0, text);
    }
  });

  it("knows every keyword the schema uses", () => {
    const used = new Set<string>();
    const walk = (node: SchemaNode) => {
      for (const [keyword, value] of Object.entries(node)) {
        used.add(keyword);
        if (keyword === "properties" || keyword === "definitions") Object.values(value as Record<string, SchemaNode>).forEach(walk);
        else if (keyword === "anyOf") (value as SchemaNode[]).forEach(walk);
        else if (["items", "if", "then", "else"].includes(keyword) || (keyword === "additionalProperties" && typeof value === "object")) walk(value as SchemaNode);
      }
    };
    walk(EXPERIMENT_SCHEMA);
    const known = new Set<string>([...VALIDATED_KEYWORDS, ...ANNOTATION_KEYWORDS]);
    assert.deepEqual([...used].filter((keyword) => !known.has(keyword)).sort(), [], "teach validateValue these keywords (schema.ts), or list them as annotations");
    assert.deepEqual([...VALIDATED_KEYWORDS].filter((keyword) => !used.has(keyword)), [], "every keyword validateValue checks is one the schema uses");
  });

  it("phrases each problem as parseExperimentConfig does", () => {
    const reasons = (value: unknown, path: (string | number)[]) => validateValue(value, schemaAt(path)!).map((p) => `${pointer(p.path)} ${p.reason}`);
    assert.deepEqual(reasons({ schedule: "exp", steps: 0, warmup_fraction: 2, alpha_start: -1, gamma: 1 }, ["training", "curriculum"]), [
      "/schedule expected one of linear, cosine, step",
      "/steps expected an integer >= 1",
      "/warmup_fraction expected a number >= 0 and <= 1",
      "/alpha_start expected a number >= 0",
      "/gamma unknown setting; expected one of alpha_start, alpha_end, beta_start, beta_end, schedule, warmup_fraction, steps",
    ]);
    assert.deepEqual(reasons({ dropout: 1, alpha: 0, target_modules: ["q", ""], preset: 16 }, ["training", "lora"]), [
      "/dropout expected a number >= 0 and < 1 or null",
      "/alpha expected a number > 0 or null",
      "/target_modules expected all-linear or a non-empty list, each a non-empty string",
      "/preset expected one of r16, r32, r64, null",
    ]);
    assert.deepEqual(reasons({ cot_statuses: [], use_chat_template: "no" }, ["training", "data"]), [
      "/cot_statuses expected a non-empty list, each one of verified, valid, accepted, failed-verification, invalid",
      "/use_chat_template expected true or false",
    ]);
    assert.deepEqual(reasons([{ name: "a", path: " ", format: "custom" }], ["datasets"]), ["/0/path expected a non-empty string matching \\S", "/0/mapping missing"]);
    assert.deepEqual(reasons({ temperature: 0, n: 2 }, ["evaluation"]), ["/n expected an integer <= 1"], "else of the if");
    assert.deepEqual(reasons({ temperature: 0.5, n: 2 }, ["evaluation"]), []);
  });

  it("has every key parseExperimentConfig accepts in evaluation, experiment, cots entries and dataset mappings, and no other", () => {
    assert.deepEqual(propertyNames(["evaluation"]), acceptedKeys("evaluation: { bogus: 1 }", "evaluation.bogus"));
    assert.deepEqual(propertyNames(["experiment"]), acceptedKeys("experiment: { bogus: 1 }", "experiment.bogus"));
    assert.deepEqual(propertyNames(["cots", 0]), acceptedKeys("cots:\n  - { bogus: 1 }", "cots[0].bogus"));
    const custom = "datasets:\n  - { name: a, path: a.jsonl, format: custom, mapping: { id: i, prompt: p, bogus: b } }";
    assert.deepEqual(propertyNames(["datasets", 0, "mapping"]), acceptedKeys(custom, "datasets[0].mapping.bogus"));
  });

  it("has the enums of config.ts and the protocol", () => {
    assert.deepEqual(schemaAt(["experiment", "arms", 0])?.enum, [...ARMS]);
    assert.deepEqual(schemaAt(["experiment", "ranks", 0])?.enum, [...LORA_RANKS]);
    assert.deepEqual(schemaAt(["cots", 0, "teacher"])?.enum, [...COT_TEACHERS]);
    assert.deepEqual(schemaAt(["evaluation", "minIsolation"])?.enum, [...ISOLATION_LEVELS]);
    assert.deepEqual([...(schemaAt(["datasets", 0, "format"])?.enum ?? [])].sort(), acceptedKeys("datasets:\n  - { name: a, path: a.jsonl, format: bogus }", "datasets[0].format"));
  });

  it("has the sidecar run config's keys in training, section by section", () => {
    const { fields } = sidecarRunConfig([]);
    const runConfigKeys = Object.keys(fields).filter((key) => !FILLED_BY_THE_EXTENSION.includes(key) && !EXTENSION_TRAINING_KEYS.includes(key));
    const trainingKeys = propertyNames(["training"]).filter((key) => !EXTENSION_TRAINING_KEYS.includes(key));
    assert.deepEqual(trainingKeys, runConfigKeys.sort());
    for (const [section, keys] of Object.entries(fields)) {
      if (keys && !FILLED_BY_THE_EXTENSION.includes(section)) assert.deepEqual(propertyNames(["training", section]), Object.keys(keys).sort(), `training.${section}`);
    }
    assert.equal(schemaAt(["training"])?.additionalProperties, false, "the run config rejects unknown keys");
  });
});

/** The text with "|" removed, and the offset where it was. */
function cursor(textWithBar: string): [string, number] {
  const offset = textWithBar.indexOf("|");
  assert.ok(offset >= 0, "no | in the text");
  return [textWithBar.slice(0, offset) + textWithBar.slice(offset + 1), offset];
}

const labelsAt = (textWithBar: string) => completionsAt(...cursor(textWithBar)).map((c) => c.label);

describe("codistill.yaml editor help (schema.ts)", () => {
  it("completes the keys a mapping may still take, with their descriptions", () => {
    const [text, offset] = cursor("training:\n  datasets: [taco]\n  max_steps: 20\n  |\nevaluation:\n  n: 1\n");
    const items = completionsAt(text, offset);
    const labels = items.map((c) => c.label);
    assert.ok(labels.includes("curriculum") && labels.includes("lora") && labels.includes("processes"), labels.join(", "));
    assert.ok(!labels.includes("max_steps") && !labels.includes("datasets"), "keys already there are not offered");
    assert.ok(!labels.includes("n"), "keys of another section are not offered");
    const lora = items.find((c) => c.label === "lora")!;
    assert.equal(lora.kind, "key");
    assert.equal(lora.insertText, "lora: ");
    assert.match(lora.documentation ?? "", /LoRA/);
    assert.deepEqual(lora.replace, [offset, offset]);
  });

  it("completes the top-level sections, in an empty file and after others", () => {
    assert.deepEqual(labelsAt("|"), ["name", "datasets", "teacher", "student", "encoder", "cots", "training", "evaluation", "experiment"]);
    assert.deepEqual(labelsAt("name: x\ncots: []\n|"), ["datasets", "teacher", "student", "encoder", "training", "evaluation", "experiment"]);
  });

  it("completes the keys of a list item's mapping and of a new list item", () => {
    assert.deepEqual(labelsAt("cots:\n  - name: a\n    dataset: taco\n    |\n"), ["teacher", "mode", "verify", "limit"]);
    assert.deepEqual(labelsAt("cots:\n  - |\n"), ["name", "dataset", "teacher", "mode", "verify", "limit"]);
    assert.deepEqual(labelsAt("training:\n  lora:\n    |"), ["preset", "r", "alpha", "dropout", "target_modules"]);
    assert.deepEqual(labelsAt("training:\n  lora: { pre| }\n"), ["preset", "r", "alpha", "dropout", "target_modules"]);
  });

  it("completes enum values and booleans where a value goes", () => {
    assert.deepEqual(labelsAt("training:\n  curriculum: { beta_end: 0.5, schedule: c| }\n"), ["linear", "cosine", "step"]);
    assert.deepEqual(labelsAt("training:\n  curriculum:\n    schedule: |\n"), ["linear", "cosine", "step"]);
    assert.deepEqual(labelsAt("evaluation:\n  minIsolation:|\n"), [...ISOLATION_LEVELS]);
    assert.deepEqual(labelsAt("experiment:\n  arms: [base, |]\n"), [...ARMS]);
    assert.deepEqual(labelsAt("experiment:\n  arms:\n    - base\n    - sft|\n"), [...ARMS]);
    assert.deepEqual(labelsAt("training:\n  lora: { preset: | }\n"), ["r16", "r32", "r64"]);
    assert.deepEqual(labelsAt("cots:\n  - name: a\n    verify: |\n"), ["true", "false"]);
    assert.deepEqual(labelsAt("name: |"), [], "a free string has nothing to offer");
  });

  it("replaces the word being typed, all of it", () => {
    const [text, offset] = cursor("training:\n  curriculum:\n    schedule: cos|ine\n");
    const start = text.indexOf("cosine");
    assert.deepEqual(completionsAt(text, offset)[0]!.replace, [start, start + "cosine".length]);
  });

  it("finds the key path under the cursor in nested mappings and list items", () => {
    const text = "training:\n  curriculum: { beta_end: 0.5 }\ncots:\n  - name: a\n    dataset: taco\nexperiment:\n  arms:\n    - base\n";
    const at = (word: string, nth = 0) => {
      let offset = -1;
      for (let i = 0; i <= nth; i++) offset = text.indexOf(word, offset + 1);
      return locateCursor(text, offset + 1);
    };
    assert.deepEqual(at("beta_end"), { path: ["training", "curriculum", "beta_end"], on: "key", siblings: [], range: [text.indexOf("beta_end"), text.indexOf("beta_end") + 8] });
    assert.deepEqual(at("0.5")?.path, ["training", "curriculum", "beta_end"]);
    assert.equal(at("0.5")?.on, "value");
    assert.deepEqual(at("dataset"), { path: ["cots", 0, "dataset"], on: "key", siblings: ["name"], range: [text.indexOf("dataset"), text.indexOf("dataset") + 7] });
    assert.deepEqual(at("taco")?.path, ["cots", 0, "dataset"]);
    assert.deepEqual(at("base")?.path, ["experiment", "arms", 0]);
    assert.deepEqual(at("curriculum")?.path, ["training", "curriculum"]);
  });

  it("hovers a key with its description, type and default or values", () => {
    const text = "training:\n  curriculum: { beta_end: 0.5 }\nexperiment:\n  arms: [base]\nevaluation:\n  benchmarks: [humaneval]\n";
    const hover = (word: string) => hoverAt(text, text.indexOf(word) + 2);
    const betaEnd = hover("beta_end")!;
    assert.match(betaEnd.markdown, /^\*\*beta_end\*\*/);
    assert.ok(betaEnd.markdown.includes(schemaAt(["training", "curriculum", "beta_end"])!.description!));
    assert.match(betaEnd.markdown, /`number` · default `0.5`/);
    assert.deepEqual(betaEnd.range, [text.indexOf("beta_end"), text.indexOf("beta_end") + "beta_end".length]);
    const arms = hover("arms")!.markdown;
    assert.ok(arms.includes(schemaAt(["experiment", "arms"])!.description!));
    assert.match(arms, /`list of string`.*each one of `base`, `sft-code`, `sft-cot`, `sft-cot-struct`/);
    assert.ok(hover("benchmarks")!.markdown.includes(schemaAt(["evaluation", "benchmarks"])!.description!));
    assert.equal(hover("humaneval"), undefined, "values have no hover");
  });

  it("follows $ref to the definitions, the referring node's description winning", () => {
    assert.deepEqual(EXPERIMENT_SCHEMA.properties?.student?.$ref, "#/definitions/modelFolder");
    assert.match(schemaAt(["student"])!.description!, /small model to distil into/);
    assert.match(schemaAt(["encoder"])!.description!, /frozen encoder/);
    assert.equal(schemaAt(["student", "model"])?.type, "string");
    assert.equal(schemaAt(["training", "lora", "target_modules", 0])?.type, "string", "through anyOf to the list's items");
    assert.equal(schemaAt(["training", "no_such_key"]), undefined);
  });

  it("marks a problem's key or value, not its whole section", () => {
    const text = "evaluation:\n  n: 5\nexperiment:\n  arms: [base, sft-magic]\n";
    for (const problem of parseExperimentConfig(text, FILE).problems) {
      const [line, col] = problem.where.split(":").slice(-2).map(Number) as [number, number];
      const [start, end] = problemRange(text, line, col);
      const marked = text.slice(start, end);
      if (problem.field === "evaluation.n") assert.equal(marked, "5");
      else assert.equal(marked, "sft-magic", problem.field);
    }
    assert.equal(text.slice(...problemRange(text, 1, 1)), "evaluation", "a section's key, not its whole mapping");
  });
});
