// The teacher client against a real loopback HTTP server speaking chat completions, streaming and
// not, with the faults a busy server produces: 429 with Retry-After, 500, a connection reset
// mid-stream, a stream cut before [DONE], a server too slow for the timeout, a 400 that must not
// be retried; plus the concurrency limit, cancellation and the API key's one place. Backoffs are
// recorded through the client's pause function, never timed.
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, beforeEach, describe, it } from "node:test";
import { TeacherClient, TeacherError, type TeacherSettings } from "../../src/core/cot/teacher";

type Handler = (req: IncomingMessage, res: ServerResponse, body: Record<string, unknown>) => void;

let server: Server;
let endpoint: string;
let handlers: Handler[] = [];
let seen: { body: Record<string, unknown>; authorization: string | undefined }[] = [];
let inFlight = 0;
let maxInFlight = 0;

function answerJson(res: ServerResponse, content: string, usage = { prompt_tokens: 11, completion_tokens: 7 }): void {
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify({ id: "c1", object: "chat.completion", choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }], usage }));
}

function answerStream(res: ServerResponse, pieces: string[], opts: { done?: boolean; resetAfter?: number } = {}): void {
  res.writeHead(200, { "content-type": "text/event-stream" });
  pieces.forEach((piece, i) => {
    if (opts.resetAfter === i) {
      res.socket?.destroy();
      return;
    }
    res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: piece }, finish_reason: i === pieces.length - 1 ? "stop" : null }] })}\n\n`);
  });
  if (opts.resetAfter !== undefined) return;
  res.write(`data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 5, completion_tokens: pieces.length } })}\n\n`);
  if (opts.done !== false) res.write("data: [DONE]\n\n");
  res.end();
}

const ok: Handler = (_req, res) => answerJson(res, '{"intent": "x"}');

before(async () => {
  server = createServer((req, res) => {
    let raw = "";
    req.on("data", (chunk) => (raw += chunk));
    req.on("end", () => {
      const body = JSON.parse(raw) as Record<string, unknown>;
      seen.push({ body, authorization: req.headers.authorization });
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      res.on("close", () => inFlight--);
      (handlers.shift() ?? ok)(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

after(() => new Promise<void>((resolve) => server.close(() => resolve())));

beforeEach(() => {
  handlers = [];
  seen = [];
  maxInFlight = 0;
});

function client(extra: Partial<TeacherSettings> = {}, pauses: number[] = []): TeacherClient {
  return new TeacherClient({ endpoint, model: "teacher-70b", temperature: 0.2, maxTokens: 512, ...extra }, () => 0.5, async (ms) => void pauses.push(ms));
}

const MESSAGES = [
  { role: "system" as const, content: "You explain." },
  { role: "user" as const, content: "Task: add two numbers." },
];

describe("the teacher client", () => {
  it("asks with the OpenAI request shape and reads a plain answer with its token usage", async () => {
    const teacher = client({ apiKey: "sk-secret" });
    const answer = await teacher.complete(MESSAGES);
    assert.deepEqual(answer, { text: '{"intent": "x"}', finishReason: "stop", usage: { promptTokens: 11, completionTokens: 7 }, attempts: 1 });
    assert.deepEqual(seen[0]!.body, { model: "teacher-70b", messages: MESSAGES, temperature: 0.2, max_tokens: 512, stream: false });
    assert.equal(seen[0]!.authorization, "Bearer sk-secret");
    assert.ok(!JSON.stringify(seen[0]!.body).includes("sk-secret"), "the key goes in the header only");
    assert.deepEqual(teacher.usage, { promptTokens: 11, completionTokens: 7 });
  });

  it("reads a streamed answer, usage included", async () => {
    handlers = [(_req, res) => answerStream(res, ['{"int', 'ent": ', '"y"}'])];
    const answer = await client({ stream: true }).complete(MESSAGES);
    assert.deepEqual(answer, { text: '{"intent": "y"}', finishReason: "stop", usage: { promptTokens: 5, completionTokens: 3 }, attempts: 1 });
    assert.deepEqual(seen[0]!.body.stream_options, { include_usage: true });
  });

  it("waits at least Retry-After on a 429, backs off on 500s, then succeeds", async () => {
    const pauses: number[] = [];
    handlers = [
      (_req, res) => res.writeHead(429, { "retry-after": "3" }).end("slow down"),
      (_req, res) => res.writeHead(500).end("boom"),
      (_req, res) => res.writeHead(503).end(),
    ];
    const answer = await client({ baseBackoffMs: 100 }, pauses).complete(MESSAGES);
    assert.equal(answer.attempts, 4);
    // Full jitter (random 0.5) over 100, 200, 400 ms; the 429's Retry-After of 3 s is a floor.
    assert.deepEqual(pauses, [3000, 100, 200]);
  });

  it("retries a connection reset mid-stream and a stream cut before [DONE]", async () => {
    handlers = [(_req, res) => answerStream(res, ["a", "b", "c"], { resetAfter: 1 }), (_req, res) => answerStream(res, ["a", "b"], { done: false }), (_req, res) => answerStream(res, ["ok"])];
    const answer = await client({ stream: true }).complete(MESSAGES);
    assert.equal(answer.text, "ok");
    assert.equal(answer.attempts, 3);
  });

  it("gives up after maxRetries with the last reason, and does not retry a 400", async () => {
    handlers = [0, 1, 2].map(() => (_req: IncomingMessage, res: ServerResponse) => void res.writeHead(502).end("bad gateway"));
    await assert.rejects(client({ maxRetries: 2 }).complete(MESSAGES), (err: Error) => err instanceof TeacherError && err.attempts === 3 && err.status === 502 && /HTTP 502: bad gateway \(gave up after 3 attempts\)/.test(err.message));
    handlers = [(_req, res) => res.writeHead(400).end('{"error": "unknown model"}')];
    await assert.rejects(client().complete(MESSAGES), (err: Error) => err instanceof TeacherError && err.attempts === 1 && /HTTP 400: \{"error": "unknown model"\}$/.test(err.message));
    assert.equal(seen.length, 4);
  });

  it("a server slower than the per-request timeout is retried, then reported", async () => {
    handlers = [(_req, res) => setTimeout(() => answerJson(res, "late"), 2000), (_req, res) => setTimeout(() => answerJson(res, "late"), 2000)];
    await assert.rejects(client({ timeoutMs: 200, maxRetries: 1 }).complete(MESSAGES), /did not answer in time \(gave up after 2 attempts\)/);
  });

  it("keeps at most `concurrency` requests in flight", async () => {
    handlers = Array.from({ length: 10 }, () => (_req: IncomingMessage, res: ServerResponse) => void setTimeout(() => answerJson(res, "x"), 50));
    const teacher = client({ concurrency: 3 });
    const answers = await Promise.all(Array.from({ length: 10 }, () => teacher.complete(MESSAGES)));
    assert.equal(answers.length, 10);
    assert.equal(maxInFlight, 3);
    assert.deepEqual(teacher.usage, { promptTokens: 110, completionTokens: 70 });
  });

  it("cancelling stops a request in flight and one waiting for a slot", async () => {
    handlers = [(_req, res) => void setTimeout(() => answerJson(res, "x"), 1500)];
    const teacher = client({ concurrency: 1 });
    const abort = new AbortController();
    const running = teacher.complete(MESSAGES, abort.signal);
    const waiting = teacher.complete(MESSAGES, abort.signal);
    setTimeout(() => abort.abort(new Error("cancelled by the user")), 100);
    await assert.rejects(running, /cancelled by the user/);
    await assert.rejects(waiting, /cancelled by the user/);
    assert.equal(seen.length, 1, "the waiting request was never sent");
  });

  it("refuses an endpoint that is not an http(s) URL", () => {
    assert.throws(() => new TeacherClient({ endpoint: "localhost:8000", model: "m", temperature: 0, maxTokens: 1 }), /teacher endpoint: expected an http\(s\) URL, got "localhost:8000"/);
  });
});
