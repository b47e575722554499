// Reading one field of a raw record, with errors that name the field (FieldError).
import { describeType, errorMessage, FieldError } from "./errors";
import { parseJson } from "./json";

export type Fields = Record<string, unknown>;

export function isRecord(value: unknown): value is Fields {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

function absent(value: unknown): boolean {
  return value === undefined || value === null;
}

export function requireString(rec: Fields, key: string, { nonEmpty = true } = {}): string {
  const value = rec[key];
  if (absent(value)) throw new FieldError(key, "missing");
  if (typeof value !== "string") throw new FieldError(key, `expected a string, got ${describeType(value)}`);
  if (nonEmpty && value.trim() === "") throw new FieldError(key, "empty");
  return value;
}

/** A string that may be absent; null and "" read as absent, as Parquet exports write them. */
export function optionalString(rec: Fields, key: string): string | undefined {
  const value = rec[key];
  if (absent(value) || value === "") return undefined;
  if (typeof value !== "string") throw new FieldError(key, `expected a string, got ${describeType(value)}`);
  return value;
}

/**
 * A structured field that sources store either as a value or as a JSON string of it (TACO's
 * solutions and input_output, some MBPP+ rows' inputs).
 */
export function jsonOrValue(value: unknown, field: string): unknown {
  if (typeof value !== "string") return value;
  if (value.trim() === "") throw new FieldError(field, "empty");
  try {
    return parseJson(value);
  } catch (err) {
    throw new FieldError(field, `not valid JSON: ${errorMessage(err)}`);
  }
}

export function stringList(value: unknown, field: string): string[] {
  if (!Array.isArray(value)) throw new FieldError(field, `expected a list of strings, got ${describeType(value)}`);
  value.forEach((item, i) => {
    if (typeof item !== "string") throw new FieldError(`${field}[${i}]`, `expected a string, got ${describeType(item)}`);
  });
  return value as string[];
}

/**
 * Tags as TACO stores them: a Python list literal in a string ("['Sorting', 'Greedy algorithms']"),
 * a JSON list in a string, or a real list (other exports).
 */
export function tagList(value: unknown, field: string): string[] {
  if (absent(value)) return [];
  if (Array.isArray(value)) return stringList(value, field);
  if (typeof value !== "string") throw new FieldError(field, `expected a list of strings, got ${describeType(value)}`);
  const text = value.trim();
  if (text === "") return [];
  try {
    return parsePythonStringList(text);
  } catch (err) {
    throw new FieldError(field, `expected a list of strings like ['Sorting']: ${errorMessage(err)}`);
  }
}

const ESCAPES: Record<string, string> = { n: "\n", t: "\t", r: "\r", "\\": "\\", "'": "'", '"': '"', "0": "\0" };

/** A Python (or JSON) list of string literals. Only strings: tags never hold anything else. */
export function parsePythonStringList(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  const skipSpace = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const expect = (ch: string) => {
    skipSpace();
    if (text[i] !== ch) throw new Error(`expected "${ch}" at character ${i + 1}`);
    i++;
  };
  expect("[");
  skipSpace();
  if (text[i] === "]") {
    i++;
  } else {
    for (;;) {
      skipSpace();
      out.push(readQuoted());
      skipSpace();
      if (text[i] === ",") {
        i++;
        skipSpace();
        if (text[i] === "]") {
          i++;
          break;
        }
        continue;
      }
      expect("]");
      break;
    }
  }
  skipSpace();
  if (i !== text.length) throw new Error(`unexpected text after the list at character ${i + 1}`);
  return out;

  function readQuoted(): string {
    const quote = text[i];
    if (quote !== "'" && quote !== '"') throw new Error(`expected a quoted string at character ${i + 1}`);
    i++;
    // Pieces joined once: a string grown character by character is a chain of one node per character.
    const pieces: string[] = [];
    let start = i;
    while (i < text.length && text[i] !== quote) {
      if (text[i] !== "\\") {
        i++;
        continue;
      }
      pieces.push(text.slice(start, i));
      const next = text[i + 1];
      if (next === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
        pieces.push(String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16)));
        i += 6;
      } else {
        pieces.push(next !== undefined && next in ESCAPES ? ESCAPES[next]! : `\\${next ?? ""}`);
        i += 2;
      }
      start = i;
    }
    if (i >= text.length) throw new Error("unterminated string");
    pieces.push(text.slice(start, i));
    i++;
    return pieces.join("");
  }
}

/** A source value as it goes into Task.meta: JSON-safe, absent when empty. */
export function metaValue(value: unknown): unknown {
  if (absent(value) || value === "") return undefined;
  if (typeof value === "bigint") return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  return value;
}
