// HumanEval (openai/human-eval): a sample is prompt + completion; `check(entry_point)` runs the tests.
import { requireString, type Fields } from "../fields";
import type { Task } from "../task";
import type { RecordMapper } from "./types";

/** The canonical program: prompt and body, exactly as a sample is assembled. */
export function fullProgram(prompt: string, body: string): string {
  return prompt + body;
}

export function humanEvalMapper(): RecordMapper {
  return {
    required: ["task_id", "prompt", "canonical_solution", "test", "entry_point"],
    map(record: Fields): Task {
      const id = requireString(record, "task_id");
      const prompt = requireString(record, "prompt");
      const body = requireString(record, "canonical_solution");
      const test = requireString(record, "test");
      const entryPoint = requireString(record, "entry_point");
      const code = `${test.replace(/\s+$/, "")}\n\n\ncheck(${entryPoint})\n`;
      return {
        id,
        source: "humaneval",
        prompt,
        entryPoint,
        solutions: [fullProgram(prompt, body)],
        tests: { kind: "assert", code },
        meta: {},
      };
    },
  };
}
