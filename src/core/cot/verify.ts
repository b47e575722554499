// Verification: the teacher's own code run against the task's tests in the sidecar's sandbox (its
// eval/execute, the same one evaluations use). A pass makes the record `verified`; anything else
// makes it `failed-verification`, with the failing test and the sandbox's message. How the sandbox
// is reached is the caller's: the editor calls the running sidecar, the CLI starts
// `python -m codistill eval execute`.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Task } from "../datasets/task";
import { serializeTask } from "../datasets/serialize";
import { readEvalResults } from "../evaluation/results";
import type { CotRecord, VerificationStatus } from "./store";

export interface Verdict {
  status: VerificationStatus;
  failedTest: number | null;
  message: string | null;
}

export interface Verifier {
  /** A verdict per task id of `items` (one whose code did not run is left out). */
  verify(items: readonly { task: Task; record: CotRecord }[], signal?: AbortSignal): Promise<Map<string, Verdict>>;
}

/** The files of one sandbox run: tasks.jsonl and samples.jsonl in, results.json written in outDir. */
export interface ExecuteJob {
  tasksPath: string;
  samplesPath: string;
  outDir: string;
}

/** Runs one job in the sandbox and answers the results.json it wrote. */
export type ExecuteSamples = (job: ExecuteJob, signal?: AbortSignal) => Promise<string>;

/** A verifier over the sandbox: one eval/execute run per batch, in a scratch folder under `workDir`. */
export function sandboxVerifier(execute: ExecuteSamples, workDir: string): Verifier {
  return {
    async verify(items, signal) {
      await mkdir(workDir, { recursive: true });
      const dir = await mkdtemp(join(workDir, "verify-"));
      try {
        const job: ExecuteJob = { tasksPath: join(dir, "tasks.jsonl"), samplesPath: join(dir, "samples.jsonl"), outDir: join(dir, "out") };
        await writeFile(job.tasksPath, items.map(({ task }) => `${serializeTask(task)}\n`).join(""));
        await writeFile(job.samplesPath, items.map(({ task, record }) => `${JSON.stringify({ task_id: task.id, solution: record.teacherCode })}\n`).join(""));
        const results = await readEvalResults(await execute(job, signal));
        const verdicts = new Map<string, Verdict>();
        for (const { taskId, samples } of results.tasks) {
          const sample = samples[0];
          if (sample) verdicts.set(taskId, { status: sample.status, failedTest: sample.failedTest, message: sample.message });
        }
        return verdicts;
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

/** The record again, judged: verified on a pass, failed-verification with the failing test otherwise. */
export function withVerdict(record: CotRecord, verdict: Verdict, at: Date): CotRecord {
  const passed = verdict.status === "passed";
  const problems = record.problems.filter((p) => !p.startsWith("verification: "));
  if (!passed) problems.unshift(`verification: ${describeVerdict(verdict)}`);
  return { ...record, createdAt: at.toISOString(), status: passed ? "verified" : "failed-verification", problems, verification: verdict };
}

export function describeVerdict(verdict: Verdict): string {
  const test = verdict.failedTest === null ? "" : ` on test ${verdict.failedTest}`;
  return `${verdict.status}${test}${verdict.message ? `: ${verdict.message}` : ""}`;
}
