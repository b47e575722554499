// Normalized Task JSONL: one Task per line, keys in schema order (meta's keys sorted), so the
// same dataset always exports to the same bytes. Non-finite floats are written as Python's json
// module writes them (NaN, Infinity, -Infinity), and floats with an integral value as floats
// (1.0, not 1): the sidecar reads them with plain json.loads, as the types the source had.
import { copyFloatMark, setKeyOrder, stringifyValue } from "./json";
import type { Task, TaskTests } from "./task";

/**
 * The given keys of `from`, in that order (kept even for keys like "8" that JS would put first),
 * without the absent ones; integral floats stay floats.
 */
function ordered(from: object, keys: readonly string[]): Record<string, unknown> {
  const source = from as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const present: string[] = [];
  for (const key of keys) {
    if (source[key] === undefined) continue;
    out[key] = source[key];
    present.push(key);
    copyFloatMark(source, key, out);
  }
  setKeyOrder(out, present);
  return out;
}

const TEST_KEYS: Record<TaskTests["kind"], readonly string[]> = {
  assert: ["kind", "setup", "code", "challenge"],
  call: ["kind", "fnName", "inputs", "outputs", "atol"],
  stdio: ["kind", "inputs", "outputs", "specialJudge"],
};

/** The Task as one line of normalized Task JSONL, without the newline. */
export function serializeTask(task: Task): string {
  const line = ordered(task, ["id", "source", "prompt", "entryPoint", "starterCode", "solutions", "tests", "difficulty", "tags", "meta"]);
  line.tests = ordered(task.tests, TEST_KEYS[task.tests.kind]);
  line.meta = ordered(task.meta, Object.keys(task.meta).sort());
  return stringifyValue(line);
}
