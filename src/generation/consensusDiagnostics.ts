// The structural consensus in the editor: the chooser (src/core/generation/consensus.ts, loaded
// once) and the Information diagnostics on the lines where the candidates disagreed. They
// describe the answer as inserted, so the first edit of the document clears them.
import * as vscode from "vscode";
import { loadConsensus, type Consensus, type ConsensusChoice } from "../core/generation/consensus";

const SOURCE = "Codistill";
const CODE = "consensus";

export interface DisagreementAt {
  line: number;
  agreeing: number;
  of: number;
}

export class ConsensusDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection("codistill-consensus");
  private readonly shown = new Set<string>();
  private consensus: Promise<Consensus> | undefined;
  private readonly disposables: vscode.Disposable[] = [
    this.collection,
    vscode.workspace.onDidChangeTextDocument((event) => {
      if (event.contentChanges.length) this.clear(event.document.uri);
    }),
    vscode.workspace.onDidCloseTextDocument((doc) => this.clear(doc.uri)),
  ];

  async choose(programs: readonly string[]): Promise<ConsensusChoice> {
    this.consensus ??= loadConsensus();
    return (await this.consensus).choose(programs);
  }

  show(doc: vscode.TextDocument, lines: readonly DisagreementAt[], candidates: number): void {
    const diagnostics = lines
      .filter((d) => d.line < doc.lineCount && !doc.lineAt(d.line).isEmptyOrWhitespace)
      .map((d) => {
        const text = doc.lineAt(d.line);
        const range = new vscode.Range(d.line, text.firstNonWhitespaceCharacterIndex, d.line, text.text.length);
        const message = `The candidates disagree here: ${d.agreeing} of the other ${d.of} candidates have this line's structure (${candidates} generated).`;
        const diagnostic = new vscode.Diagnostic(range, message, vscode.DiagnosticSeverity.Information);
        diagnostic.source = SOURCE;
        diagnostic.code = CODE;
        return diagnostic;
      });
    this.collection.set(doc.uri, diagnostics);
    if (diagnostics.length) this.shown.add(doc.uri.toString());
  }

  private clear(uri: vscode.Uri): void {
    if (!this.shown.delete(uri.toString())) return;
    this.collection.delete(uri);
  }

  dispose(): void {
    vscode.Disposable.from(...this.disposables).dispose();
  }
}
