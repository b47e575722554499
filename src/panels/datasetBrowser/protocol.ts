// Messages between the Dataset Browser webview and the extension host. Pure: imported by both.
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

/** The reasoning shown beside a task; null until the CoT issue provides records. */
export interface CotView {
  status: string;
  intent: string;
  steps: string[];
  formulas: string[];
  edgeCases: string[];
  problems: string[];
}

export interface QueryParams {
  filter: TaskFilter;
}

export interface RowsParams {
  start: number;
  count: number;
}

/** A task of the dataset shown, by its index in the whole dataset. */
export interface TaskIndexParams {
  index: number;
}

/** Webview -> host. */
export interface DatasetBrowserToHost {
  "datasetBrowser/ready": NoParams;
  "datasetBrowser/query": QueryParams;
  "datasetBrowser/rows": RowsParams;
  "datasetBrowser/task": TaskIndexParams;
  "datasetBrowser/openInEditor": TaskIndexParams;
  "datasetBrowser/openDataset": NoParams;
}

/** What the host answers to the webview's requests. */
export interface DatasetBrowserReplies {
  "datasetBrowser/query": { matched: number; total: number };
  "datasetBrowser/rows": { start: number; rows: TaskSummary[] };
  "datasetBrowser/task": { task: WireTask; cot: CotView | null };
}

/** Host -> webview notifications. */
export interface DatasetBrowserToWebview {
  "datasetBrowser/dataset": DatasetView;
  "datasetBrowser/loading": LoadingView;
  "datasetBrowser/error": { message: string };
}

/** What the webview persists with setState, so hiding and showing the panel loses nothing. */
export interface DatasetBrowserState {
  path?: string;
  filter: TaskFilter;
  selectedIndex?: number;
  scrollTop: number;
  solutionTab: number;
}

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
  "datasetBrowser/query": (p) => (isObject(p) ? validateFilter(p.filter) : "expected an object"),
  "datasetBrowser/rows": (p) =>
    isObject(p) && isIndex(p.start) && isIndex(p.count) && p.count <= 1000
      ? undefined
      : "expected { start, count } with non-negative integers, count at most 1000",
  "datasetBrowser/task": (p) => (isObject(p) && isIndex(p.index) ? undefined : "index: expected a non-negative integer"),
  "datasetBrowser/openInEditor": (p) => (isObject(p) && isIndex(p.index) ? undefined : "index: expected a non-negative integer"),
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
