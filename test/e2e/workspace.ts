import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import { parseDocument, type Document } from "yaml";
import { leftoverProcesses, repoRoot, startVsCode, stop, trustWorkspace, type VsCodeSession } from "./harness";

export const DATA = process.env.CODISTILL_DATA ?? join(repoRoot(), "..", "shared", "data");

/** The packaged extension (`npm run package`) that every session installs. */
export const VSIX = join(repoRoot(), "dist", "codistill-linux-x64.vsix");

/** The interpreter with the sidecar installed: CODISTILL_PYTHON, else the set-up venv. */
export const PYTHON = process.env.CODISTILL_PYTHON ?? join(repoRoot(), ".venv", "bin", "python");

/** The whole benchmarks of the shared data, as the tests declare them (the demo ships subsets). */
export const FULL_BENCHMARKS = [
  { name: "humaneval", path: `${DATA}/humaneval/HumanEval.jsonl` },
  { name: "mbpp", path: `${DATA}/mbpp/mbpp.jsonl` },
  { name: "mbpp-sanitized", path: `${DATA}/mbpp/sanitized-mbpp.json` },
  { name: "humaneval-plus", path: `${DATA}/evalplus/HumanEvalPlus-v0.1.10.jsonl.gz` },
  { name: "mbpp-plus", path: `${DATA}/evalplus/MbppPlus-v0.2.0.jsonl.gz` },
];

/**
 * The demo workspace in a temp folder, without its .codistill/ (set-up's CoT set, runs of
 * `npm start`): every test starts from what it makes. With `full` (the default) its datasets are
 * the whole benchmarks of the shared data (sizes the tests count on, MBPP large enough to cancel
 * mid-run), trained on mbpp-sanitized, evaluated on the first 20 tasks; without, the demo as
 * shipped, on its subsets in demo/data.
 */
export function demoWorkspaceCopy(options: { full?: boolean } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "codistill-demo-"));
  const demo = join(repoRoot(), "demo");
  cpSync(demo, dir, { recursive: true, filter: (source) => relative(demo, source).split(sep)[0] !== ".codistill" });
  if (!(options.full ?? true)) {
    // The student and encoder set-up makes, wherever the copy is.
    const config = readFileSync(join(dir, "codistill.yaml"), "utf8").replaceAll("../.cache/", `${join(repoRoot(), ".cache")}/`);
    writeFileSync(join(dir, "codistill.yaml"), config);
  } else {
    editConfig(dir, (doc) => {
      doc.set("datasets", FULL_BENCHMARKS);
      doc.setIn(["training", "datasets"], ["mbpp-sanitized"]);
      doc.setIn(["training", "cots"], ["mbpp-sanitized-cots"]);
      doc.set("cots", [{ name: "mbpp-sanitized-cots", dataset: "mbpp-sanitized", teacher: "offline" }]);
      doc.setIn(["evaluation", "limit"], 20);
      doc.setIn(["evaluation", "benchmarks"], ["humaneval", "mbpp-plus"]);
    });
  }
  return dir;
}

/** Edits the workspace's codistill.yaml in place; the yaml Document keeps its comments and layout. */
export function editConfig(workspace: string, edit: (config: Document) => void): void {
  const file = join(workspace, "codistill.yaml");
  const config = parseDocument(readFileSync(file, "utf8"));
  edit(config);
  writeFileSync(file, config.toString());
}

/**
 * Writes a tiny random student to <workspace>/models/tiny with scripts/make-tiny-model.py;
 * `extra` are the script's other options (an --adapter or an --encoder to write beside it).
 */
export function makeTinyModel(workspace: string, ...extra: string[]): void {
  execFileSync(PYTHON, [join(repoRoot(), "scripts", "make-tiny-model.py"), join(workspace, "models", "tiny"), ...extra], { stdio: "inherit" });
}

/** VS Code with the VSIX installed, open on `workspace`, which it trusts. */
export async function startTrusted(workspace: string, userSettings?: Record<string, unknown>): Promise<VsCodeSession> {
  const session = await startVsCode({ vsix: VSIX, workspace, ...(userSettings ? { userSettings } : {}) });
  await trustWorkspace(session);
  return session;
}

/** Stops the session, if one started, checks that none of its processes outlives it, and removes the workspace. */
export async function stopAndRemove(session: VsCodeSession | undefined, workspace: string): Promise<void> {
  try {
    if (session) {
      await stop(session);
      assert.deepEqual(leftoverProcesses(session.marker), [], "no process of the session outlives it");
    }
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
}
