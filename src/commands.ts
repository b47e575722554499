import * as vscode from "vscode";
import { readSettings } from "./config";
import type { CodistillContext } from "./context";
import { runOnnxSelfTest } from "./core/inference/onnxSelfTest";
import { openDatasetCommand, openTaskInEditorCommand } from "./datasetCommands";
import { EvaluationPanel } from "./panels/evaluation/Panel";
import { TrainingPanel } from "./panels/training/Panel";
import { SidecarStatusPanel } from "./panels/sidecarStatus/Panel";
import { generateReasoningCommand } from "./reasoning/generateCommand";
import { setTeacherApiKey } from "./reasoning/service";
import { findOnPath } from "./sidecar/interpreter";
import { hasNvidiaGpu, planPythonSetup, runSetupPlan } from "./sidecar/pythonSetup";

export function setupVenvDir(ctx: CodistillContext): string {
  return vscode.Uri.joinPath(ctx.extension.globalStorageUri, "venv").fsPath;
}

/** Command id -> handler. Every handler is reachable from the command palette. */
export function registerCommands(ctx: CodistillContext): vscode.Disposable[] {
  const handlers: Record<string, (...args: unknown[]) => unknown> = {
    "codistill.openDataset": (arg, set) => openDatasetCommand(ctx, arg, set),
    "codistill.openTaskInEditor": () => openTaskInEditorCommand(ctx),
    "codistill.generateReasoning": (arg) => generateReasoningCommand(ctx, arg),
    "codistill.setTeacherApiKey": () => setTeacherApiKey(ctx.extension.secrets),
    "codistill.openEvaluation": () => EvaluationPanel.show(ctx),
    "codistill.startTraining": () => startTraining(ctx),
    "codistill.showSidecarStatus": () => showSidecarStatus(ctx),
    "codistill.restartSidecar": () => restartSidecar(ctx),
    "codistill.setUpPythonEnvironment": () => setUpPythonEnvironment(ctx),
    "codistill.checkOnnxRuntime": () => checkOnnxRuntime(ctx),
    "codistill.refreshExplorer": () => ctx.refreshExplorer(),
    "codistill.showLog": () => ctx.log.show(),
  };
  return Object.entries(handlers).map(([id, handler]) => vscode.commands.registerCommand(id, handler));
}

/** "Codistill: Start Training": the training panel with codistill.yaml's run, and the sidecar warming up. */
function startTraining(ctx: CodistillContext): void {
  TrainingPanel.show(ctx);
  ctx.supervisor.start().catch((err) => ctx.log.error(`sidecar start: ${(err as Error).message}`));
}

function showSidecarStatus(ctx: CodistillContext): void {
  SidecarStatusPanel.show(ctx);
  ctx.supervisor.start().catch((err) => ctx.log.error(`sidecar start: ${(err as Error).message}`));
}

async function restartSidecar(ctx: CodistillContext): Promise<void> {
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Window, title: "Restarting the Codistill sidecar" },
    () => ctx.supervisor.restart(),
  );
  const { state, launchProblem, lastError } = ctx.supervisor.snapshot();
  if (state !== "ready") {
    void vscode.window.showErrorMessage(`Codistill sidecar did not start: ${launchProblem?.problem ?? lastError ?? state}`);
  }
}

async function setUpPythonEnvironment(ctx: CodistillContext): Promise<void> {
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showErrorMessage("Codistill sets up Python only in a trusted workspace: installing packages runs code.");
    return;
  }
  const basePython = findOnPath("python3") ?? findOnPath("python");
  if (!basePython) {
    void vscode.window.showErrorMessage('No "python3" on PATH to create the environment from. Install Python 3.10+ (for example "sudo apt install python3 python3-venv") and try again.');
    return;
  }
  const venvDir = setupVenvDir(ctx);
  await vscode.workspace.fs.createDirectory(ctx.extension.globalStorageUri);
  const cuda = await hasNvidiaGpu();
  const steps = planPythonSetup({
    basePython,
    venvDir,
    sidecarDir: vscode.Uri.joinPath(ctx.extensionUri, "sidecar").fsPath,
    cuda,
    extras: "train,export",
    torchIndexUrl: readSettings().torchIndexUrl || undefined,
  });
  ctx.log.show(true);
  try {
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: "Codistill: setting up Python", cancellable: true },
      async (progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort());
        await runSetupPlan(steps, {
          log: ctx.log,
          signal: abort.signal,
          onStep: (step, i, total) => progress.report({ message: `${step.title} (${i + 1}/${total})`, increment: 100 / total }),
        });
      },
    );
  } catch (err) {
    void vscode.window.showErrorMessage(`Python set-up failed: ${(err as Error).message.split("\n")[0]} See the Codistill output for details.`);
    return;
  }
  void vscode.window.showInformationMessage(`Codistill's Python environment is ready in ${venvDir} (${cuda ? "CUDA" : "CPU"} build of torch).`);
  await ctx.supervisor.restart();
}

async function checkOnnxRuntime(ctx: CodistillContext): Promise<void> {
  const model = vscode.Uri.joinPath(ctx.extensionUri, "media", "onnx", "selftest.onnx").fsPath;
  try {
    const report = await runOnnxSelfTest(model);
    ctx.log.info(`ONNX Runtime self-test: ${JSON.stringify(report)}`);
    const verdict = report.ok ? "works" : "gave a wrong answer";
    const message = `ONNX Runtime ${report.onnxruntimeVersion} ${verdict} in the extension host (Node ${process.versions.node}, ${process.platform}-${process.arch}): self-test output ${JSON.stringify(report.output)}, expected ${JSON.stringify(report.expected)}.`;
    if (report.ok) void vscode.window.showInformationMessage(message);
    else void vscode.window.showErrorMessage(message);
  } catch (err) {
    ctx.log.error(`ONNX Runtime self-test failed: ${(err as Error).stack ?? err}`);
    void vscode.window.showErrorMessage(`ONNX Runtime failed to load in the extension host: ${(err as Error).message}`);
  }
}
