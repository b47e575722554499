// MBPP, original release (mbpp.jsonl) and the sanitized subset (sanitized-mbpp.json, a JSON array).
import { describeType, FieldError } from "../errors";
import { optionalString, requireString, stringList, type Fields } from "../fields";
import type { AssertTests, Task } from "../task";
import type { RecordMapper } from "./types";

export function taskIdOf(record: Fields, key = "task_id"): number {
  const value = record[key];
  if (value === undefined || value === null) throw new FieldError(key, "missing");
  if (typeof value === "number" && Number.isInteger(value)) return value;
  if (typeof value === "string" && /^\d+$/.test(value)) return Number(value);
  throw new FieldError(key, `expected an integer, got ${describeType(value)} ${JSON.stringify(value)}`);
}

/**
 * MBPP names no entry point: it is the function the solution defines and the tests call (the
 * first such, in test order), else the first function the asserts call.
 */
export function entryPointOf(code: string, asserts: string[]): string | undefined {
  const defined = [...code.matchAll(/^(?:async\s+)?(?:def|class)\s+([A-Za-z_]\w*)/gm)].map((m) => m[1]!);
  const tests = asserts.join("\n");
  const called = [...tests.matchAll(/([A-Za-z_]\w*)\s*\(/g)].map((m) => m[1]!);
  return called.find((name) => defined.includes(name)) ?? defined[0];
}

function assertLines(list: string[]): string {
  return list.map((line) => line.trimEnd()).join("\n") + "\n";
}

function listField(record: Fields, key: string, optional = false): string[] {
  const value = record[key];
  if ((value === undefined || value === null) && optional) return [];
  if (value === undefined || value === null) throw new FieldError(key, "missing");
  return stringList(value, key);
}

/**
 * A task of either MBPP release. Both give the id, the solution and test_list alike; they differ
 * in the prompt's field and in what else they hold, which `complete` adds to the tests and meta.
 */
function mbppTask(
  record: Fields,
  source: "mbpp" | "mbpp-sanitized",
  promptKey: string,
  complete: (tests: AssertTests, meta: Record<string, unknown>) => void,
): Task {
  const taskId = taskIdOf(record);
  const prompt = requireString(record, promptKey);
  const code = requireString(record, "code");
  const testList = listField(record, "test_list");
  if (testList.length === 0) throw new FieldError("test_list", "empty");
  const tests: AssertTests = { kind: "assert", code: assertLines(testList) };
  const meta: Record<string, unknown> = { task_id: taskId };
  complete(tests, meta);
  const task: Task = { id: `mbpp/${taskId}`, source, prompt, solutions: [code], tests, meta };
  const entryPoint = entryPointOf(code, testList);
  if (entryPoint) task.entryPoint = entryPoint;
  return task;
}

export function mbppMapper(): RecordMapper {
  return {
    required: ["task_id", "text", "code", "test_list"],
    map(record: Fields): Task {
      return mbppTask(record, "mbpp", "text", (tests) => {
        const challenge = listField(record, "challenge_test_list", true);
        const setup = optionalString(record, "test_setup_code");
        if (setup !== undefined) tests.setup = setup;
        if (challenge.length) tests.challenge = assertLines(challenge);
      });
    },
  };
}

export function mbppSanitizedMapper(): RecordMapper {
  return {
    required: ["task_id", "prompt", "code", "test_list"],
    map(record: Fields): Task {
      return mbppTask(record, "mbpp-sanitized", "prompt", (tests, meta) => {
        const imports = listField(record, "test_imports", true);
        if (imports.length) tests.setup = imports.join("\n") + "\n";
        const sourceFile = optionalString(record, "source_file");
        if (sourceFile !== undefined) meta.source_file = sourceFile;
      });
    },
  };
}
