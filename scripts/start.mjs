// `npm start`: VS Code (code-server, bound to 127.0.0.1) with the freshly built extension,
// opened on the demo workspace. On a remote GPU box, forward the port over SSH.
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CACHE, CODE_SERVER_BIN, REPO, VENV_PYTHON, VSIX, exists, run, step } from "./lib.mjs";

const port = Number(process.env.PORT ?? 8080);
const host = process.env.CODISTILL_HOST ?? "127.0.0.1";
const workspace = process.env.CODISTILL_WORKSPACE ?? join(REPO, "demo");
const profile = join(CACHE, "start");
const userDataDir = join(profile, "user-data");
const extensionsDir = join(profile, "extensions");

if (!exists(CODE_SERVER_BIN)) {
  console.error("code-server is not installed: run `npm run setup` first.");
  process.exit(1);
}

step("Building and installing the extension");
run("npm", ["run", "-s", "package"]);
mkdirSync(extensionsDir, { recursive: true });
run(CODE_SERVER_BIN, ["--install-extension", VSIX, "--force", "--extensions-dir", extensionsDir, "--user-data-dir", userDataDir]);

// The sidecar runs from the set-up venv; a user's own settings file is kept and extended.
const settingsFile = join(userDataDir, "User", "settings.json");
mkdirSync(join(userDataDir, "User"), { recursive: true });
const settings = exists(settingsFile) ? JSON.parse(readFileSync(settingsFile, "utf8") || "{}") : {};
if (exists(VENV_PYTHON) && !settings["codistill.pythonPath"]) settings["codistill.pythonPath"] = VENV_PYTHON;
settings["telemetry.telemetryLevel"] ??= "off";
settings["workbench.startupEditor"] ??= "none";
settings["git.openRepositoryInParentFolders"] ??= "never";
writeFileSync(settingsFile, JSON.stringify(settings, null, 2) + "\n");

step(`Starting VS Code on ${workspace}`);
const args = [
  "--auth", "none",
  "--bind-addr", `${host}:${port}`,
  "--user-data-dir", userDataDir,
  "--extensions-dir", extensionsDir,
  "--disable-telemetry",
  "--disable-update-check",
  workspace,
];
const child = spawn(CODE_SERVER_BIN, args, { stdio: ["ignore", "inherit", "inherit"] });
console.log(`\nOpen http://${host}:${port}/?folder=${encodeURIComponent(workspace)} in your browser.`);
console.log(`Remote machine? ssh -L ${port}:127.0.0.1:${port} <host>, then open the same URL locally. Ctrl+C stops.\n`);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill("SIGTERM"));
child.on("exit", (code) => process.exit(code ?? 0));
