// `npm run setup`: everything a fresh Debian/Ubuntu machine needs to build, test and start
// Codistill. Safe to run again: finished steps are skipped or cheap.
import { mkdirSync, writeFileSync, copyFileSync, chmodSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CODE_SERVER_BIN, CODE_SERVER_DIR, CODE_SERVER_VERSION, REPO, exists, isRoot, output, run, step, which } from "./lib.mjs";

// chromium drives the end-to-end tests; libkrb5-dev lets code-server's native modules build;
// ripgrep replaces the binary @vscode/ripgrep would download.
const SYSTEM_PACKAGES = ["chromium", "libkrb5-dev", "ripgrep", "python3-venv", "git"];

function installSystemPackages() {
  step("System packages");
  const missing = SYSTEM_PACKAGES.filter((p) => output("dpkg-query", ["-W", "-f=${Status}", p]) !== "install ok installed");
  if (missing.length === 0) return console.log("all present");
  if (!which("apt-get")) return console.warn(`No apt-get: install these yourself: ${missing.join(" ")}`);
  if (!isRoot()) {
    console.warn(`Not root, so not installing: ${missing.join(" ")}.\nRun: sudo apt-get install -y ${missing.join(" ")}`);
    return;
  }
  run("apt-get", ["update", "-qq"]);
  run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...missing], { env: { DEBIAN_FRONTEND: "noninteractive" } });
}

function installNodeModules() {
  step("npm dependencies");
  // onnxruntime-node's install script downloads CUDA binaries unless told to skip; the CPU
  // binaries for every platform are inside the package.
  const env = { ONNXRUNTIME_NODE_INSTALL: "skip" };
  const args = exists(join(REPO, "package-lock.json")) ? ["ci", "--no-audit", "--no-fund"] : ["install", "--no-audit", "--no-fund"];
  run("npm", args, { env });
}

function setUpPython() {
  step("Python environment (.venv) with torch and the sidecar");
  run(process.execPath, ["--import", "tsx", "scripts/setup-python.ts"]);
}

/** @vscode/ripgrep downloads rg from the internet unless this cached archive exists. */
function seedRipgrepCache() {
  const rg = which("rg");
  if (!rg) throw new Error("ripgrep (rg) is needed to install code-server offline: apt-get install ripgrep");
  const cacheDir = join(process.env.TMPDIR || tmpdir(), "vscode-ripgrep-cache-1.15.11");
  const archive = join(cacheDir, "ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz");
  if (exists(archive)) return;
  const staging = join(cacheDir, "staging");
  mkdirSync(staging, { recursive: true });
  copyFileSync(rg, join(staging, "rg"));
  chmodSync(join(staging, "rg"), 0o755);
  run("tar", ["-C", staging, "-czf", archive, "rg"]);
  rmSync(staging, { recursive: true, force: true });
}

function installCodeServer() {
  step(`code-server ${CODE_SERVER_VERSION} (VS Code for npm start and the end-to-end tests)`);
  const installed = exists(CODE_SERVER_BIN) && output(CODE_SERVER_BIN, ["--version"])?.startsWith(CODE_SERVER_VERSION);
  if (installed) return console.log(output(CODE_SERVER_BIN, ["--version"]));
  seedRipgrepCache();
  mkdirSync(CODE_SERVER_DIR, { recursive: true });
  writeFileSync(join(CODE_SERVER_DIR, "package.json"), JSON.stringify({ private: true, description: "VS Code used by npm start and the e2e tests" }) + "\n");
  run("npm", ["install", "--no-audit", "--no-fund", "--no-save", `code-server@${CODE_SERVER_VERSION}`], {
    cwd: CODE_SERVER_DIR,
    env: { npm_config_unsafe_perm: "true", npm_config_yes: "true" },
  });
  console.log(output(CODE_SERVER_BIN, ["--version"]));
}

/** The demo's student and encoder: tiny random-weight models, so `npm start` can train and evaluate without a download. */
function makeDemoModel() {
  step("Demo student and encoder (tiny, random weights) in .cache/models/");
  const student = join(REPO, ".cache", "models", "tiny-student");
  const encoder = join(REPO, ".cache", "models", "tiny-encoder");
  if (exists(join(student, "config.json")) && exists(join(encoder, "config.json"))) return console.log("already there");
  run(join(REPO, ".venv", "bin", "python"), ["scripts/make-tiny-model.py", student, "--encoder", encoder], { env: { CODISTILL_DATA: join(REPO, "data") } });
}

/**
 * The demo's CoT set (mbpp-train-cots, named in demo/codistill.yaml's training section): the
 * offline teacher (codistill-rationalizer) explains every task of the demo's mbpp-train subset
 * (demo/data/mbpp-train.json, shipped with the repository) from its reference solution, and the
 * sandbox runs that code against the task's tests. Running it again resumes, so a finished set
 * costs a second.
 */
function makeDemoCots() {
  step("Demo CoT set (offline rationalizer, verified in the sandbox) in demo/.codistill/cots/");
  run(process.execPath, [
    join(REPO, "dist", "cli.js"), "cots", "generate",
    "--tasks", join(REPO, "demo", "data", "mbpp-train.json"),
    "--out", join(REPO, "demo", ".codistill", "cots", "mbpp-train-cots.jsonl"),
    "--verify", "--python", join(REPO, ".venv", "bin", "python"),
  ]);
}

function build() {
  step("Build and package the extension");
  run("npm", ["run", "build"]);
  run("npm", ["run", "package"]);
}

try {
  installSystemPackages();
  installNodeModules();
  setUpPython();
  installCodeServer();
  run(process.execPath, ["scripts/fetch-data.mjs"]);
  makeDemoModel();
  build();
  makeDemoCots();
  step("Set-up finished: `npm test` runs every test, `npm start` opens VS Code on the demo workspace.");
} catch (err) {
  console.error(`\nSet-up failed: ${err.message}`);
  process.exit(1);
}
