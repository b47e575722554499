// Python syntax highlighting: highlight.js core with the Python grammar only. Colors come from
// VS Code theme variables (media/webview.css, ".hljs-*").
import hljs from "highlight.js/lib/core";
import python from "highlight.js/lib/languages/python";

hljs.registerLanguage("python", python);

/** Larger sources are shown as plain text: highlighting them would stall the panel. */
const MAX_HIGHLIGHT = 200_000;

/**
 * Keywords VS Code's Python grammar scopes as control flow (keyword.control), which themes color
 * apart from `def`, `class`, `lambda` and the operators `and`, `or`, `not`, `in`, `is`.
 */
const CONTROL_KEYWORDS = new Set([
  "if", "elif", "else", "for", "while", "break", "continue", "return", "yield", "try", "except", "finally", "raise",
  "with", "as", "pass", "import", "from", "assert", "await", "async", "del", "global", "nonlocal", "match", "case",
]);

/** Fills `code` with `source`, highlighted as Python. */
export function highlightPython(code: HTMLElement, source: string): void {
  code.classList.add("hljs", "language-python");
  if (source.length > MAX_HIGHLIGHT) {
    code.textContent = source;
    return;
  }
  // highlight.js escapes the source; its output holds only <span class="hljs-…"> markup.
  code.innerHTML = hljs.highlight(source, { language: "python", ignoreIllegals: true }).value;
  for (const keyword of code.querySelectorAll<HTMLElement>(".hljs-keyword")) {
    if (CONTROL_KEYWORDS.has(keyword.textContent ?? "")) keyword.classList.add("dsb-control");
  }
}

/** The code as a block shows it: without the blank lines it starts with (HumanEval's prompts) or its trailing space. */
export function displayedCode(source: string): string {
  return source.replace(/^(?:[ \t]*\r?\n)+/, "").trimEnd();
}

/** A <pre><code> block of highlighted Python. */
export function pythonBlock(source: string, testId?: string): HTMLElement {
  const pre = document.createElement("pre");
  pre.className = "dsb-code";
  if (testId) pre.dataset.testid = testId;
  const code = document.createElement("code");
  highlightPython(code, displayedCode(source));
  pre.append(code);
  return pre;
}
