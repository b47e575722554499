// Scoring in the background for the evaluation panel: results written before the "score" phase
// existed, or by the headless Python CLI, have no (or a stale) structure.json. The panel shows
// "scoring…" for them and hears when each one is done; one folder is scored at a time, so the
// extension host keeps its other work going.
import { errorMessage } from "../datasets/errors";
import { scoreEvalDir, structureInputs, structureStatus, type StructureState } from "./structure";

export interface StructureJobsOptions {
  /** Told after each folder is scored or failed: the panel re-renders. */
  onSettled: (dir: string, error?: Error) => void;
}

export class StructureJobs {
  private readonly queue: { dir: string; inputs: string }[] = [];
  private running: { dir: string; inputs: string } | undefined;
  /** The last failure per folder and the inputs it failed on: not retried until those change. */
  private readonly failures = new Map<string, { inputs: string; message: string }>();
  private readonly abort = new AbortController();

  constructor(private readonly options: StructureJobsOptions) {}

  /**
   * The folder's scores as they stand, queueing it for scoring when structure.json is missing or
   * stale. `busy` folders (an evaluation is writing them, and scores them itself) are not queued.
   */
  async state(dir: string, busy = false): Promise<StructureState> {
    let status;
    try {
      status = await structureStatus(structureInputs(dir));
    } catch (err) {
      return { state: "unavailable", reason: `cannot read the evaluation's files: ${errorMessage(err)}` };
    }
    if (status.state === "current") return { state: "scored", structure: status.structure };
    if (status.state === "unscorable") return { state: "unavailable", reason: status.reason };
    if (busy || this.isQueued(dir)) return { state: "pending" };
    const failure = this.failures.get(dir);
    if (failure?.inputs === status.inputs) return { state: "unavailable", reason: `scoring failed: ${failure.message}` };
    this.queue.push({ dir, inputs: status.inputs });
    void this.pump();
    return { state: "pending" };
  }

  /** Whether any folder is queued or being scored. */
  get idle(): boolean {
    return !this.running && this.queue.length === 0;
  }

  private isQueued(dir: string): boolean {
    return this.running?.dir === dir || this.queue.some((job) => job.dir === dir);
  }

  private async pump(): Promise<void> {
    if (this.running || this.abort.signal.aborted) return;
    const job = this.queue.shift();
    if (!job) return;
    this.running = job;
    let error: Error | undefined;
    try {
      await scoreEvalDir(structureInputs(job.dir), { signal: this.abort.signal });
      this.failures.delete(job.dir);
    } catch (err) {
      error = err instanceof Error ? err : new Error(String(err));
      this.failures.set(job.dir, { inputs: job.inputs, message: error.message });
    } finally {
      this.running = undefined;
    }
    if (this.abort.signal.aborted) return;
    this.options.onSettled(job.dir, error);
    void this.pump();
  }

  /** Stops the folder being scored (its old structure.json stays) and drops the queue. */
  dispose(): void {
    this.abort.abort();
    this.queue.length = 0;
  }
}
