import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CPU_TORCH_PIN, planPythonSetup } from "../../src/sidecar/pythonSetup";

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
