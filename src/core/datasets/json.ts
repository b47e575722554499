// JSON as the benchmark files write it. EvalPlus was written by Python's json module, which
// emits the non-standard tokens NaN, Infinity and -Infinity for non-finite floats (MbppPlus
// Mbpp/404 has them), and integers of any size (HumanEval+ and MBPP+ inputs hold integers
// beyond 2^53, which a JS number would round). Integers that a number cannot hold exactly
// become BigInt. Normalized Task JSONL keeps the same conventions, so Python's json.loads reads
// it back unchanged; standard JSON.parse is the fast path and the tolerant reader only runs
// when the text needs it.

const NON_FINITE: Record<string, number> = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, "-Infinity": Number.NEGATIVE_INFINITY };

// A JSON string (skipped untouched), or outside strings a non-finite token or a long integer.
// (A digit run inside a float's fraction or exponent is not an integer: hence the lookarounds.)
const STRING_OR_TOKEN = /"(?:[^"\\]|\\.)*"|(-?Infinity|NaN|(?<![\d.eE+-])-?\d{16,}(?![.\deE]))/g;
/** An integer literal long enough that a number might round it. */
const LONG_INTEGER = /\d{16,}/;

/** Stands in for a non-finite number while JSON.parse runs; a text that already holds it is not rewritten. */
const MARK = "\u0000nonfinite:";
const ESCAPED_MARK = "\\u0000nonfinite:";

function tokenValue(token: string): number | bigint {
  if (token in NON_FINITE) return NON_FINITE[token]!;
  const exact = BigInt(token);
  return Number.isSafeInteger(Number(exact)) ? Number(exact) : exact;
}

function parseMarked(text: string): unknown {
  const marked = text.replace(STRING_OR_TOKEN, (match, token: string | undefined) => (token === undefined ? match : JSON.stringify(MARK + token)));
  return JSON.parse(marked, (_key, value: unknown) =>
    typeof value === "string" && value.startsWith(MARK) ? tokenValue(value.slice(MARK.length)) : value,
  );
}

export function parseJson(text: string): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    if (!/NaN|Infinity/.test(text) || text.includes(ESCAPED_MARK)) throw err;
    try {
      return parseMarked(text);
    } catch {
      // Malformed for another reason: report the position in the original text.
      throw err;
    }
  }
  return LONG_INTEGER.test(text) && !text.includes(ESCAPED_MARK) ? parseMarked(text) : parsed;
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
