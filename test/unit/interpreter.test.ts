import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { execa } from "execa";
import { resolveInterpreter, venvPython, type InterpreterCandidate } from "../../src/sidecar/interpreter";
import { sidecarPython } from "./helpers";

describe("interpreter discovery with real interpreters", () => {
  let scratch: string;
  let bareVenvPython: string;

  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), "codistill-interp-"));
    // A real Python without the sidecar: a fresh venv (no pip needed to tell).
    await execa(sidecarPython(), ["-m", "venv", "--without-pip", join(scratch, "bare")]);
    bareVenvPython = venvPython(join(scratch, "bare"));
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  const candidates = (over: Partial<Record<InterpreterCandidate["source"], string>>): InterpreterCandidate[] => [
    { source: "setting", path: over.setting ?? "" },
    { source: "setupVenv", path: over.setupVenv ?? "/nonexistent/codistill/venv/bin/python" },
    { source: "pythonExtension", path: over.pythonExtension ?? "" },
    { source: "path", path: "python3" },
  ];

  it("says clearly when no Python is found at all", async () => {
    const result = await resolveInterpreter(candidates({}), undefined, join(scratch, "empty-path"));
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.match(result.problem, /^No Python interpreter was found\. Looked at: .*\/nonexistent\/codistill\/venv\/bin\/python/);
    assert.match(result.problem, /python3 \(python3 on PATH\)/);
    assert.match(result.fix, /Install Python 3\.10\+.*Set Up Python Environment.*codistill\.pythonPath/);
  });

  it("names the interpreter that lacks the sidecar and how to install it", async () => {
    const result = await resolveInterpreter(candidates({ pythonExtension: bareVenvPython }), undefined, join(scratch, "empty-path"));
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.match(result.problem, /Python 3\.\d+\.\d+ at .*bare\/bin\/python \(the Python extension's active interpreter\) does not have the Codistill sidecar/);
    assert.match(result.fix, /Codistill: Set Up Python Environment/);
    assert.match(result.fix, /bare\/bin\/python" -m pip install/);
  });

  it("reports a broken setting instead of silently using another Python", async () => {
    const missing = await resolveInterpreter(candidates({ setting: "/opt/nowhere/python" }), undefined, dirname(sidecarPython()));
    assert.equal(missing.ok, false);
    if (!missing.ok) assert.match(missing.problem, /codistill\.pythonPath is "\/opt\/nowhere\/python", but no such file exists/);

    const notPython = join(scratch, "not-python");
    writeFileSync(notPython, "#!/bin/sh\necho nope >&2\nexit 1\n", { mode: 0o755 });
    const broken = await resolveInterpreter(candidates({ setting: notPython }), undefined, dirname(sidecarPython()));
    assert.equal(broken.ok, false);
    if (!broken.ok) assert.match(broken.problem, /did not run as Python/);
  });

  it("runs the setting as given, so a wrapper script around Python stays in the way", async () => {
    const wrapper = join(scratch, "python-limited");
    writeFileSync(wrapper, `#!/bin/sh\nulimit -v 8388608\nexec "${sidecarPython()}" "$@"\n`, { mode: 0o755 });
    const result = await resolveInterpreter(candidates({ setting: wrapper }));
    assert.ok(result.ok, JSON.stringify(result));
    if (!result.ok) return;
    assert.equal(result.executable, wrapper);
    const { stdout } = await execa(result.executable, ["-c", "import resource; print(resource.getrlimit(resource.RLIMIT_AS)[0])"]);
    assert.equal(stdout.trim(), String(8388608 * 1024));
    // Found, not set: the interpreter itself (a venv's bin/python, not a shim in front of it).
    const found = await resolveInterpreter(candidates({ pythonExtension: wrapper }), undefined, join(scratch, "empty-path"));
    assert.ok(found.ok && found.executable !== wrapper && found.executable.endsWith("python"), JSON.stringify(found));
  });

  it("takes the setting first, then the set-up venv, then the Python extension, then PATH", async () => {
    const python = sidecarPython();
    const fromSetting = await resolveInterpreter(candidates({ setting: python }));
    assert.ok(fromSetting.ok && fromSetting.source === "setting");

    const fromVenv = await resolveInterpreter(candidates({ setupVenv: python, pythonExtension: bareVenvPython }));
    assert.ok(fromVenv.ok && fromVenv.source === "setupVenv");

    const fromExtension = await resolveInterpreter(candidates({ pythonExtension: python }), undefined, join(scratch, "empty-path"));
    assert.ok(fromExtension.ok && fromExtension.source === "pythonExtension");

    // A venv without the sidecar is passed over for a later candidate that has it.
    const fromPath = await resolveInterpreter(candidates({ setupVenv: bareVenvPython }), undefined, dirname(python));
    assert.ok(fromPath.ok, JSON.stringify(fromPath));
    if (fromPath.ok) {
      assert.equal(fromPath.source, "path");
      assert.match(fromPath.codistillVersion, /^\d+\.\d+\.\d+/);
    }
  });
});
