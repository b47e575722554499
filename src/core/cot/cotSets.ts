import { readdir } from "node:fs/promises";
import { basename, join } from "node:path";

export interface CotSet {
  name: string;
  path: string;
}

/** CoT sets are the `.jsonl` files under `.codistill/cots`, by name. */
export async function listCotSets(workspaceRoot: string): Promise<CotSet[]> {
  const root = join(workspaceRoot, ".codistill", "cots");
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile() && e.name.endsWith(".jsonl"))
    .map((e) => ({ name: basename(e.name, ".jsonl"), path: join(root, e.name) }))
    .sort((a, b) => a.name.localeCompare(b.name));
}
