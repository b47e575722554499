// Reads the folder `python -m codistill export encoder` (the sidecar's encoder/export) writes:
// model.onnx, tokenizer.json, tokenizer_config.json and export.json. Every problem names the
// folder or the file, and the field of export.json it is about.
import { MODEL_FILE, readJsonObject, readOnnxFolder } from "./onnxFolder";

/** The export.json format this reader knows (sidecar/src/codistill/export/encoder.py, EXPORT_FORMAT). */
export const ENCODER_EXPORT_FORMAT = 1;
export const ENCODER_MODEL_FILE = MODEL_FILE;
const HOW_TO_EXPORT = 'export one with "python -m codistill export encoder --model DIR --out DIR"';

/** The parts of export.json the editor uses. */
export interface EncoderExportRecord {
  format: number;
  /** The encoder folder it was exported from. */
  source: string;
  /** "int8", or null for float32 weights. */
  quantize: string | null;
  hiddenSize: number;
  /** Tokens the encoder reads at once: max_position_embeddings minus RoBERTa's padding offset. */
  maxPositions: number;
}

export interface EncoderFolder {
  folder: string;
  modelPath: string;
  record: EncoderExportRecord;
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
}

export function readEncoderFolder(folder: string): EncoderFolder {
  const { recordPath, ...files } = readOnnxFolder(folder, "encoder", HOW_TO_EXPORT);
  return { ...files, record: exportRecord(recordPath) };
}

function exportRecord(path: string): EncoderExportRecord {
  const raw = readJsonObject(path);
  if (raw.format !== ENCODER_EXPORT_FORMAT) {
    throw new Error(`${path}: format: expected ${ENCODER_EXPORT_FORMAT}, got ${JSON.stringify(raw.format)} (export the encoder again with this version's sidecar)`);
  }
  for (const key of ["hiddenSize", "maxPositions"] as const) {
    const value = raw[key];
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
      throw new Error(`${path}: ${key}: expected a positive integer, got ${JSON.stringify(value)}`);
    }
  }
  if (raw.quantize !== null && typeof raw.quantize !== "string") throw new Error(`${path}: quantize: expected a string or null`);
  return {
    format: raw.format,
    source: typeof raw.source === "string" ? raw.source : "",
    quantize: raw.quantize,
    hiddenSize: raw.hiddenSize as number,
    maxPositions: raw.maxPositions as number,
  };
}
