// `codistill codebleu`: CodeBLEU of Python code without Python, one pair from files or many from a
// JSONL file. Exit codes: 0 ok, 1 usage or IO error, or a pairs file with bad lines (each is
// reported and the other pairs are still scored).
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { loadCodeBleu, type CodeBleu, type CodeBleuMode, type CodeBleuOptions, type CodeBleuScores } from "../codebleu/index";
import { UsageError, type CliCommand, type Io } from "./io";

const USAGE = `  codistill codebleu --ref <file> --hyp <file> [options]
                                                      CodeBLEU of one hypothesis (one JSON object);
                                                      repeat --ref for several references
  codistill codebleu --pairs <file.jsonl> [options]   one JSON line per {"ref", "hyp"} line, in order
                                                      ("ref" a string or a list of strings; - reads stdin)

Options:
  --mode default|reference   default: the metric with the reference package's quirks fixed;
                             reference: the numbers of the codebleu package (PYTHONHASHSEED=0)
  --weights a,b,c,d          weights of ngram, weighted ngram, syntax, dataflow (default 0.25 each)
`;

/** The reference package's keys, in its order. */
const KEYS: readonly (keyof CodeBleuScores)[] = ["ngram_match_score", "weighted_ngram_match_score", "syntax_match_score", "dataflow_match_score", "codebleu"];

interface Command {
  refs: string[];
  hyp?: string;
  pairs?: string;
  options: CodeBleuOptions;
}

function modeOf(value: string | undefined): CodeBleuMode {
  if (value === undefined) return "default";
  if (value !== "default" && value !== "reference") throw new UsageError(`--mode: expected "default" or "reference", got "${value}"`);
  return value;
}

function weightsOf(value: string | undefined): CodeBleuOptions["weights"] {
  if (value === undefined) return undefined;
  const parts = value.split(",");
  const weights = parts.map((p) => (p.trim() === "" ? Number.NaN : Number(p)));
  if (weights.length !== 4 || weights.some((w) => !Number.isFinite(w))) throw new UsageError(`--weights: expected four numbers separated by commas, got "${value}"`);
  return weights as unknown as CodeBleuOptions["weights"];
}

export function parseCodebleuCommand(argv: string[]): Command | "help" {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ref: { type: "string", multiple: true },
      hyp: { type: "string" },
      pairs: { type: "string" },
      mode: { type: "string" },
      weights: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help";
  const [group, ...rest] = positionals;
  if (group !== "codebleu") throw new UsageError(`not a codebleu command: "${group}"`);
  if (rest.length) throw new UsageError(`codebleu: unexpected argument "${rest[0]}"`);
  const refs = values.ref ?? [];
  const options: CodeBleuOptions = { mode: modeOf(values.mode), weights: weightsOf(values.weights) };
  if (values.pairs !== undefined) {
    if (refs.length || values.hyp !== undefined) throw new UsageError("codebleu: --pairs replaces --ref and --hyp");
    return { refs, pairs: values.pairs, options };
  }
  if (!refs.length || values.hyp === undefined) throw new UsageError("codebleu: give --ref <file> and --hyp <file>, or --pairs <file.jsonl>");
  return { refs, hyp: values.hyp, options };
}

/** The scores as one JSON line, keys in the reference's order. */
function scoresLine(scores: CodeBleuScores): string {
  return JSON.stringify(Object.fromEntries(KEYS.map((k) => [k, scores[k]])));
}

async function readSource(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    throw new Error(`cannot read ${what} ${path}: ${(err as Error).message}`, { cause: err });
  }
}

async function scoreFiles(codeBleu: CodeBleu, command: Command, io: Io): Promise<number> {
  const refs = await Promise.all(command.refs.map((r) => readSource(r, "--ref")));
  const hyp = await readSource(command.hyp!, "--hyp");
  const warn = (message: string): void => void io.stderr.write(`codistill: warning: ${message}\n`);
  io.stdout.write(`${scoresLine(codeBleu.score(refs, hyp, { ...command.options, onWarning: warn }))}\n`);
  return 0;
}

/** A pairs line as references and hypothesis, or what is wrong with it. */
export function pairOf(line: string): { refs: string[]; hyp: string } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    return { error: `not JSON: ${(err as Error).message}` };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { error: 'expected an object {"ref": ..., "hyp": ...}' };
  const { ref, hyp } = value as { ref?: unknown; hyp?: unknown };
  if (typeof hyp !== "string") return { error: `"hyp" must be a string, got ${describe(hyp)}` };
  if (typeof ref === "string") return { refs: [ref], hyp };
  if (Array.isArray(ref) && ref.length && ref.every((r) => typeof r === "string")) return { refs: ref as string[], hyp };
  return { error: `"ref" must be a string or a non-empty list of strings, got ${describe(ref)}` };
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) return value.length ? "a list with a non-string" : "an empty list";
  return value === null ? "null" : typeof value;
}

async function scorePairs(codeBleu: CodeBleu, command: Command, io: Io): Promise<number> {
  const path = command.pairs!;
  const input = path === "-" ? process.stdin : createReadStream(path, { encoding: "utf8" });
  const opened = new Promise<void>((resolve, reject) => {
    if (path === "-") resolve();
    else input.once("open", () => resolve()).once("error", (err: Error) => reject(new Error(`cannot read --pairs ${path}: ${err.message}`, { cause: err })));
  });
  await opened;
  let bad = 0;
  let number = 0;
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    number++;
    if (!line.trim()) continue;
    const pair = pairOf(line);
    if ("error" in pair) {
      bad++;
      io.stderr.write(`codistill: ${path}:${number}: ${pair.error}\n`);
      io.stdout.write(`${JSON.stringify({ line: number, error: pair.error })}\n`);
      continue;
    }
    const at = number;
    const warn = (message: string): void => void io.stderr.write(`codistill: warning: ${path}:${at}: ${message}\n`);
    io.stdout.write(`${scoresLine(codeBleu.score(pair.refs, pair.hyp, { ...command.options, onWarning: warn }))}\n`);
  }
  if (bad) io.stderr.write(`codistill: ${bad} bad line${bad === 1 ? "" : "s"} in ${path}; the others were scored\n`);
  return bad ? 1 : 0;
}

/** `argv` starts with "codebleu". */
async function runCodebleu(argv: string[], io: Io): Promise<number | "help"> {
  const command = parseCodebleuCommand(argv);
  if (command === "help") return "help";
  try {
    const codeBleu = await loadCodeBleu();
    return command.pairs !== undefined ? await scorePairs(codeBleu, command, io) : await scoreFiles(codeBleu, command, io);
  } catch (err) {
    io.stderr.write(`codistill: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

export const codebleuCommand: CliCommand = { name: "codebleu", usage: USAGE, run: runCodebleu };
