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
import { deleteRunFolder } from "./core/runs/runFolders";
import type { RunRef } from "./views/explorerTree";

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
    "codistill.startTrainingRun": () => startTrainingRun(ctx),
    "codistill.showSidecarStatus": () => showSidecarStatus(ctx),
    "codistill.restartSidecar": () => restartSidecar(ctx),
    "codistill.setUpPythonEnvironment": () => setUpPythonEnvironment(ctx),
    "codistill.checkOnnxRuntime": () => checkOnnxRuntime(ctx),
    "codistill.refreshExplorer": () => ctx.refreshExplorer(),
    "codistill.openRun": (arg) => withRun(arg, (run) => openRun(ctx, run)),
    "codistill.resumeRun": (arg) => withRun(arg, (run) => resumeRun(ctx, run)),
    "codistill.evaluateRun": (arg) => withRun(arg, (run) => void EvaluationPanel.showModel(ctx, run.evalModelId)),
    "codistill.revealRun": (arg) => withRun(arg, (run) => vscode.commands.executeCommand("revealFileInOS", vscode.Uri.file(run.path))),
    "codistill.deleteRun": (arg) => withRun(arg, (run) => deleteRun(ctx, run)),
    "codistill.showLog": () => ctx.log.show(),
  };
  return Object.entries(handlers).map(([id, handler]) => vscode.commands.registerCommand(id, handler));
}

/** "Codistill: Open Training" (id codistill.startTraining): the training panel with codistill.yaml's run, and the sidecar warming up. */
function startTraining(ctx: CodistillContext): void {
  TrainingPanel.show(ctx);
  ctx.supervisor.start().catch((err) => ctx.log.error(`sidecar start: ${(err as Error).message}`));
}

/**
 * "Codistill: Start Training Run": codistill.yaml's run as configured, by the panel's own start
 * path, with the panel open to follow it; a notification until the sidecar has started it.
 */
async function startTrainingRun(ctx: CodistillContext): Promise<void> {
  const panel = TrainingPanel.show(ctx);
  try {
    const runId = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: "Codistill: starting codistill.yaml's training run" },
      () => panel.startConfiguredRun(),
    );
    void vscode.window.showInformationMessage(`Codistill: run ${runId} started; the Training panel follows it.`);
  } catch (err) {
    void vscode.window.showErrorMessage(`Codistill: the training run did not start: ${(err as Error).message}`);
  }
}

// ------------------------------------------------------------------ the Runs view's commands

/**
 * The run a Runs view command is about: a click passes the RunRef, the context menu the row's
 * node, which carries it as `run`. From the palette there is none: the commands are hidden there.
 */
function withRun(arg: unknown, act: (run: RunRef) => unknown): unknown {
  const candidate = (arg as { run?: RunRef } | undefined)?.run ?? arg;
  const run = candidate as Partial<RunRef> | undefined;
  if (typeof run?.id !== "string" || typeof run.path !== "string") {
    void vscode.window.showErrorMessage("Codistill: choose a run in the Runs view.");
    return undefined;
  }
  return act(run as RunRef);
}

/** A click on a run: a training run in the Training panel, an evaluation in the Evaluation panel. */
function openRun(ctx: CodistillContext, run: RunRef): void {
  if (run.kind === "evaluation") EvaluationPanel.showModel(ctx, run.evalModelId);
  else TrainingPanel.showRun(ctx, run.id);
}

async function resumeRun(ctx: CodistillContext, run: RunRef): Promise<void> {
  const panel = TrainingPanel.showRun(ctx, run.id);
  ctx.supervisor.start().catch((err) => ctx.log.error(`sidecar start: ${(err as Error).message}`));
  try {
    await panel.resumeRun(run.id);
  } catch (err) {
    void vscode.window.showErrorMessage(`Codistill: ${run.name} did not resume: ${(err as Error).message}`);
  }
}

/** Deletes the run's folder after a modal confirmation naming it; never the run being trained. */
async function deleteRun(ctx: CodistillContext, run: RunRef): Promise<void> {
  if (TrainingPanel.trainingRunId() === run.id) {
    void vscode.window.showErrorMessage(`Codistill: ${run.name} is training: stop it before deleting it.`);
    return;
  }
  const detail = `Its folder ${run.path} is deleted with everything in it (checkpoints, adapter, metrics, evaluation results). This cannot be undone.`;
  const answer = await vscode.window.showWarningMessage(`Delete the run "${run.name}" (${run.id})?`, { modal: true, detail }, "Delete");
  if (answer !== "Delete") return;
  try {
    await deleteRunFolder(ctx.workspace.requireRoot("runs live under .codistill/runs/ in the workspace"), run.path);
    ctx.log.info(`runs: deleted ${run.path}`);
  } catch (err) {
    void vscode.window.showErrorMessage(`Codistill: ${run.name} was not deleted: ${(err as Error).message}`);
  }
  ctx.refreshExplorer();
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
