// JSON as the benchmark files write it. EvalPlus was written by Python's json module, which
// emits the non-standard tokens NaN, Infinity and -Infinity for non-finite floats (MbppPlus
// Mbpp/404 has them). Normalized Task JSONL keeps the same convention, so Python's json.loads
// reads it back unchanged; standard JSON.parse is the fast path and the tolerant reader only
// runs when it fails.

const NON_FINITE: Record<string, number> = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, "-Infinity": Number.NEGATIVE_INFINITY };

// A JSON string (skipped untouched) or a bare non-finite token outside strings.
const STRING_OR_TOKEN = /"(?:[^"\\]|\\.)*"|(-?Infinity|NaN)/g;

/** Stands in for a non-finite number while JSON.parse runs; a text that already holds it is not rewritten. */
const MARK = "\u0000nonfinite:";
const ESCAPED_MARK = "\\u0000nonfinite:";

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    if (!/NaN|Infinity/.test(text) || text.includes(ESCAPED_MARK)) throw err;
    const marked = text.replace(STRING_OR_TOKEN, (match, token: string | undefined) => (token === undefined ? match : JSON.stringify(MARK + token)));
    try {
      return JSON.parse(marked, (_key, value: unknown) =>
        typeof value === "string" && value.startsWith(MARK) ? NON_FINITE[value.slice(MARK.length)] : value,
      );
    } catch {
      // Malformed for another reason: report the position in the original text.
      throw err;
    }
  }
}

/** "at position 123" from V8's message, as line and column, so an error points into the file. */
export function jsonErrorLocation(text: string, err: unknown): string | undefined {
  const match = /position (\d+)/.exec(err instanceof Error ? err.message : "");
  if (!match) return undefined;
  const position = Number(match[1]);
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf("\n"); i !== -1 && i < position; i = text.indexOf("\n", i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return `line ${line} column ${position - lineStart + 1}`;
}

/**
 * Compact JSON of a plain value, with non-finite numbers as NaN/Infinity/-Infinity (see above).
 * Object keys keep their insertion order: argument dicts are data whose order Python preserves.
 */
export function stringifyValue(value: unknown): string {
  if (value === null || value === undefined) return "null";
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      if (Number.isFinite(value)) return JSON.stringify(value);
      return Number.isNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity";
    case "boolean":
      return value ? "true" : "false";
    case "bigint":
      return value.toString();
    case "object": {
      if (Array.isArray(value)) return `[${value.map((v) => stringifyValue(v)).join(",")}]`;
      const parts: string[] = [];
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (v !== undefined) parts.push(`${JSON.stringify(k)}:${stringifyValue(v)}`);
      }
      return `{${parts.join(",")}}`;
    }
    default:
      throw new TypeError(`cannot write a ${typeof value} as JSON`);
  }
}
