import type { Rejection } from "../api";
import type { FieldError } from "../errors";
import type { Fields } from "../fields";

/** One record as a source yields it while indexing. */
export interface RawRecord {
  /** The file and line ("a.jsonl:12") or row ("a.parquet row 12", "a.json[12]"), for rejections. */
  where: string;
  /** Position among this file's records, good or bad, 0-based. */
  ordinal: number;
  /** What read() needs to find it again: byte offset, row or array index. */
  pos: number;
  /** Byte length of a JSONL line; 0 elsewhere. */
  len: number;
  fields?: Fields;
  /** Why the record could not be read (malformed JSON, invalid UTF-8, not an object). */
  error?: FieldError;
}

export interface ScanSink {
  records(batch: RawRecord[]): void | Promise<void>;
  /** A problem with the file as a whole, or with a range of it (empty file, truncated gzip, missing column). */
  problem(rejection: Rejection): void;
  /** Bytes of this file consumed so far. */
  progress(bytesRead: number): void;
}

/** One data file of a dataset: scanned once to build the index, then read one record at a time. */
export interface RecordSource {
  readonly file: string;
  readonly totalBytes: number;
  /** Reads every record once; resolves to the number of record positions (ordinals) the file has. */
  scan(sink: ScanSink, signal?: AbortSignal): Promise<number>;
  read(pos: number, len: number): Promise<Fields>;
  close(): Promise<void>;
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason ?? new DOMException("The operation was aborted", "AbortError");
}
