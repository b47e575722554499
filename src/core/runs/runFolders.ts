import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";

export interface RunFolder {
  id: string;
  path: string;
  modifiedMs: number;
}

/** Run folders under `.codistill/runs`, newest first. A missing folder means no runs yet. */
export async function listRunFolders(workspaceRoot: string): Promise<RunFolder[]> {
  const root = join(workspaceRoot, ".codistill", "runs");
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  const runs = await Promise.all(
    entries
      .filter((e) => e.isDirectory())
      .map(async (e) => {
        const path = join(root, e.name);
        return { id: e.name, path, modifiedMs: (await stat(path)).mtimeMs };
      }),
  );
  return runs.sort((a, b) => b.modifiedMs - a.modifiedMs);
}
