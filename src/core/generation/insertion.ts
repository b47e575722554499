// How an answer becomes text in the document: indented to the prompt (a prose request inside a
// class gets a method at the class's indentation), and mapped back to document lines for the
// consensus diagnostics.
import type { EditorPrompt } from "./editorPrompt";
import type { PromptFormatName } from "./promptFormat";

/** Prefixes every line of streamed text with `indent`, across delta boundaries. */
export class LineIndenter {
  private atLineStart = true;

  constructor(private readonly indent: string) {}

  push(delta: string): string {
    if (!this.indent || !delta) return delta;
    let out = "";
    for (const ch of delta) {
      if (this.atLineStart && ch !== "\n") out += this.indent;
      out += ch;
      this.atLineStart = ch === "\n";
    }
    return out;
  }
}

/** Prose answers are whole functions written at column 0; code answers continue the prompt's own indentation. */
export function answerIndent(prompt: EditorPrompt): string {
  return prompt.kind === "prose" ? prompt.indent : "";
}

/**
 * The answer as a program of its own, for comparing candidates: a completion continues the
 * prompt's code, so it is parsed after it; `offset` is the program line where the answer starts.
 */
export function candidateProgram(prompt: EditorPrompt, format: PromptFormatName, code: string): { program: string; offset: number } {
  if (format === "completion" && prompt.kind === "code") {
    const head = prompt.text.trimEnd() + "\n";
    return { program: head + code, offset: head.split("\n").length - 1 };
  }
  return { program: code, offset: 0 };
}

/** The name a def or class line defines, if it is one. */
function definedName(line: string): string | undefined {
  return /^\s*(?:async\s+def|def|class)\s+(\w+)/.exec(line)?.[1];
}

/**
 * A chat student answers with the complete function, signature included: when its code defines
 * the prompt's own function again, the stub it replaces is removed.
 */
export function answerReplacesStub(prompt: EditorPrompt, format: PromptFormatName, code: string, documentLines: readonly string[]): boolean {
  if (format !== "chat" || prompt.kind !== "code") return false;
  const stub = documentLines.slice(prompt.startLine, prompt.endLine).map(definedName).find(Boolean);
  const answer = code.split("\n").map(definedName).find(Boolean);
  return stub !== undefined && stub === answer;
}
