// The sidecar's JSON-RPC 2.0 wire protocol. Mirrored, field for field, by
// sidecar/src/codistill/protocol.py; both test suites check the golden messages in
// test/fixtures/protocol/, so a change here needs the same change there.

export const PROTOCOL_VERSION = "1";

export const ErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  UnsupportedProtocolVersion: -32001,
  /** eval/generate: the backend asked for (or any, for "auto") cannot run in the sidecar's Python. */
  BackendUnavailable: -32002,
  /** train/start, train/resume: another run is training in this sidecar (one at a time); data is {runId, runDir} of that run. */
  TrainingRunActive: -32003,
  /** generate/start: another generation is streaming in this sidecar (one at a time); data is {generationId} of that one. */
  GenerationActive: -32004,
  RequestCancelled: -32800,
} as const;

export type RequestId = string | number;

export interface RpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

export interface RequestMessage {
  jsonrpc: "2.0";
  id: RequestId;
  method: string;
  params?: unknown;
}

export interface NotificationMessage {
  jsonrpc: "2.0";
  method: string;
  params?: unknown;
}

export interface ResponseMessage {
  jsonrpc: "2.0";
  id: RequestId | null;
  result?: unknown;
  error?: RpcErrorObject;
}

export type IncomingMessage = ResponseMessage | NotificationMessage;

// ---- method payloads -------------------------------------------------------

export interface InitializeParams {
  protocolVersion: string;
  clientName?: string;
  clientVersion?: string;
}

export interface GpuInfo {
  index: number;
  name: string;
  totalMemory: number;
  freeMemory: number;
}

export interface DeviceReport {
  cuda: boolean;
  cudaVersion: string | null;
  gpus: GpuInfo[];
  error: string | null;
}

export interface InitializeResult {
  protocolVersion: string;
  serverVersion: string;
  pid: number;
  python: { version: string; executable: string };
  packages: { torch: string | null; transformers: string | null; peft: string | null };
  missing: string[];
  devices: DeviceReport;
}

export interface PingParams {
  delayMs?: number;
}

export interface PingResult {
  pong: true;
  pid: number;
}

export interface CancelParams {
  id: RequestId;
}

// ---- evaluation (DESIGN.md, "Workspace artifacts": .codistill/runs/<run-id>/eval/<benchmark>/)

export type EvalBackend = "transformers" | "vllm";
export type EvalBackendChoice = "auto" | EvalBackend;
export type EvalPhase = "generate" | "execute";

export const EVAL_BACKENDS: readonly EvalBackend[] = ["transformers", "vllm"];
export const EVAL_BACKEND_CHOICES: readonly EvalBackendChoice[] = ["auto", ...EVAL_BACKENDS];
export const EVAL_PHASES: readonly EvalPhase[] = ["generate", "execute"];
/** How one sample per task is chosen after eval/generate: "consensus" by `codistill eval select` (src/core/evaluation/select.ts). */
export type EvalSelect = "none" | "consensus";
export const EVAL_SELECTS: readonly EvalSelect[] = ["none", "consensus"];

/** Writes <outDir>/samples.jsonl (EvalPlus samples, appended as they are made) and generation.json. */
export interface EvalGenerateParams {
  /** Local Hugging Face model folder. */
  model: string;
  /** PEFT LoRA adapter folder applied on top of `model`. */
  adapter?: string | null;
  /** Normalized Task JSONL. */
  tasksPath: string;
  /** Created when missing; .codistill/runs/<run-id>/eval/<benchmark>. */
  outDir: string;
  /** Samples per task; must be 1 when temperature is 0 (greedy). */
  n: number;
  /** 0 = greedy decoding. */
  temperature: number;
  /** In (0, 1]; default 0.95. */
  topP?: number;
  /** Default 512. */
  maxNewTokens?: number;
  /** Prompts per generate call (transformers also decodes at most this many sequences at once); default 8. */
  batchSize?: number;
  /** Default "auto": vLLM when it is installed and CUDA is available, else transformers. */
  backend?: EvalBackendChoice;
  /** Only the first `limit` tasks. */
  limit?: number;
  /** Default 0. */
  seed?: number;
  /** Default "none"; "consensus" (n >= 2) is recorded in generation.json for `codistill eval select` to choose one sample per task. */
  select?: EvalSelect;
}

export interface EvalGenerateResult {
  samplesPath: string;
  samples: number;
  tasks: number;
  backend: EvalBackend;
  wallS: number;
}

/** Writes <outDir>/results.json (EvalPlus-compatible superset). */
export interface EvalExecuteParams {
  tasksPath: string;
  samplesPath: string;
  outDir: string;
  /** Parallel sandboxes; default 2. */
  workers?: number;
  /** Seconds per test; default 5. */
  timeoutS?: number;
  /** pass@k values; default [1, 10, 100] (a k is reported when every task has at least k samples). */
  ks?: number[];
  /**
   * Keeps the expected outputs of reference-solution runs (EvalPlus's extra inputs) for later
   * requests; created when missing. Without it every request runs the references again.
   * The extension uses <workspace>/.codistill/cache/expected-outputs.
   */
  cacheDir?: string;
  /** A call test checked against a reference run may take max(minTimeLimitS, timeLimitFactor × the reference's time on that input); > 0, default 4 (EvalPlus's). */
  timeLimitFactor?: number;
  /** Seconds; > 0, default 1 (EvalPlus's). */
  minTimeLimitS?: number;
  /** Also run MBPP's challenge_test_list after its test_list; default false. */
  challengeTests?: boolean;
  /** Refuse to run when the sandbox's isolation is below this level; default "none". */
  minIsolation?: IsolationLevel;
}

/** `sandbox/status` (no params): what keeps samples in on this machine, as the sandbox itself reports it. */
export interface SandboxStatusResult {
  /** e.g. "landlock-v7+userns+netns+pidns", or "rlimits-only". */
  isolation: string;
  level: IsolationLevel;
  /** Why it is not more: what the kernel refused ("unshare: Operation not permitted"). */
  problems: string[];
}

/** full: Landlock, network and PID namespaces; partial: some of them; none: resource limits only. */
export type IsolationLevel = "none" | "partial" | "full";
export const ISOLATION_LEVELS: readonly IsolationLevel[] = ["none", "partial", "full"];

export interface EvalExecuteSummary {
  samples: number;
  tasks: number;
  /** Status -> count: passed, failed, timeout, error, oom, needs_judge. */
  statuses: Record<string, number>;
  /** "pass@1" -> value in [0, 1]. */
  passAtK: Record<string, number>;
  wallS: number;
  /** What kept the samples in: "landlock-v7+userns+netns+pidns", or "rlimits-only" when the kernel allows nothing more. */
  isolation: string;
}

export interface EvalExecuteResult {
  resultsPath: string;
  summary: EvalExecuteSummary;
}

/** Notification `eval/progress`, sent while an eval/generate or eval/execute request runs. */
export interface EvalProgressParams {
  /** The id of the eval/generate or eval/execute request it reports on. */
  requestId: RequestId;
  phase: EvalPhase;
  done: number;
  total: number;
  message?: string;
}

// ---- training (DESIGN.md, "Workspace artifacts": .codistill/runs/<run-id>/) -----------------
// A run goes on in the sidecar after train/start (or train/resume) answers; train/progress,
// train/checkpoint and then train/finished or train/failed report it, each naming its runId
// (the run folder's name). One run at a time: a second start answers TrainingRunActive.
// Cancelling a train/start that has not answered starts nothing; once answered, train/stop is
// how a run ends (cancelling a train/stop cancels only its wait, the stop still happens).

export type TrainDevice = "cuda" | "cpu";
/** How a run ended, as train/stop reports it. */
export type TrainEndState = "stopped" | "finished" | "failed";
/** train/failed: out of GPU memory; no usable device; an input the run cannot use; anything else (see the sidecar's log). */
export type TrainFailureKind = "out-of-memory" | "device" | "input" | "internal";

export const TRAIN_DEVICES: readonly TrainDevice[] = ["cuda", "cpu"];
export const TRAIN_END_STATES: readonly TrainEndState[] = ["stopped", "finished", "failed"];
export const TRAIN_FAILURE_KINDS: readonly TrainFailureKind[] = ["out-of-memory", "device", "input", "internal"];
/** Keys every train/progress metrics object has (null where a value does not apply). */
export const TRAIN_METRIC_KEYS = [
  "loss",
  "ce",
  "l_struct",
  "alpha",
  "beta",
  "lr",
  "grad_norm",
  "tokens_per_s",
  "samples_per_s",
  "gpu_mem_allocated",
  "gpu_mem_peak",
  "eta_s",
] as const;
export type TrainMetricKey = (typeof TRAIN_METRIC_KEYS)[number];

/** The workspace's git state for manifest.json, as src/core/runs/gitInfo.ts reads it with simple-git. */
export interface TrainGitInfo {
  commit: string;
  dirty: boolean;
  branch?: string | null;
  changed?: string[];
}

/**
 * The run config as the sidecar's training/config.py reads run.yaml: snake_case keys (student,
 * encoder, tasks, cots, lora, lr, epochs, batch_size, grad_accum, max_length, curriculum, ...).
 * The sidecar checks it; a problem is answered InvalidParams naming `params.config.<field>`.
 */
export type TrainRunConfig = Record<string, unknown>;

export interface TrainStartParams {
  /** Paths absolute, or relative to `workspace`. */
  config: TrainRunConfig;
  /** The run folder; default config.output_dir, else <workspace>/.codistill/runs/<yyyymmdd-hhmmss>-<student>-r<rank>. */
  runDir?: string;
  workspace?: string;
  git?: TrainGitInfo | null;
  /** Training processes (DDP), default 1 (in the sidecar); more run under torchrun: one per GPU on CUDA, gloo on CPUs. */
  processes?: number;
}

export interface TrainStartResult {
  /** The run folder's name. */
  runId: string;
  runDir: string;
  device: TrainDevice;
  /** e.g. training on the CPU because there is no GPU: practical for small models only. */
  warnings: string[];
}

/** Names the run by runDir, or by runId (under workspace, or a run this sidecar started). */
export interface TrainResumeParams {
  runDir?: string;
  runId?: string;
  workspace?: string;
  /** step-<n> or a checkpoint path; default the latest. */
  checkpoint?: string;
  git?: TrainGitInfo | null;
  /** Default: as many as wrote the checkpoint; an exact resume needs that number (else InvalidParams naming params.processes). */
  processes?: number;
}

export interface TrainResumeResult extends TrainStartResult {
  checkpoint: string;
  /** The step it carries on from. */
  step: number;
}

export interface TrainStopParams {
  runId: string;
}

/** Answered once the run has ended (after its train/finished or train/failed). */
export interface TrainStopResult {
  runId: string;
  /** True when the run stopped before its last step, with a checkpoint to resume from. */
  stopped: boolean;
  state: TrainEndState;
  step: number;
  checkpoint: string | null;
}

/** train/status takes no parameters. */
export type TrainStatusParams = Record<string, never> | undefined;

/** The run this sidecar is training now. */
export interface TrainStatusRun {
  runId: string;
  runDir: string;
  /** The last step logged or checkpointed (a resume's checkpoint step until its first). */
  step: number;
  /** null until the run has logged a step. */
  totalSteps: number | null;
  processes: number;
}

export interface TrainStatusResult {
  /** null when no run is going on. */
  active: TrainStatusRun | null;
}

/** Every TRAIN_METRIC_KEYS key, plus eval_loss / eval_ce / eval_l_struct and the structural loss's extra keys (cos, ...). */
export type TrainMetrics = Record<TrainMetricKey, number | null> & Record<string, number | null>;

/** Notification `train/progress`: one per step the run logs (log_every), as metrics.jsonl has it. */
export interface TrainProgressParams {
  runId: string;
  step: number;
  totalSteps: number;
  epoch: number;
  metrics: TrainMetrics;
  /** Metrics that were NaN or infinite, sent as null. */
  nonFinite?: string[];
}

/** Notification `train/checkpoint`: a whole checkpoint was written. */
export interface TrainCheckpointParams {
  runId: string;
  step: number;
  path: string;
}

/** Notification `train/finished`: the run reached its last step, or stopped (train/stop, sidecar exit). */
export interface TrainFinishedParams {
  runId: string;
  runDir: string;
  step: number;
  totalSteps: number;
  /** Ended early: train/resume carries on from `checkpoint`. */
  stopped: boolean;
  /** <run>/adapter; null when stopped. */
  adapter: string | null;
  checkpoint: string | null;
  /** The last logged step's metrics ({} when no step ran). */
  metrics: Record<string, number | null>;
  nonFinite?: string[];
}

/** Notification `train/failed`. */
export interface TrainFailedParams {
  runId: string;
  kind: TrainFailureKind;
  message: string;
  /** The run config's dotted field it is about (kind input or device). */
  field?: string;
  /** Concrete changes to try (out of memory: batch size, gradient checkpointing, QLoRA). */
  suggestions?: string[];
  step?: number;
  /** The latest whole checkpoint, to resume from once the cause is fixed. */
  checkpoint?: string | null;
}

// ---- encoder export (DESIGN.md, "Sidecar protocol": encoder/export) ---------------------------

/** What the exported encoder's weights may be quantized to; null or absent: float32. */
export type EncoderQuantization = "int8";
export const ENCODER_QUANTIZATIONS: readonly EncoderQuantization[] = ["int8"];

/**
 * The encoder of L_struct (CodeBERT, or any local Hugging Face encoder folder) as ONNX for the
 * editor (src/core/inference/encoder.ts): outDir gets model.onnx, tokenizer.json,
 * tokenizer_config.json, config.json and export.json; created when missing.
 */
export interface EncoderExportParams {
  /** Local Hugging Face encoder folder (config.json, weights, tokenizer). */
  path: string;
  outDir: string;
  /** onnxruntime's dynamic int8 quantization of the weights; default null (float32). */
  quantize?: EncoderQuantization | null;
  /** ONNX opset; default 17. */
  opset?: number;
}

export interface EncoderExportResult {
  outDir: string;
  modelPath: string;
  quantized: boolean;
  /** onnxruntime against PyTorch (float32, eval mode) on sample code: the largest absolute difference of last_hidden_state. */
  maxAbsDiff: number;
  /** The lowest cosine between the two mean-pooled embeddings of a sample. */
  minCosine: number;
  hiddenSize: number;
  /** Tokens the encoder reads at once (RoBERTa: max_position_embeddings - 2). */
  maxPositions: number;
  /** The names of the files written to outDir. */
  files: string[];
  wallS: number;
}

// ---- student export (DESIGN.md, "Sidecar protocol": export/onnx) ---------------------------

export type DecoderDtype = "fp32" | "fp16";
export type DecoderQuantization = "int8" | "int4";
export const DECODER_DTYPES: readonly DecoderDtype[] = ["fp32", "fp16"];
export const DECODER_QUANTIZATIONS: readonly DecoderQuantization[] = ["int8", "int4"];

/**
 * The student (a causal LM, its LoRA adapter merged in) as an ONNX decoder with a key/value cache
 * for the editor (sidecar export/decoder.py; the same as `python -m codistill export onnx`):
 * model.onnx, the tokenizer files, config.json, generation_config.json and export.json (with the
 * editor's prompt format, "prompt"). Validated against PyTorch before it is kept.
 */
export interface ExportOnnxParams {
  /** Local Hugging Face folder of the base causal LM. */
  model: string;
  /** Required without runDir; default with it: <runDir>/onnx. */
  outDir?: string | null;
  /** PEFT LoRA adapter folder to merge (not with runDir). */
  adapter?: string | null;
  /** A training run folder: its adapter/ is merged. */
  runDir?: string | null;
  /** Default "fp32". */
  dtype?: DecoderDtype;
  /** Weight quantization of an fp32 export; default null (none). */
  quantize?: DecoderQuantization | null;
  /** ONNX opset, 14 to 20; default 17. */
  opset?: number;
}

export interface ExportOnnxResult {
  outDir: string;
  modelPath: string;
  dtype: DecoderDtype;
  quantize: DecoderQuantization | null;
  /** The adapter merged; null without one. */
  adapter: string | null;
  /** onnxruntime against float32 PyTorch: the largest absolute difference of the logits, and the tolerance it was held to. */
  maxAbsDiff: number;
  tolerance: number;
  numLayers: number;
  /** The names of the files written to outDir. */
  files: string[];
  wallS: number;
}

// ---- generation on the sidecar's device (DESIGN.md, "Sidecar protocol": generate/start) --------
// The answer to generate/start comes once the model is loaded and decoding has started; then
// generate/token notifications stream the text, and generate/finished ends it. One generation
// at a time (a second start answers GenerationActive); generate/cancel stops it between tokens.

/** "code": a signature/docstring/selection the answer continues; "prose": a comment's words. */
export type GeneratePromptKind = "code" | "prose";
export type GenerateDeviceChoice = "auto" | "cuda" | "cpu";
export type GenerateDevice = "cuda" | "cpu";
export type GenerateFormat = "completion" | "chat";
/** End-of-sequence token, a stop sequence, maxNewTokens, generate/cancel (or sidecar exit), an error. */
export type GenerateFinishReason = "eos" | "stop" | "length" | "cancelled" | "failed";

export const GENERATE_PROMPT_KINDS: readonly GeneratePromptKind[] = ["code", "prose"];
export const GENERATE_DEVICE_CHOICES: readonly GenerateDeviceChoice[] = ["auto", "cuda", "cpu"];
export const GENERATE_DEVICES: readonly GenerateDevice[] = ["cuda", "cpu"];
export const GENERATE_FORMATS: readonly GenerateFormat[] = ["completion", "chat"];
export const GENERATE_FINISH_REASONS: readonly GenerateFinishReason[] = ["eos", "stop", "length", "cancelled", "failed"];

export interface GenerateStartParams {
  /** Local Hugging Face folder of the base causal LM. */
  model: string;
  /** PEFT LoRA adapter folder, loaded unmerged on top of the base. */
  adapter?: string | null;
  /** Rendered by evaluation's prompt builder (the chat template when the tokenizer has one). */
  prompt: { kind: GeneratePromptKind; text: string };
  /** Default 256. */
  maxNewTokens?: number;
  /** 0 or absent: greedy. */
  temperature?: number;
  /** In (0, 1]; default 1 (no nucleus cut). */
  topP?: number;
  /** Seeds the sampler; default 0. */
  seed?: number;
  /** Extra stop sequences, added to the prompt format's own. */
  stop?: string[];
  /** Default "auto": cuda when torch sees a GPU. */
  device?: GenerateDeviceChoice;
}

export interface GenerateStartResult {
  generationId: string;
  promptTokens: number;
  device: GenerateDevice;
  format: GenerateFormat;
}

export interface GenerateCancelParams {
  generationId: string;
}

/** cancelled: false when the generation is unknown or had ended already; true once it has ended (its generate/finished sent). */
export interface GenerateCancelResult {
  cancelled: boolean;
}

/** Notification `generate/token`: new tokens (at most one notification per ~50 ms) and the text they settle. */
export interface GenerateTokenParams {
  generationId: string;
  tokenIds: number[];
  /** The new text; a partial character or a possible stop sequence's start is held back until settled. */
  text: string;
}

/** Notification `generate/finished`: the pieces of generate/token add up to text and tokenIds. */
export interface GenerateFinishedParams {
  generationId: string;
  reason: GenerateFinishReason;
  /** The whole text generated after the prompt, cut before a stop sequence. */
  text: string;
  /** The new token ids, up to the one that completed a stop sequence; no end-of-sequence id (as the ONNX decoder's GenerationResult). */
  tokenIds: number[];
  promptTokens: number;
  newTokens: number;
  /** From the start of decoding (the prompt's forward pass) to the first token chosen; 0 when none was. */
  firstTokenMs: number;
  /** newTokens over the seconds of decoding. */
  tokensPerS: number;
  /** reason "failed": what went wrong. */
  error?: string;
}

/** Request method -> [params, result]. The client's `request` is typed by this map. */
export interface MethodMap {
  initialize: [InitializeParams, InitializeResult];
  "health/ping": [PingParams, PingResult];
  shutdown: [undefined, null];
  "eval/generate": [EvalGenerateParams, EvalGenerateResult];
  "eval/execute": [EvalExecuteParams, EvalExecuteResult];
  "train/start": [TrainStartParams, TrainStartResult];
  "train/resume": [TrainResumeParams, TrainResumeResult];
  "train/stop": [TrainStopParams, TrainStopResult];
  "train/status": [TrainStatusParams, TrainStatusResult];
  "sandbox/status": [undefined, SandboxStatusResult];
  "encoder/export": [EncoderExportParams, EncoderExportResult];
  "export/onnx": [ExportOnnxParams, ExportOnnxResult];
  "generate/start": [GenerateStartParams, GenerateStartResult];
  "generate/cancel": [GenerateCancelParams, GenerateCancelResult];
}

export type MethodName = keyof MethodMap;

/** Notification method (sidecar -> extension) -> params. */
export interface NotificationMap {
  "eval/progress": EvalProgressParams;
  "train/progress": TrainProgressParams;
  "train/checkpoint": TrainCheckpointParams;
  "train/finished": TrainFinishedParams;
  "train/failed": TrainFailedParams;
  "generate/token": GenerateTokenParams;
  "generate/finished": GenerateFinishedParams;
}

export type NotificationName = keyof NotificationMap;

/** A notification from the sidecar, its params typed by its method (see isSidecarNotification). */
export type SidecarNotification = { [N in NotificationName]: { jsonrpc: "2.0"; method: N; params: NotificationMap[N] } }[NotificationName];

// ---- validation ------------------------------------------------------------
// Validators return problems as "path: what was expected", empty when valid, so an
// error can name the exact field that was wrong.

type Problems = string[];

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const isInteger = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v);

export const isRequestId = (v: unknown): v is RequestId => typeof v === "string" || isInteger(v);

/** Whether `key` is one of `table`'s own keys (never an Object.prototype member such as "toString"). */
function isKeyOf<T extends object>(table: T, key: string): key is Extract<keyof T, string> {
  return Object.hasOwn(table, key);
}

function expectString(value: unknown, path: string, problems: Problems, optional = false): void {
  if (value === undefined && optional) return;
  if (typeof value !== "string") problems.push(`${path}: expected a string`);
}

function expectNullableString(value: unknown, path: string, problems: Problems): void {
  if (value !== null && typeof value !== "string") problems.push(`${path}: expected a string or null`);
}

function expectNonNegativeInteger(value: unknown, path: string, problems: Problems): void {
  if (!isInteger(value) || value < 0) problems.push(`${path}: expected a non-negative integer`);
}

function expectNonEmptyString(value: unknown, path: string, problems: Problems): void {
  if (typeof value !== "string" || value.length === 0) problems.push(`${path}: expected a non-empty string`);
}

function expectPositiveInteger(value: unknown, path: string, problems: Problems): void {
  if (!isInteger(value) || value < 1) problems.push(`${path}: expected a positive integer`);
}

const isFiniteNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

function expectNonNegativeNumber(value: unknown, path: string, problems: Problems): void {
  if (!isFiniteNumber(value) || value < 0) problems.push(`${path}: expected a non-negative number`);
}

function expectPositiveNumber(value: unknown, path: string, problems: Problems): void {
  if (!isFiniteNumber(value) || value <= 0) problems.push(`${path}: expected a positive number`);
}

function expectOneOf(value: unknown, choices: readonly string[], path: string, problems: Problems): void {
  if (typeof value !== "string" || !choices.includes(value)) {
    problems.push(`${path}: expected one of ${choices.map((c) => `"${c}"`).join(", ")}`);
  }
}

/** Checks an optional member: absent (undefined) is fine, anything else goes to `check`. */
function optional(value: unknown, check: (v: unknown) => void): void {
  if (value !== undefined) check(value);
}

/** An object used as a dictionary: any keys, each value checked by `check(value, path)`. */
function expectMapOf(value: unknown, path: string, problems: Problems, check: (v: unknown, p: string) => void): void {
  if (!expectObject(value, path, problems)) return;
  for (const [key, entry] of Object.entries(value)) check(entry, `${path}.${key}`);
}

function expectObject(value: unknown, path: string, problems: Problems): value is Record<string, unknown> {
  if (isObject(value)) return true;
  problems.push(`${path}: expected an object`);
  return false;
}

/**
 * Validates a part of a message that must be an object: anything else is one problem at `path`;
 * an object goes to `check`, which pushes the problems of its fields.
 */
function objectAt(path: string, check: (value: Record<string, unknown>, problems: Problems) => void): (value: unknown) => Problems {
  return (value) => {
    const problems: Problems = [];
    if (expectObject(value, path, problems)) check(value, problems);
    return problems;
  };
}

function expectBoolean(value: unknown, path: string, problems: Problems): void {
  if (typeof value !== "boolean") problems.push(`${path}: expected a boolean`);
}

function expectNullableNonEmptyString(value: unknown, path: string, problems: Problems): void {
  if (value !== null && (typeof value !== "string" || value.length === 0)) problems.push(`${path}: expected a non-empty string or null`);
}

function expectNumberOrNull(value: unknown, path: string, problems: Problems): void {
  if (value !== null && !isFiniteNumber(value)) problems.push(`${path}: expected a number or null`);
}

function expectStringArray(value: unknown, path: string, problems: Problems): void {
  if (!Array.isArray(value)) problems.push(`${path}: expected an array`);
  else value.forEach((item, i) => expectString(item, `${path}[${i}]`, problems));
}

function expectTokenIds(value: unknown, path: string, problems: Problems): void {
  if (!Array.isArray(value)) problems.push(`${path}: expected an array`);
  else value.forEach((id, i) => expectNonNegativeInteger(id, `${path}[${i}]`, problems));
}

function expectGitInfo(value: unknown, path: string, problems: Problems): void {
  if (value === null || !expectObject(value, path, problems)) return;
  expectString(value.commit, `${path}.commit`, problems);
  expectBoolean(value.dirty, `${path}.dirty`, problems);
  optional(value.branch, (v) => expectNullableString(v, `${path}.branch`, problems));
  optional(value.changed, (v) => expectStringArray(v, `${path}.changed`, problems));
}

function expectTrainRun(result: Record<string, unknown>, problems: Problems): void {
  expectNonEmptyString(result.runId, "result.runId", problems);
  expectNonEmptyString(result.runDir, "result.runDir", problems);
  expectOneOf(result.device, TRAIN_DEVICES, "result.device", problems);
  expectStringArray(result.warnings, "result.warnings", problems);
}

/** Metrics: numbers or null; `required` keys must be present. */
function expectMetrics(value: unknown, path: string, problems: Problems, required: readonly string[]): void {
  if (!expectObject(value, path, problems)) return;
  for (const key of required) if (!(key in value)) problems.push(`${path}.${key}: expected a number or null`);
  for (const [key, entry] of Object.entries(value)) expectNumberOrNull(entry, `${path}.${key}`, problems);
}

export function validateEnvelopeToServer(msg: unknown): Problems {
  const problems: Problems = [];
  if (!expectObject(msg, "message", problems)) return problems;
  if (msg.jsonrpc !== "2.0") problems.push('jsonrpc: expected "2.0"');
  if ("id" in msg && !isRequestId(msg.id)) problems.push("id: expected a string or an integer");
  if (typeof msg.method !== "string" || msg.method.length === 0) problems.push("method: expected a non-empty string");
  if ("params" in msg && msg.params !== undefined && typeof msg.params !== "object") {
    problems.push("params: expected an object or an array");
  } else if (msg.params === null) {
    problems.push("params: expected an object or an array");
  }
  return problems;
}

const paramValidators: { [M in MethodName | "$/cancelRequest"]: (params: unknown) => Problems } = {
  initialize: objectAt("params", (params, problems) => {
    expectString(params.protocolVersion, "params.protocolVersion", problems);
    expectString(params.clientName, "params.clientName", problems, true);
    expectString(params.clientVersion, "params.clientVersion", problems, true);
  }),
  "health/ping"(params) {
    const problems: Problems = [];
    if (params === undefined) return problems;
    if (!expectObject(params, "params", problems)) return problems;
    const delay = params.delayMs;
    if (delay !== undefined && (typeof delay !== "number" || !Number.isFinite(delay) || delay < 0)) {
      problems.push("params.delayMs: expected a non-negative number");
    }
    return problems;
  },
  shutdown(params) {
    if (params === undefined || (isObject(params) && Object.keys(params).length === 0)) return [];
    return ["params: shutdown takes no parameters"];
  },
  "$/cancelRequest": objectAt("params", (params, problems) => {
    if (!isRequestId(params.id)) problems.push("params.id: expected a string or an integer");
  }),
  "eval/generate": objectAt("params", (params, problems) => {
    for (const key of ["model", "tasksPath", "outDir"]) expectNonEmptyString(params[key], `params.${key}`, problems);
    expectPositiveInteger(params.n, "params.n", problems);
    expectNonNegativeNumber(params.temperature, "params.temperature", problems);
    if (params.adapter !== undefined && params.adapter !== null) expectNonEmptyString(params.adapter, "params.adapter", problems);
    optional(params.topP, (v) => {
      // top-p 0 would keep no token at all, so the range is open at 0.
      if (!isFiniteNumber(v) || v <= 0 || v > 1) problems.push("params.topP: expected a number in (0, 1]");
    });
    for (const key of ["maxNewTokens", "batchSize", "limit"]) optional(params[key], (v) => expectPositiveInteger(v, `params.${key}`, problems));
    optional(params.backend, (v) => expectOneOf(v, EVAL_BACKEND_CHOICES, "params.backend", problems));
    optional(params.seed, (v) => expectNonNegativeInteger(v, "params.seed", problems));
    optional(params.select, (v) => expectOneOf(v, EVAL_SELECTS, "params.select", problems));
    if (params.select === "consensus" && Number.isInteger(params.n) && (params.n as number) < 2) {
      problems.push(`params.select: "consensus" chooses one of several samples per task, so it needs n >= 2, got n = ${params.n as number}`);
    }
  }),
  "eval/execute": objectAt("params", (params, problems) => {
    for (const key of ["tasksPath", "samplesPath", "outDir"]) expectNonEmptyString(params[key], `params.${key}`, problems);
    optional(params.workers, (v) => expectPositiveInteger(v, "params.workers", problems));
    for (const key of ["timeoutS", "timeLimitFactor", "minTimeLimitS"]) optional(params[key], (v) => expectPositiveNumber(v, `params.${key}`, problems));
    optional(params.cacheDir, (v) => expectNonEmptyString(v, "params.cacheDir", problems));
    optional(params.challengeTests, (v) => expectBoolean(v, "params.challengeTests", problems));
    optional(params.minIsolation, (v) => expectOneOf(v, ISOLATION_LEVELS, "params.minIsolation", problems));
    optional(params.ks, (v) => {
      if (!Array.isArray(v)) problems.push("params.ks: expected an array");
      else v.forEach((k, i) => expectPositiveInteger(k, `params.ks[${i}]`, problems));
    });
  }),
  "train/start": objectAt("params", (params, problems) => {
    expectObject(params.config, "params.config", problems);
    for (const key of ["runDir", "workspace"]) optional(params[key], (v) => expectNonEmptyString(v, `params.${key}`, problems));
    optional(params.git, (v) => expectGitInfo(v, "params.git", problems));
    optional(params.processes, (v) => expectPositiveInteger(v, "params.processes", problems));
  }),
  "train/resume": objectAt("params", (params, problems) => {
    for (const key of ["runDir", "runId", "workspace", "checkpoint"]) optional(params[key], (v) => expectNonEmptyString(v, `params.${key}`, problems));
    optional(params.git, (v) => expectGitInfo(v, "params.git", problems));
    optional(params.processes, (v) => expectPositiveInteger(v, "params.processes", problems));
    if (!problems.length && params.runDir === undefined && params.runId === undefined) {
      problems.push("params.runDir: expected a non-empty string (or params.runId of the run)");
    }
  }),
  "train/stop": objectAt("params", (params, problems) => {
    expectNonEmptyString(params.runId, "params.runId", problems);
  }),
  "train/status"(params) {
    if (params === undefined || (isObject(params) && Object.keys(params).length === 0)) return [];
    return ["params: train/status takes no parameters"];
  },
  "sandbox/status"(params) {
    if (params === undefined || (isObject(params) && Object.keys(params).length === 0)) return [];
    return ["params: sandbox/status takes no parameters"];
  },
  "encoder/export": objectAt("params", (params, problems) => {
    for (const key of ["path", "outDir"]) expectNonEmptyString(params[key], `params.${key}`, problems);
    optional(params.quantize, (v) => {
      if (v !== null && !(typeof v === "string" && (ENCODER_QUANTIZATIONS as readonly string[]).includes(v))) {
        problems.push(`params.quantize: expected one of ${ENCODER_QUANTIZATIONS.map((q) => `"${q}"`).join(", ")} or null`);
      }
    });
    optional(params.opset, (v) => expectPositiveInteger(v, "params.opset", problems));
  }),
  "export/onnx": objectAt("params", (params, problems) => {
    expectNonEmptyString(params.model, "params.model", problems);
    for (const key of ["outDir", "adapter", "runDir"]) optional(params[key], (v) => expectNullableNonEmptyString(v, `params.${key}`, problems));
    optional(params.dtype, (v) => expectOneOf(v, DECODER_DTYPES, "params.dtype", problems));
    optional(params.quantize, (v) => {
      if (v !== null) expectOneOf(v, DECODER_QUANTIZATIONS, "params.quantize", problems);
    });
    optional(params.opset, (v) => expectPositiveInteger(v, "params.opset", problems));
  }),
  "generate/start": objectAt("params", (params, problems) => {
    expectNonEmptyString(params.model, "params.model", problems);
    optional(params.adapter, (v) => expectNullableNonEmptyString(v, "params.adapter", problems));
    if (expectObject(params.prompt, "params.prompt", problems)) {
      expectOneOf(params.prompt.kind, GENERATE_PROMPT_KINDS, "params.prompt.kind", problems);
      expectString(params.prompt.text, "params.prompt.text", problems);
    }
    optional(params.maxNewTokens, (v) => expectPositiveInteger(v, "params.maxNewTokens", problems));
    optional(params.temperature, (v) => expectNonNegativeNumber(v, "params.temperature", problems));
    optional(params.topP, (v) => {
      if (!isFiniteNumber(v) || v <= 0 || v > 1) problems.push("params.topP: expected a number in (0, 1]");
    });
    optional(params.seed, (v) => expectNonNegativeInteger(v, "params.seed", problems));
    optional(params.stop, (v) => {
      if (!Array.isArray(v)) problems.push("params.stop: expected an array");
      else v.forEach((s, i) => expectNonEmptyString(s, `params.stop[${i}]`, problems));
    });
    optional(params.device, (v) => expectOneOf(v, GENERATE_DEVICE_CHOICES, "params.device", problems));
  }),
  "generate/cancel": objectAt("params", (params, problems) => {
    expectNonEmptyString(params.generationId, "params.generationId", problems);
  }),
};

export function validateParams(method: string, params: unknown): Problems {
  return isKeyOf(paramValidators, method) ? paramValidators[method](params) : [];
}

function validateGpu(gpu: unknown, path: string, problems: Problems): void {
  if (!expectObject(gpu, path, problems)) return;
  expectNonNegativeInteger(gpu.index, `${path}.index`, problems);
  expectString(gpu.name, `${path}.name`, problems);
  expectNonNegativeInteger(gpu.totalMemory, `${path}.totalMemory`, problems);
  expectNonNegativeInteger(gpu.freeMemory, `${path}.freeMemory`, problems);
}

function validateDevices(devices: unknown, path: string, problems: Problems): void {
  if (!expectObject(devices, path, problems)) return;
  if (typeof devices.cuda !== "boolean") problems.push(`${path}.cuda: expected a boolean`);
  expectNullableString(devices.cudaVersion, `${path}.cudaVersion`, problems);
  expectNullableString(devices.error, `${path}.error`, problems);
  if (!Array.isArray(devices.gpus)) {
    problems.push(`${path}.gpus: expected an array`);
    return;
  }
  devices.gpus.forEach((gpu, i) => validateGpu(gpu, `${path}.gpus[${i}]`, problems));
}

const resultValidators: { [M in MethodName]: (result: unknown) => Problems } = {
  initialize: objectAt("result", (result, problems) => {
    expectString(result.protocolVersion, "result.protocolVersion", problems);
    expectString(result.serverVersion, "result.serverVersion", problems);
    expectNonNegativeInteger(result.pid, "result.pid", problems);
    if (expectObject(result.python, "result.python", problems)) {
      expectString(result.python.version, "result.python.version", problems);
      expectString(result.python.executable, "result.python.executable", problems);
    }
    if (expectObject(result.packages, "result.packages", problems)) {
      for (const name of ["torch", "transformers", "peft"]) {
        if (!(name in result.packages)) problems.push(`result.packages.${name}: missing`);
        else expectNullableString(result.packages[name], `result.packages.${name}`, problems);
      }
    }
    if (!Array.isArray(result.missing) || !result.missing.every((m) => typeof m === "string")) {
      problems.push("result.missing: expected an array of strings");
    }
    validateDevices(result.devices, "result.devices", problems);
  }),
  "health/ping": objectAt("result", (result, problems) => {
    if (result.pong !== true) problems.push("result.pong: expected true");
    expectNonNegativeInteger(result.pid, "result.pid", problems);
  }),
  shutdown(result) {
    return result === null ? [] : ["result: expected null"];
  },
  "eval/generate": objectAt("result", (result, problems) => {
    expectString(result.samplesPath, "result.samplesPath", problems);
    expectNonNegativeInteger(result.samples, "result.samples", problems);
    expectNonNegativeInteger(result.tasks, "result.tasks", problems);
    expectOneOf(result.backend, EVAL_BACKENDS, "result.backend", problems);
    expectNonNegativeNumber(result.wallS, "result.wallS", problems);
  }),
  "eval/execute": objectAt("result", (result, problems) => {
    expectString(result.resultsPath, "result.resultsPath", problems);
    const summary = result.summary;
    if (!expectObject(summary, "result.summary", problems)) return;
    expectNonNegativeInteger(summary.samples, "result.summary.samples", problems);
    expectNonNegativeInteger(summary.tasks, "result.summary.tasks", problems);
    expectMapOf(summary.statuses, "result.summary.statuses", problems, (v, p) => expectNonNegativeInteger(v, p, problems));
    expectMapOf(summary.passAtK, "result.summary.passAtK", problems, (v, p) => {
      if (!isFiniteNumber(v) || v < 0 || v > 1) problems.push(`${p}: expected a number in [0, 1]`);
    });
    expectNonNegativeNumber(summary.wallS, "result.summary.wallS", problems);
    expectNonEmptyString(summary.isolation, "result.summary.isolation", problems);
  }),
  "train/start": objectAt("result", expectTrainRun),
  "train/resume": objectAt("result", (result, problems) => {
    expectTrainRun(result, problems);
    expectNonEmptyString(result.checkpoint, "result.checkpoint", problems);
    expectNonNegativeInteger(result.step, "result.step", problems);
  }),
  "train/stop": objectAt("result", (result, problems) => {
    expectNonEmptyString(result.runId, "result.runId", problems);
    expectBoolean(result.stopped, "result.stopped", problems);
    expectOneOf(result.state, TRAIN_END_STATES, "result.state", problems);
    expectNonNegativeInteger(result.step, "result.step", problems);
    expectNullableNonEmptyString(result.checkpoint, "result.checkpoint", problems);
  }),
  "sandbox/status": objectAt("result", (result, problems) => {
    expectNonEmptyString(result.isolation, "result.isolation", problems);
    expectOneOf(result.level, ISOLATION_LEVELS, "result.level", problems);
    if (!Array.isArray(result.problems)) problems.push("result.problems: expected an array");
    else result.problems.forEach((p, i) => expectString(p, `result.problems[${i}]`, problems));
  }),
  "encoder/export": objectAt("result", (result, problems) => {
    for (const key of ["outDir", "modelPath"]) expectNonEmptyString(result[key], `result.${key}`, problems);
    expectBoolean(result.quantized, "result.quantized", problems);
    expectNonNegativeNumber(result.maxAbsDiff, "result.maxAbsDiff", problems);
    if (!isFiniteNumber(result.minCosine)) problems.push("result.minCosine: expected a number");
    expectPositiveInteger(result.hiddenSize, "result.hiddenSize", problems);
    expectPositiveInteger(result.maxPositions, "result.maxPositions", problems);
    if (!Array.isArray(result.files)) problems.push("result.files: expected an array");
    else result.files.forEach((f, i) => expectNonEmptyString(f, `result.files[${i}]`, problems));
    expectNonNegativeNumber(result.wallS, "result.wallS", problems);
  }),
  "train/status": objectAt("result", (result, problems) => {
    if (!("active" in result)) {
      problems.push("result.active: missing");
      return;
    }
    const active = result.active;
    if (active === null || !expectObject(active, "result.active", problems)) return;
    expectNonEmptyString(active.runId, "result.active.runId", problems);
    expectNonEmptyString(active.runDir, "result.active.runDir", problems);
    expectNonNegativeInteger(active.step, "result.active.step", problems);
    if (active.totalSteps !== null) expectPositiveInteger(active.totalSteps, "result.active.totalSteps", problems);
    expectPositiveInteger(active.processes, "result.active.processes", problems);
  }),
  "export/onnx": objectAt("result", (result, problems) => {
    for (const key of ["outDir", "modelPath"]) expectNonEmptyString(result[key], `result.${key}`, problems);
    expectOneOf(result.dtype, DECODER_DTYPES, "result.dtype", problems);
    if (result.quantize !== null) expectOneOf(result.quantize, DECODER_QUANTIZATIONS, "result.quantize", problems);
    expectNullableNonEmptyString(result.adapter, "result.adapter", problems);
    expectNonNegativeNumber(result.maxAbsDiff, "result.maxAbsDiff", problems);
    expectNonNegativeNumber(result.tolerance, "result.tolerance", problems);
    expectPositiveInteger(result.numLayers, "result.numLayers", problems);
    if (!Array.isArray(result.files)) problems.push("result.files: expected an array");
    else result.files.forEach((f, i) => expectNonEmptyString(f, `result.files[${i}]`, problems));
    expectNonNegativeNumber(result.wallS, "result.wallS", problems);
  }),
  "generate/start": objectAt("result", (result, problems) => {
    expectNonEmptyString(result.generationId, "result.generationId", problems);
    expectNonNegativeInteger(result.promptTokens, "result.promptTokens", problems);
    expectOneOf(result.device, GENERATE_DEVICES, "result.device", problems);
    expectOneOf(result.format, GENERATE_FORMATS, "result.format", problems);
  }),
  "generate/cancel": objectAt("result", (result, problems) => {
    expectBoolean(result.cancelled, "result.cancelled", problems);
  }),
};

export function validateResult(method: string, result: unknown): Problems {
  return isKeyOf(resultValidators, method) ? resultValidators[method](result) : [];
}

/**
 * The one place where a result from the sidecar becomes typed: true when validateResult finds no
 * problem with it, else its problems are pushed onto `problems`.
 */
export function isResultOf<M extends MethodName>(method: M, result: unknown, problems: Problems): result is MethodMap[M][1] {
  const found = resultValidators[method](result);
  problems.push(...found);
  return found.length === 0;
}

export function validateResponse(msg: unknown, method?: string): Problems {
  const problems: Problems = [];
  if (!expectObject(msg, "message", problems)) return problems;
  if (msg.jsonrpc !== "2.0") problems.push('jsonrpc: expected "2.0"');
  if (msg.id !== null && !isRequestId(msg.id)) problems.push("id: expected a string, an integer or null");
  const hasResult = "result" in msg;
  const hasError = "error" in msg;
  if (hasResult === hasError) {
    problems.push("message: expected exactly one of result and error");
    return problems;
  }
  if (hasError) {
    if (expectObject(msg.error, "error", problems)) {
      if (!isInteger(msg.error.code)) problems.push("error.code: expected an integer");
      expectString(msg.error.message, "error.message", problems);
    }
  } else if (method !== undefined) {
    problems.push(...validateResult(method, msg.result));
  }
  return problems;
}

const notificationValidators: { [N in NotificationName]: (params: unknown) => Problems } = {
  "eval/progress": objectAt("params", (params, problems) => {
    if (!isRequestId(params.requestId)) problems.push("params.requestId: expected a string or an integer");
    expectOneOf(params.phase, EVAL_PHASES, "params.phase", problems);
    expectNonNegativeInteger(params.done, "params.done", problems);
    expectNonNegativeInteger(params.total, "params.total", problems);
    expectString(params.message, "params.message", problems, true);
  }),
  "train/progress": objectAt("params", (params, problems) => {
    expectNonEmptyString(params.runId, "params.runId", problems);
    expectNonNegativeInteger(params.step, "params.step", problems);
    expectPositiveInteger(params.totalSteps, "params.totalSteps", problems);
    expectNonNegativeNumber(params.epoch, "params.epoch", problems);
    expectMetrics(params.metrics, "params.metrics", problems, TRAIN_METRIC_KEYS);
    optional(params.nonFinite, (v) => expectStringArray(v, "params.nonFinite", problems));
  }),
  "train/checkpoint": objectAt("params", (params, problems) => {
    expectNonEmptyString(params.runId, "params.runId", problems);
    expectNonNegativeInteger(params.step, "params.step", problems);
    expectNonEmptyString(params.path, "params.path", problems);
  }),
  "train/finished": objectAt("params", (params, problems) => {
    expectNonEmptyString(params.runId, "params.runId", problems);
    expectNonEmptyString(params.runDir, "params.runDir", problems);
    expectNonNegativeInteger(params.step, "params.step", problems);
    expectPositiveInteger(params.totalSteps, "params.totalSteps", problems);
    expectBoolean(params.stopped, "params.stopped", problems);
    expectNullableNonEmptyString(params.adapter, "params.adapter", problems);
    expectNullableNonEmptyString(params.checkpoint, "params.checkpoint", problems);
    expectMetrics(params.metrics, "params.metrics", problems, []);
    optional(params.nonFinite, (v) => expectStringArray(v, "params.nonFinite", problems));
  }),
  "train/failed": objectAt("params", (params, problems) => {
    expectNonEmptyString(params.runId, "params.runId", problems);
    expectOneOf(params.kind, TRAIN_FAILURE_KINDS, "params.kind", problems);
    expectNonEmptyString(params.message, "params.message", problems);
    optional(params.field, (v) => expectNonEmptyString(v, "params.field", problems));
    optional(params.suggestions, (v) => expectStringArray(v, "params.suggestions", problems));
    optional(params.step, (v) => expectNonNegativeInteger(v, "params.step", problems));
    optional(params.checkpoint, (v) => expectNullableNonEmptyString(v, "params.checkpoint", problems));
  }),
  "generate/token": objectAt("params", (params, problems) => {
    expectNonEmptyString(params.generationId, "params.generationId", problems);
    expectTokenIds(params.tokenIds, "params.tokenIds", problems);
    expectString(params.text, "params.text", problems);
  }),
  "generate/finished": objectAt("params", (params, problems) => {
    expectNonEmptyString(params.generationId, "params.generationId", problems);
    expectOneOf(params.reason, GENERATE_FINISH_REASONS, "params.reason", problems);
    expectString(params.text, "params.text", problems);
    expectTokenIds(params.tokenIds, "params.tokenIds", problems);
    expectNonNegativeInteger(params.promptTokens, "params.promptTokens", problems);
    expectNonNegativeInteger(params.newTokens, "params.newTokens", problems);
    expectNonNegativeNumber(params.firstTokenMs, "params.firstTokenMs", problems);
    expectNonNegativeNumber(params.tokensPerS, "params.tokensPerS", problems);
    expectString(params.error, "params.error", problems, true);
  }),
};

/** A notification from the sidecar: JSON-RPC 2.0 shape, no id, and its method's params. */
export function validateNotification(msg: unknown): Problems {
  const problems: Problems = [];
  if (!expectObject(msg, "message", problems)) return problems;
  if (msg.jsonrpc !== "2.0") problems.push('jsonrpc: expected "2.0"');
  if ("id" in msg) problems.push("id: expected no id (a notification)");
  if (typeof msg.method !== "string" || msg.method.length === 0) {
    problems.push("method: expected a non-empty string");
    return problems;
  }
  if (!isKeyOf(notificationValidators, msg.method)) return [...problems, `method: no params schema for notification "${msg.method}"`];
  return [...problems, ...notificationValidators[msg.method](msg.params)];
}

/**
 * The one place where a notification from the sidecar becomes typed: true when
 * validateNotification finds no problem with it, else its problems are pushed onto `problems`.
 */
export function isSidecarNotification(msg: unknown, problems: Problems): msg is SidecarNotification {
  const found = validateNotification(msg);
  problems.push(...found);
  return found.length === 0;
}

/** A response's envelope (jsonrpc, id, exactly one of result and error, the error's shape); its result is checked by isResultOf. */
export function isResponseMessage(msg: unknown, problems: Problems): msg is ResponseMessage {
  const found = validateResponse(msg);
  problems.push(...found);
  return found.length === 0;
}

/** Anything the sidecar writes: a notification when it has a method and no id, else a response. */
export function validateMessageToClient(msg: unknown, method?: string): Problems {
  if (isObject(msg) && "method" in msg && !("id" in msg)) return validateNotification(msg);
  return validateResponse(msg, method);
}

/** Responses have an id and a result or error; everything else from the server is a notification. */
export function isResponse(msg: Record<string, unknown>): boolean {
  return "id" in msg && !("method" in msg);
}
