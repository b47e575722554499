// The α/β curriculum, for the training panel's live preview: the same schedule as the sidecar's
// codistill.training.curriculum (a unit test checks both give the same numbers), so what the
// panel draws is what the trainer will use.

export type CurriculumSchedule = "linear" | "cosine" | "step";
export const CURRICULUM_SCHEDULES: readonly CurriculumSchedule[] = ["linear", "cosine", "step"];

export interface Curriculum {
  alphaStart: number;
  alphaEnd: number;
  betaStart: number;
  betaEnd: number;
  schedule: CurriculumSchedule;
  /** Fraction of training over which α and β move from start to end. */
  warmupFraction: number;
  /** Equal jumps of the "step" schedule. */
  steps: number;
}

export const DEFAULT_CURRICULUM: Curriculum = { alphaStart: 1, alphaEnd: 0.5, betaStart: 0, betaEnd: 0.5, schedule: "linear", warmupFraction: 1, steps: 1 };

export interface CurriculumPoint {
  step: number;
  alpha: number;
  beta: number;
}

/** The problem with a curriculum, naming the field, or undefined when it is valid. */
export function curriculumProblem(c: { readonly [K in keyof Curriculum]?: unknown }): string | undefined {
  for (const key of ["alphaStart", "alphaEnd", "betaStart", "betaEnd"] as const) {
    const value = c[key];
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0) return `${key}: expected a finite number >= 0`;
  }
  if (!CURRICULUM_SCHEDULES.some((schedule) => schedule === c.schedule)) return `schedule: expected one of ${CURRICULUM_SCHEDULES.join(", ")}`;
  if (typeof c.warmupFraction !== "number" || !(c.warmupFraction >= 0 && c.warmupFraction <= 1)) return "warmupFraction: expected a number from 0 to 1";
  if (typeof c.steps !== "number" || !Number.isInteger(c.steps) || c.steps < 1) return "steps: expected an integer of at least 1";
  return undefined;
}

function progress(c: Curriculum, step: number, totalSteps: number): number {
  const window = c.warmupFraction * totalSteps;
  return window <= 0 ? 1 : Math.min(1, step / window);
}

function shape(c: Curriculum, p: number): number {
  if (c.schedule === "linear") return p;
  if (c.schedule === "cosine") return p <= 0 ? 0 : p >= 1 ? 1 : (1 - Math.cos(Math.PI * p)) / 2;
  return Math.floor(p * c.steps) / c.steps;
}

const interpolate = (start: number, end: number, w: number) => (w >= 1 ? end : start + (end - start) * w);

/** (α, β) after `step` of `totalSteps` optimizer steps. */
export function curriculumWeights(c: Curriculum, step: number, totalSteps: number): { alpha: number; beta: number } {
  const w = shape(c, progress(c, step, totalSteps));
  return { alpha: interpolate(c.alphaStart, c.alphaEnd, w), beta: interpolate(c.betaStart, c.betaEnd, w) };
}

/** Evenly spaced samples, the end of the move and both sides of each jump: the points to plot. */
export function curriculumPreview(c: Curriculum, totalSteps: number, points = 50): CurriculumPoint[] {
  const steps = new Set<number>();
  for (let i = 0; i < points; i++) steps.add(pythonRound((i * totalSteps) / (points - 1)));
  const window = c.warmupFraction * totalSteps;
  steps.add(Math.ceil(window));
  if (c.schedule === "step") {
    for (let k = 1; k <= c.steps; k++) {
      const first = Math.ceil((window * k) / c.steps);
      steps.add(first - 1).add(first);
    }
  }
  return [...steps]
    .filter((s) => s >= 0 && s <= totalSteps)
    .sort((a, b) => a - b)
    .map((step) => ({ step, ...curriculumWeights(c, step, totalSteps) }));
}

/** Python's round(): halves go to the even neighbour, so both previews sample the same steps. */
function pythonRound(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** What decides a run's length: the numbers of the trainer's step count. */
export interface RunLength {
  /** Training examples (tasks) over all processes. */
  examples: number;
  epochs: number;
  batchSize: number;
  processes: number;
  gradAccum: number;
  /** Optimizer steps that end the run, when set (it wins over epochs, as in the trainer). */
  maxSteps: number | null;
}

/** Optimizer steps of a run: max_steps when set; else a step takes batch_size x grad_accum examples on each process. */
export function runSteps(r: RunLength): number {
  if (typeof r.maxSteps === "number" && Number.isFinite(r.maxSteps) && r.maxSteps >= 1) return Math.floor(r.maxSteps);
  const per = Math.max(1, r.batchSize || 1) * Math.max(1, r.gradAccum || 1) * Math.max(1, r.processes || 1);
  return Math.max(1, Math.ceil((Math.max(0, r.examples) * (r.epochs > 0 ? r.epochs : 1)) / per));
}
