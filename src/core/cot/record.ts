// The CoT record (DESIGN.md, "CoT record"), with the fields issue 14 added beside it. The
// sidecar's training reader (sidecar/src/codistill/training/cot.py) checks the same shape.

export type CotStatus = "valid" | "invalid" | "verified" | "failed-verification";
export const COT_STATUSES: readonly CotStatus[] = ["verified", "valid", "failed-verification", "invalid"];

/** A sandbox verdict on teacherCode (the statuses of eval/execute's results.json). */
export type VerificationStatus = "passed" | "failed" | "timeout" | "error" | "oom" | "needs_judge";

export type ReviewDecision = "accepted" | "rejected" | "edited";
export const REVIEW_DECISIONS: readonly ReviewDecision[] = ["accepted", "rejected", "edited"];

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
  // Beyond DESIGN.md's record (issue 14); the sidecar's reader (training/cot.py) knows them too.
  /** Tokens the teacher spent on this answer, retries and re-asks included. */
  usage?: { promptTokens: number; completionTokens: number };
  /** Teacher requests the answer took: retried requests and re-asks after a JSON-less or truncated answer. */
  attempts?: number;
  /** Why the teacher gave no usable answer after every retry (status is "invalid"); resume asks again. */
  failure?: string;
  /** The sandbox's verdict on teacherCode against the task's tests; failedTest is the index of the failing test. */
  verification?: { status: VerificationStatus; failedTest: number | null; message: string | null };
  /** A person's curation: accepted trains whatever the status, rejected never trains, edited was rewritten by hand. */
  review?: { decision: ReviewDecision; at: string };
}
