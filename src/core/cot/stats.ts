// The counts of a CoT set, as `codistill cots stats` prints them and the explorer shows them. They
// count the record that counts for each task (its last one), so a regenerated or reviewed task is
// counted once; the store keeps them (CotStore.summary) without reading the records back. `failed` (the teacher gave no usable answer) is apart from `invalid` (it answered,
// and the answer did not pass validation).
import type { CotRecord } from "./record";

/** The CLI's summary: these keys, in this order, are an interface scripts read. */
export interface CotSummary {
  total: number;
  valid: number;
  invalid: number;
  verified: number;
  failedVerification: number;
  failed: number;
  promptTokens: number;
  completionTokens: number;
}

/** What a person decided, beside the summary (the explorer and the browser show it). */
export interface CotReviewCounts {
  accepted: number;
  rejected: number;
  edited: number;
}

export function emptySummary(): CotSummary {
  return { total: 0, valid: 0, invalid: 0, verified: 0, failedVerification: 0, failed: 0, promptTokens: 0, completionTokens: 0 };
}

/** The summary's bucket of a record: its status, or "failed" when the teacher never answered usably. */
export type CotBucket = "valid" | "invalid" | "verified" | "failedVerification" | "failed";

export function bucketOf(record: CotRecord): CotBucket {
  if (record.failure !== undefined) return "failed";
  return record.status === "failed-verification" ? "failedVerification" : record.status;
}

/**
 * The share of checked teacher code that passed: verified / (verified + failedVerification), or
 * null when nothing was run. The check none of the peers make, reported per set.
 */
export function verifiedShare(summary: CotSummary): number | null {
  const checked = summary.verified + summary.failedVerification;
  return checked ? summary.verified / checked : null;
}
