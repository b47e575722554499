// The rows of one query result, fetched from the host in fixed-size pages. A cache belongs to
// one query: a new query makes a new cache and disposes of the old one, whose late answers are
// then dropped.
import type { TaskSummary } from "../../src/core/datasets/api";

export type FetchRows = (start: number, count: number) => Promise<{ start: number; rows: TaskSummary[] }>;

export interface RowCacheOptions {
  pageSize?: number;
  /** Pages kept in memory; the least recently wanted go first. */
  maxPages?: number;
  /** Requests in flight for pages the list wants (explicit `load`s do not wait for a slot). */
  maxInFlight?: number;
}

export class RowCache {
  readonly pageSize: number;
  private readonly maxPages: number;
  private readonly maxInFlight: number;
  private readonly pages = new Map<number, TaskSummary[]>();
  private readonly pending = new Map<number, Promise<TaskSummary[] | undefined>>();
  private wanted: number[] = [];
  private disposed = false;

  constructor(
    readonly count: number,
    private readonly fetchRows: FetchRows,
    /** Called when a page arrives, so the list can draw its rows. */
    private readonly onPage: (page: number) => void,
    private readonly onError: (error: Error) => void,
    options: RowCacheOptions = {},
  ) {
    this.pageSize = options.pageSize ?? 100;
    this.maxPages = Math.max(4, options.maxPages ?? 300);
    this.maxInFlight = options.maxInFlight ?? 4;
  }

  get pageCount(): number {
    return Math.ceil(this.count / this.pageSize);
  }

  /** The row at `position` if its page is here. */
  get(position: number): TaskSummary | undefined {
    return this.pages.get(Math.floor(position / this.pageSize))?.[position % this.pageSize];
  }

  /** The list shows rows `first..last`: fetch their pages, nearest the middle first. */
  want(first: number, last: number): void {
    if (this.disposed || this.count === 0) return;
    const from = Math.max(0, Math.floor(first / this.pageSize));
    const to = Math.min(this.pageCount - 1, Math.floor(Math.max(first, last) / this.pageSize));
    const middle = (from + to) / 2;
    const pages: number[] = [];
    for (let p = from; p <= to; p++) pages.push(p);
    pages.sort((a, b) => Math.abs(a - middle) - Math.abs(b - middle));
    this.wanted = pages;
    for (const p of pages) {
      const rows = this.pages.get(p);
      if (rows) {
        // Most recently wanted last, so eviction takes the oldest.
        this.pages.delete(p);
        this.pages.set(p, rows);
      }
    }
    this.pump();
  }

  /** The row at `position`, fetching its page when needed; undefined once disposed or on failure. */
  async load(position: number): Promise<TaskSummary | undefined> {
    if (position < 0 || position >= this.count) return undefined;
    const rows = await this.page(Math.floor(position / this.pageSize));
    return rows?.[position % this.pageSize];
  }

  /**
   * Where the task with dataset index `index` is in this result, or undefined when it is not
   * there. Results keep file order, so a binary search over pages finds it; `hint` is tried first.
   */
  async locate(index: number, hint?: number): Promise<number | undefined> {
    if (hint !== undefined && hint >= 0 && hint < this.count) {
      const row = this.get(hint) ?? (await this.load(hint));
      if (row?.index === index) return hint;
    }
    for (const [p, rows] of this.pages) {
      const at = rows.findIndex((r) => r.index === index);
      if (at !== -1) return p * this.pageSize + at;
    }
    let lo = 0;
    let hi = this.pageCount - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const rows = await this.page(mid);
      if (!rows || rows.length === 0) return undefined;
      if (index < rows[0]!.index) hi = mid - 1;
      else if (index > rows[rows.length - 1]!.index) lo = mid + 1;
      else {
        const at = rows.findIndex((r) => r.index === index);
        return at === -1 ? undefined : mid * this.pageSize + at;
      }
    }
    return undefined;
  }

  dispose(): void {
    this.disposed = true;
    this.wanted = [];
  }

  private page(p: number): Promise<TaskSummary[] | undefined> {
    const rows = this.pages.get(p);
    if (rows) return Promise.resolve(rows);
    const pending = this.pending.get(p);
    if (pending) return pending;
    if (this.disposed) return Promise.resolve(undefined);
    const start = p * this.pageSize;
    const count = Math.min(this.pageSize, this.count - start);
    const request = this.fetchRows(start, count).then(
      (result) => {
        this.pending.delete(p);
        if (this.disposed) return undefined;
        const fetched = result.rows;
        this.pages.set(p, fetched);
        this.evict();
        this.onPage(p);
        this.pump();
        return fetched;
      },
      (err: unknown) => {
        this.pending.delete(p);
        if (!this.disposed) this.onError(err instanceof Error ? err : new Error(String(err)));
        return undefined;
      },
    );
    this.pending.set(p, request);
    return request;
  }

  private pump(): void {
    for (const p of this.wanted) {
      if (this.pending.size >= this.maxInFlight) return;
      if (!this.pages.has(p) && !this.pending.has(p)) void this.page(p);
    }
  }

  private evict(): void {
    if (this.pages.size <= this.maxPages) return;
    const keep = new Set(this.wanted);
    for (const p of this.pages.keys()) {
      if (this.pages.size <= this.maxPages) return;
      if (!keep.has(p)) this.pages.delete(p);
    }
  }
}
