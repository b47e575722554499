// `codistill <group> ...`: the headless CLI over the same core as the extension. Each group is one
// module (dataset.ts, ...); this file only dispatches. Exit codes: 0 ok, 1 usage or IO error
// (with a message on stderr); a group may document more.
import { codebleuCommand } from "./codebleu";
import { cotsCommand } from "./cots";
import { datasetCommand } from "./dataset";
import { evalCommand } from "./eval";
import { generateCommand } from "./generate";
import { UsageError, type CliCommand, type Io } from "./io";
import { runExperimentCommand } from "./run";

export type { Io, Output } from "./io";

const COMMANDS: readonly CliCommand[] = [datasetCommand, cotsCommand, evalCommand, codebleuCommand, generateCommand, runExperimentCommand];

export const USAGE = `Usage:\n${COMMANDS.map((c) => c.usage).join("\n")}\n  -h, --help            this text\n`;

export async function main(argv: string[], io: Io): Promise<number> {
  const first = argv[0];
  if (first === "-h" || first === "--help") {
    io.stdout.write(USAGE);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === first);
  if (!command) {
    io.stderr.write(`codistill: ${first ? `unknown command "${first}"` : "no command given"}\n\n${USAGE}`);
    return 1;
  }
  try {
    const code = await command.run(argv, io);
    if (code !== "help") return code;
    io.stdout.write(USAGE);
    return 0;
  } catch (err) {
    if (isUsageMistake(err)) {
      io.stderr.write(`codistill: ${err.message}\n\n${USAGE}`);
      return 1;
    }
    io.stderr.write(`codistill: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

/** Ours, or node:util parseArgs's (an unknown option, a missing option value). */
function isUsageMistake(err: unknown): err is Error {
  if (err instanceof UsageError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return err instanceof Error && typeof code === "string" && code.startsWith("ERR_PARSE_ARGS");
}
