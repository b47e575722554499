// Messages between the Dataset Browser webview and the extension host. Pure: imported by both.
import type { Rejection, TaskFilter, TaskSummary, DatasetFormat } from "../../core/datasets/api";
import { floatText, isMarkedFloat, sourceKeyOrder } from "../../core/datasets/json";
import type { Task } from "../../core/datasets/task";
import { noParams, type ParamsValidators } from "../shared/messages";

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

/** Webview -> host requests and their results. */
export interface DatasetBrowserRequests {
  "datasetBrowser/query": [{ filter: TaskFilter }, { matched: number; total: number }];
  "datasetBrowser/rows": [{ start: number; count: number }, { start: number; rows: TaskSummary[] }];
  "datasetBrowser/task": [{ index: number }, { task: Task; cot: CotView | null }];
}

/** Webview -> host notifications. */
export interface DatasetBrowserNotifications {
  "datasetBrowser/ready": undefined;
  "datasetBrowser/openInEditor": { index: number };
  "datasetBrowser/openDataset": undefined;
}

/** Host -> webview notifications. */
export interface DatasetBrowserPushes {
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
const isIndex = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;
const stringList = (v: unknown) => v === undefined || (Array.isArray(v) && v.every((x) => typeof x === "string"));

function validateFilter(filter: unknown): string | undefined {
  if (!isObject(filter)) return "filter: expected an object";
  if (filter.text !== undefined && typeof filter.text !== "string") return "filter.text: expected a string";
  for (const key of ["sources", "difficulties", "tags"] as const) {
    if (!stringList(filter[key])) return `filter.${key}: expected an array of strings`;
  }
  return undefined;
}

export const datasetBrowserValidators: ParamsValidators = {
  "datasetBrowser/ready": noParams,
  "datasetBrowser/openDataset": noParams,
  "datasetBrowser/query": (p) => (isObject(p) ? validateFilter(p.filter) : "expected an object"),
  "datasetBrowser/rows": (p) =>
    isObject(p) && isIndex(p.start) && isIndex(p.count) && (p.count as number) <= 1000
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
  const item = (holder: object, key: string | number, v: unknown) => (isMarkedFloat(holder, key) ? ({ $float: floatText(v as number) } satisfies FloatValue) : encodeBigInts(v));
  if (Array.isArray(value)) return value.map((v, i) => item(value, i, v));
  if (typeof value === "object" && value !== null) {
    const order = sourceKeyOrder(value);
    const record = value as Record<string, unknown>;
    if (order) return { $dict: order.map((k) => [k, item(value, k, record[k])]) } satisfies DictValue;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, item(value, k, v)]));
  }
  return value;
}

export function isBigIntValue(value: unknown): value is BigIntValue {
  return typeof value === "object" && value !== null && typeof (value as BigIntValue).$bigint === "string" && Object.keys(value).length === 1;
}

export function isFloatValue(value: unknown): value is FloatValue {
  return typeof value === "object" && value !== null && typeof (value as FloatValue).$float === "string" && Object.keys(value).length === 1;
}

export function isDictValue(value: unknown): value is DictValue {
  return typeof value === "object" && value !== null && Array.isArray((value as DictValue).$dict) && Object.keys(value).length === 1;
}

/** An object's entries, in its source's order where it crossed as `{ $dict }`. */
export function entriesOf(value: object): [string, unknown][] {
  return isDictValue(value) ? value.$dict : Object.entries(value);
}
