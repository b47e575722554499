// TACO (BAAI/TACO): every column is a string; solutions and input_output are JSON strings, tags
// and skill_types are Python list literals. JSONL exports may hold real lists/objects instead.
import { describeType, FieldError } from "../errors";
import { isRecord, jsonOrValue, metaValue, optionalString, requireString, stringList, tagList, type Fields } from "../fields";
import { copyFloatMark } from "../json";
import type { PythonSyntax } from "../pythonSyntax";
import type { SpecialJudge, Task, TaskTests } from "../task";
import type { MapContext, RecordMapper } from "./types";

export const TACO_COLUMNS = [
  "question",
  "solutions",
  "starter_code",
  "input_output",
  "difficulty",
  "raw_tags",
  "name",
  "source",
  "tags",
  "skill_types",
  "url",
  "Expected Auxiliary Space",
  "time_limit",
  "date",
  "picture_num",
  "memory_limit",
  "Expected Time Complexity",
] as const;

/** Columns carried as they are into Task.meta. */
const META_COLUMNS = ["source", "url", "time_limit", "memory_limit", "name", "date", "picture_num", "raw_tags", "Expected Auxiliary Space", "Expected Time Complexity"];

export interface TacoOptions {
  /** Keep only the solutions that parse as Python 3; a row left without one is rejected. */
  python?: PythonSyntax;
  /** Special judge per row (TACO's output_spj.jsonl, keyed by row). */
  specialJudges?: ReadonlyMap<number, SpecialJudge>;
  /** A column holding the special judge case (0-3) or name, instead of a file. */
  specialJudgeColumn?: string;
}

export const SPECIAL_JUDGE_CASES: Record<number, SpecialJudge> = { 1: "non-deterministic", 2: "case-insensitive", 3: "float-tolerance" };

export function specialJudgeOf(value: unknown, field: string): SpecialJudge | undefined {
  if (value === undefined || value === null || value === "" || value === 0 || value === "0" || value === false) return undefined;
  const number = typeof value === "bigint" ? Number(value) : typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof number === "number" && SPECIAL_JUDGE_CASES[number]) return SPECIAL_JUDGE_CASES[number];
  if (typeof number === "string" && Object.values(SPECIAL_JUDGE_CASES).includes(number as SpecialJudge)) return number as SpecialJudge;
  throw new FieldError(field, `expected a special judge case 0-3 or one of ${Object.values(SPECIAL_JUDGE_CASES).join(", ")}, got ${JSON.stringify(value)}`);
}

/**
 * A stdio test value: a string, or a list of lines that the APPS/TACO harness joins with "\n".
 */
function stdioText(value: unknown, field: string): string {
  if (typeof value === "string") return value;
  if (Array.isArray(value) && value.every((line) => typeof line === "string")) return value.join("\n");
  throw new FieldError(field, `expected a string or a list of lines, got ${describeType(value)}`);
}

export function tacoTests(value: unknown, field = "input_output"): TaskTests {
  const io = jsonOrValue(value, field);
  if (!isRecord(io)) throw new FieldError(field, `expected an object with inputs and outputs, got ${describeType(io)}`);
  const { inputs, outputs } = io;
  if (!Array.isArray(inputs)) throw new FieldError(`${field}.inputs`, inputs === undefined ? "missing" : `expected a list, got ${describeType(inputs)}`);
  if (!Array.isArray(outputs)) throw new FieldError(`${field}.outputs`, outputs === undefined ? "missing" : `expected a list, got ${describeType(outputs)}`);
  if (inputs.length !== outputs.length) throw new FieldError(`${field}.outputs`, `${inputs.length} inputs but ${outputs.length} outputs`);
  const fnName = io.fn_name;
  if (fnName !== undefined && fnName !== null) {
    if (typeof fnName !== "string" || fnName.trim() === "") throw new FieldError(`${field}.fn_name`, `expected a function name, got ${JSON.stringify(fnName)}`);
    inputs.forEach((args, i) => {
      if (!Array.isArray(args)) throw new FieldError(`${field}.inputs[${i}]`, `expected an argument list, got ${describeType(args)}`);
    });
    return { kind: "call", fnName, inputs: inputs as unknown[][], outputs };
  }
  return {
    kind: "stdio",
    inputs: inputs.map((v, i) => stdioText(v, `${field}.inputs[${i}]`)),
    outputs: outputs.map((v, i) => stdioText(v, `${field}.outputs[${i}]`)),
  };
}

function uniqueTags(...lists: string[][]): string[] {
  return [...new Set(lists.flat().map((t) => t.trim()).filter((t) => t !== ""))];
}

export function tacoMapper(options: TacoOptions = {}): RecordMapper {
  return {
    required: ["question", "solutions", "input_output"],
    columns: options.specialJudgeColumn ? [...TACO_COLUMNS, options.specialJudgeColumn] : TACO_COLUMNS,
    map(record: Fields, ctx: MapContext): Task {
      const prompt = requireString(record, "question");
      if (record.solutions === undefined || record.solutions === null) throw new FieldError("solutions", "missing");
      const allSolutions = stringList(record.solutions === "" ? [] : jsonOrValue(record.solutions, "solutions"), "solutions");
      if (record.input_output === undefined || record.input_output === null) throw new FieldError("input_output", "missing");
      const tests = tacoTests(record.input_output);
      const skillTypes = tagList(record.skill_types, "skill_types");
      const tags = uniqueTags(tagList(record.tags, "tags"), skillTypes);
      const meta: Record<string, unknown> = {};
      for (const column of META_COLUMNS) {
        const value = metaValue(record[column]);
        if (value === undefined) continue;
        meta[column] = value;
        copyFloatMark(record, column, meta);
      }
      if (skillTypes.length) meta.skill_types = skillTypes;

      const judge = options.specialJudgeColumn
        ? specialJudgeOf(record[options.specialJudgeColumn], options.specialJudgeColumn)
        : options.specialJudges?.get(ctx.row);
      if (judge && tests.kind === "stdio") tests.specialJudge = judge;
      // CallTests has no judge field; a call-based row with one keeps it in meta.
      else if (judge) meta.specialJudge = judge;

      let solutions = allSolutions;
      if (options.python) {
        const python = options.python;
        solutions = allSolutions.filter((code) => python.parsesAsPython3(code));
        meta.droppedSolutions = allSolutions.length - solutions.length;
        if (solutions.length === 0) {
          throw new FieldError("solutions", `python-only filter: none of the ${allSolutions.length} solutions parses as Python 3`);
        }
      }

      const task: Task = { id: `taco/${ctx.row}`, source: "taco", prompt, solutions, tests, meta };
      if (tests.kind === "call") task.entryPoint = tests.fnName;
      const starterCode = optionalString(record, "starter_code");
      if (starterCode !== undefined) task.starterCode = starterCode;
      const difficulty = optionalString(record, "difficulty");
      if (difficulty !== undefined) task.difficulty = difficulty;
      task.tags = tags;
      return task;
    },
  };
}
