import { join } from "node:path";
import * as vscode from "vscode";
import type { DatasetRequest } from "../../core/datasets/registry";
import type { Task } from "../../core/datasets/task";
import { referenceSolution, taskAsPythonFile, taskFileName } from "../../core/datasets/taskFile";

export const REFERENCE_SCHEME = "codistill-reference";

/** Read-only documents holding reference solutions, keyed by their URI. */
class ReferenceSolutions implements vscode.TextDocumentContentProvider {
  private readonly contents = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  set(uri: vscode.Uri, text: string): void {
    this.contents.set(uri.toString(), text);
    this.changed.fire(uri);
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.contents.get(uri.toString()) ?? "# This reference solution is no longer loaded: open the task again from the Dataset Browser.\n";
  }
}

const references = new ReferenceSolutions();

export function registerReferenceProvider(): vscode.Disposable {
  return vscode.workspace.registerTextDocumentContentProvider(REFERENCE_SCHEME, references);
}

/**
 * The task as an editable (untitled) Python file beside its read-only reference solution, in a
 * diff editor. Saving the task file puts it under .codistill/tasks/ in the workspace.
 */
export async function openTaskInEditor(dataset: DatasetRequest, task: Task): Promise<void> {
  const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? "";
  const taskUri = vscode.Uri.file(join(root, ".codistill", "tasks", dataset.name, taskFileName(task))).with({ scheme: "untitled" });
  const referenceUri = vscode.Uri.from({ scheme: REFERENCE_SCHEME, path: `/${dataset.name}/${taskFileName(task, ".reference")}` });
  references.set(referenceUri, referenceSolution(task));

  const document = await vscode.workspace.openTextDocument(taskUri);
  // An untitled task the user already edited keeps their work.
  if (!document.isDirty && document.getText() === "") {
    const edit = new vscode.WorkspaceEdit();
    edit.insert(taskUri, new vscode.Position(0, 0), taskAsPythonFile(task));
    await vscode.workspace.applyEdit(edit);
  }
  // The modified (right) side of a diff editor is the editable one: the task goes there.
  await vscode.commands.executeCommand("vscode.diff", referenceUri, taskUri, `${task.id}: reference solution ↔ task`, { preview: false });
}
