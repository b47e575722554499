// What "Generate Code" feeds the student, taken from the document: the selection, or the
// comment, docstring or signature at the cursor. The text is the prompt's *content* only; the
// format the student was trained on (plain completion or chat) is applied by promptFormat.ts,
// filled from templates that the sidecar renders with evaluation's own prompt builder.
//
// Two kinds, as evaluation tells HumanEval from MBPP: "code" (a signature and docstring) is
// continued in place, so the answer lands right under it; "prose" (a comment's words) asks for
// a whole function, which lands under the comment.

export type PromptKind = "code" | "prose";

export interface Pos {
  line: number;
  character: number;
}

export interface EditorPrompt {
  kind: PromptKind;
  text: string;
  /** Where the prompt came from, for messages. */
  source: "selection" | "comment" | "docstring" | "signature";
  /** The lines the prompt occupies (end exclusive: the line after the last one). */
  startLine: number;
  endLine: number;
  /** Where the answer is inserted: the start of the line after the prompt. */
  insertAt: Pos;
  /** The prompt's own indentation: a prose answer is indented to it. */
  indent: string;
}

export class NoPromptError extends Error {
  constructor() {
    super("Put the cursor in or under a function's signature, its docstring or a comment that says what to write, or select the prompt.");
  }
}

const DEF = /^(\s*)(async\s+def|def|class)\s+\w+/;
const DECORATOR = /^\s*@/;
const IMPORT = /^(import\s|from\s+\S+\s+import\s)/;

/** The prompt for a cursor (and optional selection) in a Python document's lines. */
export function promptAt(lines: readonly string[], cursor: Pos, selection?: { start: Pos; end: Pos }): EditorPrompt {
  if (selection && !samePos(selection.start, selection.end)) return selectionPrompt(lines, selection);
  return commentPrompt(lines, cursor.line) ?? definitionPrompt(lines, cursor.line) ?? fail();
}

function fail(): never {
  throw new NoPromptError();
}

function samePos(a: Pos, b: Pos): boolean {
  return a.line === b.line && a.character === b.character;
}

function indentOf(line: string): string {
  return /^\s*/.exec(line)![0];
}

function isComment(line: string): boolean {
  return line.trimStart().startsWith("#");
}

function isBlank(line: string | undefined): boolean {
  return line === undefined || line.trim() === "";
}

/** The lines of a comment block without their "#" markers. */
function commentWords(block: readonly string[]): string {
  return block.map((line) => line.trimStart().replace(/^#+ ?/, "").trimEnd()).join("\n").trim();
}

function afterLines(lines: readonly string[], endLine: number): Pos {
  return { line: Math.min(endLine, lines.length), character: 0 };
}

function selectionPrompt(lines: readonly string[], selection: { start: Pos; end: Pos }): EditorPrompt {
  // Whole lines: a selection that ends at column 0 ends on the line before.
  const startLine = selection.start.line;
  const endLine = selection.end.character === 0 && selection.end.line > startLine ? selection.end.line : selection.end.line + 1;
  const block = lines.slice(startLine, endLine);
  const code = block.filter((line) => !isBlank(line));
  if (!code.length) fail();
  const prose = code.every(isComment);
  return {
    kind: prose ? "prose" : "code",
    text: prose ? commentWords(code) : block.join("\n"),
    source: "selection",
    startLine,
    endLine,
    insertAt: afterLines(lines, endLine),
    indent: indentOf(code[0]!),
  };
}

/**
 * A comment block on the cursor's line, or ending just above it (blank lines between allowed):
 * the words of a "# write a function that ..." request.
 */
function commentPrompt(lines: readonly string[], cursorLine: number): EditorPrompt | undefined {
  let last = Math.min(cursorLine, lines.length - 1);
  while (last >= 0 && isBlank(lines[last]) && cursorLine - last < 3) last--;
  if (last < 0 || !isComment(lines[last]!)) return undefined;
  let first = last;
  while (first > 0 && isComment(lines[first - 1]!)) first--;
  const text = commentWords(lines.slice(first, last + 1));
  if (!text) return undefined;
  return { kind: "prose", text, source: "comment", startLine: first, endLine: last + 1, insertAt: afterLines(lines, last + 1), indent: indentOf(lines[first]!) };
}

/**
 * The nearest definition at or above the cursor whose body is still empty below its docstring:
 * its decorators, signature and docstring, after the file's imports (the student saw
 * HumanEval's prompts, which carry theirs).
 */
function definitionPrompt(lines: readonly string[], cursorLine: number): EditorPrompt | undefined {
  let defLine = Math.min(cursorLine, lines.length - 1);
  while (defLine >= 0 && !DEF.test(lines[defLine]!)) defLine--;
  if (defLine < 0) return undefined;
  const signatureEnd = endOfSignature(lines, defLine);
  if (signatureEnd === undefined) return undefined;
  const docstringEnd = endOfDocstring(lines, signatureEnd);
  const endLine = docstringEnd ?? signatureEnd;
  // The cursor must be in the prompt or in the blank lines right below it.
  if (cursorLine >= endLine && lines.slice(endLine, cursorLine + 1).some((line) => !isBlank(line))) return undefined;
  let startLine = defLine;
  while (startLine > 0 && DECORATOR.test(lines[startLine - 1]!)) startLine--;
  const imports = lines.slice(0, startLine).filter((line) => IMPORT.test(line));
  const body = lines.slice(startLine, endLine);
  const text = [...imports, ...(imports.length ? ["", ""] : []), ...body].join("\n");
  return {
    kind: "code",
    text,
    source: docstringEnd === undefined ? "signature" : "docstring",
    startLine,
    endLine,
    insertAt: afterLines(lines, endLine),
    indent: indentOf(lines[defLine]!),
  };
}

/** The line after the one where the signature's ":" closes (signatures may wrap). */
function endOfSignature(lines: readonly string[], defLine: number): number | undefined {
  let depth = 0;
  for (let i = defLine; i < lines.length && i < defLine + 30; i++) {
    const code = lines[i]!.replace(/#.*$/, "");
    for (const ch of code) {
      if ("([{".includes(ch)) depth++;
      else if (")]}".includes(ch)) depth--;
    }
    if (depth <= 0 && code.trimEnd().endsWith(":")) return i + 1;
  }
  return undefined;
}

/** The line after a docstring that starts right under the signature; undefined without one. */
function endOfDocstring(lines: readonly string[], first: number): number | undefined {
  const opening = /^\s*[rRuU]?("""|''')/.exec(lines[first] ?? "");
  if (!opening) return undefined;
  const quote = opening[1]!;
  const rest = lines[first]!.slice(opening[0].length);
  if (rest.includes(quote)) return first + 1;
  for (let i = first + 1; i < lines.length; i++) if (lines[i]!.includes(quote)) return i + 1;
  return undefined;
}
