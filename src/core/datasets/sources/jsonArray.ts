// A JSON array of records (sanitized-mbpp.json). Parsed whole: the format cannot be split into
// records without parsing it, and the files that use it are small.
import { isUtf8 } from "node:buffer";
import { readFile, stat } from "node:fs/promises";
import type { Rejection } from "../api";
import { describeType, errorMessage, FieldError } from "../errors";
import { isRecord, type Fields } from "../fields";
import { jsonErrorLocation, parseJson } from "../json";
import { firstInvalidUtf8 } from "./lines";
import type { Gunzipped } from "./jsonl";
import { throwIfAborted, type RawRecord, type RecordSource, type ScanSink } from "./types";

function lineOfByte(bytes: Buffer, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (bytes[i] === 0x0a) line++;
  return line;
}

export class JsonArrayFile implements RecordSource {
  private items: unknown[] | undefined;

  private constructor(
    readonly file: string,
    readonly totalBytes: number,
    private bytes: Buffer,
    private readonly gzipError?: string,
  ) {}

  static async open(file: string): Promise<JsonArrayFile> {
    return new JsonArrayFile(file, (await stat(file)).size, await readFile(file));
  }

  static fromGunzipped(file: string, { data, compressedBytes, error }: Gunzipped): JsonArrayFile {
    return new JsonArrayFile(file, compressedBytes, data, error);
  }

  async scan(sink: ScanSink, signal?: AbortSignal): Promise<number> {
    throwIfAborted(signal);
    sink.progress(this.totalBytes);
    if (!this.items) {
      const problem = this.parse();
      if (problem) {
        sink.problem(problem);
        return 0;
      }
    }
    const items = this.items ?? [];
    const records: RawRecord[] = items.map((item, i) => {
      const record: RawRecord = { where: `${this.file}[${i}]`, ordinal: i, pos: i, len: 0 };
      if (isRecord(item)) record.fields = item;
      else record.error = new FieldError(undefined, `expected a JSON object, got ${describeType(item)}`);
      return record;
    });
    if (records.length === 0) sink.problem({ where: this.file, reason: "empty array: no records" });
    await sink.records(records);
    return records.length;
  }

  /** Parses the file once; returns what is wrong with it, if anything. */
  private parse(): Rejection | undefined {
    if (this.gzipError) return { where: this.file, reason: `truncated or corrupt gzip (${this.gzipError}); a JSON array cannot be read in part` };
    let body = this.bytes;
    if (body.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]))) body = body.subarray(3);
    if (!isUtf8(body)) {
      const at = firstInvalidUtf8(body);
      return { where: `${this.file}:${lineOfByte(body, at)}`, reason: `invalid UTF-8 at byte ${at + 1} of the file; a JSON array cannot be read in part` };
    }
    const text = body.toString("utf8");
    if (text.trim() === "") return { where: this.file, reason: "empty file: no records" };
    let value: unknown;
    try {
      value = parseJson(text);
    } catch (err) {
      const at = jsonErrorLocation(text, err);
      return { where: this.file, reason: `malformed JSON${at ? ` at ${at}` : ""}: ${errorMessage(err)}; a JSON array cannot be read in part` };
    }
    if (!Array.isArray(value)) return { where: this.file, reason: `expected a JSON array of records, got ${describeType(value)}` };
    this.items = value;
    // The parsed records are what read() serves; the text is no longer needed.
    this.bytes = Buffer.alloc(0);
    return undefined;
  }

  async read(pos: number): Promise<Fields> {
    return this.items![pos] as Fields;
  }

  async close(): Promise<void> {}
}
