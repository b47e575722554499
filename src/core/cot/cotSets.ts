// The CoT sets of a workspace (`.codistill/cots/<name>.jsonl`) and what the explorer and the
// training panel show of each: its counts by status and what a person decided in review.
import { readdir } from "node:fs/promises";
import { basename, join } from "node:path";
import { verifiedShare, type CotReviewCounts, type CotSummary } from "./stats";
import { CotStore } from "./store";

export interface CotSet {
  name: string;
  path: string;
}

/** CoT sets are the `.jsonl` files under `.codistill/cots`, by name. */
export async function listCotSets(workspaceRoot: string): Promise<CotSet[]> {
  const root = join(workspaceRoot, ".codistill", "cots");
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile() && e.name.endsWith(".jsonl"))
    .map((e) => ({ name: basename(e.name, ".jsonl"), path: join(root, e.name) }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** A set's counts: the summary `codistill cots stats` prints, and the review decisions. */
export interface CotSetSummary {
  summary: CotSummary;
  reviews: CotReviewCounts;
}

/**
 * Reads a set and counts the record that counts for each task (its last one). A missing file is
 * an empty set; a torn last line (a writer killed mid-line) is not counted; a corrupt set throws
 * a CotStoreError naming the line.
 */
export async function readCotSetSummary(path: string): Promise<CotSetSummary> {
  const store = await CotStore.open(path);
  return { summary: store.summary(), reviews: store.reviews() };
}

const tasks = (n: number) => `${n} ${n === 1 ? "task" : "tasks"}`;

/** The status buckets in the order they are shown, with their words. */
const BUCKETS: readonly [keyof CotSummary, string][] = [
  ["verified", "verified"],
  ["valid", "valid"],
  ["failedVerification", "failed verification"],
  ["invalid", "invalid"],
  ["failed", "failed"],
];

/**
 * The non-zero status buckets, "80 verified", "30 valid", "2 failed verification", "10 invalid",
 * "1 failed", in that order; every zero bucket too with `all`.
 */
export function statusCounts(summary: CotSummary, all = false): string[] {
  return BUCKETS.filter(([key]) => all || summary[key] > 0).map(([key, word]) => `${summary[key]} ${word}`);
}

/** The non-zero review decisions, "5 accepted", "1 rejected", "2 edited"; every one with `all`. */
export function reviewCountsText(reviews: CotReviewCounts, all = false): string[] {
  return (["accepted", "rejected", "edited"] as const).filter((key) => all || reviews[key] > 0).map((key) => `${reviews[key]} ${key}`);
}

/** "120 tasks: 80 verified, 30 valid, 10 invalid; reviewed: 5 accepted", the line the training panel shows. */
export function describeCotSet({ summary, reviews }: CotSetSummary): string {
  const statuses = statusCounts(summary);
  const reviewed = reviewCountsText(reviews);
  return `${tasks(summary.total)}${statuses.length ? `: ${statuses.join(", ")}` : ""}${reviewed.length ? `; reviewed: ${reviewed.join(", ")}` : ""}`;
}

/** "80 verified · 30 valid · 10 invalid · 2 failed": the explorer's description of a set. */
export function cotSetDescription({ summary, reviews }: CotSetSummary): string {
  if (!summary.total) return "empty";
  const reviewed = reviewCountsText(reviews);
  return `${statusCounts(summary).join(" · ")}${reviewed.length ? ` | ${reviewed.join(" · ")}` : ""}`;
}

/** Every count of a set, a line each: statuses, the verified share, review decisions, the teacher's tokens. */
export function cotSetDetails({ summary, reviews }: CotSetSummary): string[] {
  const share = verifiedShare(summary);
  return [
    `${tasks(summary.total)}: ${statusCounts(summary, true).join(" · ")}`,
    share === null ? "no teacher code checked" : `verified share ${Math.round(share * 100)}% of checked teacher code`,
    `review: ${reviewCountsText(reviews, true).join(" · ")}`,
    `tokens: ${summary.promptTokens.toLocaleString("en-US")} prompt · ${summary.completionTokens.toLocaleString("en-US")} completion`,
  ];
}
