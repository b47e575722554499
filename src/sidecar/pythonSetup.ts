import { execa } from "execa";
import { venvPython } from "./interpreter";
import type { Logger } from "./logger";

/**
 * The CPU wheel of torch that CPU-only set-ups pin. A bare "torch" on a machine without
 * CUDA would pull a CUDA build of several GB from PyPI.
 */
export const CPU_TORCH_PIN = "torch==2.13.0";

export interface SetupStep {
  title: string;
  command: string;
  args: string[];
}

export interface SetupPlanInput {
  basePython: string;
  venvDir: string;
  /** Folder holding the sidecar's pyproject.toml. */
  sidecarDir: string;
  cuda: boolean;
  /** e.g. "train,export,dev". */
  extras: string;
  /** Install the sidecar in editable mode (a source checkout, for development). */
  editable?: boolean;
  torchIndexUrl?: string;
}

export function planPythonSetup(input: SetupPlanInput): SetupStep[] {
  const python = venvPython(input.venvDir);
  const torchSpec = input.cuda ? "torch" : CPU_TORCH_PIN;
  const indexArgs = input.torchIndexUrl ? ["--index-url", input.torchIndexUrl] : [];
  const sidecarSpec = `${input.sidecarDir}${input.extras ? `[${input.extras}]` : ""}`;
  return [
    { title: "Creating the virtual environment", command: input.basePython, args: ["-m", "venv", input.venvDir] },
    {
      title: input.cuda ? "Installing PyTorch (CUDA build)" : "Installing PyTorch (CPU build)",
      command: python,
      args: ["-m", "pip", "install", "--disable-pip-version-check", torchSpec, ...indexArgs],
    },
    {
      title: "Installing the Codistill sidecar",
      command: python,
      args: ["-m", "pip", "install", "--disable-pip-version-check", ...(input.editable ? ["-e"] : []), sidecarSpec],
    },
  ];
}

/** True when `nvidia-smi` runs and lists a GPU: the CUDA build of torch is worth its size. */
export async function hasNvidiaGpu(): Promise<boolean> {
  try {
    const { exitCode, stdout } = await execa("nvidia-smi", ["-L"], { reject: false, timeout: 15_000 });
    return exitCode === 0 && /GPU \d+/.test(stdout);
  } catch {
    return false;
  }
}

export interface SetupRunOptions {
  log: Logger;
  onStep?: (step: SetupStep, index: number, total: number) => void;
  signal?: AbortSignal;
}

export class SetupStepError extends Error {
  constructor(
    readonly step: SetupStep,
    readonly exitCode: number | undefined,
    readonly outputTail: string,
  ) {
    super(`${step.title} failed (${step.command} ${step.args.join(" ")} exited with ${exitCode ?? "a signal"}):\n${outputTail}`);
    this.name = "SetupStepError";
  }
}

export async function runSetupPlan(steps: SetupStep[], options: SetupRunOptions): Promise<void> {
  for (const [index, step] of steps.entries()) {
    options.onStep?.(step, index, steps.length);
    options.log.info(`${step.title}: ${step.command} ${step.args.join(" ")}`);
    const subprocess = execa(step.command, step.args, {
      all: true,
      buffer: false,
      reject: false,
      cancelSignal: options.signal,
      env: { PIP_NO_INPUT: "1" },
    });
    const tail: string[] = [];
    subprocess.all?.setEncoding("utf8");
    subprocess.all?.on("data", (chunk: string) => {
      for (const line of chunk.split("\n")) {
        if (!line.trim()) continue;
        options.log.info(line.trimEnd());
        tail.push(line.trimEnd());
        if (tail.length > 15) tail.shift();
      }
    });
    const result = await subprocess;
    if (result.isCanceled) throw new Error(`${step.title} was cancelled`);
    if (result.exitCode !== 0) throw new SetupStepError(step, result.exitCode, tail.join("\n"));
  }
}
