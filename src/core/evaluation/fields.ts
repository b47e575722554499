// Checks for the JSON that the sidecar writes (results.json, samples.jsonl, generation.json).
// Every failure throws an EvalFileError naming the file, the line for JSONL, and the field as a
// path (`eval["HumanEval/0"][1].status`), so a bad file can be found and fixed by hand.
import { rename, rm, writeFile } from "node:fs/promises";
import { describeType, errorMessage } from "../datasets/errors";
import { isRecord } from "../datasets/fields";

/** Where a value came from: a file, and a line when the file is JSONL. */
export interface Origin {
  file: string;
  line?: number;
}

export class EvalFileError extends Error {
  /** The system error code ("ENOENT", ...) when the file could not be read, so callers can tell "not written yet" from "broken". */
  readonly code: string | undefined;

  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly field: string | undefined,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    const where = line === undefined ? file : `${file}:${line}`;
    super(field ? `${where}: ${field}: ${reason}` : `${where}: ${reason}`, options);
    this.name = "EvalFileError";
    const cause = options?.cause as NodeJS.ErrnoException | undefined;
    this.code = typeof cause?.code === "string" ? cause.code : undefined;
  }
}

export function fail(origin: Origin, field: string | undefined, reason: string): never {
  throw new EvalFileError(origin.file, origin.line, field, reason);
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** `parent.key`, or `parent["odd key"]` when the key is not an identifier. */
export function member(parent: string, key: string): string {
  if (!IDENTIFIER.test(key)) return entry(parent, key);
  return parent ? `${parent}.${key}` : key;
}

/** `parent["key"]`: map keys such as task ids, always quoted so "HumanEval/0" reads as data. */
export function entry(parent: string, key: string): string {
  return `${parent}[${JSON.stringify(key)}]`;
}

export function item(parent: string, index: number): string {
  return `${parent}[${index}]`;
}

/** "missing (expected a string)" or "expected a string, got number". */
export function wrongType(origin: Origin, field: string | undefined, expected: string, value: unknown): never {
  fail(origin, field, value === undefined ? `missing (expected ${expected})` : `expected ${expected}, got ${describeType(value)}`);
}

export function expectObject(origin: Origin, value: unknown, field: string): Record<string, unknown> {
  if (!isRecord(value)) wrongType(origin, field || undefined, "an object", value);
  return value;
}

export function expectArray(origin: Origin, value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) wrongType(origin, field, "a list", value);
  return value;
}

export function expectString(origin: Origin, value: unknown, field: string): string {
  if (typeof value !== "string") wrongType(origin, field, "a string", value);
  return value;
}

export function expectStringOrNull(origin: Origin, value: unknown, field: string): string | null {
  if (value === null) return null;
  if (typeof value !== "string") wrongType(origin, field, "a string or null", value);
  return value;
}

/** A finite number no smaller than `min`. */
export function expectNumber(origin: Origin, value: unknown, field: string, min = -Infinity): number {
  if (typeof value !== "number" || !Number.isFinite(value)) wrongType(origin, field, "a number", value);
  if (value < min) fail(origin, field, `expected a number >= ${min}, got ${value}`);
  return value;
}

/** A number in [0, 1]: a pass rate, a match score; `what` names it in the message ("a fraction", "a score"). */
export function expectUnitInterval(origin: Origin, value: unknown, field: string, what: string): number {
  const n = expectNumber(origin, value, field, 0);
  if (n > 1) fail(origin, field, `expected ${what} between 0 and 1, got ${n}`);
  return n;
}

export function expectInteger(origin: Origin, value: unknown, field: string, min = 0): number {
  if (typeof value !== "number" || !Number.isInteger(value)) wrongType(origin, field, "an integer", value);
  if (value < min) fail(origin, field, `expected an integer >= ${min}, got ${value}`);
  return value;
}

export function expectIntegerOrNull(origin: Origin, value: unknown, field: string, min = 0): number | null {
  if (value === null) return null;
  if (typeof value !== "number" || !Number.isInteger(value)) wrongType(origin, field, "an integer or null", value);
  if (value < min) fail(origin, field, `expected an integer >= ${min}, got ${value}`);
  return value;
}

export function expectOneOf<T extends string>(origin: Origin, value: unknown, field: string, options: readonly T[]): T {
  if (typeof value !== "string") wrongType(origin, field, "a string", value);
  if (!options.includes(value as T)) fail(origin, field, `expected one of ${options.map((o) => JSON.stringify(o)).join(", ")}, got ${JSON.stringify(value)}`);
  return value as T;
}

/** An object whose values all pass `check`, e.g. `{"passed": 3, "failed": 2}`. */
export function expectRecordOf<T>(origin: Origin, value: unknown, field: string, check: (v: unknown, field: string) => T): Record<string, T> {
  const record = expectObject(origin, value, field);
  const out: Record<string, T> = {};
  for (const [key, v] of Object.entries(record)) out[key] = check(v, member(field, key));
  return out;
}

/** Optional fields: absent stays undefined, present must pass `check`. */
export function optional<T>(value: unknown, check: (v: unknown) => T): T | undefined {
  return value === undefined ? undefined : check(value);
}

/** Writes `path` so that a reader (the panel) never sees half a file, and an interrupted write leaves the old one. */
export async function writeAtomically(path: string, text: string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, text);
    await rename(temporary, path);
  } catch (err) {
    await rm(temporary, { force: true });
    throw new EvalFileError(path, undefined, undefined, `cannot write: ${errorMessage(err)}`, { cause: err });
  }
}
