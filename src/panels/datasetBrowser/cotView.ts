// What the Dataset Browser shows of a CoT set, decided without VS Code or IO: the view of a record,
// the marks of the task list, the status filter and its counts, and which set to review by default.
// The host (Panel.ts) feeds it store entries (CotStore.entry, no IO) and records it has read.
import { bucketOf } from "../../core/cot/stats";
import type { CotEntry, CotRecord } from "../../core/cot/store";
import { COT_FILTERS, type CotFilter, type CotFilterCounts, type CotMark, type CotView } from "./protocol";

/** What the filter and the marks need of a task's record: CotStore.entry's bucket and review. */
export type CotEntryLike = Pick<CotEntry, "bucket" | "review">;

/** The detail's view of a record of `set`. */
export function cotViewOf(record: CotRecord, set: string): CotView {
  const bucket = bucketOf(record);
  const verification = record.verification
    ? { status: record.verification.status, failedTest: record.verification.failedTest ?? null, message: record.verification.message ?? null }
    : null;
  // The verdict is shown on its own line, from `verification`; the problem that repeats it is left out.
  const problems = verification && verification.status !== "passed" ? record.problems.filter((p) => !p.startsWith("verification: ")) : record.problems;
  return {
    set,
    taskId: record.taskId,
    bucket,
    review: record.review ? { decision: record.review.decision, at: record.review.at } : null,
    intent: record.intent ?? "",
    steps: record.steps ?? [],
    formulas: record.formulas ?? [],
    edgeCases: record.edgeCases ?? [],
    teacherCode: record.teacherCode ?? null,
    problems: [...(problems ?? [])],
    verification,
    failure: record.failure ?? null,
    raw: record.raw ?? "",
    meta: {
      model: record.teacher?.model ?? "",
      endpoint: record.teacher?.endpoint ?? "",
      promptTokens: record.usage?.promptTokens ?? null,
      completionTokens: record.usage?.completionTokens ?? null,
      attempts: record.attempts ?? null,
      createdAt: record.createdAt,
    },
    canReview: bucket !== "failed",
  };
}

/** A row's mark: its bucket and decision; null without a record. */
export function cotMarkOf(entry: CotEntryLike | undefined): CotMark | null {
  if (!entry) return null;
  return entry.review ? { bucket: entry.bucket, review: entry.review } : { bucket: entry.bucket };
}

/** Whether a task whose record in the set is `entry` (undefined: none) passes the status filter. */
export function matchesCotFilter(entry: CotEntryLike | undefined, filter: CotFilter): boolean {
  switch (filter) {
    case "any":
      return true;
    case "none":
      return entry === undefined;
    case "unreviewed":
      // What is left to review: a failed record has no answer to judge (regenerate it first).
      return entry !== undefined && entry.review === undefined && entry.bucket !== "failed";
    case "accepted":
    case "rejected":
    case "edited":
      return entry?.review === filter;
    default:
      return entry?.bucket === filter;
  }
}

/** The dataset's tasks (their records' entries, undefined where none) counted under every filter. */
export function cotFilterCounts(entries: Iterable<CotEntryLike | undefined>): CotFilterCounts {
  const counts = Object.fromEntries(COT_FILTERS.map((f) => [f, 0])) as CotFilterCounts;
  for (const entry of entries) {
    counts.any++;
    if (!entry) {
      counts.none++;
      continue;
    }
    counts[entry.bucket]++;
    if (entry.review) counts[entry.review]++;
    else if (entry.bucket !== "failed") counts.unreviewed++;
  }
  return counts;
}

/** The indexes of `matches` (dataset indexes) whose task passes the filter; `entryOf` looks a task up by index. */
export function filterByCot(matches: readonly number[], filter: CotFilter, entryOf: (index: number) => CotEntryLike | undefined): number[] {
  if (filter === "any") return [...matches];
  return matches.filter((i) => matchesCotFilter(entryOf(i), filter));
}

/** A set the default may pick: its name, and its records, read when the default gets to it. */
export interface CandidateSet {
  name: string;
  open(): Promise<{ has(taskId: string): boolean }>;
}

/**
 * The set the browser reviews when none was asked for: `<dataset>-cots` when it exists, else the
 * first set (in the order given) with a record of one of the dataset's tasks, else none. A set
 * that cannot be read is passed over.
 */
export async function defaultCotSet(datasetName: string, sets: readonly CandidateSet[], taskIds: readonly string[]): Promise<string | null> {
  const named = `${datasetName}-cots`;
  if (sets.some((s) => s.name === named)) return named;
  for (const set of sets) {
    const records = await set.open().catch(() => undefined);
    if (records && taskIds.some((id) => records.has(id))) return set.name;
  }
  return null;
}

/** A row's mark as a short key: what changed since the list last saw it. */
export function markKey(mark: CotMark | null, line?: number): string {
  return mark ? `${mark.bucket}|${mark.review ?? ""}|${line ?? ""}` : "";
}
