// Parquet through hyparquet. The index reads the file row group by row group; a large group is
// read in page-aligned slices when its offset index has several pages, so it is not decoded
// whole at once. read() fetches rows with rowStart/rowEnd, a small window at a time: writers
// such as pyarrow put ~1,000 rows in one page, which is decoded whole to get any one row, so the
// neighbours of a row (what a list is browsed through) come with it. Both decompress into a
// PageArena that the next slice or window uses again, so the memory of pages is not garbage.
import { open, stat, type FileHandle } from "node:fs/promises";
import { parquetMetadataAsync, parquetRead, parquetSchema, readOffsetIndex, snappyUncompress, type AsyncBuffer, type Compressors, type FileMetaData, type RowGroup } from "hyparquet";
import { DatasetError, errorMessage, FieldError } from "../errors";
import { firstInvalidUtf8 } from "./lines";
import type { Fields } from "../fields";
import { throwIfAborted, type RawRecord, type RecordSource, type ScanSink } from "./types";

/** Row groups larger than this (uncompressed) are read in page-aligned slices when they can be. */
const LARGE_GROUP_BYTES = 64 << 20;
/** Fewest rows in one slice of a large row group. */
const SLICE_ROWS = 128;
/** Rows mapped at a time from a decoded slice: their strings are made just before they are needed. */
const DECODE_ROWS = 16;
/** Rows read together by read(), and how many such windows are kept. */
const WINDOW_ROWS = 32;
const WINDOWS_KEPT = 2;
/** File reads at least this large reuse their memory from slice to slice while indexing. */
const READ_POOL_MIN = 1 << 20;
/** Room the arena leaves for the next slices' pages to be larger than the last's. */
const ARENA_HEADROOM = 1.125;
/** How long the arena is kept for the next read() once reads stop. */
const ARENA_IDLE_MS = 10_000;

function fileBuffer(handle: FileHandle, byteLength: number, allocate = (size: number) => new ArrayBuffer(size)): AsyncBuffer {
  return {
    byteLength,
    async slice(start: number, end = byteLength): Promise<ArrayBuffer> {
      const bytes = new Uint8Array(allocate(end - start));
      let done = 0;
      while (done < bytes.length) {
        const { bytesRead } = await handle.read(bytes, done, bytes.length - done, start + done);
        if (bytesRead === 0) throw new Error(`unexpected end of file at byte ${start + done}`);
        done += bytesRead;
      }
      return bytes.buffer;
    },
  };
}

// hyparquet turns every string of a page into a JS string at once: for a page of 1,000 TACO rows
// that is hundreds of MB alive together. Strings stay bytes (views into the page) until their
// row is mapped, and are decoded strictly, so invalid UTF-8 is reported instead of replaced.
const KEEP_BYTES = { stringFromBytes: (bytes: Uint8Array) => bytes };
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A value with its strings decoded, however deep in lists and structs; throws on invalid UTF-8. */
function decodeValue(value: unknown, path: string): unknown {
  if (value instanceof Uint8Array) {
    try {
      return utf8.decode(value);
    } catch {
      throw new FieldError(path, `invalid UTF-8 at byte ${firstInvalidUtf8(value) + 1}`);
    }
  }
  if (Array.isArray(value)) return value.map((item, i) => decodeValue(item, `${path}[${i}]`));
  if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = decodeValue(item, `${path}.${key}`);
    return out;
  }
  return value;
}

/** A row with its strings decoded, or the FieldError of the first one that is not UTF-8. */
function decodeRow(row: Record<string, unknown>): Fields {
  const fields: Fields = {};
  for (const [column, value] of Object.entries(row)) fields[column] = decodeValue(value, column);
  return fields;
}

/**
 * Memory for the decompressed pages of one read, used again by the next: the index decodes the
 * file slice by slice, and a fresh page per slice (~64 MB for 1,000 TACO rows) is garbage that
 * V8 collects lazily, several at a time, since its heap barely grows meanwhile. The pages of a
 * slice are dead once its rows are decoded (decodeRow copies every string out of them).
 */
type Resizable = ArrayBuffer & { readonly maxByteLength: number; resize(size: number): void };
const ResizableArrayBuffer = ArrayBuffer as unknown as new (size: number, options: { maxByteLength: number }) => Resizable;

class PageArena {
  /** Where pages go, one after another; sized by the last slice that needed more. */
  private slab = new Uint8Array(0);
  private used = 0;
  /** Bytes of pages since the last reset that did not fit in the slab. */
  private overflow = 0;
  /** Buffers for file reads, with whether the current slice holds each. */
  private reads: { buffer: Resizable; held: boolean }[] = [];

  /** Frees every page and read handed out since the last reset: their memory is used again. */
  reset(): void {
    if (this.overflow) this.slab = new Uint8Array(Math.ceil((this.used + this.overflow) * ARENA_HEADROOM));
    this.used = 0;
    this.overflow = 0;
    // A buffer the last slice did not need is dropped: a later slice allocates what it needs.
    this.reads = this.reads.filter((r) => r.held);
    for (const read of this.reads) read.held = false;
  }

  /** An ArrayBuffer of exactly `size` bytes, for a read of the file (compressed column chunks). */
  readBuffer(size: number): ArrayBuffer {
    if (size < READ_POOL_MIN) return new ArrayBuffer(size);
    let best: { buffer: Resizable; held: boolean } | undefined;
    for (const read of this.reads) {
      if (!read.held && read.buffer.maxByteLength >= size && (!best || read.buffer.maxByteLength < best.buffer.maxByteLength)) best = read;
    }
    if (!best) {
      best = { buffer: new ResizableArrayBuffer(size, { maxByteLength: Math.ceil(size * ARENA_HEADROOM) }), held: false };
      this.reads.push(best);
    }
    best.held = true;
    best.buffer.resize(size);
    return best.buffer;
  }

  /** Makes room for `size` bytes of pages before the next slice, instead of overflowing into fresh memory. */
  reserve(size: number): void {
    if (this.slab.length - this.used < size) this.slab = new Uint8Array(Math.ceil((this.used + size) * ARENA_HEADROOM));
  }

  /** `size` bytes for a decompressed page. */
  alloc(size: number): Uint8Array {
    if (this.slab.length - this.used < size) {
      this.overflow += size;
      return new Uint8Array(size);
    }
    this.used += size;
    return this.slab.subarray(this.used - size, this.used);
  }

  get compressors(): Compressors {
    return {
      SNAPPY: (input: Uint8Array, size: number) => {
        const page = this.alloc(size);
        snappyUncompress(input, page);
        return page;
      },
    };
  }
}

/** Rows with strings as bytes, and the arena their pages are in (to release once they are decoded). */
interface Rows {
  rows: Record<string, unknown>[];
  arena?: PageArena;
}

export interface ParquetColumns {
  /** Columns the mapper reads; undefined reads all. */
  wanted?: readonly string[];
  /** Columns without which no row can be mapped. */
  required: readonly string[];
}

export class ParquetFile implements RecordSource {
  private columns: string[] | undefined;
  private readonly windows = new Map<number, Promise<(Fields | FieldError)[]>>();
  private lastRead: Promise<void> = Promise.resolve();
  private arena: PageArena | undefined;
  private arenaHeld = false;
  private arenaTimer: NodeJS.Timeout | undefined;

  private constructor(
    readonly file: string,
    readonly totalBytes: number,
    private readonly mtimeMs: number,
    private readonly handle: FileHandle,
    private readonly buffer: AsyncBuffer,
    private readonly metadata: FileMetaData | undefined,
    private readonly metadataError: string | undefined,
    private readonly spec: ParquetColumns,
  ) {}

  static async open(file: string, spec: ParquetColumns): Promise<ParquetFile> {
    const info = await stat(file);
    const handle = await open(file, "r");
    const buffer = fileBuffer(handle, info.size);
    let metadata: FileMetaData | undefined;
    let metadataError: string | undefined;
    if (info.size > 0) {
      try {
        metadata = await parquetMetadataAsync(buffer);
      } catch (err) {
        metadataError = errorMessage(err);
      }
    }
    return new ParquetFile(file, info.size, info.mtimeMs, handle, buffer, metadata, metadataError, spec);
  }

  /** Top-level column names, for format detection. */
  columnNames(): string[] {
    return this.metadata ? parquetSchema(this.metadata).children.map((c) => c.element.name) : [];
  }

  private checkColumns(sink: ScanSink): string[] | undefined {
    const present = this.columnNames();
    const missing = this.spec.required.filter((c) => !present.includes(c));
    if (missing.length) {
      for (const column of missing) {
        sink.problem({ where: this.file, field: column, reason: `no column "${column}"; the file has columns: ${present.join(", ")}` });
      }
      return undefined;
    }
    return this.spec.wanted ? this.spec.wanted.filter((c) => present.includes(c)) : present;
  }

  /**
   * Row ranges [start, end) to decode one after another: the whole group, or for a large group
   * whose largest column has several pages, slices of at least SLICE_ROWS rows on its page
   * boundaries (a slice that cut a page would decode it twice).
   */
  private async slicesOf(group: RowGroup, groupStart: number, columns: string[]): Promise<[number, number][]> {
    const rows = Number(group.num_rows);
    const whole: [number, number][] = [[groupStart, groupStart + rows]];
    if (Number(group.total_byte_size) <= LARGE_GROUP_BYTES) return whole;
    const chunks = group.columns.filter((c) => columns.includes(c.meta_data?.path_in_schema[0] ?? ""));
    const largest = chunks.sort((a, b) => Number(b.meta_data?.total_uncompressed_size ?? 0) - Number(a.meta_data?.total_uncompressed_size ?? 0))[0];
    if (!largest?.offset_index_offset || !largest.offset_index_length) return whole;
    const start = Number(largest.offset_index_offset);
    const bytes = await this.buffer.slice(start, start + largest.offset_index_length);
    const pages = readOffsetIndex({ view: new DataView(bytes), offset: 0 }).page_locations.map((p) => Number(p.first_row_index));
    const slices: [number, number][] = [];
    let from = 0;
    for (const boundary of [...pages.slice(1), rows]) {
      if (boundary - from >= SLICE_ROWS || boundary === rows) {
        slices.push([groupStart + from, groupStart + boundary]);
        from = boundary;
      }
    }
    return slices;
  }

  async scan(sink: ScanSink, signal?: AbortSignal): Promise<number> {
    if (this.totalBytes === 0) {
      sink.problem({ where: this.file, reason: "empty file: no records" });
      return 0;
    }
    if (!this.metadata) {
      sink.problem({ where: this.file, reason: `not a readable Parquet file: ${this.metadataError}` });
      return 0;
    }
    const columns = this.checkColumns(sink);
    if (!columns) return 0;
    this.columns = columns;
    let groupStart = 0;
    let bytesRead = 0;
    for (const group of this.metadata.row_groups) {
      const rows = Number(group.num_rows);
      const groupBytes = Number(group.total_compressed_size ?? group.total_byte_size);
      for (const [start, end] of await this.slicesOf(group, groupStart, columns)) {
        throwIfAborted(signal);
        const { rows: slice, arena } = await this.readSlice(start, end, columns, sink);
        try {
          for (let i = 0; i < slice.length; i += DECODE_ROWS) {
            await sink.records(slice.slice(i, i + DECODE_ROWS).map((row, j) => this.record(row, start + i + j)));
          }
        } finally {
          this.releaseArena(arena);
        }
        bytesRead += (groupBytes * (end - start)) / Math.max(rows, 1);
        sink.progress(Math.min(Math.round(bytesRead), this.totalBytes));
      }
      groupStart += rows;
    }
    return groupStart;
  }

  private record(row: Record<string, unknown>, pos: number): RawRecord {
    const record: RawRecord = { where: `${this.file} row ${pos}`, ordinal: pos, pos, len: 0 };
    try {
      record.fields = decodeRow(row);
    } catch (err) {
      record.error = err as FieldError;
    }
    return record;
  }

  /**
   * Rows [start, end) with strings as bytes (see decodeRow). One read at a time per file: each
   * decodes whole pages (a row group's worth of memory), and a task() read during background
   * indexing would otherwise hold a second row group in memory beside the index's.
   */
  private readRows(start: number, end: number, columns: string[] | undefined): Promise<Rows> {
    const read = this.lastRead.then(() => this.readRowsNow(start, end, columns));
    this.lastRead = read.then(
      () => undefined,
      () => undefined,
    );
    return read;
  }

  private async readRowsNow(start: number, end: number, columns: string[] | undefined): Promise<Rows> {
    let rows: Record<string, unknown>[] = [];
    const arena = this.takeArena();
    arena?.reserve(this.wholeGroupBytes(start, end, columns));
    try {
      await this.decodePages(start, end, columns, arena, (r) => (rows = r));
    } catch (err) {
      this.releaseArena(arena);
      throw err;
    }
    return { rows, arena };
  }

  /**
   * Uncompressed bytes of the columns of the row groups that [start, end) covers whole: what
   * reading them decompresses, known before (a part of a group is left out: its pages are not).
   */
  private wholeGroupBytes(start: number, end: number, columns: string[] | undefined): number {
    let bytes = 0;
    let groupStart = 0;
    for (const group of this.metadata?.row_groups ?? []) {
      const groupEnd = groupStart + Number(group.num_rows);
      if (start <= groupStart && groupEnd <= end) {
        for (const chunk of group.columns) {
          const meta = chunk.meta_data;
          if (meta && (!columns || columns.includes(meta.path_in_schema[0] ?? ""))) bytes += Number(meta.total_uncompressed_size);
        }
      }
      groupStart = groupEnd;
    }
    return bytes;
  }

  /**
   * The file's arena, reset, unless a slice or window being decoded holds it: a read while the
   * index maps a slice gets fresh memory. Give it back with releaseArena() once every row read
   * into it is decoded; it is dropped when no read has used it for ARENA_IDLE_MS.
   */
  private takeArena(): PageArena | undefined {
    if (this.arenaHeld) return undefined;
    clearTimeout(this.arenaTimer);
    this.arenaHeld = true;
    this.arena ??= new PageArena();
    this.arena.reset();
    return this.arena;
  }

  private releaseArena(arena: PageArena | undefined): void {
    if (!arena) return;
    this.arenaHeld = false;
    this.arenaTimer = setTimeout(() => (this.arena = undefined), ARENA_IDLE_MS);
    this.arenaTimer.unref();
  }

  private async decodePages(start: number, end: number, columns: string[] | undefined, arena: PageArena | undefined, onComplete: (rows: Record<string, unknown>[]) => void): Promise<void> {
    await parquetRead({
      file: arena ? fileBuffer(this.handle, this.totalBytes, (size) => arena.readBuffer(size)) : this.buffer,
      metadata: this.metadata,
      columns,
      rowStart: start,
      rowEnd: end,
      rowFormat: "object",
      useOffsetIndex: true,
      parsers: KEEP_BYTES,
      ...(arena && { compressors: arena.compressors }),
      onComplete,
    });
  }

  private async readSlice(start: number, end: number, columns: string[], sink: ScanSink): Promise<Rows> {
    try {
      return await this.readRows(start, end, columns);
    } catch (err) {
      // A corrupt page loses its rows, not the rest of the file.
      sink.problem({ where: `${this.file} rows ${start}-${end - 1}`, reason: `cannot decode: ${errorMessage(err)}` });
      return { rows: [] };
    }
  }

  async read(pos: number): Promise<Fields> {
    const info = await stat(this.file);
    if (info.mtimeMs !== this.mtimeMs || info.size !== this.totalBytes) {
      throw new DatasetError(`${this.file} changed on disk since it was indexed; open the dataset again`);
    }
    const [start, end] = this.windowOf(pos);
    let window = this.windows.get(start);
    if (!window) {
      window = this.readWindow(start, end);
      this.windows.set(start, window);
      window.catch(() => this.windows.delete(start));
      while (this.windows.size > WINDOWS_KEPT) this.windows.delete(this.windows.keys().next().value!);
    }
    const row = (await window)[pos - start];
    if (!row) throw new DatasetError(`${this.file} row ${pos}: not found`);
    if (row instanceof FieldError) throw row;
    return row;
  }

  /**
   * The rows [start, end) read together with row `pos`: WINDOW_ROWS-aligned, and cut at the
   * edges of its row group, as a window across two groups would decode both.
   */
  private windowOf(pos: number): [number, number] {
    let start = pos - (pos % WINDOW_ROWS);
    let end = Math.min(start + WINDOW_ROWS, Number(this.metadata?.num_rows ?? 0));
    let groupStart = 0;
    for (const group of this.metadata?.row_groups ?? []) {
      const groupEnd = groupStart + Number(group.num_rows);
      if (pos < groupEnd) {
        start = Math.max(start, groupStart);
        end = Math.min(end, groupEnd);
        break;
      }
      groupStart = groupEnd;
    }
    return [start, end];
  }

  /** Decoded at once: a row of bytes is a view that keeps its whole page alive. */
  private async readWindow(start: number, end: number): Promise<(Fields | FieldError)[]> {
    const { rows, arena } = await this.readRows(start, end, this.columns);
    try {
      return rows.map((row) => {
        try {
          return decodeRow(row);
        } catch (err) {
          return err as FieldError;
        }
      });
    } finally {
      this.releaseArena(arena);
    }
  }

  async close(): Promise<void> {
    clearTimeout(this.arenaTimer);
    this.arena = undefined;
    await this.handle.close();
  }
}
