// Generating with the student in the editor: the folder the sidecar's export/decoder.py writes (the
// causal LM with its LoRA adapter merged, as ONNX in float32, float16, int8 or int4), run by
// onnxruntime-node, tokenized by @huggingface/tokenizers from the folder's own tokenizer.json.
//
// The loop: the prompt's tokens (with the tokenizer's post-processor, as eval and training feed a
// completion prompt) go through the model once from an empty past (the prefill); then each new
// token alone, with the presents of the step before as its past, position_ids the past's length
// and an attention mask of ones over past + new. fp16 exports take float16 pasts: the presents
// are carried over as onnxruntime returns them, never converted. Without the cache (useCache
// false, for the bench) every step runs the whole sequence from an empty past.
//
// The next token: argmax (greedy, temperature 0), or temperature + top-p from a generator seeded
// with `seed` (sampling.ts). Generation ends at an end-of-sequence id (not part of the text), a
// stop sequence (the text ends right before it), maxNewTokens, or the abort signal (what was
// generated so far comes back, finishReason "cancelled").
//
// Streaming: each new id is detokenized incrementally (detokenize.ts: an incomplete UTF-8
// sequence is held back) and the text goes through the stop matcher, which holds back what may
// be the start of a stop sequence (stops.ts). `text` is exactly the concatenation of the deltas.
import type { Tokenizer } from "@huggingface/tokenizers";
import type { InferenceSession, Tensor } from "onnxruntime-node";
import { readDecoderFolder, type DecoderDtype, type DecoderFolder } from "./decoderFolder";
import { IncrementalDetokenizer } from "./detokenize";
import { loadTokenizer, onnxruntime, openCpuSession, SerialSession } from "./onnxFolder";
import { checkSampling, chooseToken, seededRandom } from "./sampling";
import { StopMatcher } from "./stops";

export interface DecoderInfo {
  folder: string;
  modelPath: string;
  numLayers: number;
  vocabSize: number;
  eosTokenIds: number[];
  bosTokenId: number | null;
  dtype: DecoderDtype;
  quantize: string | null;
  /** export.json's optional `prompt` object, as read. */
  prompt?: unknown;
}

export interface GenerateRequest {
  prompt: string;
  /** Default true: the tokenizer's post-processor (BOS) as eval/training feed a completion prompt. */
  addSpecialTokens?: boolean;
  maxNewTokens: number;
  /** 0 or absent: greedy. */
  temperature?: number;
  topP?: number;
  /** The sampling generator's seed (default 0). */
  seed?: number;
  stop?: string[];
  /** Default true; false re-runs the whole sequence each step (bench only). */
  useCache?: boolean;
}

export type FinishReason = "eos" | "stop" | "length" | "cancelled";

export interface GenerationResult {
  /** The continuation only, cut before a stop sequence. */
  text: string;
  /** The new token ids (up to the one that completed a stop sequence; no end-of-sequence id). */
  tokenIds: number[];
  promptTokens: number;
  newTokens: number;
  /** From the start of the generation (after any queued one) to the first new token. */
  firstTokenMs: number;
  /** newTokens over the seconds from the start to the last token (each token is one model run, the prefill included). */
  tokensPerS: number;
  finishReason: FinishReason;
}

export interface GenerateHooks {
  signal?: AbortSignal;
  /** Text as it is generated: the deltas concatenate to the result's text; tokenIds: the new ids so far. */
  onText?: (delta: string, tokenIds: number[]) => void;
}

export interface StudentDecoder {
  readonly info: DecoderInfo;
  /** One generation at a time: calls wait for the one before. */
  generate(request: GenerateRequest, hooks?: GenerateHooks): Promise<GenerationResult>;
  /** Releases the onnxruntime session once the generation in flight is done. */
  dispose(): Promise<void>;
}

export interface LoadDecoderOptions {
  /** onnxruntime's intra-op threads; default: onnxruntime's own (the machine's physical cores). */
  intraOpNumThreads?: number;
}

/** Loads an exported student folder once; errors name the folder or the file that is wrong. */
export async function loadDecoder(folder: string, options: LoadDecoderOptions = {}): Promise<StudentDecoder> {
  const files = readDecoderFolder(folder);
  const tokenizer = loadTokenizer(files);
  const session = await openCpuSession(files.modelPath, options.intraOpNumThreads);
  try {
    checkSignature(session, files);
  } catch (error) {
    await session.release();
    throw error;
  }
  return new OnnxDecoder(decoderInfo(files), files, tokenizer, session);
}

/** The request's problems, each naming its field; throws RangeError. */
export function checkGenerateRequest(request: GenerateRequest): void {
  if (typeof request.prompt !== "string") throw new RangeError(`prompt: expected a string, got ${typeof request.prompt}`);
  if (!Number.isInteger(request.maxNewTokens) || request.maxNewTokens < 1) {
    throw new RangeError(`maxNewTokens: expected a positive integer, got ${request.maxNewTokens}`);
  }
  try {
    checkSampling(request);
  } catch (error) {
    throw new RangeError((error as Error).message);
  }
  if (request.seed !== undefined && !Number.isSafeInteger(request.seed)) throw new RangeError(`seed: expected an integer, got ${request.seed}`);
  if (request.stop !== undefined && (!Array.isArray(request.stop) || request.stop.some((s) => typeof s !== "string" || s === ""))) {
    throw new RangeError("stop: expected a list of non-empty strings");
  }
}

function checkSignature(session: InferenceSession, files: DecoderFolder): void {
  const { inputs, outputs } = files.record;
  const missingOutputs = outputs.filter((name) => !session.outputNames.includes(name));
  if ([...session.inputNames].sort().join(",") !== [...inputs].sort().join(",") || missingOutputs.length) {
    throw new Error(
      `${files.modelPath}: expected inputs ${inputs.join(", ")} and outputs ${outputs.join(", ")} (as export.json says), ` +
        `found inputs ${session.inputNames.join(", ")} and outputs ${session.outputNames.join(", ")}`,
    );
  }
}

function decoderInfo(files: DecoderFolder): DecoderInfo {
  const { record } = files;
  return {
    folder: files.folder,
    modelPath: files.modelPath,
    numLayers: record.numLayers,
    vocabSize: record.vocabSize,
    eosTokenIds: record.eosTokenIds,
    bosTokenId: record.bosTokenId,
    dtype: record.dtype,
    quantize: record.quantize,
    ...(record.prompt === undefined ? {} : { prompt: record.prompt }),
  };
}

/** A float16 value (its bits) as a number. */
function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** The logits of the last position of `[1, sequence, vocab]`, as numbers. */
function lastLogits(logits: Tensor, vocab: number, modelPath: string): ArrayLike<number> {
  const dims = logits.dims;
  if (dims.length !== 3 || dims[2] !== vocab) throw new Error(`${modelPath}: logits: expected [1, sequence, ${vocab}], got [${dims.join(", ")}]`);
  const start = (dims[1]! - 1) * vocab;
  if (logits.type === "float32") return (logits.data as Float32Array).subarray(start, start + vocab);
  if (logits.type === "float16") {
    const data = logits.data as unknown as ArrayLike<number> & { subarray(a: number, b: number): ArrayLike<number> };
    const row = data.subarray(start, start + vocab);
    // Where onnxruntime returns the raw bits (Uint16Array); a Float16Array already holds numbers.
    return row instanceof Uint16Array ? Float32Array.from(row, halfToFloat) : row;
  }
  throw new Error(`${modelPath}: logits: expected float32 or float16 values, got ${logits.type}`);
}

class OnnxDecoder implements StudentDecoder {
  private readonly calls: SerialSession;
  private readonly eos: Set<number>;

  constructor(
    readonly info: DecoderInfo,
    private readonly files: DecoderFolder,
    private readonly tokenizer: Tokenizer,
    private readonly session: InferenceSession,
  ) {
    this.eos = new Set(info.eosTokenIds);
    this.calls = new SerialSession(session, `decoder ${info.folder}`);
  }

  /** Generations go one after another (SerialSession). */
  generate(request: GenerateRequest, hooks: GenerateHooks = {}): Promise<GenerationResult> {
    return this.calls.run(() => this.generateNow(request, hooks));
  }

  dispose(): Promise<void> {
    return this.calls.dispose();
  }

  private async generateNow(request: GenerateRequest, hooks: GenerateHooks): Promise<GenerationResult> {
    const calledAt = performance.now();
    checkGenerateRequest(request);
    const ort = await onnxruntime();
    const promptIds = this.tokenizer.encode(request.prompt, { add_special_tokens: request.addSpecialTokens ?? true }).ids;
    if (promptIds.length === 0) throw new RangeError(`decoder ${this.info.folder}: nothing to generate from: the prompt has no tokens`);
    const badId = promptIds.find((id) => id >= this.info.vocabSize);
    if (badId !== undefined) throw new RangeError(`decoder ${this.info.folder}: the tokenizer gave id ${badId}, not below the model's vocabSize ${this.info.vocabSize}`);
    const { numKeyValueHeads, headDim, inputs, outputs } = this.files.record;
    const useCache = request.useCache ?? true;
    const random = seededRandom(request.seed ?? 0);
    const sampling = { temperature: request.temperature ?? 0, topP: request.topP ?? 1 };
    const stops = new StopMatcher(request.stop ?? []);
    const pastNames = inputs.slice(3);
    const presentNames = outputs.slice(1);

    const emptyPast = (): Record<string, Tensor> => {
      const shape = [1, numKeyValueHeads, 0, headDim];
      const past: Record<string, Tensor> = {};
      for (const name of pastNames) {
        past[name] = this.info.dtype === "fp16" ? new ort.Tensor("float16", new Uint16Array(0), shape) : new ort.Tensor("float32", new Float32Array(0), shape);
      }
      return past;
    };
    // onnxruntime-node copies every output into a fresh array even when given one to fill, so
    // preallocated presents would only add work (measured: ~10% slower on the tiny student).
    const ones = new BigInt64Array(promptIds.length + request.maxNewTokens).fill(1n);
    const fetches = presentNames.concat("logits");
    /** Runs `ids` after a past of `pastLength` tokens: the last position's logits and the presents as the next past. */
    const step = async (ids: number[], pastLength: number, past: Record<string, Tensor>): Promise<{ logits: ArrayLike<number>; past: Record<string, Tensor> }> => {
      const total = pastLength + ids.length;
      const feeds: Record<string, Tensor> = {
        input_ids: new ort.Tensor("int64", BigInt64Array.from(ids, BigInt), [1, ids.length]),
        attention_mask: new ort.Tensor("int64", ones.subarray(0, total), [1, total]),
        position_ids: new ort.Tensor("int64", BigInt64Array.from(ids, (_, i) => BigInt(pastLength + i)), [1, ids.length]),
        ...past,
      };
      const out = await this.session.run(feeds, fetches);
      const next: Record<string, Tensor> = {};
      presentNames.forEach((name, i) => {
        const present = out[name];
        if (!present) throw new Error(`${this.info.modelPath}: the model gave no ${name}`);
        next[pastNames[i]!] = present;
      });
      return { logits: lastLogits(out.logits!, this.info.vocabSize, this.info.modelPath), past: next };
    };

    const newIds: number[] = [];
    let text = "";
    let firstTokenAt = 0;
    let finishReason: FinishReason = "length";
    const emit = (delta: string): void => {
      if (!delta) return;
      text += delta;
      hooks.onText?.(delta, [...newIds]);
    };
    // tokenizers refuses to decode an empty list.
    const detokenizer = new IncrementalDetokenizer((ids) => (ids.length ? this.tokenizer.decode(ids, { skip_special_tokens: true }) : ""));
    /** Hands newly decoded text to the stop matcher; true once a stop sequence is reached. */
    const pushText = (piece: string): boolean => {
      if (!piece) return false;
      const { emit: safe, stopped } = stops.push(piece);
      emit(safe);
      return stopped;
    };

    let past = emptyPast();
    let pastLength = 0;
    let pending = promptIds;
    while (newIds.length < request.maxNewTokens) {
      if (hooks.signal?.aborted) {
        finishReason = "cancelled";
        break;
      }
      const ran = await step(pending, pastLength, past);
      const token = chooseToken(ran.logits, sampling, random);
      if (newIds.length === 0) firstTokenAt = performance.now();
      if (this.eos.has(token)) {
        finishReason = "eos";
        break;
      }
      newIds.push(token);
      if (pushText(detokenizer.push(token))) {
        finishReason = "stop";
        break;
      }
      if (useCache) {
        pastLength += pending.length;
        past = ran.past;
        pending = [token];
      } else {
        pending = [...promptIds, ...newIds];
      }
    }
    const endedAt = performance.now();
    if (finishReason !== "stop") {
      if (!pushText(detokenizer.flush())) emit(stops.flush());
      else finishReason = "stop";
    }
    const seconds = (endedAt - calledAt) / 1000;
    return {
      text,
      tokenIds: newIds,
      promptTokens: promptIds.length,
      newTokens: newIds.length,
      firstTokenMs: firstTokenAt ? round(firstTokenAt - calledAt, 3) : 0,
      tokensPerS: newIds.length && seconds > 0 ? round(newIds.length / seconds, 3) : 0,
      finishReason,
    };
  }
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
