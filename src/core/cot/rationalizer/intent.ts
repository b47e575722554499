// The intent: what the task asks, in the problem's own words. A code prompt (HumanEval, MBPP+:
// a `def` with a docstring, or a module docstring) gives the entry point's docstring without its
// doctests and examples; a prose prompt (MBPP, TACO) gives its first sentence, and for a story
// problem also the sentence that states the task. Never empty.
import type { Node } from "web-tree-sitter";
import type { Task } from "../../datasets/task";
import { capText, sentencesOf } from "./prose";
import { docstringOf, field, nameOf, squash, withPythonTree } from "./syntax";

/** A reasoning context's intent is one or two sentences, not the whole statement. */
export const INTENT_CHARS = 300;

const CODE_PROMPT = /^\s*(?:async\s+)?def\s|^\s*[rRuU]?("""|''')/m;

export async function intentOf(task: Task): Promise<string> {
  const fromCode = CODE_PROMPT.test(task.prompt) ? await codeIntent(task.prompt, task.entryPoint) : undefined;
  const text = fromCode ?? proseIntent(task.prompt);
  if (text) return capText(text.length <= INTENT_CHARS ? text : firstAndTask(sentencesOf(text)), INTENT_CHARS);
  return task.entryPoint ? `Implement \`${task.entryPoint}\`.` : "Solve the task.";
}

/**
 * What a code prompt says: the description part of the entry point's docstring (or the module
 * docstring); for valid code without one, its comments (maybe none); undefined when the prompt
 * is prose after all, with a starter `def` in it.
 */
async function codeIntent(prompt: string, entryPoint: string | undefined): Promise<string | undefined> {
  const found = await withPythonTree(prompt, (root) => ({ docstring: promptDocstring(root, entryPoint), comments: commentsOf(root), isCode: !root.hasError }));
  if (found.docstring !== undefined) return describedPart(found.docstring);
  return found.isCode ? found.comments : undefined;
}

function promptDocstring(root: Node, entryPoint: string | undefined): string | undefined {
  const functions = root.descendantsOfType("function_definition").filter((f): f is Node => f !== null);
  const entry = functions.find((f) => nameOf(f) === entryPoint);
  if (entry) return docstringOf(field(entry, "body"));
  // Without a named entry point, the last documented function is the one the prompt asks for
  // (HumanEval prompts define their helpers first).
  for (const f of [...functions].reverse()) {
    const doc = docstringOf(field(f, "body"));
    if (doc) return doc;
  }
  return docstringOf(root);
}

function commentsOf(root: Node): string {
  const comments = root.descendantsOfType("comment").filter((c): c is Node => c !== null);
  return squash(comments.map((c) => c.text.replace(/^#+/, "")).join(" "));
}

/**
 * A line that starts the examples: a doctest, an "Example(s):" or "For example:" heading, a test
 * assert, a sample heading, or a call with its result (`f(1) => 2`, `f(1) == 2`).
 */
const EXAMPLES_START =
  /^(?:>>>|(?:for\s+)?examples?\s*\d*\s*:?\s*$|(?:for\s+)?(?:examples?|instance)\s*\d*\s*:|e\.g\.?\s*:|assert\b|sample\s+(?:input|output)\b|input\s*:|output\s*:|[\w.]+\s*\(.*\)\s*(?:=+>|->|➞|→|==|should\s+(?:be|return)|returns?\b))/i;
/** A sentence that shows rather than says: "For example, ...", or one holding a worked call. */
const EXAMPLE_SENTENCE = /^(?:for example|for instance|example|e\.g\.)\b|=+>|>>>/i;

/** The docstring's description: everything before the first example, or without doctests when all of it is examples. */
export function describedPart(docstring: string): string {
  const lines = docstring.split(/\r?\n/).map((line) => line.trim());
  const cut = lines.findIndex((line) => EXAMPLES_START.test(line));
  let text = squash((cut === -1 ? lines : lines.slice(0, cut)).join("\n"));
  if (!text) text = squash(withoutDoctests(lines).join("\n"));
  const described = sentencesOf(text).filter((s) => !EXAMPLE_SENTENCE.test(s));
  return described.length ? described.join(" ") : text;
}

/** Lines minus each `>>>` line and the expected output printed under it (up to a blank line). */
function withoutDoctests(lines: string[]): string[] {
  const kept: string[] = [];
  let inOutput = false;
  for (const line of lines) {
    if (line.startsWith(">>>")) inOutput = true;
    else if (!line) inOutput = false;
    if (!inOutput) kept.push(line);
  }
  return kept;
}

/** Where a statement's narrative ends: its Input/Output/Examples/Constraints sections, a doctest, TACO's answer marker. */
const SECTION_START =
  /^\s*(?:-{2,}|#{1,6}|\*\*)?\s*(?:input|output|input format|output format|constraints?|examples?|example \d+|sample input|sample output|note|notes|explanation|subtasks?|scoring)\b\s*(?:-{2,}|\*\*|:)?\s*$|^\s*-{3,}.*$|^\s*>>>|^\s*(?:ANSWER|Use (?:Standard Input|Call-Based) format)\b/im;
/** Translation notices that open many CodeChef statements. */
const BOILERPLATE_LINE = /^\s*(?:read (?:the )?problems? statements? in\b|problem statements? in\b|\[?(?:hindi|bengali|mandarin chinese|russian|vietnamese)\]?[,\s]*$|#+\s*$)/i;
/** A heading over the statement itself ("------ Problem Statement ------"), which starts no other section. */
const STATEMENT_HEADING = /^[-\s#*]*(?:problem(?: statement| description)?|statement|description|story|task)[-\s#*:]*$/i;
/** A sentence that states what to do rather than setting the scene. */
const TASK_SENTENCE = /\b(?:your (?:task|job|goal|aim) is|you (?:are asked|have|need|must|should) to|find|determine|calculate|compute|count|print|output|return|write a|help|check (?:whether|if)|implement|given)\b/i;
/** How far into a story problem the task sentence may be looked for. */
const TASK_SEARCH_SENTENCES = 12;

/** The first sentence of a prose statement, and the sentence that states the task if that one does not. */
export function proseIntent(prompt: string): string {
  const statement = narrativeOf(prompt);
  const sentences = sentencesOf(squash(statement)).filter((s) => /[a-z]/i.test(s));
  return firstAndTask(sentences);
}

/** The first sentence, and the first one that states the task when the first only sets the scene. */
function firstAndTask(sentences: string[]): string {
  const first = sentences[0];
  if (!first || TASK_SENTENCE.test(first)) return first ?? "";
  const task = sentences.slice(1, TASK_SEARCH_SENTENCES).find((s) => TASK_SENTENCE.test(s));
  return task ? `${first} ${task}` : first;
}

/** The statement before its first section heading, without TACO's QUESTION: label and boilerplate lines. */
function narrativeOf(prompt: string): string {
  const body = prompt
    .replace(/^\s*QUESTION:\s*/i, "")
    .split(/\r?\n/)
    .filter((line) => !BOILERPLATE_LINE.test(line) && !STATEMENT_HEADING.test(line) && !/^\s*assert\b/.test(line))
    .join("\n");
  const section = SECTION_START.exec(body);
  return section && section.index > 0 && body.slice(0, section.index).trim() ? body.slice(0, section.index) : body;
}
