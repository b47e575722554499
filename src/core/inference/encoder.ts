// Code embeddings in the editor with the encoder the structural loss trains with: the folder
// the sidecar's encoder/export writes (CodeBERT or another Hugging Face encoder as ONNX, float32
// or int8), run by onnxruntime-node, tokenized by @huggingface/tokenizers from the folder's own
// tokenizer.json.
//
// An embedding is what the loss computes for a ground-truth solution (training/loss.py,
// encode_ground_truth + encode_ids): the code's tokens without special tokens (no <s> ... </s>:
// the generated side of L_struct has none), through the encoder, and the mean of
// last_hidden_state over the tokens. The loss reads only the first window (512 tokens for
// CodeBERT); code longer than that is split here into consecutive windows, each encoded on its
// own, and their hidden states are averaged over all tokens: the token-weighted mean of the
// windows' means (pooling.ts, PooledSum). Windows run one at a time and unpadded, so a window
// gives the same values whatever else is embedded (int8 models quantize activations per call,
// over the whole input, padding included).
import type { Tokenizer } from "@huggingface/tokenizers";
import type { InferenceSession, Tensor } from "onnxruntime-node";
import { readEncoderFolder, type EncoderFolder } from "./encoderFolder";
import { loadTokenizer, onnxruntime, openCpuSession, SerialSession } from "./onnxFolder";
import { PooledSum, splitWindows } from "./pooling";

export { cosine } from "./pooling";

const INPUT_NAMES = ["input_ids", "attention_mask"] as const;
const OUTPUT_NAME = "last_hidden_state";

export interface EncoderInfo {
  folder: string;
  modelPath: string;
  /** The encoder folder it was exported from (export.json). */
  source: string;
  hiddenSize: number;
  /** Tokens one window holds: the encoder's usable positions (CodeBERT: 512). */
  window: number;
  quantized: boolean;
}

export interface LoadEncoderOptions {
  /** onnxruntime's intra-op threads; default: onnxruntime's own (the machine's physical cores). */
  intraOpNumThreads?: number;
}

export interface EncoderEmbedder {
  readonly info: EncoderInfo;
  /** The token ids `embed` feeds the encoder: the tokenizer's, without special tokens. */
  tokenize(code: string): number[];
  /** The mean-pooled embedding of `code` (hiddenSize values); calls may overlap. */
  embed(code: string): Promise<Float32Array>;
  /** Releases the onnxruntime session once the calls in flight are done. */
  dispose(): Promise<void>;
}

/** Loads an exported encoder folder once; errors name the folder or the file that is wrong. */
export async function loadEncoder(folder: string, options: LoadEncoderOptions = {}): Promise<EncoderEmbedder> {
  const files = readEncoderFolder(folder);
  const tokenizer = loadTokenizer(files);
  const session = await openCpuSession(files.modelPath, options.intraOpNumThreads);
  try {
    checkSignature(session, files.modelPath);
  } catch (error) {
    await session.release();
    throw error;
  }
  return new OnnxEncoder(encoderInfo(files), tokenizer, session);
}

function checkSignature(session: InferenceSession, modelPath: string): void {
  const inputs = [...session.inputNames].sort().join(", ");
  if (inputs !== [...INPUT_NAMES].sort().join(", ") || !session.outputNames.includes(OUTPUT_NAME)) {
    throw new Error(
      `${modelPath}: expected inputs ${INPUT_NAMES.join(", ")} and output ${OUTPUT_NAME}, ` +
        `found inputs ${session.inputNames.join(", ")} and outputs ${session.outputNames.join(", ")}`,
    );
  }
}

function encoderInfo(files: EncoderFolder): EncoderInfo {
  return {
    folder: files.folder,
    modelPath: files.modelPath,
    source: files.record.source,
    hiddenSize: files.record.hiddenSize,
    window: files.record.maxPositions,
    quantized: files.record.quantize !== null,
  };
}

class OnnxEncoder implements EncoderEmbedder {
  private readonly calls: SerialSession;

  constructor(
    readonly info: EncoderInfo,
    private readonly tokenizer: Tokenizer,
    private readonly session: InferenceSession,
  ) {
    this.calls = new SerialSession(session, `encoder ${info.folder}`);
  }

  tokenize(code: string): number[] {
    return this.tokenizer.encode(code, { add_special_tokens: false }).ids;
  }

  async embed(code: string): Promise<Float32Array> {
    this.calls.checkOpen();
    const ids = this.tokenize(code);
    if (ids.length === 0) throw new RangeError(`encoder ${this.info.folder}: nothing to embed: the code has no tokens`);
    const pooled = new PooledSum(this.info.hiddenSize);
    for (const window of splitWindows(ids, this.info.window)) pooled.add(await this.run(window), window.length);
    return pooled.mean();
  }

  dispose(): Promise<void> {
    return this.calls.dispose();
  }

  /** last_hidden_state of one window, `[tokens, hiddenSize]` row-major. */
  private run(ids: number[]): Promise<Float32Array> {
    return this.calls.run(() => this.runNow(ids));
  }

  private async runNow(ids: number[]): Promise<Float32Array> {
    const ort = await onnxruntime();
    const shape = [1, ids.length];
    const feeds: Record<string, Tensor> = {
      input_ids: new ort.Tensor("int64", BigInt64Array.from(ids, BigInt), shape),
      attention_mask: new ort.Tensor("int64", new BigInt64Array(ids.length).fill(1n), shape),
    };
    const output = (await this.session.run(feeds))[OUTPUT_NAME];
    if (!output || output.type !== "float32") {
      throw new Error(`${this.info.modelPath}: ${OUTPUT_NAME}: expected float32 values, got ${output?.type ?? "nothing"}`);
    }
    return output.data as Float32Array;
  }
}
