// readGitInfo against real repositories made with git in a temp folder.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { readGitInfo } from "../../src/core/runs/gitInfo";

describe("readGitInfo", () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), "codistill-git-"));
    dirs.push(dir);
    return dir;
  };
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const git = (cwd: string, ...args: string[]) =>
    execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main", ...args], { cwd, encoding: "utf8" }).trim();

  it("gives the commit, branch and a clean state, then dirty with the changed paths", async () => {
    const repo = tempDir();
    git(repo, "init", "-q");
    writeFileSync(join(repo, "codistill.yaml"), "name: x\n");
    git(repo, "add", ".");
    git(repo, "commit", "-qm", "first");
    const head = git(repo, "rev-parse", "HEAD");
    assert.deepEqual(await readGitInfo(repo), { commit: head, branch: "main", dirty: false, changed: [] });

    writeFileSync(join(repo, "codistill.yaml"), "name: y\n");
    writeFileSync(join(repo, "new.txt"), "n\n");
    const dirty = await readGitInfo(repo);
    assert.equal(dirty?.dirty, true);
    assert.deepEqual(dirty?.changed.sort(), ["codistill.yaml", "new.txt"]);
  });

  it("is null outside a repository and in a repository without commits", async () => {
    assert.equal(await readGitInfo(tempDir()), null);
    const empty = tempDir();
    git(empty, "init", "-q");
    assert.equal(await readGitInfo(empty), null);
  });
});
