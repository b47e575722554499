// EvalPlus HumanEval+ and MBPP+: base_input/plus_input are lists of argument lists. Expected
// outputs are not stored: evaluation gets them by running canonical_solution, so the tests are
// CallTests with outputs null and solutions[0] is the full canonical program.
import { describeType, FieldError } from "../errors";
import { isRecord, jsonOrValue, requireString, type Fields } from "../fields";
import { copyFloatMark } from "../json";
import type { CallTests, Task } from "../task";
import { fullProgram } from "./humaneval";
import type { RecordMapper } from "./types";

interface Inputs {
  args: unknown[][];
  note?: string;
}

/** A list of argument lists, stored as a list or as a JSON string of one (some MBPP+ rows). */
function argumentLists(record: Fields, key: string): Inputs {
  const raw = record[key];
  if (raw === undefined || raw === null) throw new FieldError(key, "missing");
  const value = jsonOrValue(raw, key);
  // MbppPlus Mbpp/793 stores plus_input as {}: EvalPlus iterates it as no inputs.
  if (isRecord(value) && Object.keys(value).length === 0) return { args: [], note: `${key} is an empty object {}; read as no inputs` };
  if (!Array.isArray(value)) throw new FieldError(key, `expected a list of argument lists, got ${describeType(value)}`);
  value.forEach((args, i) => {
    if (!Array.isArray(args)) throw new FieldError(`${key}[${i}]`, `expected an argument list, got ${describeType(args)}`);
  });
  return { args: value as unknown[][] };
}

function atolOf(record: Fields): number | undefined {
  const raw = record.atol;
  if (raw === undefined || raw === null) return undefined;
  const value = jsonOrValue(raw, "atol");
  if (typeof value !== "number" || Number.isNaN(value) || value < 0) throw new FieldError("atol", `expected a non-negative number, got ${JSON.stringify(raw)}`);
  return value;
}

export function evalPlusMapper(source: "humaneval+" | "mbpp+"): RecordMapper {
  const extra = source === "humaneval+" ? "test" : "assertion";
  return {
    required: ["task_id", "prompt", "entry_point", "canonical_solution", "base_input", "plus_input"],
    map(record: Fields): Task {
      const id = requireString(record, "task_id");
      const prompt = requireString(record, "prompt");
      const entryPoint = requireString(record, "entry_point");
      const canonical = requireString(record, "canonical_solution");
      const base = argumentLists(record, "base_input");
      const plus = argumentLists(record, "plus_input");
      const tests: CallTests = { kind: "call", fnName: entryPoint, inputs: [...base.args, ...plus.args], outputs: null };
      const atol = atolOf(record);
      if (atol !== undefined) {
        tests.atol = atol;
        copyFloatMark(record, "atol", tests);
      }
      const meta: Record<string, unknown> = { baseInputs: base.args.length, plusInputs: plus.args.length };
      const notes = [base.note, plus.note].filter((n): n is string => n !== undefined);
      if (notes.length) meta.notes = notes;
      for (const key of ["contract", extra]) {
        const value = record[key];
        if (value === undefined || value === null) continue;
        if (typeof value !== "string") throw new FieldError(key, `expected a string, got ${describeType(value)}`);
        meta[key] = value;
      }
      const program = source === "humaneval+" ? fullProgram(prompt, canonical) : canonical;
      return { id, source, prompt, entryPoint, solutions: [program], tests, meta };
    },
  };
}
