// The teacher's prompt: a template file the user can edit (media/cot-prompt.md ships as the
// default), rendered per task into a system and a user message. Its sha256 goes into every CoT
// record (`teacher.promptHash`), so records made with different prompts stay apart.
//
// Template syntax: a `=== system ===` and a `=== user ===` heading, each on its own line;
// `{{name}}` inserts a value; `{{#name}} ... {{/name}}` keeps its content only when `name` is set
// (`rationalize` is set in rationalize mode, `blind` in blind mode). Names: prompt, entryPoint,
// solution, taskId, blind, rationalize.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";

export type CotMode = "blind" | "rationalize";

export interface PromptTask {
  id: string;
  prompt: string;
  entryPoint?: string;
  /** The reference solution: shown to the teacher in rationalize mode only. */
  solution?: string;
}

export interface ChatMessage {
  role: "system" | "user";
  content: string;
}

export interface PromptTemplate {
  /** Where it was read from, for error messages. */
  source: string;
  text: string;
  /** "sha256:<hex>" of the template's text. */
  hash: string;
}

export class PromptTemplateError extends Error {}

const NAMES = new Set(["prompt", "entryPoint", "solution", "taskId", "blind", "rationalize"]);
const HEADING = /^=== (system|user) ===[ \t]*$/gm;
const TAG = /\{\{([#/]?)(\w+)\}\}/g;

/** Checks the template once: both headings, known names, balanced blocks; errors name the line. */
export function promptTemplate(text: string, source: string): PromptTemplate {
  const headings = [...text.matchAll(HEADING)].map((m) => m[1]);
  if (headings.join(",") !== "system,user") throw new PromptTemplateError(`${source}: expected a "=== system ===" line, then a "=== user ===" line`);
  const open: { name: string; line: number }[] = [];
  for (const match of text.matchAll(TAG)) {
    const [, kind, name] = match;
    const line = lineAt(text, match.index!);
    if (!NAMES.has(name!)) throw new PromptTemplateError(`${source}:${line}: unknown placeholder {{${kind}${name}}}; known: ${[...NAMES].join(", ")}`);
    if (kind === "#") open.push({ name: name!, line });
    else if (kind === "/") {
      const top = open.pop();
      if (top?.name !== name) throw new PromptTemplateError(`${source}:${line}: {{/${name}}} closes ${top ? `{{#${top.name}}} of line ${top.line}` : "no open block"}`);
    }
  }
  const unclosed = open.pop();
  if (unclosed) throw new PromptTemplateError(`${source}:${unclosed.line}: {{#${unclosed.name}}} is never closed`);
  return { source, text, hash: `sha256:${createHash("sha256").update(text).digest("hex")}` };
}

function lineAt(text: string, index: number): number {
  return text.slice(0, index).split("\n").length;
}

/** The two messages for one task. A missing solution in rationalize mode is an error naming the task. */
export function renderPrompt(template: PromptTemplate, task: PromptTask, mode: CotMode): ChatMessage[] {
  if (mode === "rationalize" && !task.solution?.trim()) throw new PromptTemplateError(`${task.id}: rationalize mode needs a reference solution, and the task has none`);
  const values: Record<string, string | undefined> = {
    prompt: task.prompt.trimEnd(),
    entryPoint: task.entryPoint,
    solution: mode === "rationalize" ? task.solution!.trimEnd() : undefined,
    taskId: task.id,
    blind: mode === "blind" ? "yes" : undefined,
    rationalize: mode === "rationalize" ? "yes" : undefined,
  };
  // Split before expanding: a task's text may itself hold a heading-like line.
  const [, system = "", user = ""] = template.text.split(/^=== (?:system|user) ===[ \t]*$/m);
  return [
    { role: "system", content: expand(system, values).trim() },
    { role: "user", content: expand(user, values).trim() },
  ];
}

/** Blocks first (innermost out), then values; an unset value inserts nothing. */
function expand(text: string, values: Record<string, string | undefined>): string {
  let out = text;
  for (;;) {
    const next = out.replace(/\{\{#(\w+)\}\}((?:(?!\{\{#)[\s\S])*?)\{\{\/\1\}\}/g, (_, name: string, body: string) => (values[name] ? body : ""));
    if (next === out) break;
    out = next;
  }
  return out.replace(/\{\{(\w+)\}\}/g, (_, name: string) => values[name] ?? "");
}

/** The template in `path`, checked; an unreadable file is an error naming it. */
export async function readPromptTemplate(path: string): Promise<PromptTemplate> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new PromptTemplateError(`cannot read the prompt template ${path}: ${(err as Error).message}`);
  }
  return promptTemplate(text, path);
}

/**
 * The default template that ships in media/: found from the source tree (src/core/cot) when run
 * from source, or from dist/ when bundled into the extension or the CLI.
 */
export function defaultPromptPath(): string {
  const here = typeof __dirname === "string" ? __dirname : dirname(new URL(import.meta.url).pathname);
  const candidates = [join(here, "..", "media", "cot-prompt.md"), join(here, "..", "..", "..", "media", "cot-prompt.md")];
  return candidates.find((path) => existsSync(path)) ?? candidates[0]!;
}
