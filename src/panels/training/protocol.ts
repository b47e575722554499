// Messages between the "Codistill Training" webview and the extension host.
import { curriculumProblem, type Curriculum } from "../../core/training/curriculum";
import type { TrainingFormValues } from "../../core/training/launch";
import type { MetricsLine, RunState } from "../../core/training/runs";
import { noParams, type ParamsValidators } from "../shared/messages";

export const PANEL_ID = "codistill.training";
export const PANEL_TITLE = "Codistill Training";

export const LORA_PRESETS: readonly TrainingFormValues["loraPreset"][] = ["r16", "r32", "r64"];

/** The form: what a user sets for a run; everything else comes from codistill.yaml's training section. */
export type TrainingForm = TrainingFormValues;

export interface RunView {
  id: string;
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

export interface TrainingView {
  form: TrainingForm;
  /** Estimated optimizer steps of the form's run, for the curriculum preview (null: unknown yet). */
  previewSteps: number;
  datasets: string[];
  cots: string[];
  runs: RunView[];
  live: LiveView | null;
  /** The sidecar's message when the last run failed, with its suggestions. */
  failure: { runId: string; message: string; suggestions: string[] } | null;
  problems: string[];
}

export interface MetricsParams {
  runIds: string[];
}

/** Webview -> host. */
export interface TrainingToHost {
  "training/ready": undefined;
  "training/start": TrainingForm;
  "training/stop": undefined;
  /** `processes`: the form's; the sidecar refuses another number than the checkpoint was written by. */
  "training/resume": { runId: string; processes?: number };
  /** A request: answered with Record<runId, MetricsLine[]>. */
  "training/metrics": MetricsParams;
}

/** Host -> webview notifications. */
export interface TrainingToWebview {
  "training/state": TrainingView;
  /** One metrics line of the running run, as it is logged. */
  "training/progress": { runId: string; line: MetricsLine };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const positive = (v: unknown) => typeof v === "number" && Number.isFinite(v) && v > 0;
const positiveInteger = (v: unknown) => Number.isInteger(v) && (v as number) >= 1;

/** The first problem with a form, naming its field. Used by the webview before sending, and by the host. */
export function trainingFormProblem(p: unknown): string | undefined {
  if (!isObject(p)) return "expected an object";
  if (typeof p.student !== "string" || !p.student.trim()) return "student: the folder of a Hugging Face causal-LM";
  if (typeof p.encoder !== "string") return "encoder: expected a folder (empty for code-only CE when β stays 0)";
  if (!LORA_PRESETS.includes(p.loraPreset as TrainingFormValues["loraPreset"])) return `loraPreset: expected one of ${LORA_PRESETS.join(", ")}`;
  if (!positive(p.lr)) return "lr: expected a number > 0";
  if (!positive(p.epochs)) return "epochs: expected a number > 0";
  if (!positiveInteger(p.batchSize)) return "batchSize: expected an integer >= 1";
  if (!positiveInteger(p.maxLength)) return "maxLength: expected an integer >= 1";
  if (!positiveInteger(p.processes)) return "processes: expected an integer >= 1";
  if (!isObject(p.curriculum)) return "curriculum: expected an object";
  const problem = curriculumProblem(p.curriculum as unknown as Curriculum);
  if (problem) return `curriculum.${problem}`;
  const c = p.curriculum as unknown as Curriculum;
  if ((c.betaStart > 0 || c.betaEnd > 0) && !(p.encoder as string).trim()) return "encoder: β > 0 needs the encoder folder of the structural loss";
  return undefined;
}

export const trainingValidators: ParamsValidators = {
  "training/ready": noParams,
  "training/start": trainingFormProblem,
  "training/stop": noParams,
  "training/resume": (p) => {
    if (!isObject(p) || typeof p.runId !== "string" || !p.runId) return "runId: expected a non-empty string";
    return p.processes === undefined || positiveInteger(p.processes) ? undefined : "processes: expected an integer >= 1";
  },
  "training/metrics": (p) => (isObject(p) && Array.isArray(p.runIds) && p.runIds.every((r) => typeof r === "string") ? undefined : "runIds: expected an array of run ids"),
};
