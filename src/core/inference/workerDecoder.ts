// The student's decoder (decoder.ts) in a worker thread, behind the same StudentDecoder
// interface: the extension host's event loop stays free while it generates. Streaming deltas
// come back through postMessage, an AbortSignal becomes a "cancel" message, errors are re-thrown
// here with their message, and dispose() lets the generation in flight finish, then ends the
// worker.
//
// The worker's script: decoderWorker.ts beside this file when running from source (tests and
// benches under tsx, started with tsx's loader), dist/decoderWorker.js beside the bundle
// (dist/extension.js, dist/cli.js: esbuild.mjs builds it as a third entry point).
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { DecoderInfo, GenerateHooks, GenerateRequest, GenerationResult, LoadDecoderOptions, StudentDecoder } from "./decoder";

export interface DecoderWorkerData {
  folder: string;
  options: LoadDecoderOptions;
}

export type ToDecoderWorker = { type: "generate"; id: number; request: GenerateRequest } | { type: "cancel"; id: number } | { type: "dispose" };

export type FromDecoderWorker =
  | { type: "ready"; info: DecoderInfo }
  | { type: "failed"; message: string }
  | { type: "text"; id: number; delta: string; tokenIds: number[] }
  | { type: "result"; id: number; result: GenerationResult }
  | { type: "error"; id: number; message: string }
  | { type: "disposed" };

/**
 * How to start the worker: the bundle's dist/decoderWorker.js, or from source (tests and benches
 * under tsx) decoderWorker.ts, required through tsx's CommonJS hook (Node 20 applies no --import
 * loader in a worker thread).
 */
export function decoderWorkerScript(): { path: string; code?: string } {
  // In the CommonJS bundle, esbuild.mjs defines import.meta.url as the bundle's own URL.
  const here = fileURLToPath(import.meta.url);
  if (!here.endsWith(".ts")) return { path: join(dirname(here), "decoderWorker.js") };
  const path = join(dirname(here), "decoderWorker.ts");
  const tsx = createRequire(here).resolve("tsx/cjs/api");
  return { path, code: `require(${JSON.stringify(tsx)}).register(); require(${JSON.stringify(path)});` };
}

interface Pending {
  resolve(result: GenerationResult): void;
  reject(error: Error): void;
  hooks: GenerateHooks;
  unlisten(): void;
}

/** Starts a worker thread and loads the student there; rejects with the loader's message. */
export async function startDecoderWorker(folder: string, options: LoadDecoderOptions = {}): Promise<StudentDecoder> {
  const script = decoderWorkerScript();
  if (!existsSync(script.path)) throw new Error(`${script.path}: the decoder's worker script is missing (build with "node esbuild.mjs")`);
  const data: DecoderWorkerData = { folder, options };
  const worker = script.code === undefined ? new Worker(script.path, { workerData: data }) : new Worker(script.code, { eval: true, workerData: data, execArgv: [] });
  const info = await new Promise<DecoderInfo>((resolve, reject) => {
    const onMessage = (message: FromDecoderWorker): void => {
      if (message.type !== "ready" && message.type !== "failed") return;
      cleanup();
      if (message.type === "ready") resolve(message.info);
      else reject(new Error(message.message));
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(new Error(`decoder worker for ${folder}: ${error.message}`, { cause: error }));
    };
    const onExit = (code: number): void => {
      cleanup();
      reject(new Error(`decoder worker for ${folder}: exited (code ${code}) before it loaded the model`));
    };
    const cleanup = (): void => {
      worker.off("message", onMessage).off("error", onError).off("exit", onExit);
    };
    worker.on("message", onMessage).on("error", onError).on("exit", onExit);
  }).catch(async (error: unknown) => {
    await worker.terminate();
    throw error;
  });
  return new WorkerDecoder(info, worker);
}

class WorkerDecoder implements StudentDecoder {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private disposing: Promise<void> | undefined;
  private failure: Error | undefined;

  constructor(
    readonly info: DecoderInfo,
    private readonly worker: Worker,
  ) {
    worker.on("message", (message: FromDecoderWorker) => this.onMessage(message));
    worker.on("error", (error: Error) => this.fail(new Error(`decoder worker for ${info.folder}: ${error.message}`, { cause: error })));
    worker.on("exit", (code: number) => this.fail(new Error(`decoder worker for ${info.folder}: exited (code ${code})`)));
    // An idle worker does not keep the process alive; one with a generation in flight does.
    worker.unref();
  }

  generate(request: GenerateRequest, hooks: GenerateHooks = {}): Promise<GenerationResult> {
    if (this.disposing) return Promise.reject(new Error(`decoder ${this.info.folder}: already disposed`));
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<GenerationResult>((resolve, reject) => {
      const { signal } = hooks;
      const onAbort = (): void => this.post({ type: "cancel", id });
      signal?.addEventListener("abort", onAbort, { once: true });
      this.pending.set(id, { resolve, reject, hooks, unlisten: () => signal?.removeEventListener("abort", onAbort) });
      this.worker.ref();
      // Requests are plain data: only the fields a GenerateRequest has travel.
      this.post({ type: "generate", id, request: plainRequest(request) });
      if (signal?.aborted) onAbort();
    });
  }

  dispose(): Promise<void> {
    this.disposing ??= new Promise<void>((resolve) => {
      if (this.failure) {
        resolve();
        return;
      }
      const onMessage = (message: FromDecoderWorker): void => {
        if (message.type === "disposed") done();
      };
      const done = (): void => {
        this.worker.off("message", onMessage).off("exit", done);
        resolve();
      };
      this.worker.on("message", onMessage).on("exit", done);
      this.worker.ref();
      this.post({ type: "dispose" });
    }).then(async () => {
      await this.worker.terminate();
    });
    return this.disposing;
  }

  private post(message: ToDecoderWorker): void {
    if (!this.failure) this.worker.postMessage(message);
  }

  private onMessage(message: FromDecoderWorker): void {
    if (message.type !== "text" && message.type !== "result" && message.type !== "error") return;
    const pending = this.pending.get(message.id);
    if (!pending) return;
    if (message.type === "text") {
      pending.hooks.onText?.(message.delta, message.tokenIds);
      return;
    }
    this.pending.delete(message.id);
    if (this.pending.size === 0 && !this.disposing) this.worker.unref();
    pending.unlisten();
    if (message.type === "result") pending.resolve(message.result);
    else pending.reject(new Error(message.message));
  }

  /** The worker died: every generation waiting on it fails. */
  private fail(error: Error): void {
    if (this.disposing && !this.failure) {
      // A worker ended by dispose(): nothing was waiting on it.
      this.failure = new Error(`decoder ${this.info.folder}: already disposed`);
    }
    this.failure ??= error;
    for (const pending of this.pending.values()) {
      pending.unlisten();
      pending.reject(error);
    }
    this.pending.clear();
  }
}

function plainRequest(request: GenerateRequest): GenerateRequest {
  const { prompt, addSpecialTokens, maxNewTokens, temperature, topP, seed, stop, useCache } = request;
  const entries = Object.entries({ prompt, addSpecialTokens, maxNewTokens, temperature, topP, seed, stop, useCache }).filter(([, v]) => v !== undefined);
  return Object.fromEntries(entries) as unknown as GenerateRequest;
}
