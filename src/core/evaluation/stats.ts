// Statistics for comparing code models on a benchmark: the unbiased pass@k estimator, and
// bootstrap confidence intervals that resample tasks (the unit a benchmark samples from a
// population of problems), with a seeded generator so the same files always give the same numbers.
import { mulberry32 } from "../random";
import type { TaskResults } from "./results";

export { mulberry32 };

export interface TaskCounts {
  taskId: string;
  /** Samples generated for the task. */
  n: number;
  /** Samples that passed every test. */
  c: number;
}

/**
 * Unbiased pass@k (Chen et al., 2021): the chance that at least one of k samples drawn without
 * replacement from n, of which c are correct, is correct: 1 - C(n-c, k) / C(n, k).
 * The ratio of binomials is taken as the product over i in (n-c, n] of (1 - k/i): C(n, k) overflows
 * a double for n = 200, k = 100, while every factor of the product lies in [0, 1).
 */
export function passAtK(n: number, c: number, k: number): number {
  checkPassAtKArguments(n, c, k);
  // The estimator reduces to c / n for k = 1; the exact quotient avoids the product's rounding.
  if (k === 1) return c / n;
  // Fewer than k wrong samples: every draw of k contains a correct one.
  if (n - c < k) return 1;
  let allWrong = 1;
  for (let i = n - c + 1; i <= n; i++) allWrong *= 1 - k / i;
  return 1 - allWrong;
}

function checkPassAtKArguments(n: number, c: number, k: number): void {
  for (const [name, value] of [["n", n], ["c", c], ["k", k]] as const) {
    if (!Number.isInteger(value)) throw new RangeError(`pass@k: ${name} must be an integer, got ${value}`);
  }
  if (k < 1) throw new RangeError(`pass@k: k must be at least 1, got ${k}`);
  if (n < k) throw new RangeError(`pass@${k} needs at least ${k} samples per task, got ${n}`);
  if (c < 0 || c > n) throw new RangeError(`pass@k: correct count ${c} outside 0..${n}`);
}

/** n and c per task; a sample counts as correct only with status "passed" (the eval spec's definition). */
export function countPasses(tasks: readonly TaskResults[]): TaskCounts[] {
  return tasks.map((t) => ({ taskId: t.taskId, n: t.samples.length, c: t.samples.filter((s) => s.status === "passed").length }));
}

/** pass@k of each task, or undefined when some task has fewer than k samples (as EvalPlus reports it). */
export function perTaskPassAtK(counts: readonly TaskCounts[], k: number): Map<string, number> | undefined {
  if (counts.some((t) => t.n < k)) return undefined;
  return new Map(counts.map((t) => [t.taskId, passAtK(t.n, t.c, k)]));
}

/** Benchmark pass@k: the mean over tasks, or undefined when some task has fewer than k samples. */
export function meanPassAtK(counts: readonly TaskCounts[], k: number): number | undefined {
  const perTask = perTaskPassAtK(counts, k);
  return perTask && perTask.size > 0 ? mean([...perTask.values()]) : undefined;
}

export function mean(values: ArrayLike<number>): number {
  if (values.length === 0) throw new RangeError("mean of no values");
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return sum / values.length;
}

export interface BootstrapOptions {
  /** Resamples drawn; 2000 by default. */
  iterations?: number;
  /** Coverage of the interval; 0.95 by default. */
  confidence?: number;
  /** Seed of the generator; a fixed default so the same inputs always give the same interval. */
  seed?: number;
}

export interface ConfidenceInterval {
  /** The observed mean over tasks (not the mean of the resamples). */
  mean: number;
  low: number;
  high: number;
  confidence: number;
  iterations: number;
}

interface ResolvedOptions {
  iterations: number;
  confidence: number;
  seed: number;
}

function resolveOptions(options: BootstrapOptions): ResolvedOptions {
  const { iterations = 2000, confidence = 0.95, seed = 0 } = options;
  if (!Number.isInteger(iterations) || iterations < 1) throw new RangeError(`bootstrap: iterations must be a positive integer, got ${iterations}`);
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`bootstrap: confidence must lie strictly between 0 and 1, got ${confidence}`);
  if (!Number.isFinite(seed)) throw new RangeError(`bootstrap: seed must be a finite number, got ${seed}`);
  return { iterations, confidence, seed };
}

/** Means of `iterations` resamples of `values`, each drawn with replacement and of the same size. */
function resampleMeans(values: readonly number[], iterations: number, random: () => number): Float64Array {
  const m = values.length;
  const means = new Float64Array(iterations);
  for (let r = 0; r < iterations; r++) {
    let sum = 0;
    for (let i = 0; i < m; i++) sum += values[Math.floor(random() * m)]!;
    means[r] = sum / m;
  }
  return means;
}

/** The q-quantile of sorted values, interpolating linearly between neighbours. */
function quantile(sorted: Float64Array, q: number): number {
  const position = q * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.ceil(position);
  return sorted[below]! + (sorted[above]! - sorted[below]!) * (position - below);
}

function percentileInterval(observedMean: number, means: Float64Array, options: ResolvedOptions): ConfidenceInterval {
  const sorted = means.slice().sort();
  const tail = (1 - options.confidence) / 2;
  return {
    mean: observedMean,
    low: quantile(sorted, tail),
    high: quantile(sorted, 1 - tail),
    confidence: options.confidence,
    iterations: options.iterations,
  };
}

/** Percentile bootstrap interval of the mean of per-task values (e.g. per-task pass@1), resampling tasks. */
export function bootstrapCI(perTaskValues: readonly number[], options: BootstrapOptions = {}): ConfidenceInterval {
  if (perTaskValues.length === 0) throw new RangeError("bootstrap: no tasks to resample");
  const resolved = resolveOptions(options);
  const means = resampleMeans(perTaskValues, resolved.iterations, mulberry32(resolved.seed));
  return percentileInterval(mean(perTaskValues), means, resolved);
}

export interface TaskOverlap {
  /** Tasks both sides have, in natural order ("HumanEval/2" before "HumanEval/10"). */
  shared: string[];
  onlyBase: string[];
  onlyStudent: string[];
}

export function compareTaskIds(a: string, b: string): number {
  return a.localeCompare(b, "en", { numeric: true });
}

export function taskOverlap(base: ReadonlyMap<string, unknown>, student: ReadonlyMap<string, unknown>): TaskOverlap {
  return {
    shared: [...base.keys()].filter((id) => student.has(id)).sort(compareTaskIds),
    onlyBase: [...base.keys()].filter((id) => !student.has(id)).sort(compareTaskIds),
    onlyStudent: [...student.keys()].filter((id) => !base.has(id)).sort(compareTaskIds),
  };
}

export interface PairedDifference extends ConfidenceInterval, TaskOverlap {
  /** `mean`, `low` and `high` are of student minus base, over the shared tasks. */
  sharedTasks: number;
  /**
   * Fraction of resamples whose mean difference is <= 0: a one-sided bootstrap p-value for
   * "the student is better". Small (say < 0.05) when the improvement is unlikely to be luck.
   */
  fractionNotBetter: number;
}

// Sums of differences that cancel exactly in real numbers can land a rounding error above zero.
const ZERO_TOLERANCE = 1e-12;

/**
 * Paired percentile bootstrap of mean(student - base) over the tasks both have: resampling
 * tasks keeps each task's pair together, so per-task difficulty cancels out of the difference.
 */
export function pairedBootstrap(base: ReadonlyMap<string, number>, student: ReadonlyMap<string, number>, options: BootstrapOptions = {}): PairedDifference {
  const overlap = taskOverlap(base, student);
  if (overlap.shared.length === 0) {
    throw new RangeError(`paired bootstrap: no tasks in common (${overlap.onlyBase.length} only in base, ${overlap.onlyStudent.length} only in student)`);
  }
  const resolved = resolveOptions(options);
  // Sorted task order, so the result depends on the data and the seed, not on map insertion order.
  const differences = overlap.shared.map((id) => student.get(id)! - base.get(id)!);
  const means = resampleMeans(differences, resolved.iterations, mulberry32(resolved.seed));
  const notBetter = means.filter((d) => d <= ZERO_TOLERANCE).length;
  return {
    ...percentileInterval(mean(differences), means, resolved),
    ...overlap,
    sharedTasks: overlap.shared.length,
    fractionNotBetter: notBetter / resolved.iterations,
  };
}
