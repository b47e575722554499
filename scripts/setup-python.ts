// The Python half of `npm run setup`: the same plan as "Codistill: Set Up Python Environment",
// into .venv, with the sidecar editable and its test dependencies.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { consoleLogger } from "../src/sidecar/logger";
import { findOnPath, probeInterpreter, MIN_PYTHON } from "../src/sidecar/interpreter";
import { hasNvidiaGpu, planPythonSetup, runSetupPlan } from "../src/sidecar/pythonSetup";

const REPO = join(import.meta.dirname, "..");
const venvDir = process.env.CODISTILL_VENV ?? join(REPO, ".venv");

async function basePython(): Promise<string> {
  const candidates = [process.env.CODISTILL_BASE_PYTHON, findOnPath("python3"), findOnPath("python")].filter(Boolean) as string[];
  for (const python of candidates) {
    const probe = await probeInterpreter(python).catch(() => undefined);
    if (probe && (probe.version[0] > MIN_PYTHON[0] || (probe.version[0] === MIN_PYTHON[0] && probe.version[1] >= MIN_PYTHON[1]))) {
      return python;
    }
  }
  throw new Error(`No Python ${MIN_PYTHON.join(".")}+ found (looked at ${candidates.join(", ") || "nothing on PATH"}). Install python3 and python3-venv, or set CODISTILL_BASE_PYTHON.`);
}

const cuda = await hasNvidiaGpu();
const steps = planPythonSetup({
  basePython: await basePython(),
  venvDir,
  sidecarDir: join(REPO, "sidecar"),
  cuda,
  extras: "train,export,dev",
  editable: true,
  torchIndexUrl: process.env.CODISTILL_TORCH_INDEX_URL,
});
// An existing venv is reused: pip only installs what is missing.
const toRun = existsSync(join(venvDir, "pyvenv.cfg")) ? steps.slice(1) : steps;
console.log(`torch: ${cuda ? "CUDA build (nvidia-smi found a GPU)" : "CPU build"}`);
await runSetupPlan(toRun, {
  log: { ...consoleLogger("setup", "info"), info: (m: string) => console.log(m) },
  onStep: (step, i, total) => console.log(`-- ${step.title} (${i + 1}/${total})`),
});
