// Normalized Task JSONL: one Task per line, keys in schema order (meta's keys sorted), so the
// same dataset always exports to the same bytes. Non-finite floats are written as Python's json
// module writes them (NaN, Infinity, -Infinity): the sidecar reads them with plain json.loads.
import { stringifyValue } from "./json";
import type { Task, TaskTests } from "./task";

function ordered(entries: [string, unknown][]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of entries) if (value !== undefined) out[key] = value;
  return out;
}

function orderedTests(tests: TaskTests): Record<string, unknown> {
  switch (tests.kind) {
    case "assert":
      return ordered([["kind", tests.kind], ["setup", tests.setup], ["code", tests.code], ["challenge", tests.challenge]]);
    case "call":
      return ordered([["kind", tests.kind], ["fnName", tests.fnName], ["inputs", tests.inputs], ["outputs", tests.outputs], ["atol", tests.atol]]);
    case "stdio":
      return ordered([["kind", tests.kind], ["inputs", tests.inputs], ["outputs", tests.outputs], ["specialJudge", tests.specialJudge]]);
  }
}

function sortedKeys(record: Record<string, unknown>): Record<string, unknown> {
  return ordered(Object.keys(record).sort().map((key) => [key, record[key]]));
}

/** The Task as one line of normalized Task JSONL, without the newline. */
export function serializeTask(task: Task): string {
  return stringifyValue(
    ordered([
      ["id", task.id],
      ["source", task.source],
      ["prompt", task.prompt],
      ["entryPoint", task.entryPoint],
      ["starterCode", task.starterCode],
      ["solutions", task.solutions],
      ["tests", orderedTests(task.tests)],
      ["difficulty", task.difficulty],
      ["tags", task.tags],
      ["meta", sortedKeys(task.meta)],
    ]),
  );
}
