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

/** Request method -> [params, result]. The client's `request` is typed by this map. */
export interface MethodMap {
  initialize: [InitializeParams, InitializeResult];
  "health/ping": [PingParams, PingResult];
  shutdown: [undefined, null];
}

export type MethodName = keyof MethodMap;

// ---- validation ------------------------------------------------------------
// Validators return problems as "path: what was expected", empty when valid, so an
// error can name the exact field that was wrong.

type Problems = string[];

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const isInteger = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v);

const isRequestId = (v: unknown): v is RequestId => typeof v === "string" || isInteger(v);

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

function expectObject(value: unknown, path: string, problems: Problems): value is Record<string, unknown> {
  if (isObject(value)) return true;
  problems.push(`${path}: expected an object`);
  return false;
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

const paramValidators: Record<string, (params: unknown) => Problems> = {
  initialize(params) {
    const problems: Problems = [];
    if (!expectObject(params, "params", problems)) return problems;
    expectString(params.protocolVersion, "params.protocolVersion", problems);
    expectString(params.clientName, "params.clientName", problems, true);
    expectString(params.clientVersion, "params.clientVersion", problems, true);
    return problems;
  },
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
  "$/cancelRequest"(params) {
    const problems: Problems = [];
    if (!expectObject(params, "params", problems)) return problems;
    if (!isRequestId(params.id)) problems.push("params.id: expected a string or an integer");
    return problems;
  },
};

export function validateParams(method: string, params: unknown): Problems {
  const validate = paramValidators[method];
  return validate ? validate(params) : [];
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

const resultValidators: Record<string, (result: unknown) => Problems> = {
  initialize(result) {
    const problems: Problems = [];
    if (!expectObject(result, "result", problems)) return problems;
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
    return problems;
  },
  "health/ping"(result) {
    const problems: Problems = [];
    if (!expectObject(result, "result", problems)) return problems;
    if (result.pong !== true) problems.push("result.pong: expected true");
    expectNonNegativeInteger(result.pid, "result.pid", problems);
    return problems;
  },
  shutdown(result) {
    return result === null ? [] : ["result: expected null"];
  },
};

export function validateResult(method: string, result: unknown): Problems {
  const validate = resultValidators[method];
  return validate ? validate(result) : [];
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

/** Responses have an id and a result or error; everything else from the server is a notification. */
export function isResponse(msg: Record<string, unknown>): boolean {
  return "id" in msg && !("method" in msg);
}
