// What the experiment's report says (report.json), before it is written as Markdown and HTML
// (reportRender.ts). Plain JSON values only, so report.json is the same data the two documents show.
import type { CotSummary } from "../cot/stats";

/** A figure with its 95% interval; pass@1 and its deltas are fractions in [0, 1] (deltas in [-1, 1]). */
export interface Interval {
  value: number;
  low: number;
  high: number;
}

/** One arm on one benchmark. */
export interface ReportRow {
  arm: string;
  tasks: number;
  /** Samples per task (n), as generated. */
  samplesPerTask: number;
  /** pass@1 over tasks, with its bootstrap interval (resampling tasks). */
  pass1: Interval;
  /** pass@1 minus base's, paired over the tasks both have (paired bootstrap); null on base, or without base. */
  deltaVsBase: (Interval & { pairedTasks: number }) | null;
  /** CodeBLEU syntax (AST) match against the best reference, mean over samples; null when not defined. */
  syntaxMatch: number | null;
  /** CodeBLEU dataflow match, mean over the samples where it is defined; null when none is. */
  dataflowMatch: number | null;
  /** The results.json the row is from, relative to the experiment folder. */
  results: string;
}

export interface ReportTable {
  benchmark: string;
  rows: ReportRow[];
}

/** One logged training step of an arm (metrics.jsonl). */
export interface LossPoint {
  step: number;
  /** The total α·CE + β·L_struct. */
  loss: number | null;
  ce: number | null;
  lStruct: number | null;
  alpha: number | null;
  beta: number | null;
}

export interface ReportArm {
  name: string;
  /** One line: what the arm trains on and with which loss. */
  description: string;
  /** The training run folder, relative to the experiment folder; null for base. */
  run: string | null;
  steps: number | null;
  trainWallS: number | null;
  loss: LossPoint[];
}

/**
 * A CoT set the arms trained on: `codistill cots stats`'s counts, one bucket per task (its last
 * record): total = valid + invalid + verified + failedVerification + failed. `valid` is valid and
 * not checked in the sandbox; `rejected` counts review decisions, across those buckets.
 */
export interface ReportCotSet extends Omit<CotSummary, "promptTokens" | "completionTokens"> {
  name: string;
  dataset: string;
  /** "offline rationalizer" or the teacher model's name. */
  teacher: string;
  /** Records a person rejected in review (they never train). */
  rejected: number;
}

export interface ReportProvenance {
  git: { commit: string; branch: string | null; dirty: boolean; dirtyFiles: string[] } | null;
  /** sha256 of each dataset file the experiment read. */
  datasets: { name: string; path: string; sha256: string }[];
  cots: { name: string; sha256: string }[];
  student: { path: string; parameters: number | null };
  encoder: { path: string; parameters: number | null } | null;
  /** Package versions (python, torch, transformers, peft, codistill, ...) as the runs' manifests say. */
  packages: Record<string, string>;
  /** The training device, as the runs' manifests say ("cpu", "cuda:0 NVIDIA H100 …"). */
  device: string | null;
}

/** How each stage went in the run that wrote the report. */
export interface ReportStage {
  id: string;
  outcome: "ran" | "up to date";
  wallS: number;
}

export interface ExperimentReport {
  format: 1;
  title: string;
  createdAt: string;
  /** Said first when the numbers cannot mean anything (tiny random-weight models); null otherwise. */
  caveat: string | null;
  /** The benchmarks asked for, in codistill.yaml's order; `tables` has those that have results. */
  benchmarks: string[];
  arms: ReportArm[];
  tables: ReportTable[];
  cots: ReportCotSet[];
  provenance: ReportProvenance;
  stages: ReportStage[];
  /** codistill.yaml as it was read. */
  config: { file: string; text: string };
}
