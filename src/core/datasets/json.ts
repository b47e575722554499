// JSON as the benchmark files write it. EvalPlus was written by Python's json module, which
// emits the non-standard tokens NaN, Infinity and -Infinity for non-finite floats (MbppPlus
// Mbpp/404 has them), and integers of any size (HumanEval+ and MBPP+ inputs hold integers
// beyond 2^53, which a JS number would round). Integers that a number cannot hold exactly
// become BigInt. Normalized Task JSONL keeps the same conventions, so Python's json.loads reads
// it back unchanged; standard JSON.parse is the fast path and the tolerant reader only runs
// when the text needs it.
//
// Python also tells the float 1.0 from the int 1, and a solution can too (str(x), isinstance):
// a number written with a fraction or exponent is a float however integral its value. A JS
// number cannot carry that, so parseJson notes each integral float beside the value, in the
// object or array that holds it (floatMarks), and stringifyValue writes it back as a float
// (1.0, -0.0, 1e+16, as Python's repr would). The values themselves stay plain numbers, so
// everything else reads them unchanged; code that copies a number into another object carries
// the note along with copyFloatMark.

const NON_FINITE: Record<string, number> = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, "-Infinity": Number.NEGATIVE_INFINITY };

// A JSON string (skipped untouched), or outside strings a non-finite token, a long integer, or a
// number with a fraction or exponent. (A digit run inside a float's fraction or exponent is not
// an integer: hence the lookarounds.)
const STRING_OR_TOKEN = /"[^"\\]*(?:\\.[^"\\]*)*"|(-?Infinity|NaN|(?<![\d.eE+-])-?\d{16,}(?![.\deE])|-?\d+(?:\.\d+)?[eE][+-]?\d+|-?\d+\.\d+)/g;
/** An integer literal long enough that a number might round it. */
const LONG_INTEGER = /\d{16,}/;
/**
 * Text that may hold a float literal with an integral value: one with an exponent, a fraction of
 * zeros only, or 16 significant digits or more (fewer cannot round to an integer). Strings are
 * not skipped: a false hit only costs the slower parse.
 */
const MAYBE_INTEGRAL_FLOAT = /\d[eE]|\.0+(?!\d)|(?:\d\.?){16}/;
const FLOAT_TOKEN = /[.eE]/;

/** Stands in for a token while JSON.parse runs; a text that already holds it is not rewritten. */
const MARK = "\u0000token:";
const ESCAPED_MARK = "\\u0000token:";

/** Per object or array, the keys (array indices as strings) that hold an integral float. */
const floatMarks = new WeakMap<object, Set<string>>();

/** Notes that holder[key] is a float although its value is integral (read from 1.0, 1e3, -0.0). */
export function markFloat(holder: object, key: string | number): void {
  let keys = floatMarks.get(holder);
  if (!keys) floatMarks.set(holder, (keys = new Set()));
  keys.add(String(key));
}

/** Whether holder[key] is an integral number that was written as a float. */
export function isMarkedFloat(holder: object, key: string | number): boolean {
  const value = (holder as Record<string, unknown>)[key];
  return typeof value === "number" && Number.isInteger(value) && floatMarks.get(holder)?.has(String(key)) === true;
}

/** Carries the float note of from[fromKey] to to[toKey], for code that copies the value over. */
export function copyFloatMark(from: object, fromKey: string | number, to: object, toKey: string | number = fromKey): void {
  if (isMarkedFloat(from, fromKey)) markFloat(to, toKey);
}

/** An integral number as Python's repr writes the float: 1.0, -0.0, 1e+16. */
export function floatText(value: number): string {
  if (!Number.isFinite(value) || !Number.isInteger(value)) return stringifyValue(value);
  if (Object.is(value, -0)) return "-0.0";
  return Math.abs(value) < 1e16 ? `${value}.0` : value.toExponential();
}

function tokenValue(token: string): number | bigint {
  if (token in NON_FINITE) return NON_FINITE[token]!;
  if (FLOAT_TOKEN.test(token)) return Number(token);
  const exact = BigInt(token);
  return Number.isSafeInteger(Number(exact)) ? Number(exact) : exact;
}

type Holder = Record<string | number, unknown>;

/** holder[key], or what it holds, with each marked token turned back into its value. */
function restoreTokens(holder: Holder, key: string | number): void {
  const value = holder[key];
  if (typeof value === "string") {
    if (!value.startsWith(MARK)) return;
    const token = value.slice(MARK.length);
    holder[key] = tokenValue(token);
    if (!(token in NON_FINITE) && FLOAT_TOKEN.test(token)) markFloat(holder, key);
  } else if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) restoreTokens(value as unknown as Holder, i);
  } else if (typeof value === "object" && value !== null) {
    for (const k of Object.keys(value)) restoreTokens(value as Holder, k);
  }
}

/**
 * Parses `text` with its special tokens (see STRING_OR_TOKEN) read exactly; `parsed` is what
 * JSON.parse made of it, if it could, returned as it is when no token needs more.
 */
function parseMarked(text: string, parsed?: unknown): unknown {
  let tokens = 0;
  const marked = text.replace(STRING_OR_TOKEN, (match, token: string | undefined) => {
    if (token === undefined) return match;
    // A float that is not integral reads back the same from the number alone.
    if (!(token in NON_FINITE) && FLOAT_TOKEN.test(token) && !Number.isInteger(Number(token))) return match;
    tokens++;
    return JSON.stringify(MARK + token);
  });
  if (tokens === 0 && parsed !== undefined) return parsed;
  // A walk instead of a JSON.parse reviver: several times faster on EvalPlus's large inputs.
  const root: Holder = { "": JSON.parse(marked) };
  restoreTokens(root, "");
  return root[""];
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
  return (LONG_INTEGER.test(text) || MAYBE_INTEGRAL_FLOAT.test(text)) && !text.includes(ESCAPED_MARK) ? parseMarked(text, parsed) : parsed;
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
 * Compact JSON of a plain value, with non-finite numbers as NaN/Infinity/-Infinity and the
 * integral floats parseJson noted as floats (see above). Object keys keep their insertion order:
 * argument dicts are data whose order Python preserves.
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
      const floats = floatMarks.get(value);
      const item = (v: unknown, key: string) => (floats?.has(key) && typeof v === "number" ? floatText(v) : stringifyValue(v));
      if (Array.isArray(value)) return `[${value.map((v, i) => item(v, String(i))).join(",")}]`;
      const parts: string[] = [];
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (v !== undefined) parts.push(`${JSON.stringify(k)}:${item(v, k)}`);
      }
      return `{${parts.join(",")}}`;
    }
    default:
      throw new TypeError(`cannot write a ${typeof value} as JSON`);
  }
}
