// The report stage: reads what the other stages wrote (each arm's results.json, structure.json and
// metrics.jsonl, the CoT sets, the runs' manifests) into an ExperimentReport, and writes it as
// report.json, report.md and report.html in the experiment folder. The statistics are the
// Evaluation panel's (buildComparison): pass@1 with its bootstrap interval over tasks, and the
// delta against base by a paired bootstrap over the tasks both have.
import { existsSync } from "node:fs";
import { open, readFile, readdir, rename, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { CotStore } from "../cot/store";
import { readEvalResults } from "../evaluation/results";
import { readStructure } from "../evaluation/structureFile";
import { buildComparison, type ComparisonInput, type ModelRow, type StructureMetric } from "../evaluation/table";
import { readMetrics } from "../training/runs";
import { armDir, armEvalModel, cotSetPath, type PlannedExperiment } from "./experiment";
import { fileSha256, pathFingerprint } from "./fingerprint";
import { readStageRecord, type StageOutcome } from "./pipeline";
import type { ExperimentReport, LossPoint, ReportArm, ReportCotSet, ReportProvenance, ReportRow, ReportTable } from "./reportModel";
import { findChartLibrary, renderReportHtml, renderReportMarkdown } from "./reportRender";
import { readGitInfo, type GitInfo } from "../runs/gitInfo";
import { evalDir } from "../evaluation/runner";

/** Below this many parameters a student cannot solve the benchmarks; its figures only show the pipeline runs. */
export const MEANINGFUL_PARAMETERS = 10_000_000;

export interface ReportInputs {
  planned: PlannedExperiment;
  root: string;
  git: GitInfo | null;
  /** What each stage did in the run that writes the report (the report stage itself excluded). */
  stages: readonly StageOutcome[];
  now?: Date;
}

export async function buildReport(inputs: ReportInputs): Promise<ExperimentReport> {
  const { planned, root } = inputs;
  const { config } = planned;
  const studentParameters = await safetensorsParameters(config.student!.model);
  const tables = await reportTables(planned);
  return {
    format: 1,
    title: `Codistill experiment${config.name ? ` "${config.name}"` : ""}`,
    createdAt: (inputs.now ?? new Date()).toISOString(),
    caveat: caveatFor(studentParameters),
    benchmarks: planned.benchmarks.map((b) => b.name),
    arms: await Promise.all(planned.arms.map((arm) => reportArm(planned, arm.name))),
    tables,
    cots: await reportCotSets(planned, root),
    provenance: await provenance(planned, root, inputs.git, studentParameters),
    stages: inputs.stages.map(({ id, outcome, wallS }) => ({ id, outcome, wallS: Math.round(wallS * 10) / 10 })),
    config: { file: relative(root, config.file) || config.file, text: await readFile(config.file, "utf8") },
  };
}

export function caveatFor(studentParameters: number | null): string | null {
  if (studentParameters === null || studentParameters >= MEANINGFUL_PARAMETERS) return null;
  return (
    `These numbers mean nothing about distillation: the student has ${(studentParameters / 1e6).toFixed(2)}M parameters ` +
    "(a tiny model such as the demo's, with random weights), far too small to solve these tasks. " +
    "They show that every stage ran and what the report looks like; run the experiment with a real student for figures that mean something."
  );
}

async function reportTables(planned: PlannedExperiment): Promise<ReportTable[]> {
  const inputs: ComparisonInput[] = [];
  for (const benchmark of planned.benchmarks) {
    for (const arm of planned.arms) {
      const dir = evalDir(armEvalModel(planned.config, planned.out, arm), benchmark.name);
      if (!existsSync(join(dir, "results.json"))) continue;
      const results = await readEvalResults(join(dir, "results.json"));
      const structurePath = join(dir, "structure.json");
      const structure = existsSync(structurePath) ? ({ state: "scored", structure: await readStructure(structurePath) } as const) : undefined;
      inputs.push({ label: arm.name, runId: arm.name, benchmark: benchmark.name, results, ...(structure ? { structure } : {}) });
    }
  }
  const baseArm = planned.arms.find((arm) => !arm.trains)?.name ?? "base";
  return buildComparison(inputs, baseArm, { seed: 0 }).map((table) => ({
    benchmark: table.benchmark,
    rows: table.rows.map((row) => reportRow(row, planned.out)),
  }));
}

function reportRow(row: ModelRow, out: string): ReportRow {
  const delta = row.delta?.available ? row.delta.value : null;
  return {
    arm: row.runId,
    tasks: row.tasks,
    samplesPerTask: row.samplesPerTask.max,
    pass1: { value: row.pass1.mean, low: row.pass1.low, high: row.pass1.high },
    deltaVsBase: delta ? { value: delta.mean, low: delta.low, high: delta.high, pairedTasks: delta.sharedTasks } : null,
    syntaxMatch: metricValue(row.syntaxMatch),
    dataflowMatch: metricValue(row.dataflowMatch),
    results: relative(out, row.resultsPath),
  };
}

function metricValue(metric: StructureMetric): number | null {
  return metric.available ? metric.value.mean : null;
}

async function reportArm(planned: PlannedExperiment, name: string): Promise<ReportArm> {
  const arm = planned.arms.find((a) => a.name === name)!;
  if (!arm.trains) return { name, description: arm.description, run: null, steps: null, trainWallS: null, loss: [] };
  const dir = armDir(planned.out, name);
  const metricsPath = join(dir, "metrics.jsonl");
  const lines = existsSync(metricsPath) ? await readMetrics(metricsPath) : [];
  const loss: LossPoint[] = lines.map((line) => ({ step: line.step, loss: line.loss ?? null, ce: line.ce ?? null, lStruct: line.l_struct ?? null, alpha: line.alpha ?? null, beta: line.beta ?? null }));
  const record = await readStageRecord(planned.out, `train:${name}`);
  return { name, description: arm.description, run: relative(planned.out, dir), steps: loss.at(-1)?.step ?? null, trainWallS: record ? Math.round(record.wallS * 10) / 10 : null, loss };
}

async function reportCotSets(planned: PlannedExperiment, root: string): Promise<ReportCotSet[]> {
  const names = [...new Set(planned.arms.flatMap((arm) => arm.cotSets))];
  const sets: ReportCotSet[] = [];
  for (const name of names) {
    const path = cotSetPath(root, name);
    if (!existsSync(path)) continue;
    const store = await CotStore.open(path);
    const summary = store.summary();
    const decl = planned.config.cots.find((set) => set.name === name);
    const teacher = decl?.teacher === "offline" ? "offline rationalizer" : (planned.config.teacher?.model ?? "the teacher endpoint");
    const { promptTokens: _prompt, completionTokens: _completion, ...counts } = summary;
    sets.push({ name, dataset: decl?.dataset ?? "", teacher, ...counts, rejected: store.reviews().rejected });
  }
  return sets;
}

async function provenance(planned: PlannedExperiment, root: string, git: GitInfo | null, studentParameters: number | null): Promise<ReportProvenance> {
  const { config } = planned;
  const datasetNames = new Set([...planned.benchmarks.map((b) => b.name), ...(config.training?.datasets ?? [])]);
  const datasets = [];
  for (const decl of config.datasets.filter((d) => datasetNames.has(d.name))) datasets.push({ name: decl.name, path: relative(root, decl.path) || decl.path, sha256: await pathFingerprint(decl.path) });
  const cots = [];
  for (const name of new Set(planned.arms.flatMap((arm) => arm.cotSets))) {
    const path = cotSetPath(root, name);
    if (existsSync(path)) cots.push({ name, sha256: await fileSha256(path) });
  }
  const manifest = await firstManifest(planned);
  return {
    git: git ? { commit: git.commit, branch: git.branch, dirty: git.dirty, dirtyFiles: git.changed } : null,
    datasets,
    cots,
    student: { path: config.student!.model, parameters: studentParameters },
    encoder: config.encoder ? { path: config.encoder.model, parameters: await safetensorsParameters(config.encoder.model) } : null,
    packages: manifest?.packages ?? {},
    device: manifest?.device ?? null,
  };
}

/** packages and device of the first arm's run manifest (every arm runs in the same sidecar). */
async function firstManifest(planned: PlannedExperiment): Promise<{ packages: Record<string, string>; device: string | null } | undefined> {
  for (const arm of planned.arms.filter((a) => a.trains)) {
    const path = join(armDir(planned.out, arm.name), "manifest.json");
    if (!existsSync(path)) continue;
    const manifest = JSON.parse(await readFile(path, "utf8")) as { packages?: Record<string, unknown>; device?: { type?: string; name?: string; processes?: number; precision?: string } };
    const packages: Record<string, string> = {};
    for (const [name, version] of Object.entries(manifest.packages ?? {})) if (typeof version === "string") packages[name] = version;
    const device = manifest.device ? [manifest.device.name ?? manifest.device.type, manifest.device.precision, manifest.device.processes && manifest.device.processes > 1 ? `${manifest.device.processes} processes` : undefined].filter(Boolean).join(", ") : null;
    return { packages, device };
  }
  return undefined;
}

/**
 * A model folder's parameter count from its safetensors headers (an 8-byte length, then JSON with
 * each tensor's shape): exact, and without loading the weights. Null when there is no safetensors file.
 */
export async function safetensorsParameters(folder: string): Promise<number | null> {
  let files: string[];
  try {
    files = (await readdir(folder)).filter((name) => name.endsWith(".safetensors"));
  } catch {
    return null;
  }
  if (!files.length) return null;
  let total = 0;
  for (const name of files) {
    const handle = await open(join(folder, name), "r");
    try {
      const lengthBytes = Buffer.alloc(8);
      await handle.read(lengthBytes, 0, 8, 0);
      const length = Number(lengthBytes.readBigUInt64LE());
      if (length > 100_000_000) throw new Error(`${join(folder, name)}: not a safetensors file (header of ${length} bytes)`);
      const header = Buffer.alloc(length);
      await handle.read(header, 0, length, 8);
      const tensors = JSON.parse(header.toString("utf8")) as Record<string, { shape?: number[] }>;
      for (const [key, tensor] of Object.entries(tensors)) if (key !== "__metadata__" && tensor.shape) total += tensor.shape.reduce((a, b) => a * b, 1);
    } finally {
      await handle.close();
    }
  }
  return total;
}

/** report.json, report.md and report.html, each written whole (a reader never sees half a report). */
export async function writeReportFiles(out: string, report: ExperimentReport, chartLibrary: string): Promise<void> {
  const files: [string, string][] = [
    ["report.json", `${JSON.stringify(report, null, 2)}\n`],
    ["report.md", renderReportMarkdown(report)],
    ["report.html", renderReportHtml(report, chartLibrary)],
  ];
  for (const [name, text] of files) {
    const path = join(out, name);
    await writeFile(`${path}.tmp`, text);
    await rename(`${path}.tmp`, path);
  }
}

/** The report stage of both the CLI and the editor: the report of `planned` as it stands, in its folder. */
export async function writeExperimentReport(planned: PlannedExperiment, root: string, stages: readonly StageOutcome[]): Promise<void> {
  const report = await buildReport({ planned, root, git: await readGitInfo(root).catch(() => null), stages });
  await writeReportFiles(planned.out, report, findChartLibrary());
}
