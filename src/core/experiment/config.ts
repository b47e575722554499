// codistill.yaml: the experiment (name, datasets, teacher, the CoT sets to generate, student,
// encoder, training, evaluation and the ablation matrix of `experiment`). Every problem is
// reported with its file, line and field; the good parts are kept.
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { LineCounter, parseDocument, isMap, isSeq, type Document, type Node } from "yaml";
import type { DatasetFormat, FieldMapping } from "../datasets/api";
import type { DatasetRequest } from "../datasets/registry";
import { ISOLATION_LEVELS, type IsolationLevel } from "../../sidecar/protocol";
import { schemaAt, validateValue } from "./schema";

export const CONFIG_FILE = "codistill.yaml";

const DATASET_FORMATS: readonly DatasetFormat[] = ["taco", "mbpp", "mbpp-sanitized", "humaneval", "humaneval+", "mbpp+", "tasks", "custom"];
const MAPPING_FIELDS: readonly (keyof FieldMapping)[] = ["id", "prompt", "solutions", "tests", "entryPoint", "starterCode", "difficulty", "tags"];

export interface DatasetDecl {
  name: string;
  /** Absolute: relative paths are resolved against the folder of codistill.yaml. */
  path: string;
  format?: DatasetFormat;
  mapping?: FieldMapping;
  pythonOnly?: boolean;
}

export interface TeacherDecl {
  model?: string;
  temperature?: number;
}

export interface StudentDecl {
  /** A local Hugging Face model folder, absolute once read. */
  model: string;
}

/** Who writes a CoT set: the offline rationalizer, or the teacher model at the configured endpoint. */
export type CotTeacher = "offline" | "endpoint";
export const COT_TEACHERS: readonly CotTeacher[] = ["offline", "endpoint"];

/** A CoT set the experiment writes (its stage 2): `.codistill/cots/<name>.jsonl` for `dataset`. */
export interface CotSetDecl {
  name: string;
  /** A name of `datasets:`. */
  dataset: string;
  teacher: CotTeacher;
  mode: "blind" | "rationalize";
  /** Run the teacher's code against the task's tests (default true). */
  verify: boolean;
  /** Only the first `limit` tasks. */
  limit?: number;
}

/** The arms every experiment may have, named as in the report. */
export const ARMS = ["base", "sft-code", "sft-cot", "sft-cot-struct"] as const;
export type ArmName = (typeof ARMS)[number];
export const LORA_RANKS = [16, 32, 64] as const;

/** The ablation matrix of `npx codistill run` and "Codistill: Run Experiment". */
export interface ExperimentDecl {
  /** The experiment folder, absolute (default .codistill/experiments/<name>). */
  out: string;
  arms: ArmName[];
  /** More sft-cot-struct arms at these LoRA ranks (sft-cot-struct-r16, ...). */
  ranks: number[];
  /** More sft-cot-struct arms, each on another CoT set (another teacher): sft-cot-struct@<set>. */
  teachers: string[];
}

/** Defaults of the evaluation panel and of `python -m codistill eval`. */
export interface EvaluationDecl {
  n: number;
  temperature: number;
  topP: number;
  maxNewTokens: number;
  /** Only the first `limit` tasks of each benchmark: for quick looks, not for reported figures. */
  limit?: number;
  workers: number;
  timeoutS: number;
  /** Refuse to run samples when the sandbox's isolation is below this level (default: run, and warn). */
  minIsolation?: IsolationLevel;
  /** The experiment's benchmarks: names of `datasets:` (none: the experiment asks for them). */
  benchmarks: string[];
}

export const EVALUATION_DEFAULTS: EvaluationDecl = { n: 1, temperature: 0, topP: 0.95, maxNewTokens: 512, workers: 2, timeoutS: 5, benchmarks: [] };

/**
 * The training section. `datasets` (names from `datasets:`) and `cots` (CoT set names under
 * .codistill/cots) are the extension's; every other key is a setting of the sidecar's run config
 * (codistill.training.config, snake_case as in its run.yaml), which validates them and names the
 * field of any problem.
 */
export interface TrainingDecl {
  datasets: string[];
  cots: string[];
  settings: Record<string, unknown>;
}

export interface ExperimentConfig {
  file: string;
  name?: string;
  datasets: DatasetDecl[];
  teacher?: TeacherDecl;
  student?: StudentDecl;
  /** The frozen encoder of the structural loss (CodeBERT by default): a local model folder. */
  encoder?: StudentDecl;
  /** The CoT sets the experiment writes, by name. */
  cots: CotSetDecl[];
  training?: TrainingDecl;
  evaluation: EvaluationDecl;
  experiment: ExperimentDecl;
}

export interface ConfigProblem {
  /** "codistill.yaml:12:5" */
  where: string;
  field: string;
  reason: string;
}

export interface ConfigResult {
  config: ExperimentConfig;
  problems: ConfigProblem[];
}

/** "codistill.yaml:12:5 datasets[0].path: no such file": what the log, the tree and the panels show. */
export function describeProblem(problem: ConfigProblem): string {
  return `${problem.where} ${problem.field}: ${problem.reason}`;
}

/** What the dataset registry needs to open a dataset declared in codistill.yaml. */
export function datasetRequest(decl: DatasetDecl): DatasetRequest {
  const { name, path, format, mapping, pythonOnly } = decl;
  return { name, path, ...(format ? { format } : {}), ...(mapping ? { mapping } : {}), ...(pythonOnly !== undefined ? { pythonOnly } : {}) };
}

class ProblemSink {
  readonly problems: ConfigProblem[] = [];
  constructor(
    private readonly file: string,
    private readonly lines: LineCounter,
    private readonly doc: Document,
  ) {}

  add(path: (string | number)[], reason: string): void {
    const node = this.doc.getIn(path, true) as Node | undefined;
    const offset = node?.range?.[0] ?? this.nearestOffset(path);
    const { line, col } = this.lines.linePos(offset);
    this.problems.push({ where: `${this.file}:${line}:${col}`, field: fieldName(path), reason });
  }

  private nearestOffset(path: (string | number)[]): number {
    for (let n = path.length - 1; n >= 0; n--) {
      const node = this.doc.getIn(path.slice(0, n), true) as Node | undefined;
      if (node?.range) return node.range[0];
    }
    return 0;
  }
}

function fieldName(path: (string | number)[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}

export function parseExperimentConfig(text: string, file: string): ConfigResult {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const config: ExperimentConfig = { file, datasets: [], cots: [], evaluation: { ...EVALUATION_DEFAULTS }, experiment: defaultExperiment(file, undefined) };
  const sink = new ProblemSink(file, lines, doc);
  for (const error of doc.errors) {
    const { line, col } = lines.linePos(error.pos[0]);
    sink.problems.push({ where: `${file}:${line}:${col}`, field: "(syntax)", reason: error.message.split("\n")[0]! });
  }
  if (doc.errors.length > 0) return { config, problems: sink.problems };
  const root = doc.toJS() as unknown;
  if (root === null || root === undefined) return { config, problems: sink.problems };
  if (!isMap(doc.contents)) {
    sink.add([], "expected a mapping of sections (name, datasets, teacher, ...)");
    return { config, problems: sink.problems };
  }
  const top = root as Record<string, unknown>;
  if (top.name !== undefined) {
    if (typeof top.name === "string") config.name = top.name;
    else sink.add(["name"], "expected a string");
  }
  config.datasets = readDatasets(top.datasets, doc, sink, file);
  config.teacher = readTeacher(top.teacher, sink);
  config.student = readModelSection("student", top.student, sink, resolve(file, ".."));
  config.encoder = readModelSection("encoder", top.encoder, sink, resolve(file, ".."));
  config.cots = readCotSets(top.cots, sink, config.datasets);
  config.training = readTraining(top.training, sink, config.datasets);
  config.evaluation = readEvaluation(top.evaluation, sink, config.datasets);
  config.experiment = readExperiment(top.experiment, sink, file, config.name);
  return { config, problems: sink.problems };
}

/** .codistill/experiments/<name>: "experiment" when codistill.yaml has no name. */
function defaultExperiment(file: string, name: string | undefined): ExperimentDecl {
  const slug = (name ?? "experiment").replace(/[^\w.-]+/g, "-") || "experiment";
  return { out: join(resolve(file, ".."), ".codistill", "experiments", slug), arms: [...ARMS], ranks: [], teachers: [] };
}

const COT_SET_KEYS = ["name", "dataset", "teacher", "mode", "verify", "limit"];

function readCotSets(value: unknown, sink: ProblemSink, datasets: DatasetDecl[]): CotSetDecl[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    sink.add(["cots"], "expected a list of CoT sets, each with a name and a dataset");
    return [];
  }
  const known = new Set(datasets.map((d) => d.name));
  const seen = new Set<string>();
  const sets: CotSetDecl[] = [];
  value.forEach((entry: unknown, i) => {
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) return sink.add(["cots", i], "expected a mapping with name and dataset");
    const e = entry as Record<string, unknown>;
    let ok = true;
    const problem = (key: string, reason: string) => {
      sink.add(["cots", i, key], reason);
      ok = false;
    };
    for (const key of Object.keys(e)) if (!COT_SET_KEYS.includes(key)) problem(key, `unknown setting; expected one of ${COT_SET_KEYS.join(", ")}`);
    const name = typeof e.name === "string" ? e.name.trim() : "";
    if (!/^[\w.-]+$/.test(name)) problem("name", e.name === undefined ? "missing" : "expected a file name (letters, digits, '.', '_' and '-')");
    else if (seen.has(name)) problem("name", `duplicate CoT set name "${name}"`);
    const dataset = typeof e.dataset === "string" ? e.dataset.trim() : "";
    if (!dataset) problem("dataset", e.dataset === undefined ? "missing" : "expected the name of a dataset");
    else if (!known.has(dataset)) problem("dataset", `no dataset named "${dataset}" in datasets`);
    const set: CotSetDecl = { name, dataset, teacher: "endpoint", mode: "blind", verify: true };
    if (e.teacher !== undefined) {
      if (COT_TEACHERS.includes(e.teacher as CotTeacher)) set.teacher = e.teacher as CotTeacher;
      else problem("teacher", `expected ${COT_TEACHERS.join(" or ")} (the rationalizer, or the teacher model at codistill.teacher.endpoint)`);
    }
    if (e.mode !== undefined) {
      if (e.mode === "blind" || e.mode === "rationalize") set.mode = e.mode;
      else problem("mode", "expected blind (the teacher sees the task) or rationalize (and its reference solution)");
    }
    if (e.verify !== undefined) {
      if (typeof e.verify === "boolean") set.verify = e.verify;
      else problem("verify", "expected true or false");
    }
    if (e.limit !== undefined) {
      const limitProblem = numberProblem(e.limit, { min: 1, integer: true });
      if (limitProblem) problem("limit", limitProblem);
      else set.limit = e.limit as number;
    }
    if (name) seen.add(name);
    if (ok) sets.push(set);
  });
  return sets;
}

const EXPERIMENT_KEYS = ["out", "arms", "ranks", "teachers"];

function readExperiment(value: unknown, sink: ProblemSink, file: string, name: string | undefined): ExperimentDecl {
  const experiment = defaultExperiment(file, name);
  if (value === undefined || value === null) return experiment;
  if (typeof value !== "object" || Array.isArray(value)) {
    sink.add(["experiment"], `expected a mapping (${EXPERIMENT_KEYS.join(", ")})`);
    return experiment;
  }
  const e = value as Record<string, unknown>;
  for (const key of Object.keys(e)) if (!EXPERIMENT_KEYS.includes(key)) sink.add(["experiment", key], `unknown setting; expected one of ${EXPERIMENT_KEYS.join(", ")}`);
  if (e.out !== undefined) {
    if (typeof e.out === "string" && e.out.trim()) experiment.out = resolveModel(e.out.trim(), resolve(file, ".."));
    else sink.add(["experiment", "out"], "expected the path of the experiment folder");
  }
  if (e.arms !== undefined) {
    const arms = stringList(e.arms, ["experiment", "arms"], sink);
    arms.forEach((arm, i) => {
      if (!ARMS.includes(arm as ArmName)) sink.add(["experiment", "arms", i], `unknown arm "${arm}"; expected some of ${ARMS.join(", ")}`);
    });
    const valid = arms.filter((arm): arm is ArmName => ARMS.includes(arm as ArmName));
    if (Array.isArray(e.arms) && e.arms.length === 0) sink.add(["experiment", "arms"], "list at least one arm");
    else if (valid.length) experiment.arms = ARMS.filter((arm) => valid.includes(arm));
  }
  if (e.ranks !== undefined) {
    if (!Array.isArray(e.ranks)) sink.add(["experiment", "ranks"], `expected a list of LoRA ranks (${LORA_RANKS.join(", ")})`);
    else
      e.ranks.forEach((rank: unknown, i) => {
        if (LORA_RANKS.includes(rank as (typeof LORA_RANKS)[number])) {
          if (!experiment.ranks.includes(rank as number)) experiment.ranks.push(rank as number);
        } else sink.add(["experiment", "ranks", i], `expected one of ${LORA_RANKS.join(", ")} (the LoRA presets r16, r32, r64)`);
      });
  }
  experiment.teachers = stringList(e.teachers, ["experiment", "teachers"], sink);
  return experiment;
}

function readDatasets(value: unknown, doc: Document, sink: ProblemSink, file: string): DatasetDecl[] {
  if (value === undefined || value === null) return [];
  if (!isSeq(doc.get("datasets", true))) {
    sink.add(["datasets"], "expected a list of datasets, each with a name and a path");
    return [];
  }
  const baseDir = resolve(file, "..");
  const seen = new Set<string>();
  const datasets: DatasetDecl[] = [];
  (value as unknown[]).forEach((entry, i) => {
    const decl = readDataset(entry, i, baseDir, sink);
    if (!decl) return;
    if (seen.has(decl.name)) return sink.add(["datasets", i, "name"], `duplicate dataset name "${decl.name}"`);
    seen.add(decl.name);
    datasets.push(decl);
  });
  return datasets;
}

function readDataset(entry: unknown, i: number, baseDir: string, sink: ProblemSink): DatasetDecl | undefined {
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
    sink.add(["datasets", i], "expected a mapping with name and path");
    return undefined;
  }
  const e = entry as Record<string, unknown>;
  let ok = true;
  const requireString = (key: string) => {
    if (typeof e[key] === "string" && (e[key] as string).trim()) return (e[key] as string).trim();
    sink.add(["datasets", i, key], e[key] === undefined ? "missing" : "expected a non-empty string");
    ok = false;
    return "";
  };
  const name = requireString("name");
  const path = requireString("path");
  const decl: DatasetDecl = { name, path: isAbsolute(path) ? path : join(baseDir, path) };
  if (e.format !== undefined) {
    if (DATASET_FORMATS.includes(e.format as DatasetFormat)) decl.format = e.format as DatasetFormat;
    else {
      sink.add(["datasets", i, "format"], `expected one of ${DATASET_FORMATS.join(", ")}`);
      ok = false;
    }
  }
  if (e.pythonOnly !== undefined) {
    if (typeof e.pythonOnly === "boolean") decl.pythonOnly = e.pythonOnly;
    else sink.add(["datasets", i, "pythonOnly"], "expected true or false");
  }
  if (e.mapping !== undefined) {
    const mapping = readMapping(e.mapping, i, sink);
    if (mapping) decl.mapping = mapping;
    else ok = false;
  }
  if (decl.format === "custom" && !decl.mapping) {
    sink.add(["datasets", i, "mapping"], 'format "custom" needs a mapping of at least id and prompt');
    ok = false;
  }
  return ok ? decl : undefined;
}

function readMapping(value: unknown, i: number, sink: ProblemSink): FieldMapping | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    sink.add(["datasets", i, "mapping"], "expected a mapping of Task fields to source fields");
    return undefined;
  }
  const m = value as Record<string, unknown>;
  let ok = true;
  for (const [key, field] of Object.entries(m)) {
    if (!MAPPING_FIELDS.includes(key as keyof FieldMapping)) {
      sink.add(["datasets", i, "mapping", key], `unknown Task field; expected one of ${MAPPING_FIELDS.join(", ")}`);
      ok = false;
    } else if (typeof field !== "string" || !field) {
      sink.add(["datasets", i, "mapping", key], "expected the name of a source field");
      ok = false;
    }
  }
  for (const key of ["id", "prompt"] as const) {
    if (m[key] === undefined) {
      sink.add(["datasets", i, "mapping"], `missing "${key}"`);
      ok = false;
    }
  }
  return ok ? (m as unknown as FieldMapping) : undefined;
}

function readTeacher(value: unknown, sink: ProblemSink): TeacherDecl | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) {
    sink.add(["teacher"], "expected a mapping");
    return undefined;
  }
  const t = value as Record<string, unknown>;
  const teacher: TeacherDecl = {};
  if (t.model !== undefined) {
    if (typeof t.model === "string") teacher.model = t.model;
    else sink.add(["teacher", "model"], "expected a string");
  }
  if (t.temperature !== undefined) {
    if (typeof t.temperature === "number" && t.temperature >= 0) teacher.temperature = t.temperature;
    else sink.add(["teacher", "temperature"], "expected a non-negative number");
  }
  return teacher;
}

function readModelSection(section: "student" | "encoder", value: unknown, sink: ProblemSink, baseDir: string): StudentDecl | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) {
    sink.add([section], "expected a mapping with a model");
    return undefined;
  }
  const model = (value as Record<string, unknown>).model;
  if (typeof model !== "string" || !model.trim()) {
    sink.add([section, "model"], model === undefined ? "missing" : "expected the path of a Hugging Face model folder");
    return undefined;
  }
  return { model: resolveModel(model.trim(), baseDir) };
}

/** The sidecar loads local folders only (nothing is downloaded at run time): "~/" is the home folder. */
function resolveModel(model: string, baseDir: string): string {
  return model.startsWith("~/") ? join(homedir(), model.slice(2)) : resolve(baseDir, model);
}

/** codistill.schema.json's training section: what readTraining checks the run config's settings against. */
const TRAINING_SCHEMA = schemaAt(["training"])!;

function readTraining(value: unknown, sink: ProblemSink, datasets: DatasetDecl[]): TrainingDecl | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) {
    sink.add(["training"], "expected a mapping of training settings");
    return undefined;
  }
  const { datasets: names, cots, ...settings } = value as Record<string, unknown>;
  const training: TrainingDecl = { datasets: [], cots: [], settings };
  const known = new Set(datasets.map((d) => d.name));
  training.datasets = stringList(names, ["training", "datasets"], sink).filter((name, i) => {
    if (known.has(name)) return true;
    sink.add(["training", "datasets", i], `no dataset named "${name}" in datasets`);
    return false;
  });
  if (Array.isArray(names) && names.length === 0) sink.add(["training", "datasets"], "list at least one dataset to train on");
  training.cots = stringList(cots, ["training", "cots"], sink);
  // The run config's settings, against media/codistill.schema.json: the editor marks a typo in a
  // key or an enum now, not when a run starts. They are kept as given; the sidecar still judges them.
  for (const problem of validateValue(settings, TRAINING_SCHEMA)) sink.add(["training", ...problem.path], problem.reason);
  return training;
}

function stringList(value: unknown, path: (string | number)[], sink: ProblemSink): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string" && v.trim())) {
    sink.add(path, "expected a list of names");
    return [];
  }
  return value.map((v: string) => v.trim());
}

type NumberRule = { min: number; max?: number; integer?: boolean; exclusiveMin?: boolean };

type NumericEvaluationKey = Exclude<keyof EvaluationDecl, "minIsolation" | "benchmarks">;

const EVALUATION_RULES: Record<NumericEvaluationKey, NumberRule> = {
  n: { min: 1, integer: true },
  temperature: { min: 0 },
  topP: { min: 0, max: 1, exclusiveMin: true },
  maxNewTokens: { min: 1, integer: true },
  limit: { min: 1, integer: true },
  workers: { min: 1, integer: true },
  timeoutS: { min: 0, exclusiveMin: true },
};

function readEvaluation(value: unknown, sink: ProblemSink, datasets: DatasetDecl[]): EvaluationDecl {
  const evaluation: EvaluationDecl = { ...EVALUATION_DEFAULTS, benchmarks: [] };
  if (value === undefined || value === null) return evaluation;
  if (typeof value !== "object" || Array.isArray(value)) {
    sink.add(["evaluation"], "expected a mapping (n, temperature, topP, maxNewTokens, limit, workers, timeoutS, minIsolation, benchmarks)");
    return evaluation;
  }
  const known = new Set(datasets.map((d) => d.name));
  for (const [key, raw] of Object.entries(value as Record<string, unknown>)) {
    if (key === "benchmarks") {
      evaluation.benchmarks = stringList(raw, ["evaluation", "benchmarks"], sink).filter((name, i) => {
        if (known.has(name)) return true;
        sink.add(["evaluation", "benchmarks", i], `no dataset named "${name}" in datasets`);
        return false;
      });
      continue;
    }
    if (key === "minIsolation") {
      const level = ISOLATION_LEVELS.find((l) => l === raw);
      if (level) evaluation.minIsolation = level;
      else sink.add(["evaluation", key], `expected one of ${ISOLATION_LEVELS.join(", ")}`);
      continue;
    }
    const rule = EVALUATION_RULES[key as NumericEvaluationKey];
    if (!rule) {
      sink.add(["evaluation", key], `unknown setting; expected one of ${[...Object.keys(EVALUATION_RULES), "minIsolation", "benchmarks"].join(", ")}`);
      continue;
    }
    const problem = numberProblem(raw, rule);
    if (problem) sink.add(["evaluation", key], problem);
    else evaluation[key as NumericEvaluationKey] = raw as number;
  }
  if (evaluation.temperature === 0 && evaluation.n > 1) sink.add(["evaluation", "n"], "greedy decoding (temperature 0) gives one sample per task; set temperature above 0 for n > 1");
  return evaluation;
}

function numberProblem(raw: unknown, rule: NumberRule): string | undefined {
  const range = `${rule.integer ? "an integer" : "a number"} ${rule.exclusiveMin ? ">" : ">="} ${rule.min}${rule.max !== undefined ? ` and <= ${rule.max}` : ""}`;
  if (typeof raw !== "number" || Number.isNaN(raw)) return `expected ${range}`;
  if (rule.integer && !Number.isInteger(raw)) return `expected ${range}`;
  if (rule.exclusiveMin ? raw <= rule.min : raw < rule.min) return `expected ${range}`;
  if (rule.max !== undefined && raw > rule.max) return `expected ${range}`;
  return undefined;
}

/** The workspace's codistill.yaml, or undefined when it has none. */
export async function readExperimentConfig(workspaceRoot: string): Promise<ConfigResult | undefined> {
  const file = join(workspaceRoot, CONFIG_FILE);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  return parseExperimentConfig(text, file);
}
