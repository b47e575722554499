// A person's review of a CoT record in the Dataset Browser: accept, reject or edit. Each makes a
// newer record of the task for the store to append, so the history stays and the last record
// counts. Accepted records train whatever their status; rejected ones never train (the sidecar's
// training filter reads `review`). An edit is validated as a teacher's answer is.
import { parseDocument } from "yaml";
import type { CotRecord, ReviewDecision } from "./store";
import { DEFAULT_COT_LIMITS, validateCot, type CotLimits } from "./validate";

/** The record again, with a person's decision. */
export function reviewed(record: CotRecord, decision: Exclude<ReviewDecision, "edited">, at: Date): CotRecord {
  return { ...record, createdAt: at.toISOString(), review: { decision, at: at.toISOString() } };
}

/** The parts of a record a person edits, as the editor shows them. */
export interface EditableCot {
  intent: string;
  steps: string[];
  formulas: string[];
  edgeCases: string[];
  code?: string;
}

const EDITABLE_KEYS = ["intent", "steps", "formulas", "edgeCases", "code"];

/** The JSON document opened in an editor for `record`: its sections, and its code when it has some. */
export function editableText(record: CotRecord): string {
  const editable: EditableCot = { intent: record.intent, steps: record.steps, formulas: record.formulas, edgeCases: record.edgeCases };
  if (record.teacherCode !== undefined) editable.code = record.teacherCode;
  return `${JSON.stringify(editable, null, 2)}\n`;
}

/** A saved edit that cannot become a record: names the file and, where JSON says, the line. */
export class CotEditError extends Error {}

/**
 * The record after an edit saved in `file`. The sections are validated as a teacher's answer is,
 * and the status follows: an unchanged code keeps its sandbox verdict, a changed one loses it
 * (generation with --verify judges it again).
 */
export function applyEdit(record: CotRecord, text: string, file: string, at: Date, limits: CotLimits = DEFAULT_COT_LIMITS): CotRecord {
  const value = parseEdit(text, file);
  const unknown = Object.keys(value).filter((key) => !EDITABLE_KEYS.includes(key));
  if (unknown.length) throw new CotEditError(`${file}: unknown field "${unknown[0]}"; a CoT has ${EDITABLE_KEYS.join(", ")}`);
  for (const key of ["intent", "steps", "formulas", "edgeCases"]) {
    if (!(key in value)) throw new CotEditError(`${file}: "${key}" is missing`);
  }
  const checked = validateCot(value, [], limits);
  const { teacherCode: code, ...sections } = checked.sections;
  const sameCode = code === record.teacherCode;
  // A person's answer replaces a teacher's failure: the edited record is an answer like any other.
  const { verification: _verification, teacherCode: _code, failure: _failure, ...rest } = record;
  const kept = sameCode && record.verification && checked.status === "valid" ? { status: record.status, verification: record.verification } : { status: checked.status };
  const verdictProblems = kept.status === record.status ? record.problems.filter((p) => p.startsWith("verification: ")) : [];
  return {
    ...rest,
    ...sections,
    ...(code !== undefined ? { teacherCode: code } : {}),
    ...kept,
    createdAt: at.toISOString(),
    problems: [...verdictProblems, ...checked.problems],
    review: { decision: "edited", at: at.toISOString() },
  };
}

function parseEdit(text: string, file: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const line = errorLine(text, (err as Error).message);
    throw new CotEditError(`${file}${line ? `:${line}` : ""}: not valid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new CotEditError(`${file}: expected a JSON object with ${EDITABLE_KEYS.join(", ")}`);
  return value as Record<string, unknown>;
}

/**
 * The line of a JSON syntax error. JSON.parse names a position for some errors only; a YAML
 * parser (JSON is YAML) places most of the others.
 */
function errorLine(text: string, message: string): number | undefined {
  const position = /position (\d+)/.exec(message);
  if (position) return text.slice(0, Number(position[1])).split("\n").length;
  const error = parseDocument(text, { prettyErrors: true }).errors[0];
  return error?.linePos?.[0].line;
}
