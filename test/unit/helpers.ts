import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";

export const REPO = resolve(import.meta.dirname, "..", "..");

/** The interpreter with the sidecar installed: CODISTILL_PYTHON, else the set-up venv. */
export function sidecarPython(): string {
  const python = process.env.CODISTILL_PYTHON ?? join(REPO, ".venv", "bin", "python");
  if (!existsSync(python)) throw new Error(`No sidecar Python at ${python}: run "npm run setup" or set CODISTILL_PYTHON.`);
  return python;
}

export interface GoldenMessage {
  file: string;
  description: string;
  direction: "toServer" | "toClient";
  method?: string;
  valid: boolean;
  expectError?: number;
  message: unknown;
}

export function goldenMessages(): GoldenMessage[] {
  const dir = join(REPO, "test", "fixtures", "protocol");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((file) => ({ file, ...(JSON.parse(readFileSync(join(dir, file), "utf8")) as Omit<GoldenMessage, "file">) }));
}

export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // A zombie has exited; only its parent's bookkeeping is left.
    return stat.split(") ")[1]?.[0] !== "Z";
  } catch {
    return false;
  }
}

export async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `codistill ...` as a real process (node --import tsx src/cli.ts), with `input` on its stdin. */
export async function runCli(args: string[], input?: string): Promise<CliRun> {
  const run = promisify(execFile)(process.execPath, ["--import", "tsx", join(REPO, "src", "cli.ts"), ...args], { cwd: REPO, maxBuffer: 1 << 26 });
  if (input !== undefined) run.child.stdin!.end(input);
  try {
    const { stdout, stderr } = await run;
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
