// `npm test`: every check, in order, and a closing "N passed, M failed" line.
// Static checks and builds first (fast failures), then unit tests, pytest, and end-to-end.
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { REPO } from "./lib.mjs";

// Node 20's test runner takes files, not folders or globs.
const testFiles = (dir) =>
  readdirSync(join(REPO, dir))
    .filter((f) => f.endsWith(".test.ts"))
    .sort()
    .map((f) => join(dir, f));

const node = process.execPath;
const suites = [
  { name: "typecheck", command: "npm", args: ["run", "-s", "typecheck"] },
  { name: "lint", command: "npm", args: ["run", "-s", "lint"] },
  { name: "package", command: "npm", args: ["run", "-s", "package"] },
  { name: "unit", command: node, args: ["--import", "tsx", "--test", "--test-concurrency=1", ...testFiles("test/unit")], kind: "node" },
  { name: "pytest", command: node, args: ["scripts/pytest.mjs"], kind: "pytest" },
  { name: "e2e", command: node, args: ["--import", "tsx", "--test", "--test-concurrency=1", ...testFiles("test/e2e")], kind: "node" },
];

const only = process.argv.slice(2);
const selected = only.length ? suites.filter((s) => only.includes(s.name)) : suites;

function runSuite(suite) {
  return new Promise((resolve) => {
    console.log(`\n\x1b[1m== ${suite.name}\x1b[0m`);
    const started = Date.now();
    const child = spawn(suite.command, suite.args, { cwd: REPO, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      process.stdout.write(chunk);
    });
    child.on("close", (code, signal) => resolve({ suite, code: code ?? 1, signal, out, seconds: (Date.now() - started) / 1000 }));
  });
}

/** Test counts from each runner's own closing lines; a step without tests counts as one check. */
function counts(result) {
  const { suite, out, code } = result;
  if (suite.kind === "node") {
    const pass = Number(/^# pass (\d+)/m.exec(out)?.[1] ?? 0);
    const fail = Number(/^# fail (\d+)/m.exec(out)?.[1] ?? 0) + Number(/^# cancelled (\d+)/m.exec(out)?.[1] ?? 0);
    // A suite that ran nothing is broken, not green.
    return { pass, fail: fail || (code !== 0 || pass === 0 ? 1 : 0) };
  }
  if (suite.kind === "pytest") {
    const pass = Number(/(\d+) passed/.exec(out)?.[1] ?? 0);
    const fail = Number(/(\d+) failed/.exec(out)?.[1] ?? 0) + Number(/(\d+) errors?/.exec(out)?.[1] ?? 0);
    return { pass, fail: fail || (code !== 0 ? 1 : 0) };
  }
  return code === 0 ? { pass: 1, fail: 0 } : { pass: 0, fail: 1 };
}

let passed = 0;
let failed = 0;
const summary = [];
for (const suite of selected) {
  const result = await runSuite(suite);
  const c = counts(result);
  if (c.fail > 0) result.code ||= 1;
  passed += c.pass;
  failed += c.fail;
  summary.push(`${suite.name.padEnd(10)} ${result.code === 0 ? "ok  " : "FAIL"} ${c.pass} passed, ${c.fail} failed (${result.seconds.toFixed(1)} s)`);
  // A broken build makes later suites meaningless.
  if (result.code !== 0 && ["typecheck", "package"].includes(suite.name)) break;
}
console.log(`\n${summary.join("\n")}\n`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
