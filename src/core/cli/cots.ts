// `codistill cots generate|stats`: the teacher's reasoning for a dataset without an editor, on the
// same core as the extension. Without --endpoint the offline rationalizer writes the reasoning.
// Progress goes to stderr, the summary (CotSummary's keys) to stdout. Exit codes: 0 done (failed
// tasks are in the summary; running again asks them again), 1 usage, IO or bad input, or --verify
// could not run the sandbox, 130 interrupted (what was written stays, and running again resumes).
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { execa } from "execa";
import { DATASET_FORMATS, openDataset, type Dataset, type DatasetFormat } from "../datasets/index";
import { datasetTasks, generateCots, type GenerateProgress } from "../cot/generate";
import { defaultPromptPath, readPromptTemplate, type CotMode } from "../cot/prompt";
import { rationalizerSource, teacherSource, type ReasoningSource } from "../cot/sources";
import { verifiedShare, type CotSummary } from "../cot/stats";
import { CotStore } from "../cot/store";
import { TeacherClient } from "../cot/teacher";
import { sandboxVerifier, type ExecuteSamples } from "../cot/verify";
import { formatDuration } from "../experiment/progress";
import { UsageError, type CliCommand, type Io } from "./io";

export const API_KEY_ENV = "CODISTILL_TEACHER_API_KEY";

const USAGE = `  codistill cots generate --tasks <file> --out <cots.jsonl> [options]
                                                      the teacher's reasoning for every task, appended to
                                                      <cots.jsonl>; running again resumes; summary (JSON)
  codistill cots stats <cots.jsonl>                   the same counts for a CoT set (JSON)

Options of cots generate:
  --tasks <file>        Task JSONL, or a dataset file or folder any loader reads
  --format <name>       the dataset's format, when detection is not enough (${DATASET_FORMATS.join(", ")})
  --out <file>          the CoT set (.codistill/cots/<name>.jsonl in a workspace)
  --endpoint <url>      an OpenAI-compatible server (…/v1); without it the offline rationalizer answers
  --model <name>        the teacher model the server serves (required with --endpoint)
  --mode <mode>         blind (the teacher sees the task) or rationalize (and its reference solution); default blind
  --prompt <file>       the prompt template (default: media/cot-prompt.md)
  --temperature <t>     default 0.2
  --max-tokens <n>      per answer, default 2048
  --concurrency <n>     requests at once, default 8
  --max-retries <n>     per task: retries of a failed request, and re-asks of an answer with no JSON
                        or cut off, default 3
  --timeout <s>         per request, default 120
  --verify              run the teacher's code against the task's tests in the sidecar's sandbox
  --python <path>       the sidecar's Python for --verify (default: $CODISTILL_PYTHON, ./.venv/bin/python, python3)
  --limit <n>           only the first n tasks (running again with the same limit resumes them)
The API key, if the server needs one, is read from $${API_KEY_ENV}.
`;

export interface GenerateCommand {
  tasks: string;
  out: string;
  format?: DatasetFormat;
  endpoint?: string;
  model?: string;
  mode: CotMode;
  prompt?: string;
  temperature: number;
  maxTokens: number;
  concurrency: number;
  maxRetries: number;
  timeoutS: number;
  verify: boolean;
  python?: string;
  limit?: number;
}

type Command = { name: "generate"; generate: GenerateCommand } | { name: "stats"; path: string };

export function parseCotsCommand(argv: string[]): Command | "help" {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      tasks: { type: "string" },
      format: { type: "string" },
      out: { type: "string" },
      endpoint: { type: "string" },
      model: { type: "string" },
      mode: { type: "string" },
      prompt: { type: "string" },
      temperature: { type: "string" },
      "max-tokens": { type: "string" },
      concurrency: { type: "string" },
      "max-retries": { type: "string" },
      timeout: { type: "string" },
      verify: { type: "boolean" },
      python: { type: "string" },
      limit: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help";
  const [group, name, ...rest] = positionals;
  if (group !== "cots") throw new UsageError(`not a cots command: "${group}"`);
  if (name === "stats") {
    if (rest.length !== 1) throw new UsageError("cots stats: expected <cots.jsonl>");
    return { name, path: rest[0]! };
  }
  if (name !== "generate") throw new UsageError(name ? `unknown cots command "${name}"` : "no cots command given");
  if (rest.length) throw new UsageError(`cots generate: unexpected argument "${rest[0]}"`);
  if (!values.tasks) throw new UsageError("cots generate: missing --tasks <file>");
  if (!values.out) throw new UsageError("cots generate: missing --out <cots.jsonl>");
  if (values.endpoint && !values.model) throw new UsageError("cots generate: --endpoint needs --model <name>");
  if (!values.endpoint && values.model) throw new UsageError("cots generate: --model needs --endpoint <url> (without one the offline rationalizer answers)");
  const mode = values.mode ?? "blind";
  if (mode !== "blind" && mode !== "rationalize") throw new UsageError(`--mode: expected blind or rationalize, got "${mode}"`);
  if (values.format !== undefined && !(DATASET_FORMATS as readonly string[]).includes(values.format)) throw new UsageError(`--format: expected one of ${DATASET_FORMATS.join(", ")}`);
  return {
    name,
    generate: {
      tasks: values.tasks,
      out: values.out,
      ...(values.format ? { format: values.format as DatasetFormat } : {}),
      ...(values.endpoint ? { endpoint: values.endpoint, model: values.model } : {}),
      mode,
      ...(values.prompt ? { prompt: values.prompt } : {}),
      temperature: numberOption(values.temperature, "--temperature", 0.2, 0),
      maxTokens: integerOption(values["max-tokens"], "--max-tokens", 2048, 1),
      concurrency: integerOption(values.concurrency, "--concurrency", 8, 1),
      maxRetries: integerOption(values["max-retries"], "--max-retries", 3, 0),
      timeoutS: numberOption(values.timeout, "--timeout", 120, Number.MIN_VALUE),
      verify: values.verify ?? false,
      ...(values.python ? { python: values.python } : {}),
      ...(values.limit !== undefined ? { limit: integerOption(values.limit, "--limit", 0, 1) } : {}),
    },
  };
}

function numberOption(text: string | undefined, flag: string, fallback: number, min: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!text.trim() || !Number.isFinite(value) || value < min) throw new UsageError(`${flag}: expected a number${min > 0 ? " > 0" : " >= 0"}, got "${text}"`);
  return value;
}

function integerOption(text: string | undefined, flag: string, fallback: number, min: number): number {
  const value = numberOption(text, flag, fallback, min);
  if (!Number.isInteger(value)) throw new UsageError(`${flag}: expected an integer >= ${min}, got "${text}"`);
  return value;
}

async function sourceFor(command: GenerateCommand, env: NodeJS.ProcessEnv): Promise<ReasoningSource> {
  return command.endpoint ? endpointSource({ ...command, endpoint: command.endpoint, model: command.model! }, env) : rationalizerSource();
}

export type EndpointSettings = Pick<GenerateCommand, "mode" | "prompt" | "temperature" | "maxTokens" | "concurrency" | "maxRetries" | "timeoutS"> & { endpoint: string; model: string };

/** A teacher model at an OpenAI-compatible endpoint; the API key, if any, from $CODISTILL_TEACHER_API_KEY. */
export async function endpointSource(settings: EndpointSettings, env: NodeJS.ProcessEnv): Promise<ReasoningSource> {
  const template = await readPromptTemplate(settings.prompt ?? defaultPromptPath());
  const identity = { endpoint: settings.endpoint, model: settings.model, temperature: settings.temperature };
  const apiKey = env[API_KEY_ENV];
  const client = new TeacherClient({
    ...identity,
    maxTokens: settings.maxTokens,
    concurrency: settings.concurrency,
    maxRetries: settings.maxRetries,
    timeoutMs: settings.timeoutS * 1000,
    ...(apiKey ? { apiKey } : {}),
  });
  return teacherSource(client, identity, template, settings.mode);
}

/** The sidecar's Python: --python, $CODISTILL_PYTHON, the set-up venv of the current folder, python3. */
export function verifyPython(command: GenerateCommand, env: NodeJS.ProcessEnv, cwd: string): string {
  if (command.python) return command.python;
  if (env.CODISTILL_PYTHON) return env.CODISTILL_PYTHON;
  const venv = join(cwd, ".venv", "bin", "python");
  return existsSync(venv) ? venv : "python3";
}

/** eval/execute as `python -m codistill eval execute`: the sandbox the extension's sidecar runs. */
function executeWithPython(python: string): ExecuteSamples {
  return async (job, signal) => {
    const args = ["-m", "codistill", "eval", "execute", "--tasks", job.tasksPath, "--samples", job.samplesPath, "--out-dir", job.outDir];
    const run = await execa(python, args, { reject: false, all: true, ...(signal ? { cancelSignal: signal } : {}) });
    if (run.exitCode !== 0) throw new Error(`verification: ${python} -m codistill eval execute failed (${run.exitCode ?? run.signal}): ${(run.all ?? "").trim().split("\n").slice(-5).join("\n")}`);
    return join(job.outDir, "results.json");
  };
}

/** A progress line for stderr: done/total, failures, rate and ETA. */
export function progressLine(p: GenerateProgress): string {
  const eta = p.etaS === null ? "" : ` ETA ${formatDuration(p.etaS)}`;
  const verified = p.verifiedDone ? `, ${p.verifiedPassed}/${p.verifiedDone} verified` : "";
  return `cots: ${p.done}/${p.total} (${p.failed} failed, ${p.invalid} invalid${verified}) ${p.rate.toFixed(1)}/s${eta}`;
}

async function generate(command: GenerateCommand, io: Io): Promise<number> {
  const source = await sourceFor(command, process.env);
  const out = resolve(command.out);
  await mkdir(dirname(out), { recursive: true });
  const store = await CotStore.open(out);
  if (store.tornLine) io.stderr.write(`${out}:${store.tornLine.line}: a torn last line (${store.tornLine.bytes} bytes) from an interrupted run; it is cut off now and that task asked again\n`);
  let dataset: Dataset | undefined;
  const stop = new AbortController();
  // The first Ctrl+C stops cleanly (what was written stays); a second one does not wait.
  const interrupt = () => (stop.signal.aborted ? process.exit(130) : stop.abort(new Error("interrupted")));
  // on(), not once(): once() drops our listener before calling it, and the exit handler execa
  // installs for its child processes then finds itself alone and re-raises the signal.
  process.on("SIGINT", interrupt);
  process.on("SIGTERM", interrupt);
  try {
    dataset = await openDataset(command.tasks, command.format ? { format: command.format } : {});
    if (dataset.rejected.length) io.stderr.write(`${command.tasks}: ${dataset.rejected.length} rows rejected (see: codistill dataset stats)\n`);
    const verifier = command.verify ? sandboxVerifier(executeWithPython(verifyPython(command, process.env, process.cwd())), join(dirname(out), ".verify")) : undefined;
    let lastLine = 0;
    let latest: GenerateProgress | undefined;
    const report = await generateCots(datasetTasks(dataset), store, {
      source,
      concurrency: command.concurrency,
      maxReasks: command.maxRetries,
      ...(command.limit !== undefined ? { limit: command.limit } : {}),
      ...(verifier ? { verifier } : {}),
      signal: stop.signal,
      onProgress: (p) => {
        latest = p;
        if (Date.now() - lastLine < 1000) return;
        lastLine = Date.now();
        io.stderr.write(`${progressLine(p)}\n`);
        latest = undefined;
      },
    });
    if (latest) io.stderr.write(`${progressLine(latest)}\n`);
    io.stderr.write(`${source.identity.model}: ${report.asked} asked, ${report.skipped} already done, ${report.verified} verified in ${report.seconds.toFixed(1)} s -> ${out}\n`);
    for (const failure of report.failures.slice(0, 10)) io.stderr.write(`failed: ${failure.taskId}: ${failure.reason}\n`);
    if (report.failures.length) io.stderr.write(`${report.failures.length} tasks failed; running the same command again asks them again\n`);
    if (report.verificationError) io.stderr.write(`codistill: verification stopped: ${report.verificationError}\nThe reasoning is kept; running the same command again verifies what is left.\n`);
    io.stdout.write(`${JSON.stringify(report.summary, null, 2)}\n`);
    return report.cancelled ? 130 : report.verificationError ? 1 : 0;
  } finally {
    process.off("SIGINT", interrupt);
    process.off("SIGTERM", interrupt);
    await dataset?.close();
  }
}

async function stats(path: string, io: Io): Promise<number> {
  if (!existsSync(path)) throw new Error(`${path}: no such file`);
  const store = await CotStore.open(path);
  const summary: CotSummary = store.summary();
  const share = verifiedShare(summary);
  const reviews = store.reviews();
  if (store.tornLine) io.stderr.write(`${path}:${store.tornLine.line}: a torn last line (${store.tornLine.bytes} bytes), cut off at the next append\n`);
  io.stderr.write(
    `${store.lines} records for ${summary.total} tasks; verified share ${share === null ? "n/a (no teacher code checked)" : `${(share * 100).toFixed(1)}% of ${summary.verified + summary.failedVerification} checked`}; reviewed: ${reviews.accepted} accepted, ${reviews.rejected} rejected, ${reviews.edited} edited\n`,
  );
  io.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  return 0;
}

/** `argv` starts with "cots". */
async function runCots(argv: string[], io: Io): Promise<number | "help"> {
  const command = parseCotsCommand(argv);
  if (command === "help") return "help";
  return command.name === "stats" ? stats(command.path, io) : generate(command.generate, io);
}

export const cotsCommand: CliCommand = { name: "cots", usage: USAGE, run: runCots };
