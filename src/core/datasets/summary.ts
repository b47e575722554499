// What the index keeps in memory for each task: the summary the list shows and the lowercase
// text that search scans.
import type { TaskSummary } from "./api";
import type { Task, TaskTests } from "./task";

const TITLE_LENGTH = 120;

/** Sources whose prompt is code (a signature and docstring): the title is the docstring's first line. */
const CODE_PROMPTS = new Set<Task["source"]>(["humaneval", "humaneval+", "mbpp+"]);

export function titleOf(task: Task): string {
  const text = CODE_PROMPTS.has(task.source) ? (docstringOf(task.prompt) ?? task.prompt) : task.prompt;
  const line = text.split("\n").map((l) => l.trim()).find((l) => l !== "" && !/^-{3,}.*-{3,}$/.test(l)) ?? task.id;
  return line.length > TITLE_LENGTH ? `${line.slice(0, TITLE_LENGTH - 1).trimEnd()}…` : line;
}

function docstringOf(code: string): string | undefined {
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
