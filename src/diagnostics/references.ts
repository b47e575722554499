// Which reference each Python document is compared with: the task's solution for a task opened
// with "Open Task in Editor", the reference beside a generated sample, or what the user picked
// with "Compare Structure With…". Kept in workspace state so a reopened task file still has its
// reference after a reload.
import * as vscode from "vscode";

export interface StructureReference {
  text: string;
  /** Where the reference can be shown: a file, or a read-only codistill-reference document. */
  uri: string;
  /** "HumanEval/0 reference solution", "solution.py", "selection in solution.py". */
  label: string;
  /** Where `text` starts in `uri`: a selection's start; absent for a whole document. */
  start?: { line: number; character: number };
}

const STATE_KEY = "codistill.structureReferences";
/** Oldest entries go first past this: a memento is not a database. */
const MAX_REMEMBERED = 200;

class StructureReferences {
  private readonly byDocument = new Map<string, StructureReference>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  private memento: vscode.Memento | undefined;
  readonly onDidChange = this.changed.event;

  /** Loads what earlier sessions remembered; later changes are saved there. */
  restore(memento: vscode.Memento): void {
    this.memento = memento;
    const saved = memento.get<Record<string, StructureReference>>(STATE_KEY, {});
    for (const [document, reference] of Object.entries(saved)) {
      if (typeof reference?.text === "string" && typeof reference.uri === "string" && typeof reference.label === "string") this.byDocument.set(document, reference);
    }
  }

  get(document: vscode.Uri): StructureReference | undefined {
    return this.byDocument.get(document.toString());
  }

  set(document: vscode.Uri, reference: StructureReference): void {
    const key = document.toString();
    this.byDocument.delete(key);
    this.byDocument.set(key, reference);
    while (this.byDocument.size > MAX_REMEMBERED) this.byDocument.delete(this.byDocument.keys().next().value!);
    this.save();
    this.changed.fire(document);
  }

  delete(document: vscode.Uri): void {
    if (!this.byDocument.delete(document.toString())) return;
    this.save();
    this.changed.fire(document);
  }

  private save(): void {
    void this.memento?.update(STATE_KEY, Object.fromEntries(this.byDocument));
  }
}

export const structureReferences = new StructureReferences();
