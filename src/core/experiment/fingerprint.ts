// What a stage's inputs are, as hashes: a stage is up to date when the hash of its inputs is the
// one it recorded when it last finished. Files are hashed by content. A model folder is hashed by
// its small files' content and its large files' size and modification time: hashing the weights
// of an 8B model on every run would take minutes, and weights are replaced, not edited in place.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { join, relative } from "node:path";

/** Files up to this size are hashed by content in a folder fingerprint. */
const CONTENT_HASH_LIMIT = 1 << 20;

/** sha256 of a file's bytes, hex; streamed, so a large dataset is not held in memory. */
export async function fileSha256(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** sha256 of a file, or "missing" when there is none (a stage whose input is gone is not up to date). */
export async function fileSha256OrMissing(path: string): Promise<string> {
  try {
    return await fileSha256(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return "missing";
    throw err;
  }
}

/** A folder's (or a file's) fingerprint: every file's relative path with its content hash, or size and mtime when large. */
export async function pathFingerprint(path: string): Promise<string> {
  const hash = createHash("sha256");
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return "missing";
    throw err;
  }
  if (!info.isDirectory()) return fileSha256(path);
  for (const file of await filesUnder(path)) {
    const fileInfo = await stat(file);
    const identity = fileInfo.size <= CONTENT_HASH_LIMIT ? createHash("sha256").update(await readFile(file)).digest("hex") : `${fileInfo.size}:${fileInfo.mtimeMs}`;
    hash.update(`${relative(path, file)}\0${identity}\n`);
  }
  return hash.digest("hex");
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await filesUnder(path)));
    else if (entry.isFile()) files.push(path);
  }
  return files;
}

/** sha256 of a JSON value with its object keys sorted, so equal settings hash equal whatever their order. */
export function valueSha256(value: unknown): string {
  return createHash("sha256").update(canonicalJson(value)).digest("hex");
}

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
