// Opened datasets, shared by the browser panel, the tree view and the commands, so a file is
// indexed once. An index is rebuilt when its file changes on disk.
import { stat } from "node:fs/promises";
import type { DatasetIndex, OpenDatasetOptions } from "./api";

/**
 * Indexes resolve once this many rows are indexed; the rest is indexed in the background
 * (`complete`, `whenIndexed()`), so a large file shows its first page quickly.
 */
export const FIRST_PAGE_ROWS = 200;

export interface DatasetRequest extends Omit<OpenDatasetOptions, "signal" | "onProgress" | "firstPage"> {
  path: string;
  name: string;
}

export type Opener = (path: string, options: OpenDatasetOptions) => Promise<DatasetIndex>;

interface Entry {
  key: string;
  mtimeMs: number;
  index: Promise<DatasetIndex>;
}

export class DatasetRegistry {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly open: Opener) {}

  async get(request: DatasetRequest, extra: Pick<OpenDatasetOptions, "signal" | "onProgress"> = {}): Promise<DatasetIndex> {
    const key = JSON.stringify([request.format, request.mapping, request.pythonOnly, request.specialJudgeFile, request.specialJudgeColumn]);
    const mtimeMs = (await stat(request.path)).mtimeMs;
    const cached = this.entries.get(request.path);
    if (cached && cached.key === key && cached.mtimeMs === mtimeMs) return cached.index;
    if (cached) void cached.index.then((i) => i.close(), () => undefined);
    const { path, name: _name, ...options } = request;
    const index = this.open(path, { ...options, ...extra, firstPage: FIRST_PAGE_ROWS });
    const entry: Entry = { key, mtimeMs, index };
    this.entries.set(path, entry);
    // A failed or cancelled load is not cached: the next request tries again.
    index.catch(() => {
      if (this.entries.get(path) === entry) this.entries.delete(path);
    });
    return index;
  }

  /** The whole index: every row, every rejection. */
  async complete(request: DatasetRequest): Promise<DatasetIndex> {
    const index = await this.get(request);
    await index.whenIndexed();
    return index;
  }

  /** The index if it is already loaded, without starting a load. */
  async loaded(path: string): Promise<DatasetIndex | undefined> {
    const entry = this.entries.get(path);
    if (!entry) return undefined;
    return entry.index.catch(() => undefined);
  }

  async closeAll(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(all.map((e) => e.index.then((i) => i.close(), () => undefined)));
  }
}
