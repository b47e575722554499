// Looks one task up in a normalized Task JSONL (the tasks.jsonl an evaluation wrote beside its
// results), reading line by line: a benchmark file can be large and only one task is wanted.
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { parseJson } from "../datasets/json";
import type { Task } from "../datasets/task";

export async function findTask(path: string, taskId: string): Promise<Task | undefined> {
  const lines = createInterface({ input: createReadStream(path, "utf8"), crlfDelay: Infinity });
  let number = 0;
  try {
    for await (const line of lines) {
      number++;
      // Cheap pre-check: only lines mentioning the id are parsed.
      if (!line.includes(JSON.stringify(taskId).slice(1, -1))) continue;
      let task: Task;
      try {
        task = parseJson(line) as Task;
      } catch (err) {
        throw new Error(`${path}:${number}: not JSON: ${(err as Error).message}`);
      }
      if (task.id === taskId) return task;
    }
  } finally {
    lines.close();
  }
  return undefined;
}
