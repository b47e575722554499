import * as vscode from "vscode";
import { CONFIG_FILE } from "./core/experiment/config";
import { ExperimentConfigCache, type LoadedExperiment } from "./core/experiment/configCache";

export type { LoadedExperiment } from "./core/experiment/configCache";

/**
 * The workspace Codistill works in (its first folder) and the experiment its codistill.yaml
 * declares. The only reader of the workspace folders and of codistill.yaml in the extension:
 * commands, views and panels get both from here, through the context.
 */
export class ExperimentWorkspace implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  /** codistill.yaml was created, changed or deleted, or the workspace folders changed. */
  readonly onDidChange = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private cache: ExperimentConfigCache | undefined;
  /** The problems last reported, so each set of problems is logged and shown once, not on every read. */
  private reported = "";

  constructor(private readonly log: vscode.LogOutputChannel) {
    const watcher = vscode.workspace.createFileSystemWatcher(`**/${CONFIG_FILE}`);
    const fire = () => this.changed.fire();
    this.disposables.push(
      watcher,
      watcher.onDidCreate(fire),
      watcher.onDidChange(fire),
      watcher.onDidDelete(fire),
      vscode.workspace.onDidChangeWorkspaceFolders(fire),
    );
  }

  get folder(): vscode.WorkspaceFolder | undefined {
    return vscode.workspace.workspaceFolders?.[0];
  }

  get root(): string | undefined {
    return this.folder?.uri.fsPath;
  }

  /** The root, or an error that says what needs a folder ("runs are written under …"). */
  requireRoot(why: string): string {
    const root = this.root;
    if (!root) throw new Error(`Open a folder first: ${why}.`);
    return root;
  }

  /** codistill.yaml as it is on disk now; undefined when no folder is open. */
  async experiment(): Promise<LoadedExperiment | undefined> {
    const root = this.root;
    if (!root) return undefined;
    if (this.cache?.root !== root) this.cache = new ExperimentConfigCache(root);
    const loaded = await this.cache.load();
    this.report(loaded);
    return loaded;
  }

  private report(loaded: LoadedExperiment): void {
    const key = loaded.problems.join("\n");
    if (key === this.reported) return;
    this.reported = key;
    if (!loaded.problems.length) return;
    for (const problem of loaded.problems) this.log.warn(problem);
    const more = loaded.problems.length > 1 ? ` (and ${loaded.problems.length - 1} more in the Codistill log)` : "";
    const open = `Open ${CONFIG_FILE}`;
    void vscode.window.showWarningMessage(`Codistill: ${loaded.problems[0]}${more}`, open).then((answer) => {
      if (answer === open) void vscode.window.showTextDocument(vscode.Uri.file(this.cache?.file ?? loaded.root));
    });
  }

  dispose(): void {
    while (this.disposables.length) this.disposables.pop()?.dispose();
  }
}
