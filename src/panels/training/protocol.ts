// Messages between the "Codistill Training" webview and the extension host.
import { curriculumProblem } from "../../core/training/curriculum";
import type { CotStatusFilter, TrainingFormValues } from "../../core/training/launch";
import type { MetricsLine, RunState } from "../../core/training/runs";
import { MAX_RUN_NAME_LENGTH } from "../../core/runs/runNames";
import { noParams, type NoParams, type ParamsValidators } from "../shared/messages";

export const PANEL_ID = "codistill.training";
export const PANEL_TITLE = "Codistill Training";

export const LORA_PRESETS: readonly TrainingFormValues["loraPreset"][] = ["r16", "r32", "r64"];

/**
 * The status filter's choices, in the form's order, with what each keeps: every word of the run
 * config's data.cot_statuses.
 */
export const COT_STATUS_CHOICES: Record<CotStatusFilter, string> = {
  verified: "teacher code passed the task's tests",
  valid: "passed validation, code not checked",
  accepted: "accepted in review, whatever the status",
  "failed-verification": "teacher code failed the tests",
  invalid: "did not pass validation",
};
export const COT_STATUS_FILTERS = Object.keys(COT_STATUS_CHOICES) as CotStatusFilter[];

/** The form: what a user sets for a run; everything else comes from codistill.yaml's training section. */
export type TrainingForm = TrainingFormValues;

export interface RunView {
  id: string;
  /** The run's name (run.json), the id for runs without one. */
  name: string;
  state: RunState | "running";
  step: number | null;
  totalSteps: number | null;
  checkpoints: number[];
  /** Stopped, or failed after a checkpoint: the row offers Resume. */
  resumable: boolean;
  /** Why a failed run failed (manifest.json). */
  error: string | null;
}

export interface LiveView {
  runId: string;
  step: number;
  totalSteps: number;
  message: string;
}

/** The sidecar's message when a run failed, with its suggestions. */
export interface FailureView {
  runId: string;
  message: string;
  suggestions: string[];
}

/** A CoT set of .codistill/cots/, as the form lists it. */
export interface CotSetView {
  name: string;
  /** Tasks with a record (0 when the set could not be read). */
  tasks: number;
  /** "120 tasks: 80 verified, 30 valid, 10 invalid", or why the set could not be read. */
  counts: string;
  /** Why the set could not be read. */
  error: string | null;
}

/** A dataset of codistill.yaml, as the form's datasets picker lists it. */
export interface DatasetView {
  name: string;
  /** Its tasks (null when it could not be read). */
  tasks: number | null;
  /** Why it could not be read. */
  error: string | null;
}

/**
 * The run the panel was asked to show (a click in the Runs view): its row is selected and charted.
 * `seq` (the time of the ask) changes with each ask, so a webview, even one restored with an older
 * state, applies each ask once.
 */
export interface FocusView {
  runId: string;
  seq: number;
}

export interface TrainingView {
  form: TrainingForm;
  /** The run last asked to be shown, or null. */
  focus: FocusView | null;
  /** Estimated optimizer steps of the form's run, for the curriculum preview (null: unknown yet). */
  previewSteps: number;
  /** Every dataset of codistill.yaml, for the datasets picker (training.datasets preselected in the form). */
  datasets: DatasetView[];
  /** codistill.yaml's training.grad_accum (1 when unset): the webview's step estimate as the form changes. */
  gradAccum: number;
  /** Every CoT set of .codistill/cots/, by name. */
  cotSets: CotSetView[];
  runs: RunView[];
  live: LiveView | null;
  /** Why the last run failed. */
  failure: FailureView | null;
  problems: string[];
}

export interface ResumeParams {
  runId: string;
  /** The form's; the sidecar refuses another number than the checkpoint was written by. */
  processes?: number;
}

/** Which path field of the form a folder picker fills. */
export type BrowseField = "student" | "encoder";

export interface BrowseParams {
  field: BrowseField;
  /** The field's text: the dialog opens there. */
  current: string;
}

export interface MetricsParams {
  runIds: string[];
}

/** One metrics line of the running run, as it is logged. */
export interface ProgressView {
  runId: string;
  line: MetricsLine;
}

/** Webview -> host. */
export interface TrainingToHost {
  "training/ready": NoParams;
  "training/start": TrainingForm;
  "training/stop": NoParams;
  "training/resume": ResumeParams;
  "training/metrics": MetricsParams;
  /** "Browse…" beside a path field: the host shows a folder picker. */
  "training/browse": BrowseParams;
}

/** What the host answers to the webview's requests. */
export interface TrainingReplies {
  /** Answered once the sidecar has started the run (or with why it could not). */
  "training/start": void;
  /** Answered once the run has stopped. */
  "training/stop": void;
  "training/resume": void;
  /** Run id -> its metrics lines. */
  "training/metrics": Record<string, MetricsLine[]>;
  /** The folder picked, or null when the dialog was cancelled. */
  "training/browse": string | null;
}

/** Host -> webview notifications. */
export interface TrainingToWebview {
  "training/state": TrainingView;
  "training/progress": ProgressView;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const positive = (v: unknown) => typeof v === "number" && Number.isFinite(v) && v > 0;
const positiveInteger = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= 1;

/** The first problem with a form, naming its field. Used by the webview before sending, and by the host. */
export function trainingFormProblem(p: unknown): string | undefined {
  if (!isObject(p)) return "expected an object";
  if (p.name !== undefined && (typeof p.name !== "string" || p.name.length > MAX_RUN_NAME_LENGTH)) return `name: expected a run name of at most ${MAX_RUN_NAME_LENGTH} characters (empty: the default)`;
  if (typeof p.student !== "string" || !p.student.trim()) return "student: the folder of a Hugging Face causal-LM";
  if (typeof p.encoder !== "string") return "encoder: expected a folder (empty for code-only CE when β stays 0)";
  if (!LORA_PRESETS.some((preset) => preset === p.loraPreset)) return `loraPreset: expected one of ${LORA_PRESETS.join(", ")}`;
  if (!positive(p.lr)) return "lr: expected a number > 0";
  if (!positive(p.epochs)) return "epochs: expected a number > 0";
  if (p.maxSteps !== null && !positiveInteger(p.maxSteps)) return "maxSteps: expected an integer >= 1, or empty to let the epochs decide";
  if (!positiveInteger(p.batchSize)) return "batchSize: expected an integer >= 1";
  if (!positiveInteger(p.maxLength)) return "maxLength: expected an integer >= 1";
  if (!positiveInteger(p.processes)) return "processes: expected an integer >= 1";
  const c = p.curriculum;
  if (!isObject(c)) return "curriculum: expected an object";
  const problem = curriculumProblem(c);
  if (problem) return `curriculum.${problem}`;
  if ((Number(c.betaStart) > 0 || Number(c.betaEnd) > 0) && !p.encoder.trim()) return "encoder: β > 0 needs the encoder folder of the structural loss";
  if (!Array.isArray(p.cotSets) || !p.cotSets.every((s) => typeof s === "string" && s.trim() !== "")) return "cotSets: expected a list of CoT set names";
  if (!Array.isArray(p.cotStatuses) || !p.cotStatuses.every((s) => COT_STATUS_FILTERS.some((f) => f === s))) return `cotStatuses: expected a list of ${COT_STATUS_FILTERS.join(", ")}`;
  if (p.cotSets.length && !p.cotStatuses.length) return "cotStatuses: check at least one status of the CoT records to train on";
  if (!Array.isArray(p.datasets) || !p.datasets.every((d) => typeof d === "string" && d.trim() !== "")) return "datasets: expected a list of dataset names of codistill.yaml";
  if (!p.datasets.length) return "datasets: check at least one dataset to train on";
  return undefined;
}

export const trainingValidators: ParamsValidators<TrainingToHost> = {
  "training/ready": noParams,
  "training/start": trainingFormProblem,
  "training/stop": noParams,
  "training/resume": (p) => {
    if (!isObject(p) || typeof p.runId !== "string" || !p.runId) return "runId: expected a non-empty string";
    return p.processes === undefined || positiveInteger(p.processes) ? undefined : "processes: expected an integer >= 1";
  },
  "training/browse": (p) => (isObject(p) && (p.field === "student" || p.field === "encoder") && typeof p.current === "string" ? undefined : "field: expected student or encoder, current: the field's text"),
  "training/metrics": (p) => (isObject(p) && Array.isArray(p.runIds) && p.runIds.every((r) => typeof r === "string") ? undefined : "runIds: expected an array of run ids"),
};
