// Host glue of the codistill.yaml editor support. The diagnostics are parseExperimentConfig's
// problems, shown always: they check what a schema cannot (dataset names that exist, duplicate
// names, greedy decoding with n > 1). Hovers and completion come from the JSON Schema through
// src/core/experiment/schema.ts, and only while the YAML extension is not installed: it reads the
// same schema (package.json's yamlValidation) and would show every hover twice.
import { basename } from "node:path";
import * as vscode from "vscode";
import { CONFIG_FILE, parseExperimentConfig, type ConfigProblem } from "../core/experiment/config";
import { completionsAt, hoverAt, problemRange, type CompletionEntry } from "../core/experiment/schema";

const YAML_EXTENSION = "redhat.vscode-yaml";
const DIAGNOSTIC_SOURCE = "Codistill";
/** Long enough to skip the keystrokes of a word, short enough to feel live. */
const DEBOUNCE_MS = 300;
const CONFIG_SELECTOR: vscode.DocumentSelector = { pattern: `**/${CONFIG_FILE}` };

const isConfigFile = (doc: vscode.TextDocument) => basename(doc.fileName) === CONFIG_FILE;

export function registerConfigFile(): vscode.Disposable {
  const diagnostics = new ConfigFileDiagnostics();
  const schemaHelp = new SchemaHelpWithoutYamlExtension();
  return vscode.Disposable.from(diagnostics, schemaHelp);
}

class ConfigFileDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection(CONFIG_FILE);
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly disposables: vscode.Disposable[] = [
    this.collection,
    vscode.workspace.onDidOpenTextDocument((doc) => this.schedule(doc, 0)),
    vscode.workspace.onDidChangeTextDocument((event) => this.schedule(event.document, DEBOUNCE_MS)),
    vscode.workspace.onDidCloseTextDocument((doc) => this.forget(doc.uri)),
  ];

  constructor() {
    for (const doc of vscode.workspace.textDocuments) this.schedule(doc, 0);
  }

  private schedule(doc: vscode.TextDocument, delayMs: number): void {
    if (!isConfigFile(doc)) return;
    const key = doc.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        // Closed while waiting: onDidClose has cleared it, and it must stay cleared.
        if (!doc.isClosed) this.collection.set(doc.uri, problemDiagnostics(doc));
      }, delayMs),
    );
  }

  private forget(uri: vscode.Uri): void {
    const key = uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    this.collection.delete(uri);
  }

  dispose(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    for (const d of this.disposables) d.dispose();
  }
}

function problemDiagnostics(doc: vscode.TextDocument): vscode.Diagnostic[] {
  const text = doc.getText();
  return parseExperimentConfig(text, doc.uri.fsPath).problems.map((problem) => {
    const [start, end] = problemRange(text, ...lineAndColumn(problem));
    const diagnostic = new vscode.Diagnostic(new vscode.Range(doc.positionAt(start), doc.positionAt(end)), `${problem.field}: ${problem.reason}`, vscode.DiagnosticSeverity.Error);
    diagnostic.source = DIAGNOSTIC_SOURCE;
    return diagnostic;
  });
}

/** 1-based line and column from "<file>:12:5"; the file may hold colons itself (C:\...). */
function lineAndColumn(problem: ConfigProblem): [number, number] {
  const match = /:(\d+):(\d+)$/.exec(problem.where);
  return match ? [Number(match[1]), Number(match[2])] : [1, 1];
}

/** Hover and completion providers, there exactly while the YAML extension is not installed. */
class SchemaHelpWithoutYamlExtension implements vscode.Disposable {
  private providers: vscode.Disposable | undefined;
  private readonly watch = vscode.extensions.onDidChange(() => this.update());

  constructor() {
    this.update();
  }

  private update(): void {
    const yamlExtensionInstalled = vscode.extensions.getExtension(YAML_EXTENSION) !== undefined;
    if (yamlExtensionInstalled && this.providers) {
      this.providers.dispose();
      this.providers = undefined;
    } else if (!yamlExtensionInstalled && !this.providers) {
      this.providers = vscode.Disposable.from(
        vscode.languages.registerHoverProvider(CONFIG_SELECTOR, { provideHover }),
        vscode.languages.registerCompletionItemProvider(CONFIG_SELECTOR, { provideCompletionItems }),
      );
    }
  }

  dispose(): void {
    this.watch.dispose();
    this.providers?.dispose();
  }
}

function provideHover(doc: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
  const hover = hoverAt(doc.getText(), doc.offsetAt(position));
  if (!hover) return undefined;
  return new vscode.Hover(new vscode.MarkdownString(hover.markdown), offsetRange(doc, hover.range));
}

function provideCompletionItems(doc: vscode.TextDocument, position: vscode.Position): vscode.CompletionItem[] {
  return completionsAt(doc.getText(), doc.offsetAt(position)).map((entry) => completionItem(doc, entry));
}

function completionItem(doc: vscode.TextDocument, entry: CompletionEntry): vscode.CompletionItem {
  const item = new vscode.CompletionItem(entry.label, entry.kind === "key" ? vscode.CompletionItemKind.Property : vscode.CompletionItemKind.EnumMember);
  item.insertText = entry.insertText;
  item.range = offsetRange(doc, entry.replace);
  if (entry.detail) item.detail = entry.detail;
  if (entry.documentation) item.documentation = new vscode.MarkdownString(entry.documentation);
  return item;
}

function offsetRange(doc: vscode.TextDocument, [start, end]: [number, number]): vscode.Range {
  return new vscode.Range(doc.positionAt(start), doc.positionAt(end));
}
