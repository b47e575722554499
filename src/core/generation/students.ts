// Which student "Generate Code" runs: a folder the user named, or the latest training run's.
// The ONNX backend needs an export (<run>/onnx/export.json); the sidecar backend needs the run's
// LoRA adapter (<run>/adapter/), whose adapter_config.json names its base model folder.
import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { EXPORT_RECORD_FILE as EXPORT_RECORD } from "../inference/onnxFolder";
import { listRunFolders } from "../runs/runFolders";

export type GenerationBackend = "onnx" | "sidecar";

export interface OnnxStudent {
  backend: "onnx";
  folder: string;
  /** The run it was exported from, when it lives in one. */
  runId?: string;
}

export interface SidecarStudent {
  backend: "sidecar";
  model: string;
  adapter?: string;
  runId?: string;
}

export type Student = OnnxStudent | SidecarStudent;

/** No student to run, with what fixes it: a run to export, or none to train. */
export class NoStudentError extends Error {
  constructor(
    message: string,
    /** The run whose adapter can be exported to ONNX, when that is the fix. */
    readonly exportableRun?: { id: string; path: string; baseModel: string },
  ) {
    super(message);
  }
}

/** `setting` is "" (the latest run) or a folder, absolute or relative to the workspace. */
export async function resolveStudent(backend: GenerationBackend, setting: string, workspaceRoot: string | undefined): Promise<Student> {
  if (setting) {
    const folder = isAbsolute(setting) || !workspaceRoot ? resolve(setting) : resolve(workspaceRoot, setting);
    return backend === "onnx" ? onnxStudentIn(folder) : sidecarStudentIn(folder);
  }
  if (!workspaceRoot) throw new NoStudentError("Open the workspace of your experiment, or set codistill.generation.model to a student folder.");
  const runs = await listRunFolders(workspaceRoot);
  for (const run of runs) {
    if (backend === "onnx" && existsSync(join(run.path, "onnx", EXPORT_RECORD))) return { backend, folder: join(run.path, "onnx"), runId: run.id };
    if (backend === "sidecar" && existsSync(join(run.path, "adapter", "adapter_config.json"))) return { backend, ...adapterStudent(join(run.path, "adapter")), runId: run.id };
  }
  const trained = runs.find((run) => existsSync(join(run.path, "adapter", "adapter_config.json")));
  if (backend === "onnx" && trained) {
    throw new NoStudentError(
      `The latest trained run, ${trained.id}, has no ONNX export yet: export it ("Codistill: Export Student to ONNX"), or pick a model folder.`,
      { id: trained.id, path: trained.path, baseModel: adapterStudent(join(trained.path, "adapter")).model },
    );
  }
  throw new NoStudentError('No trained student in this workspace yet: train one ("Codistill: Open Training"), or pick a model folder.');
}

function onnxStudentIn(folder: string): OnnxStudent {
  if (existsSync(join(folder, EXPORT_RECORD))) return { backend: "onnx", folder };
  if (existsSync(join(folder, "onnx", EXPORT_RECORD))) return { backend: "onnx", folder: join(folder, "onnx") };
  throw new NoStudentError(`${folder}: no ${EXPORT_RECORD}: not a student exported to ONNX (nor a run folder with onnx/).`);
}

function sidecarStudentIn(folder: string): SidecarStudent {
  if (existsSync(join(folder, "adapter", "adapter_config.json"))) return { backend: "sidecar", ...adapterStudent(join(folder, "adapter")) };
  if (existsSync(join(folder, "adapter_config.json"))) return { backend: "sidecar", ...adapterStudent(folder) };
  if (existsSync(join(folder, "config.json"))) return { backend: "sidecar", model: folder };
  throw new NoStudentError(`${folder}: neither a run folder (adapter/), a LoRA adapter (adapter_config.json) nor a model folder (config.json).`);
}

function adapterStudent(adapter: string): { model: string; adapter: string } {
  const file = join(adapter, "adapter_config.json");
  let base: unknown;
  try {
    base = (JSON.parse(readFileSync(file, "utf8")) as { base_model_name_or_path?: unknown }).base_model_name_or_path;
  } catch (error) {
    throw new NoStudentError(`${file}: cannot read it: ${(error as Error).message}`);
  }
  if (typeof base !== "string" || !base) throw new NoStudentError(`${file}: base_model_name_or_path: missing; it names the student the adapter was trained on`);
  return { model: base, adapter };
}
