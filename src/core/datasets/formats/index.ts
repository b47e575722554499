// The mapper of each format, with the options that apply to it checked up front.
import { readFile } from "node:fs/promises";
import type { DatasetFormat, OpenDatasetOptions } from "../api";
import { DatasetError, errorMessage, FieldError } from "../errors";
import { isRecord } from "../fields";
import { parseJson } from "../json";
import { pythonSyntax } from "../pythonSyntax";
import type { SpecialJudge } from "../task";
import { customMapper } from "./custom";
import { evalPlusMapper } from "./evalplus";
import { humanEvalMapper } from "./humaneval";
import { mbppMapper, mbppSanitizedMapper } from "./mbpp";
import { specialJudgeOf, tacoMapper } from "./taco";
import { tasksMapper } from "./tasks";
import type { RecordMapper } from "./types";

/** TACO's output_spj.jsonl: `{"idx": 5, "special_judge": true, "case": 1}` per line. */
export async function loadSpecialJudges(file: string): Promise<Map<number, SpecialJudge>> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new DatasetError(`cannot read the special judge file ${file}: ${errorMessage(err)}`, { cause: err });
  }
  const judges = new Map<number, SpecialJudge>();
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    const where = `${file}:${i + 1}`;
    let entry: unknown;
    try {
      entry = parseJson(line);
    } catch (err) {
      throw new DatasetError(`${where}: malformed JSON: ${errorMessage(err)}`);
    }
    if (!isRecord(entry)) throw new DatasetError(`${where}: expected a JSON object`);
    if (typeof entry.idx !== "number" || !Number.isInteger(entry.idx) || entry.idx < 0) throw new DatasetError(`${where}: idx: expected a row number`);
    try {
      const judge = specialJudgeOf(entry.case, "case");
      if (judge) judges.set(entry.idx, judge);
    } catch (err) {
      throw new DatasetError(`${where}: ${err instanceof FieldError ? err.message : errorMessage(err)}`);
    }
  });
  return judges;
}

export async function mapperFor(format: DatasetFormat, options: OpenDatasetOptions): Promise<RecordMapper> {
  const tacoOnly = (["pythonOnly", "specialJudgeFile", "specialJudgeColumn"] as const).filter((k) => options[k]);
  if (format !== "taco" && tacoOnly.length) throw new DatasetError(`${tacoOnly.join(", ")} only applies to the taco format, not ${format}`);
  if (options.specialJudgeFile && options.specialJudgeColumn) throw new DatasetError("give either specialJudgeFile or specialJudgeColumn, not both");
  switch (format) {
    case "taco":
      return tacoMapper({
        python: options.pythonOnly ? await pythonSyntax() : undefined,
        specialJudges: options.specialJudgeFile ? await loadSpecialJudges(options.specialJudgeFile) : undefined,
        specialJudgeColumn: options.specialJudgeColumn,
      });
    case "mbpp":
      return mbppMapper();
    case "mbpp-sanitized":
      return mbppSanitizedMapper();
    case "humaneval":
      return humanEvalMapper();
    case "humaneval+":
      return evalPlusMapper("humaneval+");
    case "mbpp+":
      return evalPlusMapper("mbpp+");
    case "tasks":
      return tasksMapper();
    case "custom":
      if (!options.mapping?.id || !options.mapping.prompt) throw new DatasetError('format "custom" needs a field mapping with at least id and prompt');
      return customMapper(options.mapping);
    default:
      throw new DatasetError(`unknown dataset format ${JSON.stringify(format)}`);
  }
}
