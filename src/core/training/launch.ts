// From codistill.yaml and the training panel's form to the run config the sidecar's `train/start`
// takes (codistill.training.config, snake_case), and the task files to export for it. The run is
// self-contained: its tasks are exported into the run folder, so the run can be repeated from it.
import { join } from "node:path";
import type { ExperimentConfig } from "../experiment/config";
import { cleanRunName, defaultRunName } from "../runs/runNames";
import { DEFAULT_CURRICULUM, runSteps, type Curriculum } from "./curriculum";

export interface TrainingFormValues {
  /**
   * The run's name (codistill.yaml's training.name); "" or absent: defaultRunName when it starts.
   * Kept in `<run>/run.json`, not in the run config, which the sidecar checks against its own keys.
   */
  name?: string;
  student: string;
  encoder: string;
  loraPreset: "r16" | "r32" | "r64";
  lr: number;
  epochs: number;
  /** The run config's max_steps: optimizer steps that end the run before the epochs do; null: the epochs decide. */
  maxSteps: number | null;
  batchSize: number;
  maxLength: number;
  /** Training processes, one per GPU (DDP under torchrun; gloo on CPUs); 1 trains in the sidecar itself. */
  processes: number;
  curriculum: Curriculum;
  /** Names of the CoT sets of .codistill/cots/ to train on; none is code-only SFT. */
  cotSets: string[];
  /** The run config's data.cot_statuses: which CoT records train (rejected ones never do). */
  cotStatuses: CotStatusFilter[];
  /** Names of codistill.yaml's datasets to train on (training.datasets by default). */
  datasets: string[];
}

/**
 * A word of the sidecar's `data.cot_statuses`: a record's status, or "accepted" for the records a
 * person accepted in review, whatever their status.
 */
export type CotStatusFilter = "verified" | "valid" | "accepted" | "failed-verification" | "invalid";

const COT_STATUS_FILTERS: Record<CotStatusFilter, true> = { verified: true, valid: true, accepted: true, "failed-verification": true, invalid: true };

/** The sidecar's default filter, and the form's when codistill.yaml sets none. */
export const DEFAULT_COT_STATUSES: readonly CotStatusFilter[] = ["verified", "valid", "accepted"];

export const isCotStatusFilter = (v: unknown): v is CotStatusFilter => typeof v === "string" && Object.hasOwn(COT_STATUS_FILTERS, v);

export interface TaskExport {
  dataset: string;
  out: string;
}

export interface TrainingPlan {
  runId: string;
  /** The form's name, else defaultRunName at `now`; the panel writes it to `<run>/run.json`. */
  name: string;
  runDir: string;
  exports: TaskExport[];
  /** The sidecar's run config. */
  config: Record<string, unknown>;
  /** `processes` of train/start: not a run config key. */
  processes: number;
}

/** "20261126-170512-paper": sortable by start time, readable, and a valid folder name. */
export function newRunId(now: Date, name: string | undefined): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  const stamp = `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}-${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`;
  const slug = (name ?? "run").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 40);
  return slug ? `${stamp}-${slug}` : stamp;
}

const asRecord = (v: unknown): Record<string, unknown> => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const numberOr = (v: unknown, fallback: number) => (typeof v === "number" && Number.isFinite(v) ? v : fallback);
const positiveIntegerOr = (v: unknown, fallback: number) => (Number.isInteger(v) && (v as number) >= 1 ? (v as number) : fallback);

/**
 * The form as codistill.yaml fills it in; the panel starts from this. `training.processes` is the
 * extension's (train/start's `processes`), not a run config key: it is never sent in the config.
 */
export function formDefaults(config: ExperimentConfig): TrainingFormValues {
  const settings = config.training?.settings ?? {};
  const lora = asRecord(settings.lora);
  const c = asRecord(settings.curriculum);
  const statuses = asRecord(settings.data).cot_statuses;
  const preset = lora.preset === "r16" || lora.preset === "r64" ? lora.preset : "r32";
  return {
    // Only when codistill.yaml names the run: otherwise the form leaves it to defaultRunName at Start.
    ...(cleanRunName(settings.name) ? { name: cleanRunName(settings.name) } : {}),
    student: config.student?.model ?? "",
    encoder: config.encoder?.model ?? "",
    loraPreset: preset,
    lr: numberOr(settings.lr, 2e-4),
    epochs: numberOr(settings.epochs, 1),
    maxSteps: Number.isInteger(settings.max_steps) && (settings.max_steps as number) >= 1 ? (settings.max_steps as number) : null,
    batchSize: numberOr(settings.batch_size, 4),
    maxLength: numberOr(settings.max_length, 2048),
    processes: positiveIntegerOr(settings.processes, 1),
    curriculum: {
      alphaStart: numberOr(c.alpha_start, DEFAULT_CURRICULUM.alphaStart),
      alphaEnd: numberOr(c.alpha_end, DEFAULT_CURRICULUM.alphaEnd),
      betaStart: numberOr(c.beta_start, DEFAULT_CURRICULUM.betaStart),
      betaEnd: numberOr(c.beta_end, DEFAULT_CURRICULUM.betaEnd),
      schedule: c.schedule === "cosine" || c.schedule === "step" ? c.schedule : DEFAULT_CURRICULUM.schedule,
      warmupFraction: numberOr(c.warmup_fraction, DEFAULT_CURRICULUM.warmupFraction),
      steps: numberOr(c.steps, DEFAULT_CURRICULUM.steps),
    },
    cotSets: [...(config.training?.cots ?? [])],
    // codistill.yaml's filter when it sets one (its words the form knows), else the sidecar's default.
    cotStatuses: Array.isArray(statuses) ? [...new Set(statuses.filter(isCotStatusFilter))] : [...DEFAULT_COT_STATUSES],
    datasets: [...(config.training?.datasets ?? [])],
  };
}

/** Why a run cannot start on the picked CoT sets: the ones not in .codistill/cots/ (`available`, by name). */
export function missingCotSetsProblem(picked: readonly string[], available: Iterable<string>): string | undefined {
  const known = new Set(available);
  const missing = [...new Set(picked)].filter((name) => !known.has(name));
  return missing.length ? `CoT sets: no CoT set ${missing.map((m) => `"${m}"`).join(", ")} in .codistill/cots/` : undefined;
}

/**
 * The run: codistill.yaml's training settings, overridden by the form, with the datasets to
 * export into `<run>/data/` and the form's CoT sets of `.codistill/cots/` with its status filter
 * (data.cot_statuses, beside the yaml's other data settings). Without CoT sets the run is
 * code-only SFT, an arm of the paper's ablation. `runDir` defaults to .codistill/runs/<runId>
 * (an experiment keeps its arms' runs in its own folder).
 */
export function planTrainingRun(
  workspaceRoot: string,
  config: ExperimentConfig,
  form: TrainingFormValues,
  runId: string,
  runDir = join(workspaceRoot, ".codistill", "runs", runId),
  now = new Date(),
): TrainingPlan {
  const training = config.training;
  if (!training) throw new Error("codistill.yaml: training.datasets: list the datasets to train on");
  // The form's datasets (codistill.yaml's training.datasets unless picked otherwise).
  const datasets = [...new Set(form.datasets ?? training.datasets)];
  if (datasets.length === 0) throw new Error(training.datasets.length ? "datasets: check at least one dataset to train on" : "codistill.yaml: training.datasets: list the datasets to train on");
  const unknown = datasets.filter((name) => !config.datasets.some((d) => d.name === name));
  if (unknown.length) throw new Error(`datasets: no dataset ${unknown.map((n) => `"${n}"`).join(", ")} in codistill.yaml's datasets`);
  const exports = datasets.map((dataset) => ({ dataset, out: join(runDir, "data", `${dataset}.tasks.jsonl`) }));
  const cots = [...new Set(form.cotSets)].map((name) => join(workspaceRoot, ".codistill", "cots", `${name}.jsonl`));
  const c = form.curriculum;
  // processes and name are the extension's (train/start's processes, run.json's name), not run config keys.
  const { processes: _processes, name: _name, data: yamlData, ...settings } = training.settings;
  const data = dataSettings(yamlData, form.cotStatuses);
  const runConfig: Record<string, unknown> = {
    ...settings,
    student: form.student,
    encoder: form.encoder.trim() ? form.encoder : null,
    tasks: exports.map((e) => e.out),
    cots: cots.length ? cots : null,
    ...(data === undefined ? {} : { data }),
    output_dir: runDir,
    lora: { ...asRecord(settings.lora), preset: form.loraPreset },
    lr: form.lr,
    epochs: form.epochs,
    // The form's max steps (codistill.yaml's max_steps is its default); cleared, the epochs decide.
    ...(typeof form.maxSteps === "number" ? { max_steps: form.maxSteps } : "max_steps" in settings ? { max_steps: null } : {}),
    batch_size: form.batchSize,
    max_length: form.maxLength,
    curriculum: {
      ...asRecord(settings.curriculum),
      alpha_start: c.alphaStart,
      alpha_end: c.alphaEnd,
      beta_start: c.betaStart,
      beta_end: c.betaEnd,
      schedule: c.schedule,
      warmup_fraction: c.warmupFraction,
      steps: c.steps,
    },
  };
  const name = cleanRunName(form.name) || defaultRunName(form.student, form.cotSets, now);
  return { runId, name, runDir, exports, config: runConfig, processes: form.processes };
}

/**
 * The run config's `data`: codistill.yaml's, with the form's status filter. An empty filter would
 * train on no CoT record: the form allows it only without CoT sets, where it does not matter, so
 * it is left out. A `data` that is not a mapping goes to the sidecar as it is, which names the problem.
 */
function dataSettings(yamlData: unknown, statuses: readonly CotStatusFilter[]): unknown {
  if (yamlData !== undefined && yamlData !== null && (typeof yamlData !== "object" || Array.isArray(yamlData))) return yamlData;
  const { cot_statuses: _statuses, ...other } = asRecord(yamlData);
  if (statuses.length) return { ...other, cot_statuses: [...new Set(statuses)] };
  return Object.keys(other).length ? other : undefined;
}

/**
 * Optimizer steps of the form's run over `examples` tasks, for the curriculum preview before it
 * starts: the form's max steps when set (it wins over epochs, as in the trainer; a form without
 * the field takes the settings' max_steps); a step takes batch_size x grad_accum examples on each process.
 */
export function estimateSteps(examples: number, form: TrainingFormValues, settings: Record<string, unknown>): number {
  const gradAccum = typeof settings.grad_accum === "number" ? Math.max(1, settings.grad_accum) : 1;
  const maxSteps = form.maxSteps !== undefined ? form.maxSteps : typeof settings.max_steps === "number" ? settings.max_steps : null;
  return runSteps({ examples, epochs: form.epochs, batchSize: form.batchSize, processes: form.processes, gradAccum, maxSteps });
}
