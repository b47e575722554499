// The student as inline completions (codistill.generation.inlineCompletion, off by default): on
// the empty line under a signature, docstring or comment, its code is offered as ghost text,
// with the same backend and student as "Generate Code", greedily. The student writes its
// reasoning first, so the token budget is the full maxNewTokens; the reasoning is left out of
// the ghost text.
import * as vscode from "vscode";
import { readSettings } from "../config";
import type { CodistillContext } from "../context";
import { splitAnswer } from "../core/generation/answer";
import { promptAt, NoPromptError } from "../core/generation/editorPrompt";
import { answerIndent, LineIndenter } from "../core/generation/insertion";
import { NoStudentError } from "../core/generation/students";
import type { GenerationService } from "./service";

export class StudentInlineCompletions implements vscode.InlineCompletionItemProvider {
  constructor(
    private readonly ctx: CodistillContext,
    private readonly service: GenerationService,
  ) {}

  async provideInlineCompletionItems(doc: vscode.TextDocument, position: vscode.Position, _context: vscode.InlineCompletionContext, token: vscode.CancellationToken): Promise<vscode.InlineCompletionItem[] | undefined> {
    const settings = readSettings().generation;
    if (!settings.inlineCompletion || !doc.lineAt(position.line).isEmptyOrWhitespace) return undefined;
    const lines = Array.from({ length: doc.lineCount }, (_, i) => doc.lineAt(i).text);
    let prompt;
    try {
      prompt = promptAt(lines, position);
    } catch (error) {
      if (error instanceof NoPromptError) return undefined;
      throw error;
    }
    if (prompt.insertAt.line !== position.line) return undefined;
    const abort = new AbortController();
    token.onCancellationRequested(() => abort.abort());
    try {
      const generator = await this.service.generator(await this.service.student());
      if (token.isCancellationRequested) return undefined;
      const result = await generator.generate(prompt, { maxNewTokens: settings.maxNewTokens, temperature: 0, topP: 1, seed: settings.seed }, { signal: abort.signal });
      if (result.finishReason === "cancelled" || token.isCancellationRequested) return undefined;
      const code = new LineIndenter(answerIndent(prompt)).push(splitAnswer(result.text, result.format).code).trimEnd();
      if (!code.trim()) return undefined;
      return [new vscode.InlineCompletionItem(code, new vscode.Range(position.line, 0, position.line, position.character))];
    } catch (error) {
      // Ghost text has nowhere to show an error: a missing student is what the setting's user must hear about, once per session.
      if (error instanceof NoStudentError) this.warnOnce(error.message);
      else this.ctx.log.warn(`inline completion: ${(error as Error).message}`);
      return undefined;
    }
  }

  private warned = false;

  private warnOnce(message: string): void {
    if (this.warned) return;
    this.warned = true;
    void vscode.window.showWarningMessage(`Codistill inline completions: ${message}`);
  }
}

export function registerInlineCompletions(ctx: CodistillContext, service: GenerationService): vscode.Disposable {
  return vscode.languages.registerInlineCompletionItemProvider({ language: "python" }, new StudentInlineCompletions(ctx, service));
}
