import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CPU_TORCH_PIN, planPythonSetup, runSetupPlan, SetupStepError } from "../../src/sidecar/pythonSetup";
import { sidecarPython } from "./helpers";

const base = { basePython: "/usr/bin/python3", venvDir: "/home/u/.codistill/venv", sidecarDir: "/ext/sidecar", extras: "train,export" };

describe("planPythonSetup", () => {
  it("pins the CPU wheel of torch without a GPU", () => {
    const steps = planPythonSetup({ ...base, cuda: false });
    assert.deepEqual(steps.map((s) => s.title), ["Creating the virtual environment", "Installing PyTorch (CPU build)", "Installing the Codistill sidecar"]);
    assert.deepEqual(steps[0]!.args, ["-m", "venv", "/home/u/.codistill/venv"]);
    assert.equal(steps[1]!.command, "/home/u/.codistill/venv/bin/python");
    assert.ok(steps[1]!.args.includes(CPU_TORCH_PIN));
    assert.equal(CPU_TORCH_PIN, "torch==2.13.0");
    assert.deepEqual(steps[2]!.args.slice(-1), ["/ext/sidecar[train,export]"]);
  });

  it("takes the CUDA build of torch when nvidia-smi works, from a custom index if set", () => {
    const steps = planPythonSetup({ ...base, cuda: true, torchIndexUrl: "https://download.pytorch.org/whl/cu124" });
    assert.equal(steps[1]!.title, "Installing PyTorch (CUDA build)");
    assert.ok(steps[1]!.args.includes("torch"));
    assert.ok(!steps[1]!.args.includes(CPU_TORCH_PIN));
    assert.deepEqual(steps[1]!.args.slice(-2), ["--index-url", "https://download.pytorch.org/whl/cu124"]);
  });

  it("installs an editable sidecar for a source checkout", () => {
    const steps = planPythonSetup({ ...base, cuda: false, editable: true, extras: "train,export,dev" });
    assert.deepEqual(steps[2]!.args.slice(-2), ["-e", "/ext/sidecar[train,export,dev]"]);
  });
});

describe("runSetupPlan with real processes", () => {
  const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };

  it("runs the steps in order and reports each", async () => {
    const seen: string[] = [];
    await runSetupPlan(
      [
        { title: "first", command: sidecarPython(), args: ["-c", "print('one')"] },
        { title: "second", command: sidecarPython(), args: ["-c", "print('two')"] },
      ],
      { log: quiet, onStep: (step, i, total) => seen.push(`${step.title} ${i + 1}/${total}`) },
    );
    assert.deepEqual(seen, ["first 1/2", "second 2/2"]);
  });

  it("stops at a failing step and quotes its output", async () => {
    const steps = [
      { title: "Installing PyTorch (CPU build)", command: sidecarPython(), args: ["-c", "import sys; print('ERROR: No matching distribution found for torch==9.9'); sys.exit(1)"] },
      { title: "never reached", command: sidecarPython(), args: ["-c", "raise SystemExit(99)"] },
    ];
    await assert.rejects(runSetupPlan(steps, { log: quiet }), (err: SetupStepError) => {
      assert.equal(err.step.title, "Installing PyTorch (CPU build)");
      assert.equal(err.exitCode, 1);
      assert.match(err.message, /Installing PyTorch \(CPU build\) failed .*exited with 1/);
      assert.match(err.outputTail, /No matching distribution found for torch==9\.9/);
      return true;
    });
  });

  it("can be cancelled mid-step", async () => {
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 200);
    const started = Date.now();
    await assert.rejects(
      runSetupPlan([{ title: "Creating the virtual environment", command: sidecarPython(), args: ["-c", "import time; time.sleep(30)"] }], { log: quiet, signal: abort.signal }),
      /Creating the virtual environment was cancelled/,
    );
    assert.ok(Date.now() - started < 5000);
  });
});
