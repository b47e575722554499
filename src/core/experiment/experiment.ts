// The paper's experiment as stages (pipeline.ts runs them): the base student's evaluation, the
// CoT sets of codistill.yaml's `cots:`, then for each training arm its LoRA run and its
// evaluation, and the report. Everything goes to the experiment folder:
//   <out>/arms/base/eval/<benchmark>/          the baseline's tasks, samples, results, structure
//   <out>/arms/<arm>/                          the arm's training run (config, manifest, metrics,
//                                              checkpoints, adapter) and its eval/<benchmark>/
//   <out>/stages/<stage>.json                  what each finished stage was made from
//   <out>/report.{json,md,html}
// The CoT sets stay in .codistill/cots/ beside the others, where the browser reviews them; a
// review changes the set's hash, so the arms trained on it train again on the next run.
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { DatasetIndex } from "../datasets/api";
import { datasetTasks, generateCots } from "../cot/generate";
import type { ReasoningSource } from "../cot/sources";
import { CotStore } from "../cot/store";
import { sandboxVerifier, type ExecuteSamples } from "../cot/verify";
import { evalDir, exportTasks, runEvaluation, type EvalModel } from "../evaluation/runner";
import type { GitInfo } from "../runs/gitInfo";
import { checkpointSteps } from "../training/runs";
import { planTrainingRun, type TrainingPlan } from "../training/launch";
import type { MethodMap, MethodName, NotificationMap, NotificationName, RequestId, TrainFailedParams, TrainFinishedParams } from "../../sidecar/protocol";
import { armForm, planArms, type ArmPlan } from "./arms";
import { datasetRequest, type CotSetDecl, type DatasetDecl, type ExperimentConfig } from "./config";
import { fileSha256OrMissing, pathFingerprint, valueSha256 } from "./fingerprint";
import type { Stage, StageContext } from "./pipeline";

/** Bumped when what a stage writes changes, so older outputs are made again. */
const STAGE_FORMAT = 1;

/** The sidecar as the experiment uses it (a SidecarSupervisor): any method, any notification. */
export interface ExperimentSidecar {
  request<M extends MethodName>(method: M, params: MethodMap[M][0], options?: { signal?: AbortSignal; timeoutMs?: number; onRequestId?: (id: RequestId) => void }): Promise<MethodMap[M][1]>;
  onNotification<N extends NotificationName>(method: N, handler: (params: NotificationMap[N]) => void): () => void;
}

export interface ExperimentHost {
  /** The folder of codistill.yaml. */
  root: string;
  sidecar: ExperimentSidecar;
  /** A dataset of codistill.yaml, indexed (the extension's registry, or the CLI's loader). */
  openDataset(decl: DatasetDecl, signal?: AbortSignal): Promise<DatasetIndex>;
  /** Who writes a CoT set: the offline rationalizer, or the configured teacher endpoint. */
  reasoningSource(set: CotSetDecl): Promise<ReasoningSource>;
  git(): Promise<GitInfo | null>;
  /** Writes report.json, report.md and report.html for the stages so far (report.ts). */
  writeReport(experiment: PlannedExperiment, context: StageContext): Promise<void>;
}

export interface PlannedExperiment {
  config: ExperimentConfig;
  out: string;
  arms: ArmPlan[];
  benchmarks: DatasetDecl[];
  stages: Stage[];
}

export const REPORT_FILES = ["report.json", "report.md", "report.html"] as const;

export function armDir(out: string, arm: string): string {
  return join(out, "arms", arm);
}

export function cotSetPath(root: string, name: string): string {
  return join(root, ".codistill", "cots", `${name}.jsonl`);
}

/** The model an arm's evaluation loads: the student, with the arm's adapter unless it is base. */
export function armEvalModel(config: ExperimentConfig, out: string, arm: ArmPlan): EvalModel {
  const home = armDir(out, arm.name);
  const student = config.student!.model;
  if (!arm.trains) return { id: arm.name, label: arm.name, kind: "base", model: student, home };
  return { id: arm.name, label: arm.name, kind: "adapter", model: student, adapter: join(home, "adapter"), home };
}

/** The stages of the experiment `config` describes; throws with every problem that keeps it from running. */
export function planExperiment(config: ExperimentConfig, host: ExperimentHost, out = config.experiment.out): PlannedExperiment {
  const { arms, problems } = planArms(config);
  const benchmarks = config.evaluation.benchmarks.map((name) => config.datasets.find((d) => d.name === name)!);
  if (benchmarks.length === 0) problems.push("evaluation.benchmarks: name the datasets to evaluate every arm on (for example humaneval, mbpp, mbpp-plus)");
  const used = new Set(arms.flatMap((arm) => arm.cotSets));
  for (const name of used) {
    if (!config.cots.some((set) => set.name === name) && !existsSync(cotSetPath(host.root, name))) {
      problems.push(`training.cots: no CoT set "${name}" in .codistill/cots/, and cots: does not declare how to write it`);
    }
  }
  if (problems.length) throw new Error(`${config.file}: the experiment cannot run:\n${problems.map((p) => `  ${p}`).join("\n")}`);
  const planned: PlannedExperiment = { config, out, arms, benchmarks, stages: [] };
  const base = arms.find((arm) => !arm.trains);
  if (base) planned.stages.push(evaluationStage(planned, host, base, "baseline"));
  for (const set of config.cots) planned.stages.push(cotStage(planned, host, set));
  for (const arm of arms.filter((a) => a.trains)) planned.stages.push(trainingStage(planned, host, arm));
  for (const arm of arms.filter((a) => a.trains)) planned.stages.push(evaluationStage(planned, host, arm, "eval"));
  planned.stages.push(reportStage(planned, host));
  return planned;
}

/** Evaluation settings that change the samples or their verdicts (workers only changes the speed). */
function evaluationInputs(config: ExperimentConfig): unknown {
  const { workers: _workers, benchmarks: _benchmarks, ...settings } = config.evaluation;
  return settings;
}

async function datasetFingerprints(decls: readonly DatasetDecl[]): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const decl of decls) out[decl.name] = { ...datasetRequest(decl), path: undefined, content: await pathFingerprint(decl.path) };
  return out;
}

function evalOutputs(planned: PlannedExperiment, model: EvalModel): string[] {
  return planned.benchmarks.flatMap((b) => [join(evalDir(model, b.name), "results.json"), join(evalDir(model, b.name), "structure.json")]);
}

function evaluationStage(planned: PlannedExperiment, host: ExperimentHost, arm: ArmPlan, kind: "baseline" | "eval"): Stage {
  const { config, out } = planned;
  const model = armEvalModel(config, out, arm);
  return {
    id: kind === "baseline" ? "baseline" : `eval:${arm.name}`,
    kind,
    arm: arm.name,
    inputs: async () => ({
      format: STAGE_FORMAT,
      student: await pathFingerprint(model.model),
      adapter: model.adapter ? await pathFingerprint(model.adapter) : null,
      benchmarks: await datasetFingerprints(planned.benchmarks),
      settings: evaluationInputs(config),
    }),
    outputs: () => evalOutputs(planned, model),
    run: async (context) => {
      if (model.adapter && !existsSync(join(model.adapter, "adapter_config.json"))) {
        throw new Error(`${arm.name}: no trained adapter in ${model.adapter}: run its training stage first (--only train:${arm.name})`);
      }
      for (const [i, benchmark] of planned.benchmarks.entries()) {
        const tasks = await host.openDataset(benchmark, context.signal);
        const share = 1 / planned.benchmarks.length;
        await runEvaluation(
          { model, benchmark: benchmark.name, tasks, settings: config.evaluation, cacheDir: join(host.root, ".codistill", "cache", "expected-outputs") },
          host.sidecar,
          (p) => context.progress((i + phaseFraction(p.phase, p.done, p.total)) * share, `${benchmark.name}: ${p.phase} ${p.done}/${p.total}${p.message ? ` (${p.message})` : ""}`),
          context.signal,
        );
      }
    },
  };
}

/** Generating takes most of an evaluation; executing, some; export and scoring, little. */
const PHASE_SPANS = { export: [0, 0.02], generate: [0.02, 0.8], execute: [0.8, 0.97], score: [0.97, 1] } as const;

function phaseFraction(phase: keyof typeof PHASE_SPANS, done: number, total: number): number {
  const [from, to] = PHASE_SPANS[phase];
  return from + (to - from) * (total > 0 ? Math.min(1, done / total) : 0);
}

function cotStage(planned: PlannedExperiment, host: ExperimentHost, set: CotSetDecl): Stage {
  const path = cotSetPath(host.root, set.name);
  const decl = planned.config.datasets.find((d) => d.name === set.dataset)!;
  return {
    id: `cots:${set.name}`,
    kind: "cots",
    inputs: async () => ({
      format: STAGE_FORMAT,
      set,
      dataset: await datasetFingerprints([decl]),
      teacher: set.teacher === "endpoint" ? (await host.reasoningSource(set)).identity : "offline",
    }),
    outputs: () => [path],
    run: async (context) => {
      const [index, source] = await Promise.all([host.openDataset(decl, context.signal), host.reasoningSource(set)]);
      await mkdir(dirname(path), { recursive: true });
      const store = await CotStore.open(path);
      const verifier = set.verify ? sandboxVerifier(sidecarExecute(host), join(host.root, ".codistill", "cache", "verify")) : undefined;
      const report = await generateCots(datasetTasks(index), store, {
        source,
        ...(set.limit !== undefined ? { limit: set.limit } : {}),
        ...(verifier ? { verifier } : {}),
        signal: context.signal,
        onProgress: (p) => context.progress(p.total ? p.done / p.total : 1, `${set.name}: ${p.done}/${p.total} asked (${p.skipped} already done), ${p.verifiedPassed}/${p.verifiedDone} verified`),
      });
      context.log(`${set.name}: ${report.asked} asked, ${report.skipped} already done, ${report.verified} verified in ${report.seconds.toFixed(1)} s`);
      if (report.cancelled) return;
      if (report.verificationError) throw new Error(`${set.name}: verification stopped: ${report.verificationError}; running again verifies what is left`);
      if (report.failures.length) {
        const first = report.failures[0]!;
        throw new Error(`${set.name}: the teacher failed on ${report.failures.length} tasks (first: ${first.taskId}: ${first.reason}); running again asks them again`);
      }
    },
  };
}

function sidecarExecute(host: ExperimentHost): ExecuteSamples {
  return async (job, signal) => {
    const cacheDir = join(host.root, ".codistill", "cache", "expected-outputs");
    const result = await host.sidecar.request("eval/execute", { ...job, cacheDir }, { timeoutMs: 0, ...(signal ? { signal } : {}) });
    return result.resultsPath;
  };
}

/** Written into the arm's run folder when its training starts: a rerun resumes the run only when this still matches. */
const TRAINING_INPUTS_FILE = "experiment-inputs.json";

function trainingStage(planned: PlannedExperiment, host: ExperimentHost, arm: ArmPlan): Stage {
  const { config, out } = planned;
  const runDir = armDir(out, arm.name);
  const plan = (): TrainingPlan => planTrainingRun(host.root, config, armForm(config, arm), basename(runDir), runDir);
  const inputs = async () => {
    const { config: runConfig, processes, exports } = plan();
    const datasets = config.datasets.filter((d) => exports.some((e) => e.dataset === d.name));
    const cots: Record<string, string> = {};
    for (const name of arm.cotSets) cots[name] = await fileSha256OrMissing(cotSetPath(host.root, name));
    return {
      format: STAGE_FORMAT,
      runConfig,
      processes,
      student: await pathFingerprint(config.student!.model),
      encoder: arm.structural && config.encoder ? await pathFingerprint(config.encoder.model) : null,
      datasets: await datasetFingerprints(datasets),
      cots,
    };
  };
  return {
    id: `train:${arm.name}`,
    kind: "train",
    arm: arm.name,
    inputs,
    outputs: () => [join(runDir, "adapter", "adapter_config.json")],
    run: async (context) => {
      for (const name of arm.cotSets) {
        if (!existsSync(cotSetPath(host.root, name))) throw new Error(`${arm.name}: no CoT set ${cotSetPath(host.root, name)}: run the cots stage first (--only cots)`);
      }
      const hash = valueSha256(await inputs());
      const resumable = (await readTrainingInputs(runDir)) === hash && (await checkpointSteps(runDir)).length > 0;
      await train(host, config.datasets, plan(), hash, resumable, context);
    },
  };
}

async function readTrainingInputs(runDir: string): Promise<string | undefined> {
  try {
    return (JSON.parse(await readFile(join(runDir, TRAINING_INPUTS_FILE), "utf8")) as { inputsHash?: string }).inputsHash;
  } catch {
    return undefined;
  }
}

/** How often the training stage asks the sidecar whether its run is still going (a restarted sidecar forgets it). */
const LIVENESS_INTERVAL_MS = 5000;

/** Starts (or resumes) the arm's run and waits for it to end; cancelling stops it at a checkpoint. */
async function train(host: ExperimentHost, datasets: readonly DatasetDecl[], plan: TrainingPlan, inputsHash: string, resume: boolean, context: StageContext): Promise<void> {
  const { sidecar } = host;
  const runId = basename(plan.runDir);
  let settle!: (outcome: { finished?: TrainFinishedParams; failed?: TrainFailedParams; lost?: string }) => void;
  const ended = new Promise<{ finished?: TrainFinishedParams; failed?: TrainFailedParams; lost?: string }>((resolve) => (settle = resolve));
  const detach = [
    sidecar.onNotification("train/progress", (p) => {
      if (p.runId === runId) context.progress(p.totalSteps ? p.step / p.totalSteps : 0, `${runId}: step ${p.step}/${p.totalSteps}${typeof p.metrics.loss === "number" ? `, loss ${p.metrics.loss.toFixed(4)}` : ""}`);
    }),
    sidecar.onNotification("train/finished", (p) => p.runId === runId && settle({ finished: p })),
    sidecar.onNotification("train/failed", (p) => p.runId === runId && settle({ failed: p })),
  ];
  const stop = () => void sidecar.request("train/stop", { runId }, { timeoutMs: 0 }).catch(() => undefined);
  let liveness: ReturnType<typeof setInterval> | undefined;
  try {
    if (resume) {
      context.log(`${runId}: resuming from its last checkpoint`);
      await sidecar.request("train/resume", { runDir: plan.runDir, workspace: host.root, processes: plan.processes }, { timeoutMs: 0 });
    } else {
      await rm(plan.runDir, { recursive: true, force: true });
      await exportRunTasks(host, datasets, plan, context);
      await writeFile(join(plan.runDir, TRAINING_INPUTS_FILE), `${JSON.stringify({ inputsHash }, null, 2)}\n`);
      const git = await host.git().catch(() => null);
      await sidecar.request("train/start", { config: plan.config, runDir: plan.runDir, workspace: host.root, git, processes: plan.processes }, { timeoutMs: 0 });
    }
    // Cancelled while the run was starting: an abort listener added now would never fire.
    if (context.signal.aborted) stop();
    else context.signal.addEventListener("abort", stop, { once: true });
    liveness = setInterval(() => {
      sidecar
        .request("train/status", undefined, { timeoutMs: 30_000 })
        .then(({ active }) => {
          if (active?.runId !== runId) setTimeout(() => settle({ lost: `the sidecar is not training ${runId} any more (did it restart?); running again resumes from its last checkpoint` }), 1000);
        })
        .catch(() => undefined);
    }, LIVENESS_INTERVAL_MS);
    const outcome = await ended;
    if (outcome.failed) throw new Error(`${runId}: training failed (${outcome.failed.kind}): ${outcome.failed.message}${outcome.failed.suggestions?.length ? `; try: ${outcome.failed.suggestions.join("; ")}` : ""}`);
    if (outcome.lost) throw new Error(outcome.lost);
    if (outcome.finished?.stopped && !context.signal.aborted) throw new Error(`${runId}: the run stopped at step ${outcome.finished.step} before its end; running again resumes it`);
  } finally {
    if (liveness) clearInterval(liveness);
    context.signal.removeEventListener("abort", stop);
    for (const off of detach) off();
  }
}

/** The run's own copy of its training tasks (<run>/data/), so the run can be repeated from its folder. */
async function exportRunTasks(host: ExperimentHost, datasets: readonly DatasetDecl[], plan: TrainingPlan, context: StageContext): Promise<void> {
  for (const { dataset, out } of plan.exports) {
    const decl = datasets.find((d) => d.name === dataset);
    if (!decl) throw new Error(`training.datasets: no dataset named "${dataset}"`);
    context.progress(0, `exporting ${dataset}`);
    await mkdir(dirname(out), { recursive: true });
    await exportTasks(await host.openDataset(decl, context.signal), out, undefined, context.signal);
  }
}

function reportStage(planned: PlannedExperiment, host: ExperimentHost): Stage {
  const { out, config } = planned;
  return {
    id: "report",
    kind: "report",
    inputs: async () => {
      const files: Record<string, string> = { config: await fileSha256OrMissing(config.file) };
      for (const arm of planned.arms) {
        const model = armEvalModel(config, out, arm);
        for (const path of evalOutputs(planned, model)) files[path] = await fileSha256OrMissing(path);
        if (arm.trains) files[`${arm.name}/metrics`] = await fileSha256OrMissing(join(armDir(out, arm.name), "metrics.jsonl"));
      }
      for (const name of new Set(planned.arms.flatMap((a) => a.cotSets))) files[`cots/${name}`] = await fileSha256OrMissing(cotSetPath(host.root, name));
      return { format: STAGE_FORMAT, files };
    },
    outputs: () => REPORT_FILES.map((name) => join(out, name)),
    run: (context) => host.writeReport(planned, context),
  };
}
