// "Codistill: Export Student to ONNX": a training run's LoRA adapter merged into its base model
// and exported by the sidecar (export/onnx) into <run>/onnx/, where "Generate Code" finds it.
import { existsSync } from "node:fs";
import { join } from "node:path";
import * as vscode from "vscode";
import type { CodistillContext } from "../context";
import { resolveStudent, NoStudentError } from "../core/generation/students";
import { listRunFolders } from "../core/runs/runFolders";

export interface ExportableRun {
  id: string;
  path: string;
  baseModel: string;
}

/** Exports `run`, or the run the user picks among the workspace's trained runs. */
export async function exportStudentCommand(ctx: CodistillContext, run?: ExportableRun): Promise<void> {
  const target = run ?? (await pickRun(ctx));
  if (!target) return;
  try {
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Codistill: exporting ${target.id} to ONNX`, cancellable: true },
      async (_progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort());
        await ctx.supervisor.start();
        return ctx.supervisor.request("export/onnx", { model: target.baseModel, runDir: target.path }, { signal: abort.signal, timeoutMs: 60 * 60_000 });
      },
    );
    ctx.log.info(`export/onnx of ${target.id}: ${JSON.stringify(result)}`);
    void vscode.window.showInformationMessage(`Exported ${target.id} to ${result.outDir} (logits within ${result.maxAbsDiff.toExponential(1)} of PyTorch). "Codistill: Generate Code" now uses it.`);
    ctx.refreshExplorer();
  } catch (error) {
    ctx.log.error(`export/onnx of ${target.id}: ${(error as Error).message}`);
    void vscode.window.showErrorMessage(`Codistill could not export ${target.id}: ${(error as Error).message}`);
  }
}

async function pickRun(ctx: CodistillContext): Promise<ExportableRun | undefined> {
  const root = ctx.workspace.root;
  const runs = root ? (await listRunFolders(root)).filter((r) => existsSync(join(r.path, "adapter", "adapter_config.json"))) : [];
  if (!runs.length) {
    void vscode.window.showErrorMessage('No trained run to export in this workspace: train one first ("Codistill: Open Training").');
    return undefined;
  }
  const items = runs.map((r) => ({ label: r.id, description: existsSync(join(r.path, "onnx", "export.json")) ? "exported already" : "", run: r }));
  const chosen = items.length === 1 ? items[0] : await vscode.window.showQuickPick(items, { title: "Export which run's student to ONNX?" });
  if (!chosen) return undefined;
  try {
    const student = await resolveStudent("sidecar", chosen.run.path, root);
    if (student.backend !== "sidecar") return undefined;
    return { id: chosen.run.id, path: chosen.run.path, baseModel: student.model };
  } catch (error) {
    if (!(error instanceof NoStudentError)) throw error;
    void vscode.window.showErrorMessage(error.message);
    return undefined;
  }
}
