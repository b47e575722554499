import * as vscode from "vscode";
import type { DatasetRequest } from "../core/datasets/registry";
import type { Task } from "../core/datasets/task";
import { referenceSolution, taskAsPythonFile, taskFileName } from "../core/datasets/taskFile";
import { structureReferences } from "../diagnostics/references";
import type { ExperimentWorkspace } from "../workspace";

export const REFERENCE_SCHEME = "codistill-reference";

/** Read-only documents holding reference solutions, keyed by their URI. */
class ReferenceSolutions implements vscode.TextDocumentContentProvider {
  private readonly contents = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  set(uri: vscode.Uri, text: string): void {
    // Served again after every structure comparison: an unchanged text must not reload the document.
    if (this.contents.get(uri.toString()) === text) return;
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
 * The task as a Python file of the workspace (.codistill/tasks/<dataset>/<task>.py) beside its
 * read-only reference solution, in a diff editor. A task file that exists already is the
 * user's work in progress and is opened as it is.
 */
export async function openTaskInEditor(workspace: ExperimentWorkspace, dataset: DatasetRequest, task: Task): Promise<void> {
  const folder = vscode.Uri.file(workspace.requireRoot("task files are written under .codistill/tasks/ in the workspace"));
  const taskUri = vscode.Uri.joinPath(folder, ".codistill", "tasks", dataset.name, taskFileName(task));
  const referenceUri = vscode.Uri.from({ scheme: REFERENCE_SCHEME, path: `/${dataset.name}/${taskFileName(task, ".reference")}` });
  const solution = referenceSolution(task);
  references.set(referenceUri, solution);
  structureReferences.set(taskUri, { text: solution, uri: referenceUri.toString(), label: `${task.id} reference solution` });
  if (!(await exists(taskUri))) {
    await vscode.workspace.fs.writeFile(taskUri, new TextEncoder().encode(taskAsPythonFile(task)));
  }
  // The modified (right) side of a diff editor is the editable one: the task goes there.
  await vscode.commands.executeCommand("vscode.diff", referenceUri, taskUri, `${task.id}: reference solution ↔ task`, { preview: false });
}

/**
 * Two read-only documents (paths under the reference scheme) side by side in a diff editor: a
 * reference on the left, code to check against it (a generated sample) on the right, which the
 * structure diagnostics then compare with the left.
 */
export async function showReadOnlyDiff(left: { path: string; text: string }, right: { path: string; text: string }, title: string): Promise<void> {
  const leftUri = vscode.Uri.from({ scheme: REFERENCE_SCHEME, path: left.path });
  const rightUri = vscode.Uri.from({ scheme: REFERENCE_SCHEME, path: right.path });
  references.set(leftUri, left.text);
  references.set(rightUri, right.text);
  structureReferences.set(rightUri, { text: left.text, uri: leftUri.toString(), label: left.path.split("/").pop() ?? left.path });
  await vscode.commands.executeCommand("vscode.diff", leftUri, rightUri, title, { preview: true });
}

/**
 * A reference beside the document compared with it. A read-only reference is served again from
 * the text kept with it: after a reload the provider no longer holds it.
 */
export async function showReferenceBeside(reference: { uri: string; text: string; label: string }, document: vscode.Uri): Promise<void> {
  const referenceUri = vscode.Uri.parse(reference.uri);
  if (referenceUri.scheme === REFERENCE_SCHEME) references.set(referenceUri, reference.text);
  await vscode.commands.executeCommand("vscode.diff", referenceUri, document, `${reference.label} ↔ ${document.path.split("/").pop() ?? ""}`, { preview: false });
}

/** Makes a read-only reference's text available again (for related-information links after a reload). */
export function serveReference(uri: vscode.Uri, text: string): void {
  if (uri.scheme === REFERENCE_SCHEME) references.set(uri, text);
}

async function exists(uri: vscode.Uri): Promise<boolean> {
  try {
    await vscode.workspace.fs.stat(uri);
    return true;
  } catch {
    return false;
  }
}
