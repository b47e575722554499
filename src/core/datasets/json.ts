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
//
// Python's dicts keep their keys in the file's order, and a solution that iterates a dict
// argument sees that order (HumanEval+ 22 and 95, MBPP+ Mbpp/69 and others pass dicts with keys
// like "8"). A JS object puts array-index keys ("0" to "4294967294") before all others, in
// numeric order, whatever the file says, so parseJson notes the file's order for each object
// whose keys JS reorders (keyOrders), and stringifyValue writes the keys in that order.

const NON_FINITE: Record<string, number> = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, "-Infinity": Number.NEGATIVE_INFINITY };

// An object key of digits (captured: JS puts it first if it is an array index), a JSON string
// (skipped untouched), or outside strings a non-finite token, a long integer, or a number with a
// fraction or exponent (captured). (A digit run inside a float's fraction or exponent is not an
// integer: hence the lookarounds.)
const STRING_OR_TOKEN = /"((?:\d|\\u003\d)+)"(?=\s*:)|"[^"\\]*(?:\\.[^"\\]*)*"|(-?Infinity|NaN|(?<![\d.eE+-])-?\d{16,}(?![.\deE])|-?\d+(?:\.\d+)?[eE][+-]?\d+|-?\d+\.\d+)/g;
/** An integer literal long enough that a number might round it. */
const LONG_INTEGER = /\d{16,}/;
/**
 * Text that may hold a float literal with an integral value: one with an exponent, a fraction of
 * zeros only, or 16 significant digits or more (fewer cannot round to an integer). Strings are
 * not skipped: a false hit only costs the slower parse.
 */
const MAYBE_INTEGRAL_FLOAT = /\d[eE]|\.0+(?!\d)|(?:\d\.?){16}/;
/** Text that may hold an object key that JS orders first ("8": ...). Strings are not skipped either. */
const MAYBE_INDEX_KEY = /"(?:\d|\\u003\d)+"\s*:/;
/** An array index: JS orders such keys first. */
const INDEX_KEY = /^(?:0|[1-9]\d{0,9})$/;
const FLOAT_TOKEN = /[.eE]/;

/** Stands in for a token while JSON.parse runs; a text that already holds it is not rewritten. */
const MARK = "\u0000token:";
const ESCAPED_MARK = "\\u0000token:";
/** Prefixed to an array-index key while JSON.parse runs, so that the key keeps its place. */
const KEY_MARK = `${MARK}key:`;

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

/** Per object, its keys in the order the source had, where that is not the order JS keeps them in. */
const keyOrders = new WeakMap<object, readonly string[]>();

/**
 * Notes that `keys` (the object's own keys, each once) is the order that `object`'s keys have
 * in the data: stringifyValue writes them in that order. Nothing is noted where JS keeps them in
 * that order anyway.
 */
export function setKeyOrder(object: object, keys: readonly string[]): void {
  const actual = Object.keys(object);
  if (actual.length === keys.length && actual.every((key, i) => key === keys[i])) keyOrders.delete(object);
  else keyOrders.set(object, keys);
}

/**
 * The object's keys in the order its source had them, where JS keeps them in another (array-index
 * keys such as "8" first); undefined where Object.keys gives the order. Keys added since come
 * last, and removed ones are left out.
 */
export function sourceKeyOrder(object: object): string[] | undefined {
  const order = keyOrders.get(object);
  if (!order) return undefined;
  const present = order.filter((key) => Object.prototype.hasOwnProperty.call(object, key));
  const keys = Object.keys(object);
  if (present.length === keys.length) return present;
  const seen = new Set(present);
  return [...present, ...keys.filter((key) => !seen.has(key))];
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
    const keys = Object.keys(value);
    let object = value as Holder;
    if (keys.some((k) => k.startsWith(KEY_MARK))) {
      // Rebuilt with the keys unmarked (fromEntries: a "__proto__" key stays a plain key), and
      // the order they had noted. The float notes are made below, on the rebuilt object.
      const entries = keys.map((k): [string, unknown] => [k.startsWith(KEY_MARK) ? k.slice(KEY_MARK.length) : k, object[k]]);
      object = Object.fromEntries(entries) as Holder;
      // A key written twice: Python, like fromEntries, keeps it where it came first, with the value
      // that came last. (JSON.parse has already done that for each spelling of the key.)
      setKeyOrder(object, [...new Set(entries.map(([k]) => k))]);
      holder[key] = object;
    }
    for (const k of Object.keys(object)) restoreTokens(object, k);
  }
}

/**
 * Parses `text` with its special tokens (see STRING_OR_TOKEN) read exactly; `parsed` is what
 * JSON.parse made of it, if it could, returned as it is when no token needs more.
 */
function parseMarked(text: string, parsed?: unknown): unknown {
  let tokens = 0;
  const marked = text.replace(STRING_OR_TOKEN, (match, key: string | undefined, token: string | undefined) => {
    if (key !== undefined) {
      // Written with escapes ("\u0038") the key is still "8": marked too, so that it keeps its place.
      const name = key.replace(/\\u003(\d)/g, "$1");
      if (!INDEX_KEY.test(name) || Number(name) > 4294967294) return match;
      tokens++;
      return JSON.stringify(KEY_MARK + name);
    }
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
  const marks = LONG_INTEGER.test(text) || MAYBE_INTEGRAL_FLOAT.test(text) || MAYBE_INDEX_KEY.test(text);
  return marks && !text.includes(ESCAPED_MARK) ? parseMarked(text, parsed) : parsed;
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
 * integral floats parseJson noted as floats (see above). Object keys are written in the order
 * their source had (sourceKeyOrder), else in Object.keys order (insertion order, array-index keys
 * first): argument dicts are data whose order Python preserves.
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
      for (const k of sourceKeyOrder(value) ?? Object.keys(value)) {
        const v = (value as Record<string, unknown>)[k];
        if (v !== undefined) parts.push(`${JSON.stringify(k)}:${item(v, k)}`);
      }
      return `{${parts.join(",")}}`;
    }
    default:
      throw new TypeError(`cannot write a ${typeof value} as JSON`);
  }
}
