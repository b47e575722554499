// codistill.yaml: the experiment. This reads the parts that exist so far (name, datasets,
// teacher, student, evaluation) and reports every problem with its file, line and field.
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { LineCounter, parseDocument, isMap, isSeq, type Document, type Node } from "yaml";
import type { DatasetFormat, FieldMapping } from "../datasets/api";
import type { DatasetRequest } from "../datasets/registry";
import { ISOLATION_LEVELS, type IsolationLevel } from "../../sidecar/protocol";

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
}

export const EVALUATION_DEFAULTS: EvaluationDecl = { n: 1, temperature: 0, topP: 0.95, maxNewTokens: 512, workers: 2, timeoutS: 5 };

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
  training?: TrainingDecl;
  evaluation: EvaluationDecl;
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
  const config: ExperimentConfig = { file, datasets: [], evaluation: { ...EVALUATION_DEFAULTS } };
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
  config.training = readTraining(top.training, sink, config.datasets);
  config.evaluation = readEvaluation(top.evaluation, sink);
  return { config, problems: sink.problems };
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

type NumericEvaluationKey = Exclude<keyof EvaluationDecl, "minIsolation">;

const EVALUATION_RULES: Record<NumericEvaluationKey, NumberRule> = {
  n: { min: 1, integer: true },
  temperature: { min: 0 },
  topP: { min: 0, max: 1, exclusiveMin: true },
  maxNewTokens: { min: 1, integer: true },
  limit: { min: 1, integer: true },
  workers: { min: 1, integer: true },
  timeoutS: { min: 0, exclusiveMin: true },
};

function readEvaluation(value: unknown, sink: ProblemSink): EvaluationDecl {
  const evaluation: EvaluationDecl = { ...EVALUATION_DEFAULTS };
  if (value === undefined || value === null) return evaluation;
  if (typeof value !== "object" || Array.isArray(value)) {
    sink.add(["evaluation"], "expected a mapping (n, temperature, topP, maxNewTokens, limit, workers, timeoutS, minIsolation)");
    return evaluation;
  }
  for (const [key, raw] of Object.entries(value as Record<string, unknown>)) {
    if (key === "minIsolation") {
      const level = ISOLATION_LEVELS.find((l) => l === raw);
      if (level) evaluation.minIsolation = level;
      else sink.add(["evaluation", key], `expected one of ${ISOLATION_LEVELS.join(", ")}`);
      continue;
    }
    const rule = EVALUATION_RULES[key as NumericEvaluationKey];
    if (!rule) {
      sink.add(["evaluation", key], `unknown setting; expected one of ${[...Object.keys(EVALUATION_RULES), "minIsolation"].join(", ")}`);
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
