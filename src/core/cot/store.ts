// A CoT set on disk: `.codistill/cots/<name>.jsonl`, one record per line, append-only (DESIGN.md,
// "CoT record"). The last record of a task is the one that counts; the history stays. A process
// killed mid-write leaves at most one torn last line: it is reported when the set is opened and
// cut off before the next append, so the file stays valid JSONL and no finished record is lost.
//
// Memory stays flat in the size of a set: the store keeps, per task, where its last record lies
// and what counting and resuming need (status bucket, token usage, review); a record itself is
// read from disk when asked for. A 10,000-task set holds about 150 bytes a task, not its raw text.
import { open, stat, truncate, type FileHandle } from "node:fs/promises";
import type { CotRecord, CotStatus, ReviewDecision } from "./record";
import { bucketOf, emptySummary, type CotBucket, type CotReviewCounts, type CotSummary } from "./stats";

export { COT_STATUSES, REVIEW_DECISIONS } from "./record";
export type { CotRecord, CotStatus, ReviewDecision, VerificationStatus } from "./record";

export interface TornLine {
  line: number;
  /** Bytes of the torn line, cut off at the next append. */
  bytes: number;
}

/** What the store keeps of a task's last record: where it lies, and what counting and resuming need. */
export interface CotEntry {
  taskId: string;
  line: number;
  offset: number;
  bytes: number;
  bucket: CotBucket;
  status: CotStatus;
  review?: ReviewDecision;
  /** The record has teacherCode, and whether the sandbox has judged it. */
  hasCode: boolean;
  verified: boolean;
  promptTokens: number;
  completionTokens: number;
}

export class CotStoreError extends Error {}

const CHUNK = 1 << 20;

export class CotStore {
  /** Appends run one batch at a time: the torn-line cut and the offsets need a single writer. */
  private queued: { record: CotRecord; resolve: () => void; reject: (err: unknown) => void }[] = [];
  private flushing: Promise<void> | undefined;
  /** The last flush, for readers to wait on. */
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    readonly path: string,
    private readonly latest: Map<string, CotEntry>,
    private torn: TornLine | null,
    private goodBytes: number,
    private lineCount: number,
  ) {}

  /**
   * Reads the set (a missing file is an empty set). A bad line that is not the last one is an
   * error naming it: only the last line can be torn by a kill, anything else is corruption.
   */
  static async open(path: string): Promise<CotStore> {
    let file: FileHandle;
    try {
      file = await open(path, "r");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return new CotStore(path, new Map(), null, 0, 0);
      throw new CotStoreError(`cannot read ${path}: ${(err as Error).message}`);
    }
    try {
      const latest = new Map<string, CotEntry>();
      let line = 0;
      let end = 0;
      for await (const chunk of linesOf(file)) {
        line++;
        end = chunk.offset + chunk.bytes.length + (chunk.terminated ? 1 : 0);
        const text = chunk.bytes.toString("utf8");
        if (!text.trim()) continue;
        const record = recordOf(text);
        if (!record) {
          if (!chunk.terminated) return new CotStore(path, latest, { line, bytes: chunk.bytes.length }, chunk.offset, line - 1);
          throw new CotStoreError(`${path}:${line}: not a CoT record (only a torn last line is repaired)`);
        }
        latest.set(record.taskId, entryOf(record, line, chunk.offset, chunk.bytes.length));
      }
      // A complete record without its newline is kept, and the newline added before the next append.
      return new CotStore(path, latest, null, end, line);
    } finally {
      await file.close();
    }
  }

  /** The torn last line found when opened, until the next append cuts it off. */
  get tornLine(): TornLine | null {
    return this.torn;
  }

  /** Lines in the file: every record ever appended, the history included. */
  get lines(): number {
    return this.lineCount;
  }

  /** Whether another writer (the CLI, another window) appended since this store last read or wrote. */
  async changedOnDisk(): Promise<boolean> {
    await this.writing;
    const size = await stat(this.path).then((s) => s.size, () => 0);
    return size !== this.goodBytes + (this.torn?.bytes ?? 0);
  }

  /** Tasks that have a record. */
  get taskCount(): number {
    return this.latest.size;
  }

  /** Tasks that have a record (resume skips them). */
  has(taskId: string): boolean {
    return this.latest.has(taskId);
  }

  entry(taskId: string): CotEntry | undefined {
    return this.latest.get(taskId);
  }

  /** The entries of the records that count, in the order their tasks first appeared. */
  entries(): IterableIterator<CotEntry> {
    return this.latest.values();
  }

  /** The record that counts for a task (its last one), read from the file. */
  async get(taskId: string): Promise<CotRecord | undefined> {
    const entry = this.latest.get(taskId);
    if (!entry) return undefined;
    await this.writing;
    const file = await open(this.path, "r");
    try {
      const buffer = Buffer.alloc(entry.bytes);
      await file.read(buffer, 0, entry.bytes, entry.offset);
      const record = recordOf(buffer.toString("utf8"));
      if (record?.taskId !== taskId) throw new CotStoreError(`${this.path}:${entry.line}: changed on disk since it was opened; open the set again`);
      return record;
    } finally {
      await file.close();
    }
  }

  /** The records that count, one at a time (a large set is never all in memory). */
  async *records(): AsyncGenerator<CotRecord> {
    for (const entry of [...this.latest.values()]) {
      const record = await this.get(entry.taskId);
      if (record) yield record;
    }
  }

  summary(): CotSummary {
    const summary = emptySummary();
    for (const entry of this.latest.values()) {
      summary.total++;
      summary[entry.bucket]++;
      summary.promptTokens += entry.promptTokens;
      summary.completionTokens += entry.completionTokens;
    }
    return summary;
  }

  reviews(): CotReviewCounts {
    const counts: CotReviewCounts = { accepted: 0, rejected: 0, edited: 0 };
    for (const entry of this.latest.values()) if (entry.review) counts[entry.review]++;
    return counts;
  }

  /**
   * Appends one record as one line, after cutting off a torn line; it counts from now on. Records
   * appended while a write is in flight go out together in the next write (a group commit), so
   * many workers appending at once cost one file write per batch, not one per record.
   */
  append(record: CotRecord): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queued.push({ record, resolve, reject });
      if (!this.flushing) this.writing = this.flushing = this.flush();
    });
  }

  private async flush(): Promise<void> {
    while (this.queued.length) {
      const batch = this.queued.splice(0);
      try {
        await this.write(batch.map((b) => b.record));
        for (const b of batch) b.resolve();
      } catch (err) {
        for (const b of batch) b.reject(err);
      }
    }
    this.flushing = undefined;
  }

  private async write(records: CotRecord[]): Promise<void> {
    if (this.torn) {
      await truncate(this.path, this.goodBytes);
      this.torn = null;
    }
    const file = await open(this.path, "a+");
    try {
      const size = (await file.stat()).size;
      const needsNewline = size > 0 && (await lastByte(file, size)) !== 0x0a;
      const lines = records.map((record) => JSON.stringify(record));
      const text = `${needsNewline ? "\n" : ""}${lines.map((line) => `${line}\n`).join("")}`;
      // One write call: a kill leaves whole lines and at most a torn last one, never a torn line
      // followed by another.
      await file.write(text);
      let offset = size + (needsNewline ? 1 : 0);
      this.lineCount += needsNewline ? 1 : 0;
      records.forEach((record, i) => {
        const bytes = Buffer.byteLength(lines[i]!);
        this.lineCount++;
        this.latest.set(record.taskId, entryOf(record, this.lineCount, offset, bytes));
        offset += bytes + 1;
      });
      this.goodBytes = offset;
    } finally {
      await file.close();
    }
  }
}

function entryOf(record: CotRecord, line: number, offset: number, bytes: number): CotEntry {
  return {
    taskId: record.taskId,
    line,
    offset,
    bytes,
    bucket: bucketOf(record),
    status: record.status,
    ...(record.review ? { review: record.review.decision } : {}),
    hasCode: Boolean(record.teacherCode),
    verified: record.verification !== undefined,
    promptTokens: record.usage?.promptTokens ?? 0,
    completionTokens: record.usage?.completionTokens ?? 0,
  };
}

interface RawLine {
  offset: number;
  bytes: Buffer;
  /** False for a last line without its newline. */
  terminated: boolean;
}

/** The file's lines as bytes with their offsets, read a chunk at a time. */
async function* linesOf(file: FileHandle): AsyncGenerator<RawLine> {
  let carry = Buffer.alloc(0);
  let carryOffset = 0;
  let position = 0;
  for (;;) {
    const buffer = Buffer.alloc(CHUNK);
    const { bytesRead } = await file.read(buffer, 0, CHUNK, position);
    if (bytesRead === 0) break;
    position += bytesRead;
    let data = carry.length ? Buffer.concat([carry, buffer.subarray(0, bytesRead)]) : buffer.subarray(0, bytesRead);
    let start = 0;
    for (let newline = data.indexOf(0x0a); newline !== -1; newline = data.indexOf(0x0a, start)) {
      yield { offset: carryOffset + start, bytes: data.subarray(start, newline), terminated: true };
      start = newline + 1;
    }
    carryOffset += start;
    carry = Buffer.from(data.subarray(start));
    data = carry;
  }
  if (carry.length) yield { offset: carryOffset, bytes: carry, terminated: false };
}

async function lastByte(file: FileHandle, size: number): Promise<number> {
  const buffer = Buffer.alloc(1);
  await file.read(buffer, 0, 1, size - 1);
  return buffer[0]!;
}

function recordOf(text: string): CotRecord | undefined {
  try {
    const value = JSON.parse(text) as Partial<CotRecord> | null;
    return value && typeof value === "object" && typeof value.taskId === "string" ? (value as CotRecord) : undefined;
  } catch {
    return undefined;
  }
}
