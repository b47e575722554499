// `codistill dataset stats|show|export`: the dataset loaders without VS Code. Exit codes: 0 ok,
// 1 usage or IO error (with a message on stderr).
import { createWriteStream } from "node:fs";
import { once } from "node:events";
import { parseArgs } from "node:util";
import type { DatasetFormat, FieldMapping, OpenDatasetOptions } from "../datasets/api";
import { DATASET_FORMATS, DatasetError, openDataset, serializeTask, type Dataset } from "../datasets/index";
import { UsageError, type CliCommand, type Io } from "./io";

const USAGE = `  codistill dataset stats <path> [options]            counts, rejected rows, sources, difficulties (JSON)
  codistill dataset show <path> <task-id> [options]   one normalized Task (JSON)
  codistill dataset export <path> --out <file> [options]
                                                      normalized Task JSONL, one Task per line

<path> is a file (.jsonl, .jsonl.gz, .json, .parquet) or a folder of such files.

Options:
  --format <name>       ${DATASET_FORMATS.join(", ")} (detected when absent)
  --map <field=source>  field mapping of the custom format, repeated: --map id=task_id --map prompt=text
                        (fields: id, prompt, solutions, tests, entryPoint, starterCode, difficulty, tags)
  --python-only         TACO: keep the solutions that parse as Python 3, and the tasks left with one
  --spj <file>          TACO: special judges from output_spj.jsonl
  --spj-column <name>   TACO: special judges from a column (case 0-3 or name)
  --out <file>          export: where to write the Task JSONL
`;

const MAPPING_FIELDS: readonly (keyof FieldMapping)[] = ["id", "prompt", "solutions", "tests", "entryPoint", "starterCode", "difficulty", "tags"];

function mappingOf(pairs: string[]): FieldMapping | undefined {
  if (!pairs.length) return undefined;
  const mapping: Partial<FieldMapping> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    const field = pair.slice(0, eq) as keyof FieldMapping;
    if (eq <= 0 || eq === pair.length - 1) throw new UsageError(`--map ${pair}: expected field=source`);
    if (!MAPPING_FIELDS.includes(field)) throw new UsageError(`--map ${pair}: unknown field "${field}"; expected one of ${MAPPING_FIELDS.join(", ")}`);
    mapping[field] = pair.slice(eq + 1);
  }
  if (!mapping.id || !mapping.prompt) throw new UsageError("--map needs at least id=... and prompt=...");
  return mapping as FieldMapping;
}

interface Command {
  name: "stats" | "show" | "export";
  path: string;
  taskId?: string;
  out?: string;
  options: OpenDatasetOptions;
}

export function parseDatasetCommand(argv: string[]): Command | "help" {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      format: { type: "string" },
      map: { type: "string", multiple: true },
      "python-only": { type: "boolean" },
      spj: { type: "string" },
      "spj-column": { type: "string" },
      out: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help";
  const [group, name, path, ...rest] = positionals;
  if (group !== "dataset") throw new UsageError(`not a dataset command: "${group}"`);
  if (name !== "stats" && name !== "show" && name !== "export") throw new UsageError(name ? `unknown dataset command "${name}"` : "no dataset command given");
  if (!path) throw new UsageError(`dataset ${name}: missing <path>`);
  const command: Command = { name, path, options: {} };
  if (name === "show") {
    if (rest.length !== 1) throw new UsageError("dataset show: expected <path> <task-id>");
    command.taskId = rest[0];
  } else if (rest.length) {
    throw new UsageError(`dataset ${name}: unexpected argument "${rest[0]}"`);
  }
  if (name === "export") {
    if (!values.out) throw new UsageError("dataset export: missing --out <file>");
    command.out = values.out;
  } else if (values.out) {
    throw new UsageError(`--out only applies to dataset export`);
  }
  const mapping = mappingOf(values.map ?? []);
  if (values.format !== undefined) {
    if (!(DATASET_FORMATS as readonly string[]).includes(values.format)) throw new UsageError(`--format: expected one of ${DATASET_FORMATS.join(", ")}`);
    command.options.format = values.format as DatasetFormat;
  }
  if (mapping) {
    command.options.format ??= "custom";
    if (command.options.format !== "custom") throw new UsageError("--map only applies to --format custom");
    command.options.mapping = mapping;
  }
  if (values["python-only"]) command.options.pythonOnly = true;
  if (values.spj) command.options.specialJudgeFile = values.spj;
  if (values["spj-column"]) command.options.specialJudgeColumn = values["spj-column"];
  return command;
}

async function stats(dataset: Dataset, io: Io): Promise<void> {
  io.stdout.write(`${JSON.stringify(dataset.stats(), null, 2)}\n`);
}

async function show(dataset: Dataset, taskId: string, io: Io): Promise<void> {
  const index = dataset.indexOfId(taskId);
  if (index === undefined) {
    const examples = dataset.summaries.slice(0, 3).map((s) => s.id);
    throw new DatasetError(`no task "${taskId}" in ${dataset.path}${examples.length ? ` (ids look like ${examples.join(", ")})` : ""}`);
  }
  io.stdout.write(`${serializeTask(await dataset.task(index))}\n`);
}

async function exportTasks(dataset: Dataset, out: string, io: Io): Promise<void> {
  const stream = createWriteStream(out);
  const failed = once(stream, "error").then(([err]) => {
    throw new DatasetError(`cannot write ${out}: ${(err as Error).message}`);
  });
  failed.catch(() => undefined);
  let count = 0;
  const write = async (task: Parameters<typeof serializeTask>[0]) => {
    count++;
    if (!stream.write(`${serializeTask(task)}\n`)) await Promise.race([once(stream, "drain"), failed]);
  };
  await Promise.race([dataset.forEachTask(write), failed]);
  stream.end();
  await Promise.race([once(stream, "finish"), failed]);
  const rejected = dataset.rejected.length;
  io.stderr.write(`wrote ${count} tasks to ${out}${rejected ? `; ${rejected} rows rejected (see: codistill dataset stats)` : ""}\n`);
}

/** `argv` starts with "dataset". */
async function runDataset(argv: string[], io: Io): Promise<number | "help"> {
  const command = parseDatasetCommand(argv);
  if (command === "help") return "help";
  let dataset: Dataset | undefined;
  try {
    dataset = await openDataset(command.path, command.options);
    if (command.name === "stats") await stats(dataset, io);
    else if (command.name === "show") await show(dataset, command.taskId!, io);
    else await exportTasks(dataset, command.out!, io);
    return 0;
  } catch (err) {
    io.stderr.write(`codistill: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  } finally {
    await dataset?.close();
  }
}

export const datasetCommand: CliCommand = { name: "dataset", usage: USAGE, run: runDataset };
