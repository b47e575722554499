// Text streamed into an editor as ONE undoable edit: every piece is inserted without undo stops
// between them, so a single Undo takes the whole answer back.
import * as vscode from "vscode";

export class StreamingEdit {
  private startOffset: number;
  private inserted = 0;
  private edits = 0;
  private queue: Promise<void> = Promise.resolve();
  private failed: Error | undefined;

  constructor(private readonly editor: vscode.TextEditor, at: vscode.Position) {
    const doc = editor.document;
    this.startOffset = doc.offsetAt(doc.validatePosition(at));
    // At the very end of a file without a final newline, the answer starts on a line of its own.
    if (at.line >= doc.lineCount) this.append("\n");
  }

  /** Queues `text` after what was inserted so far. */
  append(text: string): void {
    if (!text) return;
    this.queue = this.queue.then(() => this.apply((builder, doc) => builder.insert(doc.positionAt(this.startOffset + this.inserted), text), text.length));
  }

  /** Removes `range`, which lies before the answer (a stub the answer replaces), in the same undoable edit. */
  remove(range: vscode.Range): void {
    this.queue = this.queue.then(async () => {
      const doc = this.editor.document;
      const removed = doc.offsetAt(range.end) - doc.offsetAt(range.start);
      await this.apply((builder) => builder.delete(range), 0);
      if (!this.failed) this.startOffset -= removed;
    });
  }

  /** Waits for the queued pieces; ends the answer with a newline when text follows it on the same line. */
  async finish(): Promise<{ start: vscode.Position; insertedChars: number }> {
    await this.queue;
    const doc = this.editor.document;
    const end = this.startOffset + this.inserted;
    if (this.inserted && end < doc.getText().length && doc.getText(new vscode.Range(doc.positionAt(end - 1), doc.positionAt(end))) !== "\n") this.append("\n");
    // The last edit closes the undo group; an empty one makes the stop when nothing else did.
    this.queue = this.queue.then(() => this.apply(() => undefined, 0, true));
    await this.queue;
    if (this.failed) throw this.failed;
    return { start: doc.positionAt(this.startOffset), insertedChars: this.inserted };
  }

  get startPosition(): vscode.Position {
    return this.editor.document.positionAt(this.startOffset);
  }

  private async apply(change: (builder: vscode.TextEditorEdit, doc: vscode.TextDocument) => void, length: number, last = false): Promise<void> {
    if (this.failed) return;
    const first = this.edits === 0;
    if (first && last) return;
    const ok = await this.editor.edit((builder) => change(builder, this.editor.document), { undoStopBefore: first, undoStopAfter: last });
    if (!ok) {
      this.failed = new Error("the editor refused the edit (was it closed?)");
      return;
    }
    this.edits++;
    this.inserted += length;
  }
}
