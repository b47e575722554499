// A task as the Python file a person would start from, and its reference solution: the pair
// "Open Task in Editor" shows side by side (and the structure diagnostics later compare).
import type { Task } from "./task";

/** HumanEval-style prompts are already code: the signature and its docstring. */
function promptIsCode(task: Task): boolean {
  return task.source === "humaneval" || task.source === "humaneval+";
}

function asDocstring(text: string): string {
  // A backslash or a triple quote inside would end or corrupt the docstring.
  const body = text.replace(/\\/g, "\\\\").replace(/"""/g, '\\"\\"\\"').trimEnd();
  return `"""\n${body}\n"""\n`;
}

export function taskAsPythonFile(task: Task): string {
  if (promptIsCode(task)) return task.prompt.endsWith("\n") ? task.prompt : `${task.prompt}\n`;
  const header = `${task.id} (${task.source}${task.difficulty ? `, ${task.difficulty}` : ""})\n\n${task.prompt}`;
  const parts = [asDocstring(header)];
  if (task.starterCode?.trim()) parts.push(`\n${task.starterCode.trimEnd()}\n`);
  else if (task.tests.kind === "stdio") parts.push("\n# Read the input from stdin and print the answer to stdout.\n");
  else if (task.entryPoint) parts.push(`\n# Write the function \`${task.entryPoint}\` here.\n`);
  return parts.join("");
}

export function referenceSolution(task: Task): string {
  const solution = task.solutions[0];
  if (!solution) return `# ${task.id} has no reference solution.\n`;
  return solution.endsWith("\n") ? solution : `${solution}\n`;
}

/** "HumanEval/0" -> "HumanEval_0.py": safe as a file name on every platform. */
export function taskFileName(task: Pick<Task, "id">, suffix = ""): string {
  const stem = task.id.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^_+|_+$/g, "") || "task";
  return `${stem}${suffix}.py`;
}
