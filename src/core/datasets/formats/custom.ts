// Any JSONL or Parquet with a field mapping from codistill.yaml (FieldMapping): Task field ->
// source field name (a dotted path reaches into nested objects). Unmapped fields go to meta.
import type { FieldMapping } from "../api";
import { describeType, FieldError } from "../errors";
import { isRecord, jsonOrValue, metaValue, stringList, tagList, type Fields } from "../fields";
import { copyFloatMark } from "../json";
import type { Task, TaskTests } from "../task";
import { validateTests } from "../validate";
import { tacoTests } from "./taco";
import { uniqueIds } from "./tasks";
import type { MapContext, RecordMapper } from "./types";

function lookup(record: Fields, path: string): unknown {
  if (path in record) return record[path];
  let value: unknown = record;
  for (const part of path.split(".")) {
    if (!isRecord(value)) return undefined;
    value = value[part];
  }
  return value;
}

function text(value: unknown, field: string, required: boolean): string | undefined {
  if (value === undefined || value === null || (!required && value === "")) {
    if (required) throw new FieldError(field, "missing");
    return undefined;
  }
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  if (typeof value !== "string") throw new FieldError(field, `expected a string, got ${describeType(value)}`);
  if (required && value.trim() === "") throw new FieldError(field, "empty");
  return value;
}

/** A list of code strings, a JSON string of one, or a single code string. */
function solutionsOf(value: unknown, field: string): string[] {
  if (value === undefined || value === null || value === "") return [];
  if (typeof value === "string") {
    if (value.trimStart().startsWith("[")) {
      try {
        return stringList(JSON.parse(value), field);
      } catch {
        // Not a JSON list: a program that starts with "[".
      }
    }
    return [value];
  }
  return stringList(value, field);
}

/**
 * Tests in any of the shapes Codistill knows: a TaskTests object (with kind), TACO's
 * {inputs, outputs, fn_name?}, a list of assert statements, or a string of test code.
 */
function testsOf(value: unknown, field: string): TaskTests {
  if (value === undefined || value === null || value === "") return { kind: "assert", code: "" };
  let parsed: unknown = value;
  if (typeof value === "string") {
    const trimmed = value.trimStart();
    if (!trimmed.startsWith("{") && !trimmed.startsWith("[")) return { kind: "assert", code: value.endsWith("\n") ? value : `${value}\n` };
    parsed = jsonOrValue(value, field);
  }
  if (Array.isArray(parsed)) return { kind: "assert", code: stringList(parsed, field).map((l) => l.trimEnd()).join("\n") + "\n" };
  if (isRecord(parsed) && "kind" in parsed) return validateTests(parsed, field);
  return tacoTests(parsed, field);
}

export function customMapper(mapping: FieldMapping): RecordMapper {
  const mapped = new Set(Object.values(mapping).filter((v): v is string => typeof v === "string"));
  const checkId = uniqueIds(mapping.id);
  return {
    required: [mapping.id, mapping.prompt].map((p) => p.split(".")[0]!),
    map(record: Fields, ctx: MapContext): Task {
      const id = text(lookup(record, mapping.id), mapping.id, true)!;
      checkId(id, ctx);
      const prompt = text(lookup(record, mapping.prompt), mapping.prompt, true)!;
      const solutions = mapping.solutions ? solutionsOf(lookup(record, mapping.solutions), mapping.solutions) : [];
      const tests = mapping.tests ? testsOf(lookup(record, mapping.tests), mapping.tests) : ({ kind: "assert", code: "" } as const);
      const meta: Record<string, unknown> = {};
      for (const [key, raw] of Object.entries(record)) {
        if (mapped.has(key)) continue;
        const value = metaValue(raw);
        if (value === undefined) continue;
        meta[key] = value;
        copyFloatMark(record, key, meta);
      }
      const task: Task = { id, source: "custom", prompt, solutions, tests, meta };
      const optional: [keyof Task & keyof FieldMapping, string | undefined][] = [
        ["entryPoint", mapping.entryPoint],
        ["starterCode", mapping.starterCode],
        ["difficulty", mapping.difficulty],
      ];
      for (const [key, path] of optional) {
        if (!path) continue;
        const value = text(lookup(record, path), path, false);
        if (value !== undefined) (task as unknown as Record<string, unknown>)[key] = value;
      }
      if (!task.entryPoint && tests.kind === "call") task.entryPoint = tests.fnName;
      if (mapping.tags) task.tags = tagList(lookup(record, mapping.tags), mapping.tags);
      return task;
    },
  };
}
