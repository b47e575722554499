// Messages between the "Codistill Evaluation" webview and the extension host.
import type { IsolationLevel } from "../../sidecar/protocol";
import { noParams, type NoParams, type ParamsValidators } from "../shared/messages";

export const PANEL_ID = "codistill.evaluation";
export const PANEL_TITLE = "Codistill Evaluation";

export interface ModelView {
  id: string;
  label: string;
  kind: "base" | "adapter" | "checkpoint";
}

/** A value with its bootstrap confidence interval (95 %). */
export interface Estimate {
  value: number;
  low: number;
  high: number;
}

/**
 * A CodeBLEU column: the average over samples, with how many samples it is over; otherwise why
 * not (never 0, which would read as a score). `pending` while structure.json is being computed.
 */
export type StructuralCell =
  | { available: true; value: number; samples: number; totalSamples: number; mode: "default" | "reference" }
  | { available: false; pending: boolean; reason: string };

/** One sample's scores against its task's best reference solution. */
export interface SampleScoresView {
  syntax: number | null;
  dataflow: number | null;
}

export interface ResultRowView {
  modelId: string;
  modelLabel: string;
  benchmark: string;
  isBaseline: boolean;
  tasks: number;
  /** Samples per task (the smallest, when tasks differ). */
  n: number;
  temperature: number | null;
  date: string;
  pass1: Estimate;
  passK: { k: number; value: number }[];
  syntax: StructuralCell;
  dataflow: StructuralCell;
  /** pass@1 minus the baseline's on the same benchmark, paired over their shared tasks. */
  delta: (Estimate & { sharedTasks: number }) | null;
  /** Why there is no delta on a non-baseline row (no baseline results, no shared tasks). */
  deltaNote: string | null;
  /** What kept the samples in, and its level; null for results written before the sandbox named it. */
  isolation: { name: string; level: IsolationLevel } | null;
}

export interface TaskRowView {
  taskId: string;
  samples: number;
  passed: number;
  statuses: string[];
  /** The first failing sample, its failing test and message. */
  failingSample: number | null;
  failedTest: number | null;
  message: string | null;
  /** Each sample's syntax and dataflow match, in sample order; null while not scored or not scorable. */
  scores: SampleScoresView[] | null;
  /** Why scores are missing ("scoring…" while pending) or some are null; null when there is nothing to say. */
  scoresNote: string | null;
  /** Whether the scores are being computed: the drill-down says "scoring…" and reloads with the table. */
  scoresPending: boolean;
}

export interface RunningView {
  modelLabel: string;
  benchmark: string;
  /** 1-based position of this model × benchmark pair in the whole run. */
  step: number;
  steps: number;
  phase: "export" | "generate" | "execute" | "score";
  done: number;
  total: number;
  message?: string;
}

export interface EvaluationSettingsView {
  n: number;
  temperature: number;
  limit: number | null;
}

/**
 * The models the panel was asked to select (the Runs view's click or Evaluate). `seq` (the time of
 * the ask) changes with each ask, so a webview, even one restored with an older state, applies it once.
 */
export interface EvaluationFocusView {
  modelIds: string[];
  seq: number;
}

export interface EvaluationView {
  /** Base first, then runs newest created first, each run's checkpoints after it in step order (listEvalModels). */
  models: ModelView[];
  /** The last ask to select models, or null. */
  focus: EvaluationFocusView | null;
  benchmarks: string[];
  settings: EvaluationSettingsView;
  rows: ResultRowView[];
  /** codistill.yaml problems and unreadable results, each naming its file. */
  problems: string[];
  running: RunningView | null;
  /** How the last run ended when it did not finish: the error, or that it was cancelled. */
  lastOutcome: string | null;
}

export interface RunParams extends EvaluationSettingsView {
  models: string[];
  benchmarks: string[];
}

export interface TasksParams {
  modelId: string;
  benchmark: string;
}

export interface OpenSampleParams extends TasksParams {
  taskId: string;
  sample: number;
}

/** Webview -> host. */
export interface EvaluationToHost {
  "evaluation/ready": NoParams;
  "evaluation/refresh": NoParams;
  "evaluation/run": RunParams;
  "evaluation/cancel": NoParams;
  "evaluation/tasks": TasksParams;
  "evaluation/openSample": OpenSampleParams;
}

/** What the host answers to the webview's requests. */
export interface EvaluationReplies {
  /** Answered once the run has started (or with why it cannot); it reports through evaluation/progress. */
  "evaluation/run": void;
  "evaluation/tasks": TaskRowView[];
}

/** Host -> webview notifications. */
export interface EvaluationToWebview {
  "evaluation/state": EvaluationView;
  "evaluation/progress": RunningView | null;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isNonEmptyStringList = (v: unknown) => Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === "string" && x !== "");
const isPositiveInteger = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= 1;

function validateRun(p: unknown): string | undefined {
  if (!isObject(p)) return "expected an object";
  if (!isNonEmptyStringList(p.models)) return "models: choose at least one model";
  if (!isNonEmptyStringList(p.benchmarks)) return "benchmarks: choose at least one benchmark";
  if (!isPositiveInteger(p.n)) return "n: expected an integer >= 1";
  if (typeof p.temperature !== "number" || !(p.temperature >= 0)) return "temperature: expected a number >= 0";
  if (p.temperature === 0 && p.n > 1) return "n: greedy decoding (temperature 0) gives one sample per task; raise the temperature for n > 1";
  if (p.limit !== null && !isPositiveInteger(p.limit)) return "limit: expected null or an integer >= 1";
  return undefined;
}

function validateTasks(p: unknown): string | undefined {
  if (!isObject(p)) return "expected an object";
  return tasksProblem(p);
}

function tasksProblem(p: Record<string, unknown>): string | undefined {
  if (typeof p.modelId !== "string" || !p.modelId) return "modelId: expected a non-empty string";
  if (typeof p.benchmark !== "string" || !p.benchmark) return "benchmark: expected a non-empty string";
  return undefined;
}

export const evaluationValidators: ParamsValidators<EvaluationToHost> = {
  "evaluation/ready": noParams,
  "evaluation/refresh": noParams,
  "evaluation/run": validateRun,
  "evaluation/cancel": noParams,
  "evaluation/tasks": validateTasks,
  "evaluation/openSample": (p) => {
    if (!isObject(p)) return "expected an object";
    const problem = tasksProblem(p);
    if (problem) return problem;
    if (typeof p.taskId !== "string" || !p.taskId) return "taskId: expected a non-empty string";
    if (!(typeof p.sample === "number" && Number.isInteger(p.sample) && p.sample >= 0)) return "sample: expected a non-negative integer";
    return undefined;
  },
};
