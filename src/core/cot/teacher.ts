// The teacher: any server of OpenAI's chat-completions protocol (vLLM, Ollama, llama.cpp's server,
// TGI, OpenAI), over plain fetch, streaming or not. One client holds the concurrency limit, and
// every call retries what a busy or flaky server does (429 with Retry-After, 5xx, timeouts,
// connections reset mid-answer) with exponential backoff and jitter, until a bounded number of
// attempts. The API key is given by the caller (SecretStorage in VS Code, an environment variable
// in the CLI) and goes nowhere but the Authorization header.
import type { ChatMessage } from "./prompt";

export interface TeacherSettings {
  /** Base URL ending in /v1 (or wherever /chat/completions lives). */
  endpoint: string;
  model: string;
  temperature: number;
  maxTokens: number;
  apiKey?: string;
  stream?: boolean;
  /** Requests in flight at once (default 8). */
  concurrency?: number;
  /** Attempts per request after the first (default 4). */
  maxRetries?: number;
  /** Per attempt, in milliseconds (default 120 s). */
  timeoutMs?: number;
  /** First backoff, doubled per retry (default 500 ms), with full jitter; capped at maxBackoffMs (default 30 s). */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

export interface TeacherAnswer {
  text: string;
  /** "stop", "length" (cut off by max tokens), ... as the server said; null when it did not. */
  finishReason: string | null;
  usage: TokenUsage;
  /** Attempts this answer took (1 when the first one succeeded). */
  attempts: number;
}

/** A request that failed for good: `retryable` errors ran out of attempts, others failed at once. */
export class TeacherError extends Error {
  constructor(
    message: string,
    readonly attempts: number,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** Why one attempt failed, and whether another may succeed. */
class AttemptError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export class TeacherClient {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly totals: TokenUsage = { promptTokens: 0, completionTokens: 0 };

  constructor(
    private readonly settings: TeacherSettings,
    private readonly random: () => number = Math.random,
    private readonly pause: Sleep = sleep,
  ) {
    if (!/^https?:\/\//.test(settings.endpoint)) throw new TeacherError(`teacher endpoint: expected an http(s) URL, got "${settings.endpoint}"`, 0);
  }

  /** Tokens of every answer so far. */
  get usage(): TokenUsage {
    return { ...this.totals };
  }

  /** One chat completion, waiting for a free slot, retried as the file comment says. */
  async complete(messages: ChatMessage[], signal?: AbortSignal): Promise<TeacherAnswer> {
    await this.acquire(signal);
    try {
      return await this.withRetries(messages, signal);
    } finally {
      this.release();
    }
  }

  private async acquire(signal?: AbortSignal): Promise<void> {
    if (this.active < (this.settings.concurrency ?? 8)) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const go = () => {
        signal?.removeEventListener("abort", cancel);
        this.active++;
        resolve();
      };
      const cancel = () => {
        this.waiting.splice(this.waiting.indexOf(go), 1);
        reject(signal!.reason);
      };
      this.waiting.push(go);
      signal?.addEventListener("abort", cancel, { once: true });
    });
  }

  private release(): void {
    this.active--;
    this.waiting.shift()?.();
  }

  private async withRetries(messages: ChatMessage[], signal?: AbortSignal): Promise<TeacherAnswer> {
    const maxRetries = this.settings.maxRetries ?? 4;
    for (let attempt = 1; ; attempt++) {
      signal?.throwIfAborted();
      try {
        const answer = await this.attempt(messages, signal);
        this.totals.promptTokens += answer.usage.promptTokens;
        this.totals.completionTokens += answer.usage.completionTokens;
        return { ...answer, attempts: attempt };
      } catch (err) {
        if (signal?.aborted) throw signal.reason;
        const failure = err instanceof AttemptError ? err : new AttemptError((err as Error).message, false);
        if (!failure.retryable || attempt > maxRetries) {
          throw new TeacherError(`${failure.message}${failure.retryable ? ` (gave up after ${attempt} attempts)` : ""}`, attempt, failure.status);
        }
        await this.pause(this.backoff(attempt, failure.retryAfterMs), signal);
      }
    }
  }

  /** Full jitter over an exponential ceiling; a server's Retry-After is a floor. */
  private backoff(attempt: number, retryAfterMs?: number): number {
    const base = this.settings.baseBackoffMs ?? 500;
    const ceiling = Math.min(this.settings.maxBackoffMs ?? 30_000, base * 2 ** (attempt - 1));
    const jittered = this.random() * ceiling;
    return Math.max(jittered, retryAfterMs ?? 0);
  }

  private async attempt(messages: ChatMessage[], signal?: AbortSignal): Promise<Omit<TeacherAnswer, "attempts">> {
    const timeout = AbortSignal.timeout(this.settings.timeoutMs ?? 120_000);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const stream = this.settings.stream ?? false;
    let response: Response;
    try {
      response = await fetch(`${this.settings.endpoint.replace(/\/+$/, "")}/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(this.settings.apiKey ? { authorization: `Bearer ${this.settings.apiKey}` } : {}) },
        // Bytes, not a string: fetch sends a string body as a stream after the headers, a second
        // small packet that waits on the server's delayed ACK (a few ms a request at loopback speed).
        body: new TextEncoder().encode(
          JSON.stringify({
            model: this.settings.model,
            messages,
            temperature: this.settings.temperature,
            max_tokens: this.settings.maxTokens,
            stream,
            ...(stream ? { stream_options: { include_usage: true } } : {}),
          }),
        ),
        signal: combined,
      });
    } catch (err) {
      throw connectionFailure(err, timeout);
    }
    if (!response.ok) throw await httpFailure(response);
    try {
      return stream ? await readStream(response) : await readJson(response);
    } catch (err) {
      if (err instanceof AttemptError) throw err;
      throw connectionFailure(err, timeout);
    }
  }
}

function connectionFailure(err: unknown, timeout: AbortSignal): AttemptError {
  if (timeout.aborted) return new AttemptError("the teacher did not answer in time", true);
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return new AttemptError(`cannot reach the teacher: ${cause?.code ?? cause?.message ?? (err as Error).message}`, true);
}

async function httpFailure(response: Response): Promise<AttemptError> {
  const body = (await response.text().catch(() => "")).slice(0, 300);
  const retryable = response.status === 429 || response.status === 408 || response.status >= 500;
  return new AttemptError(`the teacher answered HTTP ${response.status}${body ? `: ${body}` : ""}`, retryable, response.status, retryAfter(response.headers.get("retry-after")));
}

/** Retry-After as seconds or as an HTTP date, in milliseconds. */
function retryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

interface CompletionJson {
  choices?: { message?: { content?: unknown }; delta?: { content?: unknown }; finish_reason?: unknown }[];
  usage?: { prompt_tokens?: unknown; completion_tokens?: unknown };
}

function usageOf(json: CompletionJson): TokenUsage {
  const n = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : 0);
  return { promptTokens: n(json.usage?.prompt_tokens), completionTokens: n(json.usage?.completion_tokens) };
}

async function readJson(response: Response): Promise<Omit<TeacherAnswer, "attempts">> {
  let json: CompletionJson;
  try {
    json = (await response.json()) as CompletionJson;
  } catch (err) {
    throw new AttemptError(`the teacher's answer is not JSON: ${(err as Error).message}`, true);
  }
  const choice = json.choices?.[0];
  if (typeof choice?.message?.content !== "string") throw new AttemptError("the teacher's answer has no choices[0].message.content", false);
  return { text: choice.message.content, finishReason: typeof choice.finish_reason === "string" ? choice.finish_reason : null, usage: usageOf(json) };
}

/** Server-sent events: `data: {chunk}` lines until `data: [DONE]`; a stream that ends without it was cut. */
async function readStream(response: Response): Promise<Omit<TeacherAnswer, "attempts">> {
  if (!response.body) throw new AttemptError("the teacher's stream has no body", true);
  const decoder = new TextDecoder();
  let buffered = "";
  let text = "";
  let finishReason: string | null = null;
  let usage: TokenUsage = { promptTokens: 0, completionTokens: 0 };
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffered.indexOf("\n")) !== -1) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (!line.startsWith("data:")) continue;
      const data = line.slice(5).trim();
      if (data === "[DONE]") return { text, finishReason, usage };
      let json: CompletionJson;
      try {
        json = JSON.parse(data) as CompletionJson;
      } catch {
        throw new AttemptError(`the teacher's stream sent a chunk that is not JSON: ${data.slice(0, 100)}`, true);
      }
      const choice = json.choices?.[0];
      if (typeof choice?.delta?.content === "string") text += choice.delta.content;
      if (typeof choice?.finish_reason === "string") finishReason = choice.finish_reason;
      if (json.usage) usage = usageOf(json);
    }
  }
  throw new AttemptError("the teacher's stream ended before [DONE]", true);
}
