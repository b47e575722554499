import { EventEmitter } from "node:events";
import { execa, type ResultPromise } from "execa";
import type { Logger } from "./logger";
import { PROTOCOL_VERSION, type InitializeResult, type MethodMap, type MethodName, type NotificationName } from "./protocol";
import { RpcClient, type NotificationHandler, type RequestOptions } from "./rpcClient";

export type SidecarState = "stopped" | "starting" | "ready" | "crashed";

export interface LaunchSpec {
  command: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
}

/** Why the sidecar cannot be launched at all (no Python, no sidecar package, untrusted workspace). */
export interface LaunchProblem {
  problem: string;
  fix: string;
}

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  /** A sidecar that stayed ready this long is healthy again: the next crash restarts at initialMs. */
  resetAfterMs: number;
}

export interface SupervisorOptions {
  launch: () => Promise<LaunchSpec | LaunchProblem>;
  log: Logger;
  /** Where the sidecar's stderr (its logging) goes, line by line. */
  sidecarLog?: (line: string) => void;
  clientName: string;
  clientVersion: string;
  requestTimeoutMs?: number;
  initializeTimeoutMs?: number;
  backoff?: Partial<BackoffPolicy>;
  /** Each step of stop(): the wait after `shutdown`, then after SIGTERM, before SIGKILL. */
  stopGraceMs?: number;
}

export interface StateChange {
  state: SidecarState;
  at: number;
  detail?: string;
}

export interface SidecarSnapshot {
  state: SidecarState;
  pid: number | undefined;
  initialize: InitializeResult | undefined;
  lastError: string | undefined;
  launchProblem: LaunchProblem | undefined;
  restarts: number;
  nextRestartAt: number | undefined;
  history: StateChange[];
}

const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 1000, maxMs: 30_000, resetAfterMs: 60_000 };
const HISTORY_LIMIT = 50;
const STDERR_TAIL_LINES = 20;

/** The next restart delay: doubles per consecutive crash, never above the cap. */
export function backoffDelay(consecutiveCrashes: number, policy: BackoffPolicy): number {
  const exponent = Math.max(0, consecutiveCrashes - 1);
  return Math.min(policy.maxMs, policy.initialMs * 2 ** exponent);
}

interface Running {
  process: ResultPromise<{ stdin: "pipe"; stdout: "pipe"; stderr: "pipe"; buffer: false; reject: false }>;
  client: RpcClient;
  exited: Promise<void>;
  readySince?: number;
  stderrTail: string[];
  /** This client's registrations of the supervisor's notification handlers. */
  detachers: Map<NotificationEntry, () => void>;
}

/** A handler registered with the supervisor, which registers it with each sidecar's client. */
interface NotificationEntry {
  attach(client: RpcClient): () => void;
}

/**
 * Owns the sidecar process: stopped -> starting -> ready, crashed -> (backoff) -> starting.
 * Emits "state" with a StateChange whenever the state changes.
 */
export class SidecarSupervisor extends EventEmitter {
  private current: Running | undefined;
  private stateValue: SidecarState = "stopped";
  private initializeResult: InitializeResult | undefined;
  private lastError: string | undefined;
  private launchProblem: LaunchProblem | undefined;
  private consecutiveCrashes = 0;
  private restarts = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private nextRestartAt: number | undefined;
  private wanted = false;
  private startPromise: Promise<void> | undefined;
  private readonly history: StateChange[] = [];
  private readonly backoff: BackoffPolicy;
  private readonly notificationHandlers: NotificationEntry[] = [];

  constructor(private readonly options: SupervisorOptions) {
    super();
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
  }

  /** Applies to requests made from now on, including those of a sidecar already running. */
  setRequestTimeout(ms: number): void {
    this.options.requestTimeoutMs = ms;
  }

  get state(): SidecarState {
    return this.stateValue;
  }

  snapshot(): SidecarSnapshot {
    return {
      state: this.stateValue,
      pid: this.current?.process.pid,
      initialize: this.initializeResult,
      lastError: this.lastError,
      launchProblem: this.launchProblem,
      restarts: this.restarts,
      nextRestartAt: this.nextRestartAt,
      history: [...this.history],
    };
  }

  /** Starts the sidecar if it is not running; resolves once it is ready or has failed to start. */
  start(): Promise<void> {
    this.wanted = true;
    if (this.stateValue === "ready") return Promise.resolve();
    this.startPromise ??= this.launch().finally(() => (this.startPromise = undefined));
    return this.startPromise;
  }

  /** Resolves when the sidecar is ready; rejects with the launch problem or crash reason. */
  async ready(): Promise<void> {
    await this.start();
    if (this.stateValue !== "ready") {
      throw new Error(this.launchProblem ? `${this.launchProblem.problem} ${this.launchProblem.fix}` : this.lastError ?? "the sidecar is not ready");
    }
  }

  async request<M extends MethodName>(method: M, params: MethodMap[M][0], options?: RequestOptions): Promise<MethodMap[M][1]> {
    await this.ready();
    return this.current!.client.request(method, params, { timeoutMs: this.options.requestTimeoutMs, ...options });
  }

  /**
   * Listens to a notification from this sidecar and from every one launched after a restart;
   * `handler` gets only valid params (an invalid notification is logged and dropped).
   */
  onNotification<N extends NotificationName>(method: N, handler: NotificationHandler<N>): () => void {
    const entry: NotificationEntry = { attach: (client) => client.onNotification(method, handler) };
    this.notificationHandlers.push(entry);
    if (this.current) this.attach(this.current, entry);
    return () => {
      const index = this.notificationHandlers.indexOf(entry);
      if (index >= 0) this.notificationHandlers.splice(index, 1);
      this.current?.detachers.get(entry)?.();
      this.current?.detachers.delete(entry);
    };
  }

  private attach(running: Running, entry: NotificationEntry): void {
    running.detachers.set(entry, entry.attach(running.client));
  }

  async restart(): Promise<void> {
    await this.stop();
    this.consecutiveCrashes = 0;
    await this.start();
  }

  /** `shutdown`, then SIGTERM, then SIGKILL: each step waits stopGraceMs for the process to exit. */
  async stop(): Promise<void> {
    this.wanted = false;
    this.cancelRestart();
    await this.startPromise?.catch(() => undefined);
    const running = this.current;
    if (!running) {
      this.setState("stopped");
      return;
    }
    const grace = this.options.stopGraceMs ?? 2000;
    const exitedWithin = (ms: number) =>
      Promise.race([running.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref())]);
    try {
      await running.client.request("shutdown", undefined, { timeoutMs: grace });
    } catch (err) {
      this.options.log.debug(`shutdown request: ${(err as Error).message}`);
    }
    if (!(await exitedWithin(grace))) {
      this.options.log.warn("sidecar did not exit after shutdown; sending SIGTERM");
      running.process.kill("SIGTERM");
      if (!(await exitedWithin(grace))) {
        this.options.log.warn("sidecar ignored SIGTERM; sending SIGKILL");
        running.process.kill("SIGKILL");
        await running.exited;
      }
    }
  }

  /** Synchronous last resort for process exit paths where nothing can be awaited. */
  killNow(): void {
    this.wanted = false;
    this.cancelRestart();
    this.current?.process.kill("SIGKILL");
  }

  private async launch(): Promise<void> {
    this.cancelRestart();
    this.setState("starting");
    const spec = await this.options.launch();
    if ("problem" in spec) {
      this.launchProblem = spec;
      this.lastError = spec.problem;
      this.options.log.error(`${spec.problem} ${spec.fix}`);
      this.setState("stopped", spec.problem);
      return;
    }
    this.launchProblem = undefined;
    const running = this.spawn(spec);
    this.current = running;
    try {
      this.initializeResult = await running.client.request(
        "initialize",
        { protocolVersion: PROTOCOL_VERSION, clientName: this.options.clientName, clientVersion: this.options.clientVersion },
        { timeoutMs: this.options.initializeTimeoutMs ?? 120_000 },
      );
    } catch (err) {
      if (this.current !== running) return;
      this.lastError = `initialize failed: ${(err as Error).message}`;
      this.options.log.error(this.lastError);
      running.process.kill("SIGKILL");
      await running.exited;
      return;
    }
    if (this.current !== running) return;
    running.readySince = Date.now();
    this.lastError = undefined;
    this.setState("ready", `pid ${running.process.pid}`);
  }

  private spawn(spec: LaunchSpec): Running {
    this.options.log.info(`starting sidecar: ${spec.command} ${spec.args.join(" ")}`);
    const process_ = execa(spec.command, spec.args, {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
      buffer: false,
      reject: false,
      cleanup: true,
      cwd: spec.cwd,
      env: { PYTHONUNBUFFERED: "1", CODISTILL_PARENT_PID: String(process.pid), ...spec.env },
    });
    const stderrTail: string[] = [];
    const client = new RpcClient(process_.stdin, process_.stdout, this.options.log, this.options.requestTimeoutMs);
    forwardLines(process_.stderr, (line) => {
      stderrTail.push(line);
      if (stderrTail.length > STDERR_TAIL_LINES) stderrTail.shift();
      (this.options.sidecarLog ?? ((l: string) => this.options.log.info(`[sidecar] ${l}`)))(line);
    });
    const running: Running = { process: process_, client, stderrTail, exited: Promise.resolve(), detachers: new Map() };
    for (const entry of this.notificationHandlers) this.attach(running, entry);
    running.exited = process_.then(
      (result) => this.onExit(running, describeExit(result.exitCode, result.signal)),
      (err: Error) => this.onExit(running, `failed to run: ${err.message}`),
    );
    return running;
  }

  private onExit(running: Running, how: string): void {
    running.client.close(`the sidecar ${how}`);
    if (this.current !== running) return;
    this.current = undefined;
    if (!this.wanted) {
      this.options.log.info(`sidecar ${how}`);
      this.setState("stopped", how);
      return;
    }
    const stayedHealthy = running.readySince !== undefined && Date.now() - running.readySince >= this.backoff.resetAfterMs;
    this.consecutiveCrashes = stayedHealthy ? 1 : this.consecutiveCrashes + 1;
    const tail = running.stderrTail.length ? `\n${running.stderrTail.slice(-5).join("\n")}` : "";
    this.lastError = `the sidecar ${how}${tail}`;
    this.options.log.error(this.lastError);
    this.initializeResult = undefined;
    this.setState("crashed", how);
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    const delay = backoffDelay(this.consecutiveCrashes, this.backoff);
    this.nextRestartAt = Date.now() + delay;
    this.options.log.info(`restarting the sidecar in ${delay} ms`);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.nextRestartAt = undefined;
      if (!this.wanted) return;
      this.restarts++;
      this.start().catch((err) => this.options.log.error(`restart failed: ${(err as Error).message}`));
    }, delay);
  }

  private cancelRestart(): void {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    this.nextRestartAt = undefined;
  }

  private setState(state: SidecarState, detail?: string): void {
    const change: StateChange = { state, at: Date.now(), ...(detail ? { detail } : {}) };
    const changed = state !== this.stateValue;
    this.stateValue = state;
    this.history.push(change);
    if (this.history.length > HISTORY_LIMIT) this.history.shift();
    if (changed || detail) this.emit("state", change);
  }
}

function describeExit(exitCode: number | undefined, signal: string | undefined): string {
  if (signal) return `was killed by ${signal}`;
  return `exited with code ${exitCode ?? "unknown"}`;
}

function forwardLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let partial = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    partial += chunk;
    const lines = partial.split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) if (line.trim()) onLine(line.trimEnd());
  });
  stream.on("end", () => {
    if (partial.trim()) onLine(partial.trimEnd());
  });
}
