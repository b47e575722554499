// Generating a CoT set: ask the source for every task that has no record yet, parse and validate
// each answer, append it to the store the moment it is ready, and, when a verifier is given, run
// the teacher's code against the task's tests and append the verdict. Running again resumes: a
// task whose last record is a real answer is skipped, one whose teacher failed is asked again, and
// a valid answer with unjudged code is only verified.
//
// A bounded pool of workers pulls tasks one at a time, so memory does not grow with the dataset:
// a task is loaded when a worker takes it and dropped once its record is written.
import type { DatasetIndex } from "../datasets/api";
import type { Task } from "../datasets/task";
import { parseTeacherAnswer } from "./parse";
import type { ReasoningSource } from "./sources";
import { bucketOf, type CotBucket, type CotSummary } from "./stats";
import type { CotRecord, CotStore } from "./store";
import { TeacherError, type TokenUsage } from "./teacher";
import { DEFAULT_COT_LIMITS, validateCot, type CotLimits } from "./validate";
import { withVerdict, type Verifier } from "./verify";

/** The tasks of a dataset, by index: ids up front, each task loaded when it is its turn. */
export interface TaskSource {
  readonly ids: readonly string[];
  task(index: number): Promise<Task>;
}

export function datasetTasks(dataset: DatasetIndex): TaskSource {
  return { ids: dataset.summaries.map((s) => s.id), task: (index) => dataset.task(index) };
}

export interface GenerateOptions {
  source: ReasoningSource;
  /** Workers asking at once (default 8); the teacher client has its own limit too. */
  concurrency?: number;
  /** Asks again after an answer with no JSON or a truncated one, this many times (default 2). */
  maxReasks?: number;
  /** Only the first `limit` tasks of the source take part (a rerun with the same limit resumes them). */
  limit?: number;
  verifier?: Verifier;
  /** Teacher code judged per sandbox run (default 32). */
  verifyBatch?: number;
  limits?: CotLimits;
  signal?: AbortSignal;
  onProgress?: (progress: GenerateProgress) => void;
  now?: () => Date;
}

export interface GenerateProgress {
  /** Tasks asked in this run so far, and how many this run asks in all. */
  done: number;
  total: number;
  /** Tasks already in the set when the run began (resume skipped them). */
  skipped: number;
  /** Of `done`: the teacher gave no usable answer (see `failures`), or the answer was invalid. */
  failed: number;
  invalid: number;
  /** Teacher code judged so far, and how many of those passed. */
  verifiedDone: number;
  verifiedPassed: number;
  /** Tasks a second, over this run. */
  rate: number;
  /** Seconds left at that rate; null before the first answer. */
  etaS: number | null;
  /** The last task finished, with its bucket and, when it failed or is invalid, why. */
  last?: { taskId: string; bucket: CotBucket; reason?: string };
}

export interface GenerateReport {
  summary: CotSummary;
  asked: number;
  skipped: number;
  verified: number;
  /** The tasks whose teacher failed in this run, with the reason (resume asks them again). */
  failures: { taskId: string; reason: string }[];
  /** Why verification stopped, when the sandbox could not run; generation went on without it. */
  verificationError?: string;
  cancelled: boolean;
  seconds: number;
}

interface Plan {
  ask: number[];
  verifyOnly: number[];
  skipped: number;
}

/** Which tasks this run asks, which it only verifies, and how many it leaves as they are. */
export function planRun(ids: readonly string[], store: CotStore, verify: boolean, limit = Infinity): Plan {
  const plan: Plan = { ask: [], verifyOnly: [], skipped: 0 };
  const count = Math.min(ids.length, limit);
  for (let index = 0; index < count; index++) {
    const entry = store.entry(ids[index]!);
    if (!entry || entry.bucket === "failed") plan.ask.push(index);
    else if (verify && entry.hasCode && !entry.verified && entry.review !== "rejected") plan.verifyOnly.push(index);
    else plan.skipped++;
  }
  return plan;
}

export async function generateCots(tasks: TaskSource, store: CotStore, options: GenerateOptions): Promise<GenerateReport> {
  const started = Date.now();
  const now = options.now ?? (() => new Date());
  const plan = planRun(tasks.ids, store, options.verifier !== undefined, options.limit);
  const progress: GenerateProgress = { done: 0, total: plan.ask.length, skipped: plan.skipped, failed: 0, invalid: 0, verifiedDone: 0, verifiedPassed: 0, rate: 0, etaS: null };
  const failures: GenerateReport["failures"] = [];
  const report = () => {
    const seconds = (Date.now() - started) / 1000;
    progress.rate = seconds > 0 ? progress.done / seconds : 0;
    progress.etaS = progress.rate > 0 ? (progress.total - progress.done) / progress.rate : null;
    options.onProgress?.({ ...progress });
  };
  const verification = options.verifier ? new VerificationQueue(options.verifier, store, options.verifyBatch ?? 32, now, options.signal, (passed) => {
    progress.verifiedDone++;
    if (passed) progress.verifiedPassed++;
    report();
  }) : undefined;

  for (const index of plan.verifyOnly) {
    const record = await store.get(tasks.ids[index]!);
    if (record) verification!.add(await tasks.task(index), record);
  }
  const finished = (task: Task, record: CotRecord) => {
    const bucket = bucketOf(record);
    progress.done++;
    if (bucket === "failed") {
      progress.failed++;
      failures.push({ taskId: task.id, reason: record.failure! });
    } else if (bucket === "invalid") progress.invalid++;
    progress.last = { taskId: task.id, bucket, ...(bucket === "failed" || bucket === "invalid" ? { reason: record.failure ?? record.problems[0] ?? "" } : {}) };
    report();
    if (verification && record.status === "valid" && record.teacherCode) verification.add(task, record);
  };
  // A worker asks for its next task while its last record is still being written: the store
  // writes the records of all workers in one batch, and the teacher never waits for the disk.
  const writes = new Set<Promise<void>>();
  // A task that cannot be read or a record that cannot be written stops every worker; what was
  // written stays, and the error is the run's.
  let stopped: { error: unknown } | undefined;
  let next = 0;
  const worker = async () => {
    while (next < plan.ask.length && !options.signal?.aborted && !stopped) {
      const index = plan.ask[next++]!;
      try {
        const task = await tasks.task(index);
        const record = await reasonFor(task, options, now());
        if (options.signal?.aborted && record.failure !== undefined) return; // a cancelled request is not a failure
        const write = store.append(record).then(
          () => finished(task, record),
          (error: unknown) => void (stopped ??= { error }),
        );
        writes.add(write);
        void write.then(() => writes.delete(write));
      } catch (error) {
        stopped ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 8) }, worker));
  await Promise.all(writes);
  if (stopped) throw stopped.error;
  await verification?.flush();
  const verificationError = verification?.error;
  return {
    summary: store.summary(),
    asked: progress.done,
    skipped: plan.skipped,
    verified: progress.verifiedDone,
    failures,
    ...(verificationError ? { verificationError } : {}),
    cancelled: options.signal?.aborted ?? false,
    seconds: (Date.now() - started) / 1000,
  };
}

/**
 * One task's record: the answer parsed and validated. An answer with no JSON, or cut off, is asked
 * for again up to maxReasks times, then recorded as invalid with why; a request that failed for
 * good (after the client's own retries) is recorded with `failure`, so a later run asks again.
 */
export async function reasonFor(task: Task, options: Pick<GenerateOptions, "source" | "maxReasks" | "limits" | "signal">, createdAt: Date): Promise<CotRecord> {
  const { source } = options;
  const usage: TokenUsage = { promptTokens: 0, completionTokens: 0 };
  let attempts = 0;
  const base = { taskId: task.id, teacher: source.identity, createdAt: createdAt.toISOString() };
  const reasks = options.maxReasks ?? 2;
  const retried: string[] = [];
  for (let ask = 0; ; ask++) {
    let answer;
    try {
      answer = await source.ask(task, options.signal);
    } catch (err) {
      const failure = err instanceof TeacherError ? err.message : `${source.identity.model}: ${err instanceof Error ? err.message : String(err)}`;
      attempts += err instanceof TeacherError ? Math.max(1, err.attempts) : 1;
      return { ...base, ...emptySections(), raw: "", status: "invalid", problems: [...retried, `teacher: ${failure}`], usage, attempts, failure };
    }
    attempts += answer.attempts;
    usage.promptTokens += answer.usage.promptTokens;
    usage.completionTokens += answer.usage.completionTokens;
    const parsed = parseTeacherAnswer(answer.text);
    const cutOff = answer.finishReason === "length";
    if (parsed.ok) {
      const checked = validateCot(parsed.value, cutOff ? [...retried, ...parsed.problems, "answer: the teacher hit max tokens, yet its JSON closed"] : [...retried, ...parsed.problems], options.limits ?? DEFAULT_COT_LIMITS);
      return { ...base, ...checked.sections, raw: answer.text, status: checked.status, problems: checked.problems, usage, attempts };
    }
    const kind = cutOff ? "truncated" : parsed.kind;
    const why = cutOff ? "the answer was cut off at max tokens" : parsed.message;
    if (kind === "malformed" || ask >= reasks) {
      const asks = ask + 1;
      return { ...base, ...emptySections(), raw: answer.text, status: "invalid", problems: [...retried, `answer: ${kind}: ${why}${asks > 1 ? ` (after ${asks} asks)` : ""}`, ...parsed.problems], usage, attempts };
    }
    retried.push(`answer ${ask + 1}: ${kind}: ${why}; asked again`);
  }
}

function emptySections(): Pick<CotRecord, "intent" | "steps" | "formulas" | "edgeCases"> {
  return { intent: "", steps: [], formulas: [], edgeCases: [] };
}

/**
 * Teacher code waiting for the sandbox, judged a batch at a time while generation goes on (one
 * sandbox run at a time). Each verdict is appended as a newer record of its task. When the sandbox
 * cannot run (no Python, a broken sidecar) verification stops and generation goes on: the records
 * stay unjudged, and a later run with verification judges them.
 */
class VerificationQueue {
  private pending: { task: Task; record: CotRecord }[] = [];
  private running: Promise<void> = Promise.resolve();
  error: string | undefined;

  constructor(
    private readonly verifier: Verifier,
    private readonly store: CotStore,
    private readonly batchSize: number,
    private readonly now: () => Date,
    private readonly signal: AbortSignal | undefined,
    private readonly onVerdict: (passed: boolean) => void,
  ) {}

  add(task: Task, record: CotRecord): void {
    if (this.error) return;
    this.pending.push({ task, record });
    if (this.pending.length >= this.batchSize) this.startBatch();
  }

  async flush(): Promise<void> {
    this.startBatch();
    await this.running;
  }

  private startBatch(): void {
    const batch = this.pending;
    this.pending = [];
    if (!batch.length) return;
    this.running = this.running.then(async () => {
      if (this.error || this.signal?.aborted) return;
      try {
        const verdicts = await this.verifier.verify(batch, this.signal);
        for (const { task, record } of batch) {
          const verdict = verdicts.get(task.id);
          if (!verdict) continue;
          await this.store.append(withVerdict(record, verdict, this.now()));
          this.onVerdict(verdict.status === "passed");
        }
      } catch (err) {
        if (!this.signal?.aborted) this.error = err instanceof Error ? err.message : String(err);
      }
    });
  }
}
