import * as vscode from "vscode";
import { registerCommands, setupVenvDir } from "./commands";
import { datasetLister } from "./datasetCommands";
import { registerStructureDiagnostics } from "./diagnostics/structure";
import { registerExperiment } from "./experiment/index";
import { registerGeneration } from "./generation/index";
import { registerReferenceProvider } from "./editor/taskEditor";
import { registerConfigFile } from "./editor/configFile";
import { openDataset } from "./core/datasets/index";
import { DatasetRegistry } from "./core/datasets/registry";
import { DatasetBrowserPanel, defaultDatasetName } from "./panels/datasetBrowser/Panel";
import { PANEL_ID as DATASET_PANEL_ID, type DatasetBrowserState } from "./panels/datasetBrowser/protocol";
import { affectsSidecar, readSettings } from "./config";
import type { CodistillContext } from "./context";
import { EvaluationPanel } from "./panels/evaluation/Panel";
import { PANEL_ID as EVALUATION_PANEL_ID } from "./panels/evaluation/protocol";
import { SidecarStatusPanel } from "./panels/sidecarStatus/Panel";
import { TrainingPanel } from "./panels/training/Panel";
import { PANEL_ID as TRAINING_PANEL_ID } from "./panels/training/protocol";
import { PANEL_ID } from "./panels/sidecarStatus/protocol";
import {
  describeSource,
  resolveInterpreter,
  sidecarLaunchArgs,
  venvPython,
  type InterpreterCandidate,
} from "./sidecar/interpreter";
import { sidecarLineLevels } from "./sidecar/logger";
import { SidecarSupervisor, type LaunchProblem, type LaunchSpec } from "./sidecar/supervisor";
import { RecordEditor } from "./reasoning/editRecord";
import { ReasoningService } from "./reasoning/service";
import { ExplorerTree } from "./views/explorerTree";
import { createSidecarStatusItem } from "./views/statusBar";
import { ExperimentWorkspace } from "./workspace";

let supervisor: SidecarSupervisor | undefined;
let registry: DatasetRegistry | undefined;

export function activate(extension: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel("Codistill", { log: true });
  const version = String(extension.extension.packageJSON.version ?? "0.0.0");
  let interpreter: string | undefined;
  const workspace = new ExperimentWorkspace(log);
  const sidecarLevel = sidecarLineLevels();
  const sidecar = new SidecarSupervisor({
    launch: async () => {
      const spec = await sidecarLaunch(ctx);
      if ("command" in spec) interpreter = spec.label;
      return spec;
    },
    log,
    sidecarLog: (line) => log[sidecarLevel(line)](`[sidecar] ${line}`),
    clientName: "codistill-vscode",
    clientVersion: version,
    requestTimeoutMs: readSettings().requestTimeoutMs,
  });
  const reasoning = new ReasoningService({ extensionUri: extension.extensionUri, secrets: extension.secrets, log, supervisor: sidecar, workspace });

  const ctx: CodistillContext = {
    extension,
    extensionUri: extension.extensionUri,
    log,
    supervisor: sidecar,
    workspace,
    reasoning,
    recordEditor: new RecordEditor(reasoning, log),
    datasets: new DatasetRegistry(openDataset),
    interpreterLabel: () => interpreter,
    refreshExplorer: () => {
      datasetRows.forget();
      tree.refresh();
    },
  };
  supervisor = ctx.supervisor;
  registry = ctx.datasets;
  const datasetRows = datasetLister(ctx, () => tree.refresh());
  const tree = new ExplorerTree(workspace, datasetRows.list);
  void vscode.commands.executeCommand("setContext", "codistill.datasetExtensions", [".jsonl", ".parquet", ".json"]);

  extension.subscriptions.push(
    log,
    workspace,
    reasoning,
    ctx.recordEditor,
    reasoning.onDidChangeSet(() => tree.refresh()),
    createSidecarStatusItem(ctx.supervisor),
    vscode.window.createTreeView("codistill.explorer", { treeDataProvider: tree, showCollapseAll: true }),
    vscode.window.registerWebviewPanelSerializer(PANEL_ID, {
      deserializeWebviewPanel: async (panel) => SidecarStatusPanel.revive(panel, ctx),
    }),
    vscode.window.registerWebviewPanelSerializer(DATASET_PANEL_ID, {
      deserializeWebviewPanel: async (panel, state?: DatasetBrowserState) => {
        DatasetBrowserPanel.revive(panel, ctx);
        if (state?.path) await DatasetBrowserPanel.active?.load({ path: state.path, name: defaultDatasetName(state.path) });
      },
    }),
    vscode.window.registerWebviewPanelSerializer(EVALUATION_PANEL_ID, {
      deserializeWebviewPanel: async (panel) => EvaluationPanel.revive(panel, ctx),
    }),
    vscode.window.registerWebviewPanelSerializer(TRAINING_PANEL_ID, {
      deserializeWebviewPanel: async (panel) => TrainingPanel.revive(panel, ctx),
    }),
    registerReferenceProvider(),
    registerConfigFile(),
    ...registerCommands(ctx),
    ...registerStructureDiagnostics(ctx).disposables,
    ...registerGeneration(ctx),
    ...registerExperiment(ctx),
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      if (ctx.supervisor.snapshot().launchProblem) void ctx.supervisor.start();
    }),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (!affectsSidecar(event)) return;
      ctx.supervisor.setRequestTimeout(readSettings().requestTimeoutMs);
      if (ctx.supervisor.state !== "stopped") void ctx.supervisor.restart();
    }),
    watchArtifacts(tree),
    tree.watchCotSets(),
    workspace.onDidChange(() => ctx.refreshExplorer()),
  );
  // The sidecar also exits when its stdin closes; this covers an extension host that exits
  // without running deactivate().
  const killOnExit = () => ctx.supervisor.killNow();
  process.once("exit", killOnExit);
  extension.subscriptions.push({ dispose: () => process.off("exit", killOnExit) });
  log.info(`Codistill ${version} activated (workspace ${vscode.workspace.isTrusted ? "trusted" : "not trusted"})`);
}

export async function deactivate(): Promise<void> {
  await Promise.all([supervisor?.stop(), registry?.closeAll()]);
  supervisor = undefined;
  registry = undefined;
}

async function sidecarLaunch(ctx: CodistillContext): Promise<(LaunchSpec & { label: string }) | LaunchProblem> {
  if (!vscode.workspace.isTrusted) {
    return {
      problem: "This workspace is not trusted, so Codistill does not start its Python sidecar, which runs code.",
      fix: 'Trust the workspace ("Workspaces: Manage Workspace Trust") to start it.',
    };
  }
  const settings = readSettings();
  const candidates: InterpreterCandidate[] = [
    { source: "setting", path: settings.pythonPath },
    { source: "setupVenv", path: venvPython(setupVenvDir(ctx)) },
    { source: "pythonExtension", path: (await pythonExtensionInterpreter(ctx)) ?? "" },
    { source: "path", path: "python3" },
  ];
  const resolved = await resolveInterpreter(candidates);
  if (!resolved.ok) return resolved;
  ctx.log.info(`sidecar interpreter: ${resolved.executable} (Python ${resolved.version}, from ${describeSource(resolved.source)})`);
  return {
    command: resolved.executable,
    args: sidecarLaunchArgs(settings.sidecarLogLevel),
    env: { CODISTILL_LOG_LEVEL: settings.sidecarLogLevel },
    cwd: ctx.workspace.root,
    label: `${resolved.executable} (Python ${resolved.version}, ${describeSource(resolved.source)})`,
  };
}

interface PythonExtensionApi {
  environments?: { getActiveEnvironmentPath(resource?: vscode.Uri): { path: string } | undefined };
}

/** The Python extension's active interpreter, when that extension is installed. */
async function pythonExtensionInterpreter(ctx: CodistillContext): Promise<string | undefined> {
  const python = vscode.extensions.getExtension<PythonExtensionApi>("ms-python.python");
  if (!python) return undefined;
  try {
    const api = python.isActive ? python.exports : await python.activate();
    return api.environments?.getActiveEnvironmentPath(ctx.workspace.folder?.uri)?.path;
  } catch (err) {
    ctx.log.warn(`could not ask the Python extension for its interpreter: ${(err as Error).message}`);
    return undefined;
  }
}

function watchArtifacts(tree: ExplorerTree): vscode.Disposable {
  const watcher = vscode.workspace.createFileSystemWatcher("**/.codistill/{cots,runs}/**");
  const refresh = () => tree.refresh();
  return vscode.Disposable.from(watcher, watcher.onDidCreate(refresh), watcher.onDidDelete(refresh));
}
