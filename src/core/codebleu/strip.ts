// Comment and docstring removal before the syntax and data-flow matches.
//
// Reference mode reproduces codebleu's remove_comments_and_docstrings, which runs Python's
// tokenize and rebuilds the text from the tokens it keeps: a STRING is dropped when the token
// before it is INDENT or NEWLINE or when it starts at column 0 (so `"".join(x)` at the start of a
// statement loses its string), gaps between tokens become spaces (so a tab that indents a line
// without an INDENT token becomes one space), backslash continuations join lines, and blank
// lines go. When tokenize raises (an unclosed bracket or triple-quoted string, a dedent to an
// unknown column) the reference keeps the code as it was. The rebuilt text only depends on where
// strings, comments, brackets and line breaks are: we take strings and comments from tree-sitter,
// and emulate tokenize's line loop (NEWLINE vs NL, INDENT/DEDENT, bracket depth, continuation)
// around them, reading the rest of each line as runs of characters.
//
// Default mode removes comments and real docstrings only (see defaultStrip).
import type { Node } from "web-tree-sitter";
import { pyIsBlank, pyStrip } from "./pythonCompat";
import { LineIndex, type SyntaxNode } from "./tree";

type TokenType = "STRING" | "COMMENT" | "NEWLINE" | "NL" | "INDENT" | "DEDENT" | "OTHER";

interface PyToken {
  type: TokenType;
  text: string;
  startRow: number;
  /** Code points, as tokenize counts. */
  startCol: number;
  endRow: number;
  endCol: number;
}

/** Thrown where Python's tokenize would raise; the reference then leaves the code unstripped. */
class TokenizeError extends Error {}

interface LexicalToken {
  kind: "string" | "comment";
  startIndex: number;
  endIndex: number;
  startRow: number;
  endRow: number;
  /** UTF-16 columns. */
  startCol: number;
  endCol: number;
  /** A triple-quoted string tree-sitter could not close: tokenize reads it to the end of the file and raises. */
  unterminated?: boolean;
}

const LEXICAL_TYPES = ["string", "comment", "string_start"];
const TRIPLE_QUOTE = /^[A-Za-z]*("""|''')/;

function lexicalToken(kind: LexicalToken["kind"], startIndex: number, endIndex: number, lines: LineIndex): LexicalToken {
  const start = lines.point(startIndex);
  const end = lines.point(endIndex);
  return { kind, startIndex, endIndex, startRow: start.row, startCol: start.column, endRow: end.row, endCol: end.column };
}

/**
 * The tokens whose extent tokenize and tree-sitter must agree on: whole strings (not the strings
 * inside an f-string's braces) and comments, from one query of the tree. Everything else on a
 * line is read character by character by the token loop: operators, names and numbers come back
 * verbatim whatever their split, and brackets are counted there.
 */
function lexicalTokens(root: Node, code: string, lines: LineIndex): LexicalToken[] {
  const out: LexicalToken[] = [];
  let stringEnd = -1;
  for (const node of root.descendantsOfType(LEXICAL_TYPES)) {
    if (!node) continue;
    const startIndex = node.startIndex;
    if (startIndex < stringEnd) continue;
    const endIndex = node.endIndex;
    if (node.type === "comment") {
      // tree-sitter's comment runs to the line feed; tokenize's stops before a carriage return.
      let end = endIndex;
      while (end > startIndex && code[end - 1] === "\r") end--;
      out.push(lexicalToken("comment", startIndex, end, lines));
    } else if (node.type === "string") {
      stringEnd = endIndex;
      const last = node.lastChild;
      if (last && last.type === "string_end" && !last.isMissing) out.push(lexicalToken("string", startIndex, endIndex, lines));
      else if (TRIPLE_QUOTE.test(code.slice(startIndex, endIndex))) out.push({ ...lexicalToken("string", startIndex, endIndex, lines), unterminated: true });
      // An unclosed single quote is an error token for tokenize, then the line goes on: the token loop reads it.
    } else if (TRIPLE_QUOTE.test(code.slice(startIndex, endIndex))) {
      // A string_start outside a string: tree-sitter gave up on an unclosed string.
      out.push({ ...lexicalToken("string", startIndex, endIndex, lines), unterminated: true });
    }
  }
  return out;
}

/** The lines of `code` with their line feeds, as readline returns them. */
function splitLines(code: string): string[] {
  const lines: string[] = [];
  let start = 0;
  for (let i = code.indexOf("\n"); i !== -1; i = code.indexOf("\n", start)) {
    lines.push(code.slice(start, i + 1));
    start = i + 1;
  }
  if (start < code.length) lines.push(code.slice(start));
  return lines;
}

const ASTRAL = /[\uD800-\uDFFF]/;

/**
 * tokenize.generate_tokens over `code`, its strings and comments taken from tree-sitter: the line
 * loop of Lib/tokenize.py (_tokenize) with its indentation stack, bracket depth and continuation.
 */
class TokenizeEmulator {
  readonly tokens: PyToken[] = [];
  private readonly lines: string[];
  private readonly astral: boolean[];
  private readonly lexical: LexicalToken[];
  private readonly indents = [0];
  private parenlev = 0;
  private continued = false;
  /** A string still open at the end of the line being read. */
  private open: LexicalToken | undefined;
  private next = 0;

  constructor(
    private readonly code: string,
    root: Node,
  ) {
    this.lines = splitLines(code);
    this.astral = this.lines.map((l) => ASTRAL.test(l));
    this.lexical = lexicalTokens(root, code, new LineIndex(code));
  }

  /** Columns in code points, as tokenize counts. */
  private codePointColumn(row: number, column: number): number {
    return this.astral[row] ? Array.from(this.lines[row].slice(0, column)).length : column;
  }

  private emit(type: TokenType, text: string, row: number, startCol: number, endRow: number, endCol: number): void {
    this.tokens.push({ type, text, startRow: row, startCol: this.codePointColumn(row, startCol), endRow, endCol: this.codePointColumn(endRow, endCol) });
  }

  /** Operators, names, numbers and stray characters between two lexical tokens: one OTHER token per run. */
  private emitRun(line: string, row: number, from: number, to: number): void {
    for (let k = from; k < to; k++) {
      const c = line[k];
      if (c === "(" || c === "[" || c === "{") this.parenlev++;
      else if (c === ")" || c === "]" || c === "}") this.parenlev--;
    }
    this.emit("OTHER", line.slice(from, to), row, from, row, to);
  }

  /** The token loop of one line from `pos`: gaps hold whitespace, runs of other tokens, a continuation, the line break. */
  private scanLine(row: number, pos: number): void {
    const line = this.lines[row];
    const lexical = this.lexical;
    for (;;) {
      // Tokens tokenize has already passed (inside an error region, say) are not tokens again.
      while (this.next < lexical.length && (lexical[this.next].startRow < row || (lexical[this.next].startRow === row && lexical[this.next].startCol < pos))) this.next++;
      const token = this.next < lexical.length && lexical[this.next].startRow === row ? lexical[this.next] : undefined;
      const gapEnd = token ? token.startCol : line.length;
      let run = -1;
      for (let k = pos; k < gapEnd; k++) {
        const c = line[k];
        const blank = c === " " || c === "\t" || c === "\f";
        const lineEnd = c === "\n" || (c === "\r" && k + 2 === line.length && line[k + 1] === "\n");
        const continuation = c === "\\" && (k + 2 === line.length ? line[k + 1] === "\n" : k + 3 === line.length && line.endsWith("\r\n"));
        if (run >= 0 && (blank || lineEnd || continuation)) {
          this.emitRun(line, row, run, k);
          run = -1;
        }
        if (continuation) {
          this.continued = true;
          return;
        }
        if (lineEnd) {
          this.emit(this.parenlev > 0 ? "NL" : "NEWLINE", line.slice(k), row, k, row, line.length);
          return;
        }
        if (!blank && run < 0) run = k;
      }
      if (run >= 0) this.emitRun(line, row, run, gapEnd);
      if (!token) return;
      this.next++;
      if (token.unterminated) throw new TokenizeError("EOF in multi-line string");
      this.emit(token.kind === "string" ? "STRING" : "COMMENT", this.code.slice(token.startIndex, token.endIndex), token.startRow, token.startCol, token.endRow, token.endCol);
      if (token.endRow > row) {
        this.open = token;
        return;
      }
      pos = token.endCol;
    }
  }

  /** A new logical line: a blank or comment-only line (NL), else INDENT/DEDENT tokens. Returns where tokens start, or "skip" or "stop". */
  private startStatement(row: number): number | "skip" | "stop" {
    const line = this.lines[row];
    let pos = 0;
    let column = 0;
    for (; pos < line.length; pos++) {
      if (line[pos] === " ") column++;
      else if (line[pos] === "\t") column = (Math.floor(column / 8) + 1) * 8;
      else if (line[pos] === "\f") column = 0;
      else break;
    }
    if (pos === line.length) return "stop";
    if (line[pos] === "#" || line[pos] === "\r" || line[pos] === "\n") {
      if (line[pos] === "#") {
        const comment = line.slice(pos).replace(/[\r\n]+$/, "");
        this.emit("COMMENT", comment, row, pos, row, pos + comment.length);
        pos += comment.length;
      }
      this.emit("NL", line.slice(pos), row, pos, row, line.length);
      while (this.next < this.lexical.length && this.lexical[this.next].startRow === row) this.next++;
      return "skip";
    }
    const indents = this.indents;
    if (column > indents[indents.length - 1]) {
      indents.push(column);
      this.emit("INDENT", line.slice(0, pos), row, 0, row, pos);
    }
    while (column < indents[indents.length - 1]) {
      if (!indents.includes(column)) throw new TokenizeError("unindent does not match any outer indentation level");
      indents.pop();
      this.emit("DEDENT", "", row, pos, row, pos);
    }
    return pos;
  }

  run(): PyToken[] {
    const lines = this.lines;
    let row = 0;
    for (; row < lines.length; row++) {
      let pos = 0;
      if (this.open) {
        if (this.open.endRow > row) continue;
        pos = this.open.endCol;
        this.open = undefined;
      } else if (this.parenlev === 0 && !this.continued) {
        const start = this.startStatement(row);
        if (start === "stop") break;
        if (start === "skip") continue;
        pos = start;
      } else {
        this.continued = false;
      }
      this.scanLine(row, pos);
    }
    if (this.open) throw new TokenizeError("EOF in multi-line string");
    if (row === lines.length && (this.parenlev !== 0 || this.continued)) throw new TokenizeError("EOF in multi-line statement");
    // The NEWLINE tokenize adds when the last line has no line break (an empty string: only its padding shows).
    const lastRow = Math.min(row, lines.length) - 1;
    const last = lastRow >= 0 ? lines[lastRow] : "";
    if (last && !last.endsWith("\n") && !last.endsWith("\r") && !pyStrip(last).startsWith("#")) {
      const end = this.codePointColumn(lastRow, last.length);
      this.tokens.push({ type: "NEWLINE", text: "", startRow: lastRow, startCol: end, endRow: lastRow, endCol: end + 1 });
    }
    return this.tokens;
  }
}

/** The reference's loop that rebuilds the source from the tokens it keeps. */
function rebuild(tokens: readonly PyToken[], keepString: (token: PyToken, previous: TokenType) => boolean): string {
  let out = "";
  let previous: TokenType = "INDENT";
  let lastRow = -1;
  let lastCol = 0;
  for (const token of tokens) {
    if (token.startRow > lastRow) lastCol = 0;
    if (token.startCol > lastCol) out += " ".repeat(token.startCol - lastCol);
    if (token.type === "STRING") {
      if (keepString(token, previous)) out += token.text;
    } else if (token.type !== "COMMENT") out += token.text;
    previous = token.type;
    lastCol = token.endCol;
    lastRow = token.endRow;
  }
  return out
    .split("\n")
    .filter((l) => !pyIsBlank(l))
    .join("\n");
}

/**
 * remove_comments_and_docstrings(code, "python") of the reference, given the tree of `code`; also
 * whether a kept string spans lines (the caller needs to know when only blank lines went).
 */
export function referenceStrip(code: string, root: Node): { code: string; multilineString: boolean } {
  let tokens: PyToken[];
  try {
    tokens = new TokenizeEmulator(code, root).run();
  } catch (err) {
    if (err instanceof TokenizeError) return { code, multilineString: false };
    throw err;
  }
  let multilineString = false;
  const stripped = rebuild(tokens, (token, previous) => {
    const keep = previous !== "INDENT" && previous !== "NEWLINE" && token.startCol > 0;
    if (keep && token.endRow > token.startRow) multilineString = true;
    return keep;
  });
  return { code: stripped, multilineString };
}

const DEFINITIONS = new Set(["function_definition", "class_definition"]);

/** The statements of a module or block, without the comments tree-sitter puts among them. */
function statements(node: SyntaxNode): SyntaxNode[] {
  return node.children.filter((c) => c.named && c.type !== "comment");
}

function isDocstring(statement: SyntaxNode | undefined): statement is SyntaxNode {
  if (statement?.type !== "expression_statement") return false;
  const parts = statement.children.filter((c) => c.type !== "comment");
  return parts.length === 1 && (parts[0].type === "string" || parts[0].type === "concatenated_string");
}

interface Edit {
  start: number;
  end: number;
  replacement: string;
}

/** The docstrings of a module and of every function and class body, with what replaces each. */
function docstringEdits(root: SyntaxNode, code: string): Edit[] {
  const edits: Edit[] = [];
  const consider = (body: SyntaxNode, isDefinitionBody: boolean): void => {
    const all = statements(body);
    const first = all[0];
    if (!isDocstring(first)) return;
    const semicolon = body.children[body.children.indexOf(first) + 1];
    const end = semicolon?.type === ";" ? semicolon.endIndex : first.endIndex;
    // A body left empty would not parse; `pass` is what a docstring-only body means.
    const replacement = isDefinitionBody && all.length === 1 ? "pass" : "";
    edits.push(wholeLineIfAlone({ start: first.startIndex, end, replacement }, code));
  };
  const visit = (node: SyntaxNode): void => {
    if (node.type === "module") consider(node, false);
    if (DEFINITIONS.has(node.type)) {
      const body = node.children.find((c) => c.field === "body" && c.type === "block");
      if (body) consider(body, true);
    }
    for (const c of node.children) visit(c);
  };
  visit(root);
  return edits;
}

/** Widens a removal to its whole line(s) when nothing else is on them, so no blank line is left. */
function wholeLineIfAlone(edit: Edit, code: string): Edit {
  if (edit.replacement) return edit;
  const lineStart = code.lastIndexOf("\n", edit.start - 1) + 1;
  const newline = code.indexOf("\n", edit.end);
  const lineEnd = newline === -1 ? code.length : newline + 1;
  const before = code.slice(lineStart, edit.start);
  const after = code.slice(edit.end, newline === -1 ? code.length : newline);
  if (!/^[ \t\f]*$/.test(before) || !/^[ \t\f\r]*$/.test(after)) return edit;
  return { start: lineStart, end: lineEnd, replacement: "" };
}

function commentAndContinuationEdits(root: SyntaxNode, code: string): Edit[] {
  const edits: Edit[] = [];
  const visit = (node: SyntaxNode): void => {
    if (node.type === "comment") edits.push(wholeLineIfAlone({ start: node.startIndex, end: node.endIndex, replacement: "" }, code));
    // Joined as the reference's tokenize joins them, so the trees carry no (line_continuation).
    else if (node.type === "line_continuation") edits.push({ start: node.startIndex, end: node.endIndex, replacement: " " });
    else for (const c of node.children) visit(c);
  };
  visit(root);
  return edits;
}

function applyEdits(code: string, edits: Edit[]): string {
  edits.sort((a, b) => a.start - b.start || b.end - a.end);
  let out = "";
  let at = 0;
  for (const edit of edits) {
    if (edit.start < at) continue;
    out += code.slice(at, edit.start) + edit.replacement;
    at = edit.end;
  }
  return out + code.slice(at);
}

/**
 * Default mode: comments and real docstrings (the first statement of a module, class or function
 * body, when it is a string) go, with the lines they leave empty; a docstring-only body becomes
 * `pass`; backslash continuations are joined. Other strings, the indentation and the rest of the
 * text stay as they are, whether or not tokenize could read the code.
 */
export function defaultStrip(code: string, root: SyntaxNode): string {
  const edits = [...commentAndContinuationEdits(root, code), ...docstringEdits(root, code)];
  return edits.length ? applyEdits(code, edits) : code;
}
