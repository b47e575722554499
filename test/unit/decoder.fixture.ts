// The tiny student of scripts/make-tiny-model.py (with its LoRA adapter), exported to ONNX by the
// real `python -m codistill export onnx --adapter`, in a temporary folder: what the decoder tests
// generate with.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { REPO, sidecarPython } from "./helpers";

export const DATA = process.env.CODISTILL_DATA ?? join(REPO, "..", "shared", "data");

export interface TinyStudent {
  root: string;
  model: string;
  adapter: string;
  onnx: string;
  remove(): void;
}

export async function python(args: string[]): Promise<string> {
  const { stdout } = await execa(sidecarPython(), args, { cwd: REPO, env: { CODISTILL_DATA: DATA, OMP_NUM_THREADS: "2", CODISTILL_LOG_LEVEL: "warning" } });
  return stdout;
}

export async function makeTinyStudent(prefix: string): Promise<TinyStudent> {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const model = join(root, "tiny");
  const adapter = join(root, "adapter");
  const onnx = join(root, "onnx");
  await python(["scripts/make-tiny-model.py", model, "--adapter", adapter]);
  const result = JSON.parse(await python(["-m", "codistill", "export", "onnx", "--model", model, "--adapter", adapter, "--out", onnx])) as { outDir: string; dtype: string };
  assert.equal(result.dtype, "fp32");
  return { root, model, adapter, onnx, remove: () => rmSync(root, { recursive: true, force: true }) };
}
