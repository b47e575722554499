// A teacher for tests and benchmarks: a real loopback HTTP server speaking OpenAI's chat
// completions, streaming and not. What it answers is decided per request by a script keyed on the
// task id (found in the user message as "Task id: <id>") and how many times that task was asked,
// so faults land on the same tasks whatever the order of concurrent requests.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type Reply =
  | { kind: "json"; content: string; finish?: string; usage?: { prompt_tokens: number; completion_tokens: number }; delayMs?: number }
  | { kind: "stream"; pieces: string[]; resetAfter?: number; delayMs?: number }
  | { kind: "status"; status: number; retryAfter?: string; body?: string }
  | { kind: "hang" };

export interface Ask {
  taskId: string;
  /** 1 for the first request about this task. */
  attempt: number;
  body: Record<string, unknown>;
}

export type Script = (ask: Ask) => Reply;

export interface FakeTeacher {
  endpoint: string;
  /** Requests per task id. */
  asks: Map<string, number>;
  close(): Promise<void>;
}

/** A good answer for `taskId`: the four sections and a solution. */
export function goodAnswer(taskId: string, code = "def solve():\n    return 1\n"): string {
  return JSON.stringify({
    intent: `Solve ${taskId}.`,
    steps: ["Read the arguments.", "Compute the result from them.", "Return it."],
    formulas: ["result = a + b"],
    edgeCases: ["empty input"],
    code,
  });
}

export const good: Script = ({ taskId }) => ({ kind: "json", content: goodAnswer(taskId) });

/** Starts the server; `latencyMs` delays every answer, as a real model's generation time would. */
export async function startFakeTeacher(script: Script = good, latencyMs = 0): Promise<FakeTeacher> {
  const asks = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    let raw = "";
    req.on("data", (chunk) => (raw += chunk));
    req.on("end", () => {
      const body = JSON.parse(raw) as Record<string, unknown>;
      const taskId = taskIdOf(body);
      const attempt = (asks.get(taskId) ?? 0) + 1;
      asks.set(taskId, attempt);
      const reply = script({ taskId, attempt, body });
      const send = () => answer(req, res, reply, body.stream === true);
      if (latencyMs > 0) setTimeout(send, latencyMs);
      else send();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    asks,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function taskIdOf(body: Record<string, unknown>): string {
  const messages = (body.messages ?? []) as { content: string }[];
  for (const message of messages) {
    const match = /Task id: (\S+)/.exec(message.content);
    if (match) return match[1]!;
  }
  return "?";
}

function answer(_req: IncomingMessage, res: ServerResponse, reply: Reply, stream: boolean): void {
  if (reply.kind === "hang") return;
  if (reply.kind === "status") {
    res.writeHead(reply.status, reply.retryAfter ? { "retry-after": reply.retryAfter } : {}).end(reply.body ?? "");
    return;
  }
  if (reply.kind === "stream" || stream) {
    const pieces = reply.kind === "stream" ? reply.pieces : chunks(reply.content);
    // A slow json reply asked for as a stream is a slow stream: each piece waits delayMs.
    sendStream(res, pieces, reply.kind === "stream" ? reply : { delayMs: reply.delayMs }, reply.kind === "json" ? (reply.finish ?? "stop") : "stop");
    return;
  }
  const usage = reply.usage ?? { prompt_tokens: 100, completion_tokens: Math.ceil(reply.content.length / 4) };
  if (reply.delayMs) {
    setTimeout(() => answer(_req, res, { ...reply, delayMs: 0 }, false), reply.delayMs);
    return;
  }
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify({ id: "c", object: "chat.completion", choices: [{ index: 0, message: { role: "assistant", content: reply.content }, finish_reason: reply.finish ?? "stop" }], usage }));
}

function chunks(text: string): string[] {
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += 16) pieces.push(text.slice(i, i + 16));
  return pieces;
}

function sendStream(res: ServerResponse, pieces: string[], opts: { resetAfter?: number; delayMs?: number | undefined }, finish: string): void {
  res.writeHead(200, { "content-type": "text/event-stream" });
  let i = 0;
  const next = () => {
    if (i === opts.resetAfter) {
      res.socket?.destroy();
      return;
    }
    if (i === pieces.length) {
      res.write(`data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 100, completion_tokens: pieces.length } })}\n\n`);
      res.end("data: [DONE]\n\n");
      return;
    }
    res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: pieces[i] }, finish_reason: i === pieces.length - 1 ? finish : null }] })}\n\n`);
    i++;
    if (opts.delayMs) setTimeout(next, opts.delayMs);
    else next();
  };
  next();
}
