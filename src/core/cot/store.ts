// A CoT set on disk: `.codistill/cots/<name>.jsonl`, one record per line, append-only (DESIGN.md,
// "CoT record"). The last record of a task is the one that counts; the history stays. A process
// killed mid-write leaves at most one torn last line: it is reported when the set is opened and
// cut off before the next append, so the file stays valid JSONL and no finished record is lost.
import { open, readFile, truncate } from "node:fs/promises";

export type CotStatus = "valid" | "invalid" | "verified" | "failed-verification";

export interface CotRecord {
  taskId: string;
  teacher: { model: string; endpoint: string; temperature: number; promptHash: string };
  createdAt: string;
  intent: string;
  steps: string[];
  formulas: string[];
  edgeCases: string[];
  teacherCode?: string;
  raw: string;
  status: CotStatus;
  problems: string[];
}

export interface TornLine {
  line: number;
  /** Bytes of the torn line, cut off at the next append. */
  bytes: number;
}

export class CotStoreError extends Error {}

export class CotStore {
  private constructor(
    readonly path: string,
    private readonly latest: Map<string, CotRecord>,
    private torn: TornLine | null,
    private goodBytes: number,
    readonly lines: number,
  ) {}

  /**
   * Reads the set (a missing file is an empty set). A bad line that is not the last one is an
   * error naming it: only the last line can be torn by a kill, anything else is corruption.
   */
  static async open(path: string): Promise<CotStore> {
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return new CotStore(path, new Map(), null, 0, 0);
      throw new CotStoreError(`cannot read ${path}: ${(err as Error).message}`);
    }
    const latest = new Map<string, CotRecord>();
    let offset = 0;
    let line = 0;
    while (offset < bytes.length) {
      const newline = bytes.indexOf(0x0a, offset);
      const end = newline === -1 ? bytes.length : newline;
      line++;
      const text = bytes.subarray(offset, end).toString("utf8");
      if (text.trim()) {
        const record = recordOf(text);
        if (!record) {
          if (newline === -1) return new CotStore(path, latest, { line, bytes: end - offset }, offset, line - 1);
          throw new CotStoreError(`${path}:${line}: not a CoT record (only a torn last line is repaired)`);
        }
        latest.set(record.taskId, record);
      }
      offset = newline === -1 ? bytes.length : newline + 1;
    }
    // A complete record without its newline is kept, and the newline added before the next append.
    return new CotStore(path, latest, null, bytes.length, line);
  }

  /** The torn last line found when opened, until the next append cuts it off. */
  get tornLine(): TornLine | null {
    return this.torn;
  }

  /** The record that counts for a task: its last one. */
  get(taskId: string): CotRecord | undefined {
    return this.latest.get(taskId);
  }

  /** Tasks that have a record (resume skips them). */
  has(taskId: string): boolean {
    return this.latest.has(taskId);
  }

  records(): CotRecord[] {
    return [...this.latest.values()];
  }

  /** Appends one record as one line, after cutting off a torn line; it counts from now on. */
  async append(record: CotRecord): Promise<void> {
    if (this.torn) {
      await truncate(this.path, this.goodBytes);
      this.torn = null;
    }
    const file = await open(this.path, "a+");
    try {
      const size = (await file.stat()).size;
      const needsNewline = size > 0 && (await lastByte(file, size)) !== 0x0a;
      const text = `${needsNewline ? "\n" : ""}${JSON.stringify(record)}\n`;
      // One write call per record: a kill leaves a whole line or a torn last one, never two half lines.
      await file.write(text);
      this.goodBytes = size + Buffer.byteLength(text);
    } finally {
      await file.close();
    }
    this.latest.set(record.taskId, record);
  }
}

async function lastByte(file: import("node:fs/promises").FileHandle, size: number): Promise<number> {
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
