// Which files make a dataset (one file, or the data files of a folder in name order) and how
// each is read, told by its first bytes rather than its name.
import { open, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { DatasetError, errorMessage } from "./errors";
import { JsonArrayFile } from "./sources/jsonArray";
import { gunzipFile, GzipJsonlFile, JsonlFile } from "./sources/jsonl";
import { ParquetFile, type ParquetColumns } from "./sources/parquet";
import type { RecordSource } from "./sources/types";

export type FileKind = "parquet" | "gzip" | "json-array" | "jsonl";

const DATA_FILE = /\.(parquet|jsonl|ndjson|json)(\.gz)?$/i;
const SNIFF_BYTES = 64 * 1024;

/** The data files of `path`: itself, or the data files directly inside the folder, sorted by name. */
export async function dataFiles(path: string): Promise<string[]> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    throw new DatasetError(`cannot open ${path}: ${errorMessage(err)}`, { cause: err });
  }
  if (!info.isDirectory()) return [path];
  const names = (await readdir(path, { withFileTypes: true }))
    .filter((e) => e.isFile() && DATA_FILE.test(e.name))
    .map((e) => e.name)
    .sort();
  if (!names.length) throw new DatasetError(`${path} is a folder without data files (.parquet, .jsonl, .jsonl.gz, .json)`);
  return names.map((n) => join(path, n));
}

function firstNonSpace(bytes: Uint8Array): number | undefined {
  let i = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  for (; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return b;
  }
  return undefined;
}

export async function sniff(file: string): Promise<FileKind> {
  const handle = await open(file, "r");
  try {
    const head = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await handle.read(head, 0, SNIFF_BYTES, 0);
    const bytes = head.subarray(0, bytesRead);
    if (bytes.subarray(0, 4).toString("latin1") === "PAR1") return "parquet";
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) return "gzip";
    return firstNonSpace(bytes) === 0x5b /* [ */ ? "json-array" : "jsonl";
  } finally {
    await handle.close();
  }
}

export async function openSource(file: string, columns: ParquetColumns, signal?: AbortSignal): Promise<RecordSource> {
  try {
    switch (await sniff(file)) {
      case "parquet":
        return await ParquetFile.open(file, columns);
      case "gzip": {
        const gunzipped = await gunzipFile(file, signal);
        return firstNonSpace(gunzipped.data.subarray(0, SNIFF_BYTES)) === 0x5b
          ? JsonArrayFile.fromGunzipped(file, gunzipped)
          : GzipJsonlFile.fromGunzipped(file, gunzipped);
      }
      case "json-array":
        return await JsonArrayFile.open(file);
      case "jsonl":
        return await JsonlFile.open(file);
    }
  } catch (err) {
    if (signal?.aborted || err instanceof DatasetError) throw err;
    throw new DatasetError(`cannot read ${file}: ${errorMessage(err)}`, { cause: err });
  }
}
