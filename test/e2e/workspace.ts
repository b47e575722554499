import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "./harness";

export const DATA = process.env.CODISTILL_DATA ?? join(repoRoot(), "..", "shared", "data");

/** The demo workspace in a temp folder, its datasets pointing at the shared benchmark data. */
export function demoWorkspaceCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), "codistill-demo-"));
  cpSync(join(repoRoot(), "demo"), dir, { recursive: true });
  const config = readFileSync(join(dir, "codistill.yaml"), "utf8").replaceAll("../data/", `${DATA}/`);
  writeFileSync(join(dir, "codistill.yaml"), config);
  return dir;
}
