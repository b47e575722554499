// Small helpers for display: numbers, truncation, Python-like values, difficulty buckets, badges.

import { entriesOf, isBigIntValue, isFloatValue } from "../../src/panels/datasetBrowser/protocol";
const numberFormat = new Intl.NumberFormat("en-US");

export function count(n: number): string {
  return numberFormat.format(n);
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${count(n)} ${n === 1 ? one : many}`;
}

/** At most `max` characters, with an ellipsis when cut. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

export function lineCount(text: string): number {
  if (text === "") return 0;
  let n = 1;
  for (let i = text.indexOf("\n"); i !== -1 && i < text.length - 1; i = text.indexOf("\n", i + 1)) n++;
  return n;
}

/** The first `lines` lines of `text`. */
export function firstLines(text: string, lines: number): string {
  let at = -1;
  for (let i = 0; i < lines; i++) {
    at = text.indexOf("\n", at + 1);
    if (at === -1) return text;
  }
  return text.slice(0, at);
}

/**
 * A Python-looking rendering of a JSON value (None/True/False, quoted strings), cut at `max`
 * characters without walking the rest of a huge value (EvalPlus inputs can hold large lists).
 */
export function pyRepr(value: unknown, max = 200): string {
  const out: string[] = [];
  let length = 0;
  const push = (s: string): boolean => {
    out.push(s);
    length += s.length;
    return length <= max;
  };
  const walk = (v: unknown): boolean => {
    if (v === null || v === undefined) return push("None");
    if (v === true) return push("True");
    if (v === false) return push("False");
    if (typeof v === "number") return push(Number.isFinite(v) ? String(v) : Number.isNaN(v) ? "nan" : v > 0 ? "inf" : "-inf");
    if (typeof v === "string") return push(JSON.stringify(v.length > max ? v.slice(0, max + 1) : v));
    if (isBigIntValue(v)) return push(v.$bigint);
    if (isFloatValue(v)) return push(v.$float);
    if (Array.isArray(v)) {
      if (!push("[")) return false;
      for (let i = 0; i < v.length; i++) {
        if (i > 0 && !push(", ")) return false;
        if (!walk(v[i])) return false;
      }
      return push("]");
    }
    if (typeof v === "object") {
      if (!push("{")) return false;
      let first = true;
      // A dict in its source's order, also where it crossed as { $dict } to keep it.
      for (const [k, item] of entriesOf(v)) {
        if (!first && !push(", ")) return false;
        first = false;
        if (!push(`${JSON.stringify(k)}: `) || !walk(item)) return false;
      }
      return push("}");
    }
    return push(String(v));
  };
  walk(value);
  return truncate(out.join(""), max);
}

/** The arguments of one call, as they would be written between the parentheses. */
export function pyArgs(args: unknown, max = 200): string {
  if (!Array.isArray(args)) return pyRepr(args, max);
  const inner = pyRepr(args, max + 2);
  return inner.startsWith("[") ? truncate(inner.slice(1, inner.endsWith("]") ? -1 : undefined), max) : inner;
}

export type DifficultyBucket = "easy" | "medium" | "hard" | "unknown";

/** TACO's EASY, MEDIUM, MEDIUM_HARD, HARD, VERY_HARD, UNKNOWN_DIFFICULTY and similar words. */
export function difficultyBucket(difficulty: string | undefined): DifficultyBucket {
  const d = (difficulty ?? "").toLowerCase();
  if (!d || d.includes("unknown")) return "unknown";
  if (d.includes("hard")) return d.includes("medium") ? "medium" : "hard";
  if (d.includes("easy") || d.includes("intro")) return "easy";
  if (d.includes("medium") || d.includes("interview")) return "medium";
  if (d.includes("competition")) return "hard";
  return "unknown";
}

/** "MEDIUM_HARD" -> "medium hard"; other values unchanged. */
export function difficultyLabel(difficulty: string): string {
  return /^[A-Z_]+$/.test(difficulty) ? difficulty.toLowerCase().replace(/_/g, " ") : difficulty;
}

/** "stdio · 12": the kind of tests and how many. */
export function testsLabel(kind: string, n: number): string {
  return `${kind} · ${count(n)}`;
}

export function debounce<A extends unknown[]>(fn: (...args: A) => void, ms: number): ((...args: A) => void) & { cancel(): void; flush(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let pending: A | undefined;
  const run = () => {
    timer = undefined;
    const args = pending;
    pending = undefined;
    if (args) fn(...args);
  };
  const wrapped = (...args: A) => {
    pending = args;
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(run, ms);
  };
  wrapped.cancel = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    pending = undefined;
  };
  wrapped.flush = () => {
    if (timer !== undefined) clearTimeout(timer);
    run();
  };
  return wrapped;
}

/** A count in a round badge, like VS Code's (the toolkit's badge needs inline styles, which the CSP blocks). */
export function countBadge(text: string): HTMLElement {
  const badge = document.createElement("span");
  badge.className = "dsb-badge";
  badge.textContent = text;
  return badge;
}

/**
 * A label like the toolkit's tag (uppercase, small). Not the toolkit's: its template carries an
 * inline style attribute, which the panel's CSP reports as a violation.
 */
export function chip(text: string, className?: string): HTMLElement {
  const node = document.createElement("span");
  node.className = className ? `dsb-chip ${className}` : "dsb-chip";
  node.textContent = text;
  return node;
}
