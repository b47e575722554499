// The CoT sets of a workspace and the counts the explorer and the training panel show of each,
// read from real files: the last record of a task counts, a torn last line is not counted, a
// corrupt set is an error naming its line.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { cotSetDescription, cotSetDetails, describeCotSet, listCotSets, readCotSetSummary, statusCounts } from "../../src/core/cot/cotSets";
import { emptySummary } from "../../src/core/cot/stats";
import type { CotRecord } from "../../src/core/cot/store";

const tmp = mkdtempSync(join(tmpdir(), "codistill-cot-sets-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

function record(taskId: string, status: CotRecord["status"], extra: Partial<CotRecord> = {}): CotRecord {
  return {
    taskId,
    teacher: { model: "teacher-70b", endpoint: "http://127.0.0.1:8000/v1", temperature: 0.2, promptHash: `sha256:${"0".repeat(64)}` },
    createdAt: "2026-12-04T00:00:00Z",
    intent: `Solve ${taskId}.`,
    steps: ["Read the input.", "Compute the answer."],
    formulas: [],
    edgeCases: [],
    raw: "{}",
    status,
    problems: [],
    ...extra,
  };
}

const lines = (records: CotRecord[]) => records.map((r) => `${JSON.stringify(r)}\n`).join("");
const usage = (promptTokens: number, completionTokens: number) => ({ usage: { promptTokens, completionTokens } });

describe("CoT set summaries", () => {
  const workspace = join(tmp, "ws");
  const cots = join(workspace, ".codistill", "cots");
  mkdirSync(cots, { recursive: true });
  const path = join(cots, "humaneval-cots.jsonl");
  writeFileSync(
    path,
    lines([
      // t1 is regenerated: only its last record counts.
      record("t1", "invalid", usage(100, 10)),
      record("t1", "verified", { ...usage(1000, 200), review: { decision: "accepted", at: "2026-12-05T00:00:00Z" } }),
      record("t2", "verified", usage(1200, 300)),
      record("t3", "valid", { ...usage(900, 150), review: { decision: "rejected", at: "2026-12-05T00:00:00Z" } }),
      record("t4", "failed-verification", { ...usage(800, 100), review: { decision: "edited", at: "2026-12-05T00:00:00Z" } }),
      record("t5", "invalid", { ...usage(50, 5), failure: "HTTP 500 after 3 attempts" }),
      record("t6", "invalid"),
    ]) + '{"taskId": "t7", "status": "val',
  );

  it("counts the last record of each task by status, with reviews and tokens; a torn last line is left out", async () => {
    const counts = await readCotSetSummary(path);
    assert.deepEqual(counts.summary, { total: 6, valid: 1, invalid: 1, verified: 2, failedVerification: 1, failed: 1, promptTokens: 3950, completionTokens: 755 });
    assert.deepEqual(counts.reviews, { accepted: 1, rejected: 1, edited: 1 });
    assert.equal(describeCotSet(counts), "6 tasks: 2 verified, 1 valid, 1 failed verification, 1 invalid, 1 failed; reviewed: 1 accepted, 1 rejected, 1 edited");
    assert.equal(cotSetDescription(counts), "2 verified · 1 valid · 1 failed verification · 1 invalid · 1 failed | 1 accepted · 1 rejected · 1 edited");
    assert.deepEqual(cotSetDetails(counts), [
      "6 tasks: 2 verified · 1 valid · 1 failed verification · 1 invalid · 1 failed",
      "verified share 67% of checked teacher code",
      "review: 1 accepted · 1 rejected · 1 edited",
      "tokens: 3,950 prompt · 755 completion",
    ]);
  });

  it("shows only the non-zero buckets, in the order verified, valid, failed verification, invalid, failed", () => {
    const summary = { ...emptySummary(), total: 122, verified: 80, valid: 30, invalid: 10, failed: 2 };
    assert.deepEqual(statusCounts(summary), ["80 verified", "30 valid", "10 invalid", "2 failed"]);
    const counts = { summary, reviews: { accepted: 0, rejected: 0, edited: 0 } };
    assert.equal(cotSetDescription(counts), "80 verified · 30 valid · 10 invalid · 2 failed");
    assert.equal(describeCotSet(counts), "122 tasks: 80 verified, 30 valid, 10 invalid, 2 failed");
    assert.equal(cotSetDetails(counts)[1], "verified share 100% of checked teacher code");
  });

  it("reads a missing set as empty, and names the line of a corrupt one", async () => {
    const empty = await readCotSetSummary(join(cots, "missing.jsonl"));
    assert.deepEqual(empty.summary, emptySummary());
    assert.equal(describeCotSet(empty), "0 tasks");
    assert.equal(cotSetDescription(empty), "empty");
    assert.deepEqual(cotSetDetails(empty).slice(1, 3), ["no teacher code checked", "review: 0 accepted · 0 rejected · 0 edited"]);

    const corrupt = join(cots, "corrupt.jsonl");
    writeFileSync(corrupt, `${lines([record("t1", "valid")])}not json\n${lines([record("t2", "valid")])}`);
    await assert.rejects(readCotSetSummary(corrupt), (err: Error) => err.message.includes(`${corrupt}:2`));
  });

  it("lists the sets of .codistill/cots/ by name", async () => {
    const other = join(tmp, "listing");
    mkdirSync(join(other, ".codistill", "cots", "folder.jsonl"), { recursive: true });
    for (const name of ["mbpp-cots.jsonl", "humaneval-cots.jsonl", "notes.txt"]) writeFileSync(join(other, ".codistill", "cots", name), "");
    assert.deepEqual(await listCotSets(other), [
      { name: "humaneval-cots", path: join(other, ".codistill", "cots", "humaneval-cots.jsonl") },
      { name: "mbpp-cots", path: join(other, ".codistill", "cots", "mbpp-cots.jsonl") },
    ]);
    assert.deepEqual(await listCotSets(join(tmp, "no-workspace")), []);
  });
});
