// Small helpers shared by the set-up, test and start scripts. Plain Node: they run before
// `npm install` has put anything in node_modules.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const CACHE = join(REPO, ".cache");
export const VENV = process.env.CODISTILL_VENV ?? join(REPO, ".venv");
export const VENV_PYTHON = join(VENV, process.platform === "win32" ? "Scripts/python.exe" : "bin/python");
export const CODE_SERVER_VERSION = "4.100.3";
export const CODE_SERVER_DIR = join(CACHE, "code-server");
export const CODE_SERVER_BIN = join(CODE_SERVER_DIR, "node_modules", ".bin", "code-server");
export const VSIX = join(REPO, "dist", "codistill-linux-x64.vsix");

export function step(title) {
  console.log(`\n\x1b[1m== ${title}\x1b[0m`);
}

/** Runs a command with inherited stdio; throws with the command line when it fails. */
export function run(command, args, options = {}) {
  console.log(`$ ${command} ${args.join(" ")}`);
  const result = spawnSync(command, args, { stdio: "inherit", cwd: REPO, ...options, env: { ...process.env, ...options.env } });
  if (result.error) throw new Error(`${command}: ${result.error.message}`);
  if (result.status !== 0 && !options.allowFailure) {
    throw new Error(`${command} ${args.join(" ")} exited with ${result.status ?? result.signal}`);
  }
  return result.status ?? 1;
}

export function output(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: "utf8", cwd: REPO, ...options });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

export function which(command) {
  return output("sh", ["-c", `command -v ${command}`]);
}

export const isRoot = () => typeof process.getuid === "function" && process.getuid() === 0;

export function exists(path) {
  return existsSync(path);
}
