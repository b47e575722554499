// Editing a CoT record by hand: its sections open as a JSON document in an editor; saving validates
// it and appends the edited record (the history stays). A save that does not validate as JSON or
// names an unknown field is an error naming the file and line, and appends nothing.
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import * as vscode from "vscode";
import { applyEdit, editableText } from "../core/cot/curate";
import type { ReasoningService } from "./service";

interface OpenEdit {
  set: string;
  taskId: string;
}

export class RecordEditor implements vscode.Disposable {
  private readonly open = new Map<string, OpenEdit>();
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly reasoning: ReasoningService,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.subscription = vscode.workspace.onDidSaveTextDocument((document) => void this.saved(document));
  }

  dispose(): void {
    this.subscription.dispose();
  }

  /** `.codistill/edits/<set>/<task id>.cot.json`, the task id's slashes kept as folders. */
  editPath(set: string, taskId: string): string {
    const root = join(dirname(this.reasoning.cotsDir()), "edits", set);
    const path = join(root, `${taskId.replace(/[^A-Za-z0-9._/-]/g, "_")}.cot.json`);
    if (relative(root, path).startsWith("..")) throw new Error(`task id "${taskId}" cannot name an edit file`);
    return path;
  }

  /** Opens the record's sections in an editor. */
  async edit(set: string, taskId: string): Promise<void> {
    const record = await (await this.reasoning.store(set)).get(taskId);
    if (!record) throw new Error(`no CoT record for ${taskId} in ${set}`);
    const path = this.editPath(set, taskId);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, editableText(record));
    this.open.set(path, { set, taskId });
    const document = await vscode.workspace.openTextDocument(vscode.Uri.file(path));
    await vscode.window.showTextDocument(document, { preview: false });
    void vscode.window.showInformationMessage(`Editing the reasoning of ${taskId}: save the file to validate it and append it to ${set}.`);
  }

  private async saved(document: vscode.TextDocument): Promise<void> {
    const edit = this.open.get(document.uri.fsPath) ?? this.fromPath(document.uri.fsPath);
    if (!edit) return;
    try {
      const current = await (await this.reasoning.store(edit.set)).get(edit.taskId);
      if (!current) throw new Error(`no CoT record for ${edit.taskId} in ${edit.set}`);
      const record = applyEdit(current, document.getText(), document.uri.fsPath, new Date());
      await this.reasoning.append(edit.set, record);
      const problems = record.problems.length ? ` Problems: ${record.problems.join("; ")}` : "";
      this.log.info(`reasoning ${edit.set}: ${edit.taskId} edited (${record.status})`);
      const show = record.status === "invalid" ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
      void show(`Codistill: the edited reasoning of ${edit.taskId} is saved to ${edit.set} as ${record.status}.${problems}`);
    } catch (err) {
      void vscode.window.showErrorMessage(`Codistill: the edit was not saved: ${(err as Error).message}`);
    }
  }

  /** An edit file opened again after a reload: its path says which set and task it is. */
  private fromPath(path: string): OpenEdit | undefined {
    let editsRoot: string;
    try {
      editsRoot = join(dirname(this.reasoning.cotsDir()), "edits");
    } catch {
      return undefined;
    }
    const rel = relative(editsRoot, path);
    if (rel.startsWith("..") || !rel.endsWith(".cot.json")) return undefined;
    const [set, ...rest] = rel.split(sep);
    if (!set || !rest.length) return undefined;
    return { set, taskId: rest.join("/").slice(0, -".cot.json".length) };
  }
}
