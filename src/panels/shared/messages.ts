// The envelope every panel's protocol uses: `{ method: "<panel>/<verb>", params }`, plus an
// `id` on requests, answered by `{ id, result }` or `{ id, error }`. Pure: imported by the
// host and by the webview bundles alike.
//
// Each panel's protocol.ts declares three maps, each message's type once:
//   <Name>ToHost     webview -> host, method -> params (notifications and requests alike);
//   <Name>Replies    method -> result, for the ToHost methods the webview awaits (`request`);
//                    `void` where the answer only says it worked (or carries the error);
//   <Name>ToWebview  host -> webview notifications, method -> params.
// The host end (PanelChannel) and the webview end (HostConnection) are generic over them.

export interface PanelNotification<M extends string = string, P = unknown> {
  method: M;
  params: P;
}

export interface PanelResponse {
  id: number;
  result?: unknown;
  error?: string;
}

/** One message of a method map (method -> params): a notification, or a request when it has an `id`. */
export type PanelMessage<Methods, M extends keyof Methods & string = keyof Methods & string> = { [K in M]: PanelNotification<K, Methods[K]> & { id?: number } }[M];

/** Replies' methods must be methods of ToHost. */
export type RepliesOf<ToHost, Replies> = { [M in keyof Replies]: M extends keyof ToHost ? Replies[M] : never };

/** `method` alone where a method takes no params (its params type admits undefined), else `method, params`. */
export type ParamsArg<P> = undefined extends P ? [params?: P] : [params: P];

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

/**
 * Per-method validators, one for each method of the map, no more: each returns the problem with
 * `params`, or undefined when valid. A validator accepts exactly the params its method's type
 * describes: `isPanelMessage` relies on it.
 */
export type ParamsValidators<Methods> = { [M in keyof Methods]-?: (params: unknown) => string | undefined };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function isMethodOf<Methods>(validators: ParamsValidators<Methods>, method: string): method is keyof Methods & string {
  return Object.hasOwn(validators, method);
}

/**
 * The one place where a message from the webview becomes typed: checks the envelope, the method
 * (one of `validators`' keys) and its params, and pushes the first problem onto `problems`.
 */
export function isPanelMessage<Methods>(raw: unknown, validators: ParamsValidators<Methods>, problems: string[]): raw is PanelMessage<Methods> {
  const problem = messageProblem(raw, validators);
  if (problem !== undefined) problems.push(problem);
  return problem === undefined;
}

function messageProblem<Methods>(raw: unknown, validators: ParamsValidators<Methods>): string | undefined {
  if (!isObject(raw)) return "message: expected an object";
  const { method, id } = raw;
  if (typeof method !== "string") return "method: expected a string";
  if (!isMethodOf(validators, method)) return `method: unknown method "${method}"`;
  if ("id" in raw && !(typeof id === "number" && Number.isInteger(id) && id >= 0)) return "id: expected a non-negative integer";
  const problem = validators[method](raw.params);
  return problem ? `${method} params: ${problem}` : undefined;
}

/**
 * Checks a message from the webview: the envelope, the method (one of `validators`' keys)
 * and its params. The host never acts on a message that fails this.
 */
export function parsePanelMessage<Methods>(raw: unknown, validators: ParamsValidators<Methods>): ParseResult<PanelMessage<Methods>> {
  const problems: string[] = [];
  return isPanelMessage(raw, validators, problems) ? { ok: true, value: raw } : { ok: false, error: problems[0]! };
}

/** The params of a method that takes none: what `noParams` accepts. */
export type NoParams = undefined | null | Record<string, never>;

export const noParams = (params: unknown): string | undefined =>
  params === undefined || params === null || (typeof params === "object" && Object.keys(params).length === 0) ? undefined : "expected no parameters";
