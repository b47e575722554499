// The few CPython behaviours the reference CodeBLEU leans on without saying so: str.split() and
// str.strip() whitespace, and the iteration order of `list(set(...))` under PYTHONHASHSEED=0.
// The reference merges data-flow sources with `list(set(a + b))`, so which variable comes first,
// and therefore how variables are renamed and which edges match, follows CPython's set layout.

/** Every character for which CPython's str.isspace() is true (what split() and strip() use). */
const PY_WHITESPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000";
const WS_CLASS = `[${PY_WHITESPACE.replace(/[\\\]^-]/g, "\\$&")}]`;
const SPLIT_RE = new RegExp(`${WS_CLASS}+`);
const STRIP_RE = new RegExp(`^${WS_CLASS}+|${WS_CLASS}+$`, "g");
const BLANK_RE = new RegExp(`^${WS_CLASS}*$`);

/** `s.split()` */
export function pySplit(s: string): string[] {
  return s.split(SPLIT_RE).filter((t) => t !== "");
}

/** `s.strip()` */
export function pyStrip(s: string): string {
  return s.replace(STRIP_RE, "");
}

/** `s.strip() == ""` */
export function pyIsBlank(s: string): boolean {
  return BLANK_RE.test(s);
}

// ---- hash(str) with PYTHONHASHSEED=0: SipHash-1-3 with a zero key over the string's internal
// representation (1, 2 or 4 bytes per code point, little-endian, by the widest code point).

const MASK64 = (1n << 64n) - 1n;

function rotl(x: bigint, b: bigint): bigint {
  return ((x << b) | (x >> (64n - b))) & MASK64;
}

function sipRound(v: [bigint, bigint, bigint, bigint]): void {
  v[0] = (v[0] + v[1]) & MASK64;
  v[2] = (v[2] + v[3]) & MASK64;
  v[1] = rotl(v[1], 13n) ^ v[0];
  v[3] = rotl(v[3], 16n) ^ v[2];
  v[0] = rotl(v[0], 32n);
  v[2] = (v[2] + v[1]) & MASK64;
  v[0] = (v[0] + v[3]) & MASK64;
  v[1] = rotl(v[1], 17n) ^ v[2];
  v[3] = rotl(v[3], 21n) ^ v[0];
  v[2] = rotl(v[2], 32n);
}

/** SipHash-1-3 with k0 = k1 = 0, as CPython's pyhash.c computes it. */
export function siphash13ZeroKey(bytes: Uint8Array): bigint {
  const v: [bigint, bigint, bigint, bigint] = [0x736f6d6570736575n, 0x646f72616e646f6dn, 0x6c7967656e657261n, 0x7465646279746573n];
  const length = bytes.length;
  let offset = 0;
  for (; offset + 8 <= length; offset += 8) {
    const m = readLittleEndian(bytes, offset, 8);
    v[3] ^= m;
    sipRound(v);
    v[0] ^= m;
  }
  const b = ((BigInt(length) << 56n) | readLittleEndian(bytes, offset, length - offset)) & MASK64;
  v[3] ^= b;
  sipRound(v);
  v[0] ^= b;
  v[2] ^= 0xffn;
  sipRound(v);
  sipRound(v);
  sipRound(v);
  return v[0] ^ v[1] ^ v[2] ^ v[3];
}

function readLittleEndian(bytes: Uint8Array, offset: number, count: number): bigint {
  let value = 0n;
  for (let i = count - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[offset + i]);
  return value;
}

/** The bytes CPython hashes for a str: its PEP 393 representation. */
function pep393Bytes(s: string): Uint8Array {
  const codePoints = Array.from(s, (c) => c.codePointAt(0)!);
  const widest = codePoints.reduce((max, cp) => Math.max(max, cp), 0);
  const width = widest <= 0xff ? 1 : widest <= 0xffff ? 2 : 4;
  const bytes = new Uint8Array(codePoints.length * width);
  codePoints.forEach((cp, i) => {
    for (let k = 0; k < width; k++) bytes[i * width + k] = (cp >>> (8 * k)) & 0xff;
  });
  return bytes;
}

const strHashCache = new Map<string, bigint>();

/** hash(s) under PYTHONHASHSEED=0, as an unsigned 64-bit value (what the set table masks). */
export function pyStrHash(s: string): bigint {
  let hash = strHashCache.get(s);
  if (hash !== undefined) return hash;
  if (s === "") hash = 0n;
  else {
    hash = siphash13ZeroKey(pep393Bytes(s));
    // Py_hash_t -1 is reserved for errors; CPython turns it into -2.
    if (hash === MASK64) hash = MASK64 - 1n;
  }
  if (strHashCache.size > 100_000) strHashCache.clear();
  strHashCache.set(s, hash);
  return hash;
}

/** hash(n) for the small non-negative ints the reference stores (token indices). */
function pyIntHash(n: number): bigint {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`pyIntHash: only small non-negative ints are supported, got ${n}`);
  return BigInt(n);
}

// ---- set(list) iteration order (CPython 3.11 Objects/setobject.c).

const SET_MINSIZE = 8;
const LINEAR_PROBES = 9;
const PERTURB_SHIFT = 5n;

interface Slot<T> {
  key: T;
  hash: bigint;
  /** The low 32 bits of hash: enough to find a slot until a probe sequence needs perturbing. */
  low: number;
}

/** The slot set_insert_clean or set_add_entry would fill for a key not yet in the table. */
function freeSlot<T>(table: (Slot<T> | undefined)[], entry: Slot<T>, mask: number): number | "present" {
  let i = entry.low & mask;
  let perturb: bigint | undefined;
  for (;;) {
    const probes = i + LINEAR_PROBES <= mask ? LINEAR_PROBES : 0;
    for (let j = i; j <= i + probes; j++) {
      const slot = table[j];
      if (!slot) return j;
      if (slot.key === entry.key) return "present";
    }
    perturb = (perturb ?? entry.hash) >> PERTURB_SHIFT;
    i = Number((BigInt(i) * 5n + 1n + perturb) & BigInt(mask));
  }
}

function resized<T>(table: (Slot<T> | undefined)[], used: number): (Slot<T> | undefined)[] {
  const minused = used > 50000 ? used * 2 : used * 4;
  let size = SET_MINSIZE;
  while (size <= minused) size *= 2;
  const fresh: (Slot<T> | undefined)[] = new Array(size);
  for (const entry of table) {
    if (!entry) continue;
    const slot = freeSlot(fresh, entry, size - 1);
    if (slot !== "present") fresh[slot] = entry;
  }
  return fresh;
}

/**
 * `list(set(items))` under PYTHONHASHSEED=0: the distinct items in CPython's slot order. Items are
 * all strings or all small non-negative ints, as in the reference's merges (no deletions happen,
 * so the table never holds dummies).
 */
export function pySetOrder<T extends string | number>(items: readonly T[]): T[] {
  if (items.length === 0) return [];
  if (items.every((item) => item === items[0])) return [items[0]];
  let table: (Slot<T> | undefined)[] = new Array(SET_MINSIZE);
  let fill = 0;
  for (const key of items) {
    const hash = typeof key === "string" ? pyStrHash(key) : pyIntHash(key);
    const entry: Slot<T> = { key, hash, low: Number(hash & 0xffffffffn) };
    const mask = table.length - 1;
    const slot = freeSlot(table, entry, mask);
    if (slot === "present") continue;
    table[slot] = entry;
    fill++;
    if (fill * 5 >= mask * 3) table = resized(table, fill);
  }
  return table.filter((e): e is Slot<T> => e !== undefined).map((e) => e.key);
}
