// The student's answer, split as it streams: the reasoning it was trained to write first (a
// Python comment block, training/data.py render_reasoning) and the code after it. A chat
// student wraps both in one ```python block, which is unwrapped here.
import type { PromptFormatName } from "./promptFormat";

export interface AnswerParts {
  /** Raw reasoning lines, comment markers and indentation kept. */
  reasoning: string;
  code: string;
}

type Phase = "preamble" | "reasoning" | "code" | "done";

const FENCE_OPEN = /^\s*```[\w+-]*\s*$/;
const FENCE_CLOSE = /^\s*```\s*$/;

/**
 * Feeds on text deltas and hands out what is settled. The reasoning is settled line by line;
 * code is passed on as it comes, except a line that may still turn into a chat's closing fence.
 */
export class AnswerStream {
  private phase: Phase;
  private pending = "";

  constructor(private readonly format: PromptFormatName) {
    this.phase = format === "chat" ? "preamble" : "reasoning";
  }

  push(delta: string): AnswerParts {
    this.pending += delta;
    return this.drain(false);
  }

  /** Everything still held back, at the end of the answer. */
  end(): AnswerParts {
    return this.drain(true);
  }

  private drain(final: boolean): AnswerParts {
    const out: AnswerParts = { reasoning: "", code: "" };
    for (;;) {
      if (this.phase === "done") {
        this.pending = "";
        return out;
      }
      const newline = this.pending.indexOf("\n");
      if (newline < 0) break;
      const line = this.pending.slice(0, newline + 1);
      this.pending = this.pending.slice(newline + 1);
      this.take(line, out);
    }
    if (!this.pending) return out;
    // A partial line that is neither blank nor a comment can only be code: pass it on now.
    if (this.phase === "reasoning" && !isReasoningLine(this.pending)) this.phase = "code";
    if (final) {
      const rest = this.pending;
      this.pending = "";
      this.take(rest, out);
    } else if (this.phase === "code" && !this.mayBecomeFence(this.pending)) {
      out.code += this.pending;
      this.pending = "";
    }
    return out;
  }

  private mayBecomeFence(partial: string): boolean {
    return this.format === "chat" && "```".startsWith(partial.trim().slice(0, 3)) && partial.trim().length <= 3;
  }

  private take(line: string, out: AnswerParts): void {
    switch (this.phase) {
      case "preamble":
        // A chat answer's prose before its code block is not part of either.
        if (FENCE_OPEN.test(line)) this.phase = "reasoning";
        return;
      case "reasoning":
        if (isReasoningLine(line)) {
          out.reasoning += line;
          return;
        }
        this.phase = "code";
        this.take(line, out);
        return;
      case "code":
        if (this.format === "chat" && FENCE_CLOSE.test(line)) {
          this.phase = "done";
          return;
        }
        out.code += line;
        return;
      case "done":
        return;
    }
  }
}

function isReasoningLine(line: string): boolean {
  const trimmed = line.trim();
  return trimmed === "" || trimmed.startsWith("#");
}

/** A whole answer split at once. */
export function splitAnswer(text: string, format: PromptFormatName): AnswerParts {
  const stream = new AnswerStream(format);
  const first = stream.push(text);
  const last = stream.end();
  return { reasoning: first.reasoning + last.reasoning, code: first.code + last.code };
}

/** The reasoning's words for a side view: comment markers and indentation removed, blank lines dropped at the ends. */
export function reasoningWords(reasoning: string): string {
  return reasoning
    .split("\n")
    .map((line) => line.trim().replace(/^# ?/, ""))
    .join("\n")
    .trim();
}
