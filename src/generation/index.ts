// Code generation in the editor: "Generate Code", "Export Student to ONNX", the reasoning view,
// the consensus diagnostics and the optional inline completions, all over one GenerationService.
import * as vscode from "vscode";
import type { CodistillContext } from "../context";
import { ConsensusDiagnostics } from "./consensusDiagnostics";
import { exportStudentCommand } from "./exportStudent";
import { generateCodeCommand } from "./generateCommand";
import { registerInlineCompletions } from "./inlineCompletion";
import { registerReasoningView } from "./reasoningView";
import { GenerationService } from "./service";

export function registerGeneration(ctx: CodistillContext): vscode.Disposable[] {
  const service = new GenerationService(ctx);
  const consensus = new ConsensusDiagnostics();
  return [
    service,
    consensus,
    registerReasoningView(),
    registerInlineCompletions(ctx, service),
    vscode.commands.registerCommand("codistill.generateCode", () => generateCodeCommand(ctx, service, consensus)),
    vscode.commands.registerCommand("codistill.exportStudent", () => exportStudentCommand(ctx)),
  ];
}
