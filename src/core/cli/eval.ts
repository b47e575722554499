// `codistill eval structure <eval-dir>`: the paper's syntax and dataflow match of an evaluation's
// samples, for folders made without the editor (`python -m codistill eval generate`, then
// `eval execute`). Writes structure.json into the folder, as the panel and its runs do, and prints
// the summary. `codistill eval select <eval-dir>`: one sample per task chosen by structural
// consensus, and pass@1 of the chosen ones beside plain pass@1 (selection.json, see
// evaluation/select.ts). Exit codes: 0 ok, 1 usage, IO or bad input (the file and line on stderr).
import { parseArgs } from "node:util";
import { EvalFileError } from "../evaluation/fields";
import { selectEvalDir, selectionInputs, type SelectionInputs } from "../evaluation/select";
import { STRUCTURE_MODES, scoreEvalDir, structureInputs, type StructureInputs, type StructureMode } from "../evaluation/structure";
import { UsageError, type CliCommand, type Io } from "./io";

const USAGE = `  codistill eval structure <eval-dir> [options]
                                                      CodeBLEU syntax and dataflow match of every sample of
                                                      <eval-dir>/samples.jsonl against its task's reference
                                                      solutions in <eval-dir>/tasks.jsonl (the best one);
                                                      writes <eval-dir>/structure.json, prints its summary (JSON)

Options:
  --mode <mode>         ${STRUCTURE_MODES.join(" or ")} (default: default; reference gives the original
                        CodeBLEU's numbers, 0 instead of null where a reference has no dataflow)
  --tasks <file>        the Task JSONL, when it is not <eval-dir>/tasks.jsonl
  --samples <file>      the samples, when they are not <eval-dir>/samples.jsonl

  codistill eval select <eval-dir> [options]
                                                      chooses one sample per task of <eval-dir>/samples.jsonl
                                                      by structural consensus (the one most like the task's
                                                      other samples in CodeBLEU syntax + dataflow); with
                                                      <eval-dir>/results.json, pass@1 of the chosen samples
                                                      beside plain pass@1 of all of them; writes
                                                      <eval-dir>/selection.json and prints it (JSON)

Options:
  --samples <file>      the samples, when they are not <eval-dir>/samples.jsonl
  --results <file>      eval execute's results, when they are not <eval-dir>/results.json
                        (without results.json, pass@1 is null)
  --tasks <file>        the Task JSONL, for samples with only a completion (default <eval-dir>/tasks.jsonl)
`;

interface StructureCommand {
  command: "structure";
  dir: string;
  mode: StructureMode;
  tasks?: string;
  samples?: string;
}

interface SelectCommand {
  command: "select";
  dir: string;
  samples?: string;
  results?: string;
  tasks?: string;
}

export function parseEvalCommand(argv: string[]): StructureCommand | SelectCommand | "help" {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      mode: { type: "string" },
      tasks: { type: "string" },
      samples: { type: "string" },
      results: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help";
  const [group, name, dir, ...rest] = positionals;
  if (group !== "eval") throw new UsageError(`not an eval command: "${group}"`);
  // generate and execute run models and the sandbox: they are the Python sidecar's CLI.
  if (name === "generate" || name === "execute") throw new UsageError(`eval ${name} is the sidecar's: python -m codistill eval ${name} --help`);
  if (name !== "structure" && name !== "select") throw new UsageError(name ? `unknown eval command "${name}"` : "no eval command given");
  if (!dir) throw new UsageError(`eval ${name}: missing <eval-dir>`);
  if (rest.length) throw new UsageError(`eval ${name}: unexpected argument "${rest[0]}"`);
  const files = { ...(values.tasks ? { tasks: values.tasks } : {}), ...(values.samples ? { samples: values.samples } : {}) };
  if (name === "select") {
    if (values.mode !== undefined) throw new UsageError("eval select: --mode is an option of eval structure");
    return { command: "select", dir, ...files, ...(values.results ? { results: values.results } : {}) };
  }
  if (values.results !== undefined) throw new UsageError("eval structure: --results is an option of eval select");
  const mode = values.mode ?? "default";
  if (!isMode(mode)) throw new UsageError(`--mode: expected one of ${STRUCTURE_MODES.join(", ")}, got "${mode}"`);
  return { command: "structure", dir, mode, ...files };
}

function isMode(value: string): value is StructureMode {
  return (STRUCTURE_MODES as readonly string[]).includes(value);
}

/** `argv` starts with "eval". */
async function runEval(argv: string[], io: Io): Promise<number | "help"> {
  const command = parseEvalCommand(argv);
  if (command === "help") return "help";
  if (command.command === "select") return runSelect(command, io);
  const inputs = structureInputs(command.dir, command);
  const structure = await scoreEvalDir(inputs, { mode: command.mode }).catch((err: unknown) => {
    throw withOptionHint(err, inputs);
  });
  io.stderr.write(`scored ${structure.summary.samples} samples of ${structure.summary.tasks} tasks -> ${structure.path}\n`);
  io.stdout.write(`${JSON.stringify({ structure: structure.path, mode: structure.mode, summary: structure.summary }, null, 2)}\n`);
  return 0;
}

async function runSelect(command: SelectCommand, io: Io): Promise<number> {
  const inputs = selectionInputs(command.dir, command);
  const selection = await selectEvalDir(inputs).catch((err: unknown) => {
    throw withOptionHint(err, inputs);
  });
  const pass = selection["pass@1"];
  const figures = pass ? `pass@1 ${pass.chosen.toFixed(4)} chosen, ${pass.plain.toFixed(4)} plain` : `no ${inputs.resultsPath}: pass@1 not computed`;
  io.stderr.write(`chose 1 of ${selection.n} samples for ${selection.tasks} tasks (${figures}) -> ${inputs.selectionPath}\n`);
  io.stdout.write(`${JSON.stringify(selection, null, 2)}\n`);
  return 0;
}

/** `python -m codistill eval generate --tasks X --out-dir DIR` leaves the tasks outside DIR: say how to point at them. */
function withOptionHint(err: unknown, inputs: StructureInputs | SelectionInputs): unknown {
  if (!(err instanceof EvalFileError) || err.code !== "ENOENT") return err;
  const option = err.file === inputs.tasksPath ? "--tasks" : err.file === inputs.samplesPath ? "--samples" : "resultsPath" in inputs && err.file === inputs.resultsPath ? "--results" : undefined;
  if (option === "--tasks" && "resultsPath" in inputs) return err; // its message already says so
  return option ? new Error(`${err.message} (${option} <file> names one elsewhere)`, { cause: err }) : err;
}

export const evalCommand: CliCommand = { name: "eval", usage: USAGE, run: runEval };
