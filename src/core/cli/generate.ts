// `codistill generate`: the exported student (`python -m codistill export onnx`) generating in
// Node as the editor does (src/core/inference/decoder.ts, in a worker thread: workerDecoder.ts):
// the prompt fed as-is, with the tokenizer's special tokens, greedy unless a temperature is
// given. Prints one JSON line. Exit codes: 0 ok, 1 usage, IO or model error (the file or option
// on stderr).
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import type { GenerateRequest, GenerationResult } from "../inference/decoder";
import { startDecoderWorker } from "../inference/workerDecoder";
import { UsageError, type CliCommand, type Io } from "./io";

const DEFAULT_MAX_NEW_TOKENS = 128;

const USAGE = `  codistill generate --model <onnx-dir> (--prompt <text> | --prompt-file <file>) [options]
                                                      the exported student's continuation of the prompt:
                                                      one JSON line {"text", "tokenIds", "promptTokens",
                                                      "newTokens", "firstTokenMs", "tokensPerS", "finishReason"}

Options:
  --max-new-tokens <n>  most new tokens (default ${DEFAULT_MAX_NEW_TOKENS})
  --temperature <t>     0 (default): greedy; above 0: sampling
  --top-p <p>           nucleus of the sampling, in (0, 1] (default 1)
  --seed <n>            the sampling's seed (default 0)
  --stop <text>         a stop sequence, ending the text before it; repeat for several
  --threads <n>         onnxruntime's intra-op threads (default: onnxruntime's own)
`;

/** The result's keys, in the order they are printed. */
const KEYS: readonly (keyof GenerationResult)[] = ["text", "tokenIds", "promptTokens", "newTokens", "firstTokenMs", "tokensPerS", "finishReason"];

interface GenerateCommand {
  model: string;
  prompt?: string;
  promptFile?: string;
  request: Omit<GenerateRequest, "prompt">;
  threads?: number;
}

function integerOf(flag: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = value.trim() === "" ? Number.NaN : Number(value);
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`${flag}: expected an integer >= ${min}, got "${value}"`);
  return n;
}

function numberOf(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = value.trim() === "" ? Number.NaN : Number(value);
  if (!Number.isFinite(n)) throw new UsageError(`${flag}: expected a number, got "${value}"`);
  return n;
}

export function parseGenerateCommand(argv: string[]): GenerateCommand | "help" {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      model: { type: "string" },
      prompt: { type: "string" },
      "prompt-file": { type: "string" },
      "max-new-tokens": { type: "string" },
      temperature: { type: "string" },
      "top-p": { type: "string" },
      seed: { type: "string" },
      stop: { type: "string", multiple: true },
      threads: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help";
  const [group, ...rest] = positionals;
  if (group !== "generate") throw new UsageError(`not a generate command: "${group}"`);
  if (rest.length) throw new UsageError(`generate: unexpected argument "${rest[0]}"`);
  if (!values.model) throw new UsageError("generate: missing --model <onnx-dir>");
  if (values.prompt !== undefined && values["prompt-file"] !== undefined) throw new UsageError("generate: give --prompt or --prompt-file, not both");
  if (values.prompt === undefined && values["prompt-file"] === undefined) throw new UsageError("generate: missing --prompt <text> or --prompt-file <file>");
  const temperature = numberOf("--temperature", values.temperature);
  if (temperature !== undefined && !(temperature >= 0)) throw new UsageError(`--temperature: expected a number >= 0, got "${values.temperature}"`);
  const topP = numberOf("--top-p", values["top-p"]);
  if (topP !== undefined && !(topP > 0 && topP <= 1)) throw new UsageError(`--top-p: expected a number in (0, 1], got "${values["top-p"]}"`);
  const seed = integerOf("--seed", values.seed, 0);
  const stop = values.stop ?? [];
  if (stop.some((s) => s === "")) throw new UsageError("--stop: an empty stop sequence would stop at once");
  const threads = integerOf("--threads", values.threads, 1);
  const request: Omit<GenerateRequest, "prompt"> = {
    maxNewTokens: integerOf("--max-new-tokens", values["max-new-tokens"], 1) ?? DEFAULT_MAX_NEW_TOKENS,
    addSpecialTokens: true,
    ...(temperature === undefined ? {} : { temperature }),
    ...(topP === undefined ? {} : { topP }),
    ...(seed === undefined ? {} : { seed }),
    ...(stop.length ? { stop } : {}),
  };
  return {
    model: values.model,
    ...(values.prompt === undefined ? {} : { prompt: values.prompt }),
    ...(values["prompt-file"] === undefined ? {} : { promptFile: values["prompt-file"] }),
    request,
    ...(threads === undefined ? {} : { threads }),
  };
}

async function promptOf(command: GenerateCommand): Promise<string> {
  if (command.prompt !== undefined) return command.prompt;
  try {
    return await readFile(command.promptFile!, "utf8");
  } catch (err) {
    throw new Error(`cannot read --prompt-file ${command.promptFile}: ${(err as Error).message}`, { cause: err });
  }
}

/** `argv` starts with "generate". */
async function runGenerate(argv: string[], io: Io): Promise<number | "help"> {
  const command = parseGenerateCommand(argv);
  if (command === "help") return "help";
  const prompt = await promptOf(command);
  const decoder = await startDecoderWorker(command.model, command.threads === undefined ? {} : { intraOpNumThreads: command.threads });
  try {
    const result = await decoder.generate({ prompt, ...command.request });
    io.stdout.write(`${JSON.stringify(Object.fromEntries(KEYS.map((k) => [k, result[k]])))}\n`);
    return 0;
  } finally {
    await decoder.dispose();
  }
}

export const generateCommand: CliCommand = { name: "generate", usage: USAGE, run: runGenerate };
