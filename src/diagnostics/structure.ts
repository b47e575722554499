// Host glue of the inline structural diagnostics: when a Python document has a reference
// (references.ts), src/core/structure compares them function by function and this file shows
// the result as diagnostics, Code Lenses, hovers and a quick fix. The comparison runs debounced
// after edits; the optional encoder cosine runs afterwards, asynchronously, in onnxruntime's threads.
import { basename } from "node:path";
import * as vscode from "vscode";
import { readSettings, affectsStructure, type StructureSettings } from "../config";
import type { CodistillContext } from "../context";
import { loadStructureComparer, type Span, type StructureComparer, type StructureReport, type UnitComparison } from "../core/structure/index";
import { serveReference, showReferenceBeside } from "../editor/taskEditor";
import { structureReferences, type StructureReference } from "./references";
import { EncoderCosines } from "./encoderCosines";
import { exportEncoder } from "./encoderExport";

export const SHOW_REFERENCE_COMMAND = "codistill.showStructureReference";
const DIAGNOSTIC_SOURCE = "Codistill";
const DIAGNOSTIC_CODE = "structure";
/** Long enough to skip the keystrokes of a word, short enough to feel live. */
const DEBOUNCE_MS = 300;

interface Analysis {
  reference: StructureReference;
  report: StructureReport;
}

export class StructureDiagnostics implements vscode.Disposable, vscode.CodeLensProvider, vscode.HoverProvider, vscode.CodeActionProvider {
  private readonly collection = vscode.languages.createDiagnosticCollection("codistill-structure");
  private readonly analyses = new Map<string, Analysis>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly lensesChanged = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.lensesChanged.event;
  private readonly disposables: vscode.Disposable[] = [this.collection, this.lensesChanged];
  private comparer: Promise<StructureComparer> | undefined;
  private settings: StructureSettings = readSettings().structure;
  private readonly encoder: EncoderCosines;

  constructor(private readonly ctx: CodistillContext) {
    this.encoder = new EncoderCosines(ctx, () => this.settings.encoder, () => this.lensesChanged.fire());
    const python = { language: "python" };
    this.disposables.push(
      this.encoder,
      vscode.languages.registerCodeLensProvider(python, this),
      vscode.languages.registerHoverProvider(python, this),
      vscode.languages.registerCodeActionsProvider(python, this, { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] }),
      vscode.workspace.onDidOpenTextDocument((doc) => this.schedule(doc, 0)),
      vscode.workspace.onDidChangeTextDocument((event) => this.schedule(event.document, DEBOUNCE_MS)),
      vscode.workspace.onDidCloseTextDocument((doc) => this.forget(doc.uri)),
      structureReferences.onDidChange((uri) => {
        const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
        if (doc) this.schedule(doc, 0);
        else this.forget(uri);
      }),
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (!affectsStructure(event)) return;
        this.settings = readSettings().structure;
        this.encoder.reset();
        this.analyses.clear();
        this.collection.clear();
        this.lensesChanged.fire();
        for (const doc of vscode.workspace.textDocuments) this.schedule(doc, 0);
      }),
    );
    for (const doc of vscode.workspace.textDocuments) this.schedule(doc, 0);
  }

  private schedule(doc: vscode.TextDocument, delayMs: number): void {
    if (doc.languageId !== "python") return;
    const key = doc.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.set(key, setTimeout(() => {
      this.timers.delete(key);
      void this.analyze(doc);
    }, delayMs));
  }

  private forget(uri: vscode.Uri): void {
    const key = uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    // Most Python files have no reference: they must not make VS Code ask every editor for lenses again.
    if (!this.analyses.delete(key)) return;
    this.collection.delete(uri);
    this.lensesChanged.fire();
  }

  private async analyze(doc: vscode.TextDocument): Promise<void> {
    const reference = structureReferences.get(doc.uri);
    if (!reference || !this.settings.enabled || doc.isClosed) return this.forget(doc.uri);
    let report: StructureReport;
    try {
      this.comparer ??= loadStructureComparer();
      const comparer = await this.comparer;
      report = comparer.compare(reference.text, doc.getText(), this.settings);
    } catch (err) {
      this.comparer = undefined;
      this.ctx.log.error(`structure comparison of ${doc.uri.fsPath || doc.uri.toString()}: ${(err as Error).message}`);
      return;
    }
    serveReference(vscode.Uri.parse(reference.uri), reference.text);
    this.analyses.set(doc.uri.toString(), { reference, report });
    this.collection.set(doc.uri, diagnosticsOf(report, reference));
    this.lensesChanged.fire();
    this.encoder.request(doc.uri, reference, report);
  }

  /** A new encoder export: the cosines are computed again with it. */
  refreshEncoder(): void {
    this.encoder.reset();
    for (const doc of vscode.workspace.textDocuments) this.schedule(doc, 0);
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    const analysis = this.analyses.get(doc.uri.toString());
    if (!analysis) return [];
    return analysis.report.units.map((unit) => {
      const cosine = this.encoder.cosine(doc.uri, unit);
      const encoder = cosine === undefined ? "" : ` · encoder ${cosine.toFixed(3)}`;
      return new vscode.CodeLens(rangeOf(unit.document.anchor), {
        title: `Structure vs reference: ${unit.scores}${encoder}`,
        tooltip: `Compared with ${analysis.reference.label}${unit.matchedBy === "position" ? ` (its \`${unit.referenceName}\`)` : ""}. Click to show it side by side.`,
        command: SHOW_REFERENCE_COMMAND,
        arguments: [doc.uri],
      });
    });
  }

  provideHover(doc: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    const analysis = this.analyses.get(doc.uri.toString());
    const unit = analysis?.report.units.find((u) => rangeOf(u.document.anchor).contains(position));
    if (!analysis || !unit) return undefined;
    return new vscode.Hover(hoverText(unit, analysis.reference, this.encoder.cosine(doc.uri, unit)), rangeOf(unit.document.anchor));
  }

  provideCodeActions(doc: vscode.TextDocument, _range: vscode.Range, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const ours = context.diagnostics.filter((d) => d.source === DIAGNOSTIC_SOURCE && d.code === DIAGNOSTIC_CODE);
    if (!ours.length) return [];
    const action = new vscode.CodeAction("Show Reference Side by Side", vscode.CodeActionKind.QuickFix);
    action.diagnostics = ours;
    action.command = { title: action.title, command: SHOW_REFERENCE_COMMAND, arguments: [doc.uri] };
    return [action];
  }

  dispose(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    vscode.Disposable.from(...this.disposables).dispose();
  }
}

function rangeOf(span: Span): vscode.Range {
  return new vscode.Range(span.start.row, span.start.column, span.end.row, span.end.column);
}

/** A span of the reference's text as a range of the document it lives in (a selection starts mid-file). */
function referenceRange(reference: StructureReference, span: Span): vscode.Range {
  const start = reference.start;
  if (!start) return rangeOf(span);
  const shift = (p: Span["start"]) => new vscode.Position(p.row + start.line, p.row === 0 ? p.column + start.character : p.column);
  return new vscode.Range(shift(span.start), shift(span.end));
}

function diagnosticsOf(report: StructureReport, reference: StructureReference): vscode.Diagnostic[] {
  const referenceUri = vscode.Uri.parse(reference.uri);
  const diagnostics: vscode.Diagnostic[] = [];
  for (const unit of report.units) {
    if (unit.severity === "none") continue;
    const severity = unit.severity === "warning" ? vscode.DiagnosticSeverity.Warning : vscode.DiagnosticSeverity.Information;
    const diagnostic = new vscode.Diagnostic(rangeOf(unit.document.anchor), unit.message, severity);
    diagnostic.source = DIAGNOSTIC_SOURCE;
    diagnostic.code = DIAGNOSTIC_CODE;
    const related = unit.findings.filter((f) => f.reference).map((f) => new vscode.DiagnosticRelatedInformation(new vscode.Location(referenceUri, referenceRange(reference, f.reference!)), `reference: ${f.message}`));
    diagnostic.relatedInformation = related.length ? related : [new vscode.DiagnosticRelatedInformation(new vscode.Location(referenceUri, referenceRange(reference, unit.reference.anchor)), `the reference's \`${unit.referenceName}\``)];
    diagnostics.push(diagnostic);
  }
  const anchor = report.units[0]?.document.anchor;
  for (const missing of report.missing) {
    const diagnostic = new vscode.Diagnostic(anchor ? rangeOf(anchor) : new vscode.Range(0, 0, 0, 0), `The reference defines \`${missing.name}\`; this file has no counterpart.`, vscode.DiagnosticSeverity.Information);
    diagnostic.source = DIAGNOSTIC_SOURCE;
    diagnostic.code = DIAGNOSTIC_CODE;
    diagnostic.relatedInformation = [new vscode.DiagnosticRelatedInformation(new vscode.Location(referenceUri, referenceRange(reference, missing.span)), `\`${missing.name}\` in the reference`)];
    diagnostics.push(diagnostic);
  }
  return diagnostics;
}

function hoverText(unit: UnitComparison, reference: StructureReference, cosine: number | undefined): vscode.MarkdownString {
  const md = new vscode.MarkdownString();
  md.appendMarkdown(`**Structure vs ${reference.label}**${unit.matchedBy === "position" ? ` (its \`${unit.referenceName}\`, matched by position)` : ""}\n\n`);
  md.appendMarkdown(`| syntax match | dataflow match | encoder cosine |\n|---|---|---|\n`);
  md.appendMarkdown(`| ${unit.syntax.toFixed(3)} | ${unit.dataflow === null ? "n/a (no dataflow in the reference)" : unit.dataflow.toFixed(3)} | ${cosine === undefined ? "no encoder exported" : cosine.toFixed(4)} |\n\n`);
  if (unit.findings.length) md.appendMarkdown(unit.findings.map((f) => `- ${f.message}`).join("\n"));
  else md.appendMarkdown("No missing control structure or dataflow found.");
  return md;
}

/** The diagnostics, lenses and hovers, and the commands that pick or show a reference. */
export function registerStructureDiagnostics(ctx: CodistillContext): { service: StructureDiagnostics; disposables: vscode.Disposable[] } {
  structureReferences.restore(ctx.extension.workspaceState);
  const service = new StructureDiagnostics(ctx);
  return {
    service,
    disposables: [
      service,
      vscode.commands.registerCommand(SHOW_REFERENCE_COMMAND, (uri?: vscode.Uri) => showReference(uri)),
      vscode.commands.registerCommand("codistill.compareStructureWith", () => compareStructureWith()),
      vscode.commands.registerCommand("codistill.exportEncoder", () => exportEncoder(ctx, () => service.refreshEncoder())),
      vscode.commands.registerCommand("codistill.stopComparingStructure", () => {
        const doc = vscode.window.activeTextEditor?.document;
        if (doc) structureReferences.delete(doc.uri);
      }),
    ],
  };
}

async function showReference(uri: vscode.Uri | undefined): Promise<void> {
  const target = uri ?? vscode.window.activeTextEditor?.document.uri;
  const reference = target && structureReferences.get(target);
  if (!target || !reference) {
    void vscode.window.showInformationMessage('This document has no reference to compare with: use "Codistill: Compare Structure With…".');
    return;
  }
  await showReferenceBeside(reference, target);
}

/** "Codistill: Compare Structure With…": a Python file, or the selection in another editor. */
async function compareStructureWith(): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.document.languageId !== "python") {
    void vscode.window.showErrorMessage("Open a Python file first: its functions are compared with the reference you pick.");
    return;
  }
  const selections = vscode.window.visibleTextEditors.filter((e) => e !== editor && !e.selection.isEmpty);
  const items: (vscode.QuickPickItem & { pick: () => Promise<StructureReference | undefined> })[] = [
    { label: "$(file) A Python file…", pick: () => pickFile() },
    ...selections.map((other) => ({
      label: `$(selection) The selection in ${basename(other.document.uri.path)}`,
      description: `lines ${other.selection.start.line + 1}–${other.selection.end.line + 1}`,
      pick: async () => ({
        text: other.document.getText(other.selection),
        uri: other.document.uri.toString(),
        label: `the selection in ${basename(other.document.uri.path)}`,
        start: { line: other.selection.start.line, character: other.selection.start.character },
      }),
    })),
  ];
  const chosen = items.length === 1 ? items[0] : await vscode.window.showQuickPick(items, { title: `Compare ${basename(editor.document.uri.path)} with…` });
  const reference = await chosen?.pick();
  if (reference) structureReferences.set(editor.document.uri, reference);
}

async function pickFile(): Promise<StructureReference | undefined> {
  const [uri] = (await vscode.window.showOpenDialog({ canSelectMany: false, filters: { Python: ["py"] }, openLabel: "Compare With" })) ?? [];
  if (!uri) return undefined;
  const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
  return { text, uri: uri.toString(), label: basename(uri.path) };
}
