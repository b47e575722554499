// Problem statements as Markdown: marked renders, DOMPurify sanitizes. Nothing remote loads:
// the CSP blocks remote images anyway, so they become links to the image.
import DOMPurify from "dompurify";
import { Marked } from "marked";
import { highlightPython } from "./highlight";

// Line breaks are kept: TACO statements are plain text whose sample inputs and outputs span lines.
const marked = new Marked({ gfm: true, breaks: true, async: false });

const purifier = DOMPurify(window);
purifier.addHook("uponSanitizeElement", (node, data) => {
  if (data.tagName !== "img" || !(node instanceof Element)) return;
  const src = node.getAttribute("src") ?? "";
  if (src.startsWith("data:image/") && !src.startsWith("data:image/svg")) return;
  const alt = node.getAttribute("alt");
  const link = node.ownerDocument.createElement(src ? "a" : "span");
  link.textContent = `[image${alt ? `: ${alt}` : ""}]`;
  if (src) link.setAttribute("href", src);
  node.replaceWith(link);
});
purifier.addHook("uponSanitizeAttribute", (_node, data) => {
  // Keep only marked's "language-x" classes: the panel's own classes are not for the dataset to use.
  if (data.attrName === "class") {
    data.attrValue = data.attrValue.split(/\s+/).filter((c) => /^language-[\w+-]+$/.test(c)).join(" ");
    if (!data.attrValue) data.keepAttr = false;
  }
});
purifier.addHook("afterSanitizeAttributes", (node) => {
  if (node instanceof HTMLAnchorElement && node.hasAttribute("href")) node.title = node.getAttribute("href") ?? "";
});

const PURIFY = {
  USE_PROFILES: { html: true },
  FORBID_TAGS: ["style", "form", "input", "button", "textarea", "select", "option", "iframe", "video", "audio", "source", "picture"],
  FORBID_ATTR: ["style", "id", "name"],
};

const PYTHON_FENCES = new Set(["language-python", "language-py", "language-python3"]);

/** Renders sanitized Markdown into `into`; fenced Python blocks are highlighted. */
export function renderMarkdown(into: HTMLElement, markdown: string): void {
  const html = marked.parse(markdown) as string;
  const fragment = purifier.sanitize(html, { ...PURIFY, RETURN_DOM_FRAGMENT: true });
  into.replaceChildren(fragment);
  for (const code of into.querySelectorAll<HTMLElement>("pre > code")) {
    code.parentElement?.classList.add("dsb-code");
    if ([...code.classList].some((c) => PYTHON_FENCES.has(c))) highlightPython(code, code.textContent ?? "");
  }
}

/**
 * HumanEval-style prompts are Python (a signature and a docstring), not Markdown: rendered as
 * Markdown, their indentation would turn into code blocks and `>>>` into quotes.
 */
export function looksLikePython(source: string, prompt: string): boolean {
  if (source === "humaneval" || source === "humaneval+") return true;
  const first = prompt.split("\n").find((line) => line.trim() !== "") ?? "";
  return /^(def |async def |class |from \S+ import |import \S|@\w)/.test(first.trim());
}
