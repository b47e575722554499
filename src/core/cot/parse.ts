// The teacher's answer as the JSON object it was asked for. Large models wrap JSON in code fences
// and prose, leave trailing commas and use Python's single quotes; each of those is repaired here
// and the repair recorded, so a reviewer sees what the teacher really sent. An answer with no JSON
// object, or one cut off before its object closes, is a failure the caller may retry.

export type ParseFailureKind = "no-json" | "truncated" | "malformed";

export type ParsedAnswer =
  | { ok: true; value: Record<string, unknown>; problems: string[] }
  | { ok: false; kind: ParseFailureKind; message: string; problems: string[] };

const FENCE = /```[ \t]*([\w+-]*)[ \t]*\n([\s\S]*?)(?:\n[ \t]*```|$)/g;

/** Parses a teacher's answer; `problems` lists every repair made on the way. */
export function parseTeacherAnswer(raw: string): ParsedAnswer {
  const problems: string[] = [];
  const text = unfenced(raw, problems);
  const start = text.indexOf("{");
  if (start === -1) return { ok: false, kind: "no-json", message: "the answer holds no JSON object", problems };
  const end = objectEnd(text, start);
  if (end === -1) return { ok: false, kind: "truncated", message: "the JSON object never closes: the answer was cut off", problems };
  if (text.slice(0, start).trim() || text.slice(end + 1).trim()) problems.push("ignored the prose around the JSON object");
  const parsed = parseWithRepairs(text.slice(start, end + 1), problems);
  if (!parsed.ok) return { ok: false, kind: "malformed", message: parsed.message, problems };
  if (typeof parsed.value !== "object" || parsed.value === null || Array.isArray(parsed.value)) {
    return { ok: false, kind: "malformed", message: "the JSON is not an object", problems };
  }
  return { ok: true, value: parsed.value as Record<string, unknown>, problems };
}

/** The content of the first code fence that holds a JSON object, or the text itself. */
function unfenced(raw: string, problems: string[]): string {
  for (const match of raw.matchAll(FENCE)) {
    const body = match[2] ?? "";
    if (!body.includes("{")) continue;
    problems.push(`removed a ${match[1] ? `${match[1]} ` : ""}code fence around the JSON`);
    return body;
  }
  return raw;
}

/**
 * The index of the brace that closes the object opening at `start`, or -1 when the text ends
 * first. Strings in either quote are skipped, so braces inside them do not count.
 */
function objectEnd(text: string, start: number): number {
  let depth = 0;
  let quote: string | null = null;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

function tryParse(text: string): { ok: true; value: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, message: (err as Error).message };
  }
}

/** JSON.parse, then again after each repair that changes the text. */
function parseWithRepairs(text: string, problems: string[]): { ok: true; value: unknown } | { ok: false; message: string } {
  const first = tryParse(text);
  if (first.ok) return first;
  let repaired = text;
  const quoted = doubleQuoted(repaired);
  if (quoted !== repaired) {
    problems.push("replaced single-quoted strings with double-quoted ones");
    repaired = quoted;
  }
  const trimmed = withoutTrailingCommas(repaired);
  if (trimmed !== repaired) {
    problems.push("removed trailing commas");
    repaired = trimmed;
  }
  if (repaired === text) return { ok: false, message: `not valid JSON: ${first.message}` };
  const second = tryParse(repaired);
  return second.ok ? second : { ok: false, message: `not valid JSON even after repairs: ${second.message}` };
}

/**
 * Rebuilds `text`, copying double-quoted strings as they are and letting `edit` rewrite everything
 * else from position i: it returns what to emit and the last position it consumed.
 */
function outsideStrings(text: string, edit: (i: number) => { emit: string; last: number }): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '"') {
      const end = stringEnd(text, i, '"');
      out += text.slice(i, end + 1);
      i = end;
    } else {
      const { emit, last } = edit(i);
      out += emit;
      i = last;
    }
  }
  return out;
}

/** 'text' -> "text", escaping the double quotes inside and unescaping \' ; double-quoted strings stay. */
function doubleQuoted(text: string): string {
  return outsideStrings(text, (i) => {
    if (text[i] !== "'") return { emit: text[i]!, last: i };
    const end = stringEnd(text, i, "'");
    return { emit: `"${asDoubleQuotedBody(text.slice(i + 1, end))}"`, last: end };
  });
}

/** A single-quoted string's body as a double-quoted one's: `\'` loses its backslash, `"` gains one. */
function asDoubleQuotedBody(body: string): string {
  let out = "";
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === "\\") {
      const next = body[i + 1] ?? "";
      out += next === "'" ? "'" : c + next;
      i++;
    } else out += c === '"' ? '\\"' : c;
  }
  return out;
}

function stringEnd(text: string, start: number, quote: string): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === quote) return i;
  }
  return text.length - 1;
}

/** `[1, 2,]` -> `[1, 2]` and `{"a": 1,}` -> `{"a": 1}`, outside strings. */
function withoutTrailingCommas(text: string): string {
  return outsideStrings(text, (i) => ({ emit: text[i] === "," && /^\s*[}\]]/.test(text.slice(i + 1)) ? "" : text[i]!, last: i }));
}
