// What the dataset browser, the tree view and the CLI need from a loaded dataset.
import type { Task, TaskSource, TaskTests } from "./task";

export type DatasetFormat =
  | "taco"
  | "mbpp"
  | "mbpp-sanitized"
  | "humaneval"
  | "humaneval+"
  | "mbpp+"
  | "tasks" // normalized Task JSONL, as written by `codistill dataset export`
  | "custom"; // any JSONL/Parquet with a field mapping from codistill.yaml

/** A row that could not be mapped. `where` names the file and line (JSONL) or row (Parquet/JSON). */
export interface Rejection {
  where: string;
  field?: string;
  reason: string;
}

/** What the list shows for one task; kept in memory for every row. */
export interface TaskSummary {
  /** Position among the accepted rows, 0-based. */
  index: number;
  id: string;
  /** First line of the problem, trimmed for display. */
  title: string;
  source: TaskSource;
  difficulty?: string;
  tags: string[];
  testKind: TaskTests["kind"];
  testCount: number;
  solutionCount: number;
}

export interface TaskFilter {
  /** Free text over titles and questions; every word must match (case-insensitive). */
  text?: string;
  sources?: string[];
  difficulties?: string[];
  /** A task matches when it has any of these tags. */
  tags?: string[];
}

export interface DatasetStats {
  format: DatasetFormat;
  rows: number;
  rejected: Rejection[];
  sources: Record<string, number>;
  difficulties: Record<string, number>;
}

export interface DatasetIndex {
  readonly path: string;
  readonly format: DatasetFormat;
  readonly summaries: readonly TaskSummary[];
  readonly rejected: readonly Rejection[];
  /** Indices into `summaries` of the tasks matching the filter, in file order. */
  search(filter: TaskFilter): number[];
  /** The whole task, read from disk on demand. */
  task(index: number): Promise<Task>;
  stats(): DatasetStats;
  /** True once every row is indexed; false only while a firstPage open indexes in the background. */
  readonly complete: boolean;
  /** Resolves when every row is indexed; rejects if indexing failed or was aborted after openDataset resolved. */
  whenIndexed(): Promise<void>;
  /** Releases open file handles and stops background indexing. */
  close(): Promise<void>;
}

/** A field mapping for custom JSONL/Parquet, declared in codistill.yaml. */
export interface FieldMapping {
  id: string;
  prompt: string;
  solutions?: string;
  tests?: string;
  entryPoint?: string;
  starterCode?: string;
  difficulty?: string;
  tags?: string;
}

export interface OpenDatasetOptions {
  /** Detected from the file name and first record when absent. */
  format?: DatasetFormat;
  mapping?: FieldMapping;
  /** Only TACO: keep only solutions that parse as Python 3, and tasks that keep at least one. */
  pythonOnly?: boolean;
  /** Only TACO: TACO's output_spj.jsonl ({idx, special_judge, case} per line, idx = row), read into StdioTests.specialJudge. */
  specialJudgeFile?: string;
  /** Only TACO: a column holding each row's special judge, as case 0-3 or its name, instead of a file. */
  specialJudgeColumn?: string;
  /**
   * Resolve openDataset as soon as this many rows are indexed (or the file ends) and index the
   * rest in the background: `summaries` grows, `complete` turns true, `whenIndexed()` resolves.
   * Absent: openDataset resolves once every row is indexed.
   */
  firstPage?: number;
  signal?: AbortSignal;
  onProgress?: (rowsRead: number, bytesRead: number, totalBytes: number) => void;
}
