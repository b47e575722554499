// The student's reasoning beside the editor: a read-only Markdown document that fills in as the
// reasoning streams, one per generated-into document.
import * as vscode from "vscode";

export const REASONING_SCHEME = "codistill-reasoning";
/** Redrawing the view on every token would make it flicker. */
const REDRAW_MS = 100;

class ReasoningDocuments implements vscode.TextDocumentContentProvider {
  private readonly contents = new Map<string, string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.contents.get(uri.toString()) ?? "";
  }

  set(uri: vscode.Uri, text: string, now = false): void {
    const key = uri.toString();
    this.contents.set(key, text);
    if (now) {
      clearTimeout(this.timers.get(key));
      this.timers.delete(key);
      this.changed.fire(uri);
      return;
    }
    if (this.timers.has(key)) return;
    this.timers.set(key, setTimeout(() => {
      this.timers.delete(key);
      this.changed.fire(uri);
    }, REDRAW_MS));
  }
}

const documents = new ReasoningDocuments();

export function registerReasoningView(): vscode.Disposable {
  return vscode.workspace.registerTextDocumentContentProvider(REASONING_SCHEME, documents);
}

/** The side view of the reasoning written for `target`. */
export class ReasoningView {
  readonly uri: vscode.Uri;
  private words = "";

  constructor(target: vscode.Uri, private readonly title: string) {
    const name = target.path.split("/").pop() ?? "code";
    this.uri = vscode.Uri.from({ scheme: REASONING_SCHEME, path: `/${name}.reasoning.md` });
  }

  async show(): Promise<void> {
    documents.set(this.uri, this.render(), true);
    const doc = await vscode.workspace.openTextDocument(this.uri);
    await vscode.languages.setTextDocumentLanguage(doc, "markdown");
    await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true, preview: true });
  }

  update(words: string, done = false): void {
    this.words = words;
    documents.set(this.uri, this.render(done), done);
  }

  private render(done = false): string {
    const body = this.words || (done ? "_The student wrote no reasoning before its code._" : "_Waiting for the student…_");
    return `# ${this.title}\n\n${body}\n`;
  }
}
