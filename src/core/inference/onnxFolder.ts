// What the encoder's and the student's export folders have in common (the sidecar's
// export/encoder.py and export/decoder.py write both): model.onnx, the tokenizer's two JSON
// files and export.json; the onnxruntime-node session on the CPU and the tokenizer that go with
// them. Every problem names the folder or the file.
import { Tokenizer } from "@huggingface/tokenizers";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { InferenceSession } from "onnxruntime-node";

export const MODEL_FILE = "model.onnx";
export const EXPORT_RECORD_FILE = "export.json";
const REQUIRED_FILES = [MODEL_FILE, "tokenizer.json", "tokenizer_config.json", EXPORT_RECORD_FILE] as const;

export interface OnnxFolder {
  folder: string;
  modelPath: string;
  /** export.json, parsed as an object; each kind of folder validates its own fields. */
  recordPath: string;
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
}

/** `what`: "encoder" or "decoder", for messages; `howToExport`: the command that writes one. */
export function readOnnxFolder(folder: string, what: string, howToExport: string): OnnxFolder {
  if (!existsSync(folder) || !statSync(folder).isDirectory()) {
    throw new Error(`${folder}: no such ${what} folder (${howToExport})`);
  }
  for (const name of REQUIRED_FILES) {
    if (!existsSync(join(folder, name))) throw new Error(`${join(folder, name)}: missing from the ${what} folder ${folder} (${howToExport})`);
  }
  return {
    folder,
    modelPath: join(folder, MODEL_FILE),
    recordPath: join(folder, EXPORT_RECORD_FILE),
    tokenizerJson: readJsonObject(join(folder, "tokenizer.json")),
    tokenizerConfig: readJsonObject(join(folder, "tokenizer_config.json")),
  };
}

export function readJsonObject(path: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new Error(`${path}: not JSON: ${(error as Error).message}`);
  }
  if (!isObject(value)) throw new Error(`${path}: expected a JSON object`);
  return value;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The folder's tokenizer, encoding and decoding as transformers does. */
export function loadTokenizer(files: Pick<OnnxFolder, "folder" | "tokenizerJson" | "tokenizerConfig">): Tokenizer {
  try {
    // transformers cleans up spaces when decoding (" !" -> "!") only when the config asks;
    // @huggingface/tokenizers would by default, and turn `a != b` into `a!= b`.
    const config = { ...files.tokenizerConfig, clean_up_tokenization_spaces: files.tokenizerConfig.clean_up_tokenization_spaces === true };
    return new Tokenizer(files.tokenizerJson, config);
  } catch (error) {
    throw new Error(`${files.folder}/tokenizer.json: @huggingface/tokenizers cannot load it: ${(error as Error).message}`);
  }
}

type Onnxruntime = typeof import("onnxruntime-node");
let onnxruntimeModule: Promise<Onnxruntime> | undefined;

/** onnxruntime-node, loaded on first use (not at activation) and then kept: one import per process, not per call. */
export function onnxruntime(): Promise<Onnxruntime> {
  onnxruntimeModule ??= import("onnxruntime-node");
  return onnxruntimeModule;
}

/** A CPU session that runs one call at a time (a window, a decode step): nothing for inter-op threads to do. */
export async function openCpuSession(modelPath: string, intraOpNumThreads?: number): Promise<InferenceSession> {
  const ort = await onnxruntime();
  try {
    return await ort.InferenceSession.create(modelPath, {
      executionProviders: ["cpu"],
      graphOptimizationLevel: "all",
      executionMode: "sequential",
      interOpNumThreads: 1,
      ...(intraOpNumThreads === undefined ? {} : { intraOpNumThreads }),
    });
  } catch (error) {
    throw new Error(`${modelPath}: onnxruntime cannot load it: ${(error as Error).message}`);
  }
}

/**
 * One session's calls, one after another: each already uses every intra-op thread, and
 * dispose() must wait for the last one before it releases the session.
 */
export class SerialSession {
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;

  /** `name`: what messages call it ("decoder <folder>"). */
  constructor(
    readonly session: InferenceSession,
    private readonly name: string,
  ) {}

  /** Runs `task` once the calls before it are done; rejects once disposed. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.queue.then(() => {
      this.checkOpen();
      return task();
    });
    this.queue = result.catch(() => undefined);
    return result;
  }

  checkOpen(): void {
    if (this.disposed) throw new Error(`${this.name}: already disposed`);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.queue.catch(() => undefined);
    await this.session.release();
  }
}
