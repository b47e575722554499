// Splitting a byte stream into lines, keeping each line's byte offset, so that a record can be
// re-read later with one positioned read. Splitting bytes (not text) is safe for UTF-8: the
// newline byte never occurs inside a multi-byte character.
import { isUtf8 } from "node:buffer";
import { describeType, FieldError } from "../errors";
import { isRecord, type Fields } from "../fields";
import { parseJson } from "../json";

export interface Line {
  /** Byte offset of the line in the (decompressed) file. */
  offset: number;
  bytes: Buffer;
  /** 1-based. */
  lineNo: number;
}

const NEWLINE = 0x0a;

export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingStart = 0;
  private offset = 0;
  private lineNo = 0;

  /** The complete lines that `chunk` finishes. */
  push(chunk: Buffer): Line[] {
    const lines: Line[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE); nl !== -1; nl = chunk.indexOf(NEWLINE, start)) {
      const piece = chunk.subarray(start, nl);
      const bytes = this.pending.length ? Buffer.concat([...this.pending, piece]) : piece;
      lines.push({ offset: this.pending.length ? this.pendingStart : this.offset + start, bytes, lineNo: ++this.lineNo });
      this.pending = [];
      start = nl + 1;
    }
    if (start < chunk.length) {
      if (!this.pending.length) this.pendingStart = this.offset + start;
      this.pending.push(chunk.subarray(start));
    }
    this.offset += chunk.length;
    return lines;
  }

  /** The last line when the data does not end with a newline. */
  end(): Line | undefined {
    if (!this.pending.length) return undefined;
    const line = { offset: this.pendingStart, bytes: Buffer.concat(this.pending), lineNo: ++this.lineNo };
    this.pending = [];
    return line;
  }
}

function isBlank(bytes: Buffer): boolean {
  for (const b of bytes) if (b !== 0x20 && b !== 0x09 && b !== 0x0d) return false;
  return true;
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** Offset of the first byte that is not valid UTF-8, or -1 (only called once isUtf8 said no). */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    // Lead byte: how many continuation bytes follow, and the smallest code point that needs them.
    const [n, min] = c >= 0xc2 && c <= 0xdf ? [1, 0x80] : c >= 0xe0 && c <= 0xef ? [2, 0x800] : c >= 0xf0 && c <= 0xf4 ? [3, 0x10000] : [0, 0];
    if (n === 0) return i;
    let cp = c & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const cc = b[i + k];
      if (cc === undefined || (cc & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return -1;
}

export function isBlankLine(line: Line): boolean {
  return isBlank(line.bytes);
}

/** A line's JSON object, or a FieldError saying why it is not one. */
export function parseLine(bytes: Buffer, first: boolean): Fields {
  const body = first && bytes.subarray(0, 3).equals(BOM) ? bytes.subarray(3) : bytes;
  if (!isUtf8(body)) throw new FieldError(undefined, `invalid UTF-8 at byte ${firstInvalidUtf8(body) + 1} of the line`);
  const text = body.toString("utf8");
  let value: unknown;
  try {
    value = parseJson(text);
  } catch (err) {
    throw new FieldError(undefined, `malformed JSON: ${(err as Error).message}`);
  }
  if (!isRecord(value)) throw new FieldError(undefined, `expected a JSON object, got ${describeType(value)}`);
  return value;
}
