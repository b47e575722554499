// JSONL, plain or gzipped. Plain files are streamed in chunks and re-read one line at a time
// with a positioned read, so memory does not grow with the file. Gzipped files (the benchmark
// releases, a few MB) are decompressed in memory once, as far as their data is intact.
import { createReadStream } from "node:fs";
import { open, stat, type FileHandle } from "node:fs/promises";
import { createGunzip } from "node:zlib";
import { DatasetError, errorMessage, FieldError } from "../errors";
import type { Fields } from "../fields";
import { isBlankLine, LineSplitter, parseLine, type Line } from "./lines";
import { throwIfAborted, type RawRecord, type RecordSource, type ScanSink } from "./types";

const CHUNK_BYTES = 1 << 20;

class LineRecords {
  ordinal = 0;
  sawRecord = false;

  constructor(private readonly file: string) {}

  toRecords(lines: Line[]): RawRecord[] {
    const out: RawRecord[] = [];
    for (const line of lines) {
      if (isBlankLine(line)) continue;
      this.sawRecord = true;
      const record: RawRecord = { where: `${this.file}:${line.lineNo}`, ordinal: this.ordinal++, pos: line.offset, len: line.bytes.length };
      try {
        record.fields = parseLine(line.bytes, line.lineNo === 1);
      } catch (err) {
        record.error = err instanceof FieldError ? err : new FieldError(undefined, errorMessage(err));
      }
      out.push(record);
    }
    return out;
  }
}

function emptyFile(file: string) {
  return { where: file, reason: "empty file: no records" };
}

export class JsonlFile implements RecordSource {
  // The opening itself is kept, so that reads that start together share one handle (each of them
  // opening its own would leave all but one to the garbage collector).
  private handle: Promise<FileHandle> | undefined;

  private constructor(
    readonly file: string,
    readonly totalBytes: number,
    private readonly mtimeMs: number,
  ) {}

  static async open(file: string): Promise<JsonlFile> {
    const info = await stat(file);
    return new JsonlFile(file, info.size, info.mtimeMs);
  }

  async scan(sink: ScanSink, signal?: AbortSignal): Promise<number> {
    const splitter = new LineSplitter();
    const records = new LineRecords(this.file);
    let bytesRead = 0;
    const stream = createReadStream(this.file, { highWaterMark: CHUNK_BYTES });
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        throwIfAborted(signal);
        bytesRead += chunk.length;
        await sink.records(records.toRecords(splitter.push(chunk)));
        sink.progress(bytesRead);
      }
    } finally {
      stream.destroy();
    }
    const last = splitter.end();
    if (last) await sink.records(records.toRecords([last]));
    if (!records.sawRecord) sink.problem(emptyFile(this.file));
    return records.ordinal;
  }

  async read(pos: number, len: number): Promise<Fields> {
    const info = await stat(this.file);
    if (info.mtimeMs !== this.mtimeMs || info.size !== this.totalBytes) {
      throw new DatasetError(`${this.file} changed on disk since it was indexed; open the dataset again`);
    }
    this.handle ??= open(this.file, "r").catch((err: unknown) => {
      this.handle = undefined;
      throw err;
    });
    const handle = await this.handle;
    const bytes = Buffer.alloc(len);
    const { bytesRead } = await handle.read(bytes, 0, len, pos);
    if (bytesRead !== len) throw new DatasetError(`${this.file}: could not read ${len} bytes at offset ${pos}`);
    return parseLine(bytes, pos === 0);
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await (await handle?.catch(() => undefined))?.close();
  }
}

/** The decompressed bytes, and why decompression stopped early if it did. */
export interface Gunzipped {
  data: Buffer;
  compressedBytes: number;
  /** Why decompression stopped before the end (truncated or corrupt data). */
  error?: string;
}

export async function gunzipFile(file: string, signal?: AbortSignal): Promise<Gunzipped> {
  const chunks: Buffer[] = [];
  let size = 0;
  const compressedBytes = (await stat(file)).size;
  const input = createReadStream(file, { highWaterMark: CHUNK_BYTES });
  const gunzip = createGunzip();
  let error: string | undefined;
  try {
    for await (const chunk of input.pipe(gunzip) as AsyncIterable<Buffer>) {
      throwIfAborted(signal);
      chunks.push(chunk);
      size += chunk.length;
    }
  } catch (err) {
    if (signal?.aborted) throw err;
    error = errorMessage(err);
  } finally {
    input.destroy();
    gunzip.destroy();
  }
  return { data: Buffer.concat(chunks, size), compressedBytes, error };
}

export class GzipJsonlFile implements RecordSource {
  private constructor(
    readonly file: string,
    readonly totalBytes: number,
    private readonly data: Buffer,
    private readonly error: string | undefined,
  ) {}

  static fromGunzipped(file: string, { data, compressedBytes, error }: Gunzipped): GzipJsonlFile {
    return new GzipJsonlFile(file, compressedBytes, data, error);
  }

  async scan(sink: ScanSink, signal?: AbortSignal): Promise<number> {
    throwIfAborted(signal);
    if (this.error) {
      sink.problem({
        where: this.file,
        reason: `truncated or corrupt gzip (${this.error}) after ${this.data.length} decompressed bytes; the complete lines before that are loaded`,
      });
    }
    const splitter = new LineSplitter();
    const records = new LineRecords(this.file);
    await sink.records(records.toRecords(splitter.push(this.data)));
    const last = splitter.end();
    if (last) {
      const [record] = records.toRecords([last]);
      if (record?.error && this.error) {
        record.error = new FieldError(undefined, `${record.error.reason} (the line is cut off where the gzip data ends)`);
      }
      await sink.records(record ? [record] : []);
    }
    if (!records.sawRecord && !this.error) sink.problem(emptyFile(this.file));
    sink.progress(this.totalBytes);
    return records.ordinal;
  }

  async read(pos: number, len: number): Promise<Fields> {
    return parseLine(this.data.subarray(pos, pos + len), pos === 0);
  }

  async close(): Promise<void> {}
}
