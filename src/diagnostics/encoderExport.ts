// "Codistill: Export Encoder to ONNX": codistill.yaml's encoder (the one the structural loss
// trains with) exported by the sidecar into .codistill/encoders/<name>/, where the structure
// Code Lens finds it for its encoder cosine.
import * as vscode from "vscode";
import type { CodistillContext } from "../context";
import type { EncoderQuantization } from "../sidecar/protocol";
import { exportedEncoderFolder } from "./encoderCosines";

export async function exportEncoder(ctx: CodistillContext, onExported: () => void): Promise<void> {
  const root = ctx.workspace.requireRoot("the encoder is exported under .codistill/encoders/");
  const encoder = (await ctx.workspace.experiment())?.config?.encoder?.model;
  if (!encoder) {
    void vscode.window.showErrorMessage("codistill.yaml names no encoder (encoder: model: <folder>): there is nothing to export.");
    return;
  }
  const choice = await vscode.window.showQuickPick(
    [
      { label: "int8", description: "onnxruntime dynamic quantization: about 4× smaller, faster on a CPU", quantize: "int8" as EncoderQuantization | null },
      { label: "float32", description: "the weights as trained; closest to PyTorch", quantize: null },
    ],
    { title: `Export ${encoder} to ONNX` },
  );
  if (!choice) return;
  const outDir = exportedEncoderFolder(root, encoder);
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Exporting the encoder to ${outDir}`, cancellable: true },
    async (_progress, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      return ctx.supervisor.request("encoder/export", { path: encoder, outDir, quantize: choice.quantize }, { signal: abort.signal, timeoutMs: 0 });
    },
  );
  ctx.log.info(`encoder exported to ${result.outDir} (${result.quantized ? "int8" : "float32"}; onnxruntime vs PyTorch: max abs diff ${result.maxAbsDiff.toExponential(2)}, min cosine ${result.minCosine.toFixed(5)})`);
  onExported();
  void vscode.window.showInformationMessage(`Encoder exported to ${result.outDir}: the structure Code Lenses now show the encoder cosine.`);
}
