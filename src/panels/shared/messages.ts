// The envelope every panel's protocol uses: `{ method: "<panel>/<verb>", params }`, plus an
// `id` on requests, answered by `{ id, result }` or `{ id, error }`. Pure: imported by the
// host and by the webview bundles alike.

export interface PanelNotification<M extends string = string, P = unknown> {
  method: M;
  params: P;
}

export interface PanelRequest<M extends string = string, P = unknown> extends PanelNotification<M, P> {
  id: number;
}

export interface PanelResponse {
  id: number;
  result?: unknown;
  error?: string;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

/** Per-method validators: each returns the problem with `params`, or undefined when valid. */
export type ParamsValidators = Record<string, (params: unknown) => string | undefined>;

/**
 * Checks a message from the webview: the envelope, the method (one of `validators`' keys)
 * and its params. The host never acts on a message that fails this.
 */
export function parsePanelMessage(
  raw: unknown,
  validators: ParamsValidators,
): ParseResult<PanelNotification | PanelRequest> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return { ok: false, error: "message: expected an object" };
  const msg = raw as Record<string, unknown>;
  if (typeof msg.method !== "string") return { ok: false, error: "method: expected a string" };
  const validate = validators[msg.method];
  if (!validate) return { ok: false, error: `method: unknown method "${msg.method}"` };
  if ("id" in msg && (!Number.isInteger(msg.id) || (msg.id as number) < 0)) {
    return { ok: false, error: "id: expected a non-negative integer" };
  }
  const problem = validate(msg.params);
  if (problem) return { ok: false, error: `${msg.method} params: ${problem}` };
  return { ok: true, value: msg as unknown as PanelNotification | PanelRequest };
}

export function isPanelRequest(msg: PanelNotification | PanelRequest): msg is PanelRequest {
  return "id" in msg;
}

export const noParams = (params: unknown): string | undefined =>
  params === undefined || params === null || (typeof params === "object" && Object.keys(params as object).length === 0)
    ? undefined
    : "expected no parameters";
