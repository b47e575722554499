// The Dataset Browser's CoT view, decided without VS Code: a record made into what the detail
// shows, the list's badges, the status filter with its counts over a real set (the humaneval
// fixture through CotStore.entry), and the set reviewed by default.
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { reviewed } from "../../src/core/cot/curate";
import { CotStore, type CotRecord } from "../../src/core/cot/store";
import { withVerdict } from "../../src/core/cot/verify";
import { cotFilterCounts, cotMarkOf, cotViewOf, defaultCotSet, filterByCot, matchesCotFilter, type CotEntryLike } from "../../src/panels/datasetBrowser/cotView";
import { COT_FILTERS, COT_FILTER_LABELS, type CotFilter } from "../../src/panels/datasetBrowser/protocol";
import { REPO } from "./helpers";

const tmp = mkdtempSync(join(tmpdir(), "codistill-cot-view-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

const at = new Date("2026-03-01T10:00:00Z");

function record(overrides: Partial<CotRecord> = {}): CotRecord {
  return {
    taskId: "HumanEval/7",
    teacher: { model: "teacher-70b", endpoint: "http://127.0.0.1:8000/v1", temperature: 0.2, promptHash: `sha256:${"0".repeat(64)}` },
    createdAt: "2026-02-01T00:00:00Z",
    intent: "Keep the strings that contain the substring.",
    steps: ["Walk the list.", "Keep a string when `substring in s`."],
    formulas: ["substring in s"],
    edgeCases: ["an empty list gives an empty list"],
    teacherCode: "def filter_by_substring(strings, substring):\n    return [s for s in strings if substring in s]\n",
    raw: '{"intent": "Keep the strings that contain the substring."}',
    status: "valid",
    problems: [],
    usage: { promptTokens: 412, completionTokens: 96 },
    attempts: 2,
    ...overrides,
  };
}

describe("the CoT view of a record", () => {
  it("carries the sections, the code, the raw answer and the meta line's facts", () => {
    const view = cotViewOf(record(), "humaneval-cots");
    assert.deepEqual(view, {
      set: "humaneval-cots",
      taskId: "HumanEval/7",
      bucket: "valid",
      review: null,
      intent: "Keep the strings that contain the substring.",
      steps: ["Walk the list.", "Keep a string when `substring in s`."],
      formulas: ["substring in s"],
      edgeCases: ["an empty list gives an empty list"],
      teacherCode: "def filter_by_substring(strings, substring):\n    return [s for s in strings if substring in s]\n",
      problems: [],
      verification: null,
      failure: null,
      raw: '{"intent": "Keep the strings that contain the substring."}',
      meta: { model: "teacher-70b", endpoint: "http://127.0.0.1:8000/v1", promptTokens: 412, completionTokens: 96, attempts: 2, createdAt: "2026-02-01T00:00:00Z" },
      canReview: true,
    });
  });

  it("shows a failed verification once: the failing test and message, not again among the problems", () => {
    const judged = withVerdict(record({ problems: ["steps: step 2 is long"] }), { status: "failed", failedTest: 3, message: "AssertionError: expected ['abc']" }, at);
    assert.deepEqual(judged.problems, ["verification: failed on test 3: AssertionError: expected ['abc']", "steps: step 2 is long"]);
    const view = cotViewOf(judged, "s");
    assert.equal(view.bucket, "failedVerification");
    assert.deepEqual(view.verification, { status: "failed", failedTest: 3, message: "AssertionError: expected ['abc']" });
    assert.deepEqual(view.problems, ["steps: step 2 is long"]);
    assert.equal(view.canReview, true);
    // A pass keeps every problem (there is no verdict line to show).
    const passed = cotViewOf(withVerdict(record({ problems: ["formulas: none given"] }), { status: "passed", failedTest: null, message: null }, at), "s");
    assert.equal(passed.bucket, "verified");
    assert.deepEqual(passed.problems, ["formulas: none given"]);
  });

  it("has the review decision, and a failed record (no answer) cannot be accepted or rejected", () => {
    const accepted = cotViewOf(reviewed(record(), "accepted", at), "s");
    assert.deepEqual(accepted.review, { decision: "accepted", at: at.toISOString() });
    const failed = cotViewOf(
      record({ status: "invalid", intent: "", steps: [], formulas: [], edgeCases: [], teacherCode: undefined, raw: "", failure: "HTTP 503 after 3 retries", usage: undefined, attempts: undefined }),
      "s",
    );
    assert.equal(failed.bucket, "failed");
    assert.equal(failed.failure, "HTTP 503 after 3 retries");
    assert.equal(failed.canReview, false);
    assert.equal(failed.teacherCode, null);
    assert.deepEqual(failed.meta, { model: "teacher-70b", endpoint: "http://127.0.0.1:8000/v1", promptTokens: null, completionTokens: null, attempts: null, createdAt: "2026-02-01T00:00:00Z" });
    // An invalid answer (it came, it did not validate) can be judged by a person.
    assert.equal(cotViewOf(record({ status: "invalid", problems: ["intent: missing"] }), "s").canReview, true);
  });
});

describe("the status filter", () => {
  const valid: CotEntryLike = { bucket: "valid" };
  const accepted: CotEntryLike = { bucket: "verified", review: "accepted" };
  const rejected: CotEntryLike = { bucket: "invalid", review: "rejected" };
  const edited: CotEntryLike = { bucket: "valid", review: "edited" };
  const failed: CotEntryLike = { bucket: "failed" };
  const failedVerification: CotEntryLike = { bucket: "failedVerification" };

  it("offers every status, missing reasoning and review decision, in order", () => {
    assert.deepEqual(COT_FILTERS, ["any", "verified", "valid", "failedVerification", "invalid", "failed", "none", "accepted", "rejected", "edited", "unreviewed"]);
    assert.deepEqual(COT_FILTERS.map((f) => COT_FILTER_LABELS[f]), ["any", "verified", "valid", "failed verification", "invalid", "failed", "no reasoning", "accepted", "rejected", "edited", "not reviewed"]);
  });

  it("matches a task by its record's bucket, by its review, or by having no record", () => {
    const table: [CotEntryLike | undefined, CotFilter[]][] = [
      [undefined, ["any", "none"]],
      [valid, ["any", "valid", "unreviewed"]],
      [accepted, ["any", "verified", "accepted"]],
      [rejected, ["any", "invalid", "rejected"]],
      [edited, ["any", "valid", "edited"]],
      // Nothing to review in a failed record: "not reviewed" is what a reviewer has left to judge.
      [failed, ["any", "failed"]],
      [failedVerification, ["any", "failedVerification", "unreviewed"]],
    ];
    for (const [entry, matching] of table) {
      assert.deepEqual(COT_FILTERS.filter((f) => matchesCotFilter(entry, f)), matching, JSON.stringify(entry));
    }
  });

  it("counts the dataset's tasks under every filter", () => {
    const counts = cotFilterCounts([undefined, valid, accepted, rejected, edited, failed, failedVerification, undefined]);
    assert.deepEqual(counts, { any: 8, verified: 1, valid: 2, failedVerification: 1, invalid: 1, failed: 1, none: 2, accepted: 1, rejected: 1, edited: 1, unreviewed: 2 });
  });

  it("narrows a search's matches by the records of a real set, without reading records", async () => {
    const path = join(tmp, "humaneval-slice.jsonl");
    copyFileSync(join(REPO, "test", "fixtures", "cots", "humaneval-slice.jsonl"), path);
    const store = await CotStore.open(path);
    const ids = ["HumanEval/0", "HumanEval/1", "HumanEval/2", "HumanEval/32", "HumanEval/99"];
    const entryOf = (i: number) => store.entry(ids[i]!);
    const all = [0, 1, 2, 3, 4];
    assert.deepEqual(filterByCot(all, "any", entryOf), all);
    assert.deepEqual(filterByCot(all, "none", entryOf), [1, 4]);
    assert.deepEqual(filterByCot(all, "accepted", entryOf), [0]);
    assert.deepEqual(filterByCot([2, 3, 4], "unreviewed", entryOf), [2, 3]);
    // A review appended later counts: the last record of a task is the one that counts.
    await store.append(reviewed((await store.get("HumanEval/2"))!, "rejected", at));
    assert.deepEqual(filterByCot(all, "rejected", entryOf), [2]);
    const counts = cotFilterCounts(ids.map((id) => store.entry(id)));
    assert.equal(counts.any, 5);
    assert.equal(counts.none, 2);
    assert.equal(counts.rejected, 1);
    assert.equal(counts.verified + counts.valid + counts.failedVerification + counts.invalid + counts.failed, 3);
  });

  it("marks a row with its bucket and decision", () => {
    assert.equal(cotMarkOf(undefined), null);
    assert.deepEqual(cotMarkOf({ bucket: "valid" }), { bucket: "valid" });
    assert.deepEqual(cotMarkOf({ bucket: "verified", review: "accepted" }), { bucket: "verified", review: "accepted" });
  });
});

describe("the CoT set reviewed by default", () => {
  const set = (name: string, ids: string[]) => ({ name, open: async () => ({ has: (id: string) => ids.includes(id) }) });
  const ids = ["mbpp/1", "mbpp/2"];

  it("is <dataset>-cots when it exists, without reading any set", async () => {
    const unreadable = { name: "other", open: () => Promise.reject(new Error("read")) };
    assert.equal(await defaultCotSet("mbpp", [unreadable, { name: "mbpp-cots", open: () => Promise.reject(new Error("not read")) }], ids), "mbpp-cots");
  });

  it("else the first set with a record of one of the dataset's tasks, passing over unreadable sets", async () => {
    const broken = { name: "a-broken", open: () => Promise.reject(new Error("corrupt line 3")) };
    assert.equal(await defaultCotSet("mbpp", [broken, set("b-humaneval", ["HumanEval/0"]), set("c-mbpp", ["mbpp/2"]), set("d-mbpp", ["mbpp/1"])], ids), "c-mbpp");
  });

  it("else none", async () => {
    assert.equal(await defaultCotSet("mbpp", [set("humaneval-cots", ["HumanEval/0"])], ids), null);
    assert.equal(await defaultCotSet("mbpp", [], ids), null);
  });
});
