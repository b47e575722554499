// What the index keeps in memory for each task: the summary the list shows and the lowercase
// text that search scans.
import type { TaskSummary } from "./api";
import type { Task, TaskTests } from "./task";

const TITLE_LENGTH = 120;
const MIN_TITLE_WORDS = 4;

/** Sources whose prompt is code (a signature and docstring): the title comes from the docstring. */
const CODE_PROMPTS = new Set<Task["source"]>(["humaneval", "humaneval+", "mbpp+"]);

/**
 * The first sentence of the task's description: of the entry point's docstring when the prompt is
 * code, else of the prompt. Heading lines ("Task", "Example:", "-----Input-----") are skipped, so a
 * title is never a generic word; the task's id when nothing is left.
 */
export function titleOf(task: Task): string {
  const text = CODE_PROMPTS.has(task.source) ? (docstringOf(task.prompt, task.entryPoint) ?? task.prompt) : task.prompt;
  const title = firstSentence(text) || task.id;
  return title.length > TITLE_LENGTH ? `${title.slice(0, TITLE_LENGTH - 1).trimEnd()}…` : title;
}

/** A line that names a part of the text rather than saying anything: one word, maybe with a colon, or "---Input---". */
function isHeading(line: string): boolean {
  return /^-{3,}.*-{3,}$/.test(line) || /^[#*_\s]*[\p{L}\p{N}'’-]*[:.]?[*_\s]*$/u.test(line);
}

/** Where examples start: a paragraph ends there. */
function startsExamples(line: string): boolean {
  return /^(>>>|for examples?\b|examples?\s*:)/i.test(line);
}

function firstSentence(text: string): string {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  const start = lines.findIndex((l) => l !== "" && !isHeading(l) && !startsExamples(l));
  // No description: an example rather than a heading, a heading rather than nothing.
  if (start < 0) return lines.find((l) => l !== "" && !isHeading(l)) ?? lines.find((l) => l !== "" && !/^-{3,}.*-{3,}$/.test(l)) ?? "";
  const paragraph: string[] = [];
  for (const line of lines.slice(start)) {
    if (line === "" || (paragraph.length && (startsExamples(line) || isHeading(line)))) break;
    paragraph.push(line);
  }
  let joined = paragraph.join(" ").replace(/\s+/g, " ");
  // A quote that opens and is never closed (HumanEval/68) is a slip, not part of the text.
  if (/^["']/.test(joined) && joined.split(joined[0]!).length % 2 === 0) joined = joined.slice(1);
  // A ". ", "! " or "? " ends a sentence, not one of "e.g. ", "i.e. ", "etc. " or a decimal point.
  // A sentence of a few words ("Given an integer.") takes the next one along.
  const ends = /(?<!\b(?:e\.g|i\.e|etc|vs|approx|resp|no|Mr|Dr))[.!?](?=\s|$)/g;
  for (let end = ends.exec(joined); end; end = ends.exec(joined)) {
    const sentence = joined.slice(0, end.index + 1);
    if (sentence.split(" ").length >= MIN_TITLE_WORDS) return sentence;
  }
  return joined;
}

/**
 * The docstring of `def entryPoint` when the prompt has one (HumanEval/38 defines a helper with its
 * own docstring first; HumanEval/64 a FIX = """…""" string), else the prompt's first.
 */
function docstringOf(code: string, entryPoint?: string): string | undefined {
  const docstring = /^\s*[rRuU]?("""|''')([\s\S]*?)\1/;
  if (entryPoint) {
    const escaped = entryPoint.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const def = new RegExp(`^[ \\t]*(?:async[ \\t]+)?def[ \\t]+${escaped}[ \\t]*\\(`, "m").exec(code);
    if (def) {
      // The signature ends at the first ":" closing the line after the parameters.
      const colon = /\)[^\n:]*:[ \t]*(?:#.*)?\n/.exec(code.slice(def.index));
      if (colon) {
        const match = docstring.exec(code.slice(def.index + colon.index + colon[0].length));
        // A quote left over from a docstring opened with four (HumanEval/142) is not text.
        if (match) return match[2]!.replace(/^["']+(?=\s)/, "");
      }
    }
  }
  const match = /("""|''')([\s\S]*?)\1/.exec(code);
  return match?.[2];
}

export function testCountOf(tests: TaskTests): number {
  switch (tests.kind) {
    case "assert":
      // One per assert statement; HumanEval's check() and MBPP's test_list both write one per line.
      return tests.code.split("\n").filter((line) => /^\s*assert\b/.test(line)).length;
    case "call":
    case "stdio":
      return tests.inputs.length;
  }
}

/**
 * A copy sharing no memory with the string it was cut from: V8 keeps the whole parent of a
 * substring alive, and a summary must not hold on to its task's question.
 */
export function detached(text: string): string {
  return text.length > 12 ? Buffer.from(text, "utf8").toString("utf8") : text;
}

export function summarize(task: Task, index: number): TaskSummary {
  const summary: TaskSummary = {
    index,
    id: detached(task.id),
    title: detached(titleOf(task)),
    source: task.source,
    tags: (task.tags ?? []).map(detached),
    testKind: task.tests.kind,
    testCount: testCountOf(task.tests),
    solutionCount: task.solutions.length,
  };
  if (task.difficulty !== undefined) summary.difficulty = detached(task.difficulty);
  return summary;
}

/**
 * Id, title and prompt, lowercased once so that search is a substring scan, kept as UTF-8: half
 * the memory of a JS string once a question has one character beyond Latin-1, and searched with
 * Buffer.includes (native).
 */
export function searchTextOf(task: Task, title: string): Buffer {
  return Buffer.from(`${task.id}\n${title}\n${task.prompt}`.toLowerCase(), "utf8");
}
