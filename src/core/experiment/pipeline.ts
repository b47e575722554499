// Runs an experiment's stages in order, each only when its outputs are not up to date: a stage
// records the hash of its inputs in <out>/stages/<id>.json when it finishes, and a later run skips
// it while that hash and its outputs are still there. A cancelled or failed stage records
// nothing, so the next run does it again (the training stage itself resumes from its last
// checkpoint). Which stages exist and what they do is experiment.ts's; this file knows only the
// order, the records, progress and the ETA.
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { valueSha256 } from "./fingerprint";

export const STAGE_KINDS = ["baseline", "cots", "train", "eval", "report"] as const;
export type StageKind = (typeof STAGE_KINDS)[number];

export interface StageContext {
  signal: AbortSignal;
  /** `fraction` of the stage done, in [0, 1], and a line on what it is doing. */
  progress(fraction: number, message: string): void;
  log(line: string): void;
  /** What the stages before this one did in this run (the report lists them). */
  outcomes: readonly StageOutcome[];
}

export interface Stage {
  /** "baseline", "cots:<set>", "train:<arm>", "eval:<arm>", "report". */
  id: string;
  kind: StageKind;
  arm?: string;
  /** What the outputs are made from (settings, and fingerprints of input files): hashed. */
  inputs(): Promise<unknown>;
  /** Paths that must exist for the stage to count as done. */
  outputs(): string[];
  run(context: StageContext): Promise<void>;
}

export interface StageRecord {
  id: string;
  inputsHash: string;
  finishedAt: string;
  wallS: number;
}

export type PipelineEvent =
  | { type: "start"; stage: Stage; index: number; total: number; etaS: number | null; why: "not done yet" | "its inputs changed" | "an output is missing" }
  | { type: "progress"; stage: Stage; index: number; total: number; fraction: number; message: string; etaS: number | null }
  | { type: "done"; stage: Stage; index: number; total: number; wallS: number; etaS: number | null }
  | { type: "up-to-date"; stage: Stage; index: number; total: number };

export interface StageOutcome {
  id: string;
  outcome: "ran" | "up to date";
  wallS: number;
}

export interface PipelineOptions {
  /** The experiment folder: the records go to <out>/stages/. */
  out: string;
  /** Stage kinds ("train") or ids ("train:sft-cot") to consider; the others are left as they are. */
  only?: readonly string[];
  signal?: AbortSignal;
  onEvent?: (event: PipelineEvent) => void;
  /** What the stages say along the way (a resumed run, a CoT set's counts). */
  log?: (line: string) => void;
}

export class PipelineCancelled extends Error {
  constructor(readonly stage: string) {
    super(`cancelled during ${stage}; running again carries on from there`);
  }
}

export function stageRecordPath(out: string, id: string): string {
  return join(out, "stages", `${id.replace(/[^\w.@-]+/g, "_")}.json`);
}

/** Which of `stages` `only` picks; throws naming a word that picks none. */
export function selectStages(stages: readonly Stage[], only: readonly string[] | undefined): Stage[] {
  if (!only?.length) return [...stages];
  for (const word of only) {
    if (!stages.some((stage) => stage.kind === word || stage.id === word)) {
      throw new RangeError(`--only ${word}: no such stage; expected a kind (${STAGE_KINDS.join(", ")}) or one of ${stages.map((s) => s.id).join(", ")}`);
    }
  }
  return stages.filter((stage) => only.includes(stage.kind) || only.includes(stage.id));
}

/** Runs the selected stages in order; resolves with what each did, rejects with the first failure. */
export async function runPipeline(stages: readonly Stage[], options: PipelineOptions): Promise<StageOutcome[]> {
  const selected = selectStages(stages, options.only);
  const signal = options.signal ?? new AbortController().signal;
  const log = options.log ?? (() => undefined);
  const estimates = await previousDurations(options.out, selected);
  const outcomes: StageOutcome[] = [];
  for (const [index, stage] of selected.entries()) {
    if (signal.aborted) throw new PipelineCancelled(stage.id);
    const total = selected.length;
    const inputsHash = valueSha256(await stage.inputs());
    const record = await readStageRecord(options.out, stage.id);
    if (record?.inputsHash === inputsHash && stage.outputs().every((path) => existsSync(path))) {
      estimates.delete(stage.id);
      outcomes.push({ id: stage.id, outcome: "up to date", wallS: 0 });
      options.onEvent?.({ type: "up-to-date", stage, index, total });
      continue;
    }
    const remainingAfter = (): number | null => sumOrNull(selected.slice(index + 1).map((s) => estimates.get(s.id) ?? kindEstimate(outcomes, selected, s)));
    const started = performance.now();
    const ownEstimate = estimates.get(stage.id) ?? kindEstimate(outcomes, selected, stage);
    const why = !record ? "not done yet" : record.inputsHash !== inputsHash ? "its inputs changed" : "an output is missing";
    options.onEvent?.({ type: "start", stage, index, total, etaS: sumOrNull([ownEstimate, remainingAfter()]), why });
    const context: StageContext = {
      signal,
      log,
      outcomes: [...outcomes],
      progress: (fraction, message) => {
        const elapsed = (performance.now() - started) / 1000;
        const left = stageSecondsLeft(elapsed, fraction, ownEstimate);
        options.onEvent?.({ type: "progress", stage, index, total, fraction, message, etaS: sumOrNull([left, remainingAfter()]) });
      },
    };
    try {
      await stage.run(context);
    } catch (err) {
      if (signal.aborted) throw new PipelineCancelled(stage.id);
      throw err;
    }
    if (signal.aborted) throw new PipelineCancelled(stage.id);
    const wallS = (performance.now() - started) / 1000;
    await writeStageRecord(options.out, { id: stage.id, inputsHash, finishedAt: new Date().toISOString(), wallS });
    estimates.delete(stage.id);
    outcomes.push({ id: stage.id, outcome: "ran", wallS });
    options.onEvent?.({ type: "done", stage, index, total, wallS, etaS: remainingAfter() });
  }
  return outcomes;
}

/** The last recorded duration of each stage, however its inputs changed since: the best guess of how long it takes. */
async function previousDurations(out: string, stages: readonly Stage[]): Promise<Map<string, number>> {
  const durations = new Map<string, number>();
  for (const stage of stages) {
    const record = await readStageRecord(out, stage.id);
    if (record) durations.set(stage.id, record.wallS);
  }
  return durations;
}

/** Without a record: the mean of the stages of its kind run so far (training arms take alike). */
function kindEstimate(outcomes: readonly StageOutcome[], stages: readonly Stage[], stage: Stage): number | null {
  const sameKind = outcomes.filter((o) => o.outcome === "ran" && stages.find((s) => s.id === o.id)?.kind === stage.kind);
  return sameKind.length ? sameKind.reduce((sum, o) => sum + o.wallS, 0) / sameKind.length : null;
}

/** From the stage's own progress once it has some; before that, its estimate less the time spent. */
export function stageSecondsLeft(elapsedS: number, fraction: number, estimateS: number | null): number | null {
  if (fraction >= 0.05 && fraction <= 1) return (elapsedS / fraction) * (1 - fraction);
  return estimateS === null ? null : Math.max(0, estimateS - elapsedS);
}

function sumOrNull(values: readonly (number | null)[]): number | null {
  let sum = 0;
  for (const value of values) {
    if (value === null) return null;
    sum += value;
  }
  return sum;
}

export async function readStageRecord(out: string, id: string): Promise<StageRecord | undefined> {
  const path = stageRecordPath(out, id);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  try {
    const record = JSON.parse(text) as Partial<StageRecord>;
    if (typeof record.inputsHash === "string" && typeof record.wallS === "number" && record.id === id) return record as StageRecord;
  } catch {
    // A torn record (the machine stopped while writing it): the stage runs again.
  }
  return undefined;
}

async function writeStageRecord(out: string, record: StageRecord): Promise<void> {
  const path = stageRecordPath(out, record.id);
  await mkdir(join(out, "stages"), { recursive: true });
  await writeFile(`${path}.tmp`, `${JSON.stringify(record, null, 2)}\n`);
  await rename(`${path}.tmp`, path);
}
