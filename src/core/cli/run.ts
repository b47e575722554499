// `codistill run --config codistill.yaml`: the whole experiment from a shell (a GPU server, CI),
// on the same stages as "Codistill: Run Experiment". It starts its own sidecar. Progress goes to
// stderr, the outcome of each stage and the report's paths to stdout (JSON). Exit codes: 0 done,
// 1 usage, a problem in codistill.yaml or a stage that failed (what finished stays finished),
// 130 interrupted (running the same command again carries on).
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { rationalizerSource } from "../cot/sources";
import { DatasetRegistry } from "../datasets/registry";
import { openDataset } from "../datasets/index";
import { datasetRequest, describeProblem, parseExperimentConfig, type CotSetDecl, type ExperimentConfig } from "../experiment/config";
import { planExperiment, type ExperimentHost } from "../experiment/experiment";
import { PipelineCancelled, runPipeline, STAGE_KINDS, type PipelineEvent } from "../experiment/pipeline";
import { describeEvent } from "../experiment/progress";
import { writeExperimentReport } from "../experiment/report";
import { readGitInfo } from "../runs/gitInfo";
import { consoleLogger } from "../../sidecar/logger";
import { sidecarLaunchArgs } from "../../sidecar/interpreter";
import { SidecarSupervisor } from "../../sidecar/supervisor";
import { endpointSource } from "./cots";
import { UsageError, type CliCommand, type Io } from "./io";

export const TEACHER_ENDPOINT_ENV = "CODISTILL_TEACHER_ENDPOINT";

const USAGE = `  codistill run --config <codistill.yaml> [options]
                                                      the experiment: baseline evaluation, CoT sets,
                                                      training and evaluation of each arm, the report;
                                                      stages already up to date are skipped (JSON)

Options of run:
  --config <file>       the experiment (default ./codistill.yaml)
  --out <dir>           the experiment folder (default: experiment.out, else
                        .codistill/experiments/<name> beside codistill.yaml)
  --only <stage>        only these stages: a kind (${STAGE_KINDS.join(", ")}) or a stage id
                        (train:sft-cot); repeat it or separate with commas
  --python <path>       the sidecar's Python (default: $CODISTILL_PYTHON, the .venv beside or above
                        codistill.yaml, python3)
  --teacher-endpoint <url>
                        the OpenAI-compatible server of CoT sets with teacher: endpoint (default
                        $${TEACHER_ENDPOINT_ENV}); the model is teacher.model; the API key, if any,
                        is read from $CODISTILL_TEACHER_API_KEY
`;

export interface RunCommand {
  config: string;
  out?: string;
  only: string[];
  python?: string;
  teacherEndpoint?: string;
}

export function parseRunCommand(argv: string[]): RunCommand | "help" {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: "string" },
      out: { type: "string" },
      only: { type: "string", multiple: true },
      python: { type: "string" },
      "teacher-endpoint": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help";
  if (positionals[0] !== "run") throw new UsageError(`not a run command: "${positionals[0]}"`);
  if (positionals.length > 1) throw new UsageError(`run: unexpected argument "${positionals[1]}" (stages go after --only)`);
  const only = (values.only ?? []).flatMap((word) => word.split(",")).map((word) => word.trim()).filter(Boolean);
  return {
    config: resolve(values.config ?? "codistill.yaml"),
    ...(values.out ? { out: resolve(values.out) } : {}),
    only,
    ...(values.python ? { python: values.python } : {}),
    ...(values["teacher-endpoint"] ? { teacherEndpoint: values["teacher-endpoint"] } : {}),
  };
}

/** --python, $CODISTILL_PYTHON, the nearest .venv at or above the config's folder, python3. */
export function sidecarPython(command: Pick<RunCommand, "python" | "config">, env: NodeJS.ProcessEnv): string {
  if (command.python) return command.python;
  if (env.CODISTILL_PYTHON) return env.CODISTILL_PYTHON;
  for (let dir = dirname(command.config); ; dir = dirname(dir)) {
    const venv = join(dir, ".venv", "bin", "python");
    if (existsSync(venv)) return venv;
    if (dirname(dir) === dir) return "python3";
  }
}

async function readConfig(path: string): Promise<ExperimentConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new Error(`${path}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file (--config names the experiment)" : (err as Error).message}`);
  }
  const { config, problems } = parseExperimentConfig(text, path);
  if (problems.length) throw new Error(`${path} has ${problems.length} problem(s):\n${problems.map((p) => `  ${describeProblem(p)}`).join("\n")}`);
  return config;
}

/** One stderr line per event; progress at most once a second. */
function progressPrinter(io: Io): (event: PipelineEvent) => void {
  let last = 0;
  return (event) => {
    if (event.type === "progress" && Date.now() - last < 1000) return;
    last = Date.now();
    io.stderr.write(`${describeEvent(event)}\n`);
  };
}

async function run(command: RunCommand, io: Io): Promise<number> {
  const config = await readConfig(command.config);
  const root = dirname(command.config);
  const supervisor = new SidecarSupervisor({
    launch: async () => ({ command: sidecarPython(command, process.env), args: sidecarLaunchArgs("warning"), cwd: root }),
    log: consoleLogger("codistill", "warn"),
    sidecarLog: (line) => io.stderr.write(`sidecar: ${line}\n`),
    clientName: "codistill-cli",
    clientVersion: "1",
    requestTimeoutMs: 60_000,
  });
  const registry = new DatasetRegistry(openDataset);
  const host: ExperimentHost = {
    root,
    sidecar: supervisor,
    openDataset: (decl) => registry.complete(datasetRequest(decl)),
    reasoningSource: (set) => cliReasoningSource(set, config, command, process.env),
    git: () => readGitInfo(root),
    writeReport: (planned, context) => writeExperimentReport(planned, root, context.outcomes),
  };
  const planned = planExperiment(config, host, command.out);
  const stop = new AbortController();
  // The first Ctrl+C stops cleanly (a training arm at a checkpoint); a second one does not wait.
  const interrupt = () => (stop.signal.aborted ? process.exit(130) : stop.abort(new Error("interrupted")));
  // on(), not once(): once() drops our listener before calling it, and the exit handler execa
  // installs for its child processes then finds itself alone and re-raises the signal.
  process.on("SIGINT", interrupt);
  process.on("SIGTERM", interrupt);
  try {
    await supervisor.ready();
    const outcomes = await runPipeline(planned.stages, {
      out: planned.out,
      only: command.only,
      signal: stop.signal,
      onEvent: progressPrinter(io),
      log: (line) => io.stderr.write(`${line}\n`),
    });
    io.stdout.write(`${JSON.stringify({ out: planned.out, stages: outcomes, report: ["report.md", "report.html", "report.json"].map((name) => join(planned.out, name)) }, null, 2)}\n`);
    return 0;
  } catch (err) {
    if (err instanceof PipelineCancelled) {
      io.stderr.write(`codistill: ${err.message}\n`);
      return 130;
    }
    throw err;
  } finally {
    process.off("SIGINT", interrupt);
    process.off("SIGTERM", interrupt);
    await supervisor.stop();
    await registry.closeAll();
  }
}

async function cliReasoningSource(set: CotSetDecl, config: ExperimentConfig, command: RunCommand, env: NodeJS.ProcessEnv) {
  if (set.teacher === "offline") return rationalizerSource();
  const endpoint = command.teacherEndpoint ?? env[TEACHER_ENDPOINT_ENV];
  if (!endpoint) throw new Error(`cots: ${set.name} has teacher: endpoint: give --teacher-endpoint <url> or $${TEACHER_ENDPOINT_ENV} (or set teacher: offline)`);
  if (!config.teacher?.model) throw new Error(`${config.file}: teacher.model: name the model the endpoint serves (CoT set ${set.name} asks it)`);
  return endpointSource(
    { endpoint, model: config.teacher.model, temperature: config.teacher.temperature ?? 0.2, mode: set.mode, maxTokens: 2048, concurrency: 8, maxRetries: 3, timeoutS: 120 },
    env,
  );
}

/** `argv` starts with "run". */
async function runCommand(argv: string[], io: Io): Promise<number | "help"> {
  const command = parseRunCommand(argv);
  if (command === "help") return "help";
  return run(command, io);
}

export const runExperimentCommand: CliCommand = { name: "run", usage: USAGE, run: runCommand };
