// Whether a parsed teacher answer is a reasoning context a student should learn from (DESIGN.md,
// "CoT record"): an intent, at least one step, formulas and edge cases as lists of strings, within
// length limits, and steps that explain rather than paste the solution. A failing answer is kept
// as `invalid` with its reasons, never silently dropped.

export interface CotSections {
  intent: string;
  steps: string[];
  formulas: string[];
  edgeCases: string[];
  /** The teacher's own solution, when it wrote one (for verification in the sandbox). */
  teacherCode?: string;
}

export interface CotLimits {
  maxIntentChars: number;
  maxItems: number;
  maxItemChars: number;
  maxTotalChars: number;
}

/** Generous for a 70B teacher's answer to one task, tight enough to catch a runaway one. */
export const DEFAULT_COT_LIMITS: CotLimits = { maxIntentChars: 1_000, maxItems: 40, maxItemChars: 1_500, maxTotalChars: 16_000 };

export interface ValidatedCot {
  sections: CotSections;
  status: "valid" | "invalid";
  /** Why it is invalid, and what was repaired: each names its field. */
  problems: string[];
}

const LIST_FIELDS = ["steps", "formulas", "edgeCases"] as const;

/** The answer's four sections (and code), checked; `repairs` (from the parser) lead its problems. */
export function validateCot(value: Record<string, unknown>, repairs: readonly string[] = [], limits: CotLimits = DEFAULT_COT_LIMITS): ValidatedCot {
  const problems = [...repairs];
  const reasons: string[] = [];
  const intent = typeof value.intent === "string" ? value.intent.trim() : "";
  if (!intent) reasons.push(value.intent === undefined ? "intent: missing" : "intent: expected a non-empty string");
  else if (intent.length > limits.maxIntentChars) reasons.push(`intent: ${intent.length} characters, more than ${limits.maxIntentChars}`);
  const lists = Object.fromEntries(LIST_FIELDS.map((field) => [field, listOf(value[field], field, problems, reasons, limits)])) as Record<(typeof LIST_FIELDS)[number], string[]>;
  if (!lists.steps.length) reasons.push("steps: expected at least one step");
  lists.steps.forEach((step, i) => {
    if (looksLikeCode(step)) reasons.push(`steps[${i}]: holds solution code; a step explains, the code goes in "code"`);
  });
  const total = intent.length + LIST_FIELDS.reduce((n, field) => n + lists[field].reduce((m, item) => m + item.length, 0), 0);
  if (total > limits.maxTotalChars) reasons.push(`the reasoning is ${total} characters, more than ${limits.maxTotalChars}`);
  const teacherCode = codeOf(value.code, problems);
  const sections: CotSections = { intent, ...lists, ...(teacherCode !== undefined ? { teacherCode } : {}) };
  return { sections, status: reasons.length ? "invalid" : "valid", problems: [...reasons, ...problems] };
}

/** A list of non-empty strings; a lone string becomes a list of one, blanks and non-strings are dropped (and said so). */
function listOf(value: unknown, field: string, problems: string[], reasons: string[], limits: CotLimits): string[] {
  if (value === undefined || value === null) {
    if (field !== "steps") problems.push(`${field}: missing, taken as []`);
    return [];
  }
  let items: unknown[];
  if (typeof value === "string") {
    problems.push(`${field}: a string, taken as a list of one`);
    items = [value];
  } else if (Array.isArray(value)) items = value;
  else {
    reasons.push(`${field}: expected a list of strings, got ${typeof value}`);
    return [];
  }
  const kept: string[] = [];
  items.forEach((item, i) => {
    if (typeof item !== "string") problems.push(`${field}[${i}]: not a string, dropped`);
    else if (!item.trim()) problems.push(`${field}[${i}]: empty, dropped`);
    else {
      if (item.length > limits.maxItemChars) reasons.push(`${field}[${i}]: ${item.length} characters, more than ${limits.maxItemChars}`);
      kept.push(item.trim());
    }
  });
  if (kept.length > limits.maxItems) reasons.push(`${field}: ${kept.length} items, more than ${limits.maxItems}`);
  return kept;
}

/** The `code` field without the fence a teacher tends to put around it. */
function codeOf(value: unknown, problems: string[]): string | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string") {
    problems.push(`code: expected a string, got ${typeof value}; ignored`);
    return undefined;
  }
  const fenced = /^\s*```[\w+-]*[ \t]*\n([\s\S]*?)\n?[ \t]*```\s*$/.exec(value);
  if (fenced) problems.push("code: removed its code fence");
  return fenced ? fenced[1]! : value;
}

const DEFINITION = /^\s*(?:async\s+)?def\s+\w+\s*\(.*\)\s*(?:->.*)?:\s*$/m;
const BLOCK_LINE = /^(?: {4}|\t)\s*\S|:\s*$/;

/**
 * A step that is code rather than an explanation of it: a code fence, a `def f(...):` line, or
 * three or more lines of which most end a block header or are indented like a suite. Prose with a
 * short inline expression (`total += x`) is an explanation.
 */
export function looksLikeCode(step: string): boolean {
  if (step.includes("```") || DEFINITION.test(step)) return true;
  const lines = step.split("\n").filter((line) => line.trim());
  if (lines.length < 3) return false;
  return lines.filter((line) => BLOCK_LINE.test(line)).length * 2 > lines.length;
}
