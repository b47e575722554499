// Python syntax highlighting: highlight.js core with the Python grammar only. Colors come from
// VS Code theme variables (media/webview.css, ".hljs-*").
import hljs from "highlight.js/lib/core";
import python from "highlight.js/lib/languages/python";

hljs.registerLanguage("python", python);

/** Larger sources are shown as plain text: highlighting them would stall the panel. */
const MAX_HIGHLIGHT = 200_000;

/** Fills `code` with `source`, highlighted as Python. */
export function highlightPython(code: HTMLElement, source: string): void {
  code.classList.add("hljs", "language-python");
  if (source.length > MAX_HIGHLIGHT) {
    code.textContent = source;
    return;
  }
  // highlight.js escapes the source; its output holds only <span class="hljs-…"> markup.
  code.innerHTML = hljs.highlight(source, { language: "python", ignoreIllegals: true }).value;
}

/** A <pre><code> block of highlighted Python. */
export function pythonBlock(source: string, testId?: string): HTMLElement {
  const pre = document.createElement("pre");
  pre.className = "dsb-code";
  if (testId) pre.dataset.testid = testId;
  const code = document.createElement("code");
  highlightPython(code, source);
  pre.append(code);
  return pre;
}
