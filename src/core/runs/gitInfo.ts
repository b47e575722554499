// The workspace's git state for a run's manifest.json (DESIGN.md, "Workspace artifacts"): which
// commit the experiment ran at and whether uncommitted changes were part of it.
import { simpleGit } from "simple-git";

export interface GitInfo {
  commit: string;
  branch: string | null;
  /** Uncommitted changes to tracked files, or untracked files git does not ignore. */
  dirty: boolean;
  /** Paths that made it dirty (first 50), so a manifest says what differed from the commit. */
  changed: string[];
}

/** The git state of `folder`, or null when it is not inside a git work tree or has no commit yet. */
export async function readGitInfo(folder: string): Promise<GitInfo | null> {
  const git = simpleGit({ baseDir: folder, binary: "git", maxConcurrentProcesses: 2 });
  if (!(await git.checkIsRepo().catch(() => false))) return null;
  const commit = await git.revparse(["HEAD"]).catch(() => null);
  if (!commit) return null;
  const status = await git.status();
  const changed = status.files.map((f) => f.path);
  return { commit: commit.trim(), branch: status.detached ? null : status.current, dirty: changed.length > 0, changed: changed.slice(0, 50) };
}
