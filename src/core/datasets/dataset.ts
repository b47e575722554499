// The index of one dataset: a summary and a lowercase search text per accepted row, where to
// find the row again, and the rejected rows. Tasks are read back from disk on demand.
import { stat } from "node:fs/promises";
import type { DatasetFormat, DatasetIndex, DatasetStats, OpenDatasetOptions, Rejection, TaskFilter, TaskSummary } from "./api";
import { DatasetError, errorMessage, FieldError } from "./errors";
import { openSource } from "./files";
import type { RecordMapper } from "./formats/types";
import type { RawRecord, RecordSource } from "./sources/types";
import { searchTextOf, summarize } from "./summary";
import type { Task } from "./task";

const CACHED_TASKS = 32;
/** How stats() counts, and search() matches, a task without a difficulty. */
export const NO_DIFFICULTY = "unspecified";
const PROGRESS_INTERVAL_MS = 100;

/** A small LRU of tasks being read or read: browsing back and forth does not re-read the file. */
class TaskCache {
  private readonly entries = new Map<number, Promise<Task>>();

  constructor(private readonly capacity: number) {}

  get(index: number, load: () => Promise<Task>): Promise<Task> {
    let entry = this.entries.get(index);
    if (entry) {
      this.entries.delete(index);
    } else {
      entry = load();
      // A failed read is not kept: the next call tries again.
      entry.catch(() => this.entries.get(index) === entry && this.entries.delete(index));
    }
    this.entries.set(index, entry);
    while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return entry;
  }
}

function words(text: string | undefined): Buffer[] {
  return (text ?? "")
    .toLowerCase()
    .split(/\s+/)
    .filter((w) => w !== "")
    .map((w) => Buffer.from(w, "utf8"));
}

function nonEmptySet(values: string[] | undefined): Set<string> | undefined {
  return values?.length ? new Set(values) : undefined;
}

export class Dataset implements DatasetIndex {
  readonly summaries: TaskSummary[] = [];
  readonly rejected: Rejection[] = [];

  private readonly texts: Buffer[] = [];
  // Where each accepted row is: file, position in it, byte length, row in the dataset, and name.
  private readonly partOf: number[] = [];
  private readonly posOf: number[] = [];
  private readonly lenOf: number[] = [];
  private readonly rowOf: number[] = [];
  private readonly whereOf: string[] = [];

  private readonly sources: RecordSource[] = [];
  private readonly cache = new TaskCache(CACHED_TASKS);
  private readonly stop = new AbortController();
  private finished: Promise<void> = Promise.resolve();
  private failure: unknown;
  private indexed = false;
  private lastProgress = 0;

  constructor(
    readonly path: string,
    readonly format: DatasetFormat,
    private readonly mapper: RecordMapper,
    private readonly options: OpenDatasetOptions,
  ) {}

  get complete(): boolean {
    return this.indexed;
  }

  /** Starts indexing `files`; resolves once the first page is indexed (or all, without firstPage). */
  start(files: string[]): Promise<void> {
    const firstPage = this.options.firstPage ?? Number.POSITIVE_INFINITY;
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      const becomeReady = () => {
        if (!ready && this.summaries.length >= firstPage) {
          ready = true;
          resolve();
        }
      };
      this.finished = this.run(files, becomeReady).then(
        () => {
          this.indexed = true;
          ready = true;
          resolve();
        },
        (err: unknown) => {
          this.failure = err;
          if (!ready) reject(err);
          ready = true;
        },
      );
    });
  }

  private async run(files: string[], afterBatch: () => void): Promise<void> {
    const signal = this.options.signal ? AbortSignal.any([this.options.signal, this.stop.signal]) : this.stop.signal;
    const sizes = await Promise.all(files.map(async (f) => (await stat(f)).size));
    const totalBytes = sizes.reduce((a, b) => a + b, 0);
    let rowBase = 0;
    let bytesBefore = 0;
    let rowsRead = 0;
    for (const [part, file] of files.entries()) {
      const source = await openSource(file, { wanted: this.mapper.columns, required: this.mapper.required }, signal);
      this.sources.push(source);
      const base = rowBase;
      const count = await source.scan(
        {
          records: (batch) => {
            rowsRead += batch.length;
            this.add(batch, part, base);
            afterBatch();
          },
          problem: (rejection) => this.rejected.push(rejection),
          progress: (bytes) => this.reportProgress(rowsRead, bytesBefore + bytes, totalBytes, false),
        },
        signal,
      );
      rowBase += count;
      bytesBefore += sizes[part]!;
    }
    this.reportProgress(rowsRead, totalBytes, totalBytes, true);
  }

  private reportProgress(rowsRead: number, bytesRead: number, totalBytes: number, final: boolean): void {
    const onProgress = this.options.onProgress;
    if (!onProgress) return;
    const now = Date.now();
    if (!final && now - this.lastProgress < PROGRESS_INTERVAL_MS) return;
    this.lastProgress = now;
    onProgress(rowsRead, bytesRead, totalBytes);
  }

  private add(batch: RawRecord[], part: number, rowBase: number): void {
    for (const record of batch) {
      if (record.error) {
        this.reject(record.where, record.error);
        continue;
      }
      const row = rowBase + record.ordinal;
      let task: Task;
      try {
        task = this.mapper.map(record.fields!, { row });
      } catch (err) {
        this.reject(record.where, err);
        continue;
      }
      const summary = summarize(task, this.summaries.length);
      this.summaries.push(summary);
      this.texts.push(searchTextOf(task, summary.title));
      this.partOf.push(part);
      this.posOf.push(record.pos);
      this.lenOf.push(record.len);
      this.rowOf.push(row);
      this.whereOf.push(record.where);
    }
  }

  private reject(where: string, err: unknown): void {
    const field = err instanceof FieldError ? err.field : undefined;
    const reason = err instanceof FieldError ? err.reason : errorMessage(err);
    this.rejected.push(field ? { where, field, reason } : { where, reason });
  }

  search(filter: TaskFilter): number[] {
    const needles = words(filter.text);
    const sources = nonEmptySet(filter.sources);
    const difficulties = nonEmptySet(filter.difficulties);
    const tags = nonEmptySet(filter.tags);
    const out: number[] = [];
    const n = this.summaries.length;
    for (let i = 0; i < n; i++) {
      const s = this.summaries[i]!;
      if (sources && !sources.has(s.source)) continue;
      if (difficulties && !difficulties.has(s.difficulty ?? NO_DIFFICULTY)) continue;
      if (tags && !s.tags.some((t) => tags.has(t))) continue;
      if (needles.length) {
        const text = this.texts[i]!;
        if (!needles.every((w) => text.includes(w))) continue;
      }
      out.push(i);
    }
    return out;
  }

  task(index: number): Promise<Task> {
    if (!Number.isInteger(index) || index < 0 || index >= this.summaries.length) {
      return Promise.reject(new RangeError(`task ${index} is out of range: the dataset has ${this.summaries.length} tasks`));
    }
    return this.cache.get(index, () => this.load(index));
  }

  private async load(index: number): Promise<Task> {
    const where = this.whereOf[index]!;
    const source = this.sources[this.partOf[index]!]!;
    let fields;
    try {
      fields = await source.read(this.posOf[index]!, this.lenOf[index]!);
    } catch (err) {
      if (err instanceof DatasetError) throw err;
      throw new DatasetError(`${where}: cannot read the record again: ${errorMessage(err)}`, { cause: err });
    }
    try {
      return this.mapper.map(fields, { row: this.rowOf[index]! });
    } catch (err) {
      throw new DatasetError(`${where}: the record no longer maps (${errorMessage(err)}); open the dataset again`, { cause: err });
    }
  }

  /**
   * Every accepted task in file order, by scanning the files once more: an export reads each
   * file sequentially instead of seeking row by row.
   */
  async forEachTask(visit: (task: Task, index: number) => Promise<void> | void): Promise<void> {
    await this.whenIndexed();
    let index = 0;
    let rowBase = 0;
    for (const source of this.sources) {
      const base = rowBase;
      const records = async (batch: RawRecord[]) => {
        for (const record of batch) {
          if (!record.fields) continue;
          let task: Task;
          try {
            task = this.mapper.map(record.fields, { row: base + record.ordinal });
          } catch {
            continue; // rejected when indexed
          }
          await visit(task, index++);
        }
      };
      rowBase += await source.scan({ records, problem() {}, progress() {} }, this.stop.signal);
    }
    if (index !== this.summaries.length) {
      throw new DatasetError(`${this.path} changed while it was read: ${index} tasks now, ${this.summaries.length} when indexed; open the dataset again`);
    }
  }

  /** Position of the task with this id, or undefined. */
  indexOfId(id: string): number | undefined {
    const i = this.summaries.findIndex((s) => s.id === id);
    return i === -1 ? undefined : i;
  }

  stats(): DatasetStats {
    const sources: Record<string, number> = {};
    const difficulties: Record<string, number> = {};
    for (const s of this.summaries) {
      sources[s.source] = (sources[s.source] ?? 0) + 1;
      const d = s.difficulty ?? NO_DIFFICULTY;
      difficulties[d] = (difficulties[d] ?? 0) + 1;
    }
    return { format: this.format, rows: this.summaries.length, rejected: [...this.rejected], sources, difficulties };
  }

  whenIndexed(): Promise<void> {
    return this.finished.then(() => {
      if (this.failure) throw this.failure;
    });
  }

  async close(): Promise<void> {
    this.stop.abort(new DatasetError(`${this.path} was closed while it was being indexed`));
    await this.finished;
    await Promise.all(this.sources.map((s) => s.close()));
  }
}
