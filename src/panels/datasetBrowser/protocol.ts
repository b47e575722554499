// Messages between the Dataset Browser webview and the extension host. Pure: imported by both.
import type { CotBucket } from "../../core/cot/stats";
import type { ReviewDecision, VerificationStatus } from "../../core/cot/store";
import type { Rejection, TaskFilter, TaskSummary, DatasetFormat } from "../../core/datasets/api";
import { floatText, isMarkedFloat, sourceKeyOrder } from "../../core/datasets/json";
import type { CallTests, Task, TaskTests } from "../../core/datasets/task";
import { noParams, type NoParams, type ParamsValidators } from "../shared/messages";

export const PANEL_ID = "codistill.datasetBrowser";
export const PANEL_TITLE = "Codistill Datasets";

/** Facet values with their row counts, most frequent first. */
export type Facet = [value: string, count: number][];

/** Pushed when a dataset finishes loading (and after `ready`, for the current one). */
export interface DatasetView {
  path: string;
  name: string;
  format: DatasetFormat;
  rows: number;
  /** False while the rest of a large file is still being indexed: a later push completes it. */
  complete: boolean;
  rejectedCount: number;
  /** The first rejections, for "N loaded, M rejected" with reasons. */
  rejected: Rejection[];
  facets: { sources: Facet; difficulties: Facet; tags: Facet };
}

export interface LoadingView {
  path: string;
  rowsRead: number;
  bytesRead: number;
  totalBytes: number;
}

/** The words of a CoT record's status bucket (src/core/cot/stats.ts), as badges and filters show them. */
export const COT_BUCKET_LABELS: Record<CotBucket, string> = {
  verified: "verified",
  valid: "valid",
  failedVerification: "failed verification",
  invalid: "invalid",
  failed: "failed",
};

/** The reasoning of one task in the CoT set the browser reviews: what the detail shows of its record. */
export interface CotView {
  /** The CoT set it is from. */
  set: string;
  taskId: string;
  bucket: CotBucket;
  /** A person's decision, when there is one. */
  review: { decision: ReviewDecision; at: string } | null;
  intent: string;
  steps: string[];
  formulas: string[];
  edgeCases: string[];
  teacherCode: string | null;
  /** The validator's and the sandbox's problems, one a line (the verdict is in `verification`). */
  problems: string[];
  /** The sandbox's verdict on teacherCode; failedTest is the index of the failing test. */
  verification: { status: VerificationStatus; failedTest: number | null; message: string | null } | null;
  /** Why the teacher gave no usable answer (bucket "failed"). */
  failure: string | null;
  /** The teacher's answer as it came, for the "Raw answer" disclosure. */
  raw: string;
  meta: { model: string; endpoint: string; promptTokens: number | null; completionTokens: number | null; attempts: number | null; createdAt: string };
  /** Accept and Reject apply: false for a failed record, which has no answer to judge. */
  canReview: boolean;
}

/** A row's CoT in the list: its bucket and the decision, if any. */
export interface CotMark {
  bucket: CotBucket;
  review?: ReviewDecision;
}

/**
 * The status filter of the task list: any task, a status bucket, tasks without a record in the
 * set, or a review decision ("unreviewed": an answer no one has decided on; a failed record,
 * which has no answer, is not among them).
 */
export type CotFilter = "any" | CotBucket | "none" | "accepted" | "rejected" | "edited" | "unreviewed";

export const COT_FILTER_LABELS: Record<CotFilter, string> = {
  any: "any",
  ...COT_BUCKET_LABELS,
  none: "no reasoning",
  accepted: "accepted",
  rejected: "rejected",
  edited: "edited",
  unreviewed: "not reviewed",
};

export const COT_FILTERS = Object.keys(COT_FILTER_LABELS) as CotFilter[];

export type CotFilterCounts = Record<CotFilter, number>;

/** Why the browser reviews the set it does: asked for (openDataset's argument), picked in the header, or the default. */
export type CotSetReason = "requested" | "chosen" | "default";

/** The CoT sets the header offers, the one reviewed, and the dataset's tasks counted by status filter. */
export interface CotStateView {
  sets: string[];
  selected: string | null;
  reason: CotSetReason;
  /** Null until a dataset is loaded. */
  counts: CotFilterCounts | null;
}

export type CotAction = "accept" | "reject" | "regenerate" | "edit";
export const COT_ACTIONS: readonly CotAction[] = ["accept", "reject", "regenerate", "edit"];

export interface QueryParams {
  filter: TaskFilter;
  /** The CoT status filter; absent is "any". */
  cot?: CotFilter;
}

export interface RowsParams {
  start: number;
  count: number;
}

/** A task of the dataset shown, by its index in the whole dataset. */
export interface TaskIndexParams {
  index: number;
}

export interface CotActionParams {
  index: number;
  action: CotAction;
}

export interface SelectCotSetParams {
  /** A set of .codistill/cots, or null for none. */
  name: string | null;
}

/** Webview -> host. */
export interface DatasetBrowserToHost {
  "datasetBrowser/ready": NoParams;
  "datasetBrowser/query": QueryParams;
  "datasetBrowser/rows": RowsParams;
  "datasetBrowser/task": TaskIndexParams;
  "datasetBrowser/openInEditor": TaskIndexParams;
  "datasetBrowser/openDataset": NoParams;
  "datasetBrowser/cotAction": CotActionParams;
  "datasetBrowser/selectCotSet": SelectCotSetParams;
}

/** What the host answers to the webview's requests. */
export interface DatasetBrowserReplies {
  "datasetBrowser/query": { matched: number; total: number };
  /** `marks[k]` is the CoT of `rows[k]` in the set reviewed (null: none, or no set). */
  "datasetBrowser/rows": { start: number; rows: TaskSummary[]; marks: (CotMark | null)[] };
  /** `cotSet` is the set reviewed (null: none); `cot` the task's record in it. */
  "datasetBrowser/task": { task: WireTask; cot: CotView | null; cotSet: string | null };
  /** The record after the action (Edit answers the record as it is; the saved edit is pushed later). */
  "datasetBrowser/cotAction": { cot: CotView | null };
  "datasetBrowser/selectCotSet": CotStateView;
}

/** Host -> webview notifications. */
export interface DatasetBrowserToWebview {
  "datasetBrowser/dataset": DatasetView;
  "datasetBrowser/loading": LoadingView;
  "datasetBrowser/error": { message: string };
  /** The sets, the one reviewed and the counts: after a load, a pick, and whenever the set changes. */
  "datasetBrowser/cotState": CotStateView;
  /** Rows whose CoT changed in the set reviewed, by dataset index. */
  "datasetBrowser/cotMarks": { set: string; changes: [index: number, mark: CotMark | null][] };
  /** The CoT of the selected task, after it changed (an action, an edit saved, a generation run, the file on disk). */
  "datasetBrowser/cot": { index: number; set: string; cot: CotView | null };
}

/** What the webview persists with setState, so hiding and showing the panel loses nothing. */
export interface DatasetBrowserState {
  path?: string;
  filter: TaskFilter;
  selectedIndex?: number;
  scrollTop: number;
  solutionTab: number;
  /** The CoT set picked (null: none); absent when the host's default was kept. */
  cotSet?: string | null;
  cotFilter?: CotFilter;
}

/** The shape of a CoT set's name (the reasoning service checks it again before touching a file). */
const COT_SET_NAME_SHAPE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isIndex = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= 0;
const stringList = (v: unknown) => v === undefined || (Array.isArray(v) && v.every((x) => typeof x === "string"));

function validateFilter(filter: unknown): string | undefined {
  if (!isObject(filter)) return "filter: expected an object";
  if (filter.text !== undefined && typeof filter.text !== "string") return "filter.text: expected a string";
  for (const key of ["sources", "difficulties", "tags"] as const) {
    if (!stringList(filter[key])) return `filter.${key}: expected an array of strings`;
  }
  return undefined;
}

export const datasetBrowserValidators: ParamsValidators<DatasetBrowserToHost> = {
  "datasetBrowser/ready": noParams,
  "datasetBrowser/openDataset": noParams,
  "datasetBrowser/query": (p) => {
    if (!isObject(p)) return "expected an object";
    if (p.cot !== undefined && !COT_FILTERS.some((f) => f === p.cot)) return `cot: expected one of ${COT_FILTERS.join(", ")}`;
    return validateFilter(p.filter);
  },
  "datasetBrowser/rows": (p) =>
    isObject(p) && isIndex(p.start) && isIndex(p.count) && p.count <= 1000
      ? undefined
      : "expected { start, count } with non-negative integers, count at most 1000",
  "datasetBrowser/task": (p) => (isObject(p) && isIndex(p.index) ? undefined : "index: expected a non-negative integer"),
  "datasetBrowser/openInEditor": (p) => (isObject(p) && isIndex(p.index) ? undefined : "index: expected a non-negative integer"),
  "datasetBrowser/cotAction": (p) => {
    if (!isObject(p) || !isIndex(p.index)) return "index: expected a non-negative integer";
    return COT_ACTIONS.some((a) => a === p.action) ? undefined : `action: expected one of ${COT_ACTIONS.join(", ")}`;
  },
  "datasetBrowser/selectCotSet": (p) =>
    isObject(p) && (p.name === null || (typeof p.name === "string" && COT_SET_NAME_SHAPE.test(p.name)))
      ? undefined
      : "name: expected a CoT set name (letters, digits, \".\", \"-\", \"_\") or null",
};

/**
 * Webview messages travel as JSON, which has no BigInt: integers too large for a number (EvalPlus
 * inputs) cross as `{ $bigint: "<digits>" }`, and the webview prints the digits. Nor does it keep
 * 1.0 apart from 1: a float with an integral value (src/core/datasets/json.ts) crosses as
 * `{ $float: "1.0" }`, and the webview prints that text. Nor the order of keys like "8", which a
 * JS object puts first: a dict whose source had them elsewhere crosses as
 * `{ $dict: [[key, value], ...] }`, in the source's order.
 */
export interface BigIntValue {
  $bigint: string;
}

export interface FloatValue {
  $float: string;
}

export interface DictValue {
  $dict: [key: string, value: unknown][];
}

export function encodeBigInts(value: unknown): unknown {
  if (typeof value === "bigint") return { $bigint: value.toString() } satisfies BigIntValue;
  if (Array.isArray(value)) return encodeItems(value);
  if (typeof value === "object" && value !== null) return encodeObject(value);
  return value;
}

/** An item of `holder`: a number it marks as a float crosses as `{ $float }`, anything else through encodeBigInts. */
function encodeItem(holder: object, key: string | number, v: unknown): unknown {
  return typeof v === "number" && isMarkedFloat(holder, key) ? ({ $float: floatText(v) } satisfies FloatValue) : encodeBigInts(v);
}

function encodeItems(items: readonly unknown[]): unknown[] {
  return items.map((v, i) => encodeItem(items, i, v));
}

function encodeObject(value: object): Record<string, unknown> | DictValue {
  const order = sourceKeyOrder(value);
  if (!order) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encodeItem(value, k, v)]));
  const entries = new Map(Object.entries(value));
  return { $dict: order.map((k) => [k, encodeItem(value, k, entries.get(k))]) } satisfies DictValue;
}

/** A CallTests as it crosses: its values encoded, a float atol with an integral value as `{ $float }`. */
export type WireCallTests = Omit<CallTests, "atol"> & { atol?: number | FloatValue };
export type WireTaskTests = Exclude<TaskTests, CallTests> | WireCallTests;

/** A Task as it crosses to the webview (see encodeBigInts); its meta may cross as `{ $dict }`. */
export type WireTask = Omit<Task, "tests" | "meta"> & { tests: WireTaskTests; meta: Record<string, unknown> | DictValue };

/** `task` ready for the webview: encodeBigInts applied to the parts of it that can hold such values. */
export function encodeTask(task: Task): WireTask {
  return { ...task, tests: encodeTests(task.tests), meta: encodeObject(task.meta) };
}

function encodeTests(tests: TaskTests): WireTaskTests {
  if (tests.kind !== "call") return tests;
  const { atol, inputs, outputs } = tests;
  return {
    ...tests,
    inputs: inputs.map((args) => encodeItems(args)),
    outputs: outputs && encodeItems(outputs),
    ...(atol === undefined ? {} : { atol: isMarkedFloat(tests, "atol") ? ({ $float: floatText(atol) } satisfies FloatValue) : atol }),
  };
}

export function isBigIntValue(value: unknown): value is BigIntValue {
  return isObject(value) && typeof value.$bigint === "string" && Object.keys(value).length === 1;
}

export function isFloatValue(value: unknown): value is FloatValue {
  return isObject(value) && typeof value.$float === "string" && Object.keys(value).length === 1;
}

export function isDictValue(value: unknown): value is DictValue {
  return isObject(value) && Array.isArray(value.$dict) && Object.keys(value).length === 1;
}

/** An object's entries, in its source's order where it crossed as `{ $dict }`. */
export function entriesOf(value: object): [string, unknown][] {
  return isDictValue(value) ? value.$dict : Object.entries(value);
}
