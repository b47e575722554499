// Reads the folder `python -m codistill export onnx` (the sidecar's export/decoder.py) writes for
// the student: model.onnx, tokenizer.json, tokenizer_config.json, config.json,
// generation_config.json and export.json. Every problem names the folder or the file, and the
// field of export.json it is about.
import { isObject, MODEL_FILE, readJsonObject, readOnnxFolder } from "./onnxFolder";

/** The export.json format this reader knows (sidecar/src/codistill/export/decoder.py, EXPORT_FORMAT). */
export const DECODER_EXPORT_FORMAT = 1;
export const DECODER_MODEL_FILE = MODEL_FILE;
const HOW_TO_EXPORT = 'export one with "python -m codistill export onnx --model DIR [--adapter DIR] --out DIR"';

export type DecoderDtype = "fp32" | "fp16";

/** The parts of export.json the decoder uses. */
export interface DecoderExportRecord {
  format: number;
  numLayers: number;
  numKeyValueHeads: number;
  headDim: number;
  vocabSize: number;
  bosTokenId: number | null;
  /** generation_config's eos_token_id (one id or several), as a list; empty when there is none. */
  eosTokenIds: number[];
  padTokenId: number | null;
  /** fp16: the past and present tensors (and the logits) are float16. */
  dtype: DecoderDtype;
  /** "int8", "int4", or null for float weights. */
  quantize: string | null;
  /** The graph's input and output names, in order. */
  inputs: string[];
  outputs: string[];
  /** An optional `prompt` object (its schema belongs to the prompt formatting), passed through as read. */
  prompt?: unknown;
}

export interface DecoderFolder {
  folder: string;
  modelPath: string;
  record: DecoderExportRecord;
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
}

/** The input names export/decoder.py gives a graph of `layers` layers. */
export function decoderInputNames(layers: number): string[] {
  const past = Array.from({ length: layers }, (_, i) => [`past_key_values.${i}.key`, `past_key_values.${i}.value`]).flat();
  return ["input_ids", "attention_mask", "position_ids", ...past];
}

/** The output names export/decoder.py gives a graph of `layers` layers. */
export function decoderOutputNames(layers: number): string[] {
  const present = Array.from({ length: layers }, (_, i) => [`present.${i}.key`, `present.${i}.value`]).flat();
  return ["logits", ...present];
}

export function readDecoderFolder(folder: string): DecoderFolder {
  const { recordPath, ...files } = readOnnxFolder(folder, "decoder", HOW_TO_EXPORT);
  return { ...files, record: exportRecord(recordPath) };
}

function isTokenId(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0;
}

function positiveInteger(path: string, raw: Record<string, unknown>, key: string): number {
  const value = raw[key];
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new Error(`${path}: ${key}: expected a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

function optionalTokenId(path: string, raw: Record<string, unknown>, key: string): number | null {
  const value = raw[key];
  if (value === null || value === undefined) return null;
  if (!isTokenId(value)) throw new Error(`${path}: ${key}: expected a token id (an integer >= 0) or null, got ${JSON.stringify(value)}`);
  return value;
}

function eosTokenIds(path: string, raw: Record<string, unknown>): number[] {
  const value = raw.eosTokenId;
  if (value === null || value === undefined) return [];
  if (isTokenId(value)) return [value];
  if (Array.isArray(value) && value.every(isTokenId)) return [...new Set(value)];
  throw new Error(`${path}: eosTokenId: expected a token id, a list of them or null, got ${JSON.stringify(value)}`);
}

function names(path: string, raw: Record<string, unknown>, key: "inputs" | "outputs", expected: string[]): string[] {
  const value = raw[key];
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
    throw new Error(`${path}: ${key}: expected a list of names, got ${JSON.stringify(value)}`);
  }
  if (value.join(",") !== expected.join(",")) {
    throw new Error(`${path}: ${key}: expected ${expected.join(", ")} for numLayers ${(expected.length - (key === "inputs" ? 3 : 1)) / 2}, got ${value.join(", ")}`);
  }
  return value as string[];
}

function exportRecord(path: string): DecoderExportRecord {
  const raw = readJsonObject(path);
  if (raw.kind !== undefined && raw.kind !== "decoder") {
    throw new Error(`${path}: kind: expected "decoder", got ${JSON.stringify(raw.kind)} (this is not an export of the student; ${HOW_TO_EXPORT})`);
  }
  if (raw.format !== DECODER_EXPORT_FORMAT) {
    throw new Error(`${path}: format: expected ${DECODER_EXPORT_FORMAT}, got ${JSON.stringify(raw.format)} (export the student again with this version's sidecar)`);
  }
  if (raw.kind === undefined) throw new Error(`${path}: kind: missing (expected "decoder"; ${HOW_TO_EXPORT})`);
  const numLayers = positiveInteger(path, raw, "numLayers");
  const numKeyValueHeads = positiveInteger(path, raw, "numKeyValueHeads");
  const headDim = positiveInteger(path, raw, "headDim");
  const vocabSize = positiveInteger(path, raw, "vocabSize");
  if (raw.dtype !== "fp32" && raw.dtype !== "fp16") throw new Error(`${path}: dtype: expected "fp32" or "fp16", got ${JSON.stringify(raw.dtype)}`);
  if (raw.quantize !== null && raw.quantize !== undefined && typeof raw.quantize !== "string") {
    throw new Error(`${path}: quantize: expected a string or null, got ${JSON.stringify(raw.quantize)}`);
  }
  const eos = eosTokenIds(path, raw);
  const outOfVocab = eos.find((id) => id >= vocabSize);
  if (outOfVocab !== undefined) throw new Error(`${path}: eosTokenId: ${outOfVocab} is not below vocabSize ${vocabSize}`);
  if (raw.prompt !== undefined && !isObject(raw.prompt)) throw new Error(`${path}: prompt: expected a JSON object, got ${JSON.stringify(raw.prompt)}`);
  return {
    format: raw.format,
    numLayers,
    numKeyValueHeads,
    headDim,
    vocabSize,
    bosTokenId: optionalTokenId(path, raw, "bosTokenId"),
    eosTokenIds: eos,
    padTokenId: optionalTokenId(path, raw, "padTokenId"),
    dtype: raw.dtype,
    quantize: typeof raw.quantize === "string" ? raw.quantize : null,
    inputs: names(path, raw, "inputs", decoderInputNames(numLayers)),
    outputs: names(path, raw, "outputs", decoderOutputNames(numLayers)),
    ...(raw.prompt === undefined ? {} : { prompt: raw.prompt }),
  };
}
