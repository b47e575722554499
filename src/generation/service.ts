// Keeps the student loaded between generations: an ONNX worker takes seconds to start and a
// sidecar model minutes, so both stay until the student or the backend setting changes.
import * as vscode from "vscode";
import { affectsGeneration, readSettings } from "../config";
import type { CodistillContext } from "../context";
import { onnxGenerator, type CodeGenerator } from "../core/generation/generator";
import { sidecarGenerator } from "../core/generation/sidecarGenerator";
import { resolveStudent, type Student } from "../core/generation/students";
import { startDecoderWorker } from "../core/inference/workerDecoder";

/** Model loading on the sidecar (an 8B student from disk onto a GPU) may take this long. */
const SIDECAR_LOAD_TIMEOUT_MS = 15 * 60_000;

export class GenerationService implements vscode.Disposable {
  private loaded: { key: string; generator: Promise<CodeGenerator> } | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly ctx: CodistillContext) {
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (affectsGeneration(event)) void this.unload();
      }),
    );
  }

  /** The student the settings name, resolved now (a new run may have finished since the last call). */
  async student(): Promise<Student> {
    const settings = readSettings().generation;
    return resolveStudent(settings.backend, settings.model, this.ctx.workspace.root);
  }

  async generator(student: Student): Promise<CodeGenerator> {
    const key = JSON.stringify(student);
    if (this.loaded?.key !== key) {
      await this.unload();
      const generator = this.load(student);
      this.loaded = { key, generator };
      // A student that failed to load is not kept: the next call tries again.
      generator.catch(() => {
        if (this.loaded?.generator === generator) this.loaded = undefined;
      });
    }
    return this.loaded!.generator;
  }

  private async load(student: Student): Promise<CodeGenerator> {
    if (student.backend === "onnx") {
      this.ctx.log.info(`generation: loading ${student.folder} in a worker thread`);
      return onnxGenerator(await startDecoderWorker(student.folder));
    }
    await this.ctx.supervisor.start();
    return sidecarGenerator(this.ctx.supervisor, {
      model: student.model,
      ...(student.adapter ? { adapter: student.adapter } : {}),
      device: readSettings().generation.device,
      startTimeoutMs: SIDECAR_LOAD_TIMEOUT_MS,
    });
  }

  async unload(): Promise<void> {
    const loaded = this.loaded;
    this.loaded = undefined;
    if (!loaded) return;
    const generator = await loaded.generator.catch(() => undefined);
    await generator?.dispose();
  }

  dispose(): void {
    void this.unload();
    vscode.Disposable.from(...this.disposables).dispose();
  }
}
