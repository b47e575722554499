import type { Readable, Writable } from "node:stream";
import {
  ErrorCode,
  type MethodMap,
  type MethodName,
  type NotificationMap,
  type NotificationMessage,
  type NotificationName,
  type RequestId,
  type ResponseMessage,
  type RpcErrorObject,
  isRequestId,
  isResponse,
  isResponseMessage,
  isResultOf,
  isSidecarNotification,
  validateResult,
} from "./protocol";
import type { Logger } from "./logger";

export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = "RpcError";
  }
}

export class RequestTimeoutError extends Error {
  constructor(
    readonly method: string,
    readonly timeoutMs: number,
  ) {
    super(`Sidecar request "${method}" timed out after ${timeoutMs} ms`);
    this.name = "RequestTimeoutError";
  }
}

export class RequestCancelledError extends Error {
  constructor(readonly method: string) {
    super(`Sidecar request "${method}" was cancelled`);
    this.name = "RequestCancelledError";
  }
}

export class ConnectionClosedError extends Error {
  constructor(readonly method: string, reason: string) {
    super(`Sidecar request "${method}" failed: ${reason}`);
    this.name = "ConnectionClosedError";
  }
}

export interface RequestOptions {
  /** 0 waits forever: for long work that reports progress and is cancelled by `signal`. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Told the JSON-RPC id before the request is sent, to match notifications that carry it. */
  onRequestId?: (id: RequestId) => void;
}

interface Pending {
  method: string;
  /** Resolves with `result` once it fits the method's result schema; rejects, naming the problem, when not. */
  accept(result: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout | undefined;
  detachAbort(): void;
}

const ABANDONED_MEMORY = 1000;

export type NotificationHandler<N extends NotificationName> = (params: NotificationMap[N]) => void;

/** Checks a result, pushing its problems: a type guard for the result type it resolves with. */
type ResultCheck<R> = (result: unknown, problems: string[]) => result is R;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * JSON-RPC 2.0 over a pair of streams, one JSON object per line. It owns request ids,
 * timeouts and cancellation; the process behind the streams is the supervisor's business.
 */
export class RpcClient {
  private nextId = 1;
  private readonly pending = new Map<RequestId, Pending>();
  /** Timed-out or aborted requests whose late answers are expected, id -> method. */
  private readonly abandoned = new Map<RequestId, string>();
  private readonly notificationHandlers: { [N in NotificationName]: Set<NotificationHandler<N>> } = {
    "eval/progress": new Set(),
    "train/progress": new Set(),
    "train/checkpoint": new Set(),
    "train/finished": new Set(),
    "train/failed": new Set(),
    "generate/token": new Set(),
    "generate/finished": new Set(),
  };
  private buffered = "";
  private closedReason: string | undefined;

  constructor(
    private readonly input: Writable,
    output: Readable,
    private readonly log: Logger,
    private readonly defaultTimeoutMs = 60_000,
  ) {
    output.setEncoding("utf8");
    output.on("data", (chunk: string) => this.onData(chunk));
    output.on("end", () => this.close("the sidecar closed its output"));
    input.on("error", (err) => this.log.warn(`sidecar stdin: ${err.message}`));
  }

  request<M extends MethodName>(
    method: M,
    params: MethodMap[M][0],
    options: RequestOptions = {},
  ): Promise<MethodMap[M][1]> {
    return this.send(method, params, options, (result, problems): result is MethodMap[M][1] => isResultOf(method, result, problems));
  }

  /** For methods that later issues add before they join MethodMap. */
  requestUntyped(method: string, params: unknown, options: RequestOptions = {}): Promise<unknown> {
    return this.send(method, params, options, (result, problems): result is unknown => {
      problems.push(...validateResult(method, result));
      return problems.length === 0;
    });
  }

  private send<R>(method: string, params: unknown, options: RequestOptions, check: ResultCheck<R>): Promise<R> {
    if (this.closedReason !== undefined) {
      return Promise.reject(new ConnectionClosedError(method, this.closedReason));
    }
    if (options.signal?.aborted) return Promise.reject(new RequestCancelledError(method));
    const id = this.nextId++;
    options.onRequestId?.(id);
    const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
    return new Promise<R>((resolve, reject) => {
      const onAbort = () => this.abandon(id, new RequestCancelledError(method));
      options.signal?.addEventListener("abort", onAbort, { once: true });
      const pending: Pending = {
        method,
        accept: (result) => {
          const problems: string[] = [];
          if (check(result, problems)) resolve(result);
          else reject(this.invalidAnswer(method, problems));
        },
        reject,
        timer: timeoutMs > 0 ? setTimeout(() => this.abandon(id, new RequestTimeoutError(method, timeoutMs)), timeoutMs) : undefined,
        detachAbort: () => options.signal?.removeEventListener("abort", onAbort),
      };
      this.pending.set(id, pending);
      this.write({ jsonrpc: "2.0", id, method, ...(params === undefined ? {} : { params }) });
    });
  }

  notify(method: string, params?: unknown): void {
    if (this.closedReason !== undefined) return;
    const message: NotificationMessage = { jsonrpc: "2.0", method, ...(params === undefined ? {} : { params }) };
    this.write(message);
  }

  /** `handler` gets each `method` notification whose params are valid (src/sidecar/protocol.ts); invalid ones are logged and dropped. */
  onNotification<N extends NotificationName>(method: N, handler: NotificationHandler<N>): () => void {
    const handlers = this.notificationHandlers[method];
    handlers.add(handler);
    return () => handlers.delete(handler);
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Fails every outstanding request; later requests fail at once. */
  close(reason: string): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    for (const [id, pending] of this.pending) {
      this.settle(id, pending);
      pending.reject(new ConnectionClosedError(pending.method, reason));
    }
  }

  private write(message: object): void {
    this.input.write(JSON.stringify(message) + "\n");
  }

  /** Stop waiting for a request and tell the sidecar to stop working on it. */
  private abandon(id: RequestId, error: Error): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    this.settle(id, pending);
    pending.reject(error);
    this.abandoned.set(id, pending.method);
    if (this.abandoned.size > ABANDONED_MEMORY) this.abandoned.delete(this.abandoned.keys().next().value!);
    this.notify("$/cancelRequest", { id });
  }

  private settle(id: RequestId, pending: Pending): void {
    this.pending.delete(id);
    if (pending.timer) clearTimeout(pending.timer);
    pending.detachAbort();
  }

  private onData(chunk: string): void {
    this.buffered += chunk;
    let newline: number;
    while ((newline = this.buffered.indexOf("\n")) >= 0) {
      const line = this.buffered.slice(0, newline).trim();
      this.buffered = this.buffered.slice(newline + 1);
      if (line.length > 0) this.onLine(line);
    }
  }

  private onLine(line: string): void {
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      this.log.warn(`sidecar wrote a line that is not JSON, ignored: ${truncate(line)}`);
      return;
    }
    if (!isObject(message)) {
      this.log.warn(`sidecar wrote a line that is not a JSON-RPC message, ignored: ${truncate(line)}`);
      return;
    }
    if (isResponse(message)) this.onResponse(message);
    else if (typeof message.method === "string") this.onNotificationMessage(message.method, message);
    else this.log.warn(`sidecar wrote a message that is neither a response nor a notification: ${truncate(line)}`);
  }

  private onResponse(message: Record<string, unknown>): void {
    const problems: string[] = [];
    const valid = isResponseMessage(message, problems);
    const id = message.id;
    const pending = isRequestId(id) ? this.pending.get(id) : undefined;
    if (!pending || !isRequestId(id)) {
      if (valid) this.onUnawaitedResponse(message);
      else this.log.warn(`sidecar wrote an invalid response, ignored: ${problems.join("; ")}`);
      return;
    }
    this.settle(id, pending);
    if (!valid) pending.reject(this.invalidAnswer(pending.method, problems));
    else if (message.error) pending.reject(toError(pending.method, message.error));
    else pending.accept(message.result);
  }

  private invalidAnswer(method: string, problems: string[]): Error {
    const detail = problems.join("; ");
    this.log.error(`sidecar answered "${method}" with an invalid result: ${detail}`);
    return new RpcError(ErrorCode.InternalError, `Invalid "${method}" result from the sidecar: ${detail}`);
  }

  private onUnawaitedResponse(message: ResponseMessage): void {
    const abandoned = message.id === null ? undefined : this.abandoned.get(message.id);
    if (abandoned !== undefined) {
      this.abandoned.delete(message.id!);
      const outcome = message.error?.code === ErrorCode.RequestCancelled ? "acknowledged the cancel" : "finished anyway";
      this.log.debug(`sidecar ${outcome} of abandoned request ${String(message.id)} (${abandoned})`);
    } else if (message.error) {
      this.log.warn(`sidecar error for no request: ${message.error.code} ${message.error.message}`);
    } else {
      this.log.warn(`sidecar answered unknown request id ${String(message.id)}`);
    }
  }

  /** Validated on arrival: an invalid notification is logged with its method and first problem, and dropped. */
  private onNotificationMessage(method: string, message: Record<string, unknown>): void {
    const problems: string[] = [];
    if (isSidecarNotification(message, problems)) this.deliver(message);
    else this.log.warn(`dropped an invalid sidecar notification ${method}: ${problems[0]}`);
  }

  private deliver<N extends NotificationName>(message: { method: N; params: NotificationMap[N] }): void {
    const handlers = this.notificationHandlers[message.method];
    if (handlers.size === 0) {
      this.log.debug(`unhandled sidecar notification ${message.method}`);
      return;
    }
    for (const handler of handlers) {
      try {
        handler(message.params);
      } catch (err) {
        this.log.error(`handler of ${message.method} threw: ${(err as Error).message}`);
      }
    }
  }
}

function toError(method: string, error: RpcErrorObject): Error {
  if (error.code === ErrorCode.RequestCancelled) return new RequestCancelledError(method);
  return new RpcError(error.code, error.message, error.data);
}

function truncate(text: string, max = 200): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text;
}
