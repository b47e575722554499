// Validation of a Task read back from normalized Task JSONL ("tasks" format). Strict: an unknown
// key is an error, so a typo in a hand-edited file is reported instead of silently ignored.
// sidecar/src/codistill/tasks.py applies the same rules on the Python side.
import { describeType, FieldError } from "./errors";
import { isRecord, type Fields } from "./fields";
import type { SpecialJudge, Task, TaskSource, TaskTests } from "./task";

export const TASK_SOURCES: readonly TaskSource[] = ["taco", "mbpp", "mbpp-sanitized", "mbpp+", "humaneval", "humaneval+", "custom"];
export const SPECIAL_JUDGES: readonly SpecialJudge[] = ["non-deterministic", "case-insensitive", "float-tolerance"];

const TASK_KEYS = ["id", "source", "prompt", "entryPoint", "starterCode", "solutions", "tests", "difficulty", "tags", "meta"];
const TEST_KEYS: Record<TaskTests["kind"], string[]> = {
  assert: ["kind", "setup", "code", "challenge"],
  call: ["kind", "fnName", "inputs", "outputs", "atol"],
  stdio: ["kind", "inputs", "outputs", "specialJudge"],
};

function checkKeys(value: Fields, allowed: string[], path: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw new FieldError(path ? `${path}.${key}` : key, `unknown field (expected one of ${allowed.join(", ")})`);
  }
}

function str(value: unknown, path: string, optional = false): string | undefined {
  if (value === undefined && optional) return undefined;
  if (value === undefined) throw new FieldError(path, "missing");
  if (typeof value !== "string") throw new FieldError(path, `expected a string, got ${describeType(value)}`);
  return value;
}

function strList(value: unknown, path: string): string[] {
  if (!Array.isArray(value)) throw new FieldError(path, `expected a list of strings, got ${describeType(value)}`);
  value.forEach((v, i) => str(v, `${path}[${i}]`));
  return value as string[];
}

/** `path` names the field in errors: "tests" in a Task, the mapped source field elsewhere. */
export function validateTests(value: unknown, path = "tests"): TaskTests {
  if (!isRecord(value)) throw new FieldError(path, `expected an object, got ${describeType(value)}`);
  const kind = value.kind;
  if (kind !== "assert" && kind !== "call" && kind !== "stdio") throw new FieldError(`${path}.kind`, `expected "assert", "call" or "stdio", got ${JSON.stringify(kind)}`);
  checkKeys(value, TEST_KEYS[kind], path);
  if (kind === "assert") {
    str(value.code, `${path}.code`);
    str(value.setup, `${path}.setup`, true);
    str(value.challenge, `${path}.challenge`, true);
  } else if (kind === "call") {
    str(value.fnName, `${path}.fnName`);
    if (!Array.isArray(value.inputs)) throw new FieldError(`${path}.inputs`, `expected a list of argument lists, got ${describeType(value.inputs)}`);
    value.inputs.forEach((args, i) => {
      if (!Array.isArray(args)) throw new FieldError(`${path}.inputs[${i}]`, `expected an argument list, got ${describeType(args)}`);
    });
    if (value.outputs !== null) {
      if (!Array.isArray(value.outputs)) throw new FieldError(`${path}.outputs`, `expected a list or null, got ${describeType(value.outputs)}`);
      if (value.outputs.length !== value.inputs.length) throw new FieldError(`${path}.outputs`, `${value.inputs.length} inputs but ${value.outputs.length} outputs`);
    }
    if (value.atol !== undefined && typeof value.atol !== "number") throw new FieldError(`${path}.atol`, `expected a number, got ${describeType(value.atol)}`);
  } else {
    const inputs = strList(value.inputs, `${path}.inputs`);
    const outputs = strList(value.outputs, `${path}.outputs`);
    if (inputs.length !== outputs.length) throw new FieldError(`${path}.outputs`, `${inputs.length} inputs but ${outputs.length} outputs`);
    if (value.specialJudge !== undefined && !SPECIAL_JUDGES.includes(value.specialJudge as SpecialJudge)) {
      throw new FieldError(`${path}.specialJudge`, `expected one of ${SPECIAL_JUDGES.join(", ")}`);
    }
  }
  return value as unknown as TaskTests;
}

export function validateTask(value: unknown): Task {
  if (!isRecord(value)) throw new FieldError(undefined, `expected a JSON object, got ${describeType(value)}`);
  checkKeys(value, TASK_KEYS, "");
  const id = str(value.id, "id")!;
  if (id.trim() === "") throw new FieldError("id", "empty");
  if (!TASK_SOURCES.includes(value.source as TaskSource)) throw new FieldError("source", `expected one of ${TASK_SOURCES.join(", ")}, got ${JSON.stringify(value.source)}`);
  str(value.prompt, "prompt");
  str(value.entryPoint, "entryPoint", true);
  str(value.starterCode, "starterCode", true);
  strList(value.solutions, "solutions");
  validateTests(value.tests);
  str(value.difficulty, "difficulty", true);
  if (value.tags !== undefined) strList(value.tags, "tags");
  if (!isRecord(value.meta)) throw new FieldError("meta", `expected an object, got ${describeType(value.meta)}`);
  return value as unknown as Task;
}
